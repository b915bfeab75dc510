//! The deadline worker: every so often it looks at each open sheet's current stage and records what its time limit
//! calls for — a reminder, an escalation to the department heads, or (silence is consent) deemed decisions.
//!
//! Each of these is an event appended with the sheet's expected version, and the sheet remembers the stages it
//! reminded and escalated, so two replicas (or two scans) never both record one: the second append fails on the
//! version and the next scan finds nothing due. Organisations are learnt from routing's own log as it grows.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use onewindow_eventlog::{Commit, EventStore, OrgId, Position, StoreError, encode, load_all};
use onewindow_server::request_metadata;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::{
    Clock, SERVICE,
    consumers::catalog_copy::calendar_of,
    directory::Directory,
    sheet::{DeadlineDue, SHEET, Sheet, SheetStatus, deadline_due, decide_deadline, sheet_stream},
};

/// The position an escalation goes to in each department of the stage.
pub const HEAD_POSITION: &str = "head";

pub struct DeadlineWorker {
    store: Arc<dyn EventStore>,
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    /// The organisations seen in the log so far, and how far it was read.
    seen: Mutex<(BTreeSet<OrgId>, Position)>,
}

impl DeadlineWorker {
    pub fn new(store: Arc<dyn EventStore>, directory: Arc<dyn Directory>, clock: Arc<dyn Clock>) -> Self {
        Self { store, directory, clock, seen: Mutex::new((BTreeSet::new(), Position::START)) }
    }

    /// Scans every `interval` until `shutdown`; a failed scan is logged and tried again at the next.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(interval) => {}
            }
            match self.scan().await {
                Ok(0) => {}
                Ok(recorded) => tracing::info!(recorded, "deadlines recorded"),
                Err(error) => tracing::warn!(error = format!("{error:#}"), "the deadline scan failed"),
            }
        }
    }

    async fn organisations(&self) -> anyhow::Result<Vec<OrgId>> {
        let mut seen = self.seen.lock().await;
        loop {
            let batch = self.store.read_all(seen.1, 1000).await?;
            let Some(last) = batch.last() else { break };
            seen.1 = last.position;
            seen.0.extend(batch.iter().filter(|e| e.stream.stream_type == SHEET).map(|e| e.stream.org.clone()));
        }
        Ok(seen.0.iter().cloned().collect())
    }

    /// One pass over every open sheet: the number of sheets something was recorded on.
    pub async fn scan(&self) -> anyhow::Result<usize> {
        let mut recorded = 0;
        for org in self.organisations().await? {
            let calendar = calendar_of(self.store.as_ref(), &org).await?;
            for (id, loaded) in load_all::<Sheet>(self.store.as_ref(), &org, SHEET).await? {
                if loaded.state.status != SheetStatus::Open {
                    continue;
                }
                let now = self.clock.now();
                let Some(due) = deadline_due(&loaded.state, &calendar, now) else { continue };
                let heads = match &due {
                    DeadlineDue::Escalate { departments, .. } => {
                        let mut heads = Vec::new();
                        for department in departments {
                            heads.extend(
                                self.directory
                                    .holders(&org, department, HEAD_POSITION)
                                    .await?
                                    .into_iter()
                                    .map(|p| p.user_id),
                            );
                        }
                        heads
                    }
                    _ => Vec::new(),
                };
                let events = decide_deadline(&loaded.state, due, heads, now);
                let correlation = loaded.events.first().map(|e| e.metadata.correlation_id);
                let metadata = request_metadata(format!("service:{SERVICE}"), correlation);
                let encoded = events.iter().map(|e| encode(e, &metadata)).collect::<Result<Vec<_>, _>>()?;
                let stream = sheet_stream(&org, loaded.state.application.application_id);
                match self.store.commit(Commit::append(stream, loaded.version, encoded)).await {
                    Ok(_) => recorded += 1,
                    // A decision or another replica got in first: the next scan judges the sheet afresh.
                    Err(StoreError::Concurrency { .. }) => tracing::debug!(sheet = %id, "changed meanwhile"),
                    Err(other) => return Err(other.into()),
                }
            }
        }
        Ok(recorded)
    }
}
