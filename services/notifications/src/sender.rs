//! The e-mail sender: reads the notifications log from its checkpoint and sends every queued e-mail once.
//!
//! Each e-mail's stream says whether it was sent, so a restart (or a replayed checkpoint) does not send it again.
//! A failing send is retried with exponential backoff, then recorded as dead-lettered for operators.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use onewindow_eventlog::{Commit, EventMetadata, EventStore, RecordedEvent, StoreError, encode, load};
use onewindow_server::{Clock, SystemClock};
use tokio_util::sync::CancellationToken;

use crate::{
    SERVICE,
    mail::{Email, EmailEvent, EmailQueued},
};

pub const CHECKPOINT: &str = "email-sender";

/// How often the sender looks for e-mails queued by another replica (local commits wake it at once).
const POLL: Duration = Duration::from_secs(1);
const BATCH: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused for good (a bad address, a rejected message): retrying cannot help.
    #[error("refused: {0}")]
    Permanent(String),
    #[error("{0}")]
    Transient(String),
}

/// The port the sender sends through (SMTP in production, fakes in tests).
#[async_trait]
pub trait MailTransport: Send + Sync + 'static {
    async fn send(&self, email: &EmailQueued) -> Result<(), SendError>;
}

/// How often and how patiently a failing send to the outside (an e-mail, a webhook delivery) is tried before it is
/// dead-lettered: one shape for both senders, each with its own patience. (Not the command runner's policy: that
/// one retries lost races for a stream in milliseconds; this one waits out a receiver's outage.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    /// Doubled after every failure.
    pub first_delay: Duration,
}

impl Retry {
    /// The e-mail sender retries inline (the next e-mails wait), so briefly: 0.5 + 1 + 2 + 4 s.
    pub const EMAIL: Self = Self { attempts: 5, first_delay: Duration::from_millis(500) };
    /// 1 + 2 + 4 + ... + 1024 s: about half an hour of a receiver's outage before the dead letter (other webhooks
    /// are not held up meanwhile).
    pub const WEBHOOK: Self = Self { attempts: 12, first_delay: Duration::from_secs(1) };

    /// The wait after the `failures`th failed attempt (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        self.first_delay.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
    }
}

pub struct EmailSender {
    store: Arc<dyn EventStore>,
    transport: Arc<dyn MailTransport>,
    retry: Retry,
    /// The times the outcomes are recorded at (tests move it).
    clock: Arc<dyn Clock>,
}

impl EmailSender {
    pub fn new(store: Arc<dyn EventStore>, transport: Arc<dyn MailTransport>, retry: Retry) -> Self {
        Self { store, transport, retry, clock: Arc::new(SystemClock) }
    }

    /// Records by `clock` instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends what was queued since the checkpoint; returns how many e-mails were handled.
    pub async fn send_pending(&self) -> Result<usize, StoreError> {
        let mut handled = 0;
        loop {
            let after = self.store.load_checkpoint(CHECKPOINT).await?;
            let batch = self.store.read_all(after, BATCH).await?;
            let Some(last) = batch.last().map(|e| e.position) else { return Ok(handled) };
            // A retry an administrator asked for puts a dead letter back in the queue.
            let to_send =
                |e: &&RecordedEvent| e.event_type == "email.queued" || e.event_type == "email.retry_requested";
            for event in batch.iter().filter(to_send) {
                self.deliver(event).await?;
                handled += 1;
                self.store.save_checkpoint(CHECKPOINT, event.position).await?;
            }
            self.store.save_checkpoint(CHECKPOINT, last).await?;
        }
    }

