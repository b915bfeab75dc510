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

use std::{collections::BTreeSet, fmt};

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use onewindow_eventlog::{Aggregate, OrgId, RecordedEvent, StreamRef};
use uuid::Uuid;

pub use onewindow_contracts::sheet::*;

/// The stream type of sheets: one stream `sheet/<application_id>` per application.
pub const SHEET: &str = "sheet";

pub fn sheet_stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, SHEET, application_id.to_string())
}

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

    fn is_pending(&self) -> bool {
        self.decision.is_none()
    }

    /// Rejected, and the applicant has answered since: the approver may decide again.
    pub fn answered(&self) -> bool {
        self.status() == RowStatus::Rejected && self.conversation.last().is_some_and(|m| m.kind == MessageKind::Answer)
    }

    /// Pending, or reopened by the applicant's answer.
    fn open_for_decision(&self) -> bool {
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
    fn stage_rows(&self, stage: i32) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.step.stage == stage)
    }

    fn stages(&self) -> Vec<i32> {
        let mut stages: Vec<i32> = self.rows.iter().map(|r| r.step.stage).collect();
        stages.dedup();
        stages
    }

    /// Approvals `stage` needs: its quorum, or every row when it has none (or more than it has rows).
    fn needed(&self, stage: i32) -> usize {
        let rows = self.stage_rows(stage).count();
        match self.stage_rows(stage).map(|r| r.step.required as usize).max().unwrap_or(0) {
            0 => rows,
            quorum => quorum.min(rows),
        }
    }

    fn count(&self, stage: i32, status: RowStatus) -> usize {
        self.stage_rows(stage).filter(|r| r.status() == status).count()
    }

    fn stage_complete(&self, stage: i32) -> bool {
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

    fn approvals(&self) -> Vec<Approval> {
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
    fn mark_stage_start(&mut self, at: DateTime<Utc>) {
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("there is no approval sheet for this application")]
    NotFound,
    #[error("the sheet is {0} and takes no more decisions")]
    Closed(SheetStatus),
    #[error("a rejection needs a note: the applicant reads it")]
    NoteRequired,
    #[error("an answer needs a comment")]
    CommentRequired,
    #[error("you are not an approver on this sheet")]
    NotAnApprover,
    #[error("only the applicant answers a rejection of their application")]
    NotTheApplicant,
    #[error("your department decides at stage {stage}; stage {current} is not finished yet")]
    StageNotReached { stage: i32, current: i32 },
    #[error("your department has already decided on this sheet")]
    AlreadyDecided,
    #[error("your rejection waits for the applicant's answer before you decide again")]
    AwaitingAnswer,
    #[error("row {0} is not rejected: there is nothing to answer")]
    NothingToAnswer(u32),
    #[error("stage {0} has the approvals it needs: your decision is no longer needed")]
    NoLongerNeeded(i32),
    #[error("your row is a signatory's: sign it (Sign) rather than approve it")]
    SignatoryRow,
    #[error("you have no signatory's row to sign on this sheet now")]
    NothingToSign,
    #[error("the route cannot make a sheet: {0}")]
    InvalidRoute(String),
}

/// Opens a sheet for a submitted (or accepted) application. That it happens once per application is the stream's
/// business: the events are appended to a stream that must not exist yet.
#[derive(Debug, Clone)]
pub struct OpenSheet {
    pub application: ApplicationSummary,
    pub route: Vec<RouteStep>,
    pub now: DateTime<Utc>,
}

/// Opens the sheet; `calendar` dates the first stage's time limit.
pub fn decide_open(command: OpenSheet, calendar: &WorkingCalendar) -> Result<Vec<SheetEvent>, SheetError> {
    if let Some(step) = command.route.iter().find(|s| s.stage < 1) {
        return Err(SheetError::InvalidRoute(format!(
            "stage {} of {:?} is not 1 or more",
            step.stage, step.department
        )));
    }
    if command.route.iter().any(|s| s.department.trim().is_empty()) {
        return Err(SheetError::InvalidRoute("an approver has no department".into()));
    }
    let mut rows = command.route;
    rows.sort_by_key(|s| s.stage);
    if let Some(first) = rows.first().map(|r| r.stage) {
        let hours = rows.iter().filter(|r| r.stage == first).map(|r| r.time_limit_hours).max().unwrap_or(0);
        let deadline = (hours > 0).then(|| calendar.add_working_hours(command.now, hours));
        for row in rows.iter_mut() {
            row.deadline_at = if row.stage == first { deadline } else { None };
        }
    }
    let nobody_approves = rows.is_empty();
    let mut events = vec![SheetEvent::Opened(SheetOpened {
        application: command.application.clone(),
        rows,
        opened_at: Some(command.now),
    })];
    // A service without approvers still flows: its sheet is approved as it opens.
    if nobody_approves {
        events.push(SheetEvent::Approved(SheetApproved {
            application: command.application,
            approvals: Vec::new(),
            issuing_unit: String::new(),
            stipend: None,
        }));
    }
    Ok(events)
}

/// A delegation the caller holds now: they may decide for `for_id` (a person), or for whoever holds
/// `position` in `department` (an administrator's delegation for a post, `for_id` absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mandate {
    pub for_id: Option<Uuid>,
    pub for_name: String,
    pub department: String,
    pub position: String,
}

/// The person deciding, as their token names them, with the delegations they hold now.
#[derive(Debug, Clone, Default)]
pub struct Approver {
    pub user_id: Uuid,
    pub full_name: String,
    pub position: String,
    pub department: String,
    pub mandates: Vec<Mandate>,
}

