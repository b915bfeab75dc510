//! The event log on both backends: atomic batches, the optimistic check, rebuilds, commit order, the inbox.

use std::sync::Arc;

use chrono::Utc;
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, NewEvent, OrgId, Position, StoreError, StreamRef,
};
use onewindow_tests::{fresh_postgres_database, fresh_sqlite_database};
use serde_json::json;
use uuid::Uuid;

fn event(n: i64) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: "counter.incremented".into(),
        schema_version: 1,
        payload: json!({ "n": n }),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    }
}

fn stream(name: &str) -> StreamRef {
    StreamRef::new(&OrgId::parse("kaznu").expect("org"), "counter", name)
}

async fn stores() -> Vec<(&'static str, Arc<dyn EventStore>)> {
    let sqlite = onewindow_eventlog::open(&fresh_sqlite_database().expect("sqlite dir")).await.expect("sqlite");
    let postgres_url = fresh_postgres_database().await.expect("PostgreSQL is required");
    let postgres = onewindow_eventlog::open(&postgres_url).await.expect("postgres");
    vec![("sqlite", sqlite), ("postgres", postgres)]
}

#[tokio::test]
async fn two_concurrent_appends_with_the_same_expected_version_one_wins() {
    for (backend, store) in stores().await {
        // Many rounds, so the race really happens inside the database, not only in the test's scheduling.
        for round in 0..20 {
            let s = stream(&format!("race-{round}"));
            store.commit(Commit::append(s.clone(), 0, vec![event(1)])).await.expect("first event");
            let (a, b) = tokio::join!(
                store.commit(Commit::append(s.clone(), 1, vec![event(2), event(3)])),
                store.commit(Commit::append(s.clone(), 1, vec![event(4)])),
            );
            assert_eq!(usize::from(a.is_ok()) + usize::from(b.is_ok()), 1, "{backend} round {round}: one wins");
            let (winner_len, loser) = if a.is_ok() { (2, b) } else { (1, a) };
            assert!(
                matches!(loser, Err(StoreError::Concurrency { .. })),
                "{backend}: the loser gets a concurrency error"
            );
            let versions: Vec<i64> = store.read_stream(&s).await.expect("read").iter().map(|e| e.version).collect();
            assert_eq!(
                versions,
                (1..=1 + winner_len).collect::<Vec<i64>>(),
                "{backend}: only the winner's events, gapless"
            );
        }
    }
}

#[tokio::test]
async fn a_stale_or_future_expected_version_is_refused_and_writes_nothing() {
    for (backend, store) in stores().await {
        let s = stream("stale");
        store.commit(Commit::append(s.clone(), 0, vec![event(1), event(2)])).await.expect("append");
        for expected in [0, 1, 3, 7] {
            let result = store.commit(Commit::append(s.clone(), expected, vec![event(9)])).await;
            assert!(matches!(result, Err(StoreError::Concurrency { .. })), "{backend}: expected {expected} refused");
        }
        assert_eq!(store.read_stream(&s).await.expect("read").len(), 2, "{backend}: nothing was written");
    }
}

#[tokio::test]
async fn a_batch_over_several_streams_is_all_or_nothing() {
    for (backend, store) in stores().await {
        let (a, b) = (stream("a"), stream("b"));
        store.commit(Commit::append(b.clone(), 0, vec![event(1)])).await.expect("b exists");
        let mut commit = Commit::append(a.clone(), 0, vec![event(1)]);
        // Stale for b: the whole commit must fail, a included.
        commit.appends.push(onewindow_eventlog::StreamAppend {
            stream: b.clone(),
            expected_version: 0,
            events: vec![event(2)],
        });
        assert!(store.commit(commit).await.is_err(), "{backend}");
        assert!(store.read_stream(&a).await.expect("read").is_empty(), "{backend}: a was not written");
    }
}

