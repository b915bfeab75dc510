//! Issued documents and the registration journal, as events: pure decisions and folding, no I/O.
//!
//! Every issued document gets the next number of its journal: one per organisation (or issuing unit), document
//! type and year (`journal/CS-2026`, `journal/FIT.CS-2026`). Entry `v` of the journal stream is number `v` (after a
//! paper journal's last number when one is continued), and the append is guarded by the version the number was
//! computed from, so two issuers can never take the same number and none is skipped; a number used without a
//! document is voided with a reason. Documents are issued, revoked and reissued as events.

use std::fmt;

use onewindow_auth::{Principal, Role};
use onewindow_eventlog::{Aggregate, OrgId, RecordedEvent, StreamRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DOCUMENT: &str = "document";
pub const JOURNAL: &str = "journal";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("documents of type {0:?} cannot be issued")]
    UnknownKind(String),
    #[error("{0:?} is not a document language: kk, ru or en")]
    UnknownLanguage(String),
    #[error("a registration number looks like KAZNU-CS-2026-000017")]
    InvalidRegistrationNumber,
    #[error("no such document")]
    NotFound,
    #[error("only the holder and the service centre's staff may read this document")]
    NotAllowed,
    #[error("the document is already issued")]
    AlreadyIssued,
    #[error("{0:?} is not an issuing unit: up to 16 letters and digits, e.g. FIT")]
    InvalidUnit(String),
    #[error("the last number of the paper journal must be 1 or more")]
    InvalidPaperNumber,
    #[error(
        "the journal has entries already (its next number is {next_number}): only a new journal continues a paper one"
    )]
    JournalStarted { next_number: i64 },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the document is {0:?}: only a valid document can be changed so")]
    NotValid(Status),
}

pub use onewindow_contracts::{Language, documents::*};

/// `kk`, `ru` or `en` (any case), or the error that names what was given.
pub fn parse_language(value: &str) -> Result<Language, DocumentError> {
    Language::parse(value).ok_or_else(|| DocumentError::UnknownLanguage(value.to_owned()))
}

/// The kind of an issued document, from the catalog name it records.
pub fn kind_of(issued: &Issued) -> Result<DocumentKind, DocumentError> {
    DocumentKind::parse(&issued.document_type)
}

/// What kind of document is issued; each kind has its own journal and number code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    CertificateOfStudy,
    CertificateOfStipend,
    ClearanceSheet,
    Order,
    ApplicationForm,
    AcceptanceNotice,
}

impl DocumentKind {
    pub const ALL: [Self; 6] = [
        Self::CertificateOfStudy,
        Self::CertificateOfStipend,
        Self::ClearanceSheet,
        Self::Order,
        Self::ApplicationForm,
        Self::AcceptanceNotice,
    ];

    /// The catalog's name of the kind, as carried by `issues_document`.
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| DocumentError::UnknownKind(value.to_owned()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CertificateOfStudy => "certificate_of_study",
            Self::CertificateOfStipend => "certificate_of_stipend",
            Self::ClearanceSheet => "clearance_sheet",
            Self::Order => "order",
            Self::ApplicationForm => "application_form",
            Self::AcceptanceNotice => "acceptance_notice",
        }
    }

    /// The kind's code in registration numbers and journal names.
    pub fn code(self) -> &'static str {
        match self {
            Self::CertificateOfStudy => "CS",
            Self::CertificateOfStipend => "ST",
            Self::ClearanceSheet => "CL",
            Self::Order => "OR",
            Self::ApplicationForm => "AF",
            Self::AcceptanceNotice => "AN",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        let code = code.to_ascii_uppercase();
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// Receipts (the application form, the notification of acceptance) are issued at submission; the others are
    /// the result the applicant came for.
    pub fn is_receipt(self) -> bool {
        matches!(self, Self::ApplicationForm | Self::AcceptanceNotice)
    }

    pub fn title(self, language: Language) -> &'static str {
        use Language::{En, Kk, Ru};
        match (self, language) {
            (Self::CertificateOfStudy, Kk) => "Оқу туралы анықтама",
            (Self::CertificateOfStudy, Ru) => "Справка об обучении",
            (Self::CertificateOfStudy, En) => "Certificate of study",
            (Self::CertificateOfStipend, Kk) => "Стипендия туралы анықтама",
            (Self::CertificateOfStipend, Ru) => "Справка о стипендии",
            (Self::CertificateOfStipend, En) => "Certificate of stipend",
            (Self::ClearanceSheet, Kk) => "Айналма парақ",
            (Self::ClearanceSheet, Ru) => "Обходной лист",
            (Self::ClearanceSheet, En) => "Clearance sheet",
            (Self::Order, Kk) => "Бұйрық",
            (Self::Order, Ru) => "Приказ",
            (Self::Order, En) => "Order",
            (Self::ApplicationForm, Kk) => "Өтініш",
            (Self::ApplicationForm, Ru) => "Заявление",
            (Self::ApplicationForm, En) => "Application",
            (Self::AcceptanceNotice, Kk) => "Өтініштің қабылданғаны туралы хабарлама",
            (Self::AcceptanceNotice, Ru) => "Уведомление о приёме заявления",
            (Self::AcceptanceNotice, En) => "Notification of acceptance",
        }
    }
}