impl Approver {
    /// May this person decide `row`: `Some(None)` as themselves, `Some(Some(m))` as a substitute under `m`.
    fn standing<'a>(&'a self, row: &Row) -> Option<Option<&'a Mandate>> {
        let step = &row.step;
        if step.approver_ids.is_empty() {
            if !self.department.is_empty() && step.department == self.department {
                return Some(None);
            }
        } else if step.approver_ids.contains(&self.user_id) {
            return Some(None);
        }
        self.mandates
            .iter()
            .find(|m| match m.for_id {
                Some(id) if !step.approver_ids.is_empty() => step.approver_ids.contains(&id),
                Some(_) => step.department == m.department,
                None => step.department == m.department && step.position == m.position,
            })
            .map(Some)
    }
}

/// An approver approves or rejects a row that is theirs.
#[derive(Debug, Clone)]
pub struct DecideCommand {
    pub approver: Approver,
    pub decision: Decision,
    pub note: String,
    pub now: DateTime<Utc>,
}

/// The sheet is open, or why it takes nothing.
fn require_open(sheet: &Sheet) -> Result<(), SheetError> {
    match sheet.status {
        SheetStatus::Open => Ok(()),
        SheetStatus::NotOpened => Err(SheetError::NotFound),
        closed => Err(SheetError::Closed(closed)),
    }
}

/// The row `who` decides now (the first of theirs of the current stage that is open for a decision), or why none.
fn row_to_decide<'a>(
    sheet: &Sheet,
    who: &'a Approver,
    signatory: bool,
) -> Result<(usize, Option<&'a Mandate>), SheetError> {
    let theirs: Vec<(usize, &Row)> = sheet.rows.iter().enumerate().filter(|(_, r)| who.standing(r).is_some()).collect();
    if theirs.is_empty() {
        return Err(SheetError::NotAnApprover);
    }
    let current = sheet.current_stage();
    let candidates = theirs.iter().filter(|(_, r)| Some(r.step.stage) == current && r.open_for_decision());
    let mut wrong_kind = false;
    for (index, row) in candidates {
        if row.step.signatory == signatory {
            let mandate = who.standing(row).flatten();
            return Ok((*index, mandate));
        }
        wrong_kind = true;
    }
    if wrong_kind {
        return Err(if signatory { SheetError::NothingToSign } else { SheetError::SignatoryRow });
    }
    let undecided = theirs.iter().find(|(_, r)| r.is_pending() || r.status() == RowStatus::Rejected);
    Err(match (undecided, current) {
        (Some((_, row)), _) if sheet.stage_complete(row.step.stage) => SheetError::NoLongerNeeded(row.step.stage),
        (Some((_, row)), Some(current)) if row.step.stage > current => {
            SheetError::StageNotReached { stage: row.step.stage, current }
        }
        (Some((_, row)), _) if row.status() == RowStatus::Rejected => SheetError::AwaitingAnswer,
        _ if signatory => SheetError::NothingToSign,
        _ => SheetError::AlreadyDecided,
    })
}

/// Decides the caller's row: the first of theirs of the current stage still open for a decision.
pub fn decide(sheet: &Sheet, command: DecideCommand) -> Result<Vec<SheetEvent>, SheetError> {
    let note = command.note.trim().to_owned();
    if command.decision == Decision::Reject && note.is_empty() {
        return Err(SheetError::NoteRequired);
    }
    require_open(sheet)?;
    let (index, mandate) = row_to_decide(sheet, &command.approver, false)?;
    let approver = &command.approver;
    let decided = RowDecided {
        application_id: sheet.application.application_id,
        row: index as u32,
        department: sheet.rows[index].step.department.clone(),
        decision: command.decision,
        decided_by_id: approver.user_id,
        decided_by_name: approver.full_name.clone(),
        decided_by_position: approver.position.clone(),
        note,
        decided_at: command.now,
        acting_for_id: mandate.and_then(|m| m.for_id),
        acting_for_name: mandate.map(|m| m.for_name.clone()).unwrap_or_default(),
        deemed: false,
    };
    Ok(with_completion(sheet, vec![SheetEvent::RowDecided(decided)]))
}

/// `events`, followed by `sheet.approved` when they complete the route.
fn with_completion(sheet: &Sheet, mut events: Vec<SheetEvent>) -> Vec<SheetEvent> {
    let mut after = sheet.clone();
    for event in &events {
        apply(&mut after, event);
    }
    if after.status == SheetStatus::Open && after.current_stage().is_none() {
        events.push(SheetEvent::Approved(SheetApproved {
            application: after.application.clone(),
            approvals: after.approvals(),
            issuing_unit: String::new(),
            stipend: None,
        }));
    }
    events
}

/// A signatory signs their row: the approval of that row, and the signature record over the application and the
/// approvals given before it.
#[derive(Debug, Clone)]
pub struct SignCommand {
    pub signatory: Approver,
    pub now: DateTime<Utc>,
}