#[tokio::test]
async fn the_inbox_mark_makes_a_second_delivery_a_no_op() {
    for (backend, store) in stores().await {
        let mark = InboxMark { consumer: "test".into(), event_id: Uuid::now_v7() };
        let first = store
            .commit(Commit::append(stream("inbox"), 0, vec![event(1)]).with_inbox(mark.clone()))
            .await
            .expect("first");
        assert_eq!(first, CommitOutcome::Committed { versions: vec![1] }, "{backend}");
        let second =
            store.commit(Commit::append(stream("inbox"), 1, vec![event(1)]).with_inbox(mark)).await.expect("second");
        assert_eq!(second, CommitOutcome::AlreadyProcessed, "{backend}");
        // A consumer that handles an event with no effect still records that it did, once.
        let mark = InboxMark { consumer: "test".into(), event_id: Uuid::now_v7() };
        let nothing = Commit::append(stream("inbox"), 1, vec![]).with_inbox(mark.clone());
        assert_eq!(
            store.commit(nothing.clone()).await.expect("mark only"),
            CommitOutcome::Committed { versions: vec![] }
        );
        assert_eq!(store.commit(nothing).await.expect("again"), CommitOutcome::AlreadyProcessed, "{backend}");
        assert_eq!(store.read_stream(&stream("inbox")).await.expect("read").len(), 1, "{backend}: one effect");
    }
}

#[tokio::test]
async fn an_application_rebuilt_from_its_log_equals_the_state_built_step_by_step() {
    use onewindow_applications::{Application, ApplicationEvent};
    use onewindow_eventlog::{Aggregate, encode, load};
    // The same domain events, applied one by one as they are decided, and folded back from each backend's log.
    for (backend, store) in stores().await {
        let s = StreamRef::new(&OrgId::parse("kaznu").expect("org"), "application", Uuid::now_v7().to_string());
        let events = super::embedded::sample_application_events();
        let metadata = event(0).metadata;
        let mut step_by_step = Application::default();
        for (i, domain_event) in events.iter().enumerate() {
            let new = encode(domain_event, &metadata).expect("encode");
            store.commit(Commit::append(s.clone(), i as i64, vec![new])).await.expect("append");
            let recorded = store.read_stream(&s).await.expect("read").pop().expect("just appended");
            let decoded: ApplicationEvent = onewindow_eventlog::decode(&recorded).expect("decode");
            assert_eq!(&decoded, domain_event, "{backend}: the event round-trips");
            step_by_step.apply(domain_event, &recorded);
        }
        let rebuilt = load::<Application>(store.as_ref(), &s).await.expect("load");
        assert_eq!(rebuilt.version, events.len() as i64, "{backend}");
        assert_eq!(rebuilt.state, step_by_step, "{backend}: the rebuilt state equals the live one");
    }
}

#[tokio::test]
async fn the_whole_log_reads_in_commit_order_and_never_skips_a_late_commit() {
    // PostgreSQL hands out sequence numbers before commit: hold one transaction open while a later one commits.
    use sqlx::Connection;
    let url = fresh_postgres_database().await.expect("PostgreSQL is required");
    let store = onewindow_eventlog::open(&url).await.expect("open");
    store.commit(Commit::append(stream("first"), 0, vec![event(1)])).await.expect("first");

    let mut slow = sqlx::PgConnection::connect(&url).await.expect("connect");
    let mut tx = slow.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO events (event_id, org_id, stream_type, stream_id, version, event_type, schema_version, \
         occurred_at, actor, correlation_id, causation_id, payload) \
         VALUES ($1, 'kaznu', 'counter', 'slow', 1, 'counter.incremented', 1, now(), 'test', $1, $1, '{}')",
    )
    .bind(Uuid::now_v7())
    .execute(&mut *tx)
    .await
    .expect("slow insert takes its sequence number first");

    store.commit(Commit::append(stream("fast"), 0, vec![event(2)])).await.expect("fast commits first");
    // The horizon is cluster-wide: other tests' open transactions may hold it back a moment longer, so poll.
    let seen = read_until(store.as_ref(), Position::START, 1).await;
    assert_eq!(ids(&seen), ["first"], "nothing past the open transaction is handed out yet");

    tx.commit().await.expect("slow commits");
    let after = seen.last().expect("first").position;
    let rest = read_until(store.as_ref(), after, 2).await;
    assert_eq!(ids(&rest), ["slow", "fast"], "the late commit is delivered; the order is by writing transaction");
}

