//! Read models (projections) kept from a service's own event log, beside it in the same database.
//!
//! A [`Projection`] names itself, the event types it reads, and its tables; it applies a batch of
//! [`RecordedEvent`](onewindow_eventlog::RecordedEvent)s inside a transaction the runner opened. The runner moves the
//! projection's checkpoint in that same transaction, after locking it and checking that nobody moved it meanwhile,
//! so a batch is applied exactly once: a crash rolls back the rows and the checkpoint together, and two replicas
//! (or a rebuild beside a live runner) never apply one batch twice.
//!
//! - A [`ProjectionRunner`] keeps a read model current: it tails the log with `EventStore::read_all` (commit order,
//!   the PostgreSQL read horizon), woken by local commits and polling for other replicas', and tells subscribers
//!   (watch streams) of every event it has passed, after the read model holds it.
//! - [`rebuild`] drops the tables, recreates them and replays the whole log from position 0 in big batches, the next
//!   batch read while the current one is applied, with a progress callback.
//! - A projection has a version: when the code's version differs from the stored one, the runner rebuilds the
//!   read model before serving it (a changed table or apply logic needs no manual step).
//!
//! # Layout
//! - `projection`: the [`Projection`] port and its errors
//! - `db`: [`ReadModelDb`] (the log's own database) and [`Tx`], with the checkpoint table
//! - `runner`: the live [`ProjectionRunner`] and its worker
//! - `rebuild`: [`rebuild`] from scratch with progress

mod db;
mod projection;
mod rebuild;
mod runner;
#[cfg(test)]
mod tests;

pub use db::{Backend, Checkpoint, ReadModelDb, Tx};
pub use projection::{Projection, ProjectionError};
pub use rebuild::{RebuildProgress, RebuildReport, rebuild};
pub use runner::{Applied, ProjectionRunner};