pub fn decide_sign(sheet: &Sheet, command: SignCommand) -> Result<Vec<SheetEvent>, SheetError> {
    require_open(sheet)?;
    let (index, mandate) = row_to_decide(sheet, &command.signatory, true)?;
    let signer = &command.signatory;
    let position =
        if signer.position.is_empty() { sheet.rows[index].step.position.clone() } else { signer.position.clone() };
    let approvals = sheet.approvals();
    let sha256 = SignedContent { application: &sheet.application, approvals: &approvals }.sha256();
    let application_id = sheet.application.application_id;
    let decided = RowDecided {
        application_id,
        row: index as u32,
        department: sheet.rows[index].step.department.clone(),
        decision: Decision::Approve,
        decided_by_id: signer.user_id,
        decided_by_name: signer.full_name.clone(),
        decided_by_position: position.clone(),
        note: String::new(),
        decided_at: command.now,
        acting_for_id: mandate.and_then(|m| m.for_id),
        acting_for_name: mandate.map(|m| m.for_name.clone()).unwrap_or_default(),
        deemed: false,
    };
    let signed = Signature {
        application_id,
        signed_by_id: signer.user_id,
        signed_by_name: signer.full_name.clone(),
        position,
        signed_at: command.now,
        sha256,
    };
    Ok(with_completion(sheet, vec![SheetEvent::RowDecided(decided), SheetEvent::Signed(signed)]))
}

/// The applicant answers a rejection of one row with a comment; the row's approver may then decide again.
#[derive(Debug, Clone)]
pub struct AnswerCommand {
    pub applicant_id: Uuid,
    pub row: u32,
    pub comment: String,
    pub now: DateTime<Utc>,
}

pub fn decide_answer(sheet: &Sheet, command: AnswerCommand) -> Result<Vec<SheetEvent>, SheetError> {
    let comment = command.comment.trim().to_owned();
    if comment.is_empty() {
        return Err(SheetError::CommentRequired);
    }
    require_open(sheet)?;
    if sheet.application.applicant_id != command.applicant_id {
        return Err(SheetError::NotTheApplicant);
    }
    let rejected = sheet.rows.get(command.row as usize).is_some_and(|r| r.status() == RowStatus::Rejected);
    if !rejected {
        return Err(SheetError::NothingToAnswer(command.row));
    }
    Ok(vec![SheetEvent::ReworkAnswered(ReworkAnswered {
        application_id: sheet.application.application_id,
        row: command.row,
        comment,
        answered_by_id: command.applicant_id,
        answered_at: command.now,
    })])
}

