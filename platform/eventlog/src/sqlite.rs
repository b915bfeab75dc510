//! The event log on SQLite: the embedded default, one file per service.

use chrono::Utc;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, sqlite::SqliteRow, types::Json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{Commit, CommitOutcome, OrgId, Position, RecordedEvent, StoreError, StreamRef};

use crate::shared_sql::SELECT_EVENT;

pub struct SqliteEventStore {
    pool: SqlitePool,
    appended: watch::Sender<u64>,
}

impl SqliteEventStore {
    pub async fn new(pool: SqlitePool) -> Result<Self, StoreError> {
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(Self { pool, appended: watch::channel(0).0 })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn uuid(row: &SqliteRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn decode(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    crate::shared_sql::decode_event!(row, uuid)
}

crate::shared_sql::event_store! {
    SqliteEventStore {
        #[tracing::instrument(skip_all, fields(streams = commit.appends.len()), err)]
        async fn commit(&self, commit: Commit) -> Result<CommitOutcome, StoreError> {
            let Some(commit) = commit.normalised() else { return Ok(CommitOutcome::Nothing) };
            // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes gets
            // SQLITE_BUSY at once, ignoring busy_timeout.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let now = Utc::now();

            if let Some(mark) = &commit.inbox {
                let inserted = sqlx::query(
                    "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&mark.consumer)
                .bind(mark.event_id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(CommitOutcome::AlreadyProcessed);
                }
            }

            let versions = crate::shared_sql::claim_stream_versions!(tx, commit);

            if commit.appends.is_empty() {
                // Only the inbox mark: the consumer handled the event with no effect to record.
                tx.commit().await?;
                return Ok(CommitOutcome::Committed { versions });
            }
            let rows = commit
                .appends
                .iter()
                .flat_map(|a| a.events.iter().enumerate().map(move |(i, e)| (a, a.expected_version + 1 + i as i64, e)));
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (event_id, org_id, stream_type, stream_id, version, event_type, schema_version, \
                 occurred_at, actor, correlation_id, causation_id, trace_context, payload) ",
            );
            insert.push_values(rows, |mut row, (append, version, event)| {
                row.push_bind(event.id.to_string())
                    .push_bind(append.stream.org.as_str().to_owned())
                    .push_bind(append.stream.stream_type.clone())
                    .push_bind(append.stream.stream_id.clone())
                    .push_bind(version)
                    .push_bind(event.event_type.clone())
                    .push_bind(event.schema_version)
                    .push_bind(event.metadata.occurred_at)
                    .push_bind(event.metadata.actor.clone())
                    .push_bind(event.metadata.correlation_id.to_string())
                    .push_bind(event.metadata.causation_id.to_string())
                    .push_bind(event.metadata.trace_context.clone())
                    .push_bind(Json(event.payload.clone()));
            });
            insert.build().execute(&mut *tx).await?;
            tx.commit().await?;
            self.appended.send_modify(|n| *n = n.wrapping_add(1));
            Ok(CommitOutcome::Committed { versions })
        }

        async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
            // Writers are serialised, so the sequence is commit order and no horizon is needed.
            let sql = sqlx::AssertSqlSafe(format!("{SELECT_EVENT} WHERE sequence > $1 ORDER BY sequence LIMIT $2"));
            let rows = sqlx::query(sql).bind(after.sequence).bind(limit as i64).fetch_all(&self.pool).await?;
            rows.iter().map(decode).collect()
        }

        async fn save_checkpoint(&self, name: &str, position: Position) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO log_checkpoints (name, commit_tx, sequence, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET commit_tx = excluded.commit_tx, sequence = excluded.sequence, \
                 updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(position.commit)
            .bind(position.sequence)
            .bind(Utc::now())
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        fn appended(&self) -> watch::Receiver<u64> {
            self.appended.subscribe()
        }

        fn database(&self) -> Option<crate::Database> {
            Some(crate::Database::Sqlite(self.pool.clone()))
        }
    }
}