    /// Sends until shutdown, waking on every local commit and polling for other replicas' commits.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut appended = self.store.appended();
        let mut failures = 0u32;
        loop {
            match self.send_pending().await {
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "reading the e-mail outbox failed; retrying");
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

    /// Sends one queued e-mail unless its stream says it was sent or given up on, and records the outcome.
    async fn deliver(&self, queued: &RecordedEvent) -> Result<(), StoreError> {
        let stream = queued.stream.clone();
        let email = load::<Email>(self.store.as_ref(), &stream).await?;
        let Some(pending) = email.state.pending() else { return Ok(()) };
        let outcome = match self.send_with_retry(pending).await {
            Ok(()) => EmailEvent::Sent { email_id: pending.email_id },
            Err((error, attempts)) => {
                tracing::error!(email_id = %pending.email_id, %error, attempts, "e-mail dead-lettered");
                EmailEvent::DeadLettered { email_id: pending.email_id, reason: error.to_string(), attempts }
            }
        };
        let metadata = EventMetadata {
            occurred_at: self.clock.now(),
            actor: format!("service:{SERVICE}"),
            correlation_id: queued.metadata.correlation_id,
            causation_id: queued.id,
            trace_context: queued.metadata.trace_context.clone(),
        };
        let event = encode(&outcome, &metadata)?;
        match self.store.commit(Commit::append(stream, email.version, vec![event])).await {
            // Another replica recorded this e-mail's outcome first.
            Ok(_) | Err(StoreError::Concurrency { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn send_with_retry(&self, email: &EmailQueued) -> Result<(), (SendError, u32)> {
        let mut attempt = 1;
        loop {
            match self.transport.send(email).await {
                Ok(()) => return Ok(()),
                Err(error @ SendError::Permanent(_)) => return Err((error, attempt)),
                Err(error) if attempt >= self.retry.attempts => return Err((error, attempt)),
                Err(error) => {
                    tracing::warn!(email_id = %email.email_id, %error, attempt, "sending failed; retrying");
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use onewindow_bus::EventHandler;
    use onewindow_eventlog::{OrgId, StreamRef};
    use uuid::Uuid;

    use super::*;
    use crate::consumers::{NotifyFromApplications, tests::submitted};

    /// Fails the first `failures` sends (all of them with `u32::MAX`), then accepts; remembers what it accepted.
    struct FakeTransport {
        failures: u32,
        tries: Mutex<u32>,
        sent: Mutex<Vec<EmailQueued>>,
    }

    impl FakeTransport {
        fn failing(failures: u32) -> Arc<Self> {
            Arc::new(Self { failures, tries: Mutex::new(0), sent: Mutex::new(Vec::new()) })
        }

        fn tries(&self) -> u32 {
            *self.tries.lock().expect("lock")
        }

        fn sent(&self) -> Vec<EmailQueued> {
            self.sent.lock().expect("lock").clone()
        }
    }

    #[async_trait]
    impl MailTransport for FakeTransport {
        async fn send(&self, email: &EmailQueued) -> Result<(), SendError> {
            let mut tries = self.tries.lock().expect("lock");
            *tries += 1;
            if *tries <= self.failures {
                return Err(SendError::Transient("connection refused".into()));
            }
            self.sent.lock().expect("lock").push(email.clone());
            Ok(())
        }
    }

    const QUICK: Retry = Retry { attempts: 5, first_delay: Duration::from_millis(1) };

    /// A store with one queued e-mail, from a Kazakh submission; returns its stream.
    pub(crate) async fn queued_email(store: &Arc<dyn EventStore>) -> StreamRef {
        let kaznu = OrgId::parse("kaznu").expect("org");
        NotifyFromApplications::new(store.clone())
            .handle(&submitted(&kaznu, Uuid::now_v7(), "kk"))
            .await
            .expect("notified");
        let streams = store.list_streams(&kaznu, "email").await.expect("streams");
        assert_eq!(streams.len(), 1, "one e-mail queued");
        StreamRef::new(&kaznu, "email", streams[0].clone())
    }

    async fn types(store: &Arc<dyn EventStore>, stream: &StreamRef) -> Vec<String> {
        store.read_stream(stream).await.expect("stream").into_iter().map(|e| e.event_type).collect()
    }

    #[tokio::test]
    async fn an_email_failing_every_time_is_dead_lettered_after_the_last_attempt() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let stream = queued_email(&store).await;
        let transport = FakeTransport::failing(u32::MAX);
        let sender = EmailSender::new(store.clone(), transport.clone(), QUICK);
        assert_eq!(sender.send_pending().await.expect("sent"), 1);
        assert_eq!(transport.tries(), 5);
        assert_eq!(types(&store, &stream).await, ["email.queued", "email.dead_lettered"]);
        let dead = store.read_event(&stream, 2).await.expect("read").expect("event");
        assert_eq!(dead.payload["attempts"], 5);
        assert!(dead.payload["reason"].as_str().expect("reason").contains("connection refused"));
        assert_eq!(dead.payload["email_id"].as_str(), Some(stream.stream_id.as_str()));
        let letters = crate::service::dead_letters(store.as_ref(), &stream.org).await.expect("dead letters");
        assert_eq!(letters.len(), 1);
        assert_eq!((letters[0].channel.as_str(), letters[0].destination.as_str()), ("email", "a@example.kz"));
        assert_eq!((letters[0].id.as_str(), letters[0].attempts), (stream.stream_id.as_str(), 5));
        // Given up on means not tried again, even from the start of the log.
        store.save_checkpoint(CHECKPOINT, onewindow_eventlog::Position::START).await.expect("rewind");
        sender.send_pending().await.expect("again");
        assert_eq!(transport.tries(), 5);
    }

    #[tokio::test]
    async fn an_email_failing_twice_is_sent_once_and_recorded_as_sent() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let stream = queued_email(&store).await;
        let transport = FakeTransport::failing(2);
        EmailSender::new(store.clone(), transport.clone(), QUICK).send_pending().await.expect("sent");
        assert_eq!(transport.tries(), 3);
        let sent = transport.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].to.as_str(), sent[0].subject.as_str()), ("a@example.kz", "Өтінішіңіз өңдеуге қабылданды"));
        assert_eq!(types(&store, &stream).await, ["email.queued", "email.sent"]);
    }

    #[tokio::test]
    async fn a_sent_email_is_not_sent_again_after_a_restart() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let stream = queued_email(&store).await;
        let transport = FakeTransport::failing(0);
        EmailSender::new(store.clone(), transport.clone(), QUICK).send_pending().await.expect("sent");
        // A restart that lost its checkpoint reads the queued e-mail again.
        store.save_checkpoint(CHECKPOINT, onewindow_eventlog::Position::START).await.expect("rewind");
        let restarted = EmailSender::new(store.clone(), transport.clone(), QUICK);
        restarted.send_pending().await.expect("again");
        assert_eq!(transport.sent().len(), 1);
        assert_eq!(types(&store, &stream).await, ["email.queued", "email.sent"]);
    }

    #[tokio::test]
    async fn a_dead_letter_retried_by_an_administrator_is_sent() {
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("log");
        let stream = queued_email(&store).await;
        let transport = FakeTransport::failing(5);
        let sender = EmailSender::new(store.clone(), transport.clone(), QUICK);
        sender.send_pending().await.expect("tried");
        let email = load::<Email>(store.as_ref(), &stream).await.expect("email");
        assert!(matches!(email.state, Email::DeadLettered(_)));
        let events = crate::mail::retry(&email.state).expect("a dead letter");
        let metadata = onewindow_server::request_metadata("admin".into(), None);
        let encoded = events.iter().map(|e| encode(e, &metadata).expect("encode")).collect();
        store.commit(Commit::append(stream.clone(), email.version, encoded)).await.expect("retry requested");
        sender.send_pending().await.expect("sent");
        assert_eq!(transport.sent().len(), 1);
        assert_eq!(
            types(&store, &stream).await,
            ["email.queued", "email.dead_lettered", "email.retry_requested", "email.sent"]
        );
        let sent = load::<Email>(store.as_ref(), &stream).await.expect("email").state;
        assert_eq!(crate::mail::retry(&sent), Err(crate::mail::NotDeadLettered));
    }
}
