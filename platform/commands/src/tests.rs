//! The runner against a real (in-memory SQLite) event log: races lost and decided again, stale views, refusals,
//! the bound on retries, and a consumer's inbox mark.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use onewindow_bus::HandleError;
use onewindow_eventlog::{
    Aggregate, Commit, CommitOutcome, EventMetadata, EventStore, OrgId, Position, RecordedEvent, StoreError, StreamRef,
    load,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{Command, CommandError, Decision, RetryPolicy, encode_all, run_checked_command, run_command};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
enum TallyEvent {
    #[serde(rename = "tally.set")]
    Set { total: i64 },
}

impl onewindow_eventlog::EventSchema for TallyEvent {}

/// A running total: each event states the total after it, so an event decided on a stale state shows.
#[derive(Debug, Default)]
struct Tally {
    total: i64,
}

impl Aggregate for Tally {
    type Event = TallyEvent;
    fn apply(&mut self, event: &TallyEvent, _: &RecordedEvent) {
        let TallyEvent::Set { total } = event;
        self.total = *total;
    }
}

fn org() -> OrgId {
    OrgId::parse("test").expect("org")
}

fn stream(id: &str) -> StreamRef {
    StreamRef::new(&org(), "tally", id)
}

fn metadata() -> EventMetadata {
    EventMetadata {
        occurred_at: Utc::now(),
        actor: "test".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    }
}

/// Pauses of a millisecond at most: the tests are about the decisions, not the waiting.
const QUICK: RetryPolicy =
    RetryPolicy { max_attempts: 10, base: Duration::from_micros(200), cap: Duration::from_millis(1) };

async fn sqlite() -> Arc<dyn EventStore> {
    onewindow_eventlog::open("sqlite::memory:").await.expect("an in-memory log")
}

async fn totals(store: &dyn EventStore, stream: &StreamRef) -> Vec<i64> {
    let loaded = load::<Tally>(store, stream).await.expect("load");
    loaded.events.iter().map(|e| e.payload["total"].as_i64().expect("a total")).collect()
}

async fn set(store: &dyn EventStore, stream: &StreamRef, total: i64) {
    let version = store.stream_version(stream).await.expect("version");
    let events = encode_all(&[TallyEvent::Set { total }], &metadata()).expect("encode");
    store.commit(Commit::append(stream.clone(), version, events)).await.expect("a direct commit");
}

/// Adds `by` to the total it is decided on.
fn add(by: i64) -> impl Fn(&onewindow_eventlog::Loaded<Tally>) -> Result<Vec<TallyEvent>, String> + Send + Sync {
    move |loaded| Ok(vec![TallyEvent::Set { total: loaded.state.total + by }])
}

/// A log where a rival writer gets in first: before each of the next `rivals` commits, it sets the total of the
/// commit's first stream to 100 more, so that commit loses the race.
struct Rivalled {
    inner: Arc<dyn EventStore>,
    rivals: AtomicU32,
}

impl Rivalled {
    fn new(inner: Arc<dyn EventStore>, rivals: u32) -> Self {
        Self { inner, rivals: AtomicU32::new(rivals) }
    }
}

#[async_trait]
impl EventStore for Rivalled {
    async fn commit(&self, commit: Commit) -> Result<CommitOutcome, StoreError> {
        let rival = self.rivals.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if rival && let Some(first) = commit.appends.first() {
            let total = load::<Tally>(self.inner.as_ref(), &first.stream).await?.state.total;
            set(self.inner.as_ref(), &first.stream, total + 100).await;
        }
        self.inner.commit(commit).await
    }
    async fn read_stream(&self, stream: &StreamRef) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(stream).await
    }
    async fn stream_version(&self, stream: &StreamRef) -> Result<i64, StoreError> {
        self.inner.stream_version(stream).await
    }
    async fn read_event(&self, stream: &StreamRef, version: i64) -> Result<Option<RecordedEvent>, StoreError> {
        self.inner.read_event(stream, version).await
    }
    async fn read_all(&self, after: Position, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }
    async fn read_stream_type(&self, org: &OrgId, stream_type: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream_type(org, stream_type).await
    }
    async fn list_streams(&self, org: &OrgId, stream_type: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list_streams(org, stream_type).await
    }
    async fn load_checkpoint(&self, name: &str) -> Result<Position, StoreError> {
        self.inner.load_checkpoint(name).await
    }
    async fn save_checkpoint(&self, name: &str, position: Position) -> Result<(), StoreError> {
        self.inner.save_checkpoint(name, position).await
    }
    fn appended(&self) -> watch::Receiver<u64> {
        self.inner.appended()
    }
}

