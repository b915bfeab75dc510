//! What a read model declares and does; the runner and the rebuild do the rest (reading, checkpoints, batches).

use async_trait::async_trait;
use onewindow_eventlog::{RecordedEvent, StoreError};

use crate::{Backend, ReadModelDb, Tx};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("the event log is not kept in a database, so no read model can be kept beside it")]
    NoDatabase,
    #[error("the read model's database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the event log could not be read: {0}")]
    Log(#[from] StoreError),
    #[error("no projection is named {0:?}")]
    Unknown(String),
}

/// A read model built from one service's log.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Unique among the service's projections: the checkpoint's key and `onewindow rebuild <name>`.
    fn name(&self) -> &'static str;

    /// Raise it when the tables or the meaning of `apply` change: the runner then rebuilds at start.
    fn version(&self) -> i64;

    /// The event types `apply` is given; the checkpoint moves over the others too.
    fn event_types(&self) -> &'static [&'static str];

    /// The tables, dropped (in this order) before a rebuild.
    fn tables(&self) -> &'static [&'static str];

    /// Statements that create the tables and their indexes on `backend`, run after the drops.
    fn create_statements(&self, backend: Backend) -> &'static [&'static str];

    /// Applies `events` (in commit order, only the declared types, possibly none) within `tx`, which also moves
    /// the checkpoint. An event it cannot read must not fail the batch for ever: log it and pass over it.
    async fn apply(&self, tx: &mut Tx, events: &[&RecordedEvent]) -> Result<(), ProjectionError>;

    /// How many rows the read model holds and what they are ("applications"), for the rebuild's last line.
    async fn size(&self, db: &ReadModelDb) -> Result<(i64, &'static str), ProjectionError>;
}
