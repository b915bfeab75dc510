//! The raw limits of the components under the platform, measured in the same run: a single-row PostgreSQL commit,
//! an event-log commit (the project's own settings, on PostgreSQL and on SQLite), an acknowledged JetStream
//! publish, and the lag from a JetStream publish to a plain NATS subscriber.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use onewindow_eventlog::{Commit, EventMetadata, EventStore, OrgId, StreamRef, encode};
use serde::Serialize;
use uuid::Uuid;

use crate::stats::Run;

/// Runs `workers` copies of `operation` until `duration` has passed; every call's latency is kept.
async fn closed_loop<F, Fut>(name: &str, workers: usize, duration: Duration, operation: F) -> anyhow::Result<Run>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let operation = Arc::new(operation);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let operation = operation.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let one = Instant::now();
                operation(worker, n).await?;
                latencies.push(one.elapsed());
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a worker panicked")??);
    }
    Ok(Run::new(name, started.elapsed(), latencies))
}

/// Single-row INSERTs, each its own transaction (autocommit), on `connections` connections.
pub async fn postgres_commits(url: &str, connections: usize, duration: Duration) -> anyhow::Result<Run> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(connections as u32).connect(url).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_commit (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let name = format!("PostgreSQL single-row commit, {connections} connection(s)");
    closed_loop(&name, connections, duration, move |worker, n| {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO bench_commit (payload) VALUES ($1)")
                .bind(format!("{worker}-{n}"))
                .execute(&pool)
                .await?;
            Ok(())
        }
    })
    .await
}

#[derive(Serialize)]
#[serde(tag = "type", content = "payload")]
enum BenchEvent {
    #[serde(rename = "bench.happened")]
    Happened { worker: usize, n: u64 },
}

impl onewindow_eventlog::EventSchema for BenchEvent {}

/// One event appended to a new stream per commit, through the project's event log (`url`: postgres or sqlite).
pub async fn event_log_commits(name: &str, url: &str, writers: usize, duration: Duration) -> anyhow::Result<Run> {
    let store: Arc<dyn EventStore> = onewindow_eventlog::open(url).await?;
    let org = OrgId::parse("bench")?;
    closed_loop(name, writers, duration, move |worker, n| {
        let store = store.clone();
        let org = org.clone();
        async move {
            let metadata = EventMetadata {
                occurred_at: chrono::Utc::now(),
                actor: "service:bench".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                trace_context: None,
            };
            let event = encode(&BenchEvent::Happened { worker, n }, &metadata)?;
            let stream = StreamRef::new(&org, "bench", Uuid::now_v7().to_string());
            store.commit(Commit::append(stream, 0, vec![event])).await?;
            Ok(())
        }
    })
    .await
}

async fn bench_stream(jetstream: &async_nats::jetstream::Context) -> anyhow::Result<()> {
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "BENCH".into(),
            subjects: vec!["bench.>".into()],
            storage: async_nats::jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// Publishes to a file-backed JetStream stream and waits for each acknowledgement, `publishers` at a time.
pub async fn jetstream_acked_publishes(nats_url: &str, publishers: usize, duration: Duration) -> anyhow::Result<Run> {
    let client = async_nats::connect(nats_url).await?;
    let jetstream = async_nats::jetstream::new(client);
    bench_stream(&jetstream).await?;
    let name = format!("JetStream acknowledged publish, {publishers} publisher(s)");
    closed_loop(&name, publishers, duration, move |worker, n| {
        let jetstream = jetstream.clone();
        async move {
            let ack = jetstream.publish(format!("bench.ack.{worker}"), format!("{n}").into()).await?;
            ack.await?;
            Ok(())
        }
    })
    .await
}

/// The lag from a JetStream publish to a plain NATS subscriber of the subject, at `per_second` messages a second
/// (an open loop, so the lag is not hidden by waiting for the previous message).
pub async fn jetstream_to_subscriber(nats_url: &str, per_second: u32, duration: Duration) -> anyhow::Result<Run> {
    use futures::StreamExt;
    let client = async_nats::connect(nats_url).await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    bench_stream(&jetstream).await?;
    let mut subscriber = client.subscribe("bench.lag").await?;
    client.flush().await?;
    let origin = Instant::now();
    let count = (f64::from(per_second) * duration.as_secs_f64()) as usize;
    let receiver = tokio::spawn(async move {
        let mut latencies = Vec::with_capacity(count);
        while latencies.len() < count {
            let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(10), subscriber.next()).await else {
                break;
            };
            let sent: [u8; 8] = message.payload.as_ref().try_into().unwrap_or_default();
            let sent = Duration::from_nanos(u64::from_le_bytes(sent));
            latencies.push(origin.elapsed().saturating_sub(sent));
        }
        latencies
    });
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))));
    let started = Instant::now();
    let mut acks = Vec::with_capacity(count);
    for _ in 0..count {
        ticker.tick().await;
        let sent = origin.elapsed().as_nanos() as u64;
        acks.push(jetstream.publish("bench.lag", bytes::Bytes::copy_from_slice(&sent.to_le_bytes())).await?);
    }
    for ack in acks {
        ack.await?;
    }
    let latencies = receiver.await.context("the subscriber panicked")?;
    anyhow::ensure!(latencies.len() == count, "the subscriber received {} of {count} messages", latencies.len());
    Ok(Run::new(format!("JetStream publish → plain subscriber, {per_second}/s"), started.elapsed(), latencies))
}
