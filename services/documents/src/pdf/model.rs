//! What a printed document says: the data each template needs, in any of the three languages.
//!
//! Issuing builds one [`Printed`] per language from the events; [`super::render`] lays it out. Empty text fields
//! and `None` values are omitted from the page rather than printed blank.

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Kk,
    Ru,
    En,
}

/// One document as printed: the parts every template shares, and the body of its type.
#[derive(Debug, Clone)]
pub struct Printed {
    pub language: Language,
    /// e.g. "Al-Farabi Kazakh National University"
    pub organisation_name: String,
    /// e.g. "KAZNU-CS-2026-000017"; printed only when `printed_form` is true, always in the PDF's metadata.
    pub registration_number: String,
    /// The paper form shows the number and the QR code, the electronic copy only the QR code (seed rule).
    pub printed_form: bool,
    /// When the document was signed.
    pub issued_at: DateTime<Utc>,
    /// Who signed it; `None` → no signature block.
    pub signed_by: Option<Signatory>,
    /// Encoded in the QR code as is (the signed verification payload).
    pub qr_payload: String,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    CertificateOfStudy(CertificateOfStudy),
    CertificateOfStipend(CertificateOfStipend),
    ClearanceSheet(ClearanceSheet),
    Order(Order),
    ApplicationForm(ApplicationForm),
    AcceptanceNotice(AcceptanceNotice),
}

/// The holder's details from the personal card; empty fields (and course 0) are omitted.
#[derive(Debug, Clone, Default)]
pub struct Holder {
    pub full_name: String,
    pub faculty: String,
    pub specialty: String,
    pub course: u8,
    pub group: String,
}

/// An approval given, as printed in an approvals table.
#[derive(Debug, Clone)]
pub struct Approval {
    pub full_name: String,
    pub position: String,
    pub department: String,
    pub decided_at: DateTime<Utc>,
    /// The approver this one decided for (delegation); empty when they decided for themselves.
    pub acting_for: String,
}

/// The signature block: "Signed electronically: <position> <full name>", with "acting for" when delegated.
#[derive(Debug, Clone)]
pub struct Signatory {
    pub full_name: String,
    pub position: String,
    /// Empty unless a substitute signed.
    pub acting_for: String,
    /// A short fingerprint of the signing key, printed so the signature can be matched to a published key.
    pub key_id: String,
}

/// Справка об обучении / Оқу туралы анықтама / Certificate of study.
#[derive(Debug, Clone)]
pub struct CertificateOfStudy {
    pub holder: Holder,
    /// e.g. "to be presented at the place of demand"; empty → omitted.
    pub purpose: String,
    pub approvals: Vec<Approval>,
}

/// Справка о стипендии / Стипендия туралы анықтама / Certificate of stipend, with the amount paid.
#[derive(Debug, Clone)]
pub struct CertificateOfStipend {
    pub holder: Holder,
    /// e.g. "State educational grant stipend"; empty → omitted. Printed in parentheses after the word "stipend", so
    /// it is given in the nominative.
    pub stipend_name: String,
    /// The monthly amount in tenge (KZT), printed with thousands separators, e.g. "42 000 ₸"/"KZT 42,000".
    pub monthly_amount_tenge: i64,
    /// The period the amount covers; `None` → omitted.
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub purpose: String,
    pub approvals: Vec<Approval>,
}

/// Обходной лист / Айналма парақ / Clearance sheet: every department's decision, a row each.
#[derive(Debug, Clone)]
pub struct ClearanceSheet {
    pub holder: Holder,
    /// Why the sheet was opened, e.g. "graduation", "expulsion", "academic leave"; empty → omitted.
    pub reason: String,
    pub rows: Vec<ClearanceRow>,
}

#[derive(Debug, Clone)]
pub struct ClearanceRow {
    pub department: String,
    pub full_name: String,
    pub position: String,
    pub decision: Decision,
    pub decided_at: Option<DateTime<Utc>>,
    /// The approver's note ("book returned 12.06"); empty → blank cell.
    pub note: String,
    pub acting_for: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Approved,
    Rejected,
}

/// Приказ / Бұйрық / Order, for an academic service (academic leave, transfer, reinstatement ...).
#[derive(Debug, Clone)]
pub struct Order {
    /// What the order is about, e.g. "On granting academic leave"; printed under the title.
    pub subject: String,
    pub holder: Holder,
    /// The operative clause's service, e.g. "academic leave", in lower case and in the form it takes after "to grant":
    /// the accusative in Russian ("академический отпуск"), the nominative in Kazakh ("академиялық демалыс").
    pub service_name: String,
    /// The application the order rests on ("on the basis of the application No. ... of ...").
    pub basis_application_number: String,
    pub basis_submitted_at: Option<DateTime<Utc>>,
    /// The period the order grants, when it has one.
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub approvals: Vec<Approval>,
}

/// Өтініш / Заявление / Application: the printed application form (seed 002's card).
#[derive(Debug, Clone)]
pub struct ApplicationForm {
    /// To whom it is addressed, e.g. "To the Rector of Al-Farabi Kazakh National University", in the dative in Kazakh
    /// and Russian ("Әл-Фараби атындағы ҚазҰУ ректорына", "Ректору КазНУ имени аль-Фараби").
    pub addressee: String,
    pub holder: Holder,
    pub phone: String,
    pub email: String,
    pub application_number: String,
    pub service_name: String,
    /// The reason picked or typed by the applicant.
    pub reason: String,
    /// The statement: the standard template's text or the applicant's own words.
    pub statement: String,
    /// The applicant ticked "I have read and agree" on the standard template.
    pub agreed: bool,
    pub submitted_at: DateTime<Utc>,
}

/// Уведомление о приёме заявления / Өтініштің қабылданғаны туралы хабарлама / Notification of acceptance (seed 003).
#[derive(Debug, Clone)]
pub struct AcceptanceNotice {
    pub holder_full_name: String,
    pub application_number: String,
    pub service_name: String,
    /// When the application was submitted, which is when it was accepted: the notice says "accepted on" this time.
    pub submitted_at: DateTime<Utc>,
    /// When the result is due; `None` → omitted.
    pub planned_completion: Option<DateTime<Utc>>,
    /// The office that accepted it, e.g. "Student service centre"; empty → omitted. In the nominative: it is the
    /// subject of the Kazakh sentence and quoted in the Russian one.
    pub office: String,
}
