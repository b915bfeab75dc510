//! The `application_list` projection: one row per application, folded from the application events.
//!
//! The fold ([`fold`]) is pure and reads only the fields of the public payloads (docs/EVENTS.md) it shows, each
//! tolerant of fields it does not know. A batch loads the rows its events touch in one query, folds in memory and
//! writes the changed rows back in a few multi-row statements: the rebuild of a long log costs about a read of it.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onewindow_eventlog::{Database, EventCodecError, RecordedEvent, decode};
use onewindow_projections::{Backend, Projection, ProjectionError, ReadModelDb, Tx};
use sqlx::{Postgres, Sqlite};
use uuid::Uuid;

use super::sql::{CREATE_POSTGRES, CREATE_SQLITE, ListRow, ListSql, TABLE};
use crate::{
    delays,
    domain::{APPLICATION, ApplicationEvent, Created},
};

pub const NAME: &str = "application_list";

/// The application events the list shows something of: all of them (each moves the row's version and time); and
/// the delays of `crate::delays`, for the flag.
pub static EVENT_TYPES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let mut types = onewindow_contracts::applications::EVENT_TYPES.to_vec();
    types.extend([delays::RECORDED, delays::CLEARED]);
    types
});

pub struct ApplicationList;

/// Applies `event` to the application's row (`None`: a deleted draft, or nothing created yet). The event is read
/// before anything changes, so an unreadable event leaves the row as it was.
pub fn fold(slot: &mut Option<ListRow>, event: &RecordedEvent) -> Result<(), EventCodecError> {
    let at = event.metadata.occurred_at.timestamp_micros();
    let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    if event.stream.stream_type == delays::DELAY {
        let change = match decode::<delays::DelayEvent>(event)? {
            delays::DelayEvent::Recorded { .. } => 1,
            delays::DelayEvent::Cleared { .. } => -1,
        };
        // Not the application's own event: its version and time stay.
        if let Some(row) = slot {
            row.delayed = (row.delayed + change).max(0);
        }
        return Ok(());
    }
    let application_event = decode::<ApplicationEvent>(event)?;
    if let ApplicationEvent::Created(created) = application_event {
        let Created { number, applicant_id, applicant_name, service, planned_at, .. } = *created;
        *slot = Some(ListRow {
            id: application_id(event).unwrap_or_default(),
            org_id: event.stream.org.to_string(),
            number,
            applicant_id,
            applicant_name,
            service_code: service.code,
            service_name_kk: service.name_kk,
            service_name_ru: service.name_ru,
            service_name_en: service.name_en,
            office: service.office,
            status: "saved".into(),
            executor_id: None,
            executor_name: String::new(),
            planned_at_us: micros(planned_at),
            created_at_us: at,
            submitted_at_us: None,
            updated_at_us: at,
            version: event.version,
            refusal_reason: String::new(),
            delayed: 0,
        });
        return Ok(());
    }
    let Some(row) = slot else { return Ok(()) };
    match application_event {
        ApplicationEvent::DraftDeleted { .. } => {
            *slot = None;
            return Ok(());
        }
        ApplicationEvent::DraftUpdated { planned_at, .. } => row.planned_at_us = micros(planned_at),
        ApplicationEvent::Submitted(submitted) => {
            row.status = "submitted".into();
            row.submitted_at_us = Some(at);
            row.planned_at_us = micros(submitted.planned_at);
            if !submitted.office.is_empty() {
                row.office = submitted.office;
            }
        }
        ApplicationEvent::Accepted { executor_id, executor_name, .. } => {
            row.executor_id = Some(executor_id);
            row.executor_name = executor_name;
            row.status = "in_work".into();
        }
        ApplicationEvent::ExecutorAssigned { executor_id, executor_name, .. } => {
            row.executor_id = Some(executor_id);
            row.executor_name = executor_name;
        }
        ApplicationEvent::PlannedDateSet { planned_at, .. } => row.planned_at_us = Some(planned_at.timestamp_micros()),
        ApplicationEvent::WorkStarted { .. } => row.status = "in_work".into(),
        ApplicationEvent::Completed { .. } => row.status = "completed".into(),
        ApplicationEvent::Refused { reason, .. } => {
            row.status = "refused".into();
            row.refusal_reason = reason;
        }
        ApplicationEvent::Withdrawn(_) => row.status = "withdrawn".into(),
        ApplicationEvent::Issued { .. } => row.status = "issued".into(),
        // A decision or a comment changes no column shown, but the application's version and time.
        ApplicationEvent::Created(_)
        | ApplicationEvent::ApprovalRecorded(_)
        | ApplicationEvent::Commented { .. }
        | ApplicationEvent::FormIssued { .. } => {}
    }
    row.updated_at_us = at;
    row.version = event.version;
    Ok(())
}

