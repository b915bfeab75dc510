//! Rebuilding a read model from scratch: drop, recreate, replay the whole log.
//!
//! Built for a long log: events are read in big batches in commit order, and the next batch is read while the
//! current one is applied (one transaction and one checkpoint per batch), so the replay runs about as fast as the
//! slower of reading and writing, not their sum. A live runner beside it stays correct: both apply the batch after
//! the checkpoint they lock, so each batch is applied once, by whichever got there first.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use onewindow_eventlog::{EventStore, Position, RecordedEvent};
use tokio::sync::mpsc;

use crate::{
    Projection, ProjectionError, ReadModelDb,
    runner::{apply_batch, reset},
};

/// Events read per batch: big enough that a round trip and a commit per batch cost little, small enough to keep
/// a few batches in memory.
const REBUILD_BATCH: usize = 5_000;
/// Batches read ahead of the one being applied.
const READ_AHEAD: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    /// Events of the log replayed so far (of every type).
    pub events: u64,
    /// The log's size when the rebuild started (it may grow meanwhile).
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub projection: &'static str,
    pub events: i64,
    /// Rows of the rebuilt read model, and what they are ("applications").
    pub rows: i64,
    pub rows_are: &'static str,
    pub elapsed: Duration,
}

/// Drops `projection`'s tables and replays `log` into them from position 0, calling `progress` after each batch.
pub async fn rebuild(
    projection: &dyn Projection,
    log: Arc<dyn EventStore>,
    mut progress: impl FnMut(RebuildProgress) + Send,
) -> Result<RebuildReport, ProjectionError> {
    let started = Instant::now();
    let db = ReadModelDb::of(log.as_ref())?;
    let total = u64::try_from(db.count_events().await?).unwrap_or(0);
    let mut checkpoint = reset(&db, projection).await?;
    progress(RebuildProgress { events: 0, total });

    'replay: loop {
        let mut batches = read_ahead(log.clone(), checkpoint.position);
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            match apply_batch(&db, projection, checkpoint, &batch).await? {
                Some(moved) => checkpoint = moved,
                None => {
                    // A live runner applied a batch meanwhile: continue from where it got.
                    checkpoint = db.checkpoint(projection.name()).await?.unwrap_or_default();
                    continue 'replay;
                }
            }
            progress(RebuildProgress { events: u64::try_from(checkpoint.events).unwrap_or(0), total });
        }
        break;
    }

    // A live runner may have applied the last batches: the checkpoint counts every event either way.
    let checkpoint = db.checkpoint(projection.name()).await?.unwrap_or(checkpoint);
    let (rows, rows_are) = projection.size(&db).await?;
    Ok(RebuildReport {
        projection: projection.name(),
        events: checkpoint.events,
        rows,
        rows_are,
        elapsed: started.elapsed(),
    })
}

/// Reads the log after `from` batch by batch, a few batches ahead of the consumer, until it is exhausted. Dropping
/// the receiver stops the reader.
fn read_ahead(log: Arc<dyn EventStore>, from: Position) -> mpsc::Receiver<Result<Vec<RecordedEvent>, ProjectionError>> {
    let (sender, receiver) = mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        let mut position = from;
        loop {
            let batch = match log.read_all(position, REBUILD_BATCH).await {
                Ok(batch) => batch,
                Err(error) => {
                    let _ = sender.send(Err(error.into())).await;
                    return;
                }
            };
            let Some(last) = batch.last().map(|e| e.position) else { return };
            position = last;
            if sender.send(Ok(batch)).await.is_err() {
                return;
            }
        }
    });
    receiver
}
