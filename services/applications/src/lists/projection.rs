//! The `application_list` projection: one row per application, folded from the application events.
//!
//! The fold ([`fold`]) is pure and reads only the fields of the public payloads (docs/EVENTS.md) it shows, each
//! tolerant of fields it does not know. A batch loads the rows its events touch in one query, folds in memory and
//! writes the changed rows back in a few multi-row statements: the rebuild of a long log costs about a read of it.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onewindow_eventlog::{Database, RecordedEvent};
use onewindow_projections::{Backend, Projection, ProjectionError, ReadModelDb, Tx};
use serde::Deserialize;
use sqlx::{Postgres, Sqlite};
use uuid::Uuid;

use super::sql::{CREATE_POSTGRES, CREATE_SQLITE, ListRow, ListSql, TABLE};
use crate::domain::APPLICATION;

pub const NAME: &str = "application_list";

/// The application events the list shows something of.
pub const EVENT_TYPES: &[&str] = &[
    "application.created",
    "application.draft_updated",
    "application.draft_deleted",
    "application.submitted",
    "application.accepted",
    "application.executor_assigned",
    "application.planned_date_set",
    "application.work_started",
    "application.approval_recorded",
    "application.completed",
    "application.refused",
    "application.withdrawn",
    "application.commented",
    "application.issued",
];

pub struct ApplicationList;

#[derive(Deserialize)]
struct ServicePayload {
    code: String,
    #[serde(default)]
    name_kk: String,
    #[serde(default)]
    name_ru: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    office: String,
}

#[derive(Deserialize)]
struct CreatedPayload {
    number: String,
    applicant_id: Uuid,
    applicant_name: String,
    service: ServicePayload,
    #[serde(default)]
    planned_at: Option<DateTime<Utc>>,
}

/// `application.draft_updated` and `application.submitted` carry the (re)computed planned date; `submitted` also
/// the office.
#[derive(Deserialize)]
struct PlannedPayload {
    #[serde(default)]
    planned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    office: String,
}

#[derive(Deserialize)]
struct ExecutorPayload {
    executor_id: Uuid,
    executor_name: String,
}

#[derive(Deserialize)]
struct PlannedDateSetPayload {
    planned_at: DateTime<Utc>,
}

/// Applies `event` to the application's row (`None`: a deleted draft, or nothing created yet). The payload is read
/// before anything changes, so an unreadable event leaves the row as it was.
pub fn fold(slot: &mut Option<ListRow>, event: &RecordedEvent) -> Result<(), serde_json::Error> {
    let payload = &event.payload;
    let at = event.metadata.occurred_at.timestamp_micros();
    let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    if event.event_type == "application.created" {
        let created = CreatedPayload::deserialize(payload)?;
        *slot = Some(ListRow {
            id: application_id(event).unwrap_or_default(),
            org_id: event.stream.org.to_string(),
            number: created.number,
            applicant_id: created.applicant_id,
            applicant_name: created.applicant_name,
            service_code: created.service.code,
            service_name_kk: created.service.name_kk,
            service_name_ru: created.service.name_ru,
            service_name_en: created.service.name_en,
            office: created.service.office,
            status: "saved".into(),
            executor_id: None,
            executor_name: String::new(),
            planned_at_us: micros(created.planned_at),
            created_at_us: at,
            submitted_at_us: None,
            updated_at_us: at,
            version: event.version,
        });
        return Ok(());
    }
    let Some(row) = slot else { return Ok(()) };
    match event.event_type.as_str() {
        "application.draft_deleted" => {
            *slot = None;
            return Ok(());
        }
        "application.draft_updated" => row.planned_at_us = micros(PlannedPayload::deserialize(payload)?.planned_at),
        "application.submitted" => {
            let submitted = PlannedPayload::deserialize(payload)?;
            row.status = "submitted".into();
            row.submitted_at_us = Some(at);
            row.planned_at_us = micros(submitted.planned_at);
            if !submitted.office.is_empty() {
                row.office = submitted.office;
            }
        }
        "application.accepted" | "application.executor_assigned" => {
            let executor = ExecutorPayload::deserialize(payload)?;
            row.executor_id = Some(executor.executor_id);
            row.executor_name = executor.executor_name;
            if event.event_type == "application.accepted" {
                row.status = "in_work".into();
            }
        }
        "application.planned_date_set" => {
            row.planned_at_us = Some(PlannedDateSetPayload::deserialize(payload)?.planned_at.timestamp_micros());
        }
        "application.work_started" => row.status = "in_work".into(),
        "application.completed" => row.status = "completed".into(),
        "application.refused" => row.status = "refused".into(),
        "application.withdrawn" => row.status = "withdrawn".into(),
        "application.issued" => row.status = "issued".into(),
        // A decision or a comment changes no column shown, but the application's version and time.
        _ => {}
    }
    row.updated_at_us = at;
    row.version = event.version;
    Ok(())
}