/// An issuing unit inside an organisation (a faculty's dean's office, the service centre) that keeps its own
/// journals: an upper-case code of letters and digits, e.g. `FIT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit(String);

impl Unit {
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        let code = value.trim().to_ascii_uppercase();
        let valid = !code.is_empty() && code.len() <= 16 && code.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid { Ok(Self(code)) } else { Err(DocumentError::InvalidUnit(value.to_owned())) }
    }

    /// No unit (an empty text) is the organisation's own journal.
    pub fn parse_optional(value: &str) -> Result<Option<Self>, DocumentError> {
        if value.trim().is_empty() { Ok(None) } else { Self::parse(value).map(Some) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which journal a number belongs to: one per issuing unit, kind and year, so numbering restarts every year.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JournalKey {
    pub unit: Option<Unit>,
    pub kind: DocumentKind,
    pub year: i32,
}

impl JournalKey {
    /// The journal stream's id: `CS-2026`, or `FIT.CS-2026` for a unit's journal.
    pub fn stream_id(&self) -> String {
        match &self.unit {
            Some(unit) => format!("{}.{}-{}", unit.as_str(), self.kind.code(), self.year),
            None => format!("{}-{}", self.kind.code(), self.year),
        }
    }

    pub fn stream(&self, org: &OrgId) -> StreamRef {
        StreamRef::new(org, JOURNAL, self.stream_id())
    }
}

/// A number in a document journal: `KAZNU-CS-2026-000017`, or `KAZNU/FIT-CS-2026-000017` for a unit's journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationNumber {
    pub org: OrgId,
    pub journal: JournalKey,
    pub number: i64,
}

impl RegistrationNumber {
    /// Reads a number as printed; case does not matter. Organisation ids may contain '-', so the fixed parts are
    /// taken from the right.
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        let invalid = || DocumentError::InvalidRegistrationNumber;
        let mut parts = value.trim().rsplitn(4, '-');
        let (Some(number), Some(year), Some(code), Some(issuer)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(number) || number.len() > 12 || year.len() != 4 || !digits(year) {
            return Err(invalid());
        }
        let number: i64 = number.parse().map_err(|_| invalid())?;
        if number < 1 {
            return Err(invalid());
        }
        let (org, unit) = match issuer.split_once('/') {
            Some((org, unit)) => (org, Some(Unit::parse(unit).map_err(|_| invalid())?)),
            None => (issuer, None),
        };
        Ok(Self {
            org: OrgId::parse(&org.to_ascii_lowercase()).map_err(|_| invalid())?,
            journal: JournalKey {
                unit,
                kind: DocumentKind::from_code(code).ok_or_else(invalid)?,
                year: year.parse().map_err(|_| invalid())?,
            },
            number,
        })
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.org.as_str().to_uppercase())?;
        if let Some(unit) = &self.journal.unit {
            write!(f, "/{}", unit.as_str())?;
        }
        write!(f, "-{}-{}-{:06}", self.journal.kind.code(), self.journal.year, self.number)
    }
}

/// The id of the document issued for an application: derived, so a redelivered approval finds the document it
/// already caused instead of issuing a second one.
pub fn document_id(org: &OrgId, application_id: &str, kind: DocumentKind) -> Uuid {
    name_based_id(format!("{org}/{application_id}/{}", kind.as_str()).as_bytes())
}

