//! `application/<application_id>`: the application's life cycle, written by applications, read by routing
//! (submitted, accepted, withdrawn, refused), documents (submitted: the receipts), notifications (every status
//! change) and applications' own read models.

use std::fmt;

use chrono::{DateTime, Utc};
use onewindow_eventlog::EventSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Language, is_zero};

pub const CREATED: &str = "application.created";
pub const DRAFT_UPDATED: &str = "application.draft_updated";
pub const DRAFT_DELETED: &str = "application.draft_deleted";
pub const SUBMITTED: &str = "application.submitted";
pub const ACCEPTED: &str = "application.accepted";
pub const EXECUTOR_ASSIGNED: &str = "application.executor_assigned";
pub const PLANNED_DATE_SET: &str = "application.planned_date_set";
pub const WORK_STARTED: &str = "application.work_started";
pub const APPROVAL_RECORDED: &str = "application.approval_recorded";
pub const COMPLETED: &str = "application.completed";
pub const REFUSED: &str = "application.refused";
pub const WITHDRAWN: &str = "application.withdrawn";
pub const COMMENTED: &str = "application.commented";
pub const FORM_ISSUED: &str = "application.form_issued";
pub const ISSUED: &str = "application.issued";

/// Every type of [`ApplicationEvent`], in the order of its variants.
pub const EVENT_TYPES: [&str; 15] = [
    CREATED,
    DRAFT_UPDATED,
    DRAFT_DELETED,
    SUBMITTED,
    ACCEPTED,
    EXECUTOR_ASSIGNED,
    PLANNED_DATE_SET,
    WORK_STARTED,
    APPROVAL_RECORDED,
    COMPLETED,
    REFUSED,
    WITHDRAWN,
    COMMENTED,
    FORM_ISSUED,
    ISSUED,
];

/// Every application event is at its first schema version: fields were only ever added, with defaults.
impl EventSchema for ApplicationEvent {}

impl ApplicationEvent {
    /// The application every event of the stream is about.
    pub fn application_id(&self) -> Uuid {
        match self {
            Self::Created(created) => created.application_id,
            Self::Submitted(submitted) => submitted.application_id,
            Self::Withdrawn(withdrawn) => withdrawn.application_id,
            Self::ApprovalRecorded(recorded) => recorded.application_id,
            Self::DraftUpdated { application_id, .. }
            | Self::DraftDeleted { application_id }
            | Self::Accepted { application_id, .. }
            | Self::ExecutorAssigned { application_id, .. }
            | Self::PlannedDateSet { application_id, .. }
            | Self::WorkStarted { application_id, .. }
            | Self::Completed { application_id, .. }
            | Self::Refused { application_id, .. }
            | Self::Commented { application_id, .. }
            | Self::FormIssued { application_id, .. }
            | Self::Issued { application_id, .. } => *application_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RouteStep {
    pub stage: u32,
    pub department: String,
    pub position: String,
    /// Approvals the stage needs: 0 for all of its approvers, 1 for any one, N for a committee.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub required: u32,
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
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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

/// A text in each of the three languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ServiceNames {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl ServiceNames {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Kk => &self.kk,
            Language::Ru => &self.ru,
            Language::En => &self.en,
        }
    }
}

/// The applicant block: copied from the personal card when the application is created, read-only afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct ApplicantBlock {
    pub surname: String,
    pub name: String,
    pub patronymic: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    pub iin: String,
    /// "ID card No. 045678123, issued 2021-05-04 by the Ministry of Internal Affairs", or empty.
    pub identity_document: String,
    pub faculty: String,
    pub specialty: String,
    pub course: u32,
    pub group: String,
    pub address: String,
    /// The card's phone and e-mail, shown beside the application's own.
    pub phone: String,
    pub email: String,
}

/// What the applicant edits while the application is a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Draft {
    pub document_language: Option<Language>,
    /// The index of the picked preset reason in the service's list, or none for "Other".
    #[serde(default)]
    pub reason_preset: Option<u32>,
    /// The reason's text: a picked preset's text is copied here and stays editable.
    pub reason: String,
    /// Contacts for this application only; the personal card is not changed.
    pub email: String,
    pub phone: String,
    /// The attachment holding the applicant's own statement, used instead of the standard template.
    #[serde(default)]
    pub own_statement: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Created {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub service: ServiceSnapshot,
    #[serde(flatten)]
    pub draft: Draft,
    #[serde(default)]
    pub applicant: ApplicantBlock,
    /// Save time plus the service's average processing time, in working hours.
    #[serde(default)]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub planned_at: Option<DateTime<Utc>>,
}

