//! What can go wrong with a command, kept apart, and its one mapping to a gRPC status and to a consumer's error.

use onewindow_bus::HandleError;
use onewindow_eventlog::{StoreError, StreamRef};
use tonic::Status;

/// Why a command did not commit.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<R> {
    /// The domain (or the caller check) said no: nothing was written. `R` is the service's own refusal.
    #[error("{0}")]
    Refused(R),
    /// The client named the version it decided on and the stream is elsewhere now: it must read again. Never
    /// retried on the client's behalf.
    #[error("{stream} is at version {current}, not {expected}: read it again and retry")]
    Stale { stream: StreamRef, expected: i64, current: i64 },
    /// Every attempt lost the race for the stream (or the one attempt of a command with an expected version did).
    #[error("{stream} kept changing: {attempts} attempt(s) lost the race")]
    Conflict { stream: StreamRef, attempts: u32 },
    /// The event log failed (or a stored event could not be read back).
    #[error(transparent)]
    Store(StoreError),
}

impl<R> CommandError<R> {
    /// The same error with the refusal converted, e.g. from a domain error to the service's.
    pub fn map_refusal<S>(self, f: impl FnOnce(R) -> S) -> CommandError<S> {
        match self {
            Self::Refused(r) => CommandError::Refused(f(r)),
            Self::Stale { stream, expected, current } => CommandError::Stale { stream, expected, current },
            Self::Conflict { stream, attempts } => CommandError::Conflict { stream, attempts },
            Self::Store(e) => CommandError::Store(e),
        }
    }
}

impl<R> From<StoreError> for CommandError<R> {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// The one mapping to gRPC: a refusal is the service's own status for it, a stale view or a lost race `ABORTED`
/// (read again and retry), the store's failure `UNAVAILABLE` or `INTERNAL` (logged there, the only ones logged).
impl<R: Into<Status>> From<CommandError<R>> for Status {
    fn from(error: CommandError<R>) -> Self {
        match error {
            CommandError::Refused(refusal) => refusal.into(),
            CommandError::Stale { stream, expected, current } => Status::aborted(format!(
                "the {} is at version {current}, not {expected}: read it again and retry",
                stream.stream_type
            )),
            CommandError::Conflict { stream, attempts } => Status::aborted(format!(
                "the {} was changed by someone else {attempts} time(s) meanwhile: read it again and retry",
                stream.stream_type
            )),
            CommandError::Store(error) => onewindow_server::store_status(error),
        }
    }
}

/// The mapping for consumers: a refused reaction cannot succeed on redelivery either (poison, parked); a conflict
/// that outlasted the retries and the store's failures are transient (the bus redelivers later). A consumer for
/// which a refusal means "nothing to do" matches [`CommandError::Refused`] itself before converting.
impl<R: std::fmt::Display> From<CommandError<R>> for HandleError {
    fn from(error: CommandError<R>) -> Self {
        match error {
            CommandError::Refused(refusal) => HandleError::Poison(anyhow::anyhow!("{refusal}")),
            CommandError::Store(error) => HandleError::Transient(error.into()),
            other => HandleError::Transient(anyhow::anyhow!("{other}")),
        }
    }
}