/// A name-based UUID: SHA-256 of the OID namespace and the name, as a version 8 UUID (RFC 9562, appendix B.2).
/// Version 5 would need SHA-1, which the workspace's `uuid` is built without.
pub fn name_based_id(name: &[u8]) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(Uuid::NAMESPACE_OID.as_bytes());
    hasher.update(name);
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The hex SHA-256 of a PDF, as recorded in `document.issued`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of an organisation as printed on its documents.
pub fn organisation_name(org: &OrgId) -> String {
    match org.as_str() {
        "kaznu" => "Al-Farabi Kazakh National University".into(),
        "kaznmu" => "Asfendiyarov Kazakh National Medical University".into(),
        other => other.into(),
    }
}

/// The holder's name as the public verification shows it: the first name, then initials ("Aruzhan S*** N***").
pub fn mask_name(full_name: &str) -> String {
    let mut words = full_name.split_whitespace();
    let Some(first) = words.next() else { return String::new() };
    let mut masked = first.to_owned();
    for word in words {
        masked.push(' ');
        masked.extend(word.chars().next());
        masked.push_str("***");
    }
    masked
}

// ---------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------

/// A journal's entries. Each entry uses one number, and entry `v` of the stream is number `offset + v`, so a
/// number's entry is read directly, and numbers can neither repeat nor be skipped silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum JournalEvent {
    #[serde(rename = "journal.number_taken")]
    NumberTaken { document_id: Uuid, number: i64 },
    /// The journal continues a paper journal whose last number was `last_paper_number`: only as its first entry.
    #[serde(rename = "journal.continued_from_paper")]
    ContinuedFromPaper { last_paper_number: i64, note: String },
    /// A number used without a document (a spoiled paper form, a number given out by hand during an outage):
    /// the gap is explained.
    #[serde(rename = "journal.number_voided")]
    NumberVoided { number: i64, reason: String },
}

impl onewindow_eventlog::EventSchema for JournalEvent {}

/// Where a journal's numbering stands: read from its version and its first entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JournalPosition {
    pub version: i64,
    /// The last paper number when the journal continues a paper one.
    pub last_paper_number: Option<i64>,
}

impl JournalPosition {
    /// Numbers before the first entry: the paper journal's last number less the entry that records it.
    fn offset(self) -> i64 {
        self.last_paper_number.map_or(0, |last| last - 1)
    }

    pub fn next_number(self) -> i64 {
        self.offset() + self.version + 1
    }

    /// The stream version holding `number`'s entry, if the journal has reached it.
    pub fn version_of(self, number: i64) -> Option<i64> {
        let version = number - self.offset();
        let paper = self.last_paper_number.is_some_and(|last| number <= last);
        (version >= 1 && version <= self.version && !paper).then_some(version)
    }
}

/// The first entry of a journal tells whether it continues a paper journal.
pub fn last_paper_number(first: Option<&JournalEvent>) -> Option<i64> {
    match first {
        Some(JournalEvent::ContinuedFromPaper { last_paper_number, .. }) => Some(*last_paper_number),
        _ => None,
    }
}

/// Takes the next number of a journal for a document.
pub fn take_number(position: JournalPosition, document_id: Uuid) -> JournalEvent {
    JournalEvent::NumberTaken { document_id, number: position.next_number() }
}

/// Decides continuing a paper journal: only a journal with no entries yet can, from a positive number.
pub fn continue_from_paper(
    position: JournalPosition,
    last_paper_number: i64,
    note: &str,
) -> Result<JournalEvent, DocumentError> {
    if last_paper_number < 1 {
        return Err(DocumentError::InvalidPaperNumber);
    }
    if position.version > 0 {
        return Err(DocumentError::JournalStarted { next_number: position.next_number() });
    }
    Ok(JournalEvent::ContinuedFromPaper { last_paper_number, note: note.trim().to_owned() })
}

