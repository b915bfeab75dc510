//! What every service is built from, whichever mode the process runs in.

use std::sync::Arc;

use chrono::Utc;
use onewindow_auth::Authenticator;
use onewindow_bus::{Bus, EventHandler, Worker};
use onewindow_eventlog::{EventMetadata, EventStore, RecordedEvent};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A service's own event log, the bus, the token verifier and the process's shutdown signal.
#[derive(Clone)]
pub struct ServiceContext {
    pub store: Arc<dyn EventStore>,
    pub bus: Arc<dyn Bus>,
    pub auth: Arc<Authenticator>,
    pub shutdown: CancellationToken,
    /// The time handlers, reactions and workers decide at: the system's, or a test's.
    pub clock: Arc<dyn crate::Clock>,
    /// Every consumer the process runs, for listing and re-driving what they parked (`ParkedEventsService`).
    pub consumers: Arc<crate::parked::Consumers>,
}

impl ServiceContext {
    /// The relay of the service's log (where the bus needs one) and one worker per handler.
    pub fn workers(&self, service: &'static str, handlers: Vec<Arc<dyn EventHandler>>) -> Vec<Worker> {
        self.workers_keeping_private(service, &[], handlers)
    }

    /// Like [`Self::workers`], with stream types whose events are never published (personal data).
    pub fn workers_keeping_private(
        &self,
        service: &'static str,
        private: &'static [&'static str],
        handlers: Vec<Arc<dyn EventHandler>>,
    ) -> Vec<Worker> {
        let relay = self.bus.relay(service, private, self.store.clone(), self.shutdown.clone());
        for handler in &handlers {
            self.consumers.add(service, self.store.clone(), handler.clone());
        }
        relay
            .into_iter()
            .chain(handlers.into_iter().map(|h| self.bus.consume(h, self.store.clone(), self.shutdown.clone())))
            .collect()
    }
}

/// Metadata of events caused by a request: a new flow (correlation) unless the caller continues one.
pub fn request_metadata(actor: String, correlation_id: Option<Uuid>) -> EventMetadata {
    let causation = Uuid::now_v7();
    EventMetadata {
        occurred_at: Utc::now(),
        actor,
        correlation_id: correlation_id.unwrap_or(causation),
        causation_id: causation,
        trace_context: onewindow_telemetry::current_traceparent(),
    }
}

/// Metadata of events caused by a consumed event: same flow, caused by it, performed by `service`.
pub fn reaction_metadata(service: &str, cause: &RecordedEvent) -> EventMetadata {
    EventMetadata {
        occurred_at: Utc::now(),
        actor: format!("service:{service}"),
        correlation_id: cause.metadata.correlation_id,
        causation_id: cause.id,
        trace_context: onewindow_telemetry::current_traceparent(),
    }
}
