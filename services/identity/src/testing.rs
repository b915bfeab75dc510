//! Test support for the pure modules.

use chrono::Utc;
use onewindow_eventlog::{EventMetadata, OrgId, RecordedEvent, StreamRef};
use uuid::Uuid;

/// A recorded event's envelope: `apply` ignores it, but the trait asks for one.
pub fn recorded() -> RecordedEvent {
    RecordedEvent {
        position: Default::default(),
        id: Uuid::now_v7(),
        stream: StreamRef::new(&OrgId::parse("kaznu").expect("org"), "test", "x"),
        version: 1,
        event_type: String::new(),
        schema_version: 1,
        payload: serde_json::Value::Null,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    }
}
