//! The event log every onewindow aggregate is rebuilt from, and the outbox its events leave through.
//!
//! A service appends the events of one command atomically ([`EventStore::commit`]), guarded per stream by an
//! expected version; a stale version fails with [`StoreError::Concurrency`]. The same log, read in commit order
//! from a [`Position`] ([`EventStore::read_all`]), feeds the outbox relay and projections: the log *is* the
//! outbox, so an event is never committed without also being queued for publishing. Consumers record the events
//! they have handled ([`InboxMark`]) in the same transaction as their effect, so a redelivery has no second effect.
//!
//! # Layout
//! - `aggregate`: typed domain events over the log, and folding a stream back into state
//! - `event`: what goes in ([`NewEvent`]) and what comes out ([`RecordedEvent`]), streams and positions
//! - `store`: the [`EventStore`] port and its errors
//! - `postgres`, `sqlite`: the two backends, each with its own migrations under `migrations/`; `shared_sql` what
//!   they share to the letter (the event's columns, the row decoding, the plain reads)
//! - `schema`: schema versions per event type and the upcasters that read older payloads
//! - `open`: picks a backend from a database URL

mod aggregate;
mod event;
mod open;
mod postgres;
mod restored;
mod schema;
mod shared_sql;
mod sqlite;
mod store;

pub use aggregate::{Aggregate, EventCodecError, Loaded, decode, encode, fold, load, load_all};
pub use event::{EventMetadata, NewEvent, OrgId, OrgIdError, Position, RecordedEvent, StreamRef};
pub use open::{DEFAULT_POOL_SIZE, OpenOptions, open, open_postgres, open_sqlite, open_with};
pub use postgres::PostgresEventStore;
pub use schema::{EventSchema, UpcastError, upcast_to_current};
pub use sqlite::SqliteEventStore;
pub use store::{Commit, CommitOutcome, Database, EventStore, InboxMark, StoreError, StreamAppend};
