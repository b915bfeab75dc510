use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organisation (tenant): a short slug such as `kaznu`. It is part of every stream key and NATS subject,
/// so it is limited to what is safe in both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an organisation id is 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit: {0:?}")]
pub struct OrgIdError(pub String);

impl OrgId {
    pub fn parse(value: &str) -> Result<Self, OrgIdError> {
        let ok = !value.is_empty()
            && value.len() <= 32
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-');
        if ok { Ok(Self(value.to_owned())) } else { Err(OrgIdError(value.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgId {
    type Error = OrgIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrgId> for String {
    fn from(value: OrgId) -> Self {
        value.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One stream: the events of one aggregate instance of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamRef {
    pub org: OrgId,
    /// The aggregate kind, e.g. `application`. Also the third-from-last part of the event's subject.
    pub stream_type: String,
    pub stream_id: String,
}

impl StreamRef {
    pub fn new(org: &OrgId, stream_type: &str, stream_id: impl Into<String>) -> Self {
        Self { org: org.clone(), stream_type: stream_type.to_owned(), stream_id: stream_id.into() }
    }
}

impl fmt::Display for StreamRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.org, self.stream_type, self.stream_id)
    }
}

/// Who and what caused an event, carried from the request (or the consumed event) into the log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMetadata {
    pub occurred_at: DateTime<Utc>,
    /// A user id, or `service:<name>` for automatic steps.
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    /// W3C `traceparent` of the span that appended the event, so the trace continues through the bus.
    pub trace_context: Option<String>,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    /// `<stream_type>.<event_name>`, e.g. `application.submitted`.
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub metadata: EventMetadata,
}

/// Where an event stands in the whole log, in commit order. Readers keep the position of the last event they
/// handled and ask for what comes after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    /// The committing transaction (PostgreSQL); 0 on SQLite, whose writers are serialised.
    pub commit: i64,
    pub sequence: i64,
}

impl Position {
    pub const START: Position = Position { commit: 0, sequence: 0 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.commit, self.sequence)
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: Position,
    pub id: Uuid,
    pub stream: StreamRef,
    /// 1-based place of the event in its stream.
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub metadata: EventMetadata,
}

impl RecordedEvent {
    /// The event as the log returns it once `event` is committed at `version` of `stream`: what consumers, folds
    /// and tests of them see.
    pub fn from_new(event: NewEvent, stream: StreamRef, version: i64, position: Position) -> Self {
        let NewEvent { id, event_type, schema_version, payload, metadata } = event;
        Self { position, id, stream, version, event_type, schema_version, payload, metadata }
    }
}
