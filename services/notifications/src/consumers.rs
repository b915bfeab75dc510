//! The consumers that turn other services' events into notifications: one per producing service.
//!
//! Each appends to the recipients' inboxes with the inbox mark of the event it reports, in one commit, so a
//! redelivered event notifies once. Several notifications may land on one inbox at once (a submission and its
//! document, on two consumers): a lost race re-reads the inbox and tries again.
//!
//! Events that carry only an application's id (accepted, completed, refused, a department's decision) reach its
//! applicant through the copy of the application kept from `application.submitted`. Each recipient's preferences
//! decide the channels: the inbox, e-mail (when an address is known), both or neither.

use std::{convert::Infallible, sync::Arc};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_commands::{Attempt, CommandError, RetryPolicy, encode_all, retry};
use onewindow_contracts::{
    applications::{self, ApplicationEvent},
    documents::{self, DocumentEvent, VerificationEvent},
    sheet::{self, Decision, SheetEvent},
};
use onewindow_eventlog::{
    Commit, EventMetadata, EventStore, InboxMark, NewEvent, OrgId, RecordedEvent, StoreError, StreamAppend, StreamRef,
    load,
};
use uuid::Uuid;

use crate::{
    SERVICE,
    domain::{INBOX, Inbox, NotificationRecorded, notification_id, record},
    mail::{CONTACT, Contact, ContactEvent, EMAIL, EmailEvent, EmailQueued, email_id, record_contact},
    preferences::{
        APPLICATION_COPY, ApplicationCopy, ApplicationCopyEvent, Channel, KnownApplication, PREFERENCES, Preferences,
    },
    texts::{self, Language, Message},
};

pub const FROM_APPLICATIONS: &str = "notifications-applications";
pub const FROM_ROUTING: &str = "notifications-routing";
pub const FROM_DOCUMENTS: &str = "notifications-documents";
/// What each consumer notifies of.
pub const APPLICATION_EVENTS: &[&str] = &[
    applications::SUBMITTED,
    applications::ACCEPTED,
    applications::COMPLETED,
    applications::REFUSED,
    applications::WITHDRAWN,
];
pub const SHEET_EVENTS: &[&str] = &[sheet::ROW_DECIDED, sheet::DEADLINE_REMINDER, sheet::DEADLINE_ESCALATED];
pub const DOCUMENT_EVENTS: &[&str] = &[documents::ISSUED, documents::VERIFICATION_RECORDED];

/// The language an event names, as the notification texts know it (Russian when it names none).
fn language_of(language: Option<onewindow_contracts::Language>) -> Language {
    Language::parse_or_default(language.map_or("", onewindow_contracts::Language::as_str))
}

/// A deadline as people read it.
fn readable_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%d.%m.%Y %H:%M UTC").to_string()
}

/// The copy of an application kept from its submission; transient when it has not arrived yet (the bus delivers
/// the event again later).
async fn known_application(
    store: &dyn EventStore,
    org: &OrgId,
    application_id: &str,
) -> Result<ApplicationCopy, HandleError> {
    let copy = load::<KnownApplication>(store, &application_copy_stream(org, application_id))
        .await
        .map_err(|e| HandleError::Transient(e.into()))?;
    copy.state.0.ok_or_else(|| {
        HandleError::Transient(anyhow::anyhow!("application {application_id} is not known yet (no submission seen)"))
    })
}

/// Notifies applicants of their application's progress (accepted for processing, taken into work, fully approved,
/// refused), and staff of a withdrawal.
pub struct NotifyFromApplications {
    store: Arc<dyn EventStore>,
}