fn application_id(event: &RecordedEvent) -> Option<Uuid> {
    let ours = [APPLICATION, delays::DELAY].contains(&event.stream.stream_type.as_str());
    ours.then(|| Uuid::parse_str(&event.stream.stream_id).ok()).flatten()
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

    /// 2: reads `application.form_issued` too, so a row's version is the application's. 3: the refusal reason.
    /// 4: the delays.
    fn version(&self) -> i64 {
        4
    }

    fn event_types(&self) -> &'static [&'static str] {
        EVENT_TYPES.as_slice()
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use onewindow_eventlog::{EventMetadata, OrgId, Position, StreamRef};
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::{ApprovalRecorded, CommentAuthor, Draft, ServiceSnapshot, Submitted, Withdrawn};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, minute, 0).single().expect("time")
    }

    /// The events of one application, numbered as its stream.
    struct History {
        id: Uuid,
        events: Vec<RecordedEvent>,
    }

    impl History {
        fn new() -> Self {
            Self { id: Uuid::now_v7(), events: Vec::new() }
        }

        /// The next event, encoded as applications writes it.
        fn then(self, minute: u32, event: impl FnOnce(Uuid) -> ApplicationEvent) -> Self {
            let event = event(self.id);
            let payload = onewindow_eventlog::encode(&event, &metadata(self.id, minute)).expect("encodes").payload;
            let event_type =
                onewindow_eventlog::encode(&event, &metadata(self.id, minute)).expect("encodes").event_type;
            self.then_raw(&event_type, minute, payload)
        }

        /// The next event as stored, whatever its payload.
        fn then_raw(mut self, event_type: &str, minute: u32, payload: Value) -> Self {
            let version = self.events.len() as i64 + 1;
            self.events.push(RecordedEvent {
                position: Position { commit: 0, sequence: version },
                id: Uuid::now_v7(),
                stream: StreamRef::new(&OrgId::parse("kaznu").expect("org"), APPLICATION, self.id.to_string()),
                version,
                event_type: event_type.into(),
                schema_version: 1,
                payload,
                metadata: metadata(self.id, minute),
            });
            self
        }

        fn row(&self) -> Option<ListRow> {
            let mut row = None;
            for event in &self.events {
                fold(&mut row, event).expect("readable");
            }
            row
        }
    }

    fn metadata(application_id: Uuid, minute: u32) -> EventMetadata {
        EventMetadata {
            occurred_at: at(minute),
            actor: "someone".into(),
            correlation_id: application_id,
            causation_id: Uuid::now_v7(),
            trace_context: None,
        }
    }

    fn created(applicant: Uuid) -> impl FnOnce(Uuid) -> ApplicationEvent {
        move |application_id| {
            ApplicationEvent::Created(Box::new(Created {
                application_id,
                number: "KAZNU-2026-000007".into(),
                applicant_id: applicant,
                applicant_name: "Aruzhan Nurlanova".into(),
                service: ServiceSnapshot {
                    code: "certificate-of-study".into(),
                    version: 3,
                    name_kk: "Оқу туралы анықтама".into(),
                    name_ru: "Справка об обучении".into(),
                    name_en: "Certificate of study".into(),
                    issues_document: "certificate_of_study".into(),
                    office: "registrar".into(),
                    ..ServiceSnapshot::default()
                },
                draft: Draft::default(),
                applicant: Default::default(),
                planned_at: Some(at(50)),
            }))
        }
    }

    fn submitted(office: &str, planned_at: Option<DateTime<Utc>>) -> impl FnOnce(Uuid) -> ApplicationEvent {
        let office = office.to_owned();
        move |application_id| {
            ApplicationEvent::Submitted(Box::new(Submitted {
                application_id,
                number: "KAZNU-2026-000007".into(),
                applicant_id: Uuid::now_v7(),
                applicant_name: "Aruzhan Nurlanova".into(),
                service_code: "certificate-of-study".into(),
                service_version: 3,
                service_name: "Certificate of study".into(),
                route: Vec::new(),
                issues_document: String::new(),
                document_language: None,
                email: String::new(),
                service_names: Default::default(),
                reason: String::new(),
                office,
                planned_at,
            }))
        }
    }

    fn executor(accepted: bool, id: Uuid, name: &str) -> impl FnOnce(Uuid) -> ApplicationEvent {
        let name = name.to_owned();
        move |application_id| {
            let (executor_id, executor_name) = (id, name.clone());
            if accepted {
                ApplicationEvent::Accepted {
                    application_id,
                    executor_id,
                    executor_name,
                    accepted_by_id: id,
                    accepted_by_name: name,
                }
            } else {
                ApplicationEvent::ExecutorAssigned {
                    application_id,
                    executor_id,
                    executor_name,
                    assigned_by_id: id,
                    assigned_by_name: name,
                }
            }
        }
    }

    fn commented(application_id: Uuid) -> ApplicationEvent {
        ApplicationEvent::Commented {
            application_id,
            comment_id: Uuid::now_v7(),
            author_id: Uuid::now_v7(),
            author_name: "Dana Registrar".into(),
            author_role: CommentAuthor::Staff,
            text: "bring your ID card".into(),
        }
    }

    #[test]
    fn a_row_follows_the_application_from_draft_to_issue() {
        let applicant = Uuid::now_v7();
        let executor_id = Uuid::now_v7();
        let history = History::new()
            .then(0, created(applicant))
            .then(1, |application_id| ApplicationEvent::DraftUpdated {
                application_id,
                draft: Draft { reason: "visa".into(), ..Draft::default() },
                planned_at: Some(at(51)),
            })
            .then(2, submitted("student-office", Some(at(52))))
            .then(3, executor(true, executor_id, "Dana Registrar"))
            .then(4, |application_id| ApplicationEvent::PlannedDateSet {
                application_id,
                planned_at: at(59),
                set_by_id: executor_id,
                set_by_name: "Dana Registrar".into(),
                remark: String::new(),
            })
            .then(5, commented);
        let row = history.row().expect("a row");
        assert_eq!(row.id, history.id);
        assert_eq!((row.org_id.as_str(), row.number.as_str()), ("kaznu", "KAZNU-2026-000007"));
        assert_eq!(row.applicant_id, applicant);
        assert_eq!(
            (row.service_code.as_str(), row.service_name_ru.as_str()),
            ("certificate-of-study", "Справка об обучении")
        );
        assert_eq!(row.office, "student-office", "submitted names the office that executes it");
        assert_eq!(row.status, "in_work");
        assert_eq!((row.executor_id, row.executor_name.as_str()), (Some(executor_id), "Dana Registrar"));
        assert_eq!(row.planned_at_us, Some(at(59).timestamp_micros()), "the executor's date replaces the computed");
        assert_eq!(row.created_at_us, at(0).timestamp_micros());
        assert_eq!(row.submitted_at_us, Some(at(2).timestamp_micros()));
        assert_eq!((row.updated_at_us, row.version), (at(5).timestamp_micros(), 6), "a comment is a change too");

        let other = Uuid::now_v7();
        let closed = History { id: history.id, events: history.events.clone() }
            .then(6, executor(false, other, "Aigerim"))
            .then(7, |application_id| ApplicationEvent::WorkStarted {
                application_id,
                approver_ids: Vec::new(),
                opened_at: None,
            })
            .then(8, |application_id| {
                ApplicationEvent::ApprovalRecorded(ApprovalRecorded {
                    application_id,
                    department: "registrar".into(),
                    approved: true,
                    decided_by_id: other,
                    decided_by_name: "Aigerim".into(),
                    acting_for_name: String::new(),
                    note: String::new(),
                    decided_at: at(8),
                })
            })
            .then(9, |application_id| ApplicationEvent::Completed { application_id, completed_by_name: String::new() })
            .then(10, |application_id| ApplicationEvent::Issued {
                application_id,
                document_id: None,
                document_number: "KAZNU-CS-2026-000001".into(),
                issued_by_name: String::new(),
            })
            .row()
            .expect("a row");
        assert_eq!((closed.status.as_str(), closed.executor_id, closed.version), ("issued", Some(other), 11));
    }

    #[test]
    fn a_deleted_draft_leaves_no_row_and_later_events_bring_none_back() {
        let history = History::new()
            .then(0, created(Uuid::now_v7()))
            .then(1, |application_id| ApplicationEvent::DraftDeleted { application_id })
            .then(2, commented);
        assert_eq!(history.row(), None);
        let refused =
            History::new().then(0, created(Uuid::now_v7())).then(1, submitted("", None)).then(2, |application_id| {
                ApplicationEvent::Refused {
                    application_id,
                    reason: "no grounds".into(),
                    refused_by_id: None,
                    refused_by_name: String::new(),
                }
            });
        let row = refused.row().expect("a row");
        assert_eq!((row.status.as_str(), row.office.as_str()), ("refused", "registrar"), "office from the service");
        assert_eq!(row.refusal_reason, "no grounds", "the list shows why it was not fulfilled");
        assert_eq!(row.planned_at_us, None, "a submission without a planned date clears the draft's");
        let withdrawn =
            History::new().then(0, created(Uuid::now_v7())).then(1, submitted("", None)).then(2, |application_id| {
                ApplicationEvent::Withdrawn(Withdrawn {
                    application_id,
                    number: "KAZNU-2026-000007".into(),
                    applicant_id: Uuid::now_v7(),
                    reason: "changed my mind".into(),
                    from_status: crate::domain::Status::Submitted,
                    notify: Vec::new(),
                })
            });
        assert_eq!(withdrawn.row().expect("a row").status, "withdrawn");
    }

    #[test]
    fn a_batch_folds_over_loaded_rows_and_passes_over_an_unreadable_event() {
        let first = History::new().then(0, created(Uuid::now_v7())).then(1, submitted("", None));
        let loaded = first.row().expect("a row");
        let next = History { id: first.id, events: first.events.clone() }
            .then_raw("application.accepted", 2, json!({ "executor_id": "not a uuid", "executor_name": "?" }))
            .then(3, |application_id| ApplicationEvent::WorkStarted {
                application_id,
                approver_ids: Vec::new(),
                opened_at: None,
            });
        let deleted = History::new()
            .then(0, created(Uuid::now_v7()))
            .then(1, |application_id| ApplicationEvent::DraftDeleted { application_id });
        let batch: Vec<&RecordedEvent> = next.events[2..].iter().chain(&deleted.events).collect();
        let changes = fold_batch(vec![loaded.clone()], &batch);
        assert_eq!(changes.deletes, vec![deleted.id]);
        assert_eq!(changes.upserts.len(), 1);
        let row = &changes.upserts[0];
        assert_eq!((row.status.as_str(), row.executor_id, row.version), ("in_work", None, 4), "bad event passed over");
        assert_eq!(touched(&batch), {
            let mut ids = vec![first.id, deleted.id];
            ids.sort_unstable();
            ids
        });
    }

    /// The row says what the aggregate says, after every event of a whole life, however it ends.
    #[test]
    fn the_row_agrees_with_the_aggregate_after_every_event() {
        use crate::domain::{
            Application, ApplicationEvent as E, ApprovalRecorded, CommentAuthor, Created, Draft, ServiceSnapshot,
            Submitted, Withdrawn,
        };
        let applicant = Uuid::now_v7();
        let (dana, aigerim) = (Uuid::now_v7(), Uuid::now_v7());
        let lives = |id: Uuid| -> Vec<Vec<E>> {
            let service = ServiceSnapshot {
                code: "certificate-of-study".into(),
                name_kk: "Оқу туралы анықтама".into(),
                office: "registrar".into(),
                ..ServiceSnapshot::default()
            };
            let created = E::Created(Box::new(Created {
                application_id: id,
                number: "KAZNU-2026-000001".into(),
                applicant_id: applicant,
                applicant_name: "Aruzhan".into(),
                service: service.clone(),
                draft: Draft::default(),
                applicant: Default::default(),
                planned_at: Some(at(40)),
            }));
            let submitted = E::Submitted(Box::new(Submitted {
                application_id: id,
                number: "KAZNU-2026-000001".into(),
                applicant_id: applicant,
                applicant_name: "Aruzhan".into(),
                service_code: service.code.clone(),
                service_version: 1,
                service_name: service.name_kk.clone(),
                route: vec![],
                issues_document: String::new(),
                document_language: None,
                email: String::new(),
                service_names: Default::default(),
                reason: String::new(),
                office: "registrar".into(),
                planned_at: Some(at(45)),
            }));
            let full = vec![
                created.clone(),
                E::DraftUpdated { application_id: id, draft: Draft::default(), planned_at: Some(at(41)) },
                submitted.clone(),
                E::Accepted {
                    application_id: id,
                    executor_id: dana,
                    executor_name: "Dana".into(),
                    accepted_by_id: dana,
                    accepted_by_name: "Dana".into(),
                },
                E::ExecutorAssigned {
                    application_id: id,
                    executor_id: aigerim,
                    executor_name: "Aigerim".into(),
                    assigned_by_id: dana,
                    assigned_by_name: "Dana".into(),
                },
                E::PlannedDateSet {
                    application_id: id,
                    planned_at: at(58),
                    set_by_id: aigerim,
                    set_by_name: "Aigerim".into(),
                    remark: String::new(),
                },
                E::WorkStarted { application_id: id, approver_ids: vec![dana], opened_at: None },
                E::ApprovalRecorded(ApprovalRecorded {
                    application_id: id,
                    department: "registrar".into(),
                    approved: true,
                    decided_by_id: dana,
                    decided_by_name: "Dana".into(),
                    acting_for_name: String::new(),
                    note: String::new(),
                    decided_at: at(20),
                }),
                E::Commented {
                    application_id: id,
                    comment_id: Uuid::now_v7(),
                    author_id: applicant,
                    author_name: "Aruzhan".into(),
                    author_role: CommentAuthor::Applicant,
                    text: "thanks".into(),
                },
                E::Completed { application_id: id, completed_by_name: String::new() },
                E::Issued {
                    application_id: id,
                    document_id: Some(Uuid::now_v7()),
                    document_number: "KAZNU-CS-2026-000001".into(),
                    issued_by_name: String::new(),
                },
            ];
            let withdrawn = vec![
                created.clone(),
                submitted,
                E::Withdrawn(Withdrawn {
                    application_id: id,
                    number: "KAZNU-2026-000001".into(),
                    applicant_id: applicant,
                    reason: "changed my mind".into(),
                    from_status: crate::domain::Status::Submitted,
                    notify: vec![],
                }),
            ];
            let refused = vec![
                created.clone(),
                E::Refused {
                    application_id: id,
                    reason: "no".into(),
                    refused_by_id: None,
                    refused_by_name: String::new(),
                },
            ];
            let deleted = vec![created, E::DraftDeleted { application_id: id }];
            vec![full, withdrawn, refused, deleted]
        };
        let id = Uuid::now_v7();
        for life in lives(id) {
            let mut recorded = Vec::new();
            for (i, event) in life.iter().enumerate() {
                let metadata = EventMetadata {
                    occurred_at: at(i as u32),
                    actor: "someone".into(),
                    correlation_id: id,
                    causation_id: id,
                    trace_context: None,
                };
                let new = onewindow_eventlog::encode(event, &metadata).expect("encoded");
                recorded.push(RecordedEvent {
                    position: Position { commit: 0, sequence: i as i64 + 1 },
                    id: new.id,
                    stream: StreamRef::new(&OrgId::parse("kaznu").expect("org"), APPLICATION, id.to_string()),
                    version: i as i64 + 1,
                    event_type: new.event_type,
                    schema_version: 1,
                    payload: new.payload,
                    metadata,
                });
                let state: Application = onewindow_eventlog::fold(recorded.clone()).expect("folded").state;
                let mut row = None;
                for event in &recorded {
                    fold(&mut row, event).expect("readable");
                }
                let what = &recorded[i].event_type;
                assert_eq!(row.is_some(), state.exists(), "{what}: a row exactly while the application exists");
                let Some(row) = row else { continue };
                let status = serde_json::to_value(state.status.expect("a status")).expect("status");
                assert_eq!(Some(row.status.as_str()), status.as_str(), "{what}: status");
                let executor = state.executor.as_ref().map(|e| (e.id, e.name.clone()));
                let row_executor = row.executor_id.map(|id| (id, row.executor_name.clone()));
                assert_eq!(row_executor, executor, "{what}: executor");
                let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
                assert_eq!(row.planned_at_us, micros(state.planned_at), "{what}: planned date");
                assert_eq!(Some(row.created_at_us), micros(state.created_at), "{what}: created");
                assert_eq!(row.submitted_at_us, micros(state.submitted_at), "{what}: submitted");
                assert_eq!(Some(row.updated_at_us), micros(state.updated_at), "{what}: updated");
                assert_eq!(row.version, i as i64 + 1, "{what}: version");
                assert_eq!(row.office, "registrar");
            }
        }
    }
}
