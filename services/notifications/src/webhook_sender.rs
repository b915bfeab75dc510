//! Webhooks: the consumer queuing a delivery per webhook that wants a public event, and the sender POSTing each
//! queued delivery, signed, until the receiver accepts it (a 2xx), retrying with backoff, then dead-lettering.
//!
//! Every failed attempt is recorded in the delivery's stream with when to try again, so integrators see what
//! happened (`ListWebhookDeliveries`), a restart does not send a delivered event again nor forget a retry, and a
//! receiver that is down delays only its own deliveries.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, RecordedEvent, StoreError, StreamAppend, StreamRef,
    encode, load,
};
use onewindow_server::{Clock, SystemClock};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    SERVICE, public,
    sender::Retry,
    webhooks::{
        DELIVERY_HEADER, Delivery, DeliveryEvent, DeliveryQueued, SIGNATURE_HEADER, WEBHOOK, WEBHOOK_DELIVERY, Webhook,
        delivery_id, signature,
    },
};

pub const QUEUER: &str = "notifications-webhooks";
pub const CHECKPOINT: &str = "webhook-sender";

const POLL: Duration = Duration::from_secs(1);
const BATCH: usize = 200;

/// Queues a delivery of each public event to every webhook of its organisation that wants it.
pub struct QueueWebhookDeliveries {
    store: Arc<dyn EventStore>,
}

impl QueueWebhookDeliveries {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for QueueWebhookDeliveries {
    fn name(&self) -> &'static str {
        QUEUER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: public::status_types() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let cloud_event = public::status_changed(event).map_err(|e| HandleError::Poison(e.into()))?;
        let Some(cloud_event) = cloud_event else { return Ok(()) };
        let transient = |e: StoreError| HandleError::Transient(e.into());
        let body = serde_json::to_string(&cloud_event).map_err(|e| HandleError::Poison(e.into()))?;
        let org = &event.stream.org;
        let metadata = onewindow_server::reaction_metadata(SERVICE, event);
        let mut appends = Vec::new();
        for webhook_id in self.store.list_streams(org, WEBHOOK).await.map_err(transient)? {
            let webhook = load::<Webhook>(self.store.as_ref(), &StreamRef::new(org, WEBHOOK, webhook_id.as_str()))
                .await
                .map_err(transient)?;
            let Some(webhook) = webhook.state.registered.filter(|w| w.wants(&cloud_event.event_type)) else {
                continue;
            };
            let delivery_id = delivery_id(webhook.webhook_id, cloud_event.id);
            let stream = delivery_stream(org, delivery_id);
            // Queued before (a redelivery after a lost mark): nothing new.
            if self.store.stream_version(&stream).await.map_err(transient)? > 0 {
                continue;
            }
            let queued = DeliveryEvent::Queued(DeliveryQueued {
                delivery_id,
                webhook_id: webhook.webhook_id,
                integrator_id: webhook.integrator_id,
                url: webhook.url.clone(),
                event_id: cloud_event.id,
                event_type: cloud_event.event_type.clone(),
                body: body.clone(),
            });
            let encoded = encode(&queued, &metadata).map_err(|e| HandleError::Poison(e.into()))?;
            appends.push(StreamAppend { stream, expected_version: 0, events: vec![encoded] });
        }
        let mark = InboxMark { consumer: QUEUER.to_owned(), event_id: event.id };
        match self.store.commit(Commit { appends, inbox: Some(mark) }).await {
            Ok(CommitOutcome::Committed { .. } | CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => Ok(()),
            // A concurrent handling of the same event queued them: the bus delivers it again, and then it is known.
            Err(error) => Err(transient(error)),
        }
    }
}

pub fn delivery_stream(org: &onewindow_eventlog::OrgId, delivery_id: uuid::Uuid) -> StreamRef {
    StreamRef::new(org, WEBHOOK_DELIVERY, delivery_id.to_string())
}

/// One signed POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPost {
    pub url: String,
    pub body: String,
    /// Header name and value, the signature and the delivery id among them.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("{0}")]
    Transport(String),
}

