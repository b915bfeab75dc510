//! Webhooks: the consumer queuing a delivery per webhook that wants a public event, and the sender POSTing each
//! queued delivery, signed, until the receiver accepts it (a 2xx), retrying with backoff, then dead-lettering.
//!
//! Every failed attempt is recorded in the delivery's stream, so integrators see what happened
//! (`ListWebhookDeliveries`) and a restart does not send a delivered event again.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, RecordedEvent, StoreError, StreamAppend, StreamRef,
    encode, load,
};
use tokio_util::sync::CancellationToken;

use crate::{
    SERVICE,
    public::{self, STATUS_OF},
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
        Subscription { service: "applications", event_types: STATUS_OF.iter().map(|(t, _)| *t).collect() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let Some(cloud_event) = public::status_changed(event) else { return Ok(()) };
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
            let encoded = encode(&queued, 1, &metadata).map_err(|e| HandleError::Poison(e.into()))?;
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

/// How often and how patiently a failing delivery is tried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    /// Doubled after every failure.
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        // 1 + 2 + 4 + ... + 64 s: about two minutes of a receiver's outage before the dead letter.
        Self { attempts: 8, first_delay: Duration::from_secs(1) }
    }
}

pub struct WebhookSender {
    store: Arc<dyn EventStore>,
    transport: Arc<dyn WebhookTransport>,
    retry: Retry,
}

impl WebhookSender {
    pub fn new(store: Arc<dyn EventStore>, transport: Arc<dyn WebhookTransport>, retry: Retry) -> Self {
        Self { store, transport, retry }
    }

    /// Delivers what was queued since the checkpoint; returns how many deliveries were handled.
    pub async fn send_pending(&self) -> Result<usize, StoreError> {
        let mut handled = 0;
        loop {
            let after = self.store.load_checkpoint(CHECKPOINT).await?;
            let batch = self.store.read_all(after, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.position) else { return Ok(handled) };
            let to_send = |e: &&RecordedEvent| {
                e.event_type == "webhook_delivery.queued" || e.event_type == "webhook_delivery.retry_requested"
            };
            for event in batch.iter().filter(to_send) {
                self.deliver(event).await?;
                handled += 1;
                self.store.save_checkpoint(CHECKPOINT, event.position).await?;
            }
            self.store.save_checkpoint(CHECKPOINT, last).await?;
        }
    }

