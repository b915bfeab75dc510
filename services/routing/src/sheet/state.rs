//! The sheet as its events leave it: rows, stages, and what is pending.

use std::{collections::BTreeSet, fmt};

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use onewindow_eventlog::{Aggregate, RecordedEvent};
use uuid::Uuid;

use super::*;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SheetStatus {
    /// No `sheet.opened` yet: the stream does not exist.
    #[default]
    NotOpened,
    Open,
    Approved,
    /// Only sheets from before rework: a rejection ended them.
    Rejected,
    /// The application was withdrawn or refused: no more decisions.
    Closed,
}

impl fmt::Display for SheetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SheetStatus::NotOpened => "not opened",
            SheetStatus::Open => "open",
            SheetStatus::Approved => "approved",
            SheetStatus::Rejected => "rejected",
            SheetStatus::Closed => "closed",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Pending,
    Approved,
    Rejected,
}

/// Who decided a row, how, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDecision {
    pub decision: Decision,
    pub by_id: Uuid,
    pub by_name: String,
    pub by_position: String,
    pub note: String,
    pub at: DateTime<Utc>,
    pub acting_for_id: Option<Uuid>,
    pub acting_for_name: String,
    pub deemed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Approval,
    Rejection,
    /// The applicant's answer to a rejection.
    Answer,
}

/// One entry of a row's conversation (seed 000: the rejection's note, the applicant's comment, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct RowMessage {
    pub kind: MessageKind,
    pub by_id: Uuid,
    pub by_name: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: RouteStep,
    /// `None` while pending; the latest decision otherwise.
    pub decision: Option<RowDecision>,
    /// Every decision and answer on this row, oldest first.
    pub conversation: Vec<RowMessage>,
}

impl Row {
    pub fn status(&self) -> RowStatus {
        match &self.decision {
            None => RowStatus::Pending,
            Some(d) if d.decision == Decision::Approve => RowStatus::Approved,
            Some(_) => RowStatus::Rejected,
        }
    }

    pub(super) fn is_pending(&self) -> bool {
        self.decision.is_none()
    }

    /// Rejected, and the applicant has answered since: the approver may decide again.
    pub fn answered(&self) -> bool {
        self.status() == RowStatus::Rejected && self.conversation.last().is_some_and(|m| m.kind == MessageKind::Answer)
    }

    /// Pending, or reopened by the applicant's answer.
    pub(super) fn open_for_decision(&self) -> bool {
        self.is_pending() || self.answered()
    }
}

/// The sheet of one application, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub status: SheetStatus,
    pub application: ApplicationSummary,
    pub rows: Vec<Row>,
    pub opened_at: Option<DateTime<Utc>>,
    /// When each stage became the current one, by stage.
    pub stage_started: Vec<(i32, DateTime<Utc>)>,
    pub reminded: BTreeSet<i32>,
    pub escalated: BTreeSet<i32>,
    pub signatures: Vec<Signature>,
    pub closed_reason: String,
}

impl Sheet {
    pub(super) fn stage_rows(&self, stage: i32) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.step.stage == stage)
    }

    pub(super) fn stages(&self) -> Vec<i32> {
        let mut stages: Vec<i32> = self.rows.iter().map(|r| r.step.stage).collect();
        stages.dedup();
        stages
    }

    /// Approvals `stage` needs: its quorum, or every row when it has none (or more than it has rows).
    pub(super) fn needed(&self, stage: i32) -> usize {
        let rows = self.stage_rows(stage).count();
        match self.stage_rows(stage).map(|r| r.step.required as usize).max().unwrap_or(0) {
            0 => rows,
            quorum => quorum.min(rows),
        }
    }

    pub(super) fn count(&self, stage: i32, status: RowStatus) -> usize {
        self.stage_rows(stage).filter(|r| r.status() == status).count()
    }

    pub(super) fn stage_complete(&self, stage: i32) -> bool {
        self.count(stage, RowStatus::Approved) >= self.needed(stage)
    }

    /// The stage being decided: the lowest one that has not got its approvals, while the sheet is open. A stage
    /// with a rejected row stays current until the rework is approved.
    pub fn current_stage(&self) -> Option<i32> {
        if self.status != SheetStatus::Open {
            return None;
        }
        self.stages().into_iter().find(|stage| !self.stage_complete(*stage))
    }

    /// When `stage` became the one being decided.
    pub fn stage_started_at(&self, stage: i32) -> Option<DateTime<Utc>> {
        self.stage_started.iter().find(|(s, _)| *s == stage).map(|(_, at)| *at)
    }

    /// The time limit of `stage` in working hours, 0 for none.
    pub fn time_limit_hours(&self, stage: i32) -> u32 {
        self.stage_rows(stage).map(|r| r.step.time_limit_hours).max().unwrap_or(0)
    }

    /// When the current stage's time limit ends, on `calendar`.
    pub fn deadline(&self, calendar: &WorkingCalendar) -> Option<(i32, DateTime<Utc>)> {
        let stage = self.current_stage()?;
        let hours = self.time_limit_hours(stage);
        if hours == 0 {
            return None;
        }
        Some((stage, calendar.add_working_hours(self.stage_started_at(stage)?, hours)))
    }

    /// Share of the approvals the route needs that were given, 0..=100 (an approved sheet without rows is complete).
    pub fn progress_percent(&self) -> i32 {
        let stages = self.stages();
        let needed: usize = stages.iter().map(|s| self.needed(*s)).sum();
        if needed == 0 {
            return if self.status == SheetStatus::Approved { 100 } else { 0 };
        }
        let given: usize = stages.iter().map(|s| self.count(*s, RowStatus::Approved).min(self.needed(*s))).sum();
        (given * 100 / needed) as i32
    }

    /// The rows of the current stage `who` may decide now (their own, or as a substitute): the sheet is in their
    /// inbox when there is one.
    pub fn rows_awaiting<'a>(&self, who: &'a Approver) -> Vec<(usize, Option<&'a Mandate>)> {
        let Some(stage) = self.current_stage() else { return Vec::new() };
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.step.stage == stage && r.open_for_decision())
            .filter_map(|(i, r)| who.standing(r).map(|m| (i, m)))
            .collect()
    }

    /// Whether a member of `department` (without a named post or delegation) has a row to decide now.
    #[cfg(test)]
    pub fn awaits(&self, department: &str) -> bool {
        let who = Approver { department: department.into(), ..Approver::default() };
        !self.rows_awaiting(&who).is_empty()
    }

    /// Whether `who` is on the sheet at all (any row, any stage, themselves or as a substitute).
    pub fn names(&self, who: &Approver) -> bool {
        self.rows.iter().any(|r| who.standing(r).is_some())
    }

    pub(super) fn approvals(&self) -> Vec<Approval> {
        self.rows
            .iter()
            .filter_map(|row| {
                let d = row.decision.as_ref().filter(|d| d.decision == Decision::Approve)?;
                // A deemed approval names the post's holders (or the post): nobody decided it.
                let full_name = match (d.deemed, row.step.approver_names.is_empty()) {
                    (false, _) => d.by_name.clone(),
                    (true, false) => row.step.approver_names.join(", "),
                    (true, true) => row.step.position.clone(),
                };
                Some(Approval {
                    full_name,
                    // The position of the person who approved, as the document prints it; the route's
                    // position when the account has none.
                    position: if d.by_position.is_empty() { row.step.position.clone() } else { d.by_position.clone() },
                    department: row.step.department.clone(),
                    decided_at: d.at,
                    note: d.note.clone(),
                    acting_for: d.acting_for_name.clone(),
                })
            })
            .collect()
    }

    /// After a fold step: the stage now current started at `at` if it had not started before.
    pub(super) fn mark_stage_start(&mut self, at: DateTime<Utc>) {
        if let Some(stage) = self.current_stage()
            && self.stage_started_at(stage).is_none()
        {
            self.stage_started.push((stage, at));
        }
    }
}

