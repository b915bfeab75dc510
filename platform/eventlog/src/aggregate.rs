//! Typed domain events over the untyped log: how an aggregate's events are stored and folded back.
//!
//! A domain event enum is written as `#[serde(tag = "type", content = "payload")]` with each variant renamed to
//! its event type (`application.submitted`); the type goes to its column and only the payload is stored.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    EventMetadata, EventStore, NewEvent, RecordedEvent, StoreError, StreamRef,
    schema::{EventSchema, UpcastError, upcast_to_current},
};

/// An aggregate's state, rebuilt by folding its events (`apply` is pure: no I/O, no clock).
pub trait Aggregate: Default + Send {
    type Event: Serialize + DeserializeOwned + EventSchema + Send + Sync;

    fn apply(&mut self, event: &Self::Event, recorded: &RecordedEvent);
}

/// State as of the last event, with the version to expect when appending the next ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<A> {
    pub state: A,
    pub version: i64,
    /// The stream's stored events, for history views.
    pub events: Vec<RecordedEvent>,
}

impl<A> Loaded<A> {
    pub fn exists(&self) -> bool {
        self.version > 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventCodecError {
    #[error("event {0} is not a tagged object")]
    NotTagged(String),
    #[error("event {event_type} v{schema_version} cannot be decoded: {source}")]
    Decode { event_type: String, schema_version: i32, source: serde_json::Error },
    #[error("event cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("event {event_type} v{stored} was written by newer code (this code reads up to v{current})")]
    NewerVersion { event_type: String, stored: i32, current: i32 },
    #[error(transparent)]
    Upcast(#[from] UpcastError),
}

impl From<EventCodecError> for StoreError {
    fn from(error: EventCodecError) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

/// Encodes a domain event for the log, with a fresh UUID v7 id and its type's current schema version.
pub fn encode<E: Serialize + EventSchema>(event: &E, metadata: &EventMetadata) -> Result<NewEvent, EventCodecError> {
    let Value::Object(mut tagged) = serde_json::to_value(event)? else {
        return Err(EventCodecError::NotTagged("(not an object)".into()));
    };
    let Some(Value::String(event_type)) = tagged.remove("type") else {
        return Err(EventCodecError::NotTagged(format!("{tagged:?}")));
    };
    let payload = tagged.remove("payload").unwrap_or(Value::Object(Map::new()));
    let schema_version = E::schema_version(&event_type);
    Ok(NewEvent { id: Uuid::now_v7(), event_type, schema_version, payload, metadata: metadata.clone() })
}

/// Decodes a stored event into the domain enum it was encoded from, through the upcasters of its type when it
/// was stored at an older schema version.
pub fn decode<E: DeserializeOwned + EventSchema>(recorded: &RecordedEvent) -> Result<E, EventCodecError> {
    let event_type = &recorded.event_type;
    let current = E::schema_version(event_type);
    if recorded.schema_version > current {
        return Err(EventCodecError::NewerVersion {
            event_type: event_type.clone(),
            stored: recorded.schema_version,
            current,
        });
    }
    let payload = upcast_to_current::<E>(event_type, recorded.schema_version, recorded.payload.clone())?;
    let mut tagged = Map::new();
    tagged.insert("type".into(), Value::String(event_type.clone()));
    tagged.insert("payload".into(), payload);
    serde_json::from_value(Value::Object(tagged)).map_err(|source| EventCodecError::Decode {
        event_type: recorded.event_type.clone(),
        schema_version: recorded.schema_version,
        source,
    })
}

/// Rebuilds an aggregate from its stream.
pub async fn load<A: Aggregate>(store: &dyn EventStore, stream: &StreamRef) -> Result<Loaded<A>, StoreError> {
    let events = store.read_stream(stream).await?;
    fold(events)
}

/// Folds recorded events into state (also used for "as of" reads over a prefix of the stream).
pub fn fold<A: Aggregate>(events: Vec<RecordedEvent>) -> Result<Loaded<A>, StoreError> {
    let mut state = A::default();
    let mut version = 0;
    for recorded in &events {
        let event: A::Event = decode(recorded)?;
        state.apply(&event, recorded);
        version = recorded.version;
    }
    Ok(Loaded { state, version, events })
}

/// Rebuilds every aggregate of one type in one organisation, by stream id, from one read.
pub async fn load_all<A: Aggregate>(
    store: &dyn EventStore,
    org: &crate::OrgId,
    stream_type: &str,
) -> Result<Vec<(String, Loaded<A>)>, StoreError> {
    let mut loaded = Vec::new();
    let mut events = store.read_stream_type(org, stream_type).await?.into_iter().peekable();
    while let Some(first) = events.next() {
        let id = first.stream.stream_id.clone();
        let mut stream = vec![first];
        while let Some(next) = events.next_if(|e| e.stream.stream_id == id) {
            stream.push(next);
        }
        loaded.push((id, fold(stream)?));
    }
    Ok(loaded)
}
