//! The loop: decide, commit, and after a lost race decide again on what the winner wrote.

use std::future::Future;

use onewindow_eventlog::EventSchema;
use onewindow_eventlog::{
    Aggregate, Commit, CommitOutcome, EventCodecError, EventMetadata, EventStore, InboxMark, Loaded, NewEvent,
    RecordedEvent, StoreError, StreamAppend, StreamRef, encode, load,
};
use serde::Serialize;

use crate::{CommandError, RetryPolicy};

/// What one attempt of [`retry`] came to.
pub enum Attempt<T> {
    /// Commit this, and answer `T` once it is committed. A lost race makes a new attempt.
    Commit(Commit, T),
    /// Nothing to write: answer `T` as it is.
    Answer(T),
}

/// An attempt that went through.
#[derive(Debug)]
pub struct Committed<T> {
    pub answer: T,
    /// What the store said; [`CommitOutcome::Nothing`] for an [`Attempt::Answer`].
    pub outcome: CommitOutcome,
    /// How many attempts it took (1 without a lost race).
    pub attempts: u32,
}

/// The one retry loop. `attempt(n)` reads what it needs and says what to commit (the `n`th time: 1, 2, …); when the
/// commit loses an optimistic race ([`StoreError::Concurrency`]) the policy's pause is waited and `attempt` is asked
/// again, so it decides on the winner's result, at most `policy.max_attempts` times in all. Anything else the
/// attempt or the store says ends it.
pub async fn retry<T, R, F, Fut>(
    store: &dyn EventStore,
    policy: RetryPolicy,
    attempt: F,
) -> Result<Committed<T>, CommandError<R>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Attempt<T>, CommandError<R>>>,
{
    retry_lost_races_on(store, policy, |_| true, attempt).await
}

/// [`retry`], deciding again only after a race lost on a stream `worth_retrying` accepts.
async fn retry_lost_races_on<T, R, F, Fut>(
    store: &dyn EventStore,
    policy: RetryPolicy,
    worth_retrying: impl Fn(&StreamRef) -> bool,
    mut attempt: F,
) -> Result<Committed<T>, CommandError<R>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Attempt<T>, CommandError<R>>>,
{
    let mut number = 1;
    loop {
        let (commit, answer) = match attempt(number).await? {
            Attempt::Answer(answer) => {
                return Ok(Committed { answer, outcome: CommitOutcome::Nothing, attempts: number });
            }
            Attempt::Commit(commit, answer) => (commit, answer),
        };
        match store.commit(commit).await {
            Ok(outcome) => return Ok(Committed { answer, outcome, attempts: number }),
            Err(StoreError::Concurrency { stream, .. }) if number < policy.max_attempts && worth_retrying(&stream) => {
                tracing::debug!(%stream, attempt = number, "lost a race for the stream; deciding again on its new state");
                tokio::time::sleep(policy.pause(number)).await;
                number += 1;
            }
            Err(StoreError::Concurrency { stream, .. }) => {
                return Err(CommandError::Conflict { stream, attempts: number });
            }
            Err(error) => return Err(CommandError::Store(error)),
        }
    }
}

/// A command (or reaction) on one aggregate's stream: where, on which version, with what metadata and inbox mark.
#[derive(Debug, Clone)]
pub struct Command {
    pub stream: StreamRef,
    /// The version the client decided on: a stream elsewhere is [`CommandError::Stale`] at once, and a race lost
    /// after the load is a [`CommandError::Conflict`], never decided again on the client's behalf.
    pub expected_version: Option<i64>,
    pub metadata: EventMetadata,
    /// A consumer's mark, committed with the effect (or alone when there is none): a redelivery has no effect.
    pub inbox: Option<InboxMark>,
    pub policy: RetryPolicy,
    /// Take the correlation id of the stream's first event: a command on an existing stream continues the flow
    /// that created it (a sheet continues its submission's).
    pub continue_flow: bool,
}

impl Command {
    pub fn new(stream: StreamRef, metadata: EventMetadata) -> Self {
        Self {
            stream,
            expected_version: None,
            metadata,
            inbox: None,
            policy: RetryPolicy::DEFAULT,
            continue_flow: false,
        }
    }

    /// A consumer's reaction to `cause`: the same flow, caused by it, performed by `service`, marked as handled by
    /// `consumer` in the same commit.
    pub fn reaction(stream: StreamRef, service: &str, consumer: &str, cause: &RecordedEvent) -> Self {
        let metadata = onewindow_server::reaction_metadata(service, cause);
        let mark = InboxMark { consumer: consumer.to_owned(), event_id: cause.id };
        Self { inbox: Some(mark), ..Self::new(stream, metadata) }
    }

    pub fn expecting(mut self, expected_version: Option<i64>) -> Self {
        self.expected_version = expected_version;
        self
    }

    pub fn continuing_flow(mut self) -> Self {
        self.continue_flow = true;
        self
    }
}

/// What a decision writes: the aggregate's own events, and other streams' appends in the same transaction
/// (a counter, a seal), each with the version it was decided on. No events anywhere is no write.
pub struct Decision<E> {
    pub events: Vec<E>,
    also: Vec<Also>,
}

type Encoder = Box<dyn FnOnce(&EventMetadata) -> Result<Vec<NewEvent>, EventCodecError> + Send>;

struct Also {
    stream: StreamRef,
    expected_version: i64,
    encode: Encoder,
}

impl<E> Decision<E> {
    pub fn new(events: Vec<E>) -> Self {
        Self { events, also: Vec::new() }
    }

