//! `document/<document_id>` and `verification/<document_id>`: issued documents and every public check of them,
//! written by documents, read by applications (issued: the application is handed over) and notifications (issued,
//! verified).

use chrono::{DateTime, Utc};
use onewindow_eventlog::EventSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Language;

pub const ISSUED: &str = "document.issued";
pub const REVOKED: &str = "document.revoked";
pub const REISSUED: &str = "document.reissued";
/// Every type of [`DocumentEvent`], in the order of its variants.
pub const EVENT_TYPES: [&str; 3] = [ISSUED, REVOKED, REISSUED];

pub const VERIFICATION_RECORDED: &str = "verification.recorded";
/// Every type of [`VerificationEvent`].
pub const VERIFICATION_EVENT_TYPES: [&str; 1] = [VERIFICATION_RECORDED];

impl EventSchema for DocumentEvent {}
impl EventSchema for VerificationEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum DocumentEvent {
    #[serde(rename = "document.issued")]
    Issued(Box<Issued>),
    #[serde(rename = "document.revoked")]
    Revoked { document_id: Uuid, reason: String, revoked_by: String },
    /// Replaced by a new document (`replaced_by`), issued with its own number.
    #[serde(rename = "document.reissued")]
    Reissued { document_id: Uuid, replaced_by: Uuid, replaced_by_number: String, reason: String },
}

/// `document.issued`, as in docs/EVENTS.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Issued {
    pub document_id: Uuid,
    /// The kind's catalog name, e.g. `certificate_of_study` (absent in the first version: a certificate of study).
    #[serde(default = "certificate_of_study")]
    pub document_type: String,
    /// A receipt of a submission (the application form, the notification of acceptance), not the result the
    /// application waits for: consumers of results pass over it.
    #[serde(default)]
    pub receipt: bool,
    pub application_id: String,
    pub holder_id: Uuid,
    pub holder_name: String,
    pub registration_number: String,
    /// In `language`.
    pub title: String,
    /// The copy in the language the applicant chose: its hash, size and file.
    pub sha256: String,
    pub size_bytes: i64,
    pub language: Language,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub issued_at: DateTime<Utc>,
    pub blob_key: String,
    /// Every language's copy; they share the number.
    #[serde(default)]
    pub copies: Vec<Copy>,
    /// The unguessable id the QR code and the verification link carry.
    #[serde(default)]
    pub verification_code: String,
    /// The key that signed the record (`signature`) and the QR code.
    #[serde(default)]
    pub key_id: String,
    /// Base64url Ed25519 signature of the record (documents' `signing::record_message`).
    #[serde(default)]
    pub signature: String,
    /// The document this one replaces (a reissue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Uuid>,
    /// What the document says, so a reissue prints the same.
    #[serde(default)]
    pub content: Content,
    /// The signed text of the QR code, so the paper form printed later carries the same code.
    #[serde(default)]
    pub qr_payload: String,
}

fn certificate_of_study() -> String {
    "certificate_of_study".to_owned()
}

/// One language's PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Copy {
    pub language: Language,
    pub sha256: String,
    pub size_bytes: i64,
    pub blob_key: String,
}

impl Issued {
    /// The copy in `language`; documents of the first version have only the one they were issued in.
    pub fn copy(&self, language: Language) -> Option<Copy> {
        if let Some(copy) = self.copies.iter().find(|c| c.language == language) {
            return Some(copy.clone());
        }
        (language == self.language).then(|| Copy {
            language,
            sha256: self.sha256.clone(),
            size_bytes: self.size_bytes,
            blob_key: self.blob_key.clone(),
        })
    }

    /// `(language, sha256)` of every copy, in the order the record signature covers them.
    pub fn hashes(&self) -> Vec<(&'static str, &str)> {
        let mut hashes: Vec<_> = self.copies.iter().map(|c| (c.language.as_str(), c.sha256.as_str())).collect();
        if hashes.is_empty() {
            hashes.push((self.language.as_str(), self.sha256.as_str()));
        }
        hashes
    }
}

/// What a document says beyond its number: the input of every template, kept with the document so a reissue
/// prints the same. Holder details are those the events carry; empty fields are left off the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct Content {
    pub holder: Holder,
    pub application_number: String,
    /// The service's name in kk, ru and en (empty where unknown: the chosen language's name is used).
    pub service_names: Names,
    pub reason: String,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub submitted_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub planned_completion: Option<DateTime<Utc>>,
    pub approvals: Vec<ApprovalLine>,
    /// The last approver of an order or certificate signs it.
    pub signatory: Option<ApprovalLine>,
    /// The stipend a certificate of stipend states.
    pub stipend: Option<Stipend>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct Holder {
    pub full_name: String,
    pub faculty: String,
    pub specialty: String,
    pub course: u8,
    pub group: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct Names {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl Names {
    pub fn is_empty(&self) -> bool {
        self.kk.is_empty() && self.ru.is_empty() && self.en.is_empty()
    }

    /// The name in `language`, or the first one known.
    pub fn get(&self, language: Language) -> &str {
        let wanted = match language {
            Language::Kk => &self.kk,
            Language::Ru => &self.ru,
            Language::En => &self.en,
        };
        [wanted, &self.ru, &self.kk, &self.en].into_iter().find(|n| !n.is_empty()).map_or("", String::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct ApprovalLine {
    pub full_name: String,
    pub position: String,
    /// The department's code in the catalog.
    pub department: String,
    /// Its name in kk, ru and en as the catalog defines it (empty when not known at issue: the code is printed).
    pub department_names: Names,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_time))]
    pub decided_at: Option<DateTime<Utc>>,
    pub note: String,
    /// Whom a substitute decided for.
    pub acting_for: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(default)]
pub struct Stipend {
    pub name: String,
    pub monthly_amount_tenge: i64,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_date))]
    pub from: Option<chrono::NaiveDate>,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::maybe_date))]
    pub to: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Valid,
    Revoked,
    Reissued,
}

/// How the verifier named the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The registration number printed on the paper form.
    Number,
    /// The whole QR payload, signature included.
    Qr,
    /// The verification code of the link.
    Code,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Number => "number",
            Method::Qr => "qr",
            Method::Code => "code",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "type", content = "payload")]
pub enum VerificationEvent {
    #[serde(rename = "verification.recorded")]
    Recorded(Recorded),
}

/// `verification.recorded`, as in docs/EVENTS.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Recorded {
    pub document_id: Uuid,
    pub holder_id: Uuid,
    /// What the holder's notification links to and names.
    #[serde(default)]
    pub application_id: String,
    #[serde(default)]
    pub registration_number: String,
    /// The document's language: the holder's notification is written in it.
    #[serde(default)]
    pub language: String,
    pub method: Method,
    /// Who said they were checking ("HR of Kaspi Bank"), as typed; empty when they did not say.
    pub verifier: String,
    /// The network the check came from, with the host part hidden ("203.0.113.0/24", or "unknown").
    pub source: String,
    /// "valid", "revoked" or "reissued".
    pub status: Status,
    pub signature_valid: bool,
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::generate::time))]
    pub verified_at: DateTime<Utc>,
}