fn application_id(event: &RecordedEvent) -> Option<Uuid> {
    (event.stream.stream_type == APPLICATION).then(|| Uuid::parse_str(&event.stream.stream_id).ok()).flatten()
}

/// What a batch does to the table: rows to write and rows to remove.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub upserts: Vec<ListRow>,
    pub deletes: Vec<Uuid>,
}

/// The applications `events` touch, each once.
pub fn touched(events: &[&RecordedEvent]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = events.iter().filter_map(|e| application_id(e)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Folds a batch over the rows it touches (`existing`, loaded before). An event that cannot be read is logged
/// and passed over: one bad event must not stop every list.
pub fn fold_batch(existing: Vec<ListRow>, events: &[&RecordedEvent]) -> Changes {
    let mut rows: HashMap<Uuid, Option<ListRow>> = existing.into_iter().map(|row| (row.id, Some(row))).collect();
    for event in events {
        let Some(id) = application_id(event) else { continue };
        if let Err(error) = fold(rows.entry(id).or_default(), event) {
            tracing::error!(
                event_id = %event.id,
                event_type = %event.event_type,
                %error,
                "application_list passes over an event it cannot read"
            );
        }
    }
    let mut changes = Changes::default();
    for (id, row) in rows {
        match row {
            Some(row) => changes.upserts.push(row),
            None => changes.deletes.push(id),
        }
    }
    // One order for every writer, so two never wait for each other's rows in a cycle.
    changes.upserts.sort_by_key(|row| row.id);
    changes.deletes.sort_unstable();
    changes
}

#[async_trait]
impl Projection for ApplicationList {
    fn name(&self) -> &'static str {
        NAME
    }

    fn version(&self) -> i64 {
        1
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES
    }

    fn tables(&self) -> &'static [&'static str] {
        &[TABLE]
    }

    fn create_statements(&self, backend: Backend) -> &'static [&'static str] {
        match backend {
            Backend::Postgres => CREATE_POSTGRES,
            Backend::Sqlite => CREATE_SQLITE,
        }
    }

    async fn apply(&self, tx: &mut Tx, events: &[&RecordedEvent]) -> Result<(), ProjectionError> {
        let ids = touched(events);
        if ids.is_empty() {
            return Ok(());
        }
        match tx {
            Tx::Postgres(tx) => {
                let existing = Postgres::load(&mut **tx, &ids).await?;
                let changes = fold_batch(existing, events);
                Postgres::delete(&mut **tx, &changes.deletes).await?;
                Postgres::upsert(&mut **tx, &changes.upserts).await?;
            }
            Tx::Sqlite(tx) => {
                let existing = Sqlite::load(&mut **tx, &ids).await?;
                let changes = fold_batch(existing, events);
                Sqlite::delete(&mut **tx, &changes.deletes).await?;
                Sqlite::upsert(&mut **tx, &changes.upserts).await?;
            }
        }
        Ok(())
    }

    async fn size(&self, db: &ReadModelDb) -> Result<(i64, &'static str), ProjectionError> {
        let count = match db.database() {
            Database::Postgres(pool) => Postgres::count(&mut *pool.acquire().await?).await?,
            Database::Sqlite(pool) => Sqlite::count(&mut *pool.acquire().await?).await?,
        };
        Ok((count, "applications"))
    }
}