impl NotifyFromApplications {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for NotifyFromApplications {
    fn name(&self) -> &'static str {
        FROM_APPLICATIONS
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: APPLICATION_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let store = self.store.as_ref();
        let org = &event.stream.org;
        let application_event = read::<ApplicationEvent>(event)?;
        let application_id = application_event.application_id().to_string();
        match application_event {
            ApplicationEvent::Submitted(submitted) => {
                let message =
                    Message::ApplicationSubmitted { number: &submitted.number, service_name: &submitted.service_name };
                let language = language_of(submitted.document_language);
                let copy = ApplicationCopy {
                    application_id: application_id.clone(),
                    applicant_id: submitted.applicant_id,
                    number: submitted.number.clone(),
                    service_name: submitted.service_name.clone(),
                    language: language.code().to_owned(),
                };
                let delivery = Delivery {
                    recipient: submitted.applicant_id,
                    application_id: &application_id,
                    language: Some(language),
                    learned_email: Some(&submitted.email),
                };
                deliver(store, event, FROM_APPLICATIONS, &[delivery], &message, Some(&copy)).await
            }
            ApplicationEvent::Accepted { executor_name, .. } => {
                let copy = known_application(store, org, &application_id).await?;
                let message = Message::ApplicationAccepted { number: &copy.number, executor_name: &executor_name };
                deliver(store, event, FROM_APPLICATIONS, &[Delivery::applicant(&copy)], &message, None).await
            }
            ApplicationEvent::Completed { .. } => {
                let copy = known_application(store, org, &application_id).await?;
                let message = Message::ApplicationCompleted { number: &copy.number };
                deliver(store, event, FROM_APPLICATIONS, &[Delivery::applicant(&copy)], &message, None).await
            }
            ApplicationEvent::Refused { reason, .. } => {
                let copy = known_application(store, org, &application_id).await?;
                let message = Message::ApplicationRefused { number: &copy.number, reason: &reason };
                deliver(store, event, FROM_APPLICATIONS, &[Delivery::applicant(&copy)], &message, None).await
            }
            ApplicationEvent::Withdrawn(withdrawn) => {
                let message = Message::ApplicationWithdrawn { number: &withdrawn.number, reason: &withdrawn.reason };
                let recipients = withdrawn.notify.iter().map(|n| n.user_id);
                let deliveries = Delivery::staff(recipients, &application_id);
                deliver(store, event, FROM_APPLICATIONS, &deliveries, &message, None).await
            }
            _ => Ok(()),
        }
    }
}

/// Notifies applicants of each department's decision (with its note), and approvers of deadlines.
pub struct NotifyFromRouting {
    store: Arc<dyn EventStore>,
}

impl NotifyFromRouting {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for NotifyFromRouting {
    fn name(&self) -> &'static str {
        FROM_ROUTING
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "routing", event_types: SHEET_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let store = self.store.as_ref();
        match read::<SheetEvent>(event)? {
            SheetEvent::RowDecided(decided) => {
                let application_id = decided.application_id.to_string();
                let copy = known_application(store, &event.stream.org, &application_id).await?;
                let message = Message::RowDecided {
                    number: &copy.number,
                    department: &decided.department,
                    decided_by: &decided.decided_by_name,
                    approved: decided.decision == Decision::Approve,
                    note: &decided.note,
                };
                deliver(store, event, FROM_ROUTING, &[Delivery::applicant(&copy)], &message, None).await
            }
            SheetEvent::DeadlineReminder(deadline) | SheetEvent::DeadlineEscalated(deadline) => {
                let when = readable_time(deadline.deadline_at);
                let stage = deadline.stage.to_string();
                let (number, stage, deadline_at) = (&deadline.number, &stage, when.as_str());
                let message = if event.event_type == sheet::DEADLINE_REMINDER {
                    Message::DeadlineReminder { number, stage, deadline: deadline_at }
                } else {
                    Message::DeadlineEscalated { number, stage, deadline: deadline_at }
                };
                let application_id = deadline.application_id.to_string();
                let deliveries = Delivery::staff(deadline.notify.iter().copied(), &application_id);
                deliver(store, event, FROM_ROUTING, &deliveries, &message, None).await
            }
            _ => Ok(()),
        }
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
        Subscription { service: "documents", event_types: DOCUMENT_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        if event.event_type == documents::VERIFICATION_RECORDED {
            let VerificationEvent::Recorded(checked) = read::<VerificationEvent>(event)?;
            let message = Message::DocumentVerified {
                registration_number: &checked.registration_number,
                verifier: &checked.verifier,
            };
            let delivery = Delivery {
                recipient: checked.holder_id,
                application_id: &checked.application_id,
                language: Some(Language::parse_or_default(&checked.language)),
                learned_email: None,
            };
            return deliver(self.store.as_ref(), event, FROM_DOCUMENTS, &[delivery], &message, None).await;
        }
        let DocumentEvent::Issued(issued) = read::<DocumentEvent>(event)? else { return Ok(()) };
        // The submission was notified already: only the result the applicant waits for is "ready".
        if issued.receipt {
            return Ok(());
        }
        let message = Message::DocumentIssued { registration_number: &issued.registration_number };
        let delivery = Delivery {
            recipient: issued.holder_id,
            application_id: &issued.application_id,
            language: Some(language_of(Some(issued.language))),
            learned_email: None,
        };
        deliver(self.store.as_ref(), event, FROM_DOCUMENTS, &[delivery], &message, None).await
    }
}

/// Whom a consumed event notifies, and what it tells about them.
struct Delivery<'a> {
    recipient: Uuid,
    application_id: &'a str,
    /// The language the event or the application names; else the recipient's known one, else Russian.
    language: Option<Language>,
    /// The address the event gives (`application.submitted`), recorded as the recipient's contact.
    learned_email: Option<&'a str>,
}

