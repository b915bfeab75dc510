use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{EventStore, PostgresEventStore, SqliteEventStore, StoreError};

/// PostgreSQL connections one process keeps at most unless told otherwise: the six services take 48 of
/// PostgreSQL's default `max_connections` of 100, so one more replica of each still fits (raise the server's
/// limit, or put PgBouncer in front, before scaling further).
pub const DEFAULT_POOL_SIZE: u32 = 8;

/// How an event log's database is opened.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// PostgreSQL connections kept at most (a SQLite file keeps its own few: one writer under WAL).
    pub pool_size: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self { pool_size: DEFAULT_POOL_SIZE }
    }
}

/// Opens the event log at `url` and migrates its schema: `postgres://…` or `sqlite:path` / `sqlite::memory:`.
pub async fn open(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    open_with(url, OpenOptions::default()).await
}

/// [`open`] with a pool of `options.pool_size` (a service's `ONEWINDOW_DATABASE_POOL_SIZE`).
pub async fn open_with(url: &str, options: OpenOptions) -> Result<Arc<dyn EventStore>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(open_postgres_with(url, options).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(open_sqlite(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

pub async fn open_postgres(url: &str) -> Result<PostgresEventStore, StoreError> {
    open_postgres_with(url, OpenOptions::default()).await
}

async fn open_postgres_with(url: &str, options: OpenOptions) -> Result<PostgresEventStore, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    PostgresEventStore::new(pool).await
}

pub async fn open_sqlite(url: &str) -> Result<SqliteEventStore, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit the caller was told about survives a power cut, as on PostgreSQL.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let in_memory = url.contains(":memory:");
    let pool = SqlitePoolOptions::new()
        // An in-memory database lives in one connection; a file is shared by readers under WAL.
        .max_connections(if in_memory { 1 } else { 8 })
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
        .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(3600)) })
        .connect_with(options)
        .await?;
    SqliteEventStore::new(pool).await
}
