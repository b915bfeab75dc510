//! Events a consumer gave up on, kept in the consuming service's own log (`parked/<consumer>:<event id>`) with the
//! whole event, so an administrator lists them and, once the cause is fixed, re-drives them through the same
//! handler: its inbox mark makes a re-drive of an event already handled a no-op, as a redelivery is.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use onewindow_eventlog::{
    Aggregate, Commit, EventMetadata, EventSchema, EventStore, OrgId, Position, RecordedEvent, StoreError, StreamRef,
    encode, load, load_all,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Envelope, EventHandler, HandleError};

/// The stream type of parked events in every consuming service's log.
pub const PARKED: &str = "parked";

/// Every type of [`ParkedEvent`]: written by every consuming service into its own log, and published with it.
pub const EVENT_TYPES: [&str; 3] = ["parked.event_parked", "parked.event_redriven", "parked.redrive_failed"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ParkedEvent {
    /// A consumer gave up on `event` (it could not be decoded, or it broke a rule).
    #[serde(rename = "parked.event_parked")]
    Parked { consumer: String, reason: String, event: Box<Envelope> },
    /// An administrator re-drove it and the consumer handled it. `application_id`: the application the event
    /// concerns, so the application's service can clear its delay.
    #[serde(rename = "parked.event_redriven")]
    Redriven {
        by: String,
        #[serde(default)]
        application_id: Option<String>,
    },
    /// A re-drive failed again, for `reason`.
    #[serde(rename = "parked.redrive_failed")]
    RedriveFailed {
        by: String,
        reason: String,
        #[serde(default)]
        application_id: Option<String>,
    },
}

impl EventSchema for ParkedEvent {}

/// One parked event as its stream folds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parked {
    pub consumer: String,
    pub event: Option<Envelope>,
    pub reason: String,
    pub parked_at: Option<DateTime<Utc>>,
    /// Failed deliveries: the first, and one per failed re-drive.
    pub attempts: u32,
    pub redriven_at: Option<DateTime<Utc>>,
}

impl Aggregate for Parked {
    type Event = ParkedEvent;

    fn apply(&mut self, event: &ParkedEvent, recorded: &RecordedEvent) {
        match event {
            ParkedEvent::Parked { consumer, reason, event } => {
                self.consumer = consumer.clone();
                self.reason = reason.clone();
                self.event = Some(event.as_ref().clone());
                self.parked_at = Some(recorded.metadata.occurred_at);
                self.attempts = 1;
            }
            ParkedEvent::Redriven { .. } => self.redriven_at = Some(recorded.metadata.occurred_at),
            ParkedEvent::RedriveFailed { reason, .. } => {
                self.reason = reason.clone();
                self.attempts += 1;
            }
        }
    }
}

impl Parked {
    /// The application the parked event concerns, if it concerns one ([`application_of`]).
    pub fn application_id(&self) -> Option<String> {
        self.event.as_ref().and_then(application_of)
    }
}

/// The application an event concerns: its stream's id when it is an application's event, else the payload's
/// `application_id` (sheets, documents, notifications name it so).
pub fn application_of(event: &Envelope) -> Option<String> {
    if event.stream_type == "application" {
        return Some(event.stream_id.clone());
    }
    event.payload.get("application_id").and_then(|id| id.as_str()).map(str::to_owned)
}

pub fn stream(org: &OrgId, consumer: &str, event_id: Uuid) -> StreamRef {
    StreamRef::new(org, PARKED, format!("{consumer}:{event_id}"))
}

/// Every parked event of `org` in `store`, oldest first.
pub async fn list(store: &dyn EventStore, org: &OrgId) -> Result<Vec<Parked>, StoreError> {
    let mut parked: Vec<Parked> =
        load_all::<Parked>(store, org, PARKED).await?.into_iter().map(|(_, loaded)| loaded.state).collect();
    parked.sort_by_key(|p| p.parked_at);
    Ok(parked)
}

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("no such parked event")]
    NotFound,
    #[error("the event was re-driven already")]
    AlreadyRedriven,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hands the parked event to `handler` again and records the outcome (by `actor`, at `now`). A failure of the
/// handler is recorded, not returned: the event stays parked with the new reason. Two administrators re-driving at
/// once: the handler's inbox mark lets one effect through, and the second record is refused as a concurrent write.
pub async fn redrive(
    store: &dyn EventStore,
    handler: &Arc<dyn EventHandler>,
    org: &OrgId,
    event_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Parked, RedriveError> {
    let stream = stream(org, handler.name(), event_id);
    let loaded = load::<Parked>(store, &stream).await?;
    let Some(envelope) = loaded.state.event.clone().filter(|_| loaded.exists()) else {
        return Err(RedriveError::NotFound);
    };
    if loaded.state.redriven_at.is_some() {
        return Err(RedriveError::AlreadyRedriven);
    }
    let event = envelope.into_recorded(None);
    let outcome = match handler.handle(&event).await {
        Ok(()) => ParkedEvent::Redriven { by: actor.to_owned(), application_id: loaded.state.application_id() },
        Err(HandleError::Transient(error) | HandleError::Poison(error)) => {
            tracing::warn!(consumer = handler.name(), %event_id, %error, "a re-drive failed");
            let application_id = loaded.state.application_id();
            ParkedEvent::RedriveFailed { by: actor.to_owned(), reason: format!("{error:#}"), application_id }
        }
    };
    let metadata = EventMetadata {
        occurred_at: now,
        actor: actor.to_owned(),
        correlation_id: event.metadata.correlation_id,
        causation_id: event.id,
        trace_context: None,
    };
    let new = encode(&outcome, &metadata).map_err(StoreError::from)?;
    store.commit(Commit::append(stream.clone(), loaded.version, vec![new.clone()])).await?;
    // The record as it now stands: the outcome applied to what was loaded, with no second read.
    let mut state = loaded.state;
    state.apply(&outcome, &RecordedEvent::from_new(new, stream, loaded.version + 1, Position::START));
    Ok(state)
}