/// The port the sender POSTs through (HTTP in production).
#[async_trait]
pub trait WebhookTransport: Send + Sync + 'static {
    /// The receiver's status code when it is a success (2xx).
    async fn post(&self, request: &SignedPost) -> Result<u16, PostError>;
}

pub struct WebhookSender {
    store: Arc<dyn EventStore>,
    transport: Arc<dyn WebhookTransport>,
    retry: Retry,
    /// When an attempt is due, and the times it records (tests move it).
    clock: Arc<dyn Clock>,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// POSTs made.
    pub attempts: usize,
    /// When the earliest delivery waiting for its retry is due, if one is.
    pub next_due: Option<DateTime<Utc>>,
}

/// A pending delivery found in the log, with what its attempt needs.
struct Candidate {
    /// Where its first event (the queueing) stands: the order of a webhook's deliveries.
    queued_at: onewindow_eventlog::Position,
    /// The position before the event that made it a candidate: where the checkpoint waits while it is pending.
    before: onewindow_eventlog::Position,
    cause: RecordedEvent,
    state: Delivery,
    version: i64,
}

/// The events after which a delivery may have an attempt to make.
fn schedules_an_attempt(event_type: &str) -> bool {
    matches!(
        event_type,
        "webhook_delivery.queued" | "webhook_delivery.retry_requested" | "webhook_delivery.attempt_failed"
    )
}

impl WebhookSender {
    pub fn new(store: Arc<dyn EventStore>, transport: Arc<dyn WebhookTransport>, retry: Retry) -> Self {
        Self { store, transport, retry, clock: Arc::new(SystemClock) }
    }

