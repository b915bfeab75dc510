//! Keeping a read model current: tail the owning service's log and apply it batch by batch.

use std::{sync::Arc, time::Duration};

use onewindow_bus::Worker;
use onewindow_eventlog::{EventStore, Position, RecordedEvent};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::{Backend, Checkpoint, Projection, ProjectionError, ReadModelDb, Tx};

/// Events read per live batch (a rebuild reads bigger ones).
const LIVE_BATCH: usize = 1_000;
/// Other replicas' commits do not tick our in-process notifier: this bounds how late we see them.
const POLL: Duration = Duration::from_millis(500);
/// Batches of events a slow subscriber may fall behind by before it is told it lagged.
const SUBSCRIBER_BUFFER: usize = 256;

/// Events of the projection's types that the read model now holds, in commit order.
pub type Applied = Arc<[RecordedEvent]>;

/// A projection kept current from its service's log, and the subscribers told of each change.
pub struct ProjectionRunner {
    projection: Arc<dyn Projection>,
    log: Arc<dyn EventStore>,
    db: ReadModelDb,
    applied: broadcast::Sender<Applied>,
    /// Set once the runner knows where it starts telling from.
    ready: watch::Sender<bool>,
}

impl ProjectionRunner {
    pub fn new(projection: Arc<dyn Projection>, log: Arc<dyn EventStore>) -> Result<Arc<Self>, ProjectionError> {
        let db = ReadModelDb::of(log.as_ref())?;
        let applied = broadcast::channel(SUBSCRIBER_BUFFER).0;
        Ok(Arc::new(Self { projection, log, db, applied, ready: watch::channel(false).0 }))
    }

    pub fn db(&self) -> &ReadModelDb {
        &self.db
    }

    /// Every event of the projection's types committed from now on, once the read model holds it: also those
    /// another replica applied. Waits for the runner to have started, so that nothing committed after the call
    /// is missed.
    pub async fn subscribe(&self) -> broadcast::Receiver<Applied> {
        // The sender lives in `self`: the wait ends when the runner has started.
        let _ = self.ready.subscribe().wait_for(|ready| *ready).await;
        self.applied.subscribe()
    }

    /// The background task of a service: until `shutdown`.
    pub fn worker(self: &Arc<Self>, shutdown: CancellationToken) -> Worker {
        let runner = self.clone();
        Worker::new(format!("projection:{}", self.projection.name()), async move { runner.run(shutdown).await })
    }

    /// Creates the tables on first start and rebuilds them when the projection's version changed.
    pub async fn prepare(&self) -> Result<Checkpoint, ProjectionError> {
        prepare(&self.db, self.projection.as_ref()).await
    }

    async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let name = self.projection.name();
        let mut seen = self.prepare().await?.position;
        self.ready.send_replace(true);
        let mut appended = self.log.appended();
        let mut failures = 0u32;
        loop {
            match self.step(&mut seen).await {
                Ok(true) => {
                    failures = 0;
                    if shutdown.is_cancelled() {
                        return Ok(());
                    }
                    continue;
                }
                Ok(false) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(projection = name, %error, failures, "applying the log failed; retrying");
                }
            }
            let pause = if failures == 0 { POLL } else { Duration::from_millis(100 * 2u64.pow(failures.min(7))) };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = appended.changed(), if failures == 0 => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One batch: applies what is past the checkpoint, tells subscribers what is past `seen`. False when the log
    /// had nothing new.
    ///
    /// `seen` and the checkpoint differ when someone else moved the checkpoint: another replica ahead of us (we
    /// only read on, to tell our subscribers), or a rebuild that restarted it (we help apply from there, and tell
    /// nothing twice).
    async fn step(&self, seen: &mut Position) -> Result<bool, ProjectionError> {
        let name = self.projection.name();
        let checkpoint = self.db.checkpoint(name).await?.unwrap_or_default();
        let from = checkpoint.position.min(*seen);
        let batch = self.log.read_all(from, LIVE_BATCH).await?;
        let Some(last) = batch.last().map(|e| e.position) else { return Ok(false) };
        if last > checkpoint.position
            && apply_batch(&self.db, self.projection.as_ref(), checkpoint, &batch).await?.is_none()
        {
            // The checkpoint moved since we read it: look again.
            return Ok(true);
        }
        let types = self.projection.event_types();
        let fresh: Vec<RecordedEvent> =
            batch.into_iter().filter(|e| e.position > *seen && types.contains(&e.event_type.as_str())).collect();
        if !fresh.is_empty() {
            // Nobody listening is fine.
            let _ = self.applied.send(fresh.into());
        }
        *seen = (*seen).max(last);
        Ok(true)
    }
}

