//! Public verification, as events: which document a verification code names, and who checked a document when.
//! Pure.
//!
//! A verification code is unguessable (128 random bits), unlike a journal number: the QR code and the link carry
//! it, so documents cannot be enumerated by counting. `verification_code/<code>` holds one event naming the
//! document (a private stream type). Every check is recorded on `verification/<document_id>` and published as
//! `verification.recorded`, so the holder sees who verified their document and when, and notifications can tell
//! them.

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Status;

pub const VERIFICATION_CODE: &str = "verification_code";
pub const VERIFICATION: &str = "verification";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CodeEvent {
    #[serde(rename = "verification_code.assigned")]
    Assigned { document_id: Uuid },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeIndex {
    pub document_id: Option<Uuid>,
}

impl Aggregate for CodeIndex {
    type Event = CodeEvent;

    fn apply(&mut self, event: &CodeEvent, _: &RecordedEvent) {
        let CodeEvent::Assigned { document_id } = event;
        self.document_id = Some(*document_id);
    }
}

/// How the verifier named the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(tag = "type", content = "payload")]
pub enum VerificationEvent {
    #[serde(rename = "verification.recorded")]
    Recorded(Recorded),
}

/// `verification.recorded`, as in docs/EVENTS.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub verified_at: DateTime<Utc>,
}

/// Every check of one document, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checks {
    pub recorded: Vec<Recorded>,
}

impl Aggregate for Checks {
    type Event = VerificationEvent;

    fn apply(&mut self, event: &VerificationEvent, _: &RecordedEvent) {
        let VerificationEvent::Recorded(recorded) = event;
        self.recorded.push(recorded.clone());
    }
}

/// The longest verifier name kept: a label, not a letter.
const VERIFIER_MAX_CHARS: usize = 120;

/// The verifier's name as recorded: one line, at most [`VERIFIER_MAX_CHARS`] characters.
pub fn verifier_label(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(VERIFIER_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_names_are_one_short_line() {
        assert_eq!(verifier_label("  HR of\nKaspi   Bank "), "HR of Kaspi Bank");
        assert_eq!(verifier_label(&"x".repeat(500)).chars().count(), 120);
    }
}