impl Aggregate for Sheet {
    type Event = SheetEvent;

    fn apply(&mut self, event: &SheetEvent, recorded: &RecordedEvent) {
        apply(self, event);
        // Sheets opened before `opened_at` was recorded start when their event was.
        if let SheetEvent::Opened(o) = event
            && o.opened_at.is_none()
        {
            self.opened_at = Some(recorded.metadata.occurred_at);
            self.stage_started.clear();
            self.mark_stage_start(recorded.metadata.occurred_at);
        }
    }
}

/// Folds one event into the sheet.
pub fn apply(sheet: &mut Sheet, event: &SheetEvent) {
    match event {
        SheetEvent::Opened(opened) => {
            sheet.status = SheetStatus::Open;
            sheet.application = opened.application.clone();
            sheet.rows = opened
                .rows
                .iter()
                .map(|step| Row { step: step.clone(), decision: None, conversation: Vec::new() })
                .collect();
            sheet.opened_at = opened.opened_at;
            if let Some(at) = opened.opened_at {
                sheet.mark_stage_start(at);
            }
        }
        SheetEvent::RowDecided(d) => {
            if let Some(row) = sheet.rows.get_mut(d.row as usize) {
                row.decision = Some(RowDecision {
                    decision: d.decision,
                    by_id: d.decided_by_id,
                    by_name: d.decided_by_name.clone(),
                    by_position: d.decided_by_position.clone(),
                    note: d.note.clone(),
                    at: d.decided_at,
                    acting_for_id: d.acting_for_id,
                    acting_for_name: d.acting_for_name.clone(),
                    deemed: d.deemed,
                });
                row.conversation.push(RowMessage {
                    kind: if d.decision == Decision::Approve { MessageKind::Approval } else { MessageKind::Rejection },
                    by_id: d.decided_by_id,
                    by_name: d.decided_by_name.clone(),
                    text: d.note.clone(),
                    at: d.decided_at,
                });
            }
            sheet.mark_stage_start(d.decided_at);
        }
        SheetEvent::ReworkAnswered(a) => {
            if let Some(row) = sheet.rows.get_mut(a.row as usize) {
                row.conversation.push(RowMessage {
                    kind: MessageKind::Answer,
                    by_id: a.answered_by_id,
                    by_name: sheet.application.applicant_name.clone(),
                    text: a.comment.clone(),
                    at: a.answered_at,
                });
            }
        }
        SheetEvent::DeadlineReminder(n) => {
            sheet.reminded.insert(n.stage);
        }
        SheetEvent::DeadlineEscalated(n) => {
            sheet.escalated.insert(n.stage);
        }
        SheetEvent::Signed(s) => sheet.signatures.push(s.clone()),
        SheetEvent::Approved(_) => sheet.status = SheetStatus::Approved,
        SheetEvent::Rejected(_) => sheet.status = SheetStatus::Rejected,
        SheetEvent::Closed(c) => {
            sheet.status = SheetStatus::Closed;
            sheet.closed_reason = c.reason.clone();
        }
    }
}
