//! The consumers that turn other services' events into notifications: one per producing service.
//!
//! Each appends to the recipient's inbox with the inbox mark of the event it reports, in one commit, so a
//! redelivered event notifies once. Several notifications may land on one inbox at once (a submission and its
//! document, on two consumers): a lost race re-reads the inbox and tries again.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, NewEvent, OrgId, RecordedEvent, StoreError,
    StreamAppend, StreamRef, encode, load,
};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::{
    SERVICE,
    domain::{INBOX, Inbox, NotificationRecorded, notification_id, record},
    mail::{CONTACT, Contact, ContactEvent, EMAIL, EmailEvent, EmailQueued, email_id, record_contact},
    texts::{self, Language, Message},
};

pub const FROM_APPLICATIONS: &str = "notifications-applications";
pub const FROM_DOCUMENTS: &str = "notifications-documents";

/// Appends to one inbox that lose a race before giving the event back to the bus.
const ATTEMPTS: u32 = 8;

fn poison(error: impl Into<anyhow::Error>) -> HandleError {
    HandleError::Poison(error.into())
}

/// `application.submitted`, read for what the notification needs (docs/EVENTS.md).
#[derive(Debug, Deserialize)]
struct ApplicationSubmitted {
    application_id: String,
    #[serde(deserialize_with = "text_or_number")]
    number: String,
    applicant_id: Uuid,
    #[serde(default)]
    service_name: String,
    #[serde(default)]
    document_language: String,
    #[serde(default)]
    email: String,
}

/// `verification.recorded`, read for what the notification needs.
#[derive(Debug, Deserialize)]
struct VerificationRecorded {
    holder_id: Uuid,
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    verifier: String,
}

/// `document.issued`, read for what the notification needs.
#[derive(Debug, Deserialize)]
struct DocumentIssued {
    application_id: String,
    holder_id: Uuid,
    registration_number: String,
    #[serde(default)]
    language: String,
    /// A receipt of the submission (the printed form, the notification of acceptance), not the result.
    #[serde(default)]
    receipt: bool,
}

/// An application number may be sent as text or as a number; either reads as text.
fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Text(text) => text,
        Raw::Number(number) => number.to_string(),
    })
}

/// Notifies the applicant that their application was accepted for processing.
pub struct NotifySubmitted {
    store: Arc<dyn EventStore>,
}

impl NotifySubmitted {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for NotifySubmitted {
    fn name(&self) -> &'static str {
        FROM_APPLICATIONS
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: vec!["application.submitted"] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let submitted: ApplicationSubmitted = serde_json::from_value(event.payload.clone()).map_err(poison)?;
        let message =
            Message::ApplicationSubmitted { number: &submitted.number, service_name: &submitted.service_name };
        let language = Language::parse_or_default(&submitted.document_language);
        let delivery = Delivery {
            consumer: FROM_APPLICATIONS,
            recipient: submitted.applicant_id,
            application_id: &submitted.application_id,
            language,
            learned_email: Some(&submitted.email),
        };
        deliver(self.store.as_ref(), event, &delivery, &message).await
    }
}

/// Notifies the holder that their document is ready, and each time someone verifies it.
pub struct NotifyIssued {
    store: Arc<dyn EventStore>,
}

impl NotifyIssued {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for NotifyIssued {
    fn name(&self) -> &'static str {
        FROM_DOCUMENTS
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "documents", event_types: vec!["document.issued", "verification.recorded"] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        if event.event_type == "verification.recorded" {
            let checked: VerificationRecorded = serde_json::from_value(event.payload.clone()).map_err(poison)?;
            let message = Message::DocumentVerified {
                registration_number: &checked.registration_number,
                verifier: &checked.verifier,
            };
            let delivery = Delivery {
                consumer: FROM_DOCUMENTS,
                recipient: checked.holder_id,
                application_id: &checked.application_id,
                language: Language::parse_or_default(&checked.language),
                learned_email: None,
            };
            return deliver(self.store.as_ref(), event, &delivery, &message).await;
        }
        let issued: DocumentIssued = serde_json::from_value(event.payload.clone()).map_err(poison)?;
        // The submission was notified already: only the result the applicant waits for is "ready".
        if issued.receipt {
            return Ok(());
        }
        let message = Message::DocumentIssued { registration_number: &issued.registration_number };
        let language = Language::parse_or_default(&issued.language);
        let delivery = Delivery {
            consumer: FROM_DOCUMENTS,
            recipient: issued.holder_id,
            application_id: &issued.application_id,
            language,
            learned_email: None,
        };
        deliver(self.store.as_ref(), event, &delivery, &message).await
    }
}

