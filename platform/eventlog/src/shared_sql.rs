//! What the two backends share to the letter: the columns of an event, how a row becomes a
//! [`crate::RecordedEvent`], and the reads whose SQL is the same on PostgreSQL and SQLite. Macros rather than
//! generics over `sqlx::Database`: the bounds would outweigh the code. Each backend's own file keeps what differs
//! (the rest of the commit, `read_all`'s commit order, checkpoints' clock).

pub(crate) const SELECT_EVENT: &str = "SELECT commit_tx, sequence, event_id, org_id, stream_type, stream_id, version, \
     event_type, schema_version, occurred_at, actor, correlation_id, causation_id, trace_context, payload \
     FROM events";

/// A row of `SELECT_EVENT` as a [`crate::RecordedEvent`]; `$uuid(row, column)` reads a UUID column (a native
/// type on PostgreSQL, text on SQLite).
macro_rules! decode_event {
    ($row:expr, $uuid:expr) => {{
        let row = $row;
        let uuid = $uuid;
        let org: String = row.try_get("org_id")?;
        let sqlx::types::Json(payload): sqlx::types::Json<serde_json::Value> = row.try_get("payload")?;
        Ok($crate::RecordedEvent {
            position: $crate::Position { commit: row.try_get("commit_tx")?, sequence: row.try_get("sequence")? },
            id: uuid(row, "event_id")?,
            stream: $crate::StreamRef {
                org: $crate::OrgId::parse(&org).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?,
                stream_type: row.try_get("stream_type")?,
                stream_id: row.try_get("stream_id")?,
            },
            version: row.try_get("version")?,
            event_type: row.try_get("event_type")?,
            schema_version: row.try_get("schema_version")?,
            payload,
            metadata: $crate::EventMetadata {
                occurred_at: row.try_get::<chrono::DateTime<chrono::Utc>, _>("occurred_at")?,
                actor: row.try_get("actor")?,
                correlation_id: uuid(row, "correlation_id")?,
                causation_id: uuid(row, "causation_id")?,
                trace_context: row.try_get("trace_context")?,
            },
        })
    }};
}

/// A backend's `impl EventStore`: the methods it writes itself, and the reads whose SQL both backends share (with
/// its `decode` and `self.pool` in scope). One macro for the whole impl, so `async_trait` sees every method.
macro_rules! event_store {
    ($store:ty { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl $crate::EventStore for $store {
        $($own)*

        async fn read_stream(&self, stream: &StreamRef) -> Result<Vec<RecordedEvent>, StoreError> {
            let sql = sqlx::AssertSqlSafe(format!(
                "{SELECT_EVENT} WHERE org_id = $1 AND stream_type = $2 AND stream_id = $3 ORDER BY version"
            ));
            let rows = sqlx::query(sql)
                .bind(stream.org.as_str())
                .bind(&stream.stream_type)
                .bind(&stream.stream_id)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(decode).collect()
        }

        async fn stream_version(&self, stream: &StreamRef) -> Result<i64, StoreError> {
            let version: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM event_streams WHERE org_id = $1 AND stream_type = $2 AND stream_id = $3",
            )
            .bind(stream.org.as_str())
            .bind(&stream.stream_type)
            .bind(&stream.stream_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(version.unwrap_or(0))
        }

        async fn read_event(&self, stream: &StreamRef, version: i64) -> Result<Option<RecordedEvent>, StoreError> {
            let sql = sqlx::AssertSqlSafe(format!(
                "{SELECT_EVENT} WHERE org_id = $1 AND stream_type = $2 AND stream_id = $3 AND version = $4"
            ));
            let row = sqlx::query(sql)
                .bind(stream.org.as_str())
                .bind(&stream.stream_type)
                .bind(&stream.stream_id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(decode).transpose()
        }

        async fn read_stream_type(&self, org: &OrgId, stream_type: &str) -> Result<Vec<RecordedEvent>, StoreError> {
            let sql = sqlx::AssertSqlSafe(format!(
                "{SELECT_EVENT} WHERE org_id = $1 AND stream_type = $2 ORDER BY stream_id, version"
            ));
            let rows = sqlx::query(sql).bind(org.as_str()).bind(stream_type).fetch_all(&self.pool).await?;
            rows.iter().map(decode).collect()
        }

        async fn list_streams(&self, org: &OrgId, stream_type: &str) -> Result<Vec<String>, StoreError> {
            let ids = sqlx::query_scalar(
                "SELECT stream_id FROM event_streams WHERE org_id = $1 AND stream_type = $2 ORDER BY stream_id",
            )
            .bind(org.as_str())
            .bind(stream_type)
            .fetch_all(&self.pool)
            .await?;
            Ok(ids)
        }

        async fn load_checkpoint(&self, name: &str) -> Result<Position, StoreError> {
            let row: Option<(i64, i64)> =
                sqlx::query_as("SELECT commit_tx, sequence FROM log_checkpoints WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(row.map(|(commit, sequence)| Position { commit, sequence }).unwrap_or_default())
        }
        }
    };
}

/// The per-stream optimistic check of a commit, inside its transaction `$tx`: a conditional write of each
/// stream's row (insert for a new stream, update from the expected version). A concurrent writer of the same stream
/// finds the version moved and writes nothing: `StoreError::Concurrency`. Evaluates to the streams' new versions.
macro_rules! claim_stream_versions {
    ($tx:ident, $commit:expr) => {{
        let mut versions = Vec::with_capacity($commit.appends.len());
        for append in &$commit.appends {
            let s = &append.stream;
            let new_version = append.expected_version + append.events.len() as i64;
            let moved = if append.expected_version == 0 {
                sqlx::query(
                    "INSERT INTO event_streams (org_id, stream_type, stream_id, version) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(s.org.as_str())
                .bind(&s.stream_type)
                .bind(&s.stream_id)
                .bind(new_version)
                .execute(&mut *$tx)
                .await?
            } else {
                sqlx::query(
                    "UPDATE event_streams SET version = $4 \
                     WHERE org_id = $1 AND stream_type = $2 AND stream_id = $3 AND version = $5",
                )
                .bind(s.org.as_str())
                .bind(&s.stream_type)
                .bind(&s.stream_id)
                .bind(new_version)
                .bind(append.expected_version)
                .execute(&mut *$tx)
                .await?
            };
            if moved.rows_affected() == 0 {
                return Err($crate::StoreError::Concurrency { stream: s.clone(), expected: append.expected_version });
            }
            versions.push(new_version);
        }
        versions
    }};
}

pub(crate) use claim_stream_versions;
pub(crate) use decode_event;
pub(crate) use event_store;
