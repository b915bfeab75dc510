//! The publisher of the public events (distributed mode): applications' status changes as CloudEvents on
//! `onewindow.public.v1.<org>.application.<status>`, kept in the `ONEWINDOW_PUBLIC` stream for replay.
//!
//! It is a durable consumer of applications' events like any other, so it publishes in each application's order
//! and at least once. Each publish carries `Nats-Msg-Id` = the CloudEvent's id (derived from the internal event's)
//! and is acknowledged before the internal event is: a redelivery inside the duplicate window is dropped by
//! JetStream, after it receivers deduplicate by the CloudEvent's `id`.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    message::PublishMessage,
    stream::{self, StorageType},
};
use async_trait::async_trait;
use bytes::Bytes;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::RecordedEvent;

use crate::public;

pub const PUBLISHER: &str = "notifications-public-events";

/// How long the public stream keeps events for replay.
const KEEP_FOR: Duration = Duration::from_secs(400 * 24 * 60 * 60);
/// Redeliveries of one internal event after a publisher crash are dropped by JetStream within this window.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Creates (or updates) the `ONEWINDOW_PUBLIC` stream over `onewindow.public.v1.>`.
pub async fn ensure_public_stream(jetstream: &jetstream::Context, replicas: usize) -> anyhow::Result<()> {
    let config = stream::Config {
        name: public::STREAM.into(),
        description: Some("onewindow's public events for integrators (CloudEvents 1.0, docs/asyncapi.yaml)".into()),
        subjects: vec![public::SUBJECTS.into()],
        storage: StorageType::File,
        num_replicas: replicas,
        max_age: KEEP_FOR,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    };
    // Create or update: a release that changes the retention changes the running stream too.
    jetstream.create_or_update_stream(config).await?;
    Ok(())
}

pub struct PublicEventsPublisher {
    jetstream: jetstream::Context,
}

impl PublicEventsPublisher {
    pub fn new(jetstream: jetstream::Context) -> Self {
        Self { jetstream }
    }
}

#[async_trait]
impl EventHandler for PublicEventsPublisher {
    fn name(&self) -> &'static str {
        PUBLISHER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: public::status_types() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let cloud_event = public::status_changed(event).map_err(|e| HandleError::Poison(e.into()))?;
        let Some(cloud_event) = cloud_event else { return Ok(()) };
        let body = serde_json::to_vec(&cloud_event).map_err(|e| HandleError::Poison(e.into()))?;
        let message = PublishMessage::build()
            .payload(Bytes::from(body))
            .message_id(cloud_event.id.to_string())
            .header("Content-Type", "application/cloudevents+json");
        let transient = |e: anyhow::Error| HandleError::Transient(e);
        let ack = self
            .jetstream
            .send_publish(cloud_event.nats_subject(), message)
            .await
            .map_err(|e| transient(anyhow::anyhow!(e).context("publishing a public event")))?;
        ack.await.map_err(|e| transient(anyhow::anyhow!(e).context("awaiting JetStream's ack of a public event")))?;
        tracing::debug!(subject = %cloud_event.nats_subject(), id = %cloud_event.id, "public event published");
        Ok(())
    }
}
