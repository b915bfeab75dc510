//! The outbox relay: publishes a service's event log to JetStream in commit order.
//!
//! The relay keeps its position in the log (a checkpoint in the same database) and moves it only after JetStream
//! acknowledged every event before it. A crash between a commit and its publish, or between a publish and the
//! checkpoint, therefore only causes a re-publish, which JetStream drops by `Nats-Msg-Id` inside its duplicate
//! window and consumers drop by event id after it.

use std::{sync::Arc, time::Duration};

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use onewindow_eventlog::{EventStore, RecordedEvent};
use tokio_util::sync::CancellationToken;

use crate::{Envelope, subject_for};

const BATCH: usize = 512;
/// Other replicas' commits do not tick our in-process notifier; this bounds how late we see them.
const POLL: Duration = Duration::from_millis(200);

pub struct OutboxRelay {
    service: &'static str,
    log: Arc<dyn EventStore>,
    jetstream: jetstream::Context,
    private: &'static [&'static str],
}

impl OutboxRelay {
    pub fn new(service: &'static str, log: Arc<dyn EventStore>, jetstream: jetstream::Context) -> Self {
        Self { service, log, jetstream, private: &[] }
    }

    /// Events of these stream types are passed over: they stay in the service's own log.
    pub fn keeping_private(mut self, stream_types: &'static [&'static str]) -> Self {
        self.private = stream_types;
        self
    }

    fn checkpoint(&self) -> String {
        format!("relay:{}", self.service)
    }

    /// Publishes what is waiting, returning how many events went out.
    pub async fn publish_pending(&self) -> anyhow::Result<usize> {
        let mut position = self.log.load_checkpoint(&self.checkpoint()).await?;
        let mut published = 0;
        loop {
            let batch = self.log.read_all(position, BATCH).await?;
            let Some(last) = batch.last() else { return Ok(published) };
            let last = last.position;
            self.publish_batch(&batch).await?;
            self.log.save_checkpoint(&self.checkpoint(), last).await?;
            position = last;
            published += batch.len();
        }
    }

    /// Sends the whole batch before awaiting the acks, so one round trip's latency is paid per batch, not per event.
    async fn publish_batch(&self, batch: &[RecordedEvent]) -> anyhow::Result<()> {
        let mut acks = Vec::with_capacity(batch.len());
        for event in batch.iter().filter(|e| !self.private.contains(&e.stream.stream_type.as_str())) {
            let body = serde_json::to_vec(&Envelope::from_recorded(event))?;
            let mut message = PublishMessage::build().payload(Bytes::from(body)).message_id(event.id.to_string());
            if let Some(traceparent) = &event.metadata.trace_context {
                message = message.header("traceparent", traceparent.as_str());
            }
            acks.push(self.jetstream.send_publish(subject_for(self.service, event), message).await?);
        }
        for ack in acks {
            ack.await?;
        }
        tracing::debug!(service = self.service, events = batch.len(), "published");
        Ok(())
    }

    /// Publishes until shutdown, waking on every local commit and polling for other replicas' commits.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut appended = self.log.appended();
        let mut failures = 0u32;
        loop {
            match self.publish_pending().await {
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(service = self.service, %error, failures, "publishing failed; retrying");
                }
            }
            let pause = if failures == 0 { POLL } else { Duration::from_millis(200 * 2u64.pow(failures.min(6))) };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = appended.changed(), if failures == 0 => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
