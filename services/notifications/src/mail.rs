//! Applicants' contacts and the outbox of e-mails, as events: pure decisions and folding, no I/O.
//!
//! A contact (`contact/<user_id>`) is what notifications learned from `application.submitted`. Each e-mail is a
//! stream (`email/<email_id>`): queued with the notification it repeats, then sent or dead-lettered, once.

use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::derived_id;

pub const CONTACT: &str = "contact";
pub const EMAIL: &str = "email";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ContactEvent {
    #[serde(rename = "contact.recorded")]
    Recorded { email: String, language: String },
}

impl onewindow_eventlog::EventSchema for ContactEvent {}

/// Where and in which language to write to a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    pub email: Option<String>,
    pub language: Option<String>,
}

impl Aggregate for Contact {
    type Event = ContactEvent;

    fn apply(&mut self, event: &ContactEvent, _: &RecordedEvent) {
        let ContactEvent::Recorded { email, language } = event;
        self.email = Some(email.clone());
        self.language = Some(language.clone());
    }
}

/// Decides recording a contact: nothing without an address, nothing if it is already known as it is.
pub fn record_contact(contact: &Contact, email: &str, language: &str) -> Vec<ContactEvent> {
    let email = email.trim();
    if email.is_empty() || (contact.email.as_deref() == Some(email) && contact.language.as_deref() == Some(language)) {
        return Vec::new();
    }
    vec![ContactEvent::Recorded { email: email.to_owned(), language: language.to_owned() }]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum EmailEvent {
    #[serde(rename = "email.queued")]
    Queued(EmailQueued),
    #[serde(rename = "email.sent")]
    Sent { email_id: Uuid },
    #[serde(rename = "email.dead_lettered")]
    DeadLettered { email_id: Uuid, reason: String, attempts: u32 },
    /// An administrator asked for a dead-lettered e-mail to be sent again.
    #[serde(rename = "email.retry_requested")]
    RetryRequested { email_id: Uuid },
}

impl onewindow_eventlog::EventSchema for EmailEvent {}

/// `email.queued`: everything the sender needs, so sending never reads anything else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailQueued {
    pub email_id: Uuid,
    pub to: String,
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// One e-mail's fate.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Email {
    #[default]
    Unknown,
    Queued(EmailQueued),
    Sent,
    /// Given up on; kept, so an administrator can have it sent again.
    DeadLettered(EmailQueued),
}

impl Aggregate for Email {
    type Event = EmailEvent;

    fn apply(&mut self, event: &EmailEvent, _: &RecordedEvent) {
        let previous = std::mem::take(self);
        *self = match (event, previous) {
            (EmailEvent::Queued(queued), _) => Email::Queued(queued.clone()),
            (EmailEvent::Sent { .. }, _) => Email::Sent,
            (EmailEvent::DeadLettered { .. }, Email::Queued(queued)) => Email::DeadLettered(queued),
            (EmailEvent::RetryRequested { .. }, Email::DeadLettered(queued)) => Email::Queued(queued),
            (_, unchanged) => unchanged,
        };
    }
}

impl Email {
    /// The e-mail still to send, if it is neither sent nor given up on.
    pub fn pending(&self) -> Option<&EmailQueued> {
        match self {
            Email::Queued(queued) => Some(queued),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("only a dead letter can be retried")]
pub struct NotDeadLettered;

/// Decides sending a dead-lettered e-mail again.
pub fn retry(email: &Email) -> Result<Vec<EmailEvent>, NotDeadLettered> {
    match email {
        Email::DeadLettered(queued) => Ok(vec![EmailEvent::RetryRequested { email_id: queued.email_id }]),
        _ => Err(NotDeadLettered),
    }
}

/// The e-mail repeating a notification: one per notification, so a redelivered event queues nothing new.
pub fn email_id(notification_id: Uuid) -> Uuid {
    derived_id(Uuid::NAMESPACE_URL, notification_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_is_recorded_when_it_is_new_or_changed() {
        let none = Contact::default();
        assert!(record_contact(&none, "  ", "kk").is_empty());
        let first = record_contact(&none, " a@example.kz ", "kk");
        assert_eq!(first, vec![ContactEvent::Recorded { email: "a@example.kz".into(), language: "kk".into() }]);
        let known = Contact { email: Some("a@example.kz".into()), language: Some("kk".into()) };
        assert!(record_contact(&known, "a@example.kz", "kk").is_empty());
        assert_eq!(record_contact(&known, "a@example.kz", "en").len(), 1);
        assert_eq!(record_contact(&known, "b@example.kz", "kk").len(), 1);
    }

    #[test]
    fn email_ids_are_derived_from_the_notification() {
        let notification = Uuid::now_v7();
        assert_eq!(email_id(notification), email_id(notification));
        assert_ne!(email_id(notification), notification);
        assert_ne!(email_id(notification), crate::domain::notification_id(notification, Uuid::nil()));
    }
}