/// The application was withdrawn or refused: the sheet takes no more decisions. Nothing when it is closed already
/// or finished.
pub fn decide_close(sheet: &Sheet, reason: &str) -> Vec<SheetEvent> {
    if sheet.status != SheetStatus::Open {
        return Vec::new();
    }
    vec![SheetEvent::Closed(SheetClosed {
        application_id: sheet.application.application_id,
        reason: reason.trim().to_owned(),
    })]
}

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
fn reminder_lead_minutes(limit_hours: u32) -> u32 {
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    use super::*;

    fn application() -> ApplicationSummary {
        ApplicationSummary {
            application_id: Uuid::now_v7(),
            number: "KZ-2026-000042".into(),
            applicant_id: Uuid::now_v7(),
            applicant_name: "Aruzhan Serikova".into(),
            service_code: "clearance_sheet".into(),
            service_name: "Clearance sheet".into(),
            issues_document: "certificate_of_study".into(),
            document_language: Some(onewindow_contracts::Language::Kk),
        }
    }

    fn calendar() -> WorkingCalendar {
        WorkingCalendar::kazakhstan_2026_2027()
    }

    fn route(steps: &[(i32, &str)]) -> Vec<RouteStep> {
        steps
            .iter()
            .map(|(stage, department)| RouteStep {
                stage: *stage,
                department: (*department).into(),
                position: format!("Head of {department}"),
                ..RouteStep::default()
            })
            .collect()
    }

    fn open_route(route: Vec<RouteStep>) -> Vec<SheetEvent> {
        decide_open(OpenSheet { application: application(), route, now: at(0) }, &calendar()).expect("the sheet opens")
    }

    /// A route whose stage `stage` needs `required` approvals.
    fn with_quorum(steps: &[(i32, &str)], stage: i32, required: u32) -> Vec<SheetEvent> {
        let mut route = route(steps);
        for step in route.iter_mut().filter(|s| s.stage == stage) {
            step.required = required;
        }
        open_route(route)
    }

    /// Monday 23 November 2026, 11:mm in Almaty (UTC+5): a working day.
    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 6, minute, 0).single().expect("a valid time")
    }

    fn given(events: &[SheetEvent]) -> Sheet {
        let mut sheet = Sheet::default();
        for event in events {
            apply(&mut sheet, event);
        }
        sheet
    }

    fn opened(steps: &[(i32, &str)]) -> Vec<SheetEvent> {
        open_route(route(steps))
    }

    fn person_of(department: &str) -> Approver {
        Approver {
            user_id: Uuid::now_v7(),
            full_name: format!("Approver of {department}"),
            position: format!("Head of {department}"),
            department: department.into(),
            mandates: Vec::new(),
        }
    }

    fn command(department: &str, decision: Decision, note: &str) -> DecideCommand {
        DecideCommand { approver: person_of(department), decision, note: note.into(), now: at(30) }
    }

    fn approve(department: &str) -> DecideCommand {
        command(department, Decision::Approve, "")
    }

    fn reject(department: &str, note: &str) -> DecideCommand {
        command(department, Decision::Reject, note)
    }

    /// Decides, then folds the new events into the history.
    fn when(history: &mut Vec<SheetEvent>, command: DecideCommand) -> Result<Vec<SheetEvent>, SheetError> {
        let events = decide(&given(history), command)?;
        history.extend(events.iter().cloned());
        Ok(events)
    }

    fn answer(history: &mut Vec<SheetEvent>, row: u32, comment: &str) -> Result<Vec<SheetEvent>, SheetError> {
        let sheet = given(history);
        let command =
            AnswerCommand { applicant_id: sheet.application.applicant_id, row, comment: comment.into(), now: at(40) };
        let events = decide_answer(&sheet, command)?;
        history.extend(events.iter().cloned());
        Ok(events)
    }

    fn approvals_in(events: &[SheetEvent]) -> Vec<&SheetApproved> {
        events.iter().filter_map(|e| if let SheetEvent::Approved(a) = e { Some(a) } else { None }).collect()
    }

    #[test]
    fn any_one_approver_of_a_stage_is_enough() {
        let mut history = with_quorum(&[(1, "dean"), (1, "vice-dean"), (2, "registrar")], 1, 1);
        assert!(given(&history).awaits("dean") && given(&history).awaits("vice-dean"));
        assert!(when(&mut history, approve("vice-dean")).expect("approved").len() == 1, "the sheet stays open");
        let sheet = given(&history);
        assert_eq!(sheet.current_stage(), Some(2));
        assert!(!sheet.awaits("dean"), "the dean's row is no longer needed");
        assert_eq!(sheet.progress_percent(), 50);
        assert_eq!(when(&mut history, approve("dean")), Err(SheetError::NoLongerNeeded(1)));
        let events = when(&mut history, approve("registrar")).expect("approved");
        let approved = approvals_in(&events);
        assert_eq!(approved.len(), 1, "one completion");
        let who: Vec<_> = approved[0].approvals.iter().map(|a| a.department.as_str()).collect();
        assert_eq!(who, ["vice-dean", "registrar"], "the document names those who approved");
        assert_eq!(given(&history).progress_percent(), 100);
    }

    #[test]
    fn a_committee_needs_its_quorum_and_a_rejection_among_enough_approvals_is_only_recorded() {
        let members = [(1, "member-a"), (1, "member-b"), (1, "member-c")];
        let mut history = with_quorum(&members, 1, 2);
        let events = when(&mut history, reject("member-a", "Not convinced")).expect("recorded");
        assert_eq!(events.len(), 1);
        assert_eq!(given(&history).status, SheetStatus::Open);
        when(&mut history, approve("member-b")).expect("approved");
        assert_eq!(given(&history).progress_percent(), 50);
        let events = when(&mut history, approve("member-c")).expect("approved");
        assert_eq!(approvals_in(&events).len(), 1, "two of three approved");
        let who: Vec<_> = approvals_in(&events)[0].approvals.iter().map(|a| a.department.as_str()).collect();
        assert_eq!(who, ["member-b", "member-c"], "the rejection is not an approval");

        // Two rejections of three: the stage waits for rework instead of failing.
        let mut history = with_quorum(&members, 1, 2);
        when(&mut history, reject("member-a", "No")).expect("recorded");
        let events = when(&mut history, reject("member-b", "No")).expect("recorded");
        assert_eq!(events.len(), 1, "no sheet.rejected: rework is asked for");
        assert_eq!(given(&history).status, SheetStatus::Open);
        assert_eq!(given(&history).current_stage(), Some(1));
    }

    #[test]
    fn all_of_stays_the_default() {
        let mut history = opened(&[(1, "library"), (1, "dormitory")]);
        when(&mut history, approve("library")).expect("approved");
        assert_eq!(given(&history).current_stage(), Some(1));
        let events = when(&mut history, approve("dormitory")).expect("approved");
        assert_eq!(approvals_in(&events).len(), 1);
        // A quorum larger than the stage means all of it.
        let mut history = with_quorum(&[(1, "library"), (1, "dormitory")], 1, 5);
        when(&mut history, approve("library")).expect("approved");
        assert_eq!(given(&history).current_stage(), Some(1));
    }

    #[test]
    fn parallel_approvers_both_approve_and_the_sheet_is_approved_once() {
        let mut history = opened(&[(1, "library"), (1, "dormitory")]);
        let first = when(&mut history, approve("dormitory")).expect("dormitory approves");
        assert!(
            matches!(first.as_slice(), [SheetEvent::RowDecided(d)] if d.row == 1 && d.decision == Decision::Approve)
        );
        assert_eq!(given(&history).progress_percent(), 50);

        let second = when(&mut history, approve("library")).expect("library approves");
        assert!(matches!(second.first(), Some(SheetEvent::RowDecided(d)) if d.row == 0));
        let approved = approvals_in(&history);
        assert_eq!(approved.len(), 1, "exactly one sheet.approved");
        let departments: Vec<&str> = approved[0].approvals.iter().map(|a| a.department.as_str()).collect();
        assert_eq!(departments, ["library", "dormitory"]);
        assert_eq!(approved[0].approvals[1].full_name, "Approver of dormitory");
        assert_eq!(approved[0].approvals[1].decided_at, at(30));
        assert_eq!(approved[0].application, given(&history).application);
        let sheet = given(&history);
        assert_eq!(sheet.status, SheetStatus::Approved);
        assert_eq!(sheet.progress_percent(), 100);
    }

    #[test]
    fn a_later_stage_waits_for_the_earlier_one() {
        let mut history = opened(&[(2, "dean"), (1, "library")]);
        assert!(given(&history).awaits("library"));
        assert!(!given(&history).awaits("dean"));
        assert_eq!(when(&mut history, approve("dean")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));

        let first = when(&mut history, approve("library")).expect("library approves");
        assert_eq!(first.len(), 1, "stage 2 is still pending");
        assert!(given(&history).awaits("dean"));
        let second = when(&mut history, approve("dean")).expect("now the dean can decide");
        assert_eq!(approvals_in(&second).len(), 1);
        let departments: Vec<&str> = approvals_in(&second)[0].approvals.iter().map(|a| a.department.as_str()).collect();
        assert_eq!(departments, ["library", "dean"], "rows are kept in stage order");
    }

    #[test]
    fn a_mixed_route_runs_a_parallel_any_of_stage_then_a_single_approver() {
        let mut route = route(&[(1, "library"), (1, "dormitory"), (2, "accounting"), (2, "bursary"), (3, "dean")]);
        for step in route.iter_mut().filter(|s| s.stage == 2) {
            step.required = 1;
        }
        let mut history = open_route(route);
        when(&mut history, approve("library")).expect("library");
        assert_eq!(when(&mut history, approve("bursary")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));
        when(&mut history, approve("dormitory")).expect("dormitory");
        when(&mut history, approve("bursary")).expect("bursary: any one of stage 2");
        assert_eq!(given(&history).progress_percent(), 75);
        assert_eq!(given(&history).current_stage(), Some(3));
        let events = when(&mut history, approve("dean")).expect("dean");
        assert_eq!(approvals_in(&events).len(), 1);
    }

    #[test]
    fn a_rejection_needs_a_note() {
        let mut history = opened(&[(1, "library")]);
        assert_eq!(when(&mut history, reject("library", "  ")), Err(SheetError::NoteRequired));
        assert_eq!(given(&history).status, SheetStatus::Open);
    }

    #[test]
    fn a_rejection_asks_for_rework_and_the_approver_approves_after_the_answer() {
        let mut history = opened(&[(1, "library"), (1, "dormitory"), (2, "dean")]);
        let events = when(&mut history, reject("library", " Return the borrowed books ")).expect("library rejects");
        assert!(
            matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.decision == Decision::Reject && d.note == "Return the borrowed books"),
            "the sheet stays open: {events:?}"
        );
        let sheet = given(&history);
        assert_eq!(sheet.status, SheetStatus::Open);
        assert_eq!(sheet.rows[0].status(), RowStatus::Rejected);
        assert!(!sheet.awaits("library"), "the library waits for the applicant");
        assert_eq!(when(&mut history, approve("library")), Err(SheetError::AwaitingAnswer));

        // The other parallel approver goes on; the next stage waits for the rework (the seed's sequential rule).
        when(&mut history, approve("dormitory")).expect("dormitory approves meanwhile");
        assert_eq!(given(&history).current_stage(), Some(1));
        assert_eq!(when(&mut history, approve("dean")), Err(SheetError::StageNotReached { stage: 2, current: 1 }));

        // Only the applicant answers, only a rejected row, and with a comment.
        let sheet = given(&history);
        let stranger = AnswerCommand { applicant_id: Uuid::now_v7(), row: 0, comment: "hi".into(), now: at(35) };
        assert_eq!(decide_answer(&sheet, stranger), Err(SheetError::NotTheApplicant));
        assert_eq!(answer(&mut history, 1, "returned"), Err(SheetError::NothingToAnswer(1)));
        assert_eq!(answer(&mut history, 0, " "), Err(SheetError::CommentRequired));
        let answered = answer(&mut history, 0, " Returned both books today ").expect("answered");
        assert!(
            matches!(answered.as_slice(), [SheetEvent::ReworkAnswered(a)] if a.comment == "Returned both books today")
        );
        assert!(given(&history).awaits("library"), "back in the library's inbox");

        let events = when(&mut history, approve("library")).expect("the library approves now");
        assert_eq!(events.len(), 1, "stage 2 still to come");
        let sheet = given(&history);
        assert_eq!(sheet.rows[1].status(), RowStatus::Approved, "the approval given stands");
        let kinds: Vec<MessageKind> = sheet.rows[0].conversation.iter().map(|m| m.kind).collect();
        assert_eq!(kinds, [MessageKind::Rejection, MessageKind::Answer, MessageKind::Approval]);
        assert_eq!(sheet.rows[0].conversation[1].by_name, "Aruzhan Serikova");
        let approved = when(&mut history, approve("dean")).expect("dean");
        assert_eq!(approvals_in(&approved).len(), 1);
    }

    #[test]
    fn a_closed_sheet_takes_no_decisions() {
        let mut history = opened(&[(1, "library")]);
        let closed = decide_close(&given(&history), "withdrawn: changed my mind");
        assert!(matches!(closed.as_slice(), [SheetEvent::Closed(c)] if c.reason == "withdrawn: changed my mind"));
        history.extend(closed);
        assert_eq!(given(&history).status, SheetStatus::Closed);
        assert_eq!(when(&mut history, approve("library")), Err(SheetError::Closed(SheetStatus::Closed)));
        assert!(decide_close(&given(&history), "again").is_empty(), "closing twice is nothing");
    }

    #[test]
    fn a_department_decides_its_row_once() {
        let mut history = opened(&[(1, "library"), (1, "dormitory")]);
        when(&mut history, approve("library")).expect("library approves");
        assert_eq!(when(&mut history, approve("library")), Err(SheetError::AlreadyDecided));
        assert_eq!(when(&mut history, reject("library", "changed my mind")), Err(SheetError::AlreadyDecided));
    }

    #[test]
    fn a_department_with_two_rows_decides_them_one_by_one() {
        let mut history = opened(&[(1, "dormitory"), (1, "dormitory"), (2, "dean")]);
        let first = when(&mut history, approve("dormitory")).expect("first dormitory row");
        assert!(matches!(&first[0], SheetEvent::RowDecided(d) if d.row == 0));
        let second = when(&mut history, approve("dormitory")).expect("second dormitory row");
        assert!(matches!(&second[0], SheetEvent::RowDecided(d) if d.row == 1));
        assert!(given(&history).awaits("dean"));
    }

    #[test]
    fn an_approver_of_another_department_is_refused() {
        let mut history = opened(&[(1, "library")]);
        assert_eq!(when(&mut history, approve("accounting")), Err(SheetError::NotAnApprover));
        assert_eq!(SheetError::NotAnApprover.to_string(), "you are not an approver on this sheet");
    }

    #[test]
    fn a_row_of_named_people_is_decided_by_them_not_by_their_colleagues() {
        let librarian = person_of("library");
        let mut steps = route(&[(1, "library")]);
        steps[0].approver_ids = vec![librarian.user_id];
        steps[0].approver_names = vec![librarian.full_name.clone()];
        let mut history = open_route(steps);
        let colleague = approve("library");
        assert_eq!(when(&mut history, colleague), Err(SheetError::NotAnApprover));
        let own = DecideCommand { approver: librarian, decision: Decision::Approve, note: String::new(), now: at(31) };
        let events = when(&mut history, own).expect("the named librarian decides");
        assert_eq!(approvals_in(&events)[0].approvals[0].full_name, "Approver of library");
    }

    #[test]
    fn a_substitute_decides_for_the_approver_and_both_names_are_kept() {
        let head = person_of("library");
        let mut steps = route(&[(1, "library"), (1, "dormitory")]);
        steps[0].approver_ids = vec![head.user_id];
        steps[0].approver_names = vec![head.full_name.clone()];
        let mut history = open_route(steps);

        let mut deputy = person_of("reading-room");
        deputy.full_name = "Deputy Librarian".into();
        let without =
            DecideCommand { approver: deputy.clone(), decision: Decision::Approve, note: String::new(), now: at(31) };
        assert_eq!(when(&mut history, without), Err(SheetError::NotAnApprover));

        deputy.mandates =
            vec![Mandate { for_id: Some(head.user_id), for_name: head.full_name.clone(), ..Mandate::default() }];
        assert!(given(&history).names(&deputy));
        assert_eq!(given(&history).rows_awaiting(&deputy).len(), 1, "in the substitute's inbox");
        let with =
            DecideCommand { approver: deputy.clone(), decision: Decision::Approve, note: String::new(), now: at(31) };
        let events = when(&mut history, with).expect("the substitute decides");
        assert!(matches!(&events[0], SheetEvent::RowDecided(d)
            if d.decided_by_name == "Deputy Librarian" && d.acting_for_id == Some(head.user_id)
                && d.acting_for_name == "Approver of library"));

        // An administrator's delegation for a post: whoever holds "Head of dormitory".
        let mut acting = person_of("service-centre");
        acting.mandates = vec![Mandate {
            for_id: None,
            for_name: "Head of dormitory".into(),
            department: "dormitory".into(),
            position: "Head of dormitory".into(),
        }];
        let events = when(
            &mut history,
            DecideCommand { approver: acting, decision: Decision::Approve, note: String::new(), now: at(32) },
        )
        .expect("decided for the post");
        let approved = approvals_in(&events);
        assert_eq!(approved[0].approvals[0].acting_for, "Approver of library");
        assert_eq!(approved[0].approvals[1].acting_for, "Head of dormitory");
        assert_eq!(serde_json::to_value(&approved[0].approvals[0]).expect("json")["acting_for"], "Approver of library");
    }

    #[test]
    fn a_signatory_signs_last_and_the_signature_hashes_what_was_signed() {
        let mut steps = route(&[(1, "library"), (2, "rectorate")]);
        steps[1].signatory = true;
        steps[1].position = "Vice-rector".into();
        let mut history = open_route(steps);
        let vice_rector = Approver { position: "Vice-rector for academic affairs".into(), ..person_of("rectorate") };
        let sign = |history: &Vec<SheetEvent>| {
            decide_sign(&given(history), SignCommand { signatory: vice_rector.clone(), now: at(50) })
        };
        assert_eq!(sign(&history), Err(SheetError::StageNotReached { stage: 2, current: 1 }));
        when(&mut history, approve("library")).expect("library");
        assert_eq!(when(&mut history, approve("rectorate")), Err(SheetError::SignatoryRow));

        let events = sign(&history).expect("signed");
        let [SheetEvent::RowDecided(decided), SheetEvent::Signed(signed), SheetEvent::Approved(approved)] =
            events.as_slice()
        else {
            panic!("a decision, a signature and the approval: {events:?}")
        };
        assert_eq!(decided.row, 1);
        assert_eq!(signed.signed_by_name, "Approver of rectorate");
        assert_eq!(signed.position, "Vice-rector for academic affairs");
        assert_eq!(signed.signed_at, at(50));
        let sheet = given(&history);
        let expected = SignedContent { application: &sheet.application, approvals: &approved.approvals[..1] }.sha256();
        assert_eq!(signed.sha256, expected);
        assert_eq!(signed.sha256.len(), 64);
        history.extend(events.iter().cloned());
        assert_eq!(given(&history).signatures.len(), 1);
        assert_eq!(sign(&history), Err(SheetError::Closed(SheetStatus::Approved)));
    }

    fn timed(steps: &[(i32, &str)], hours: u32, silence: Silence) -> Vec<SheetEvent> {
        let mut route = route(steps);
        for step in route.iter_mut() {
            step.time_limit_hours = hours;
            step.on_silence = silence;
            step.approver_ids = vec![Uuid::now_v7()];
        }
        open_route(route)
    }

    #[test]
    fn a_time_limit_reminds_once_before_and_escalates_once_after() {
        let history = timed(&[(1, "library"), (2, "dean")], 8, Silence::None);
        let sheet = given(&history);
        // Opened Monday 11:00 local; 8 working hours (lunch 13:00–14:00) end Tuesday 11:45? The calendar says.
        let (stage, deadline) = sheet.deadline(&calendar()).expect("a deadline");
        assert_eq!(stage, 1);
        assert_eq!(Some(deadline), sheet.rows[0].step.deadline_at, "sheet.opened carries the first deadline");
        assert!(sheet.rows[1].step.deadline_at.is_none(), "a later stage's deadline starts with the stage");
        assert_eq!(deadline_due(&sheet, &calendar(), at(1)), None, "far from the limit");

        let almost = deadline - Duration::minutes(30);
        let Some(DeadlineDue::Remind { notify, .. }) = deadline_due(&sheet, &calendar(), almost) else {
            panic!("a reminder is due")
        };
        assert_eq!(notify, sheet.rows[0].step.approver_ids, "the pending approvers");
        let mut history = history;
        let due = deadline_due(&sheet, &calendar(), almost).expect("due");
        history.extend(decide_deadline(&sheet, due, Vec::new(), almost));
        assert_eq!(deadline_due(&given(&history), &calendar(), almost), None, "reminded once");

        let late = deadline + Duration::minutes(1);
        let due = deadline_due(&given(&history), &calendar(), late).expect("escalation due");
        assert!(matches!(&due, DeadlineDue::Escalate { departments, .. } if departments == &["library".to_owned()]));
        let head = Uuid::now_v7();
        let events = decide_deadline(&given(&history), due, vec![head], late);
        assert!(matches!(events.as_slice(), [SheetEvent::DeadlineEscalated(n)] if n.notify == [head] && n.stage == 1));
        history.extend(events);
        assert_eq!(deadline_due(&given(&history), &calendar(), late), None, "escalated once");
        assert_eq!(given(&history).status, SheetStatus::Open, "nothing decided for anyone");
    }

    #[test]
    fn silence_is_consent_where_the_passport_says_so_and_the_next_stage_gets_its_own_time() {
        let mut history = timed(&[(1, "library"), (1, "dormitory"), (2, "dean")], 4, Silence::Approve);
        let mut librarian = person_of("library");
        librarian.user_id = given(&history).rows[0].step.approver_ids[0];
        when(
            &mut history,
            DecideCommand { approver: librarian, decision: Decision::Approve, note: String::new(), now: at(10) },
        )
        .expect("the library decides in time");
        let (_, deadline) = given(&history).deadline(&calendar()).expect("deadline");
        let late = deadline + Duration::minutes(5);
        let due = deadline_due(&given(&history), &calendar(), late).expect("due");
        assert!(matches!(due, DeadlineDue::Deem { stage: 1, decision: Decision::Approve, .. }));
        let events = decide_deadline(&given(&history), due, Vec::new(), late);
        assert!(
            matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.deemed && d.row == 1 && d.decided_by_id.is_nil())
        );
        history.extend(events);
        let sheet = given(&history);
        assert_eq!(sheet.rows[1].status(), RowStatus::Approved, "the dormitory's silence is consent");
        assert_eq!(sheet.current_stage(), Some(2));
        assert_eq!(sheet.stage_started_at(2), Some(late));
        let (_, second) = sheet.deadline(&calendar()).expect("stage 2 deadline");
        assert_eq!(second, calendar().add_working_hours(late, 4));
        assert_eq!(deadline_due(&sheet, &calendar(), late), None);

        let later = second + Duration::minutes(1);
        let due = deadline_due(&sheet, &calendar(), later).expect("due");
        let events = decide_deadline(&sheet, due, Vec::new(), later);
        let approved = approvals_in(&events);
        assert_eq!(approved.len(), 1, "deemed through to the end");
        assert_eq!(approved[0].approvals.len(), 3);
        assert!(approved[0].approvals[2].note.contains("deemed approved"));
        assert_eq!(approved[0].approvals[2].full_name, "Head of dean", "no names recorded: the post is named instead");
    }

    #[test]
    fn a_stage_waiting_only_for_the_applicants_answer_is_not_chased() {
        let mut history = timed(&[(1, "library"), (1, "dormitory")], 2, Silence::None);
        for (row, department) in [(0, "library"), (1, "dormitory")] {
            let mut approver = person_of(department);
            approver.user_id = given(&history).rows[row].step.approver_ids[0];
            let approve = DecideCommand { approver, decision: Decision::Approve, note: String::new(), now: at(5) };
            let reject = DecideCommand { decision: Decision::Reject, note: "Sign page 2".into(), ..approve.clone() };
            when(&mut history, if row == 0 { reject } else { approve }).expect("decided");
        }
        let (_, deadline) = given(&history).deadline(&calendar()).expect("deadline");
        let late = deadline + Duration::hours(1);
        assert_eq!(deadline_due(&given(&history), &calendar(), late), None, "the applicant owes the answer");
        answer(&mut history, 0, "Signed").expect("answered");
        let due = deadline_due(&given(&history), &calendar(), late).expect("the library owes a decision again");
        assert!(matches!(due, DeadlineDue::Escalate { departments, .. } if departments == ["library"]));
    }

    #[test]
    fn silence_is_refusal_where_the_passport_says_so() {
        let history = timed(&[(1, "library")], 2, Silence::Reject);
        let sheet = given(&history);
        let (_, deadline) = sheet.deadline(&calendar()).expect("deadline");
        let due = deadline_due(&sheet, &calendar(), deadline).expect("due at the limit");
        let events = decide_deadline(&sheet, due, Vec::new(), deadline);
        assert!(matches!(events.as_slice(), [SheetEvent::RowDecided(d)] if d.deemed && d.decision == Decision::Reject));
        let mut history = history;
        history.extend(events);
        assert_eq!(given(&history).status, SheetStatus::Open, "a deemed rejection waits for rework too");
    }

    #[test]
    fn nothing_is_decided_on_a_sheet_that_was_never_opened() {
        assert_eq!(decide(&Sheet::default(), approve("library")), Err(SheetError::NotFound));
    }

    #[test]
    fn an_empty_route_approves_at_once() {
        let events = opened(&[]);
        assert!(
            matches!(events.as_slice(), [SheetEvent::Opened(_), SheetEvent::Approved(a)] if a.approvals.is_empty())
        );
        let sheet = given(&events);
        assert_eq!(sheet.status, SheetStatus::Approved);
        assert_eq!(sheet.progress_percent(), 100);
        assert_eq!(decide(&sheet, approve("library")), Err(SheetError::Closed(SheetStatus::Approved)));
    }

    #[test]
    fn a_route_without_stages_or_departments_makes_no_sheet() {
        let open = |route| decide_open(OpenSheet { application: application(), route, now: at(0) }, &calendar());
        assert!(matches!(open(route(&[(0, "library")])), Err(SheetError::InvalidRoute(_))));
        assert!(matches!(open(route(&[(1, " ")])), Err(SheetError::InvalidRoute(_))));
    }

    #[test]
    fn payloads_follow_the_event_contract() {
        let mut history = opened(&[(1, "library")]);
        when(&mut history, reject("library", "Return the borrowed books")).expect("library rejects");
        answer(&mut history, 0, "Returned").expect("answered");
        when(&mut history, approve("library")).expect("library approves");
        let sheet = given(&history);
        let application_id = sheet.application.application_id.to_string();
        let applicant_id = sheet.application.applicant_id.to_string();
        let payloads: Vec<serde_json::Value> =
            history.iter().map(|e| serde_json::to_value(e).expect("encodes")).collect();
        let summary = json!({
            "application_id": application_id, "number": "KZ-2026-000042", "applicant_id": applicant_id,
            "applicant_name": "Aruzhan Serikova", "service_code": "clearance_sheet", "service_name": "Clearance sheet",
            "issues_document": "certificate_of_study", "document_language": "kk",
        });
        let mut opened = summary.clone();
        opened["rows"] =
            json!([{ "stage": 1, "department": "library", "position": "Head of library", "approver_ids": [] }]);
        opened["opened_at"] = json!("2026-11-23T06:00:00Z");
        assert_eq!(payloads[0], json!({ "type": "sheet.opened", "payload": opened }));

        let SheetEvent::RowDecided(rejected) = &history[1] else { panic!("a row decision") };
        assert_eq!(
            payloads[1],
            json!({ "type": "sheet.row_decided", "payload": {
                "application_id": application_id, "row": 0, "department": "library", "decision": "rejected",
                "decided_by_id": rejected.decided_by_id.to_string(), "decided_by_name": "Approver of library",
                "decided_by_position": "Head of library", "note": "Return the borrowed books",
                "decided_at": "2026-11-23T06:30:00Z",
            }})
        );
        assert_eq!(
            payloads[2],
            json!({ "type": "sheet.rework_answered", "payload": {
                "application_id": application_id, "row": 0, "comment": "Returned", "answered_by_id": applicant_id,
                "answered_at": "2026-11-23T06:40:00Z",
            }})
        );

        let mut approved = summary;
        approved["approvals"] = json!([{
            "full_name": "Approver of library", "position": "Head of library", "department": "library",
            "decided_at": "2026-11-23T06:30:00Z", "note": "",
        }]);
        assert_eq!(payloads[4], json!({ "type": "sheet.approved", "payload": approved }));

        let back: Vec<SheetEvent> = payloads.into_iter().map(|p| serde_json::from_value(p).expect("decodes")).collect();
        assert_eq!(back, history);
    }

    #[test]
    fn sheets_and_rows_recorded_before_deadlines_and_rework_still_read() {
        let old = json!({ "type": "sheet.opened", "payload": {
            "application_id": Uuid::now_v7(), "number": "KZ-2026-000001", "applicant_id": Uuid::now_v7(),
            "applicant_name": "A", "service_code": "s", "service_name": "S", "issues_document": "",
            "document_language": "kk", "rows": [{ "stage": 1, "department": "library", "position": "Librarian" }],
        }});
        let event: SheetEvent = serde_json::from_value(old).expect("an old sheet.opened reads");
        let sheet = given(&[event]);
        assert!(sheet.rows[0].step.approver_ids.is_empty());
        assert!(sheet.awaits("library"));
        let rejected: SheetEvent = serde_json::from_value(json!({ "type": "sheet.rejected", "payload": {
            "application_id": Uuid::now_v7(), "department": "library", "note": "n", "decided_by_name": "x" }}))
        .expect("an old sheet.rejected reads");
        assert!(matches!(rejected, SheetEvent::Rejected(_)));
    }
}
