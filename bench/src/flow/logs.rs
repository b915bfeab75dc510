//! Reads the services' event logs behind the API: how many events and commits a run left in each, how many
//! documents each application got, and when each event happened (for the event → notification lag).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, SqlitePool};

use super::system::ServiceLog;

pub enum LogPool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

pub struct Log {
    pub service: &'static str,
    pub pool: LogPool,
}

/// What one log holds at a moment: events, writing transactions (PostgreSQL only), inbox marks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub events: i64,
    pub commits: Option<i64>,
    pub inbox_marks: i64,
}

impl Log {
    pub async fn open(log: &ServiceLog) -> anyhow::Result<Self> {
        let pool = if log.url.starts_with("postgres") {
            LogPool::Postgres(sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&log.url).await?)
        } else {
            LogPool::Sqlite(sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&log.url).await?)
        };
        Ok(Self { service: log.service, pool })
    }

    pub async fn counts(&self) -> anyhow::Result<Counts> {
        const EVENTS: &str = "SELECT COUNT(*), COUNT(DISTINCT commit_tx) FROM events";
        const MARKS: &str = "SELECT COUNT(*) FROM processed_events";
        Ok(match &self.pool {
            LogPool::Postgres(pool) => {
                let (events, commits): (i64, i64) = sqlx::query_as(EVENTS).fetch_one(pool).await?;
                let (inbox_marks,): (i64,) = sqlx::query_as(MARKS).fetch_one(pool).await?;
                Counts { events, commits: Some(commits), inbox_marks }
            }
            // SQLite has no transaction id in the row: its commits are not counted.
            LogPool::Sqlite(pool) => {
                let (events, _): (i64, i64) = sqlx::query_as(EVENTS).fetch_one(pool).await?;
                let (inbox_marks,): (i64,) = sqlx::query_as(MARKS).fetch_one(pool).await?;
                Counts { events, commits: None, inbox_marks }
            }
        })
    }

    /// Documents issued per application (receipts left out): the result of each flow must be exactly one.
    pub async fn documents_per_application(&self) -> anyhow::Result<HashMap<String, i64>> {
        let rows: Vec<(Option<String>, i64)> = match &self.pool {
            LogPool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT payload->>'application_id', COUNT(*) FROM events WHERE event_type = 'document.issued' \
                     AND COALESCE(payload->>'receipt', 'false') <> 'true' GROUP BY 1",
                )
                .fetch_all(pool)
                .await?
            }
            LogPool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT json_extract(payload, '$.application_id'), COUNT(*) FROM events \
                     WHERE event_type = 'document.issued' AND COALESCE(json_extract(payload, '$.receipt'), 0) = 0 \
                     GROUP BY 1",
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows.into_iter().filter_map(|(id, n)| Some((id?, n))).collect())
    }

    /// Every event's time, by id.
    pub async fn event_times(&self) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
        Ok(match &self.pool {
            LogPool::Postgres(pool) => {
                let rows: Vec<(uuid::Uuid, DateTime<Utc>)> =
                    sqlx::query_as("SELECT event_id, occurred_at FROM events").fetch_all(pool).await?;
                rows.into_iter().map(|(id, at)| (id.to_string(), at)).collect()
            }
            LogPool::Sqlite(pool) => {
                let rows: Vec<(String, DateTime<Utc>)> =
                    sqlx::query_as("SELECT event_id, occurred_at FROM events").fetch_all(pool).await?;
                rows.into_iter().collect()
            }
        })
    }
}

pub async fn open_all(logs: &[ServiceLog]) -> anyhow::Result<Vec<Log>> {
    let mut opened = Vec::new();
    for log in logs {
        opened.push(Log::open(log).await?);
    }
    Ok(opened)
}

pub async fn counts(logs: &[Log]) -> anyhow::Result<Vec<(&'static str, Counts)>> {
    let mut all = Vec::new();
    for log in logs {
        all.push((log.service, log.counts().await?));
    }
    Ok(all)
}
