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
    /// The user read these notifications.
    #[serde(rename = "inbox.notifications_read")]
    NotificationsRead { notification_ids: Vec<Uuid> },
}

impl onewindow_eventlog::EventSchema for InboxEvent {}

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
    pub read: bool,
}

/// One user's notifications, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inbox {
    pub notifications: Vec<Notification>,
}

impl Aggregate for Inbox {
    type Event = InboxEvent;

    fn apply(&mut self, event: &InboxEvent, recorded: &RecordedEvent) {
        match event {
            InboxEvent::NotificationRecorded(notification) => self.notifications.push(Notification {
                recorded: notification.clone(),
                created_at: recorded.metadata.occurred_at,
                read: false,
            }),
            InboxEvent::NotificationsRead { notification_ids } => {
                for n in
                    self.notifications.iter_mut().filter(|n| notification_ids.contains(&n.recorded.notification_id))
                {
                    n.read = true;
                }
            }
        }
    }
}

impl Inbox {
    pub fn unread(&self) -> usize {
        self.notifications.iter().filter(|n| !n.read).count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxError {
    #[error("no notification {0} in your inbox")]
    Unknown(Uuid),
}

/// Which notifications to mark as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadSelection {
    All,
    These(Vec<Uuid>),
}

/// Decides marking notifications as read: only the unread ones are recorded, and an id not in the inbox is refused.
pub fn mark_read(inbox: &Inbox, selection: ReadSelection) -> Result<Vec<InboxEvent>, InboxError> {
    let ids: Vec<Uuid> = match selection {
        ReadSelection::All => {
            inbox.notifications.iter().filter(|n| !n.read).map(|n| n.recorded.notification_id).collect()
        }
        ReadSelection::These(ids) => {
            let mut unread = Vec::new();
            for id in ids {
                let found = inbox
                    .notifications
                    .iter()
                    .find(|n| n.recorded.notification_id == id)
                    .ok_or(InboxError::Unknown(id))?;
                if !found.read && !unread.contains(&id) {
                    unread.push(id);
                }
            }
            unread
        }
    };
    Ok(if ids.is_empty() { Vec::new() } else { vec![InboxEvent::NotificationsRead { notification_ids: ids }] })
}

/// A notification's id, derived from the event it reports and its recipient, so the same event never notifies
/// anyone twice. SHA-256 name-based (UUID version 8, RFC 9562 appendix B.2): the workspace's `uuid` is built
/// without SHA-1 (v5).
pub fn notification_id(source_event_id: Uuid, recipient_id: Uuid) -> Uuid {
    derived_id(derived_id(Uuid::NAMESPACE_OID, source_event_id), recipient_id)
}

/// A SHA-256 name-based id of `source` within `namespace`.
pub(crate) fn derived_id(namespace: Uuid, source: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(namespace.as_bytes());
    hasher.update(source.as_bytes());
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
            notification_id: notification_id(source, Uuid::nil()),
            recipient_id: Uuid::nil(),
            application_id: crate::consumers::tests::APP_ID.into(),
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
        let inbox = Inbox {
            notifications: vec![Notification { recorded: first.clone(), created_at: Utc::now(), read: false }],
        };
        assert!(record(&inbox, recorded(source)).is_empty());
        assert_eq!(record(&inbox, recorded(Uuid::now_v7())).len(), 1);
    }

    #[test]
    fn ids_are_derived_from_the_source_event() {
        let source = Uuid::now_v7();
        let (me, you) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(notification_id(source, me), notification_id(source, me));
        assert_ne!(notification_id(source, me), notification_id(Uuid::now_v7(), me));
        assert_ne!(notification_id(source, me), notification_id(source, you));
        assert_ne!(notification_id(source, me), source);
        assert_eq!(notification_id(source, me).get_version_num(), 8);
    }
}
