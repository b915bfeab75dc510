//! The embedded mode's bus: consumers read the producing service's log directly, from their own checkpoint.
//!
//! The contract is the one JetStream gives: at least once, each stream in order, failures retried with backoff and
//! parked after a few attempts. The checkpoint moves after the handler's effect committed, so a crash in between
//! redelivers, and the handler's inbox mark makes the redelivery harmless.

use std::{collections::HashMap, sync::Arc, time::Duration};

use onewindow_eventlog::EventStore;
use tokio_util::sync::CancellationToken;

use crate::{Bus, EventHandler, HandleError, Worker, handler::park, nats::handle_traced};

const BATCH: usize = 256;
const ATTEMPTS: u32 = 8;

/// Every service's log in this process, by service name.
#[derive(Clone, Default)]
pub struct LogTailBus {
    logs: HashMap<&'static str, Arc<dyn EventStore>>,
}

impl LogTailBus {
    pub fn new(logs: HashMap<&'static str, Arc<dyn EventStore>>) -> Self {
        Self { logs }
    }

    async fn consume_loop(
        source: Arc<dyn EventStore>,
        handler: Arc<dyn EventHandler>,
        own_store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let checkpoint = format!("consumer:{}", handler.name());
        let subscription = handler.subscription();
        let mut position = own_store.load_checkpoint(&checkpoint).await?;
        let mut appended = source.appended();
        loop {
            let batch = source.read_all(position, BATCH).await?;
            if batch.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = appended.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            for event in batch.iter().filter(|e| subscription.wants(e)) {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match handle_traced(handler.as_ref(), event).await {
                        Ok(()) => break,
                        Err(HandleError::Transient(error)) if attempt < ATTEMPTS => {
                            tracing::warn!(consumer = handler.name(), event_id = %event.id, attempt, error = %format!("{error:#}"), "will retry");
                            tokio::select! {
                                _ = shutdown.cancelled() => return Ok(()),
                                _ = tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt))) => {}
                            }
                        }
                        Err(error) => {
                            park(own_store.as_ref(), handler.name(), event, &error.to_string()).await;
                            break;
                        }
                    }
                }
            }
            if let Some(last) = batch.last() {
                position = last.position;
                own_store.save_checkpoint(&checkpoint, position).await?;
            }
        }
    }
}

impl Bus for LogTailBus {
    /// The log is read in place: nothing to relay.
    fn relay(
        &self,
        _: &'static str,
        _: &'static [&'static str],
        _: Arc<dyn EventStore>,
        _: CancellationToken,
    ) -> Option<Worker> {
        None
    }

    fn consume(
        &self,
        handler: Arc<dyn EventHandler>,
        own_store: Arc<dyn EventStore>,
        shutdown: CancellationToken,
    ) -> Worker {
        let name = format!("consumer:{}", handler.name());
        let service = handler.subscription().service;
        match self.logs.get(service).cloned() {
            Some(source) => Worker::new(name, Self::consume_loop(source, handler, own_store, shutdown)),
            None => Worker::new(name, async move { anyhow::bail!("no service {service:?} in this process") }),
        }
    }
}