    /// Appends `events` to another stream in the same commit, expecting it at `expected_version` (0: it must not
    /// exist yet). They are encoded with the command's metadata.
    pub fn also<X: Serialize + EventSchema + Send + 'static>(
        mut self,
        stream: StreamRef,
        expected_version: i64,
        events: Vec<X>,
    ) -> Self {
        let encode: Encoder = Box::new(move |metadata| encode_all(&events, metadata));
        self.also.push(Also { stream, expected_version, encode });
        self
    }

    /// Appends made outside the decision (already encoded, with expected versions read elsewhere) in the same
    /// commit. Deciding again on the command's stream cannot refresh them, so a race lost on one of them, like one
    /// lost on any stream but the command's own, is a [`CommandError::Conflict`] at once.
    pub fn with_appends(mut self, appends: Vec<StreamAppend>) -> Self {
        for StreamAppend { stream, expected_version, events } in appends {
            let encode: Encoder = Box::new(move |_| Ok(events));
            self.also.push(Also { stream, expected_version, encode });
        }
        self
    }
}

impl<E> From<Vec<E>> for Decision<E> {
    fn from(events: Vec<E>) -> Self {
        Self::new(events)
    }
}

/// A command that went through.
#[derive(Debug)]
pub struct Ran<A: Aggregate> {
    /// The state the committed decision was taken on: after lost races, the last one read.
    pub decided_on: Loaded<A>,
    /// What was decided (and, unless [`Ran::outcome`] says otherwise, committed).
    pub events: Vec<A::Event>,
    pub outcome: CommitOutcome,
    pub attempts: u32,
}

impl<A: Aggregate> Ran<A> {
    /// Whether this command's events were written (not for no events, nor for an event handled before).
    pub fn wrote(&self) -> bool {
        matches!(self.outcome, CommitOutcome::Committed { .. }) && !self.events.is_empty()
    }

    /// The stream's version after the command.
    pub fn version(&self) -> i64 {
        self.decided_on.version + if self.wrote() { self.events.len() as i64 } else { 0 }
    }
}

/// [`run_checked_command`] with no caller check.
pub async fn run_command<A, R, D>(
    store: &dyn EventStore,
    command: &Command,
    decide: impl Fn(&Loaded<A>) -> Result<D, R> + Send + Sync,
) -> Result<Ran<A>, CommandError<R>>
where
    A: Aggregate,
    R: Send,
    D: Into<Decision<A::Event>>,
{
    run_checked_command(store, command, |_| Ok(()), decide).await
}

/// Loads the command's aggregate, asks `check` whether the caller may act on it (before the client's expected
/// version is compared, so a stranger learns nothing of the stream), compares the expected version, asks the pure
/// `decide`, and commits its events with the loaded version (and the inbox mark). A lost race is decided again
/// on the new state under the command's policy; with an expected version, or on another stream of the commit, it is a
/// conflict at once. Both closures
/// are `Fn`: a retry asks them again, and they only look at the state.
pub async fn run_checked_command<A, R, D>(
    store: &dyn EventStore,
    command: &Command,
    check: impl Fn(&Loaded<A>) -> Result<(), R> + Send + Sync,
    decide: impl Fn(&Loaded<A>) -> Result<D, R> + Send + Sync,
) -> Result<Ran<A>, CommandError<R>>
where
    A: Aggregate,
    R: Send,
    D: Into<Decision<A::Event>>,
{
    let policy = if command.expected_version.is_some() { command.policy.once() } else { command.policy };
    let (check, decide) = (&check, &decide);
    // Only the command's own stream is read again: other streams' appends come with the versions they were decided
    // on, and deciding again on the same reads would lose the same race.
    let own_stream = |stream: &StreamRef| *stream == command.stream;
    let committed = retry_lost_races_on(store, policy, own_stream, move |_| async move {
        let loaded = load::<A>(store, &command.stream).await?;
        check(&loaded).map_err(CommandError::Refused)?;
        if let Some(expected) = command.expected_version.filter(|v| *v != loaded.version) {
            return Err(CommandError::Stale { stream: command.stream.clone(), expected, current: loaded.version });
        }
        let Decision { events, also } = decide(&loaded).map_err(CommandError::Refused)?.into();
        let mut metadata = command.metadata.clone();
        if command.continue_flow
            && let Some(first) = loaded.events.first()
        {
            metadata.correlation_id = first.metadata.correlation_id;
        }
        let mut appends = vec![StreamAppend {
            stream: command.stream.clone(),
            expected_version: loaded.version,
            events: encode_all(&events, &metadata).map_err(StoreError::from)?,
        }];
        for other in also {
            let encoded = (other.encode)(&metadata).map_err(StoreError::from)?;
            appends.push(StreamAppend {
                stream: other.stream,
                expected_version: other.expected_version,
                events: encoded,
            });
        }
        let nothing = appends.iter().all(|a| a.events.is_empty()) && command.inbox.is_none();
        let answer = (loaded, events);
        if nothing {
            // No events is no write (Marten #5539): answer the state as it is.
            return Ok(Attempt::Answer(answer));
        }
        Ok(Attempt::Commit(Commit { appends, inbox: command.inbox.clone() }, answer))
    })
    .await?;
    let Committed { answer: (decided_on, events), outcome, attempts } = committed;
    Ok(Ran { decided_on, events, outcome, attempts })
}

/// Encodes a decision's events with the command's metadata.
/// Each at its type's schema version (`EventSchema`).
pub fn encode_all<E: Serialize + EventSchema>(
    events: &[E],
    metadata: &EventMetadata,
) -> Result<Vec<NewEvent>, EventCodecError> {
    events.iter().map(|e| encode(e, metadata)).collect()
}
