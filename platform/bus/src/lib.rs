//! How events travel between onewindow services: at least once, in each stream's order, with one effect.
//!
//! A producing service's event log is its outbox. On NATS JetStream (the distributed mode) an [`OutboxRelay`]
//! publishes the log in commit order with `Nats-Msg-Id` = event id, and keeps its position in the log only after
//! JetStream acknowledged; consumers are durable pull consumers with explicit acks. In one process (the embedded
//! mode) consumers read the producer's log directly from their own checkpoint ([`LogTailBus`]): the same
//! at-least-once contract with no broker. Either way a handler makes its effect idempotent by committing an
//! `InboxMark` with it, and an event that keeps failing is parked, not retried forever.
//!
//! # Layout
//! - [`envelope`]: the public JSON envelope and the subject scheme
//! - [`handler`]: the [`EventHandler`] port consumers implement, and parking
//! - [`parked`]: the events consumers gave up on, listed and re-driven
//! - [`relay`]: the outbox relay (log → JetStream)
//! - [`nats`]: the JetStream bus: streams, relay, durable consumers
//! - [`log_tail`]: the in-process bus of the embedded mode

pub mod envelope;
pub mod handler;
pub mod log_tail;
pub mod nats;
pub mod parked;
pub mod relay;

use std::{future::Future, pin::Pin, sync::Arc};

use onewindow_eventlog::EventStore;
use tokio_util::sync::CancellationToken;

pub use envelope::{Envelope, subject_for};
pub use handler::{EventHandler, HandleError, Subscription, read};
pub use log_tail::LogTailBus;
pub use nats::{NatsBus, NatsSettings};
pub use relay::OutboxRelay;

/// A long-running task of a service (a relay, a consumer), run beside its gRPC server until shutdown.
pub struct Worker {
    pub name: String,
    pub task: Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>,
}

impl Worker {
    pub fn new(name: impl Into<String>, task: impl Future<Output = anyhow::Result<()>> + Send + 'static) -> Self {
        Self { name: name.into(), task: Box::pin(task) }
    }
}

/// The transport between services, chosen once per process.
pub trait Bus: Send + Sync {
    /// The worker that publishes `service`'s log, where this bus needs one. Events of the `private` stream types
    /// (personal data, secrets) stay in the log and are never published.
    fn relay(
        &self,
        service: &'static str,
        private: &'static [&'static str],
        log: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> Option<Worker>;

    /// The worker that feeds `handler`; `own_store` is the consuming service's store (checkpoints, parking).
    fn consume(
        &self,
        handler: Arc<dyn EventHandler>,
        own_store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> Worker;
}
