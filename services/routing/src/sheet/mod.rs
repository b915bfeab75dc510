//! The approval sheet, as events: pure decisions and folding, no I/O, no clock.
//!
//! A sheet has one row per approver of the application's route. Rows are grouped into stages (1-based): the
//! stages are decided one after another, the rows of one stage in parallel. A stage needs all of its approvals,
//! any one, or a quorum of N (a committee); once it has them, its other rows are no longer needed. The sheet is
//! approved when every stage is.
//!
//! A rejection asks for rework (seed 000): it carries a note, the applicant answers it, and then the row's approver
//! decides again; the conversation stays on the row. Only that row is reopened, approvals already given stand, and
//! the stage (in a sequential route, every later stage too) waits for it. A rejection never ends a sheet: refusing
//! the application is the service centre's decision (`application.refused`), which closes the sheet.
//!
//! A stage may have a time limit in working hours: a reminder before it, an escalation to the department heads after
//! it, or — where the service's passport says silence is consent — its undecided rows are deemed decided. A final
//! signatory stage is signed, not approved: its decision records a SHA-256 of what was signed.
//!
//! # Layout
//! - `state`: the sheet folded from its events (rows, stages, what is pending), and `apply`
//! - `approver`: who is deciding, and in whose name (a delegation's mandate)
//! - `decide`: opening, deciding a row, signing, answering a rejection, closing; refused with a reason
//! - `deadlines`: when a stage's time limit is near or past, and what is recorded then
//!
//! The events themselves are the contract's (`onewindow_contracts::sheet`).

pub mod approver;
pub mod deadlines;
pub mod decide;
pub mod state;
#[cfg(test)]
mod tests;

use onewindow_eventlog::{OrgId, StreamRef};
use uuid::Uuid;

pub use approver::*;
pub use deadlines::*;
pub use decide::*;
pub use onewindow_contracts::sheet::*;
pub use state::*;

/// The stream type of sheets: one stream `sheet/<application_id>` per application.
pub const SHEET: &str = "sheet";

pub fn sheet_stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, SHEET, application_id.to_string())
}
