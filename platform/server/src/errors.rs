//! Refusals that name what was wrong, in the form clients can read (`google.rpc.BadRequest`).

use onewindow_eventlog::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Collects every invalid field of a request, so the client learns all of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldViolation>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, description: impl Into<String>) -> &mut Self {
        self.0.push(FieldViolation::new(field, description));
        self
    }

    pub fn check(&mut self, ok: bool, field: &str, description: &str) -> &mut Self {
        if !ok {
            self.add(field, description);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `INVALID_ARGUMENT` naming every field, or `Ok` when there were none.
    pub fn into_result(self) -> Result<(), Status> {
        if self.0.is_empty() {
            return Ok(());
        }
        let summary = self.0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ");
        Err(Status::with_error_details(Code::InvalidArgument, summary, ErrorDetails::with_bad_request(self.0)))
    }

    /// A single invalid field.
    pub fn one(field: &str, description: impl Into<String>) -> Status {
        let mut errors = Self::new();
        errors.add(field, description);
        errors.into_result().err().unwrap_or_else(|| Status::invalid_argument(field.to_owned()))
    }
}

/// The status of a failed store operation: a lost race is `ABORTED` (re-read and retry), the rest is ours.
pub fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::Concurrency { stream, expected } => Status::aborted(format!(
            "{} was changed by someone else (expected version {expected}): read it again and retry",
            stream.stream_type
        )),
        StoreError::Corrupt(problem) => {
            tracing::error!(%problem, "a stored event could not be read");
            Status::internal("a stored record could not be read")
        }
        other => {
            tracing::error!(error = %other, "event store failure");
            Status::unavailable("storage is unavailable, try again")
        }
    }
}
