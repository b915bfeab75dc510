//! End-to-end tests: one binary, a module per feature (STYLE.md: all integration tests of a crate in one binary).
//!
//! Every test gets its own databases and, where it needs one, its own nats-server.

mod attachments;
mod authorization;
mod catalog;
mod clearance;
mod contracts;
mod distributed;
mod embedded;
mod event_log;
mod identity;
mod lifecycle;
mod lists;
mod make_run;
mod notifications_public;
mod outbox;
mod parked;
mod routing;
mod settings;
mod tenancy;