    /// Sends by `clock` instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Makes every attempt that is due and records each outcome; a failed attempt records when to try again
    /// (`attempt_failed.retry_at`). Each webhook gets its deliveries in the order they were queued: while one
    /// waits for its retry, the later ones of the same webhook wait too, and other webhooks are not held up.
    ///
    /// The checkpoint stays just before the oldest delivery still pending, so a restart finds it again from the log
    /// alone; deliveries already finished are passed over.
    pub async fn send_pending(&self) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        let mut after = self.store.load_checkpoint(CHECKPOINT).await?;
        // Pending deliveries per webhook, by the position they were queued at.
        let mut pending: BTreeMap<Uuid, Vec<Candidate>> = BTreeMap::new();
        loop {
            let batch = self.store.read_all(after, BATCH).await?;
            if batch.is_empty() {
                break;
            }
            for event in batch {
                let before = after;
                after = event.position;
                if !schedules_an_attempt(&event.event_type) {
                    continue;
                }
                let delivery = load::<Delivery>(self.store.as_ref(), &event.stream).await?;
                // Only the stream's last event schedules its next attempt; finished deliveries have none.
                let Some(webhook_id) = delivery.state.pending().map(|p| p.webhook_id) else { continue };
                if delivery.version != event.version {
                    continue;
                }
                let queued_at = delivery.events.first().map_or(event.position, |e| e.position);
                let candidate =
                    Candidate { queued_at, before, cause: event, state: delivery.state, version: delivery.version };
                pending.entry(webhook_id).or_default().push(candidate);
            }
        }
        let mut hold: Option<onewindow_eventlog::Position> = None;
        for (_, mut deliveries) in pending {
            deliveries.sort_by_key(|c| c.queued_at);
            let mut waiting = false;
            for candidate in deliveries {
                let now = self.clock.now();
                let due = candidate.state.next_attempt_at.filter(|due| *due > now);
                if !waiting {
                    if let Some(due) = due {
                        pass.next_due = Some(pass.next_due.map_or(due, |d| d.min(due)));
                        waiting = true;
                    } else {
                        pass.attempts += 1;
                        let retry_at = self.attempt(&candidate.cause, &candidate.state, candidate.version).await?;
                        // A failed attempt is followed by its `attempt_failed`, which the next pass reads.
                        if let Some(due) = retry_at {
                            pass.next_due = Some(pass.next_due.map_or(due, |d| d.min(due)));
                            waiting = true;
                        }
                        continue;
                    }
                }
                hold = Some(hold.map_or(candidate.before, |h| h.min(candidate.before)));
            }
        }
        self.store.save_checkpoint(CHECKPOINT, hold.unwrap_or(after)).await?;
        Ok(pass)
    }

    /// Delivers until shutdown, waking on every local commit, when a retry is due, and polling for other replicas.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut appended = self.store.appended();
        let mut failures = 0u32;
        loop {
            let mut pause = POLL;
            match self.send_pending().await {
                Ok(pass) => {
                    failures = 0;
                    if let Some(due) = pass.next_due {
                        let wait = (due - self.clock.now()).to_std().unwrap_or_default();
                        pause = pause.min(wait);
                    }
                }
                Err(error) => {
                    failures += 1;
                    pause = Duration::from_millis(200 * 2u64.pow(failures.min(6)));
                    tracing::warn!(%error, failures, "reading the webhook outbox failed; retrying");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = appended.changed(), if failures == 0 => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One POST of a pending delivery, and its outcome recorded; when to try again if it failed (none when the
    /// delivery is finished: delivered or dead-lettered).
    async fn attempt(
        &self,
        cause: &RecordedEvent,
        delivery: &Delivery,
        version: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(pending) = delivery.pending() else { return Ok(None) };
        let attempt = delivery.attempts + 1;
        let Some(secret) = self.secret(&cause.stream, pending.webhook_id).await? else {
            let reason = "the webhook no longer exists".to_owned();
            let dead = DeliveryEvent::DeadLettered { attempts: delivery.attempts, reason };
            return self.record(cause, version, dead).await.map(|()| None);
        };
        let post = SignedPost {
            url: pending.url.clone(),
            body: pending.body.clone(),
            headers: vec![
                ("Content-Type", "application/cloudevents+json".to_owned()),
                (DELIVERY_HEADER, pending.delivery_id.to_string()),
                (SIGNATURE_HEADER, signature(&secret, self.clock.now().timestamp(), &pending.body)),
            ],
        };
        let outcome = match self.transport.post(&post).await {
            Ok(status_code) => DeliveryEvent::Delivered { attempts: attempt, status_code },
            Err(error) if attempt >= self.retry.attempts => {
                tracing::error!(delivery_id = %pending.delivery_id, %error, attempt, "webhook delivery dead-lettered");
                DeliveryEvent::DeadLettered { attempts: attempt, reason: error.to_string() }
            }
            Err(error) => {
                tracing::warn!(delivery_id = %pending.delivery_id, %error, attempt, "webhook delivery failed; will retry");
                let backoff = self.retry.delay(attempt);
                let retry_at = self.clock.now() + chrono::Duration::from_std(backoff).unwrap_or(chrono::Duration::MAX);
                DeliveryEvent::AttemptFailed { attempt, error: error.to_string(), retry_at: Some(retry_at) }
            }
        };
        let retry_at = match &outcome {
            DeliveryEvent::AttemptFailed { retry_at, .. } => *retry_at,
            _ => None,
        };
        self.record(cause, version, outcome).await.map(|()| retry_at)
    }

    /// The webhook's secret, read now: a delivery queued long ago is signed with the webhook's current key.
    async fn secret(&self, delivery: &StreamRef, webhook_id: uuid::Uuid) -> Result<Option<String>, StoreError> {
        let stream = StreamRef::new(&delivery.org, WEBHOOK, webhook_id.to_string());
        Ok(load::<Webhook>(self.store.as_ref(), &stream).await?.state.registered.map(|w| w.secret))
    }

    /// Appends one event to the delivery; a lost race means another replica recorded this attempt (it owns it).
    async fn record(&self, cause: &RecordedEvent, version: i64, event: DeliveryEvent) -> Result<(), StoreError> {
        let metadata = EventMetadata {
            occurred_at: self.clock.now(),
            actor: format!("service:{SERVICE}"),
            correlation_id: cause.metadata.correlation_id,
            causation_id: cause.id,
            trace_context: cause.metadata.trace_context.clone(),
        };
        let encoded = encode(&event, &metadata)?;
        match self.store.commit(Commit::append(cause.stream.clone(), version, vec![encoded])).await {
            Ok(_) | Err(StoreError::Concurrency { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Passes until no delivery is pending: every retry waited for, as `run` would (tests use short delays).
    #[cfg(test)]
    pub(crate) async fn send_until_settled(&self) -> Result<usize, StoreError> {
        let mut attempts = 0;
        loop {
            let pass = self.send_pending().await?;
            attempts += pass.attempts;
            match pass.next_due {
                Some(due) => tokio::time::sleep((due - self.clock.now()).to_std().unwrap_or_default()).await,
                None if pass.attempts == 0 => return Ok(attempts),
                None => {}
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, atomic::Ordering};

    use hmac::{Hmac, Mac};
    use onewindow_auth::{Authenticator, Principal, Role, SigningKeyPair, StaticKeySource, TokenIssuer};
    use onewindow_eventlog::{OrgId, Position};
    use onewindow_proto::notifications::v1::{
        ListWebhookDeliveriesRequest, ListWebhooksRequest, RegisterWebhookRequest,
        integrations_service_server::IntegrationsService,
    };

    use tonic::Request;
    use uuid::Uuid;

    use super::*;
    use onewindow_testkit::WebhookReceiver;

    use crate::{http::Http, integrations::IntegrationsApi, public::tests::life};

    type Receiver = WebhookReceiver;

    async fn receiver(failures: u32) -> Receiver {
        WebhookReceiver::start("/hooks/onewindow", failures).await
    }

    /// Checks a signature header the way an integrator would: HMAC-SHA256 of "<t>.<body>" with the secret.
    fn verifies(secret: &str, header: &str, body: &str) -> bool {
        let Some((t, v1)) = header.split_once(',') else { return false };
        let (Some(t), Some(v1)) = (t.strip_prefix("t="), v1.strip_prefix("v1=")) else { return false };
        let Ok(expected) = hex::decode(v1) else { return false };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("{t}.{body}").as_bytes());
        mac.verify_slice(&expected).is_ok()
    }

    const QUICK: Retry = Retry { attempts: 4, first_delay: Duration::from_millis(1) };

    pub(crate) struct Integrator {
        pub(crate) api: IntegrationsApi,
        pub(crate) token: String,
        pub(crate) principal: Principal,
    }

    pub(crate) async fn integrator(store: Arc<dyn EventStore>) -> Integrator {
        let pair = SigningKeyPair::generate("test-key").expect("key");
        let auth = Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()])));
        let principal = Principal {
            user_id: Uuid::now_v7(),
            org: OrgId::parse("kaznu").expect("org"),
            roles: vec![Role::Integrator],
            full_name: "KazNU ERP".into(),
            department: String::new(),
            position: String::new(),
        };
        let issuer = TokenIssuer::new(&pair, chrono::Duration::minutes(5)).expect("issuer");
        let token = issuer.issue(&principal, chrono::Utc::now()).expect("token").0;
        Integrator { api: IntegrationsApi { store, auth }, token, principal }
    }

    pub(crate) fn authed<T>(message: T, token: &str) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
        request
    }

    #[tokio::test]
    async fn a_receiver_failing_twice_gets_each_event_exactly_once_signed() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let receiver = receiver(2).await;
        let integrator = integrator(store.clone()).await;
        let registered = integrator
            .api
            .register_webhook(authed(
                RegisterWebhookRequest { url: receiver.url.clone(), event_types: vec![public::STATUS_CHANGED.into()] },
                &integrator.token,
            ))
            .await
            .expect("registered")
            .into_inner();
        let secret = registered.secret.clone();
        assert!(secret.starts_with("whsec_"));
        let listed = integrator
            .api
            .list_webhooks(authed(ListWebhooksRequest {}, &integrator.token))
            .await
            .expect("webhooks")
            .into_inner()
            .webhooks;
        assert_eq!(listed, vec![registered.webhook.clone().expect("webhook")]);
        assert_eq!(listed[0].url, receiver.url);

        let queuer = QueueWebhookDeliveries::new(store.clone());
        let events = life(uuid::Uuid::from_u128(1));
        for event in &events {
            queuer.handle(event).await.expect("queued");
        }
        queuer.handle(&events[0]).await.expect("a redelivery queues nothing new");
        let sender = WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), QUICK);
        assert_eq!(sender.send_until_settled().await.expect("sent"), 7, "two failed attempts, then five POSTs");

        let accepted = receiver.accepted.lock().expect("lock").clone();
        assert_eq!(receiver.tries.load(Ordering::SeqCst), 7, "two refusals, then one POST per event");
        assert_eq!(accepted.len(), 5, "each event exactly once in the receiver's log");
        let mut statuses = Vec::new();
        for request in &accepted {
            let signature = request.header(SIGNATURE_HEADER).expect("signed");
            assert!(verifies(&secret, signature, &request.body), "the signature verifies");
            assert!(!verifies("whsec_other", signature, &request.body), "and only with the secret");
            assert_eq!(request.header("content-type"), Some("application/cloudevents+json"));
            let cloud_event: serde_json::Value = serde_json::from_str(&request.body).expect("json");
            assert_eq!(cloud_event["type"], public::STATUS_CHANGED);
            statuses.push(cloud_event["data"]["status"].as_str().expect("status").to_owned());
        }
        assert_eq!(statuses, ["submitted", "accepted", "in_work", "completed", "issued"]);

        let deliveries = integrator
            .api
            .list_webhook_deliveries(authed(ListWebhookDeliveriesRequest::default(), &integrator.token))
            .await
            .expect("deliveries")
            .into_inner()
            .deliveries;
        assert_eq!(deliveries.len(), 5);
        assert!(deliveries.iter().all(|d| d.status == "delivered"));
        let first = deliveries.iter().find(|d| d.attempts == 3).expect("the submitted event took three attempts");
        assert!(first.last_error.contains("503"), "{}", first.last_error);
        assert_eq!(deliveries.iter().filter(|d| d.attempts == 1).count(), 4);
        let someone_else = Principal { user_id: Uuid::now_v7(), ..integrator.principal.clone() };
        assert!(integrator.api.deliveries_of(&someone_else, None).await.expect("list").is_empty());

        // A restart that lost its checkpoint sends nothing again.
        store.save_checkpoint(CHECKPOINT, Position::START).await.expect("rewind");
        assert_eq!(sender.send_until_settled().await.expect("again"), 0);
        assert_eq!(receiver.accepted.lock().expect("lock").len(), 5);
    }

    #[tokio::test]
    async fn a_receiver_that_keeps_failing_becomes_a_dead_letter_an_administrator_can_retry() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let receiver = receiver(QUICK.attempts).await;
        let integrator = integrator(store.clone()).await;
        let request = RegisterWebhookRequest { url: receiver.url.clone(), event_types: vec![] };
        integrator.api.register_webhook(authed(request, &integrator.token)).await.expect("registered");
        QueueWebhookDeliveries::new(store.clone()).handle(&life(uuid::Uuid::from_u128(2))[0]).await.expect("queued");
        WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), QUICK)
            .send_until_settled()
            .await
            .expect("tried");
        assert_eq!(receiver.tries.load(Ordering::SeqCst), QUICK.attempts);
        let letters = crate::service::dead_letters(store.as_ref(), &integrator.principal.org).await.expect("letters");
        assert_eq!(letters.len(), 1);
        assert_eq!((letters[0].channel.as_str(), letters[0].destination.as_str()), ("webhook", receiver.url.as_str()));
        assert_eq!(letters[0].attempts, 4);
        assert!(letters[0].reason.contains("503"), "{}", letters[0].reason);

        // The receiver is mended; the administrator retries; it is delivered and no longer a dead letter.
        let org = &integrator.principal.org;
        let retry = |channel: &'static str, id: String| {
            let store = store.clone();
            async move { crate::service::retry_dead_letter(store.as_ref(), org, "admin".into(), channel, &id).await }
        };
        assert_eq!(
            retry("sms", letters[0].id.clone()).await.expect_err("channel").code(),
            tonic::Code::InvalidArgument
        );
        assert_eq!(
            retry("email", letters[0].id.clone()).await.expect_err("not an e-mail").code(),
            tonic::Code::NotFound
        );
        retry("webhook", letters[0].id.clone()).await.expect("retried");
        let again = retry("webhook", letters[0].id.clone()).await.expect_err("queued already");
        assert_eq!(again.code(), tonic::Code::FailedPrecondition);
        WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), QUICK)
            .send_until_settled()
            .await
            .expect("sent");
        assert_eq!(receiver.accepted.lock().expect("lock").len(), 1);
        assert!(crate::service::dead_letters(store.as_ref(), org).await.expect("letters").is_empty());
        let deliveries = integrator.api.deliveries_of(&integrator.principal, None).await.expect("deliveries");
        assert_eq!((deliveries[0].status.as_str(), deliveries[0].attempts), ("delivered", 1));
    }

    #[tokio::test]
    async fn webhooks_of_other_organisations_and_unwanted_types_get_nothing() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let integrator = integrator(store.clone()).await;
        let bad = RegisterWebhookRequest { url: "ftp://erp".into(), event_types: vec![] };
        let refused = integrator.api.register_webhook(authed(bad, &integrator.token)).await.expect_err("bad url");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("url"), "{}", refused.message());
        let ok = RegisterWebhookRequest { url: "http://127.0.0.1:9/".into(), event_types: vec![] };
        integrator.api.register_webhook(authed(ok, &integrator.token)).await.expect("registered");
        let mut elsewhere = life(uuid::Uuid::from_u128(3))[0].clone();
        elsewhere.stream.org = OrgId::parse("kaznmu").expect("org");
        let queuer = QueueWebhookDeliveries::new(store.clone());
        queuer.handle(&elsewhere).await.expect("handled");
        let mut internal = life(uuid::Uuid::from_u128(3))[0].clone();
        internal.event_type = "application.created".into();
        queuer.handle(&internal).await.expect("handled");
        assert!(store.list_streams(&integrator.principal.org, WEBHOOK_DELIVERY).await.expect("list").is_empty());
        assert!(store.list_streams(&elsewhere.stream.org, WEBHOOK_DELIVERY).await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn a_failing_receiver_holds_up_only_its_own_deliveries_and_gets_them_in_order_after_a_restart() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let (flaky, steady) = (receiver(1).await, receiver(0).await);
        let integrator = integrator(store.clone()).await;
        for url in [&flaky.url, &steady.url] {
            let request = RegisterWebhookRequest { url: url.clone(), event_types: vec![] };
            integrator.api.register_webhook(authed(request, &integrator.token)).await.expect("registered");
        }
        let queuer = QueueWebhookDeliveries::new(store.clone());
        for event in life(uuid::Uuid::from_u128(1)) {
            queuer.handle(&event).await.expect("queued");
        }
        let patient = Retry { attempts: 4, first_delay: Duration::from_millis(200) };
        let sender = WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), patient);
        let pass = sender.send_pending().await.expect("one pass");
        assert_eq!(pass.attempts, 6, "the flaky receiver's first delivery, and all five of the steady one");
        assert!(pass.next_due.is_some(), "a retry is scheduled");
        let statuses = |receiver: &Receiver| -> Vec<String> {
            let accepted = receiver.accepted.lock().expect("lock").clone();
            accepted
                .iter()
                .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).expect("json"))
                .map(|e| e["data"]["status"].as_str().expect("status").to_owned())
                .collect()
        };
        assert_eq!(statuses(&steady), ["submitted", "accepted", "in_work", "completed", "issued"]);
        assert_eq!(flaky.tries.load(Ordering::SeqCst), 1, "its later deliveries wait behind the failed one");

        // A restarted sender finds the waiting deliveries from the log and delivers them in order.
        let restarted = WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), patient);
        assert_eq!(restarted.send_until_settled().await.expect("settled"), 5);
        assert_eq!(statuses(&flaky), ["submitted", "accepted", "in_work", "completed", "issued"]);
        assert_eq!(statuses(&steady).len(), 5, "nothing twice");
    }
}
