//! The building block against a real SQLite log: exactly once with two runners, rebuild equal to live, version
//! changes. (PostgreSQL is covered end to end by the applications' read model in `tests/tests/e2e/lists.rs`.)

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::Utc;
use onewindow_eventlog::{Commit, Database, EventMetadata, EventStore, NewEvent, OrgId, RecordedEvent, StreamRef};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Backend, Projection, ProjectionError, ProjectionRunner, ReadModelDb, Tx, rebuild};

/// Counts the events of each stream by adding one per event: applying an event twice shows as a wrong count.
struct Counts {
    version: i64,
}

const CREATE: &[&str] = &["CREATE TABLE test_counts (stream_id TEXT PRIMARY KEY, n BIGINT NOT NULL)"];

#[async_trait]
impl Projection for Counts {
    fn name(&self) -> &'static str {
        "test_counts"
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["counter.incremented"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["test_counts"]
    }

    fn create_statements(&self, _: Backend) -> &'static [&'static str] {
        CREATE
    }

    async fn apply(&self, tx: &mut Tx, events: &[&RecordedEvent]) -> Result<(), ProjectionError> {
        const ADD: &str = "INSERT INTO test_counts (stream_id, n) VALUES ($1, 1) \
             ON CONFLICT (stream_id) DO UPDATE SET n = test_counts.n + 1";
        let Tx::Sqlite(tx) = tx else { unreachable!("these tests run on SQLite") };
        for event in events {
            sqlx::query(ADD).bind(&event.stream.stream_id).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn size(&self, db: &ReadModelDb) -> Result<(i64, &'static str), ProjectionError> {
        let Database::Sqlite(pool) = db.database() else { unreachable!("these tests run on SQLite") };
        Ok((sqlx::query_scalar("SELECT count(*) FROM test_counts").fetch_one(pool).await?, "streams"))
    }
}

async fn counts(db: &ReadModelDb) -> Vec<(String, i64)> {
    let Database::Sqlite(pool) = db.database() else { unreachable!("these tests run on SQLite") };
    sqlx::query_as("SELECT stream_id, n FROM test_counts ORDER BY stream_id").fetch_all(pool).await.expect("counts")
}

fn event(event_type: &str) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload: serde_json::json!({}),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    }
}

async fn sqlite_log() -> Arc<dyn EventStore> {
    let dir = std::env::temp_dir().join(format!("onewindow-projections-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    onewindow_eventlog::open(&format!("sqlite:{}", dir.join("events.db").display())).await.expect("log")
}

/// `streams` streams, each given `per_stream` increments over several commits, with other events in between.
/// The ids of the increments.
async fn fill(log: &dyn EventStore, streams: usize, per_stream: i64, from_version: i64) -> Vec<Uuid> {
    let org = OrgId::parse("kaznu").expect("org");
    let mut increments = Vec::new();
    for version in from_version..from_version + per_stream {
        for s in 0..streams {
            let stream = StreamRef::new(&org, "counter", format!("s{s:02}"));
            let events = vec![event("counter.incremented"), event("counter.noted")];
            increments.push(events[0].id);
            log.commit(Commit::append(stream, version * 2, events)).await.expect("commit");
        }
    }
    increments
}

async fn wait_until_applied(db: &ReadModelDb, log: &dyn EventStore) {
    let head = log.read_all(Default::default(), 100_000).await.expect("read").last().map(|e| e.position);
    for _ in 0..400 {
        // The runners create the checkpoint table when they start: until then, nothing is applied.
        let at = db.checkpoint("test_counts").await.ok().flatten().map(|c| c.position);
        if at.is_some() && at == head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the runners did not catch up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_apply_each_event_once_and_a_rebuild_gives_the_same_read_model() {
    let log = sqlite_log().await;
    fill(log.as_ref(), 5, 3, 0).await;
    let shutdown = CancellationToken::new();
    let first = ProjectionRunner::new(Arc::new(Counts { version: 1 }), log.clone()).expect("runner");
    let second = ProjectionRunner::new(Arc::new(Counts { version: 1 }), log.clone()).expect("runner");
    let tasks: Vec<_> = [first.worker(shutdown.clone()), second.worker(shutdown.clone())]
        .into_iter()
        .map(|w| tokio::spawn(w.task))
        .collect();
    let mut told = first.subscribe().await;

    // More commits while both run, racing for each batch.
    let increments = fill(log.as_ref(), 5, 4, 3).await;
    wait_until_applied(first.db(), log.as_ref()).await;
    let live = counts(first.db()).await;
    let expected: Vec<(String, i64)> = (0..5).map(|s| (format!("s{s:02}"), 7)).collect();
    assert_eq!(live, expected, "every increment applied exactly once");

    // The first runner tells its subscriber of every increment committed since, once each (whichever runner
    // applied it), and of nothing else.
    let mut told_events = Vec::new();
    let all_told = async {
        while !increments.iter().all(|id| told_events.contains(id)) {
            let batch = told.recv().await.expect("told");
            assert!(batch.iter().all(|e| e.event_type == "counter.incremented"), "only the projection's types");
            told_events.extend(batch.iter().map(|e| e.id));
        }
    };
    tokio::time::timeout(Duration::from_secs(10), all_told).await.expect("every increment told");
    let unique: std::collections::BTreeSet<_> = told_events.iter().collect();
    assert_eq!(unique.len(), told_events.len(), "no event told twice");

    // A rebuild beside the live runners ends with the same read model.
    let report = rebuild(&Counts { version: 1 }, log.clone(), |_| {}).await.expect("rebuilt");
    wait_until_applied(first.db(), log.as_ref()).await;
    assert_eq!(counts(first.db()).await, expected, "rebuilt equals live");
    assert_eq!(report.rows, 5);
    assert_eq!(report.events, 70, "every event of the log passed once");

    shutdown.cancel();
    for task in tasks {
        task.await.expect("joined").expect("the runner stopped cleanly");
    }
}

#[tokio::test]
async fn a_new_projection_version_rebuilds_the_read_model_before_it_is_served() {
    let log = sqlite_log().await;
    fill(log.as_ref(), 2, 2, 0).await;
    let report = rebuild(&Counts { version: 1 }, log.clone(), |_| {}).await.expect("rebuilt");
    assert_eq!((report.events, report.rows), (8, 2), "8 events (4 counted), 2 streams");
    let db = ReadModelDb::of(log.as_ref()).expect("db");
    // Someone tampered with the table, as a changed apply logic would differ from it.
    let Database::Sqlite(pool) = db.database() else { unreachable!() };
    sqlx::query("UPDATE test_counts SET n = 99").execute(pool).await.expect("update");

    let same = ProjectionRunner::new(Arc::new(Counts { version: 1 }), log.clone()).expect("runner");
    assert_eq!(same.prepare().await.expect("prepared").version, 1);
    assert_eq!(counts(&db).await[0].1, 99, "the same version keeps its read model");

    let changed = ProjectionRunner::new(Arc::new(Counts { version: 2 }), log.clone()).expect("runner");
    let checkpoint = changed.prepare().await.expect("prepared");
    assert_eq!((checkpoint.version, checkpoint.events), (2, 0), "restarted from the log's beginning");
    assert!(counts(&db).await.is_empty(), "the old rows are gone until the runner replays the log");
}
