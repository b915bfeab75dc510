//! Time on the organisation's working calendar: the planned completion date, the time left, and "why is it late?"
//! (how long each step took, in working time, against the service's standard). Pure: `now` comes in.

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;

use super::{Application, ServiceSnapshot};

/// The planned completion: `from` (the save or submit time) plus the service's average processing time, counting
/// working hours only. None for a service without a stated processing time.
pub fn planned_completion(
    calendar: &WorkingCalendar,
    from: DateTime<Utc>,
    service: &ServiceSnapshot,
) -> Option<DateTime<Utc>> {
    (service.average_processing_hours > 0).then(|| calendar.add_working_hours(from, service.average_processing_hours))
}

/// Working minutes left until `planned` (negative when overdue), and the same as "N d H h M min".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLeft {
    pub working_minutes: i64,
    pub display: String,
}

pub fn time_left(calendar: &WorkingCalendar, now: DateTime<Utc>, planned: DateTime<Utc>) -> TimeLeft {
    let working_minutes = if planned >= now {
        i64::from(calendar.working_minutes_between(now, planned))
    } else {
        -i64::from(calendar.working_minutes_between(planned, now))
    };
    TimeLeft { working_minutes, display: calendar.remaining_display(working_minutes) }
}

/// One step of the application's way, in working time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// "acceptance", "approval", "completion" or "issue".
    pub kind: &'static str,
    /// The approving department, for an approval.
    pub department: String,
    pub started_at: DateTime<Utc>,
    /// None while the step is still going on (measured up to now).
    pub ended_at: Option<DateTime<Utc>>,
    pub working_minutes: u32,
}

/// Where the time went: every step, the total, and the service's standard it is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lateness {
    pub steps: Vec<Step>,
    /// From submission to the end (or now), in working minutes.
    pub total_working_minutes: u32,
    /// The service's average processing time in working minutes; None when the catalog states none.
    pub standard_working_minutes: Option<u32>,
    /// How far past the standard (0 when within it).
    pub over_standard_minutes: u32,
    /// The step that took longest: where the days went.
    pub longest: Option<usize>,
}

/// The application's steps from its events, for a student and a manager to see where the days went. None for a
/// draft.
pub fn why_late(state: &Application, calendar: &WorkingCalendar, now: DateTime<Utc>) -> Option<Lateness> {
    let created = state.created.as_ref()?;
    let submitted_at = state.submitted_at?;
    let end = state.closed_at.unwrap_or(now);
    let mut steps = Vec::new();
    let closed_at = state.closed_at;
    // A step still open when the application was closed (withdrawn, refused) ended then.
    let mut step = |kind: &'static str, department: String, from: DateTime<Utc>, to: Option<DateTime<Utc>>| {
        let to = to.or(closed_at);
        let until = to.unwrap_or(end);
        steps.push(Step {
            kind,
            department,
            started_at: from,
            ended_at: to,
            working_minutes: calendar.working_minutes_between(from, until),
        });
    };
    step("acceptance", String::new(), submitted_at, state.work_started_at);
    // Approvals: a stage starts when the sheet opens or when the stage before it has its last approval.
    let mut last_approval = None;
    if let Some(opened) = state.sheet_opened_at {
        let mut stage_start = opened;
        let mut stages: Vec<u32> = created.service.route.iter().map(|r| r.stage).collect();
        stages.dedup();
        for stage in stages {
            let mut stage_end = None;
            for row in created.service.route.iter().filter(|r| r.stage == stage) {
                let approved_at =
                    state.decisions.iter().filter(|d| d.department == row.department && d.approved).map(|d| d.at).max();
                step("approval", row.department.clone(), stage_start, approved_at);
                stage_end = match (stage_end, approved_at) {
                    (Some(a), Some(b)) => Some(std::cmp::max(a, b)),
                    (None, b) => b,
                    (a, None) => a,
                };
            }
            let Some(done) = stage_end else { break };
            stage_start = done;
            last_approval = Some(done);
        }
    }
    if let Some(work_started) = state.work_started_at {
        step("completion", String::new(), last_approval.unwrap_or(work_started), state.completed_at);
    }
    if let Some(completed) = state.completed_at {
        step("issue", String::new(), completed, None);
    }
    let total_working_minutes = calendar.working_minutes_between(submitted_at, end);
    let standard_working_minutes =
        (created.service.average_processing_hours > 0).then(|| created.service.average_processing_hours * 60);
    let over_standard_minutes = standard_working_minutes.map_or(0, |s| total_working_minutes.saturating_sub(s));
    let longest = steps.iter().enumerate().max_by_key(|(_, s)| s.working_minutes).map(|(i, _)| i);
    Some(Lateness { steps, total_working_minutes, standard_working_minutes, over_standard_minutes, longest })
}
