//! A PostgreSQL log restored into another cluster: its `commit_tx` values are the old cluster's transaction ids.
//!
//! Readers of the whole log stop below the oldest running transaction (`read_all`), so a log whose ids are ahead of
//! this cluster's counter (a `pg_dump` restored into a new server) would read as empty until the counter caught up:
//! relays and projections would stall with no error. On open, such a log is moved down by one offset, in events and
//! in every checkpoint, which keeps their order and every consumer's place in it. A log too long for the room this
//! cluster has is refused with the reason.

use sqlx::{PgPool, Row};

use crate::StoreError;

/// Tables holding log positions (`commit_tx`, `sequence`) beside `events`; a missing one is skipped.
const POSITION_TABLES: &[&str] = &["log_checkpoints", "projection_checkpoints"];

/// Moves the log below this cluster's transaction counter when it is ahead of it; returns by how much.
pub(crate) async fn rebase_if_restored(pool: &PgPool) -> Result<i64, StoreError> {
    // The usual start: the log is this cluster's own, found by one index lookup, and nothing is locked.
    let ahead: bool =
        sqlx::query_scalar("SELECT coalesce(max(commit_tx) >= pg_current_xact_id()::text::bigint, false) FROM events")
            .fetch_one(pool)
            .await?;
    if !ahead {
        return Ok(0);
    }
    let mut tx = pool.begin().await?;
    // Writers wait (their default commit_tx would be this cluster's id anyway); readers may go on.
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE").execute(&mut *tx).await?;
    let row = sqlx::query(
        "SELECT min(commit_tx) AS low, max(commit_tx) AS high, pg_current_xact_id()::text::bigint AS now FROM events",
    )
    .fetch_one(&mut *tx)
    .await?;
    let (low, high, now): (Option<i64>, Option<i64>, i64) =
        (row.try_get("low")?, row.try_get("high")?, row.try_get("now")?);
    let (Some(low), Some(high)) = (low, high) else { return Ok(0) };
    if high < now {
        return Ok(0);
    }
    // Positions start at 1 (0 is the start of the log), and the highest must stay below this transaction's id.
    let offset = low - 1;
    if high - offset >= now {
        return Err(StoreError::Corrupt(format!(
            "the log was restored from another PostgreSQL cluster: its transaction ids reach {high}, this cluster is \
             at {now} and the log spans {} ids; restore it into a cluster whose counter is past {} (or with \
             pg_upgrade / a base backup, which keep the ids)",
            high - low + 1,
            high - low + 1
        )));
    }
    sqlx::query("UPDATE events SET commit_tx = commit_tx - $1").bind(offset).execute(&mut *tx).await?;
    for table in POSITION_TABLES {
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(&mut *tx).await?;
        if exists {
            let shift = format!("UPDATE {table} SET commit_tx = commit_tx - $1 WHERE commit_tx > $1");
            sqlx::query(sqlx::AssertSqlSafe(shift)).bind(offset).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    tracing::warn!(offset, from = high, now, "the event log came from another cluster: its positions were moved down");
    Ok(offset)
}
