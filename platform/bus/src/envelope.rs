//! The envelope every event travels in (`proto/onewindow/events/v1/events.proto`, `EventEnvelope`), as JSON.

use chrono::{DateTime, Utc};
use onewindow_eventlog::{EventMetadata, OrgId, Position, RecordedEvent, StreamRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The proto3 JSON form of `onewindow.events.v1.EventEnvelope`, with the original field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    pub organization_id: OrgId,
    pub stream_type: String,
    pub stream_id: String,
    pub version: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: i32,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub payload: serde_json::Value,
}

impl Envelope {
    pub fn from_recorded(event: &RecordedEvent) -> Self {
        Self {
            id: event.id,
            organization_id: event.stream.org.clone(),
            stream_type: event.stream.stream_type.clone(),
            stream_id: event.stream.stream_id.clone(),
            version: event.version,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            occurred_at: event.metadata.occurred_at,
            actor: event.metadata.actor.clone(),
            correlation_id: event.metadata.correlation_id,
            causation_id: event.metadata.causation_id,
            payload: event.payload.clone(),
        }
    }

    /// Back to the log's shape; the position in the producer's log is not carried over the bus.
    pub fn into_recorded(self, trace_context: Option<String>) -> RecordedEvent {
        RecordedEvent {
            position: Position::START,
            id: self.id,
            stream: StreamRef { org: self.organization_id, stream_type: self.stream_type, stream_id: self.stream_id },
            version: self.version,
            event_type: self.event_type,
            schema_version: self.schema_version,
            payload: self.payload,
            metadata: EventMetadata {
                occurred_at: self.occurred_at,
                actor: self.actor,
                correlation_id: self.correlation_id,
                causation_id: self.causation_id,
                trace_context,
            },
        }
    }
}

/// `onewindow.v1.<organization>.<service>.<event type>`, e.g. `onewindow.v1.kaznu.applications.application.submitted`.
pub fn subject_for(service: &str, event: &RecordedEvent) -> String {
    format!("onewindow.v1.{}.{service}.{}", event.stream.org, event.event_type)
}

/// Every subject a service publishes on, across organisations.
pub fn service_subjects(service: &str) -> String {
    format!("onewindow.v1.*.{service}.>")
}

/// The subjects of one event type of one service, across organisations.
pub fn event_type_subjects(service: &str, event_type: &str) -> String {
    format!("onewindow.v1.*.{service}.{event_type}")
}
