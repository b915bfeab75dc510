//! The public event contract: every payload one service writes to its log and another service reads, defined
//! once and used by both.
//!
//! A producer's domain records these enums as its aggregate's events; a consumer decodes the same enum
//! (`onewindow_eventlog::decode`) and matches the variants it wants. Nobody keeps a private copy of another
//! service's payload, so a field the producer writes is read with the type it was written with: an `Option` is an
//! `Option` on both sides, and `null` and absent read the same. Fields added after the first release carry
//! `#[serde(default)]`; a change that old payloads do not fit gets a new schema version and an upcaster
//! (`onewindow_eventlog::EventSchema`), so every stored event still reads.
//!
//! `docs/EVENTS.md` and `proto/onewindow/events/v1/events.proto` describe these types for integrators; the
//! contract tests (`tests/tests/e2e/contracts.rs`) check both against them, and decode values generated from
//! these types (feature `arbitrary`) through every consumer's own reading path.
//!
//! # Layout
//! - `language`: the three languages documents and notifications are written in
//! - `applications`: `application/<id>` (the application's life cycle)
//! - `sheet`: `sheet/<application_id>` (routing's approval sheet)
//! - `documents`: `document/<id>` and `verification/<document_id>` (issued documents and their checks)
//! - `catalog`: `service/<code>`, `section/<code>`, `department/<code>`, `calendar/working`

pub mod applications;
pub mod catalog;
pub mod documents;
#[cfg(feature = "arbitrary")]
pub mod generate;
mod language;
pub mod sheet;

pub use language::Language;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}