/// Whom a consumed event notifies, and what it tells about them.
struct Delivery<'a> {
    consumer: &'static str,
    recipient: Uuid,
    application_id: &'a str,
    language: Language,
    /// The address the event gives (`application.submitted`), recorded as the recipient's contact.
    learned_email: Option<&'a str>,
}

/// Records `message` in the recipient's inbox (in the event's organisation) with the consumer's inbox mark, the
/// contact the event teaches, and the e-mail repeating the notification when an address is known: one commit.
async fn deliver(
    store: &dyn EventStore,
    event: &RecordedEvent,
    delivery: &Delivery<'_>,
    message: &Message<'_>,
) -> Result<(), HandleError> {
    let recipient = delivery.recipient;
    let text = texts::render(message, delivery.language);
    let notification = NotificationRecorded {
        notification_id: notification_id(event.id),
        recipient_id: recipient,
        application_id: delivery.application_id.to_owned(),
        kind: message.kind().to_owned(),
        title: text.title.clone(),
        body: text.body.clone(),
        source_event_id: event.id,
    };
    let org = &event.stream.org;
    let stream = inbox_stream(org, recipient);
    let contact_stream = contact_stream(org, recipient);
    let email_id = email_id(notification.notification_id);
    let metadata = onewindow_server::reaction_metadata(SERVICE, event);
    let mark = InboxMark { consumer: delivery.consumer.to_owned(), event_id: event.id };
    let transient = |e: StoreError| HandleError::Transient(e.into());
    for attempt in 1..=ATTEMPTS {
        let inbox = load::<Inbox>(store, &stream).await.map_err(transient)?;
        let contact = load::<Contact>(store, &contact_stream).await.map_err(transient)?;
        let learned = match delivery.learned_email {
            Some(email) => record_contact(&contact.state, email, delivery.language.code()),
            None => Vec::new(),
        };
        let address = match learned.first() {
            Some(ContactEvent::Recorded { email, .. }) => Some(email.clone()),
            None => contact.state.email.clone(),
        };
        let recorded = record(&inbox.state, notification.clone());
        // The e-mail goes with the notification's first recording only: a redelivery queues nothing new.
        let queued = match address {
            Some(to) if !recorded.is_empty() => {
                let email = texts::email(&text, delivery.language);
                vec![EmailEvent::Queued(EmailQueued {
                    email_id,
                    to,
                    language: delivery.language.code().to_owned(),
                    subject: email.subject,
                    text: email.text,
                    html: email.html,
                })]
            }
            _ => Vec::new(),
        };
        // With no event (already in the inbox) the mark alone is committed, so the redelivery is recorded too.
        let commit = Commit {
            appends: vec![
                StreamAppend {
                    stream: stream.clone(),
                    expected_version: inbox.version,
                    events: encode_all(&recorded, &metadata)?,
                },
                StreamAppend {
                    stream: contact_stream.clone(),
                    expected_version: contact.version,
                    events: encode_all(&learned, &metadata)?,
                },
                StreamAppend {
                    stream: email_stream(org, email_id),
                    expected_version: 0,
                    events: encode_all(&queued, &metadata)?,
                },
            ],
            inbox: Some(mark.clone()),
        };
        match store.commit(commit).await {
            Ok(CommitOutcome::Committed { .. } | CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => {
                return Ok(());
            }
            Err(StoreError::Concurrency { .. }) => {
                tracing::debug!(%recipient, attempt, "the inbox or contact changed meanwhile; reading them again");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
            }
            Err(error) => return Err(transient(error)),
        }
    }
    Err(HandleError::Transient(anyhow::anyhow!("the inbox of {recipient} stayed contended for {ATTEMPTS} attempts")))
}

fn encode_all<E: serde::Serialize>(events: &[E], metadata: &EventMetadata) -> Result<Vec<NewEvent>, HandleError> {
    events.iter().map(|e| encode(e, 1, metadata).map_err(poison)).collect()
}

pub fn inbox_stream(org: &OrgId, user_id: Uuid) -> StreamRef {
    StreamRef::new(org, INBOX, user_id.to_string())
}

pub fn contact_stream(org: &OrgId, user_id: Uuid) -> StreamRef {
    StreamRef::new(org, CONTACT, user_id.to_string())
}

pub fn email_stream(org: &OrgId, email_id: Uuid) -> StreamRef {
    StreamRef::new(org, EMAIL, email_id.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use onewindow_eventlog::Position;
    use serde_json::{Value, json};

    use super::*;

    fn org(id: &str) -> OrgId {
        OrgId::parse(id).expect("org id")
    }

    fn event(org: &OrgId, stream_type: &str, event_type: &str, payload: Value) -> RecordedEvent {
        let id = Uuid::now_v7();
        RecordedEvent {
            position: Position::START,
            id,
            stream: StreamRef::new(org, stream_type, Uuid::now_v7().to_string()),
            version: 2,
            event_type: event_type.into(),
            schema_version: 1,
            payload,
            metadata: EventMetadata {
                occurred_at: Utc::now(),
                actor: "service:test".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: id,
                trace_context: None,
            },
        }
    }

    /// `application.submitted` as applications records it, with fields notifications does not read.
    pub(crate) fn submitted(org: &OrgId, applicant: Uuid, language: &str) -> RecordedEvent {
        event(
            org,
            "application",
            "application.submitted",
            json!({
                "application_id": "app-1",
                "number": "KAZNU-2026-000123",
                "applicant_id": applicant,
                "applicant_name": "Aruzhan Serikova",
                "service_code": "certificate-of-study",
                "service_version": 3,
                "service_name": "Справка об обучении",
                "route": [{ "stage": 1, "department": "Dean's office", "position": "Dean" }],
                "issues_document": "certificate_of_study",
                "document_language": language,
                "email": "a@example.kz"
            }),
        )
    }

    pub(crate) fn issued(org: &OrgId, holder: Uuid, language: &str) -> RecordedEvent {
        event(
            org,
            "document",
            "document.issued",
            json!({
                "document_id": Uuid::now_v7(),
                "application_id": "app-1",
                "holder_id": holder,
                "holder_name": "Aruzhan Serikova",
                "registration_number": "KAZNU-CS-2026-000001",
                "title": "Certificate of study",
                "sha256": "00",
                "size_bytes": 1234,
                "language": language,
                "issued_at": "2026-03-17T10:00:00Z",
                "blob_key": "kaznu/x/00.pdf"
            }),
        )
    }

    async fn inbox(store: &dyn EventStore, org: &OrgId, user: Uuid) -> Inbox {
        load::<Inbox>(store, &inbox_stream(org, user)).await.expect("inbox").state
    }

    #[tokio::test]
    async fn a_submission_notifies_the_applicant_in_their_language() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let event = submitted(&kaznu, applicant, "ru");
        NotifySubmitted::new(store.clone()).handle(&event).await.expect("notified");

        let inbox = inbox(store.as_ref(), &kaznu, applicant).await;
        assert_eq!(inbox.notifications.len(), 1);
        let n = &inbox.notifications[0].recorded;
        assert_eq!(n.title, "Ваша заявка принята в обработку");
        assert!(n.body.contains("KAZNU-2026-000123") && n.body.contains("Справка об обучении"), "{}", n.body);
        assert_eq!((n.kind.as_str(), n.application_id.as_str()), ("application.submitted", "app-1"));
        assert_eq!((n.recipient_id, n.source_event_id), (applicant, event.id));
        assert_eq!(n.notification_id, notification_id(event.id));
        // Nobody else, and no other organisation, got it.
        assert!(
            load::<Inbox>(store.as_ref(), &inbox_stream(&org("kaznmu"), applicant))
                .await
                .expect("load")
                .state
                .notifications
                .is_empty()
        );

        let recorded = store.read_stream(&inbox_stream(&kaznu, applicant)).await.expect("stream");
        assert_eq!(recorded[0].event_type, "inbox.notification_recorded");
        assert_eq!(recorded[0].metadata.causation_id, event.id);
        assert_eq!(recorded[0].metadata.actor, "service:notifications");
    }

    #[tokio::test]
    async fn the_same_event_twice_notifies_once() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let event = submitted(&kaznu, applicant, "kk");
        let handler = NotifySubmitted::new(store.clone());
        handler.handle(&event).await.expect("first");
        handler.handle(&event).await.expect("redelivery");
        let inbox = inbox(store.as_ref(), &kaznu, applicant).await;
        assert_eq!(inbox.notifications.len(), 1);
        assert_eq!(inbox.notifications[0].recorded.title, "Өтінішіңіз өңдеуге қабылданды");
    }

    #[tokio::test]
    async fn a_known_address_gets_each_notification_as_one_email_in_the_same_commit() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let event = submitted(&kaznu, applicant, "kk");
        let handler = NotifySubmitted::new(store.clone());
        handler.handle(&event).await.expect("first");
        handler.handle(&event).await.expect("redelivery");

        let contact = store.read_stream(&contact_stream(&kaznu, applicant)).await.expect("contact");
        assert_eq!(contact.len(), 1);
        assert_eq!(
            (contact[0].event_type.as_str(), &contact[0].payload["language"]),
            ("contact.recorded", &json!("kk"))
        );
        let email = email_stream(&kaznu, email_id(notification_id(event.id)));
        let queued = store.read_stream(&email).await.expect("email");
        assert_eq!(queued.len(), 1, "a redelivery queues nothing new");
        assert_eq!(queued[0].event_type, "email.queued");
        assert_eq!(queued[0].payload["to"], "a@example.kz");
        assert_eq!(queued[0].payload["subject"], "Өтінішіңіз өңдеуге қабылданды");
        let inbox = store.read_stream(&inbox_stream(&kaznu, applicant)).await.expect("inbox");
        assert_eq!(inbox[0].position.commit, queued[0].position.commit, "one commit");
        assert_eq!(queued[0].position.sequence, contact[0].position.sequence + 1);

        // The document's notification goes to the address the submission taught.
        let issued = issued(&kaznu, applicant, "en");
        NotifyIssued::new(store.clone()).handle(&issued).await.expect("issued");
        let email = email_stream(&kaznu, email_id(notification_id(issued.id)));
        let queued = store.read_stream(&email).await.expect("email");
        assert_eq!((&queued[0].payload["to"], &queued[0].payload["language"]), (&json!("a@example.kz"), &json!("en")));
        assert_eq!(queued[0].payload["subject"], "Your document is ready");
    }

    #[tokio::test]
    async fn without_an_address_nothing_is_emailed() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let (applicant, holder) = (Uuid::now_v7(), Uuid::now_v7());
        let mut event = submitted(&kaznu, applicant, "ru");
        event.payload.as_object_mut().expect("object").remove("email");
        NotifySubmitted::new(store.clone()).handle(&event).await.expect("submitted");
        NotifyIssued::new(store.clone()).handle(&issued(&kaznu, holder, "ru")).await.expect("issued");
        assert!(store.list_streams(&kaznu, "email").await.expect("emails").is_empty());
        assert!(store.list_streams(&kaznu, "contact").await.expect("contacts").is_empty());
        assert_eq!(inbox(store.as_ref(), &kaznu, applicant).await.notifications.len(), 1);
    }

    #[tokio::test]
    async fn an_issued_document_notifies_its_holder() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let holder = Uuid::now_v7();
        NotifyIssued::new(store.clone()).handle(&issued(&kaznu, holder, "en")).await.expect("notified");
        let inbox = inbox(store.as_ref(), &kaznu, holder).await;
        let n = &inbox.notifications[0].recorded;
        assert_eq!((n.kind.as_str(), n.title.as_str()), ("document.issued", "Your document is ready"));
        assert!(n.body.contains("KAZNU-CS-2026-000001"));
    }

    #[tokio::test]
    async fn a_receipt_of_the_submission_is_not_announced_as_the_result() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let holder = Uuid::now_v7();
        let mut receipt = issued(&kaznu, holder, "ru");
        receipt.payload["document_type"] = json!("acceptance_notice");
        receipt.payload["receipt"] = json!(true);
        NotifyIssued::new(store.clone()).handle(&receipt).await.expect("passed over");
        assert!(inbox(store.as_ref(), &kaznu, holder).await.notifications.is_empty());
    }

    #[tokio::test]
    async fn the_holder_is_told_who_verified_their_document() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let holder = Uuid::now_v7();
        let checked = event(
            &kaznu,
            "verification",
            "verification.recorded",
            json!({
                "document_id": Uuid::now_v7(),
                "holder_id": holder,
                "application_id": "app-1",
                "registration_number": "KAZNU-CS-2026-000001",
                "language": "kk",
                "method": "number",
                "verifier": "Kaspi Bank HR",
                "source": "203.0.113.0/24",
                "status": "valid",
                "signature_valid": true,
                "verified_at": "2026-03-18T10:00:00Z"
            }),
        );
        let handler = NotifyIssued::new(store.clone());
        handler.handle(&checked).await.expect("notified");
        handler.handle(&checked).await.expect("redelivery");
        let inbox = inbox(store.as_ref(), &kaznu, holder).await;
        assert_eq!(inbox.notifications.len(), 1, "once");
        let n = &inbox.notifications[0].recorded;
        assert_eq!((n.kind.as_str(), n.title.as_str()), ("verification.recorded", "Құжатыңыз тексерілді"));
        assert!(n.body.contains("Kaspi Bank HR") && n.body.contains("KAZNU-CS-2026-000001"), "{}", n.body);
        assert_eq!(n.application_id, "app-1");
    }

    #[tokio::test]
    async fn numbers_sent_as_numbers_and_missing_languages_are_tolerated() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let mut event = submitted(&kaznu, applicant, "");
        event.payload["number"] = json!(123);
        NotifySubmitted::new(store.clone()).handle(&event).await.expect("notified");
        let n = inbox(store.as_ref(), &kaznu, applicant).await.notifications[0].recorded.clone();
        assert!(n.body.contains("123") && n.title == "Ваша заявка принята в обработку", "{n:?}");
    }

    #[tokio::test]
    async fn undecodable_events_are_poison() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let mut no_recipient = submitted(&kaznu, Uuid::now_v7(), "en");
        no_recipient.payload["applicant_id"] = json!("not a user id");
        let result = NotifySubmitted::new(store.clone()).handle(&no_recipient).await;
        assert!(matches!(result, Err(HandleError::Poison(_))));
        let mut no_holder = issued(&kaznu, Uuid::now_v7(), "en");
        no_holder.payload.as_object_mut().expect("object").remove("holder_id");
        let result = NotifyIssued::new(store.clone()).handle(&no_holder).await;
        assert!(matches!(result, Err(HandleError::Poison(_))));
    }

    /// Several notifications for one user at once: each lands once, none is lost to a lost race.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_notifications_share_an_inbox() {
        let dir = std::env::temp_dir().join(format!("onewindow-notifications-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let store = onewindow_eventlog::open(&format!("sqlite:{}", dir.join("n.db").display())).await.expect("log");
        let kaznu = org("kaznu");
        let user = Uuid::now_v7();
        let tasks = (0..6).map(|i| {
            let store = store.clone();
            let kaznu = kaznu.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    NotifySubmitted::new(store).handle(&submitted(&kaznu, user, "en")).await
                } else {
                    NotifyIssued::new(store).handle(&issued(&kaznu, user, "en")).await
                }
            })
        });
        for result in futures::future::join_all(tasks).await {
            result.expect("no panic").expect("notified");
        }
        assert_eq!(inbox(store.as_ref(), &kaznu, user).await.notifications.len(), 6);
        let _ = std::fs::remove_dir_all(dir);
    }
}
