//! Every command and reaction on a sheet, decided without I/O: the events to record, or why not.

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use uuid::Uuid;

use super::*;

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

/// An approver approves or rejects a row that is theirs.
#[derive(Debug, Clone)]
pub struct DecideCommand {
    pub approver: Approver,
    pub decision: Decision,
    pub note: String,
    pub now: DateTime<Utc>,
}

/// The sheet is open, or why it takes nothing.
pub(super) fn require_open(sheet: &Sheet) -> Result<(), SheetError> {
    match sheet.status {
        SheetStatus::Open => Ok(()),
        SheetStatus::NotOpened => Err(SheetError::NotFound),
        closed => Err(SheetError::Closed(closed)),
    }
}

/// The row `who` decides now (the first of theirs of the current stage that is open for a decision), or why none.
pub(super) fn row_to_decide<'a>(
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
pub(super) fn with_completion(sheet: &Sheet, mut events: Vec<SheetEvent>) -> Vec<SheetEvent> {
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
