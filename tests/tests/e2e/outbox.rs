//! Publishing without loss and consuming without double effects, over a real PostgreSQL and a real NATS.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use onewindow_bus::{
    Bus, Envelope, EventHandler, HandleError, NatsBus, NatsSettings, OutboxRelay, Subscription, subject_for,
};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, NewEvent, OrgId, Position, RecordedEvent, StoreError,
    StreamRef,
};
use onewindow_tests::{NatsServer, fresh_postgres_database};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const SERVICE: &str = "testsvc";

/// Counts the events it handled by appending one event per effect to a stream of its own store.
struct CountingHandler {
    store: Arc<dyn EventStore>,
}

fn effects() -> StreamRef {
    StreamRef::new(&OrgId::parse("kaznu").expect("org"), "effect", "all")
}

#[async_trait]
impl EventHandler for CountingHandler {
    fn name(&self) -> &'static str {
        "test-counter"
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: SERVICE, event_types: vec!["thing.happened"] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        loop {
            let version = self.store.read_stream(&effects()).await.map_err(|e| HandleError::Transient(e.into()))?.len();
            let effect = new_event("effect.applied", json!({ "cause": event.id }));
            let commit = Commit::append(effects(), version as i64, vec![effect])
                .with_inbox(InboxMark { consumer: self.name().into(), event_id: event.id });
            match self.store.commit(commit).await {
                Ok(CommitOutcome::Committed { .. } | CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => {
                    return Ok(());
                }
                Err(StoreError::Concurrency { .. }) => continue,
                Err(other) => return Err(HandleError::Transient(other.into())),
            }
        }
    }
}

fn new_event(event_type: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    }
}

struct Harness {
    _nats: NatsServer,
    bus: NatsBus,
    producer: Arc<dyn EventStore>,
    consumer: Arc<dyn EventStore>,
    shutdown: CancellationToken,
}

impl Harness {
    async fn start() -> Self {
        let nats = NatsServer::start().await.expect("a current nats-server is required");
        let bus = NatsBus::connect(NatsSettings { url: nats.url.clone(), stream_replicas: 1 }).await.expect("connect");
        let producer =
            onewindow_eventlog::open(&fresh_postgres_database().await.expect("PostgreSQL")).await.expect("producer");
        let consumer =
            onewindow_eventlog::open(&fresh_postgres_database().await.expect("PostgreSQL")).await.expect("consumer");
        Self { _nats: nats, bus, producer, consumer, shutdown: CancellationToken::new() }
    }

    fn start_consumer(&self) {
        let handler = Arc::new(CountingHandler { store: self.consumer.clone() });
        let worker = self.bus.consume(handler, self.consumer.clone(), self.shutdown.clone());
        tokio::spawn(worker.task);
    }

    async fn happen(&self, stream_id: &str) -> Uuid {
        let event = new_event("thing.happened", json!({}));
        let id = event.id;
        let stream = StreamRef::new(&OrgId::parse("kaznu").expect("org"), "thing", stream_id);
        self.producer.commit(Commit::append(stream, 0, vec![event])).await.expect("commit");
        id
    }

