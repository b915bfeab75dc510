//! What an application records: the payloads docs/EVENTS.md publishes. Fields added after the first release are
//! `#[serde(default)]`, so older events still read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Language, ServiceNames, ServiceSnapshot, Status};

/// The applicant block: copied from the personal card when the application is created, read-only afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub planned_at: Option<DateTime<Utc>>,
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
    pub route: Vec<super::RouteStep>,
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
    pub planned_at: Option<DateTime<Utc>>,
}

/// Someone named on an event: staff act under their own name, which the history shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub user_id: Uuid,
    /// "executor" or "approver".
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct ApprovalRecorded {
    pub application_id: Uuid,
    pub department: String,
    pub approved: bool,
    pub decided_by_id: Uuid,
    pub decided_by_name: String,
    #[serde(default)]
    pub acting_for_name: String,
    pub note: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentAuthor {
    Applicant,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ApplicationEvent {
    #[serde(rename = "application.created")]
    Created(Box<Created>),
    #[serde(rename = "application.draft_updated")]
    DraftUpdated {
        application_id: Uuid,
        #[serde(flatten)]
        draft: Draft,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CounterEvent {
    #[serde(rename = "application_number.taken")]
    Taken { application_id: Uuid },
}
