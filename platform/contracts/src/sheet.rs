//! `sheet/<application_id>`: routing's approval sheet, read by applications (opened, each decision, approved),
//! documents (approved: the document is issued) and notifications (decisions, deadline reminders, escalations).

use chrono::{DateTime, NaiveDate, Utc};
use onewindow_eventlog::{EventSchema, UpcastError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Language, is_false, is_zero};

pub const OPENED: &str = "sheet.opened";
pub const ROW_DECIDED: &str = "sheet.row_decided";
pub const REWORK_ANSWERED: &str = "sheet.rework_answered";
pub const DEADLINE_REMINDER: &str = "sheet.deadline_reminder";
pub const DEADLINE_ESCALATED: &str = "sheet.deadline_escalated";
pub const SIGNED: &str = "sheet.signed";
pub const APPROVED: &str = "sheet.approved";
pub const REJECTED: &str = "sheet.rejected";
pub const CLOSED: &str = "sheet.closed";

/// Every type of [`SheetEvent`], in the order of its variants.
pub const EVENT_TYPES: [&str; 9] =
    [OPENED, ROW_DECIDED, REWORK_ANSWERED, DEADLINE_REMINDER, DEADLINE_ESCALATED, SIGNED, APPROVED, REJECTED, CLOSED];

/// Version 2 of `sheet.opened` and `sheet.approved`: the summary's `document_language` is `null` when the service
/// issues no document (version 1 wrote `""`).
pub const SUMMARY_LANGUAGE_OPTIONAL: i32 = 2;

impl EventSchema for SheetEvent {
    fn schema_version(event_type: &str) -> i32 {
        match event_type {
            OPENED | APPROVED => SUMMARY_LANGUAGE_OPTIONAL,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, from: i32, mut payload: Value) -> Result<Value, UpcastError> {
        match (event_type, from) {
            (OPENED | APPROVED, 1) => {
                let Some(fields) = payload.as_object_mut() else {
                    return Err(UpcastError::Unexpected {
                        event_type: event_type.to_owned(),
                        from,
                        problem: "the payload is not an object".into(),
                    });
                };
                if fields.get("document_language").is_some_and(|l| l.as_str() == Some("")) {
                    fields.insert("document_language".into(), Value::Null);
                }
                Ok(payload)
            }
            _ => Err(UpcastError::Missing { event_type: event_type.to_owned(), from }),
        }
    }
}

impl SheetEvent {
    /// The application whose sheet this is.
    pub fn application_id(&self) -> Uuid {
        match self {
            Self::Opened(opened) => opened.application.application_id,
            Self::RowDecided(decided) => decided.application_id,
            Self::ReworkAnswered(answered) => answered.application_id,
            Self::DeadlineReminder(notice) | Self::DeadlineEscalated(notice) => notice.application_id,
            Self::Signed(signature) => signature.application_id,
            Self::Approved(approved) => approved.application.application_id,
            Self::Rejected(rejected) => rejected.application_id,
            Self::Closed(closed) => closed.application_id,
        }
    }
}

/// What the sheet carries of its application, from `application.submitted` through to `sheet.approved`, so that
/// documents can issue the document without asking applications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ApplicationSummary {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub service_code: String,
    pub service_name: String,
    /// The document type issued on approval (`certificate_of_study`), or empty for none.
    pub issues_document: String,
    /// The language the applicant chose for the document; none when the service issues none. Version 1 wrote
    /// `""` for none (upcast to `null`).
    #[serde(default)]
    pub document_language: Option<Language>,
}

/// What happens to a stage's undecided rows when its time limit passes (the service's passport says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum Silence {
    /// Nothing is decided for anyone: the department heads are told instead.
    #[default]
    None,
    /// Silence is consent: the rows are deemed approved.
    Approve,
    /// Silence is refusal: the rows are deemed rejected (and wait for rework like any rejection).
    Reject,
}

impl From<crate::catalog::OnSilence> for Silence {
    fn from(passport: crate::catalog::OnSilence) -> Self {
        match passport {
            crate::catalog::OnSilence::None => Self::None,
            crate::catalog::OnSilence::Approve => Self::Approve,
            crate::catalog::OnSilence::Reject => Self::Reject,
        }
    }
}

impl Silence {
    pub fn is_none(&self) -> bool {
        *self == Silence::None
    }
}

/// One row of a route: the department (and the position in it) that decides at `stage`, and the people who hold
/// that position when the sheet was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct RouteStep {
    /// 1-based; rows of one stage are decided in parallel, stages in order.
    pub stage: i32,
    pub department: String,
    pub position: String,
    /// How many of the stage's approvers must approve: 0 (or absent) for all of them, 1 for any one, N for a
    /// committee's quorum. Every step of a stage carries the same number.
    #[serde(skip_serializing_if = "is_zero")]
    pub required: u32,
    /// The people resolved through identity when the sheet opened (or the person the route names). Empty when
    /// nobody holds the position: then anyone of the department with the approver role decides the row.
    pub approver_ids: Vec<Uuid>,
    /// Their full names, in the order of `approver_ids`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approver_names: Vec<String>,
    /// The stage's time limit in working hours of the organisation's calendar; 0 for none.
    #[serde(skip_serializing_if = "is_zero")]
    pub time_limit_hours: u32,
    #[serde(skip_serializing_if = "Silence::is_none")]
    pub on_silence: Silence,
    /// A signatory's row: signed (`Sign`), with a signature record, rather than approved.
    #[serde(skip_serializing_if = "is_false")]
    pub signatory: bool,
    /// When the stage's time limit ends, where it was known as the sheet opened (the first stage's).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub deadline_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Decision {
    #[serde(rename = "approved")]
    Approve,
    #[serde(rename = "rejected")]
    Reject,
}