/// Decides voiding the journal's next number, with the reason that explains the gap.
pub fn void_next_number(position: JournalPosition, reason: &str) -> Result<JournalEvent, DocumentError> {
    if reason.trim().is_empty() {
        return Err(DocumentError::ReasonRequired);
    }
    Ok(JournalEvent::NumberVoided { number: position.next_number(), reason: reason.trim().to_owned() })
}

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub issued: Option<Issued>,
    pub revoked: Option<String>,
    pub replaced_by: Option<(Uuid, String)>,
}

impl Document {
    pub fn status(&self) -> Status {
        match (&self.revoked, &self.replaced_by) {
            (_, Some(_)) => Status::Reissued,
            (Some(_), None) => Status::Revoked,
            (None, None) => Status::Valid,
        }
    }
}

impl Aggregate for Document {
    type Event = DocumentEvent;

    fn apply(&mut self, event: &DocumentEvent, _: &RecordedEvent) {
        match event {
            DocumentEvent::Issued(issued) => self.issued = Some(issued.as_ref().clone()),
            DocumentEvent::Revoked { reason, .. } => self.revoked = Some(reason.clone()),
            DocumentEvent::Reissued { replaced_by, replaced_by_number, .. } => {
                self.replaced_by = Some((*replaced_by, replaced_by_number.clone()));
            }
        }
    }
}

/// Decides an issue: a document is issued once.
pub fn issue(existing: &Document, issued: Issued) -> Result<Vec<DocumentEvent>, DocumentError> {
    if existing.issued.is_some() {
        return Err(DocumentError::AlreadyIssued);
    }
    Ok(vec![DocumentEvent::Issued(Box::new(issued))])
}

/// Decides a revocation: only a valid document can be revoked, and the reason is recorded.
pub fn revoke(document: &Document, reason: &str, revoked_by: &str) -> Result<Vec<DocumentEvent>, DocumentError> {
    let issued = document.issued.as_ref().ok_or(DocumentError::NotFound)?;
    if reason.trim().is_empty() {
        return Err(DocumentError::ReasonRequired);
    }
    if document.status() != Status::Valid {
        return Err(DocumentError::NotValid(document.status()));
    }
    Ok(vec![DocumentEvent::Revoked {
        document_id: issued.document_id,
        reason: reason.trim().to_owned(),
        revoked_by: revoked_by.to_owned(),
    }])
}

/// Decides a reissue: the old document (valid or revoked, never already replaced) points to the new one.
pub fn reissue(
    document: &Document,
    replaced_by: Uuid,
    replaced_by_number: &str,
    reason: &str,
) -> Result<Vec<DocumentEvent>, DocumentError> {
    let issued = document.issued.as_ref().ok_or(DocumentError::NotFound)?;
    if reason.trim().is_empty() {
        return Err(DocumentError::ReasonRequired);
    }
    if document.status() == Status::Reissued {
        return Err(DocumentError::NotValid(Status::Reissued));
    }
    Ok(vec![DocumentEvent::Reissued {
        document_id: issued.document_id,
        replaced_by,
        replaced_by_number: replaced_by_number.to_owned(),
        reason: reason.trim().to_owned(),
    }])
}

/// The holder reads their own documents; the service centre's executors and admins, and integrators, read every
/// document of their organisation (the caller's organisation is already the stream's).
pub fn may_read(issued: &Issued, reader: &Principal) -> Result<(), DocumentError> {
    // Integrator accounts (the document management system) read, never change.
    let reads_all = is_staff(reader) || reader.has(Role::Integrator);
    if issued.holder_id == reader.user_id || reads_all { Ok(()) } else { Err(DocumentError::NotAllowed) }
}

/// Revoking, reissuing and keeping journals are the service centre's (executors) and administrators'.
pub fn is_staff(principal: &Principal) -> bool {
    principal.has(Role::Executor) || principal.has(Role::Admin)
}

/// Where a PDF is stored: under the organisation and the document, named by its hash, so a PDF rendered again
/// (after a lost race for a number) never replaces the one a committed event points to.
pub fn blob_key(org: &OrgId, document_id: Uuid, sha256: &str) -> String {
    format!("{org}/{document_id}/{sha256}.pdf")
}

