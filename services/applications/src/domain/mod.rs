//! The application aggregate: its life cycle as events, decided and folded without I/O.
//!
//! Saved → Submitted → In work → Completed → Issued, or Refused (by staff, with a reason) or Withdrawn (by the
//! applicant). The service definition and the applicant's personal card are copied into the application when it
//! is created, so later catalog or card edits do not change what was applied for.
//!
//! - `events`: what is recorded (the public payloads of docs/EVENTS.md)
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

use std::fmt;

use serde::{Deserialize, Serialize};

pub const APPLICATION: &str = "application";
/// One counter stream per organisation and year: its version is the last number given.
pub const NUMBER_COUNTER: &str = "application_number";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Saved,
    Submitted,
    InWork,
    Completed,
    Issued,
    Refused,
    Withdrawn,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Saved => "SAVED",
            Status::Submitted => "SUBMITTED",
            Status::InWork => "IN_WORK",
            Status::Completed => "COMPLETED",
            Status::Issued => "ISSUED",
            Status::Refused => "REFUSED",
            Status::Withdrawn => "WITHDRAWN",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Kk,
    Ru,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStep {
    pub stage: u32,
    pub department: String,
    pub position: String,
    /// Approvals the stage needs: 0 for all of its approvers, 1 for any one, N for a committee.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub required: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl RouteStep {
    /// Numbers the catalog's stages (each the approvals it needs and a list of department and position) from 1.
    pub fn from_stages(stages: impl IntoIterator<Item = (u32, Vec<(String, String)>)>) -> Vec<RouteStep> {
        stages
            .into_iter()
            .enumerate()
            .flat_map(|(i, (required, approvers))| {
                approvers.into_iter().map(move |(department, position)| RouteStep {
                    stage: i as u32 + 1,
                    department,
                    position,
                    required,
                })
            })
            .collect()
    }
}

/// What the application copied from the catalog when it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    pub code: String,
    pub version: i64,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
    pub route: Vec<RouteStep>,
    /// "certificate_of_study", or empty when the service issues no document.
    pub issues_document: String,
    /// The office (a catalog section code) whose staff execute the service. Fields below were added after the
    /// first release: older copies read them as empty.
    #[serde(default)]
    pub office: String,
    /// The service's average processing time in working hours: the planned completion date counts from it.
    #[serde(default)]
    pub average_processing_hours: u32,
    /// What the applicant attaches; an attachment names its slot by the index in this list.
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    /// The reasons to pick from ("Other" is always possible: free text).
    #[serde(default)]
    pub reasons: Vec<ServiceNames>,
    /// The languages the issued document can be had in (empty when none is issued).
    #[serde(default)]
    pub document_languages: Vec<Language>,
}

/// One document the applicant attaches (several pages may be several files, up to `max_files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredDocument {
    pub name: ServiceNames,
    pub max_files: u32,
    /// False for a document the applicant may attach but need not.
    pub required: bool,
}

impl ServiceSnapshot {
    pub fn name_in(&self, language: Option<Language>) -> &str {
        match language {
            Some(Language::Kk) => &self.name_kk,
            Some(Language::Ru) => &self.name_ru,
            _ => &self.name_en,
        }
    }
}

/// A text in each of the three languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceNames {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl ServiceNames {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Kk => &self.kk,
            Language::Ru => &self.ru,
            Language::En => &self.en,
        }
    }
}

/// "KAZNU-2026-000042": organisation, year, and the year's counter.
pub fn format_number(org: &str, year: i32, sequence: i64) -> String {
    format!("{}-{year}-{sequence:06}", org.to_uppercase())
}

#[cfg(test)]
mod tests;