impl<'a> Delivery<'a> {
    fn applicant(copy: &'a ApplicationCopy) -> Self {
        Delivery {
            recipient: copy.applicant_id,
            application_id: &copy.application_id,
            language: Some(Language::parse_or_default(&copy.language)),
            learned_email: None,
        }
    }

    /// Staff named by an event, each once.
    fn staff(recipients: impl Iterator<Item = Uuid>, application_id: &'a str) -> Vec<Self> {
        let mut deliveries: Vec<Self> = Vec::new();
        for recipient in recipients {
            if !deliveries.iter().any(|d| d.recipient == recipient) {
                deliveries.push(Delivery { recipient, application_id, language: None, learned_email: None });
            }
        }
        deliveries
    }
}

/// Records `message` for every recipient (in the event's organisation) with the consumer's inbox mark, the
/// contact the event teaches, the e-mail repeating the notification when an address is known, and the copy of the
/// application when given: one commit. Each recipient's preferences choose the channels.
async fn deliver(
    store: &dyn EventStore,
    event: &RecordedEvent,
    consumer: &'static str,
    deliveries: &[Delivery<'_>],
    message: &Message<'_>,
    copy: Option<&ApplicationCopy>,
) -> Result<(), HandleError> {
    let org = &event.stream.org;
    let metadata = &onewindow_server::reaction_metadata(SERVICE, event);
    let mark = &InboxMark { consumer: consumer.to_owned(), event_id: event.id };
    // Not one aggregate: every recipient's inbox, contact and e-mail are read again on each attempt.
    retry(store, RetryPolicy::DEFAULT, move |_| async move {
        let mut appends = Vec::new();
        if let Some(copy) = copy {
            let stream = application_copy_stream(org, &copy.application_id);
            if store.stream_version(&stream).await? == 0 {
                let recorded = [ApplicationCopyEvent::Recorded(copy.clone())];
                appends.push(StreamAppend { stream, expected_version: 0, events: encoded(&recorded, metadata)? });
            }
        }
        for delivery in deliveries {
            appends.extend(plan(store, event, delivery, message, metadata).await?);
        }
        // With no event (already in the inbox) the mark alone is committed, so the redelivery is recorded too.
        Ok::<_, CommandError<Infallible>>(Attempt::Commit(Commit { appends, inbox: Some(mark.clone()) }, ()))
    })
    .await?;
    Ok(())
}

/// What notifying one recipient appends: the notification, the contact learned, the e-mail.
async fn plan(
    store: &dyn EventStore,
    event: &RecordedEvent,
    delivery: &Delivery<'_>,
    message: &Message<'_>,
    metadata: &EventMetadata,
) -> Result<Vec<StreamAppend>, StoreError> {
    let org = &event.stream.org;
    let recipient = delivery.recipient;
    let stream = inbox_stream(org, recipient);
    let contact_stream = contact_stream(org, recipient);
    let inbox = load::<Inbox>(store, &stream).await?;
    let contact = load::<Contact>(store, &contact_stream).await?;
    let preferences = load::<Preferences>(store, &preferences_stream(org, recipient)).await?.state;
    let language = delivery
        .language
        .or_else(|| contact.state.language.as_deref().map(Language::parse_or_default))
        .unwrap_or(Language::Ru);
    let learned = match delivery.learned_email {
        Some(email) => record_contact(&contact.state, email, language.code()),
        None => Vec::new(),
    };
    let address = match learned.first() {
        Some(ContactEvent::Recorded { email, .. }) => Some(email.clone()),
        None => contact.state.email.clone(),
    };
    let text = texts::render(message, language);
    let kind = message.kind();
    let notification = NotificationRecorded {
        notification_id: notification_id(event.id, recipient),
        recipient_id: recipient,
        application_id: delivery.application_id.to_owned(),
        kind: kind.to_owned(),
        title: text.title.clone(),
        body: text.body.clone(),
        source_event_id: event.id,
    };
    let email_id = email_id(notification.notification_id);
    let recorded =
        if preferences.enabled(kind, Channel::InSystem) { record(&inbox.state, notification) } else { Vec::new() };
    let email = email_stream(org, email_id);
    // One e-mail per notification: a redelivery finds it queued and queues nothing new.
    let email_version = store.stream_version(&email).await?;
    let queued = match address {
        Some(to) if email_version == 0 && preferences.enabled(kind, Channel::Email) => {
            let rendered = texts::email(&text, language);
            vec![EmailEvent::Queued(EmailQueued {
                email_id,
                to,
                language: language.code().to_owned(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
            })]
        }
        _ => Vec::new(),
    };
    Ok(vec![
        StreamAppend { stream, expected_version: inbox.version, events: encoded(&recorded, metadata)? },
        StreamAppend {
            stream: contact_stream,
            expected_version: contact.version,
            events: encoded(&learned, metadata)?,
        },
        StreamAppend { stream: email, expected_version: email_version, events: encoded(&queued, metadata)? },
    ])
}

fn encoded<E: serde::Serialize + onewindow_eventlog::EventSchema>(
    events: &[E],
    metadata: &EventMetadata,
) -> Result<Vec<NewEvent>, StoreError> {
    Ok(encode_all(events, metadata)?)
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

pub fn preferences_stream(org: &OrgId, user_id: Uuid) -> StreamRef {
    StreamRef::new(org, PREFERENCES, user_id.to_string())
}

pub fn application_copy_stream(org: &OrgId, application_id: &str) -> StreamRef {
    StreamRef::new(org, APPLICATION_COPY, application_id)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use onewindow_eventlog::Position;
    use serde_json::{Value, json};

    use super::*;

    /// The application the tests' events are about.
    pub(crate) const APP_ID: &str = "0193a1b2-0000-7000-8000-000000000001";
    const UNKNOWN_APP_ID: &str = "0193a1b2-0000-7000-8000-000000000009";

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
                "application_id": APP_ID,
                "number": "KAZNU-2026-000123",
                "applicant_id": applicant,
                "applicant_name": "Aruzhan Serikova",
                "service_code": "certificate-of-study",
                "service_version": 3,
                "service_name": "Справка об обучении",
                "route": [{ "stage": 1, "department": "Dean's office", "position": "Dean" }],
                "issues_document": "certificate_of_study",
                "document_language": (!language.is_empty()).then_some(language),
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
                "application_id": APP_ID,
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
        NotifyFromApplications::new(store.clone()).handle(&event).await.expect("notified");

        let inbox = inbox(store.as_ref(), &kaznu, applicant).await;
        assert_eq!(inbox.notifications.len(), 1);
        let n = &inbox.notifications[0].recorded;
        assert_eq!(n.title, "Ваша заявка принята в обработку");
        assert!(n.body.contains("KAZNU-2026-000123") && n.body.contains("Справка об обучении"), "{}", n.body);
        assert_eq!((n.kind.as_str(), n.application_id.as_str()), ("application.submitted", APP_ID));
        assert_eq!((n.recipient_id, n.source_event_id), (applicant, event.id));
        assert_eq!(n.notification_id, notification_id(event.id, applicant));
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
        let handler = NotifyFromApplications::new(store.clone());
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
        let handler = NotifyFromApplications::new(store.clone());
        handler.handle(&event).await.expect("first");
        handler.handle(&event).await.expect("redelivery");

        let contact = store.read_stream(&contact_stream(&kaznu, applicant)).await.expect("contact");
        assert_eq!(contact.len(), 1);
        assert_eq!(
            (contact[0].event_type.as_str(), &contact[0].payload["language"]),
            ("contact.recorded", &json!("kk"))
        );
        let email = email_stream(&kaznu, email_id(notification_id(event.id, applicant)));
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
        let email = email_stream(&kaznu, email_id(notification_id(issued.id, applicant)));
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
        event.payload["email"] = json!("");
        NotifyFromApplications::new(store.clone()).handle(&event).await.expect("submitted");
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
                "application_id": APP_ID,
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
        assert_eq!(n.application_id, APP_ID);
    }

    #[tokio::test]
    async fn a_submission_of_a_service_that_issues_no_document_is_notified_in_russian() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        // Applications writes `"document_language": null` for a service that issues no document.
        let event = submitted(&kaznu, applicant, "");
        assert!(event.payload["document_language"].is_null());
        NotifyFromApplications::new(store.clone()).handle(&event).await.expect("notified");
        let n = inbox(store.as_ref(), &kaznu, applicant).await.notifications[0].recorded.clone();
        assert!(n.body.contains("KAZNU-2026-000123") && n.title == "Ваша заявка принята в обработку", "{n:?}");
    }

    #[tokio::test]
    async fn undecodable_events_are_poison() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let mut no_recipient = submitted(&kaznu, Uuid::now_v7(), "en");
        no_recipient.payload["applicant_id"] = json!("not a user id");
        let result = NotifyFromApplications::new(store.clone()).handle(&no_recipient).await;
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
                    NotifyFromApplications::new(store).handle(&submitted(&kaznu, user, "en")).await
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

    /// A store where `applicant` submitted application APP_ID in `language` (so it is known), with an address.
    async fn known(language: &str) -> (Arc<dyn EventStore>, OrgId, Uuid) {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        NotifyFromApplications::new(store.clone())
            .handle(&submitted(&kaznu, applicant, language))
            .await
            .expect("submitted");
        (store, kaznu, applicant)
    }

    fn newest(inbox: &Inbox) -> NotificationRecorded {
        inbox.notifications.last().expect("a notification").recorded.clone()
    }

    #[tokio::test]
    async fn the_applicant_follows_acceptance_completion_and_refusal_in_their_language() {
        let (store, kaznu, applicant) = known("ru").await;
        let handler = NotifyFromApplications::new(store.clone());
        let accepted = event(
            &kaznu,
            "application",
            "application.accepted",
            json!({
                "application_id": APP_ID, "executor_id": Uuid::now_v7(), "executor_name": "Dana Executor",
                "accepted_by_id": Uuid::now_v7(), "accepted_by_name": "Dana Executor"
            }),
        );
        handler.handle(&accepted).await.expect("accepted");
        let n = newest(&inbox(store.as_ref(), &kaznu, applicant).await);
        assert_eq!((n.kind.as_str(), n.title.as_str()), ("application.accepted", "Ваша заявка взята в работу"));
        assert!(n.body.contains("KAZNU-2026-000123") && n.body.contains("Dana Executor"), "{}", n.body);
        assert_eq!(n.application_id, APP_ID);

        handler
            .handle(&event(&kaznu, "application", "application.completed", json!({ "application_id": APP_ID })))
            .await
            .expect("completed");
        assert_eq!(newest(&inbox(store.as_ref(), &kaznu, applicant).await).title, "Заявка согласована всеми");
        let refused = event(
            &kaznu,
            "application",
            "application.refused",
            json!({
                "application_id": APP_ID, "reason": "не является студентом"
            }),
        );
        handler.handle(&refused).await.expect("refused");
        let n = newest(&inbox(store.as_ref(), &kaznu, applicant).await);
        assert_eq!(n.title, "В заявке отказано");
        assert!(n.body.contains("Причина: не является студентом"), "{}", n.body);
        // Each went to the address the submission taught, in Russian.
        let mut emails = store.read_stream_type(&kaznu, "email").await.expect("emails");
        emails.sort_by_key(|e| e.position);
        let subjects: Vec<_> = emails.iter().map(|e| e.payload["subject"].as_str().unwrap_or_default()).collect();
        assert_eq!(
            subjects,
            [
                "Ваша заявка принята в обработку",
                "Ваша заявка взята в работу",
                "Заявка согласована всеми",
                "В заявке отказано"
            ]
        );
    }

    #[tokio::test]
    async fn each_decision_reaches_the_applicant_with_its_note() {
        let (store, kaznu, applicant) = known("en").await;
        let handler = NotifyFromRouting::new(store.clone());
        let decided = |decision: &str, department: &str, note: &str| {
            event(
                &kaznu,
                "sheet",
                "sheet.row_decided",
                json!({
                    "application_id": APP_ID, "row": 0, "department": department, "decision": decision,
                    "decided_by_id": Uuid::now_v7(), "decided_by_name": "G. Abenova", "decided_by_position": "Dean",
                    "note": note,
                    "decided_at": "2026-03-17T10:00:00Z", "deemed": false
                }),
            )
        };
        handler.handle(&decided("approved", "Dean's office", "all in order")).await.expect("approved");
        let n = newest(&inbox(store.as_ref(), &kaznu, applicant).await);
        assert_eq!((n.kind.as_str(), n.title.as_str()), ("sheet.row_decided", "Approved by Dean's office"));
        assert!(n.body.contains("G. Abenova") && n.body.contains("Note: all in order"), "{}", n.body);
        handler.handle(&decided("rejected", "Registrar", "attach the order")).await.expect("rework");
        let n = newest(&inbox(store.as_ref(), &kaznu, applicant).await);
        assert_eq!(n.title, "Your application needs rework");
        assert!(n.body.contains("Registrar") && n.body.contains("Reason: attach the order"), "{}", n.body);
    }

    #[tokio::test]
    async fn an_event_about_an_application_not_yet_known_is_retried_later() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let early = event(&kaznu, "application", "application.completed", json!({ "application_id": UNKNOWN_APP_ID }));
        let result = NotifyFromApplications::new(store.clone()).handle(&early).await;
        assert!(matches!(result, Err(HandleError::Transient(_))), "{result:?}");
        assert!(store.list_streams(&kaznu, "inbox").await.expect("inboxes").is_empty());
    }

    #[tokio::test]
    async fn a_withdrawal_tells_the_executor_and_every_approver_once() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let (executor, dean, registrar) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let withdrawn = event(
            &kaznu,
            "application",
            "application.withdrawn",
            json!({
                "application_id": APP_ID, "number": "KAZNU-2026-000123", "applicant_id": Uuid::now_v7(),
                "reason": "no longer needed", "from_status": "in_work",
                "notify": [
                    { "user_id": executor, "role": "executor" },
                    { "user_id": dean, "role": "approver" },
                    { "user_id": registrar, "role": "approver" },
                    { "user_id": dean, "role": "approver" }
                ]
            }),
        );
        let handler = NotifyFromApplications::new(store.clone());
        handler.handle(&withdrawn).await.expect("withdrawn");
        handler.handle(&withdrawn).await.expect("redelivered");
        for user in [executor, dean, registrar] {
            let inbox = inbox(store.as_ref(), &kaznu, user).await;
            assert_eq!(inbox.notifications.len(), 1, "once each");
            let n = &inbox.notifications[0].recorded;
            assert_eq!((n.kind.as_str(), n.title.as_str()), ("application.withdrawn", "Заявка отозвана"));
            assert!(n.body.contains("KAZNU-2026-000123") && n.body.contains("no longer needed"), "{}", n.body);
            assert_eq!(n.notification_id, notification_id(withdrawn.id, user));
        }
    }

    #[tokio::test]
    async fn deadlines_remind_and_escalate_to_whom_routing_names() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let kaznu = org("kaznu");
        let (approver, head) = (Uuid::now_v7(), Uuid::now_v7());
        let handler = NotifyFromRouting::new(store.clone());
        let deadline = |event_type: &str, notify: Uuid| {
            event(
                &kaznu,
                "sheet",
                event_type,
                json!({
                    "application_id": APP_ID, "number": "KAZNU-2026-000123", "stage": 2,
                    "deadline_at": "2026-12-01T13:00:00Z", "notify": [notify]
                }),
            )
        };
        handler.handle(&deadline("sheet.deadline_reminder", approver)).await.expect("reminder");
        handler.handle(&deadline("sheet.deadline_escalated", head)).await.expect("escalation");
        let reminded = newest(&inbox(store.as_ref(), &kaznu, approver).await);
        assert_eq!(
            (reminded.kind.as_str(), reminded.title.as_str()),
            ("sheet.deadline_reminder", "Подходит срок согласования")
        );
        assert!(
            reminded.body.contains("этап 2") && reminded.body.contains("01.12.2026 13:00 UTC"),
            "{}",
            reminded.body
        );
        let escalated = inbox(store.as_ref(), &kaznu, head).await;
        assert_eq!(escalated.notifications.len(), 1);
        assert_eq!(escalated.notifications[0].recorded.kind, "sheet.deadline_escalated");
    }

    #[tokio::test]
    async fn preferences_choose_the_channels() {
        use crate::preferences::{PreferencesEvent, Setting};
        let (store, kaznu, applicant) = known("kk").await;
        // The applicant wants acceptance by e-mail only, and completion in the system only.
        let off = PreferencesEvent::Changed {
            settings: vec![
                Setting { kind: "application.accepted".into(), channel: Channel::InSystem, enabled: false },
                Setting { kind: "application.completed".into(), channel: Channel::Email, enabled: false },
            ],
        };
        let metadata = onewindow_server::request_metadata(applicant.to_string(), None);
        let encoded = onewindow_eventlog::encode(&off, &metadata).expect("encode");
        store.commit(Commit::append(preferences_stream(&kaznu, applicant), 0, vec![encoded])).await.expect("set");

        let handler = NotifyFromApplications::new(store.clone());
        let accepted = json!({
            "application_id": APP_ID, "executor_id": Uuid::now_v7(), "executor_name": "Dana Executor",
            "accepted_by_id": Uuid::now_v7(), "accepted_by_name": "Dana Executor"
        });
        let accepted = event(&kaznu, "application", "application.accepted", accepted);
        let completed = event(&kaznu, "application", "application.completed", json!({ "application_id": APP_ID }));
        handler.handle(&accepted).await.expect("accepted");
        handler.handle(&completed).await.expect("completed");
        let kinds: Vec<_> = inbox(store.as_ref(), &kaznu, applicant)
            .await
            .notifications
            .iter()
            .map(|n| n.recorded.kind.clone())
            .collect();
        assert_eq!(kinds, ["application.submitted", "application.completed"]);
        let accepted_email = email_stream(&kaznu, email_id(notification_id(accepted.id, applicant)));
        assert_eq!(store.read_stream(&accepted_email).await.expect("email").len(), 1, "accepted by e-mail");
        let completed_email = email_stream(&kaznu, email_id(notification_id(completed.id, applicant)));
        assert!(store.read_stream(&completed_email).await.expect("email").is_empty(), "completion not e-mailed");
        // A redelivery of the e-mail-only notification queues nothing new.
        handler.handle(&accepted).await.expect("redelivered");
        assert_eq!(store.read_stream(&accepted_email).await.expect("email").len(), 1);
    }
}
