//! Issued documents and the registration journal, as events: pure decisions and folding, no I/O.
//!
//! Every issued document gets the next number of its organisation's journal for its type and year
//! (`journal/CS-2026`). The number is the journal stream's version after the append, and the append is guarded by
//! the version the number was computed from, so two issuers can never take the same number and none is skipped.

use std::fmt;

use chrono::{DateTime, Utc};
use onewindow_auth::{Principal, Role};
use onewindow_eventlog::{Aggregate, OrgId, RecordedEvent};
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
}

/// The language a document is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Kk,
    Ru,
    En,
}

impl Language {
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "kk" => Ok(Self::Kk),
            "ru" => Ok(Self::Ru),
            "en" => Ok(Self::En),
            _ => Err(DocumentError::UnknownLanguage(value.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kk => "kk",
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}

/// What kind of document is issued; each kind has its own journal and number code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    CertificateOfStudy,
}

impl DocumentKind {
    /// The catalog's name of the kind, as carried by `issues_document`.
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        match value {
            "certificate_of_study" => Ok(Self::CertificateOfStudy),
            _ => Err(DocumentError::UnknownKind(value.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CertificateOfStudy => "certificate_of_study",
        }
    }

    /// The kind's code in registration numbers and journal names.
    pub fn code(self) -> &'static str {
        match self {
            Self::CertificateOfStudy => "CS",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code.to_ascii_uppercase().as_str() {
            "CS" => Some(Self::CertificateOfStudy),
            _ => None,
        }
    }

    pub fn title(self, language: Language) -> &'static str {
        match (self, language) {
            (Self::CertificateOfStudy, Language::Kk) => "Оқу туралы анықтама",
            (Self::CertificateOfStudy, Language::Ru) => "Справка об обучении",
            (Self::CertificateOfStudy, Language::En) => "Certificate of study",
        }
    }

    /// The journal stream's id: one journal per kind and year, so numbering restarts every year.
    pub fn journal_id(self, year: i32) -> String {
        format!("{}-{year}", self.code())
    }
}

/// A number in an organisation's document journal: `KAZNU-CS-2026-000017`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationNumber {
    pub org: OrgId,
    pub kind: DocumentKind,
    pub year: i32,
    pub number: i64,
}

impl RegistrationNumber {
    /// Reads a number as printed; case does not matter. Organisation ids may contain '-', so the fixed parts are
    /// taken from the right.
    pub fn parse(value: &str) -> Result<Self, DocumentError> {
        let invalid = || DocumentError::InvalidRegistrationNumber;
        let mut parts = value.trim().rsplitn(4, '-');
        let (Some(number), Some(year), Some(code), Some(org)) =
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
        Ok(Self {
            org: OrgId::parse(&org.to_ascii_lowercase()).map_err(|_| invalid())?,
            kind: DocumentKind::from_code(code).ok_or_else(invalid)?,
            year: year.parse().map_err(|_| invalid())?,
            number,
        })
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}-{:06}", self.org.as_str().to_uppercase(), self.kind.code(), self.year, self.number)
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum JournalEvent {
    #[serde(rename = "journal.number_taken")]
    NumberTaken { document_id: Uuid, number: i64 },
}

/// Takes the next number of a journal read at `version`: the number is the version the append will make.
pub fn take_number(version: i64, document_id: Uuid) -> JournalEvent {
    JournalEvent::NumberTaken { document_id, number: version + 1 }
}

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DocumentEvent {
    #[serde(rename = "document.issued")]
    Issued(Issued),
}

/// `document.issued`, as in docs/EVENTS.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issued {
    pub document_id: Uuid,
    pub application_id: String,
    pub holder_id: Uuid,
    pub holder_name: String,
    pub registration_number: String,
    pub title: String,
    /// Hex SHA-256 of the PDF.
    pub sha256: String,
    pub size_bytes: i64,
    pub language: Language,
    pub issued_at: DateTime<Utc>,
    pub blob_key: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub issued: Option<Issued>,
}

impl Aggregate for Document {
    type Event = DocumentEvent;

    fn apply(&mut self, event: &DocumentEvent, _: &RecordedEvent) {
        let DocumentEvent::Issued(issued) = event;
        self.issued = Some(issued.clone());
    }
}

/// Decides an issue: a document is issued once.
pub fn issue(existing: &Document, issued: Issued) -> Result<Vec<DocumentEvent>, DocumentError> {
    if existing.issued.is_some() {
        return Err(DocumentError::AlreadyIssued);
    }
    Ok(vec![DocumentEvent::Issued(issued)])
}

/// The holder reads their own documents; the service centre's executors and admins read every document of their
/// organisation (the caller's organisation is already the stream's).
pub fn may_read(issued: &Issued, reader: &Principal) -> Result<(), DocumentError> {
    if issued.holder_id == reader.user_id || reader.has(Role::Executor) || reader.has(Role::Admin) {
        Ok(())
    } else {
        Err(DocumentError::NotAllowed)
    }
}

/// Where a PDF is stored: under the organisation and the document, named by its hash, so a PDF rendered again
/// (after a lost race for a number) never replaces the one a committed event points to.
pub fn blob_key(org: &OrgId, document_id: Uuid, sha256: &str) -> String {
    format!("{org}/{document_id}/{sha256}.pdf")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).expect("org id")
    }

    #[test]
    fn registration_numbers_round_trip() {
        let number =
            RegistrationNumber { org: org("kaznu"), kind: DocumentKind::CertificateOfStudy, year: 2026, number: 17 };
        assert_eq!(number.to_string(), "KAZNU-CS-2026-000017");
        assert_eq!(RegistrationNumber::parse("KAZNU-CS-2026-000017"), Ok(number.clone()));
        assert_eq!(RegistrationNumber::parse(" kaznu-cs-2026-000017 "), Ok(number));
        let dashed = RegistrationNumber::parse("SDU-KZ-CS-2027-1234567").expect("dashed org");
        assert_eq!((dashed.org.as_str(), dashed.year, dashed.number), ("sdu-kz", 2027, 1_234_567));
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
        assert_eq!(take_number(0, id), JournalEvent::NumberTaken { document_id: id, number: 1 });
        assert_eq!(take_number(41, id), JournalEvent::NumberTaken { document_id: id, number: 42 });
    }

    #[test]
    fn a_document_is_issued_once() {
        let issued = Issued {
            document_id: Uuid::now_v7(),
            application_id: "app-1".into(),
            holder_id: Uuid::now_v7(),
            holder_name: "Aruzhan Serikova".into(),
            registration_number: "KAZNU-CS-2026-000001".into(),
            title: "Certificate of study".into(),
            sha256: "00".into(),
            size_bytes: 1,
            language: Language::En,
            issued_at: Utc::now(),
            blob_key: "kaznu/x/00.pdf".into(),
        };
        let events = issue(&Document::default(), issued.clone()).expect("first issue");
        assert_eq!(events, vec![DocumentEvent::Issued(issued.clone())]);
        let existing = Document { issued: Some(issued.clone()) };
        assert_eq!(issue(&existing, issued), Err(DocumentError::AlreadyIssued));
    }

    #[test]
    fn languages_and_kinds_parse() {
        assert_eq!(Language::parse("KK"), Ok(Language::Kk));
        assert!(Language::parse("de").is_err());
        assert_eq!(DocumentKind::parse("certificate_of_study"), Ok(DocumentKind::CertificateOfStudy));
        assert!(DocumentKind::parse("diploma").is_err());
        assert_eq!(DocumentKind::CertificateOfStudy.journal_id(2026), "CS-2026");
    }
}
