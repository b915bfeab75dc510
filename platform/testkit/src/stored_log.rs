//! The event logs today's main wrote on 2026-12-03 (`tests/fixtures/eventlog-v1`), in both backends' formats, and
//! the state its aggregates folded them into: each service's test folds every stream with the current code and
//! compares (nothing already stored may be lost by a change of payload types, schema versions or upcasters).

use std::{collections::BTreeMap, path::PathBuf};

use onewindow_eventlog::{EventStore, Position, RecordedEvent};
use sqlx::Connection;

/// The fixture folder (compiled in: the build cache may be shared by checkouts at other paths, but this crate's
/// own path is the checkout it was built from).
pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/eventlog-v1")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `service`'s stored log in `backend`: the SQLite file (copied: opening it migrates), or the PostgreSQL dump
/// restored into a fresh database with the current migrations applied.
pub async fn open(service: &str, backend: Backend) -> Box<dyn EventStore> {
    match backend {
        Backend::Sqlite => {
            let copy = std::env::temp_dir().join(format!("eventlog-v1-{service}-{}.db", uuid::Uuid::now_v7().simple()));
            std::fs::copy(fixture().join("sqlite").join(format!("{service}.db")), &copy).expect("the SQLite fixture");
            let url = format!("sqlite:{}", copy.display());
            Box::new(onewindow_eventlog::open_sqlite(&url).await.expect("the SQLite fixture opens"))
        }
        Backend::Postgres => {
            let admin = std::env::var("ONEWINDOW_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let mut connection = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL is needed here");
            let name = format!("ow_test_eventlog_v1_{}", uuid::Uuid::now_v7().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut connection)
                .await
                .expect("a fresh database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base).to_owned();
            let url = format!("{base}/{name}");
            let schema = onewindow_eventlog::open_postgres(&url).await.expect("the current migrations");
            drop(schema);
            // The dump is plain SQL but for psql's meta-commands (`\restrict`), which are not the server's.
            let dump = std::fs::read_to_string(fixture().join("postgres").join(format!("{service}.sql")))
                .expect("the PostgreSQL fixture");
            let sql: String = dump.lines().filter(|l| !l.starts_with('\\')).map(|l| format!("{l}\n")).collect();
            let mut restoring = sqlx::PgConnection::connect(&url).await.expect("the fresh database");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut restoring).await.expect("the dump restores");
            // Opened as a service opens it after a restore: ids of the cluster that wrote the dump are moved below
            // this cluster's.
            Box::new(onewindow_eventlog::open_postgres(&url).await.expect("the restored log opens"))
        }
    }
}

/// Every stream of `store`, by key (`<org>/<type>/<id>`), its events in version order.
pub async fn streams(store: &dyn EventStore) -> BTreeMap<String, Vec<RecordedEvent>> {
    let mut streams: BTreeMap<String, Vec<RecordedEvent>> = BTreeMap::new();
    let mut after = Position::START;
    loop {
        let batch = store.read_all(after, 1000).await.expect("read_all");
        let Some(last) = batch.last() else { break };
        after = last.position;
        for event in batch {
            streams.entry(event.stream.to_string()).or_default().push(event);
        }
    }
    for events in streams.values_mut() {
        events.sort_by_key(|e| e.version);
    }
    streams
}

/// The state today's main folded `service`'s streams into in `backend` (`state.txt`, `state.postgres.txt`).
pub fn expected(service: &str, backend: Backend) -> BTreeMap<String, String> {
    let file = match backend {
        Backend::Sqlite => "state.txt",
        Backend::Postgres => "state.postgres.txt",
    };
    let text = std::fs::read_to_string(fixture().join(file)).expect("the state fixture");
    let section = text
        .split("== ")
        .find_map(|s| s.strip_prefix(&format!("{service}\n")))
        .unwrap_or_else(|| panic!("{file} has no section for {service}"));
    section
        .trim()
        .split("\n\n")
        .filter_map(|entry| entry.split_once('\n'))
        .map(|(key, state)| (key.to_owned(), state.to_owned()))
        .collect()
}

/// Folds every stream of `service`'s stored log in both backends with `show` (the stream type and its events to
/// the text of its state) and compares with what today's main folded; `normalize` maps the old text to what the
/// same state reads as today, where a type was renamed or a field deliberately changed its representation.
pub async fn assert_folds_as_before(
    service: &str,
    show: impl Fn(&str, &[RecordedEvent]) -> String,
    normalize: impl Fn(&str, &str) -> String,
) -> usize {
    let mut compared = 0;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let store = open(service, backend).await;
        let streams = streams(store.as_ref()).await;
        let expected = expected(service, backend);
        assert_eq!(
            streams.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{service} ({backend:?}): the streams read are the streams stored"
        );
        for (key, events) in &streams {
            let stream_type = &events[0].stream.stream_type;
            let now = show(stream_type, events);
            let before = normalize(stream_type, &expected[key]);
            assert_eq!(now, before, "{service} ({backend:?}) {key} folds differently");
            compared += 1;
        }
    }
    compared
}

/// The state `events` fold into, as text.
pub fn folded<A: onewindow_eventlog::Aggregate + std::fmt::Debug>(events: &[RecordedEvent]) -> String {
    format!("{:#?}", onewindow_eventlog::fold::<A>(events.to_vec()).expect("the stored stream folds").state)
}

/// A stream without an aggregate (counters, journals, the public log): every event decoded, as text.
pub fn decoded<E>(what: &str, events: &[RecordedEvent]) -> String
where
    E: serde::de::DeserializeOwned + onewindow_eventlog::EventSchema + std::fmt::Debug,
{
    let decoded: Vec<E> =
        events.iter().map(|e| onewindow_eventlog::decode::<E>(e).expect("the stored event decodes")).collect();
    format!("(no Aggregate: the events decoded with {what})\n{decoded:#?}")
}

/// A consumer's parked events (written by onewindow-bus), as text.
pub fn parked(events: &[RecordedEvent]) -> String {
    // The typed record of today's code reads what the first version wrote, every field of it.
    let folded =
        onewindow_eventlog::fold::<onewindow_bus::parked::Parked>(events.to_vec()).expect("parked events fold");
    let parked = folded.state;
    assert!(parked.event.is_some() && !parked.consumer.is_empty() && parked.attempts == 1, "{parked:?}");
    let payloads: Vec<String> =
        events.iter().map(|e| serde_json::to_string_pretty(&e.payload).expect("json")).collect();
    format!("(no Aggregate: parked.event_parked payloads, written by onewindow-bus)\n{}", payloads.join("\n"))
}
