//! Each user's inbox, as events: pure decisions and folding, no I/O.

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const INBOX: &str = "inbox";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum InboxEvent {
    #[serde(rename = "inbox.notification_recorded")]
    NotificationRecorded(NotificationRecorded),
}

/// `inbox.notification_recorded`, as in docs/EVENTS.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecorded {
    pub notification_id: Uuid,
    pub recipient_id: Uuid,
    pub application_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub source_event_id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub recorded: NotificationRecorded,
    pub created_at: DateTime<Utc>,
}

/// One user's notifications, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    pub notifications: Vec<Notification>,
}

impl Aggregate for Inbox {
    type Event = InboxEvent;

    fn apply(&mut self, event: &InboxEvent, recorded: &RecordedEvent) {
        let InboxEvent::NotificationRecorded(notification) = event;
        self.notifications
            .push(Notification { recorded: notification.clone(), created_at: recorded.metadata.occurred_at });
    }
}

/// A notification's id, derived from the event it reports, so the same event never notifies twice.
/// SHA-256 name-based (UUID version 8, RFC 9562 appendix B.2): the workspace's `uuid` is built without SHA-1 (v5).
pub fn notification_id(source_event_id: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(Uuid::NAMESPACE_OID.as_bytes());
    hasher.update(source_event_id.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Decides recording a notification: nothing if the inbox already holds it.
pub fn record(inbox: &Inbox, notification: NotificationRecorded) -> Vec<InboxEvent> {
    let known = inbox.notifications.iter().any(|n| n.recorded.notification_id == notification.notification_id);
    if known { Vec::new() } else { vec![InboxEvent::NotificationRecorded(notification)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(source: Uuid) -> NotificationRecorded {
        NotificationRecorded {
            notification_id: notification_id(source),
            recipient_id: Uuid::now_v7(),
            application_id: "app-1".into(),
            kind: "application.submitted".into(),
            title: "t".into(),
            body: "b".into(),
            source_event_id: source,
        }
    }

    #[test]
    fn an_event_notifies_once() {
        let source = Uuid::now_v7();
        let first = recorded(source);
        assert_eq!(record(&Inbox::default(), first.clone()), vec![InboxEvent::NotificationRecorded(first.clone())]);
        let inbox = Inbox { notifications: vec![Notification { recorded: first.clone(), created_at: Utc::now() }] };
        assert!(record(&inbox, recorded(source)).is_empty());
        assert_eq!(record(&inbox, recorded(Uuid::now_v7())).len(), 1);
    }

    #[test]
    fn ids_are_derived_from_the_source_event() {
        let source = Uuid::now_v7();
        assert_eq!(notification_id(source), notification_id(source));
        assert_ne!(notification_id(source), notification_id(Uuid::now_v7()));
        assert_ne!(notification_id(source), source);
        assert_eq!(notification_id(source).get_version_num(), 8);
    }
}
