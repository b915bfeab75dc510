//! One command runner for every service: load the aggregate, check the caller, decide (pure), commit with the
//! loaded version, and after a lost optimistic race decide again on the new state, under one bounded retry policy
//! with jitter. A refusal by the domain is kept apart from a failure of the store and from a conflict, and each maps
//! to its `tonic::Status` (or the bus's [`HandleError`](onewindow_bus::HandleError)) once, here.
//!
//! Services write no load/decide/commit/retry loops of their own: a command on one aggregate is [`run_command`]
//! (a consumer's reaction is the same with [`Command::reaction`], whose commit carries the inbox mark), and a write
//! that is not "one aggregate" (the next number of a counter, a journal, an inbox per recipient) hands its attempt to
//! [`retry`], the one loop underneath.
//!
//! # Layout
//! - `policy`: [`RetryPolicy`], how often and how far apart a lost race is tried again
//! - `runner`: [`retry`] (the loop), and [`run_command`] with its [`Command`], [`Decision`] and [`Ran`] on top of it
//! - `error`: [`CommandError`] (refused, stale, conflict, store) and its mappings

mod error;
mod policy;
mod runner;
#[cfg(test)]
mod tests;

pub use error::CommandError;
pub use policy::RetryPolicy;
pub use runner::{Attempt, Command, Committed, Decision, Ran, encode_all, retry, run_checked_command, run_command};
