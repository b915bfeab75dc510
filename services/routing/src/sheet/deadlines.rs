//! A stage's time limit: when a reminder, an escalation or a deemed decision is due, and what it records.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use uuid::Uuid;

use super::*;

/// What the current stage's time limit calls for now.
#[derive(Debug, Clone, PartialEq)]
pub enum DeadlineDue {
    /// Less than a quarter of the limit (at least an hour) is left: the pending approvers are reminded, once.
    Remind { stage: i32, deadline_at: DateTime<Utc>, notify: Vec<Uuid> },
    /// The limit passed and the passport says nothing of silence: the heads of these departments are told, once.
    Escalate { stage: i32, deadline_at: DateTime<Utc>, departments: Vec<String> },
    /// The limit passed and silence decides: the stage's undecided rows are deemed decided.
    Deem { stage: i32, deadline_at: DateTime<Utc>, decision: Decision },
}

/// Working minutes before the limit the reminder goes out: a quarter of the limit, at least an hour.
pub(super) fn reminder_lead_minutes(limit_hours: u32) -> u32 {
    (limit_hours * 60 / 4).max(60)
}

/// What is due on `sheet` at `now`, if anything.
pub fn deadline_due(sheet: &Sheet, calendar: &WorkingCalendar, now: DateTime<Utc>) -> Option<DeadlineDue> {
    let (stage, deadline_at) = sheet.deadline(calendar)?;
    // The rows an approver owes a decision on; a rejection awaiting the applicant's answer is not one of them.
    let owing: Vec<&Row> = sheet.stage_rows(stage).filter(|r| r.open_for_decision()).collect();
    if owing.is_empty() {
        return None;
    }
    if now >= deadline_at {
        let silence = owing.iter().map(|r| r.step.on_silence).find(|s| !s.is_none()).unwrap_or_default();
        let undecided = owing.iter().any(|r| r.is_pending());
        return match silence {
            Silence::Approve if undecided => {
                Some(DeadlineDue::Deem { stage, deadline_at, decision: Decision::Approve })
            }
            Silence::Reject if undecided => Some(DeadlineDue::Deem { stage, deadline_at, decision: Decision::Reject }),
            _ if sheet.escalated.contains(&stage) => None,
            _ => {
                let departments: BTreeSet<String> = owing.iter().map(|r| r.step.department.clone()).collect();
                Some(DeadlineDue::Escalate { stage, deadline_at, departments: departments.into_iter().collect() })
            }
        };
    }
    let left = calendar.working_minutes_between(now, deadline_at);
    if sheet.reminded.contains(&stage) || left > reminder_lead_minutes(sheet.time_limit_hours(stage)) {
        return None;
    }
    let notify: BTreeSet<Uuid> = owing.iter().flat_map(|r| r.step.approver_ids.iter().copied()).collect();
    Some(DeadlineDue::Remind { stage, deadline_at, notify: notify.into_iter().collect() })
}

/// The events of what is due: `heads` are the people an escalation notifies (looked up by the caller).
pub fn decide_deadline(sheet: &Sheet, due: DeadlineDue, heads: Vec<Uuid>, now: DateTime<Utc>) -> Vec<SheetEvent> {
    let application_id = sheet.application.application_id;
    let number = sheet.application.number.clone();
    match due {
        DeadlineDue::Remind { stage, deadline_at, notify } => {
            vec![SheetEvent::DeadlineReminder(DeadlineNotice { application_id, number, stage, deadline_at, notify })]
        }
        DeadlineDue::Escalate { stage, deadline_at, .. } => {
            vec![SheetEvent::DeadlineEscalated(DeadlineNotice {
                application_id,
                number,
                stage,
                deadline_at,
                notify: heads,
            })]
        }
        DeadlineDue::Deem { stage, deadline_at, decision } => {
            let verdict = if decision == Decision::Approve { "approved" } else { "rejected" };
            let note = format!(
                "No decision by the deadline ({}): deemed {verdict}, as the service's passport provides",
                deadline_at.format("%Y-%m-%d %H:%M UTC")
            );
            let deemed = sheet
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.step.stage == stage && r.is_pending())
                .map(|(index, row)| {
                    SheetEvent::RowDecided(RowDecided {
                        application_id,
                        row: index as u32,
                        department: row.step.department.clone(),
                        decision,
                        decided_by_id: Uuid::nil(),
                        decided_by_name: String::new(),
                        decided_by_position: String::new(),
                        note: note.clone(),
                        decided_at: now,
                        acting_for_id: None,
                        acting_for_name: String::new(),
                        deemed: true,
                    })
                })
                .collect();
            with_completion(sheet, deemed)
        }
    }
}