/// The events of a sheet, exactly as docs/EVENTS.md lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum SheetEvent {
    #[serde(rename = "sheet.opened")]
    Opened(SheetOpened),
    #[serde(rename = "sheet.row_decided")]
    RowDecided(RowDecided),
    #[serde(rename = "sheet.rework_answered")]
    ReworkAnswered(ReworkAnswered),
    #[serde(rename = "sheet.deadline_reminder")]
    DeadlineReminder(DeadlineNotice),
    #[serde(rename = "sheet.deadline_escalated")]
    DeadlineEscalated(DeadlineNotice),
    #[serde(rename = "sheet.signed")]
    Signed(Signature),
    #[serde(rename = "sheet.approved")]
    Approved(SheetApproved),
    /// No longer emitted (a rejection asks for rework now); sheets rejected before still read.
    #[serde(rename = "sheet.rejected")]
    Rejected(SheetRejected),
    #[serde(rename = "sheet.closed")]
    Closed(SheetClosed),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SheetOpened {
    #[serde(flatten)]
    pub application: ApplicationSummary,
    /// In stage order; `sheet.row_decided` names a row by its index here.
    pub rows: Vec<RouteStep>,
    /// Absent in sheets opened before deadlines: their recorded time stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub opened_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RowDecided {
    pub application_id: Uuid,
    /// 0-based index into the `rows` of `sheet.opened`.
    pub row: u32,
    pub department: String,
    /// "rejected" asks for rework: the sheet stays open.
    pub decision: Decision,
    /// The nil UUID for a deemed decision (nobody decided).
    pub decided_by_id: Uuid,
    pub decided_by_name: String,
    pub decided_by_position: String,
    pub note: String,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub decided_at: DateTime<Utc>,
    /// The approver the decider substitutes for (a delegation), when they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acting_for_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acting_for_name: String,
    /// Decided by the stage's time limit passing (silence is consent, or refusal), not by a person.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deemed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ReworkAnswered {
    pub application_id: Uuid,
    pub row: u32,
    pub comment: String,
    pub answered_by_id: Uuid,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub answered_at: DateTime<Utc>,
}

/// A reminder before a stage's time limit, or an escalation after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DeadlineNotice {
    pub application_id: Uuid,
    pub number: String,
    pub stage: i32,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub deadline_at: DateTime<Utc>,
    /// Whom notifications tells: the pending approvers (a reminder) or the departments' heads (an escalation).
    pub notify: Vec<Uuid>,
}

/// A signatory's signature record: who signed, when, and the SHA-256 of what they signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Signature {
    pub application_id: Uuid,
    pub signed_by_id: Uuid,
    pub signed_by_name: String,
    pub position: String,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub signed_at: DateTime<Utc>,
    /// Lower-case hex SHA-256 of [`SignedContent`] as canonical JSON.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SheetApproved {
    #[serde(flatten)]
    pub application: ApplicationSummary,
    /// One per row approved, in row order: what the issued document prints.
    pub approvals: Vec<Approval>,
    /// The issuing unit whose journal numbers the document; empty for the organisation's journal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issuing_unit: String,
    /// For a certificate of stipend: the stipend as the accountant's decision states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stipend: Option<StipendGiven>,
}

/// A stipend as a certificate of stipend states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct StipendGiven {
    #[serde(default)]
    pub name: String,
    pub monthly_amount_tenge: i64,
    #[serde(default)]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_date))]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_date))]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Approval {
    pub full_name: String,
    pub position: String,
    pub department: String,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub decided_at: DateTime<Utc>,
    /// The approver's note ("books returned"): a clearance sheet prints it.
    #[serde(default)]
    pub note: String,
    /// The full name of the approver the decider substituted for ("acting for").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acting_for: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SheetRejected {
    pub application_id: Uuid,
    pub department: String,
    pub note: String,
    pub decided_by_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SheetClosed {
    pub application_id: Uuid,
    pub reason: String,
}

/// What a signatory signs: the application and the approvals given before them, serialised as JSON with the
/// fields in this order (serde keeps declaration order), so the hash is reproducible from the events.
#[derive(Debug, Serialize)]
pub struct SignedContent<'a> {
    pub application: &'a ApplicationSummary,
    pub approvals: &'a [Approval],
}

impl SignedContent<'_> {
    pub fn sha256(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect()
    }
}