#[tokio::test]
async fn a_lost_race_is_decided_again_on_the_winners_result() {
    let log = sqlite().await;
    let store = Rivalled::new(log.clone(), 1);
    let tally = stream("raced");
    set(log.as_ref(), &tally, 1).await;
    let command = Command { policy: QUICK, ..Command::new(tally.clone(), metadata()) };
    let ran = run_command(&store, &command, add(1)).await.expect("the command lands");
    assert_eq!(ran.attempts, 2, "one lost race, one more attempt");
    // 2 would have been decided on the state before the rival's 101.
    assert_eq!(totals(log.as_ref(), &tally).await, [1, 101, 102]);
    assert_eq!((ran.decided_on.state.total, ran.version()), (101, 3));
}

#[tokio::test]
async fn concurrent_commands_on_one_stream_all_land_each_on_the_others_result() {
    let store = sqlite().await;
    let tally = stream("busy");
    let command = Command { policy: QUICK, ..Command::new(tally.clone(), metadata()) };
    let runs = (0..8).map(|_| run_command(store.as_ref(), &command, add(1)));
    // One task: the commands interleave at every await, so loads and commits race.
    let outcomes = futures::future::join_all(runs).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    // Every command was decided on the one before it: no total is written twice, none skipped.
    assert_eq!(totals(store.as_ref(), &tally).await, (1..=8).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_without_a_decision_or_a_retry() {
    let store = sqlite().await;
    let tally = stream("stale");
    set(store.as_ref(), &tally, 5).await;
    let decisions = AtomicU32::new(0);
    let counted = |loaded: &onewindow_eventlog::Loaded<Tally>| {
        decisions.fetch_add(1, Ordering::SeqCst);
        add(1)(loaded)
    };
    let command = Command { policy: QUICK, ..Command::new(tally.clone(), metadata()) }.expecting(Some(0));
    let error = run_command(store.as_ref(), &command, counted).await.expect_err("stale");
    assert!(matches!(error, CommandError::Stale { expected: 0, current: 1, .. }), "{error:?}");
    assert_eq!(decisions.load(Ordering::SeqCst), 0);
    assert_eq!(tonic::Status::from(error.map_refusal(tonic::Status::failed_precondition)).code(), tonic::Code::Aborted);

    // With the current version, a race lost after the load is the client's to resolve too: one attempt only.
    let rivalled = Rivalled::new(store.clone(), 5);
    let command = command.expecting(Some(1));
    let error = run_command(&rivalled, &command, counted).await.expect_err("lost once");
    assert!(matches!(error, CommandError::Conflict { attempts: 1, .. }), "{error:?}");
    assert_eq!(decisions.load(Ordering::SeqCst), 1);
    assert_eq!(totals(store.as_ref(), &tally).await, [5, 105], "only the rival's write");
}

#[tokio::test]
async fn a_refusal_is_returned_as_such_and_commits_nothing() {
    let store = sqlite().await;
    let tally = stream("refused");
    let source = stream("source");
    set(store.as_ref(), &source, 1).await;
    let cause = store.read_stream(&source).await.expect("read").remove(0);
    let command = Command { policy: QUICK, ..Command::reaction(tally.clone(), "test", "test-consumer", &cause) };
    let refuse = |_: &onewindow_eventlog::Loaded<Tally>| Err::<Vec<TallyEvent>, _>("not in this state".to_owned());
    let error = run_command(store.as_ref(), &command, refuse).await.expect_err("refused");
    assert!(matches!(&error, CommandError::Refused(why) if why == "not in this state"), "{error:?}");
    assert!(matches!(HandleError::from(error), HandleError::Poison(_)));
    assert_eq!(store.stream_version(&tally).await.expect("version"), 0);
    // Not even the inbox mark: a refused reaction may be re-driven once the cause is fixed.
    let again = run_command(store.as_ref(), &command, add(1)).await.expect("redriven");
    assert!(again.wrote());

    // A caller check refuses before the decision is asked.
    let forbidden = |_: &onewindow_eventlog::Loaded<Tally>| Err("not yours".to_owned());
    let plain = Command::new(tally.clone(), metadata());
    let error = run_checked_command(store.as_ref(), &plain, forbidden, add(1)).await.expect_err("forbidden");
    assert!(matches!(&error, CommandError::Refused(why) if why == "not yours"));
    assert_eq!(totals(store.as_ref(), &tally).await, [1]);
}

#[tokio::test]
async fn retries_stop_after_the_policys_attempts() {
    let log = sqlite().await;
    let store = Rivalled::new(log.clone(), u32::MAX);
    let tally = stream("never-settles");
    let decisions = AtomicU32::new(0);
    let counted = |loaded: &onewindow_eventlog::Loaded<Tally>| {
        decisions.fetch_add(1, Ordering::SeqCst);
        add(1)(loaded)
    };
    let command =
        Command { policy: RetryPolicy { max_attempts: 4, ..QUICK }, ..Command::new(tally.clone(), metadata()) };
    let error = run_command(&store, &command, counted).await.expect_err("never lands");
    assert!(matches!(error, CommandError::Conflict { attempts: 4, .. }), "{error:?}");
    assert_eq!(decisions.load(Ordering::SeqCst), 4);
    assert_eq!(totals(log.as_ref(), &tally).await, [100, 200, 300, 400], "only the rivals' writes");
    assert!(matches!(HandleError::from(error), HandleError::Transient(_)), "the bus redelivers it later");
}

#[tokio::test]
async fn a_reaction_records_its_inbox_mark_with_the_effect_and_a_redelivery_has_none() {
    let store = sqlite().await;
    let tally = stream("reacting");
    let source = stream("source");
    set(store.as_ref(), &source, 1).await;
    let cause = store.read_stream(&source).await.expect("read").remove(0);
    let command = Command::reaction(tally.clone(), "test", "test-consumer", &cause);
    assert_eq!(command.metadata.causation_id, cause.id);

    let first = run_command(store.as_ref(), &command, add(7)).await.expect("handled");
    assert!(first.wrote());
    let redelivered = run_command(store.as_ref(), &command, add(7)).await.expect("handled again");
    assert_eq!(redelivered.outcome, CommitOutcome::AlreadyProcessed);
    assert!(!redelivered.wrote());
    assert_eq!(totals(store.as_ref(), &tally).await, [7], "the effect once");

    // A reaction with nothing to do records the mark alone, so its redelivery is recognised too.
    let other = Command::reaction(stream("idle"), "test", "other-consumer", &cause);
    let nothing = |_: &onewindow_eventlog::Loaded<Tally>| Ok::<_, String>(Vec::<TallyEvent>::new());
    let idle = run_command(store.as_ref(), &other, nothing).await.expect("nothing to do");
    assert_eq!(idle.outcome, CommitOutcome::Committed { versions: vec![] });
    let again = run_command(store.as_ref(), &other, add(1)).await.expect("redelivered");
    assert_eq!(again.outcome, CommitOutcome::AlreadyProcessed, "the mark was recorded");
    assert_eq!(store.stream_version(&stream("idle")).await.expect("version"), 0);
}

#[tokio::test]
async fn no_events_is_no_write_and_other_streams_commit_with_the_aggregate() {
    let store = sqlite().await;
    let tally = stream("quiet");
    set(store.as_ref(), &tally, 3).await;
    let command = Command::new(tally.clone(), metadata());
    let nothing = |_: &onewindow_eventlog::Loaded<Tally>| Ok::<_, String>(Vec::<TallyEvent>::new());
    let ran = run_command(store.as_ref(), &command, nothing).await.expect("nothing");
    assert_eq!((ran.outcome.clone(), ran.version(), ran.decided_on.state.total), (CommitOutcome::Nothing, 1, 3));

    // A decision with a counter: both streams move in one commit, or neither.
    let counter = stream("counter");
    let with_counter = |loaded: &onewindow_eventlog::Loaded<Tally>| {
        Ok::<_, String>(Decision::new(vec![TallyEvent::Set { total: loaded.state.total * 2 }]).also(
            counter.clone(),
            0,
            vec![TallyEvent::Set { total: 1 }],
        ))
    };
    let ran = run_command(store.as_ref(), &command, with_counter).await.expect("both");
    assert_eq!(ran.outcome, CommitOutcome::Committed { versions: vec![2, 1] });
    // Deciding again on the tally cannot move the counter's expected version: no retry.
    let error = run_command(store.as_ref(), &command, with_counter).await.expect_err("the counter exists");
    assert!(matches!(&error, CommandError::Conflict { stream, attempts: 1 } if *stream == counter), "{error:?}");
    assert_eq!(totals(store.as_ref(), &tally).await, [3, 6], "the aggregate did not move without its counter");
}

#[test]
fn the_pauses_grow_to_their_cap_and_are_jittered_below_their_ceiling() {
    let policy = RetryPolicy::DEFAULT;
    let ceilings: Vec<u128> = (1..=9).map(|lost| policy.ceiling(lost).as_millis()).collect();
    assert_eq!(ceilings, [2, 4, 8, 16, 32, 64, 100, 100, 100]);
    assert_eq!(policy.ceiling(u32::MAX), policy.cap);
    let pauses: Vec<Duration> = (0..200).map(|_| policy.pause(3)).collect();
    assert!(pauses.iter().all(|p| *p <= Duration::from_millis(8)));
    assert!(pauses.iter().any(|p| *p != pauses[0]), "jittered, not fixed");
}

#[test]
fn each_failure_maps_to_its_status() {
    let status = |e: CommandError<tonic::Status>| tonic::Status::from(e).code();
    assert_eq!(
        status(CommandError::Refused(tonic::Status::failed_precondition("no"))),
        tonic::Code::FailedPrecondition
    );
    assert_eq!(status(CommandError::Conflict { stream: stream("x"), attempts: 10 }), tonic::Code::Aborted);
    assert_eq!(status(CommandError::Store(StoreError::Corrupt("bad".into()))), tonic::Code::Internal);
    // Any failure of the store other than a corrupt event is the store being unavailable.
    assert_eq!(status(CommandError::Store(StoreError::UnsupportedUrl("x".into()))), tonic::Code::Unavailable);
}