/// Creates the projection's tables on first start, and drops and recreates them when the stored version is not
/// the projection's: checked and done in one transaction under the schema lock, so replicas starting together
/// build once.
pub(crate) async fn prepare(db: &ReadModelDb, projection: &dyn Projection) -> Result<Checkpoint, ProjectionError> {
    let mut tx = db.begin_schema_change().await?;
    match tx.lock_checkpoint(projection.name()).await? {
        Some(checkpoint) if checkpoint.version == projection.version() => {
            tx.commit().await?;
            Ok(checkpoint)
        }
        stored => {
            if let Some(old) = stored {
                tracing::info!(
                    projection = projection.name(),
                    from = old.version,
                    to = projection.version(),
                    "the projection changed: rebuilding its read model"
                );
            }
            let checkpoint = reset_within(&mut tx, db.backend(), projection).await?;
            tx.commit().await?;
            Ok(checkpoint)
        }
    }
}

/// Drops and recreates the tables and restarts the checkpoint, in one transaction: readers and runners see the
/// old read model or the empty new one, never no tables.
pub(crate) async fn reset(db: &ReadModelDb, projection: &dyn Projection) -> Result<Checkpoint, ProjectionError> {
    let mut tx = db.begin_schema_change().await?;
    // Taking the checkpoint's lock makes a live runner wait for the reset instead of writing beside it.
    tx.lock_checkpoint(projection.name()).await?;
    let checkpoint = reset_within(&mut tx, db.backend(), projection).await?;
    tx.commit().await?;
    Ok(checkpoint)
}

async fn reset_within(
    tx: &mut Tx,
    backend: Backend,
    projection: &dyn Projection,
) -> Result<Checkpoint, ProjectionError> {
    for table in projection.tables() {
        tx.execute(&format!("DROP TABLE IF EXISTS {table}")).await?;
    }
    for statement in projection.create_statements(backend) {
        tx.execute(statement).await?;
    }
    let checkpoint = Checkpoint { position: Position::START, events: 0, version: projection.version() };
    tx.save_checkpoint(projection.name(), checkpoint).await?;
    Ok(checkpoint)
}

/// Applies the events of `batch` past `expected` and moves the checkpoint to the batch's end, in one transaction,
/// if the checkpoint is still `expected`: the moved checkpoint, or `None` (nothing written) when someone else
/// moved it.
pub(crate) async fn apply_batch(
    db: &ReadModelDb,
    projection: &dyn Projection,
    expected: Checkpoint,
    batch: &[RecordedEvent],
) -> Result<Option<Checkpoint>, ProjectionError> {
    let Some(last) = batch.last().map(|e| e.position) else { return Ok(Some(expected)) };
    let mut tx = db.begin().await?;
    let current = tx.lock_checkpoint(projection.name()).await?.unwrap_or_default();
    if current != expected {
        tx.rollback().await?;
        return Ok(None);
    }
    let types = projection.event_types();
    let passed: Vec<&RecordedEvent> = batch.iter().filter(|e| e.position > expected.position).collect();
    let wanted: Vec<&RecordedEvent> =
        passed.iter().copied().filter(|e| types.contains(&e.event_type.as_str())).collect();
    projection.apply(&mut tx, &wanted).await?;
    let moved = Checkpoint { position: last, events: expected.events + passed.len() as i64, ..expected };
    tx.save_checkpoint(projection.name(), moved).await?;
    tx.commit().await?;
    Ok(Some(moved))
}
