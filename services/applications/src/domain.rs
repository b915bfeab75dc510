//! The application aggregate: its life cycle as events, decided and folded without I/O.
//!
//! Saved → Submitted → In work → Completed → Issued, or Refused (staff / an approver) or Withdrawn (the applicant).
//! The service definition is copied into the application when it is created, so later catalog edits do not
//! change what the applicant applied for.

use std::fmt;

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const APPLICATION: &str = "application";
/// One counter stream per organisation and year: its version is the last number given.
pub const NUMBER_COUNTER: &str = "application_number";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Saved,
    Submitted,
    InWork,
    Completed,
    Issued,
    Refused,
    Withdrawn,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Saved => "SAVED",
            Status::Submitted => "SUBMITTED",
            Status::InWork => "IN_WORK",
            Status::Completed => "COMPLETED",
            Status::Issued => "ISSUED",
            Status::Refused => "REFUSED",
            Status::Withdrawn => "WITHDRAWN",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Kk,
    Ru,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStep {
    pub stage: u32,
    pub department: String,
    pub position: String,
    /// Approvals the stage needs: 0 for all of its approvers, 1 for any one, N for a committee.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub required: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RouteStep {
    /// Numbers the catalog's stages (each the approvals it needs and a list of department and position) from 1.
    pub fn from_stages(stages: impl IntoIterator<Item = (u32, Vec<(String, String)>)>) -> Vec<RouteStep> {
        stages
            .into_iter()
            .enumerate()
            .flat_map(|(i, (required, approvers))| {
                approvers.into_iter().map(move |(department, position)| RouteStep {
                    stage: i as u32 + 1,
                    department,
                    position,
                    required,
                })
            })
            .collect()
    }
}

/// What the application copied from the catalog when it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    pub code: String,
    pub version: i64,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    pub route: Vec<RouteStep>,
    /// "certificate_of_study", or empty when the service issues no document.
    pub issues_document: String,
    /// The office (a catalog section code) whose staff execute the service. Fields below were added after the
    /// first release: older copies read them as empty.
    #[serde(default)]
    pub office: String,
    /// The service's average processing time in working hours: the planned completion date counts from it.
    #[serde(default)]
    pub average_processing_hours: u32,
    /// What the applicant attaches; an attachment names its slot by the index in this list.
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    /// The reasons to pick from ("Other" is always possible: free text).
    #[serde(default)]
    pub reasons: Vec<ServiceNames>,
    /// The languages the issued document can be had in (empty when none is issued).
    #[serde(default)]
    pub document_languages: Vec<Language>,
}

/// One document the applicant attaches (several pages may be several files, up to `max_files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredDocument {
    pub name: ServiceNames,
    pub max_files: u32,
    /// False for a document the applicant may attach but need not.
    pub required: bool,
}