/// The public `application.submitted` payload (docs/EVENTS.md): what routing and notifications need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
    /// The office that executes the service.
    #[serde(default)]
    pub office: String,
    /// Submit time plus the service's average processing time, in working hours.
    #[serde(default)]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub planned_at: Option<DateTime<Utc>>,
}

/// Someone named on an event: staff act under their own name, which the history shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Recipient {
    pub user_id: Uuid,
    /// "executor" or "approver".
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Withdrawn {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub reason: String,
    pub from_status: Status,
    /// Who must be told: the executor and every approver on the sheet (none when withdrawn before work began).
    pub notify: Vec<Recipient>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ApprovalRecorded {
    pub application_id: Uuid,
    pub department: String,
    pub approved: bool,
    pub decided_by_id: Uuid,
    pub decided_by_name: String,
    #[serde(default)]
    pub acting_for_name: String,
    pub note: String,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum CommentAuthor {
    Applicant,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum ApplicationEvent {
    #[serde(rename = "application.created")]
    Created(Box<Created>),
    #[serde(rename = "application.draft_updated")]
    DraftUpdated {
        application_id: Uuid,
        #[serde(flatten)]
        draft: Draft,
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
        planned_at: Option<DateTime<Utc>>,
    },
    /// The draft was deleted at the applicant's request: it is gone from every list, its files are removed.
    #[serde(rename = "application.draft_deleted")]
    DraftDeleted { application_id: Uuid },
    #[serde(rename = "application.submitted")]
    Submitted(Box<Submitted>),
    /// Staff took the application into work, naming its executor.
    #[serde(rename = "application.accepted")]
    Accepted {
        application_id: Uuid,
        executor_id: Uuid,
        executor_name: String,
        accepted_by_id: Uuid,
        accepted_by_name: String,
    },
    #[serde(rename = "application.executor_assigned")]
    ExecutorAssigned {
        application_id: Uuid,
        executor_id: Uuid,
        executor_name: String,
        assigned_by_id: Uuid,
        assigned_by_name: String,
    },
    #[serde(rename = "application.planned_date_set")]
    PlannedDateSet {
        application_id: Uuid,
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
        planned_at: DateTime<Utc>,
        set_by_id: Uuid,
        set_by_name: String,
        #[serde(default)]
        remark: String,
    },
    /// The approval sheet opened (routing): the application is in work, these people decide on it.
    #[serde(rename = "application.work_started")]
    WorkStarted {
        application_id: Uuid,
        #[serde(default)]
        approver_ids: Vec<Uuid>,
        /// When routing opened the sheet (the history places the line there, before the decisions on it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
        opened_at: Option<DateTime<Utc>>,
    },
    /// An approver's decision, copied from routing for the history ("approved / not approved").
    #[serde(rename = "application.approval_recorded")]
    ApprovalRecorded(ApprovalRecorded),
    #[serde(rename = "application.completed")]
    Completed {
        application_id: Uuid,
        /// Staff who completed it; none when every approval completed it.
        #[serde(default)]
        completed_by_name: String,
    },
    #[serde(rename = "application.refused")]
    Refused {
        application_id: Uuid,
        reason: String,
        #[serde(default)]
        refused_by_id: Option<Uuid>,
        #[serde(default)]
        refused_by_name: String,
    },
    #[serde(rename = "application.withdrawn")]
    Withdrawn(Withdrawn),
    #[serde(rename = "application.commented")]
    Commented {
        application_id: Uuid,
        comment_id: Uuid,
        author_id: Uuid,
        author_name: String,
        author_role: CommentAuthor,
        text: String,
    },
    /// The documents service issued the printed application form (a receipt of the submission): what printing
    /// the application serves.
    #[serde(rename = "application.form_issued")]
    FormIssued { application_id: Uuid, document_id: Uuid, registration_number: String },
    /// Handed over: with the issued document, or by staff for a service that issues none.
    #[serde(rename = "application.issued")]
    Issued {
        application_id: Uuid,
        #[serde(default)]
        document_id: Option<Uuid>,
        #[serde(default)]
        document_number: String,
        #[serde(default)]
        issued_by_name: String,
    },
}
