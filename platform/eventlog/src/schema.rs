//! Schema versions of event payloads, and upcasting: how an event stored by earlier code still reads.
//!
//! Every event enum says which schema version it writes for each of its types ([`EventSchema::schema_version`];
//! a type it does not name is at version 1) and how to bring a payload one version forward
//! ([`EventSchema::upcast`]). [`crate::encode`] stores the current version with each event; [`crate::decode`]
//! reads a payload stored at an older version through the upcasters, step by step, before serde sees it. Stored
//! events are never rewritten (cqrs-es' `persist/upcaster.rs` works the same way).

use serde_json::Value;

/// What an event enum knows about the versions of its payloads.
pub trait EventSchema {
    /// The version this code writes for `event_type`, and the newest it reads.
    fn schema_version(event_type: &str) -> i32 {
        let _ = event_type;
        1
    }

    /// Rewrites a payload of `event_type` stored at version `from` into version `from + 1`.
    /// Called only for `from` below [`EventSchema::schema_version`].
    fn upcast(event_type: &str, from: i32, payload: Value) -> Result<Value, UpcastError> {
        let _ = payload;
        Err(UpcastError::Missing { event_type: event_type.to_owned(), from })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpcastError {
    #[error("no upcaster brings {event_type} from schema version {from} to {}", from + 1)]
    Missing { event_type: String, from: i32 },
    #[error("{event_type} v{from} is not what its upcaster expects: {problem}")]
    Unexpected { event_type: String, from: i32, problem: String },
}

/// Brings `payload`, stored at `stored`, to the version `E` reads today.
pub fn upcast_to_current<E: EventSchema>(event_type: &str, stored: i32, payload: Value) -> Result<Value, UpcastError> {
    let mut payload = payload;
    for from in stored.max(1)..E::schema_version(event_type) {
        payload = E::upcast(event_type, from, payload)?;
    }
    Ok(payload)
}