impl ServiceSnapshot {
    pub fn name_in(&self, language: Option<Language>) -> &str {
        match language {
            Some(Language::Kk) => &self.name_kk,
            Some(Language::Ru) => &self.name_ru,
            _ => &self.name_en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub service: ServiceSnapshot,
    pub document_language: Option<Language>,
    pub reason: String,
    pub email: String,
    pub phone: String,
}

/// The public `application.submitted` payload (docs/EVENTS.md): what routing and notifications need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub service_code: String,
    pub service_version: i64,
    pub service_name: String,
    pub route: Vec<RouteStep>,
    pub issues_document: String,
    pub document_language: Option<Language>,
    pub email: String,
    /// The service's name in every language, for the receipts documents prints (the form, the acceptance notice).
    #[serde(default)]
    pub service_names: ServiceNames,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceNames {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ApplicationEvent {
    #[serde(rename = "application.created")]
    Created(Created),
    #[serde(rename = "application.submitted")]
    Submitted(Submitted),
    #[serde(rename = "application.work_started")]
    WorkStarted { application_id: Uuid },
    #[serde(rename = "application.completed")]
    Completed { application_id: Uuid },
    #[serde(rename = "application.refused")]
    Refused { application_id: Uuid, reason: String },
    #[serde(rename = "application.issued")]
    Issued { application_id: Uuid, document_id: Uuid, document_number: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CounterEvent {
    #[serde(rename = "application_number.taken")]
    Taken { application_id: Uuid },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub status: Status,
    pub performer: String,
    pub remark: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Application {
    pub created: Option<Created>,
    pub status: Option<Status>,
    pub document: Option<(Uuid, String)>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub history: Vec<HistoryEntry>,
}

impl Aggregate for Application {
    type Event = ApplicationEvent;

    fn apply(&mut self, event: &ApplicationEvent, recorded: &RecordedEvent) {
        let (status, remark) = match event {
            ApplicationEvent::Created(created) => {
                self.created = Some(created.clone());
                self.created_at = Some(recorded.metadata.occurred_at);
                (Status::Saved, String::new())
            }
            ApplicationEvent::Submitted(_) => (Status::Submitted, String::new()),
            ApplicationEvent::WorkStarted { .. } => (Status::InWork, "the approval sheet was opened".into()),
            ApplicationEvent::Completed { .. } => (Status::Completed, "every approval was given".into()),
            ApplicationEvent::Refused { reason, .. } => (Status::Refused, reason.clone()),
            ApplicationEvent::Issued { document_id, document_number, .. } => {
                self.document = Some((*document_id, document_number.clone()));
                (Status::Issued, format!("document {document_number}"))
            }
        };
        self.status = Some(status);
        self.updated_at = Some(recorded.metadata.occurred_at);
        self.history.push(HistoryEntry {
            at: recorded.metadata.occurred_at,
            status,
            performer: recorded.metadata.actor.clone(),
            remark,
        });
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    #[error("the application does not exist")]
    NotFound,
    #[error("the application exists already")]
    AlreadyExists,
    #[error("cannot {action} an application in status {from}")]
    InvalidTransition { from: Status, action: &'static str },
    #[error("invalid fields")]
    Invalid(Vec<(&'static str, String)>),
}

/// Creating a draft.
pub fn create(state: &Application, created: Created) -> Result<Vec<ApplicationEvent>, ApplicationError> {
    if state.created.is_some() {
        return Err(ApplicationError::AlreadyExists);
    }
    Ok(vec![ApplicationEvent::Created(created)])
}

/// Submitting a draft: every missing or invalid field is reported at once.
pub fn submit(state: &Application, agreed_to_terms: bool) -> Result<Vec<ApplicationEvent>, ApplicationError> {
    let (Some(created), Some(status)) = (&state.created, state.status) else { return Err(ApplicationError::NotFound) };
    if status != Status::Saved {
        return Err(ApplicationError::InvalidTransition { from: status, action: "submit" });
    }
    let mut invalid = Vec::new();
    if !agreed_to_terms {
        invalid.push(("agreed_to_terms", "the \"I have read and agree\" box must be ticked".to_owned()));
    }
    if !created.service.issues_document.is_empty() && created.document_language.is_none() {
        invalid.push(("document_language", "is required: the service issues a document".to_owned()));
    }
    if created.email.trim().is_empty() {
        invalid.push(("email", "is required: the result is announced by e-mail".to_owned()));
    }
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    Ok(vec![ApplicationEvent::Submitted(Submitted {
        application_id: created.application_id,
        number: created.number.clone(),
        applicant_id: created.applicant_id,
        applicant_name: created.applicant_name.clone(),
        service_code: created.service.code.clone(),
        service_version: created.service.version,
        service_name: created.service.name_in(created.document_language).to_owned(),
        route: created.service.route.clone(),
        issues_document: created.service.issues_document.clone(),
        document_language: created.document_language,
        email: created.email.clone(),
        service_names: ServiceNames {
            kk: created.service.name_kk.clone(),
            ru: created.service.name_ru.clone(),
            en: created.service.name_en.clone(),
        },
        reason: created.reason.clone(),
    })])
}

/// What happened elsewhere that moves the application on. Reactions tolerate redelivery and arrival out of order
/// (routing's and documents' events come through different consumers): a step already passed is no change.
#[derive(Debug, Clone, PartialEq)]
pub enum Outside {
    SheetOpened,
    SheetApproved,
    SheetRejected { reason: String },
    DocumentIssued { document_id: Uuid, document_number: String },
}

pub fn react(state: &Application, outside: Outside) -> Result<Vec<ApplicationEvent>, ApplicationError> {
    let (Some(created), Some(status)) = (&state.created, state.status) else { return Err(ApplicationError::NotFound) };
    let id = created.application_id;
    let open = matches!(status, Status::Submitted | Status::InWork);
    Ok(match outside {
        Outside::SheetOpened if status == Status::Submitted => {
            vec![ApplicationEvent::WorkStarted { application_id: id }]
        }
        Outside::SheetApproved if open => vec![ApplicationEvent::Completed { application_id: id }],
        Outside::SheetRejected { reason } if open => vec![ApplicationEvent::Refused { application_id: id, reason }],
        Outside::DocumentIssued { document_id, document_number } if open || status == Status::Completed => {
            let mut events = Vec::new();
            if open {
                events.push(ApplicationEvent::Completed { application_id: id });
            }
            events.push(ApplicationEvent::Issued { application_id: id, document_id, document_number });
            events
        }
        _ => Vec::new(),
    })
}

/// "KAZNU-2026-000042": organisation, year, and the year's counter.
pub fn format_number(org: &str, year: i32, sequence: i64) -> String {
    format!("{}-{year}-{sequence:06}", org.to_uppercase())
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::{EventMetadata, OrgId, Position, StreamRef, encode, fold};

    use super::*;

    fn created() -> Created {
        Created {
            application_id: Uuid::now_v7(),
            number: "KAZNU-2026-000001".into(),
            applicant_id: Uuid::now_v7(),
            applicant_name: "Aruzhan Serikova".into(),
            service: ServiceSnapshot {
                code: "certificate-of-study".into(),
                version: 1,
                name_kk: "Оқу туралы анықтама".into(),
                name_ru: "Справка об обучении".into(),
                name_en: "Certificate of study".into(),
                route: vec![RouteStep {
                    stage: 1,
                    department: "registrar".into(),
                    position: "registrar".into(),
                    required: 0,
                }],
                issues_document: "certificate_of_study".into(),
                office: "registrar".into(),
                average_processing_hours: 8,
                required_documents: Vec::new(),
                reasons: Vec::new(),
                document_languages: vec![Language::Kk, Language::Ru, Language::En],
            },
            document_language: Some(Language::Kk),
            reason: String::new(),
            email: "aruzhan@example.kz".into(),
            phone: String::new(),
        }
    }

    /// Applies events the way the store would hand them back, with versions.
    fn given(events: &[ApplicationEvent]) -> Application {
        let org = OrgId::parse("kaznu").expect("org");
        let metadata = EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        };
        let recorded = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let new = encode(e, 1, &metadata).expect("encode");
                RecordedEvent {
                    position: Position { commit: 0, sequence: i as i64 + 1 },
                    id: new.id,
                    stream: StreamRef::new(&org, APPLICATION, "a"),
                    version: i as i64 + 1,
                    event_type: new.event_type,
                    schema_version: 1,
                    payload: new.payload,
                    metadata: new.metadata,
                }
            })
            .collect();
        fold::<Application>(recorded).expect("fold").state
    }

    fn status_after(events: &[ApplicationEvent]) -> Option<Status> {
        given(events).status
    }

    #[test]
    fn the_happy_path_runs_through_every_status() {
        let c = created();
        let mut events = create(&Application::default(), c.clone()).expect("create");
        events.extend(submit(&given(&events), true).expect("submit"));
        events.extend(react(&given(&events), Outside::SheetOpened).expect("opened"));
        events.extend(react(&given(&events), Outside::SheetApproved).expect("approved"));
        let document = Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N-1".into() };
        events.extend(react(&given(&events), document).expect("issued"));
        let state = given(&events);
        assert_eq!(state.status, Some(Status::Issued));
        let statuses: Vec<_> = state.history.iter().map(|h| h.status).collect();
        assert_eq!(statuses, [Status::Saved, Status::Submitted, Status::InWork, Status::Completed, Status::Issued]);
    }

    #[test]
    fn submit_reports_every_invalid_field_at_once() {
        let mut c = created();
        c.document_language = None;
        c.email = " ".into();
        let events = create(&Application::default(), c).expect("create");
        let Err(ApplicationError::Invalid(fields)) = submit(&given(&events), false) else { panic!("expected invalid") };
        let names: Vec<_> = fields.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, ["agreed_to_terms", "document_language", "email"]);
    }

    #[test]
    fn submitting_twice_names_the_current_status() {
        let mut events = create(&Application::default(), created()).expect("create");
        events.extend(submit(&given(&events), true).expect("submit"));
        assert_eq!(
            submit(&given(&events), true),
            Err(ApplicationError::InvalidTransition { from: Status::Submitted, action: "submit" })
        );
    }

    #[test]
    fn reactions_tolerate_redelivery_and_reordering() {
        let mut events = create(&Application::default(), created()).expect("create");
        events.extend(submit(&given(&events), true).expect("submit"));
        // The document arrives before routing's approval: the application completes and is issued at once.
        let document = Outside::DocumentIssued { document_id: Uuid::now_v7(), document_number: "N-1".into() };
        events.extend(react(&given(&events), document.clone()).expect("issued"));
        assert_eq!(status_after(&events), Some(Status::Issued));
        // The late approval, the late opening and the same document again change nothing.
        for late in [Outside::SheetApproved, Outside::SheetOpened, document] {
            assert_eq!(react(&given(&events), late), Ok(Vec::new()));
        }
    }

    #[test]
    fn a_rejection_refuses_with_the_note() {
        let mut events = create(&Application::default(), created()).expect("create");
        events.extend(submit(&given(&events), true).expect("submit"));
        events
            .extend(react(&given(&events), Outside::SheetRejected { reason: "library debt".into() }).expect("refused"));
        let state = given(&events);
        assert_eq!(state.status, Some(Status::Refused));
        assert_eq!(state.history.last().map(|h| h.remark.as_str()), Some("library debt"));
        assert_eq!(react(&state, Outside::SheetApproved), Ok(Vec::new()));
    }

    #[test]
    fn a_missing_application_is_not_found() {
        assert_eq!(submit(&Application::default(), true), Err(ApplicationError::NotFound));
        assert_eq!(react(&Application::default(), Outside::SheetOpened), Err(ApplicationError::NotFound));
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(format_number("kaznu", 2026, 42), "KAZNU-2026-000042");
    }
}
