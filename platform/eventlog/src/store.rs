use async_trait::async_trait;
use tokio::sync::watch;
use uuid::Uuid;

use crate::{NewEvent, OrgId, Position, RecordedEvent, StreamRef};

/// The events of one command for one stream, guarded by the version the command was decided on.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub stream: StreamRef,
    /// The stream's version the events were decided on: 0 for a stream that must not exist yet.
    pub expected_version: i64,
    pub events: Vec<NewEvent>,
}

/// "This consumer has handled this event": stored with the consumer's effect, so a redelivery is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMark {
    pub consumer: String,
    pub event_id: Uuid,
}

/// What one command (or one consumed event) writes, all or nothing.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub appends: Vec<StreamAppend>,
    pub inbox: Option<InboxMark>,
}

impl Commit {
    pub fn append(stream: StreamRef, expected_version: i64, events: Vec<NewEvent>) -> Self {
        Self { appends: vec![StreamAppend { stream, expected_version, events }], inbox: None }
    }

    pub fn with_inbox(mut self, mark: InboxMark) -> Self {
        self.inbox = Some(mark);
        self
    }

    fn is_empty(&self) -> bool {
        self.inbox.is_none() && self.appends.iter().all(|a| a.events.is_empty())
    }

    /// Drops appends without events: "no events" is no write, never a version bump (Marten #5539).
    pub(crate) fn normalised(mut self) -> Option<Self> {
        self.appends.retain(|a| !a.events.is_empty());
        if self.is_empty() { None } else { Some(self) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Written; the new version of each stream, in the order of `appends`.
    Committed { versions: Vec<i64> },
    /// The inbox mark was already there: the event was handled before, nothing was written.
    AlreadyProcessed,
    /// The commit held no events and no inbox mark.
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else appended to the stream since the command read it.
    #[error("stream {stream} changed concurrently: expected version {expected}")]
    Concurrency { stream: StreamRef, expected: i64 },
    #[error("the event log's database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the event log's schema could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("a stored event could not be read back: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use postgres://... or sqlite:...")]
    UnsupportedUrl(String),
}

/// The port every service writes its aggregates through.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends every stream's events and the inbox mark in one transaction.
    async fn commit(&self, commit: Commit) -> Result<CommitOutcome, StoreError>;

    /// Every event of one stream, in version order (empty if the stream does not exist in that organisation).
    async fn read_stream(&self, stream: &StreamRef) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The stream's current version (0 when it does not exist), without reading its events: counters and
    /// journals are long streams whose version is all a writer needs.
    async fn stream_version(&self, stream: &StreamRef) -> Result<i64, StoreError>;

    /// One event of a stream by its version.
    async fn read_event(&self, stream: &StreamRef, version: i64) -> Result<Option<RecordedEvent>, StoreError>;

    /// Up to `limit` events committed after `after`, in commit order. Never skips an event that commits late.
    async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Every event of every stream of one type in one organisation, by stream and version: one query for a
    /// small aggregate family (a catalog's services), instead of one per stream.
    async fn read_stream_type(&self, org: &OrgId, stream_type: &str) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The ids of the streams of one type in one organisation.
    async fn list_streams(&self, org: &OrgId, stream_type: &str) -> Result<Vec<String>, StoreError>;

    async fn load_checkpoint(&self, name: &str) -> Result<Position, StoreError>;

    async fn save_checkpoint(&self, name: &str, position: Position) -> Result<(), StoreError>;

    /// Ticks after every commit made through this handle, so in-process readers wake without polling.
    fn appended(&self) -> watch::Receiver<u64>;

    /// The database the log lives in, for read models kept beside it (`onewindow-projections`): their tables and
    /// checkpoints share the log's database and pool. `None` for a store that is not backed by one.
    fn database(&self) -> Option<Database> {
        None
    }
}

/// The pool of the database a log lives in.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}
