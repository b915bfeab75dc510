//! The application aggregate: its life cycle as events, decided and folded without I/O.
//!
//! Saved → Submitted → In work → Completed → Issued, or Refused (by staff, with a reason) or Withdrawn (by the
//! applicant). The service definition and the applicant's personal card are copied into the application when it
//! is created, so later catalog or card edits do not change what was applied for.
//!
//! - `events`: what is recorded: the public payloads (`onewindow_contracts::applications`) and the counter
//! - `state`: the aggregate folded from them, with its history
//! - `decide`: every command and reaction, refused with the current status when the transition is not allowed
//! - `timing`: the planned completion date and where the time went, on the organisation's working calendar

mod decide;
mod events;
mod state;
mod timing;

pub use decide::*;
pub use events::*;
pub use state::*;
pub use timing::*;

pub const APPLICATION: &str = "application";
/// One counter stream per organisation and year: its version is the last number given.
pub const NUMBER_COUNTER: &str = "application_number";

/// "KAZNU-2026-000042": organisation, year, and the year's counter.
pub fn format_number(org: &str, year: i32, sequence: i64) -> String {
    format!("{}-{year}-{sequence:06}", org.to_uppercase())
}

#[cfg(test)]
mod tests;
