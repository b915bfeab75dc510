//! The catalog's reference data: `service/<code>` (every version of a service's passport, with its route),
//! `section/<code>`, `department/<code>` and `calendar/working`. Written by the catalog; read by applications
//! (its copy of each service and of the calendar), routing (its copy of each route and of the calendar) and
//! documents (department names).

use onewindow_calendar::CalendarSettings;
use onewindow_eventlog::EventSchema;
use serde::{Deserialize, Serialize};

use crate::{Language, is_false, is_zero};

pub const SERVICE_DEFINED: &str = "service.defined";
pub const SECTION_DEFINED: &str = "section.defined";
pub const DEPARTMENT_DEFINED: &str = "department.defined";
pub const CALENDAR_ADJUSTED: &str = "calendar.adjusted";

impl EventSchema for CatalogEvent {}
impl EventSchema for SectionEvent {}
impl EventSchema for DepartmentEvent {}
impl EventSchema for CalendarEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Localized {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[default]
    None,
    CertificateOfStudy,
    CertificateOfStipend,
    ClearanceSheet,
    /// An order (приказ) for an academic service: academic leave, return from it.
    Order,
}

impl DocumentKind {
    /// The name `issues_document` carries (`certificate_of_study`), `none` for none.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::CertificateOfStudy => "certificate_of_study",
            Self::CertificateOfStipend => "certificate_of_stipend",
            Self::ClearanceSheet => "clearance_sheet",
            Self::Order => "order",
        }
    }
}

/// An approver named by department and position (routing resolves the people who hold it as it opens a sheet),
/// or a person named outright (`person_id`, an identity user id) within a department.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Approver {
    pub department: String,
    pub position: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<uuid::Uuid>,
}

/// What happens when a stage's time limit passes with approvers silent (the service's passport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum OnSilence {
    /// Nobody's decision is assumed: the department heads are told.
    #[default]
    None,
    /// Silence is consent: undecided rows are deemed approved.
    Approve,
    /// Silence is refusal: undecided rows are deemed rejected (and wait for rework).
    Reject,
}

impl OnSilence {
    pub fn is_none(&self) -> bool {
        *self == OnSilence::None
    }
}

/// Approvers of one stage review in parallel; stages follow one another.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Stage {
    pub approvers: Vec<Approver>,
    /// How many of the approvers must approve: 0 for all of them, 1 for any one, N for a committee's quorum.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub required: u32,
    /// The stage's time limit in working hours of the organisation's calendar; 0 for none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub time_limit_hours: u32,
    #[serde(default, skip_serializing_if = "OnSilence::is_none")]
    pub on_silence: OnSilence,
    /// The final signatory stage (a vice-rector; a dean or chief accountant for certificates): its approvers sign.
    #[serde(default, skip_serializing_if = "is_false")]
    pub signatory: bool,
}

/// When routing opens an application's approval sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum RouteOpensOn {
    /// As the applicant submits it.
    #[default]
    Submitted,
    /// When the service centre accepts it into work (`application.accepted`).
    Accepted,
}

impl RouteOpensOn {
    pub fn is_submitted(&self) -> bool {
        *self == RouteOpensOn::Submitted
    }
}

/// A service's passport (seed 001): what the applicant brings, how long it takes, what it costs, what they get.
/// Fields added after the first release carry `#[serde(default)]`, so earlier `service.defined` events still read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ServiceDefinition {
    /// Stable code, unique in the organisation: `certificate-of-study`.
    pub code: String,
    pub name: Localized,
    /// The office that executes the service (a section code, e.g. `registrar`).
    pub office: String,
    pub route: Vec<Stage>,
    pub issues_document: DocumentKind,
    /// Average processing time in working hours: the planned completion date is computed from it.
    pub average_processing_hours: u32,
    /// Where the service sits in the section tree (the office, or a category under it).
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub description: Localized,
    /// What the applicant does, in order.
    #[serde(default)]
    pub steps: Vec<Localized>,
    #[serde(default)]
    pub standard: Standard,
    /// What the applicant gets (a transcript, a certificate, an order, a letter, ...).
    #[serde(default)]
    pub result: Localized,
    #[serde(default)]
    pub fee: Fee,
    #[serde(default)]
    pub forms: Vec<ServiceForm>,
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    /// Reasons to pick from; "Other" is always offered as well.
    #[serde(default)]
    pub reasons: Vec<Localized>,
    /// The languages the application template exists in.
    #[serde(default)]
    pub template_languages: Vec<Language>,
    /// The languages the issued document can be had in (empty when none is issued).
    #[serde(default)]
    pub document_languages: Vec<Language>,
    /// False while some of the texts are machine translations nobody has reviewed yet.
    #[serde(default = "reviewed")]
    pub translations_reviewed: bool,
    /// When the approval sheet opens: on submission (the default) or when the centre accepts the application.
    #[serde(default, skip_serializing_if = "RouteOpensOn::is_submitted")]
    pub route_opens_on: RouteOpensOn,
}

fn reviewed() -> bool {
    true
}

/// The service standard: the term as the seeds state it, and the limits in minutes where they are given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Standard {
    /// As published, e.g. "10 minutes (1–20 days)".
    pub term: Localized,
    pub max_waiting_minutes: Option<u32>,
    pub max_service_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fee {
    #[default]
    Free,
    /// Paid, in tenge: the duplicate diploma costs 7,500 KZT.
    Paid { amount_kzt: u64 },
    /// Free for some applicants, paid for others (as the seeds list it), with the paid amount when known.
    Mixed { amount_kzt: Option<u64> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum ServiceForm {
    Automated,
    Paper,
    Electronic,
    Oral,
}

/// A document the applicant attaches: one document may have several pages or files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RequiredDocument {
    pub name: Localized,
    #[serde(default = "one")]
    pub max_files: u32,
    #[serde(default = "reviewed")]
    pub required: bool,
}

fn one() -> u32 {
    1
}

/// A node of the section tree: an office, or a category inside one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Section {
    pub code: String,
    pub parent: Option<String>,
    pub name: Localized,
    #[serde(default = "reviewed")]
    pub translations_reviewed: bool,
}

/// A department approval routes can name (the library, a dormitory, the dean's office, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Department {
    pub code: String,
    pub name: Localized,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum SectionEvent {
    #[serde(rename = "section.defined")]
    Defined(Section),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum DepartmentEvent {
    #[serde(rename = "department.defined")]
    Defined(Department),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum CalendarEvent {
    #[serde(rename = "calendar.adjusted")]
    Adjusted(#[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::calendar))] CalendarSettings),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum CatalogEvent {
    /// A new version of the definition (the stream version is the service version).
    #[serde(rename = "service.defined")]
    Defined(ServiceDefinition),
}