fn ids(events: &[onewindow_eventlog::RecordedEvent]) -> Vec<String> {
    events.iter().map(|e| e.stream.stream_id.clone()).collect()
}

/// Reads after `after` until at least `count` events are handed out.
async fn read_until(store: &dyn EventStore, after: Position, count: usize) -> Vec<onewindow_eventlog::RecordedEvent> {
    for _ in 0..200 {
        let events = store.read_all(after, 100).await.expect("read");
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {count} events readable after 5 s");
}

#[tokio::test]
async fn a_stream_version_and_one_event_are_read_without_the_whole_stream() {
    for (backend, store) in stores().await {
        let s = stream("journal");
        assert_eq!(store.stream_version(&s).await.expect("version"), 0, "{backend}: no stream yet");
        store.commit(Commit::append(s.clone(), 0, vec![event(1), event(2), event(3)])).await.expect("append");
        assert_eq!(store.stream_version(&s).await.expect("version"), 3, "{backend}");
        let second = store.read_event(&s, 2).await.expect("read").expect("version 2 exists");
        assert_eq!((second.version, second.payload["n"].as_i64()), (2, Some(2)), "{backend}");
        assert!(store.read_event(&s, 4).await.expect("read").is_none(), "{backend}: no version 4");
        let other_org = StreamRef::new(&OrgId::parse("kaznmu").expect("org"), "counter", "journal");
        assert_eq!(store.stream_version(&other_org).await.expect("version"), 0, "{backend}: organisations apart");
    }
}

#[tokio::test]
async fn a_log_restored_from_another_cluster_reads_in_order_and_keeps_every_checkpoint() {
    // A `pg_dump` restored into a new server keeps the old cluster's transaction ids in `commit_tx`, ahead of this
    // cluster's counter: read as stored, the whole log would sit above the horizon and read as empty.
    let url = fresh_postgres_database().await.expect("PostgreSQL is required");
    let store = onewindow_eventlog::open(&url).await.expect("open");
    for (n, name) in ["a", "b", "c"].into_iter().enumerate() {
        store.commit(Commit::append(stream(name), 0, vec![event(n as i64)])).await.expect("append");
    }
    let all = read_until(store.as_ref(), Position::START, 3).await;
    store.save_checkpoint("relay", all[0].position).await.expect("a checkpoint after the first");
    store.save_checkpoint("fresh", Position::START).await.expect("a checkpoint at the start");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    // The restore: the same log and checkpoints, their ids a billion transactions ahead of this cluster's.
    for table in ["events", "log_checkpoints"] {
        let ahead = format!("UPDATE {table} SET commit_tx = 1000000000 + commit_tx * 7 WHERE commit_tx > 0");
        sqlx::query(sqlx::AssertSqlSafe(ahead)).execute(&pool).await.expect("the old cluster's ids");
    }
    let hidden = store.read_all(Position::START, 100).await.expect("read as stored");
    assert!(hidden.is_empty(), "as stored, the restored log sits above the horizon: {}", ids(&hidden).join(","));

    let reopened = onewindow_eventlog::open(&url).await.expect("the service starts on the restored log");
    let read = read_until(reopened.as_ref(), Position::START, 3).await;
    assert_eq!(ids(&read), ["a", "b", "c"], "every event reads, in the order of the old cluster");
    let relay = reopened.load_checkpoint("relay").await.expect("relay checkpoint");
    let after_relay = read_until(reopened.as_ref(), relay, 2).await;
    assert_eq!(ids(&after_relay), ["b", "c"], "the relay goes on after the event it had reached");
    assert_eq!(reopened.load_checkpoint("fresh").await.expect("fresh checkpoint"), Position::START);
    let now: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint").fetch_one(&pool).await.expect("now");
    let highest: i64 = sqlx::query_scalar("SELECT max(commit_tx) FROM events").fetch_one(&pool).await.expect("max");
    assert!(highest < now, "the log sits below this cluster's transactions ({highest} < {now})");
    reopened.commit(Commit::append(stream("d"), 0, vec![event(4)])).await.expect("a new event");
    let last = read.last().expect("c").position;
    assert_eq!(ids(&read_until(reopened.as_ref(), last, 1).await), ["d"], "new events come after the restored ones");
}
