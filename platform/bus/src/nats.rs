//! The distributed mode's bus: NATS JetStream, one stream per producing service, durable pull consumers.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, pull},
    stream::{self, StorageType},
};
use futures::StreamExt;
use onewindow_eventlog::{EventStore, RecordedEvent};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Bus, Envelope, EventHandler, HandleError, OutboxRelay, Worker,
    envelope::{event_type_subjects, service_subjects},
    handler::park,
};

/// Deliveries of one event before it is parked: a poison message must not cycle forever.
const MAX_DELIVER: i64 = 8;

#[derive(Debug, Clone)]
pub struct NatsSettings {
    pub url: String,
    /// Replicas of each stream: 1 on a single server, 3 in production clusters.
    pub stream_replicas: usize,
}

#[derive(Clone)]
pub struct NatsBus {
    jetstream: jetstream::Context,
    settings: NatsSettings,
}

impl NatsBus {
    pub async fn connect(settings: NatsSettings) -> anyhow::Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .name("onewindow")
            .retry_on_initial_connect()
            .connect(settings.url.as_str())
            .await?;
        Ok(Self { jetstream: jetstream::new(client), settings })
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// The stream that keeps one service's events: `ONEWINDOW_<SERVICE>` over `onewindow.v1.*.<service>.>`.
    pub async fn ensure_stream(&self, service: &str) -> anyhow::Result<stream::Stream> {
        let config = stream::Config {
            name: stream_name(service),
            subjects: vec![service_subjects(service)],
            storage: StorageType::File,
            num_replicas: self.settings.stream_replicas,
            // Deduplication by Nats-Msg-Id within this window; consumers deduplicate by event id beyond it.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        Ok(self.jetstream.get_or_create_stream(config).await?)
    }

    async fn consume_loop(
        self,
        handler: Arc<dyn EventHandler>,
        own_store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let subscription = handler.subscription();
        let stream = self.ensure_stream(subscription.service).await?;
        // Create or update: a new release that subscribes to more event types changes the durable consumer's
        // filters (get-or-create would keep the old ones and silently miss the new events).
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(handler.name().to_owned()),
                filter_subjects: subscription
                    .event_types
                    .iter()
                    .map(|t| event_type_subjects(subscription.service, t))
                    .collect(),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: MAX_DELIVER,
                max_ack_pending: 256,
                ..Default::default()
            })
            .await?;
        let mut messages = consumer.messages().await?;
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = messages.next() => match next {
                    Some(message) => message.map_err(|e| anyhow::anyhow!(e))?,
                    None => anyhow::bail!("the consumer's message stream ended"),
                },
            };
            let traceparent =
                message.headers.as_ref().and_then(|h| h.get("traceparent")).map(|v| v.as_str().to_owned());
            let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
            let event = match serde_json::from_slice::<Envelope>(&message.payload) {
                Ok(envelope) => envelope.into_recorded(traceparent),
                Err(error) => {
                    tracing::error!(consumer = handler.name(), subject = %message.subject, %error, "undecodable message dropped");
                    message.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))?;
                    continue;
                }
            };
            let ack = match handle_traced(handler.as_ref(), &event).await {
                Ok(()) => AckKind::Ack,
                Err(HandleError::Transient(error)) if delivered < MAX_DELIVER => {
                    tracing::warn!(consumer = handler.name(), event_id = %event.id, delivered, error = %format!("{error:#}"), "will retry");
                    AckKind::Nak(Some(Duration::from_millis(250 * 2u64.pow(delivered.clamp(0, 7) as u32))))
                }
                Err(error) => {
                    park(own_store.as_ref(), handler.name(), &event, &error.to_string()).await;
                    AckKind::Term
                }
            };
            message.ack_with(ack).await.map_err(|e| anyhow::anyhow!(e))?;
        }
    }
}

/// Runs a handler inside a span that continues the trace of the request that caused the event.
pub(crate) async fn handle_traced(handler: &dyn EventHandler, event: &RecordedEvent) -> Result<(), HandleError> {
    let span =
        tracing::info_span!("consume", consumer = handler.name(), event_type = %event.event_type, event_id = %event.id);
    onewindow_telemetry::continue_trace(&span, event.metadata.trace_context.as_deref());
    handler.handle(event).instrument(span).await
}

fn stream_name(service: &str) -> String {
    format!("ONEWINDOW_{}", service.to_ascii_uppercase())
}

impl Bus for NatsBus {
    fn relay(
        &self,
        service: &'static str,
        private: &'static [&'static str],
        log: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> Option<Worker> {
        let bus = self.clone();
        Some(Worker::new(format!("relay:{service}"), async move {
            bus.ensure_stream(service).await?;
            OutboxRelay::new(service, log, bus.jetstream.clone()).keeping_private(private).run(shutdown).await
        }))
    }

    fn consume(
        &self,
        handler: Arc<dyn EventHandler>,
        own_store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> Worker {
        let name = format!("consumer:{}", handler.name());
        Worker::new(name, self.clone().consume_loop(handler, own_store, shutdown))
    }
}
