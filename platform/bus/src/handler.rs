//! The consumer side: what a handler declares and how its failures are told apart.

use async_trait::async_trait;
use chrono::Utc;
use onewindow_eventlog::{Commit, EventMetadata, EventStore, RecordedEvent, encode};

use crate::{
    Envelope,
    parked::{self, ParkedEvent},
};

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

/// Records an event a consumer gave up on, in the consumer's own log, where administrators list and re-drive it
/// (`parked`). Logged once, with the application it concerns.
pub(crate) async fn park(store: &dyn EventStore, consumer: &str, event: &RecordedEvent, reason: &str) {
    let envelope = Envelope::from_recorded(event);
    let application_id = parked::application_of(&envelope).unwrap_or_default();
    let parked =
        ParkedEvent::Parked { consumer: consumer.to_owned(), reason: reason.to_owned(), event: Box::new(envelope) };
    tracing::error!(consumer, event_id = %event.id, event_type = %event.event_type, application_id, reason, "event parked");
    let metadata = EventMetadata {
        occurred_at: Utc::now(),
        actor: format!("consumer:{consumer}"),
        correlation_id: event.metadata.correlation_id,
        causation_id: event.id,
        trace_context: event.metadata.trace_context.clone(),
    };
    let stream = parked::stream(&event.stream.org, consumer, event.id);
    let commit = encode(&parked, &metadata).map(|parked| Commit::append(stream, 0, vec![parked]));
    let outcome = match commit {
        Ok(commit) => store.commit(commit).await.map(|_| ()),
        Err(error) => Err(error.into()),
    };
    if let Err(error) = outcome {
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
