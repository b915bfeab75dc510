//! Public verification, as events: which document a verification code names, and who checked a document when.
//! Pure.
//!
//! A verification code is unguessable (128 random bits), unlike a journal number: the QR code and the link carry
//! it, so documents cannot be enumerated by counting. `verification_code/<code>` holds one event naming the
//! document (a private stream type). Every check is recorded on `verification/<document_id>` and published as
//! `verification.recorded`, so the holder sees who verified their document and when, and notifications can tell
//! them.

use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use onewindow_contracts::documents::{Method, Recorded, VerificationEvent};

pub const VERIFICATION_CODE: &str = "verification_code";
pub const VERIFICATION: &str = "verification";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum CodeEvent {
    #[serde(rename = "verification_code.assigned")]
    Assigned { document_id: Uuid },
}

impl onewindow_eventlog::EventSchema for CodeEvent {}

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