    /// Delivers until shutdown, waking on every local commit and polling for other replicas' commits.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut appended = self.store.appended();
        let mut failures = 0u32;
        loop {
            match self.send_pending().await {
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "reading the webhook outbox failed; retrying");
                }
            }
            let pause = if failures == 0 { POLL } else { Duration::from_millis(200 * 2u64.pow(failures.min(6))) };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = appended.changed(), if failures == 0 => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn deliver(&self, queued: &RecordedEvent) -> Result<(), StoreError> {
        let stream = queued.stream.clone();
        let delivery = load::<Delivery>(self.store.as_ref(), &stream).await?;
        let Some(pending) = delivery.state.pending().cloned() else { return Ok(()) };
        let Some(secret) = self.secret(&stream, pending.webhook_id).await? else {
            return self
                .record(
                    queued,
                    &stream,
                    delivery.version,
                    DeliveryEvent::DeadLettered {
                        attempts: delivery.state.attempts,
                        reason: "the webhook no longer exists".into(),
                    },
                )
                .await
                .map(|_| ());
        };
        let mut version = delivery.version;
        let mut delay = self.retry.first_delay;
        let mut attempt = delivery.state.attempts + 1;
        loop {
            let post = SignedPost {
                url: pending.url.clone(),
                body: pending.body.clone(),
                headers: vec![
                    ("Content-Type", "application/cloudevents+json".to_owned()),
                    (DELIVERY_HEADER, pending.delivery_id.to_string()),
                    (SIGNATURE_HEADER, signature(&secret, chrono::Utc::now().timestamp(), &pending.body)),
                ],
            };
            let outcome = match self.transport.post(&post).await {
                Ok(status_code) => DeliveryEvent::Delivered { attempts: attempt, status_code },
                Err(error) if attempt >= self.retry.attempts => {
                    tracing::error!(delivery_id = %pending.delivery_id, %error, attempt, "webhook delivery dead-lettered");
                    DeliveryEvent::DeadLettered { attempts: attempt, reason: error.to_string() }
                }
                Err(error) => {
                    tracing::warn!(delivery_id = %pending.delivery_id, %error, attempt, "webhook delivery failed; retrying");
                    let failed = DeliveryEvent::AttemptFailed { attempt, error: error.to_string() };
                    let Some(next) = self.record(queued, &stream, version, failed).await? else { return Ok(()) };
                    version = next;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                    continue;
                }
            };
            self.record(queued, &stream, version, outcome).await?;
            return Ok(());
        }
    }

    /// The webhook's secret, read now: a delivery queued long ago is signed with the webhook's current key.
    async fn secret(&self, delivery: &StreamRef, webhook_id: uuid::Uuid) -> Result<Option<String>, StoreError> {
        let stream = StreamRef::new(&delivery.org, WEBHOOK, webhook_id.to_string());
        Ok(load::<Webhook>(self.store.as_ref(), &stream).await?.state.registered.map(|w| w.secret))
    }

    /// Appends one event to the delivery; the new version, or `None` when another replica wrote first (it then
    /// owns the delivery).
    async fn record(
        &self,
        queued: &RecordedEvent,
        stream: &StreamRef,
        version: i64,
        event: DeliveryEvent,
    ) -> Result<Option<i64>, StoreError> {
        let metadata = EventMetadata {
            occurred_at: chrono::Utc::now(),
            actor: format!("service:{SERVICE}"),
            correlation_id: queued.metadata.correlation_id,
            causation_id: queued.id,
            trace_context: queued.metadata.trace_context.clone(),
        };
        let encoded = encode(&event, 1, &metadata)?;
        match self.store.commit(Commit::append(stream.clone(), version, vec![encoded])).await {
            Ok(_) => Ok(Some(version + 1)),
            Err(StoreError::Concurrency { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    };

    use hmac::{Hmac, Mac};
    use onewindow_auth::{Authenticator, Principal, Role, SigningKeyPair, StaticKeySource, TokenIssuer};
    use onewindow_eventlog::{OrgId, Position};
    use onewindow_proto::notifications::v1::{
        ListWebhookDeliveriesRequest, ListWebhooksRequest, RegisterWebhookRequest,
        integrations_service_server::IntegrationsService,
    };
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };
    use tonic::Request;
    use uuid::Uuid;

    use super::*;
    use crate::{http::Http, integrations::IntegrationsApi, public::tests::life};

    /// One request the receiver accepted.
    #[derive(Debug, Clone)]
    struct Received {
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    /// A local HTTP receiver answering 503 to its first `failures` requests and 200 after, logging what it accepted.
    struct Receiver {
        url: String,
        tries: Arc<AtomicU32>,
        accepted: Arc<Mutex<Vec<Received>>>,
    }

    async fn receiver(failures: u32) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks/onewindow", listener.local_addr().expect("addr"));
        let tries = Arc::new(AtomicU32::new(0));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (tries.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (counter, log) = (counter.clone(), log.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else { return };
                    let status = if counter.fetch_add(1, Ordering::SeqCst) < failures {
                        "503 Service Unavailable"
                    } else {
                        log.lock().expect("lock").push(request);
                        "200 OK"
                    };
                    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Receiver { url, tries, accepted }
    }

    /// Reads one HTTP/1.1 request with a Content-Length body.
    async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buffer[head_end + 4..].to_vec();
        while body.len() < length {
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        Some(Received { headers, body: String::from_utf8(body).ok()? })
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
        let events = life("app-1");
        for event in &events {
            queuer.handle(event).await.expect("queued");
        }
        queuer.handle(&events[0]).await.expect("a redelivery queues nothing new");
        let sender = WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), QUICK);
        assert_eq!(sender.send_pending().await.expect("sent"), 5);

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
        sender.send_pending().await.expect("again");
        assert_eq!(receiver.accepted.lock().expect("lock").len(), 5);
    }

    #[tokio::test]
    async fn a_receiver_that_keeps_failing_becomes_a_dead_letter_an_administrator_can_retry() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let receiver = receiver(QUICK.attempts).await;
        let integrator = integrator(store.clone()).await;
        let request = RegisterWebhookRequest { url: receiver.url.clone(), event_types: vec![] };
        integrator.api.register_webhook(authed(request, &integrator.token)).await.expect("registered");
        QueueWebhookDeliveries::new(store.clone()).handle(&life("app-2")[0]).await.expect("queued");
        WebhookSender::new(store.clone(), Arc::new(Http::new().expect("client")), QUICK)
            .send_pending()
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
            .send_pending()
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
        let mut elsewhere = life("app-3")[0].clone();
        elsewhere.stream.org = OrgId::parse("kaznmu").expect("org");
        let queuer = QueueWebhookDeliveries::new(store.clone());
        queuer.handle(&elsewhere).await.expect("handled");
        let mut internal = life("app-3")[0].clone();
        internal.event_type = "application.created".into();
        queuer.handle(&internal).await.expect("handled");
        assert!(store.list_streams(&integrator.principal.org, WEBHOOK_DELIVERY).await.expect("list").is_empty());
        assert!(store.list_streams(&elsewhere.stream.org, WEBHOOK_DELIVERY).await.expect("list").is_empty());
    }
}