    /// Runs the relay until it has published `expected` events (or 10 s passed), and says how many it published.
    /// A commit becomes readable once older transactions on the cluster have ended, so one pass may see nothing.
    async fn relay_until(&self, expected: usize) -> usize {
        self.bus.ensure_stream(SERVICE).await.expect("stream");
        let relay = OutboxRelay::new(SERVICE, self.producer.clone(), self.bus.jetstream().clone());
        let mut published = 0;
        for _ in 0..400 {
            published += relay.publish_pending().await.expect("publish");
            if published >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        published
    }

    /// The first event of the producer's log after `after`. Readers see a commit once every older transaction on
    /// the cluster has ended (the read horizon), so it may take a moment to show.
    async fn first_after(&self, after: Position) -> onewindow_eventlog::RecordedEvent {
        for _ in 0..400 {
            if let Some(first) = self.producer.read_all(after, 1).await.expect("read").into_iter().next() {
                return first;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no event became readable after {after:?} in 10 s");
    }

    /// The causes of the consumer's effects, once there are `count` of them.
    async fn effects_once_there_are(&self, count: usize) -> Vec<String> {
        for _ in 0..400 {
            let events = self.consumer.read_stream(&effects()).await.expect("read");
            if events.len() >= count {
                return events.iter().map(|e| e.payload["cause"].as_str().unwrap_or_default().to_owned()).collect();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fewer than {count} effects after 10 s");
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_publish_loses_nothing_and_applies_once() {
    let h = Harness::start().await;
    h.start_consumer();
    // The service committed, then died before its relay published anything.
    let lost = h.happen("one").await;

    // After the restart the relay finds the event in the log (its outbox) and publishes it.
    assert_eq!(h.relay_until(1).await, 1);
    assert_eq!(h.effects_once_there_are(1).await, [lost.to_string()]);

    // A crash after publishing but before saving the relay's checkpoint: the restarted relay publishes again.
    h.producer.save_checkpoint(&format!("relay:{SERVICE}"), Position::START).await.expect("rewind");
    assert_eq!(h.relay_until(1).await, 1, "the event is sent again");
    // A later event proves the consumer has seen everything before it.
    let marker = h.happen("two").await;
    assert_eq!(h.relay_until(1).await, 1);
    // Delivery is in stream order and handled one at a time: once the marker's effect is there, a duplicate
    // (had JetStream let one through) would already have been handled.
    let causes = h.effects_once_there_are(2).await;
    assert_eq!(causes, [lost.to_string(), marker.to_string()], "published once, applied once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_delivered_twice_has_one_effect() {
    let h = Harness::start().await;
    h.bus.ensure_stream(SERVICE).await.expect("stream");
    h.start_consumer();
    let id = h.happen("twice").await;
    let recorded = h.first_after(Position::START).await;
    assert_eq!(recorded.id, id);
    // Two deliveries of the same event, past JetStream's duplicate window (distinct message ids), as a relay
    // retrying after a long outage would cause.
    let body = serde_json::to_vec(&Envelope::from_recorded(&recorded)).expect("json");
    for attempt in 0..2 {
        let message = async_nats::jetstream::message::PublishMessage::build()
            .payload(body.clone().into())
            .message_id(format!("{id}-{attempt}"));
        h.bus
            .jetstream()
            .send_publish(subject_for(SERVICE, &recorded), message)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let marker = h.happen("marker").await;
    let marker_event = h.first_after(recorded.position).await;
    assert_eq!(marker_event.id, marker);
    let body = serde_json::to_vec(&Envelope::from_recorded(&marker_event)).expect("json");
    let message =
        async_nats::jetstream::message::PublishMessage::build().payload(body.into()).message_id(marker.to_string());
    h.bus
        .jetstream()
        .send_publish(subject_for(SERVICE, &marker_event), message)
        .await
        .expect("publish")
        .await
        .expect("ack");

    let causes = h.effects_once_there_are(2).await;
    assert_eq!(causes, [id.to_string(), marker.to_string()], "the duplicate had no effect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_stream_types_stay_in_the_log() {
    let h = Harness::start().await;
    h.bus.ensure_stream(SERVICE).await.expect("stream");
    let org = OrgId::parse("kaznu").expect("org");
    let contact = new_event("contact.recorded", json!({ "email": "aruzhan@example.kz" }));
    h.producer.commit(Commit::append(StreamRef::new(&org, "contact", "u1"), 0, vec![contact])).await.expect("commit");
    let public = h.happen("public").await;
    let relay = OutboxRelay::new(SERVICE, h.producer.clone(), h.bus.jetstream().clone()).keeping_private(&["contact"]);
    let mut stream =
        h.bus.jetstream().get_stream(format!("ONEWINDOW_{}", SERVICE.to_uppercase())).await.expect("stream");
    // PostgreSQL's read horizon is cluster-wide: a transaction of another test may hold the relay back a moment.
    let started = std::time::Instant::now();
    while stream.info().await.expect("info").state.messages == 0 && started.elapsed() < Duration::from_secs(30) {
        relay.publish_pending().await.expect("publish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.publish_pending().await.expect("publish again: still nothing private");
    assert_eq!(stream.info().await.expect("info").state.messages, 1, "only the public event went out");
    let message = stream.get_raw_message(1).await.expect("the one message");
    let envelope: serde_json::Value = serde_json::from_slice(&message.payload).expect("json");
    assert_eq!(envelope["id"], public.to_string());
}
