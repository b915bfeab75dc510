//! The database a read model lives in: the owning service's own, shared with its event log, so a projection's
//! rows and its checkpoint commit in one transaction.

use chrono::Utc;
use onewindow_eventlog::{Database, EventStore, Position};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::ProjectionError;

/// Which SQL dialect a projection writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// How far a projection has applied the log, and which version of the projection built it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub position: Position,
    /// Events of the log passed since the read model was last built from scratch (all types).
    pub events: i64,
    pub version: i64,
}

/// One row per projection. Times are microseconds since the epoch on both backends.
const CREATE_CHECKPOINTS: &str = "CREATE TABLE IF NOT EXISTS projection_checkpoints (\
     name TEXT PRIMARY KEY, version BIGINT NOT NULL, commit_tx BIGINT NOT NULL, sequence BIGINT NOT NULL, \
     events BIGINT NOT NULL, updated_at_us BIGINT NOT NULL)";

const SELECT_CHECKPOINT: &str =
    "SELECT version, commit_tx, sequence, events FROM projection_checkpoints WHERE name = $1";

/// The read models' handle on the log's database (and pool).
#[derive(Debug, Clone)]
pub struct ReadModelDb {
    database: Database,
}

impl ReadModelDb {
    /// The database `log` is stored in.
    pub fn of(log: &dyn EventStore) -> Result<Self, ProjectionError> {
        log.database().map(|database| Self { database }).ok_or(ProjectionError::NoDatabase)
    }

    pub fn backend(&self) -> Backend {
        match self.database {
            Database::Postgres(_) => Backend::Postgres,
            Database::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The pool, for a projection's queries.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction
    /// that reads and then writes fails with SQLITE_BUSY instead of waiting.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.database {
            Database::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// A write transaction that also holds the projections' schema lock: creating, dropping and resetting read
    /// models take turns (concurrent `CREATE TABLE` can collide in PostgreSQL's catalog even with `IF NOT EXISTS`,
    /// and two replicas starting together must not both rebuild). The checkpoint table exists within it.
    pub(crate) async fn begin_schema_change(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if let Tx::Postgres(tx) = &mut tx {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('onewindow-projections'))").execute(&mut **tx).await?;
        }
        // SQLite's BEGIN IMMEDIATE holds the database's write lock already.
        tx.execute(CREATE_CHECKPOINTS).await?;
        Ok(tx)
    }

    /// The projection's checkpoint, read without a lock (`None` before it was first built).
    pub async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
        let row: Option<(i64, i64, i64, i64)> = match &self.database {
            Database::Postgres(pool) => sqlx::query_as(SELECT_CHECKPOINT).bind(name).fetch_optional(pool).await?,
            Database::Sqlite(pool) => sqlx::query_as(SELECT_CHECKPOINT).bind(name).fetch_optional(pool).await?,
        };
        Ok(row.map(checkpoint_of))
    }

    /// How many events the log holds, for a rebuild's progress bar.
    pub async fn count_events(&self) -> Result<i64, sqlx::Error> {
        const COUNT: &str = "SELECT count(*) FROM events";
        match &self.database {
            Database::Postgres(pool) => sqlx::query_scalar(COUNT).fetch_one(pool).await,
            Database::Sqlite(pool) => sqlx::query_scalar(COUNT).fetch_one(pool).await,
        }
    }
}

fn checkpoint_of((version, commit, sequence, events): (i64, i64, i64, i64)) -> Checkpoint {
    Checkpoint { position: Position { commit, sequence }, events, version }
}

/// A read model's write transaction: its rows and its checkpoint commit together or not at all.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Tx {
    /// Runs one statement without parameters (tables, indexes).
    pub async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Tx::Postgres(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
            Tx::Sqlite(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
        }
    }

    /// The checkpoint, locked until the transaction ends: whoever holds it is the only one applying the log.
    pub(crate) async fn lock_checkpoint(&mut self, name: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
        let row: Option<(i64, i64, i64, i64)> = match self {
            Tx::Postgres(tx) => {
                let sql = sqlx::AssertSqlSafe(format!("{SELECT_CHECKPOINT} FOR UPDATE"));
                sqlx::query_as(sql).bind(name).fetch_optional(&mut **tx).await?
            }
            // BEGIN IMMEDIATE already holds the database's write lock.
            Tx::Sqlite(tx) => sqlx::query_as(SELECT_CHECKPOINT).bind(name).fetch_optional(&mut **tx).await?,
        };
        Ok(row.map(checkpoint_of))
    }

    pub(crate) async fn save_checkpoint(&mut self, name: &str, checkpoint: Checkpoint) -> Result<(), sqlx::Error> {
        const UPSERT: &str = "INSERT INTO projection_checkpoints \
             (name, version, commit_tx, sequence, events, updated_at_us) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET version = excluded.version, commit_tx = excluded.commit_tx, \
             sequence = excluded.sequence, events = excluded.events, updated_at_us = excluded.updated_at_us";
        let Checkpoint { position, events, version } = checkpoint;
        let now = Utc::now().timestamp_micros();
        match self {
            Tx::Postgres(tx) => {
                sqlx::query(UPSERT)
                    .bind(name)
                    .bind(version)
                    .bind(position.commit)
                    .bind(position.sequence)
                    .bind(events)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
            Tx::Sqlite(tx) => {
                sqlx::query(UPSERT)
                    .bind(name)
                    .bind(version)
                    .bind(position.commit)
                    .bind(position.sequence)
                    .bind(events)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(tx) => tx.rollback().await,
            Tx::Sqlite(tx) => tx.rollback().await,
        }
    }
}