/// A fresh verification code: 128 random bits, base64url (22 characters). Unguessable, unlike a journal number.
pub fn verification_code() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).expect("org id")
    }

    #[test]
    fn registration_numbers_round_trip() {
        let number = RegistrationNumber {
            org: org("kaznu"),
            journal: journal(None, DocumentKind::CertificateOfStudy, 2026),
            number: 17,
        };
        assert_eq!(number.to_string(), "KAZNU-CS-2026-000017");
        assert_eq!(RegistrationNumber::parse("KAZNU-CS-2026-000017"), Ok(number.clone()));
        assert_eq!(RegistrationNumber::parse(" kaznu-cs-2026-000017 "), Ok(number));
        let dashed = RegistrationNumber::parse("SDU-KZ-CS-2027-1234567").expect("dashed org");
        assert_eq!((dashed.org.as_str(), dashed.journal.year, dashed.number), ("sdu-kz", 2027, 1_234_567));
        let unit = RegistrationNumber::parse("kaznu/fit-st-2026-000003").expect("a unit's number");
        assert_eq!(unit.to_string(), "KAZNU/FIT-ST-2026-000003");
        assert_eq!(unit.journal, journal(Some("FIT"), DocumentKind::CertificateOfStipend, 2026));
        assert_eq!(unit.journal.stream_id(), "FIT.ST-2026");
    }

    #[test]
    fn malformed_registration_numbers_are_refused() {
        for bad in [
            "",
            "KAZNU",
            "KAZNU-CS-2026",
            "KAZNU-XX-2026-000001",
            "KAZNU-CS-26-000001",
            "KAZNU-CS-2026-0",
            "KAZNU-CS-2026-00a001",
            "-CS-2026-000001",
            "KAZ_NU-CS-2026-000001",
            "KAZNU/-CS-2026-000001",
            "KAZNU/F-I-CS-2026-000001",
        ] {
            assert_eq!(RegistrationNumber::parse(bad), Err(DocumentError::InvalidRegistrationNumber), "{bad:?}");
        }
    }

    #[test]
    fn names_are_masked_after_the_first_word() {
        assert_eq!(mask_name("Aruzhan Serikova Nurlanovna"), "Aruzhan S*** N***");
        assert_eq!(mask_name("  Гауһар   Әлиханқызы "), "Гауһар Ә***");
        assert_eq!(mask_name("Aruzhan"), "Aruzhan");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn document_ids_are_derived_from_the_application() {
        let kind = DocumentKind::CertificateOfStudy;
        let a = document_id(&org("kaznu"), "app-1", kind);
        assert_eq!(a, document_id(&org("kaznu"), "app-1", kind));
        assert_ne!(a, document_id(&org("kaznu"), "app-2", kind));
        assert_ne!(a, document_id(&org("kaznmu"), "app-1", kind));
        assert_eq!(a.get_version_num(), 8);
    }

    #[test]
    fn numbers_follow_the_journal_version() {
        let id = Uuid::now_v7();
        let fresh = JournalPosition::default();
        assert_eq!(take_number(fresh, id), JournalEvent::NumberTaken { document_id: id, number: 1 });
        let at = |version| JournalPosition { version, last_paper_number: None };
        assert_eq!(take_number(at(41), id), JournalEvent::NumberTaken { document_id: id, number: 42 });
        assert_eq!((at(41).version_of(41), at(41).version_of(42), at(41).version_of(0)), (Some(41), None, None));
    }

    #[test]
    fn a_paper_journal_is_continued_once_and_at_the_start() {
        let fresh = JournalPosition::default();
        let JournalEvent::ContinuedFromPaper { last_paper_number, .. } =
            continue_from_paper(fresh, 4711, " No. 3 ").expect("continue")
        else {
            panic!("not a continuation");
        };
        assert_eq!(last_paper_number, 4711);
        // After the continuation (version 1) the next number is 4712, at version 2.
        let continued = JournalPosition { version: 1, last_paper_number: Some(4711) };
        assert_eq!(continued.next_number(), 4712);
        let later = JournalPosition { version: 3, last_paper_number: Some(4711) };
        assert_eq!((later.version_of(4712), later.version_of(4713), later.version_of(4714)), (Some(2), Some(3), None));
        assert_eq!(later.version_of(4711), None, "a paper number has no electronic entry");
        assert_eq!(continue_from_paper(later, 10, ""), Err(DocumentError::JournalStarted { next_number: 4714 }));
        assert_eq!(continue_from_paper(fresh, 0, ""), Err(DocumentError::InvalidPaperNumber));
    }

    #[test]
    fn a_voided_number_needs_a_reason_and_uses_the_next_number() {
        let position = JournalPosition { version: 5, last_paper_number: None };
        assert_eq!(void_next_number(position, "  "), Err(DocumentError::ReasonRequired));
        assert_eq!(
            void_next_number(position, " form spoiled "),
            Ok(JournalEvent::NumberVoided { number: 6, reason: "form spoiled".into() })
        );
    }

    #[test]
    fn a_document_is_issued_once() {
        let issued = sample_issued();
        let events = issue(&Document::default(), issued.clone()).expect("first issue");
        assert_eq!(events, vec![DocumentEvent::Issued(Box::new(issued.clone()))]);
        let existing = Document { issued: Some(issued.clone()), ..Document::default() };
        assert_eq!(issue(&existing, issued), Err(DocumentError::AlreadyIssued));
    }

    fn sample_issued() -> Issued {
        let payload = serde_json::json!({
            "document_id": Uuid::now_v7(),
            "application_id": "app-1",
            "holder_id": Uuid::now_v7(),
            "holder_name": "Aruzhan Serikova",
            "registration_number": "KAZNU-CS-2026-000001",
            "title": "Certificate of study",
            "sha256": "00",
            "size_bytes": 1,
            "language": "en",
            "issued_at": "2026-03-17T10:00:00Z",
            "blob_key": "kaznu/x/00.pdf"
        });
        // The first version's payload still reads: a certificate of study with one copy.
        serde_json::from_value(payload).expect("a first-version document.issued")
    }

    #[test]
    fn first_version_documents_read_with_their_one_copy() {
        let issued = sample_issued();
        assert_eq!(kind_of(&issued), Ok(DocumentKind::CertificateOfStudy));
        assert_eq!(issued.copy(Language::En).map(|c| c.sha256), Some("00".to_owned()));
        assert_eq!(issued.copy(Language::Kk), None);
        assert_eq!(issued.hashes(), vec![("en", "00")]);
    }

    #[test]
    fn revocation_and_reissue_follow_the_status() {
        let valid = Document { issued: Some(sample_issued()), ..Document::default() };
        assert_eq!(revoke(&valid, " ", "admin"), Err(DocumentError::ReasonRequired));
        assert_eq!(revoke(&Document::default(), "x", "admin"), Err(DocumentError::NotFound));
        assert_eq!(revoke(&valid, "wrong course", "admin").map(|e| e.len()), Ok(1));
        let revoked = Document { revoked: Some("wrong course".into()), ..valid.clone() };
        assert_eq!(revoked.status(), Status::Revoked);
        assert_eq!(revoke(&revoked, "again", "admin"), Err(DocumentError::NotValid(Status::Revoked)));
        // A revoked document may still be replaced; a replaced one may not be replaced again.
        let new = Uuid::now_v7();
        assert_eq!(reissue(&revoked, new, "KAZNU-CS-2026-000002", "typo").map(|e| e.len()), Ok(1));
        let replaced = Document { replaced_by: Some((new, "KAZNU-CS-2026-000002".into())), ..revoked };
        assert_eq!(replaced.status(), Status::Reissued);
        assert_eq!(reissue(&replaced, Uuid::now_v7(), "N", "again"), Err(DocumentError::NotValid(Status::Reissued)));
    }

    #[test]
    fn languages_and_kinds_parse() {
        assert_eq!(parse_language("KK"), Ok(Language::Kk));
        assert!(parse_language("de").is_err());
        for kind in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(kind.as_str()), Ok(kind));
            assert_eq!(DocumentKind::from_code(&kind.code().to_lowercase()), Some(kind));
        }
        assert!(DocumentKind::parse("diploma").is_err());
        assert_eq!(journal(None, DocumentKind::CertificateOfStudy, 2026).stream_id(), "CS-2026");
        assert!(DocumentKind::ApplicationForm.is_receipt() && !DocumentKind::Order.is_receipt());
    }

    fn journal(unit: Option<&str>, kind: DocumentKind, year: i32) -> JournalKey {
        JournalKey { unit: unit.map(|u| Unit::parse(u).expect("unit")), kind, year }
    }
}
