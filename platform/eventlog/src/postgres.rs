//! The event log on PostgreSQL: the distributed mode's backend.

use sqlx::{PgPool, Postgres, QueryBuilder, Row, postgres::PgRow, types::Json};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{Commit, CommitOutcome, OrgId, Position, RecordedEvent, StoreError, StreamRef};

/// SQLSTATE of a unique violation: another writer got the same stream version first.
const UNIQUE_VIOLATION: &str = "23505";

use crate::shared_sql::SELECT_EVENT;

pub struct PostgresEventStore {
    pool: PgPool,
    appended: watch::Sender<u64>,
}

impl PostgresEventStore {
    /// Wraps a pool, brings the schema up to date, and moves a log restored from another cluster below this
    /// cluster's transaction ids.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        // A service keeps its own tables in the same database with its own migrations.
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        crate::restored::rebase_if_restored(&pool).await?;
        Ok(Self { pool, appended: watch::channel(0).0 })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    crate::shared_sql::decode_event!(row, |row: &PgRow, column: &str| Ok::<Uuid, StoreError>(row.try_get(column)?))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(UNIQUE_VIOLATION))
}

crate::shared_sql::event_store! {
    PostgresEventStore {
        #[tracing::instrument(skip_all, fields(streams = commit.appends.len()), err)]
        async fn commit(&self, commit: Commit) -> Result<CommitOutcome, StoreError> {
            let Some(commit) = commit.normalised() else { return Ok(CommitOutcome::Nothing) };
            let mut tx = self.pool.begin().await?;

            if let Some(mark) = &commit.inbox {
                let inserted = sqlx::query(
                    "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, now()) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&mark.consumer)
                .bind(mark.event_id)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(CommitOutcome::AlreadyProcessed);
                }
            }

            let versions = crate::shared_sql::claim_stream_versions!(tx, commit);

            // Every event of the command in one statement: one round trip, one fsync at commit.
            if commit.appends.is_empty() {
                // Only the inbox mark: the consumer handled the event with no effect to record.
                tx.commit().await?;
                return Ok(CommitOutcome::Committed { versions });
            }
            let rows = commit
                .appends
                .iter()
                .flat_map(|a| a.events.iter().enumerate().map(move |(i, e)| (a, a.expected_version + 1 + i as i64, e)));
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (event_id, org_id, stream_type, stream_id, version, event_type, schema_version, \
                 occurred_at, actor, correlation_id, causation_id, trace_context, payload) ",
            );
            insert.push_values(rows, |mut row, (append, version, event)| {
                row.push_bind(event.id)
                    .push_bind(append.stream.org.as_str().to_owned())
                    .push_bind(append.stream.stream_type.clone())
                    .push_bind(append.stream.stream_id.clone())
                    .push_bind(version)
                    .push_bind(event.event_type.clone())
                    .push_bind(event.schema_version)
                    .push_bind(event.metadata.occurred_at)
                    .push_bind(event.metadata.actor.clone())
                    .push_bind(event.metadata.correlation_id)
                    .push_bind(event.metadata.causation_id)
                    .push_bind(event.metadata.trace_context.clone())
                    .push_bind(Json(event.payload.clone()));
            });
            if let Err(error) = insert.build().execute(&mut *tx).await {
                if is_unique_violation(&error) {
                    let stream = commit.appends[0].stream.clone();
                    return Err(StoreError::Concurrency { stream, expected: commit.appends[0].expected_version });
                }
                return Err(error.into());
            }
            tx.commit().await?;
            self.appended.send_modify(|n| *n = n.wrapping_add(1));
            Ok(CommitOutcome::Committed { versions })
        }

        async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
            // Only transactions older than the oldest one still running are certainly finished: reading below that
            // horizon, in (commit_tx, sequence) order, never passes over an event that is about to commit.
            let sql = sqlx::AssertSqlSafe(format!(
                "{SELECT_EVENT} WHERE (commit_tx, sequence) > ($1, $2) \
                 AND commit_tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                 ORDER BY commit_tx, sequence LIMIT $3"
            ));
            let rows =
                sqlx::query(sql).bind(after.commit).bind(after.sequence).bind(limit as i64).fetch_all(&self.pool).await?;
            rows.iter().map(decode).collect()
        }

        async fn save_checkpoint(&self, name: &str, position: Position) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO log_checkpoints (name, commit_tx, sequence, updated_at) VALUES ($1, $2, $3, now()) \
                 ON CONFLICT (name) DO UPDATE SET commit_tx = excluded.commit_tx, sequence = excluded.sequence, \
                 updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(position.commit)
            .bind(position.sequence)
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        fn appended(&self) -> watch::Receiver<u64> {
            self.appended.subscribe()
        }

        fn database(&self) -> Option<crate::Database> {
            Some(crate::Database::Postgres(self.pool.clone()))
        }
    }
}
