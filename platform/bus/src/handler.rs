//! The consumer side: what a handler declares and how its failures are told apart.

use async_trait::async_trait;
use chrono::Utc;
use onewindow_eventlog::{Commit, EventMetadata, EventStore, NewEvent, RecordedEvent, StreamRef};
use serde_json::json;
use uuid::Uuid;

use crate::Envelope;

/// Which events a handler receives: the producing service and the event types.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub service: &'static str,
    pub event_types: Vec<&'static str>,
}

impl Subscription {
    pub fn wants(&self, event: &RecordedEvent) -> bool {
        self.event_types.iter().any(|t| *t == event.event_type)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth retrying later: the database or a called service was unavailable, a concurrent write won.
    #[error("transient failure: {0:#}")]
    Transient(anyhow::Error),
    /// Retrying cannot help: the event cannot be decoded or breaks an invariant. It is parked.
    #[error("the event cannot be handled: {0:#}")]
    Poison(anyhow::Error),
}

/// A consumer of events. `handle` must be idempotent: commit an `InboxMark` with the effect.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The durable consumer name; also the key of its idempotency records. Letters, digits and '-'.
    fn name(&self) -> &'static str;
    fn subscription(&self) -> Subscription;
    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError>;
}

/// Records an event a consumer gave up on, in the consumer's own log, where operators can find and replay it.
pub(crate) async fn park(store: &dyn EventStore, consumer: &str, event: &RecordedEvent, reason: &str) {
    tracing::error!(consumer, event_id = %event.id, event_type = %event.event_type, reason, "event parked");
    let parked = NewEvent {
        id: Uuid::now_v7(),
        event_type: "parked.event_parked".into(),
        schema_version: 1,
        payload: json!({ "consumer": consumer, "reason": reason, "event": Envelope::from_recorded(event) }),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: format!("consumer:{consumer}"),
            correlation_id: event.metadata.correlation_id,
            causation_id: event.id,
            trace_context: event.metadata.trace_context.clone(),
        },
    };
    let stream = StreamRef::new(&event.stream.org, "parked", format!("{consumer}:{}", event.id));
    if let Err(error) = store.commit(Commit::append(stream, 0, vec![parked])).await {
        tracing::error!(consumer, event_id = %event.id, %error, "could not record a parked event");
    }
}

/// Reads a consumed event as its producer's contract type (`onewindow_contracts`), through the upcasters of its
/// schema version: every consumer reads what the producer wrote with the type it was written with. An event that
/// does not decode is poison (retrying cannot help): it is parked where administrators see it.
pub fn read<E: serde::de::DeserializeOwned + onewindow_eventlog::EventSchema>(
    event: &RecordedEvent,
) -> Result<E, HandleError> {
    onewindow_eventlog::decode(event).map_err(|error| {
        HandleError::Poison(anyhow::Error::new(error).context(format!("reading {} {}", event.event_type, event.id)))
    })
}
