//! The approval sheet, as events: pure decisions and folding, no I/O, no clock.
//!
//! A sheet has one row per approver of the application's route. Rows are grouped into stages (1-based): the
//! stages are decided one after another, the rows of one stage in parallel. A stage needs all of its approvals,
//! any one, or a quorum of N (a committee); once it has them, its other rows are no longer needed. The sheet is
//! approved when every stage is, and rejected as soon as a stage can no longer get its approvals.

use std::fmt;

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, OrgId, RecordedEvent, StreamRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The stream type of sheets: one stream `sheet/<application_id>` per application.
pub const SHEET: &str = "sheet";

pub fn sheet_stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, SHEET, application_id.to_string())
}

/// What the sheet carries of its application, from `application.submitted` through to `sheet.approved`, so that
/// documents can issue the document without asking applications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApplicationSummary {
    pub application_id: Uuid,
    pub number: String,
    pub applicant_id: Uuid,
    pub applicant_name: String,
    pub service_code: String,
    pub service_name: String,
    /// The document type issued on approval (`certificate_of_study`), or empty for none.
    pub issues_document: String,
    /// `kk`, `ru` or `en`.
    pub document_language: String,
}

/// One approver named in a route: the department (and the position in it) that decides at `stage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteStep {
    /// 1-based; rows of one stage are decided in parallel, stages in order.
    pub stage: i32,
    pub department: String,
    pub position: String,
    /// How many of the stage's approvers must approve: 0 (or absent) for all of them, 1 for any one, N for a
    /// committee's quorum. Every step of a stage carries the same number.
    #[serde(skip_serializing_if = "is_zero")]
    pub required: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    #[serde(rename = "approved")]
    Approve,
    #[serde(rename = "rejected")]
    Reject,
}

/// The events of a sheet, exactly as docs/EVENTS.md lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SheetEvent {
    #[serde(rename = "sheet.opened")]
    Opened(SheetOpened),
    #[serde(rename = "sheet.row_decided")]
    RowDecided(RowDecided),
    #[serde(rename = "sheet.approved")]
    Approved(SheetApproved),
    #[serde(rename = "sheet.rejected")]
    Rejected(SheetRejected),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetOpened {
    #[serde(flatten)]
    pub application: ApplicationSummary,
    /// In stage order; `sheet.row_decided` names a row by its index here.
    pub rows: Vec<RouteStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowDecided {
    pub application_id: Uuid,
    /// 0-based index into the `rows` of `sheet.opened`.
    pub row: u32,
    pub department: String,
    pub decision: Decision,
    pub decided_by_id: Uuid,
    pub decided_by_name: String,
    pub decided_by_position: String,
    pub note: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetApproved {
    #[serde(flatten)]
    pub application: ApplicationSummary,
    /// One per row, in row order: what the issued document prints.
    pub approvals: Vec<Approval>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub full_name: String,
    pub position: String,
    pub department: String,
    pub decided_at: DateTime<Utc>,
    /// The approver's note ("books returned"): a clearance sheet prints it.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetRejected {
    pub application_id: Uuid,
    pub department: String,
    pub note: String,
    pub decided_by_name: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SheetStatus {
    /// No `sheet.opened` yet: the stream does not exist.
    #[default]
    NotOpened,
    Open,
    Approved,
    /// Final for now: rework after a rejection (the applicant answers, the approver reconsiders) comes later.
    Rejected,
}

impl fmt::Display for SheetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SheetStatus::NotOpened => "not opened",
            SheetStatus::Open => "open",
            SheetStatus::Approved => "approved",
            SheetStatus::Rejected => "rejected",
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: RouteStep,
    /// `None` while pending.
    pub decision: Option<RowDecision>,
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
}

/// The sheet of one application, folded from its stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub status: SheetStatus,
    pub application: ApplicationSummary,
    pub rows: Vec<Row>,
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

    /// So many of the stage's approvers rejected that its quorum can no longer be reached.
    fn stage_failed(&self, stage: i32) -> bool {
        let rows = self.stage_rows(stage).count();
        self.count(stage, RowStatus::Rejected) > rows - self.needed(stage)
    }

    /// The stage being decided: the lowest one that has not got its approvals, while the sheet is open.
    pub fn current_stage(&self) -> Option<i32> {
        if self.status != SheetStatus::Open {
            return None;
        }
        self.stages().into_iter().find(|stage| !self.stage_complete(*stage))
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

    /// Whether `department` has a row to decide now: the sheet is in its approvers' inbox.
    pub fn awaits(&self, department: &str) -> bool {
        let Some(stage) = self.current_stage() else { return false };
        self.stage_rows(stage).any(|r| r.is_pending() && r.step.department == department)
    }

    fn approvals(&self) -> Vec<Approval> {
        self.rows
            .iter()
            .filter_map(|row| {
                let d = row.decision.as_ref().filter(|d| d.decision == Decision::Approve)?;
                Some(Approval {
                    full_name: d.by_name.clone(),
                    // The position of the person who approved, as the document prints it; the route's
                    // position when the account has none.
                    position: if d.by_position.is_empty() { row.step.position.clone() } else { d.by_position.clone() },
                    department: row.step.department.clone(),
                    decided_at: d.at,
                    note: d.note.clone(),
                })
            })
            .collect()
    }
}

impl Aggregate for Sheet {
    type Event = SheetEvent;

    fn apply(&mut self, event: &SheetEvent, _: &RecordedEvent) {
        apply(self, event);
    }
}

/// Folds one event into the sheet.
pub fn apply(sheet: &mut Sheet, event: &SheetEvent) {
    match event {
        SheetEvent::Opened(opened) => {
            sheet.status = SheetStatus::Open;
            sheet.application = opened.application.clone();
            sheet.rows = opened.rows.iter().map(|step| Row { step: step.clone(), decision: None }).collect();
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
                });
            }
        }
        SheetEvent::Approved(_) => sheet.status = SheetStatus::Approved,
        SheetEvent::Rejected(_) => sheet.status = SheetStatus::Rejected,
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
    #[error("you are not an approver on this sheet")]
    NotAnApprover,
    #[error("your department decides at stage {stage}; stage {current} is not finished yet")]
    StageNotReached { stage: i32, current: i32 },
    #[error("your department has already decided on this sheet")]
    AlreadyDecided,
    #[error("stage {0} has the approvals it needs: your decision is no longer needed")]
    NoLongerNeeded(i32),
    #[error("the route cannot make a sheet: {0}")]
    InvalidRoute(String),
}

/// Opens a sheet for a submitted application. That it happens once per application is the stream's business:
/// the events are appended to a stream that must not exist yet.
#[derive(Debug, Clone)]
pub struct OpenSheet {
    pub application: ApplicationSummary,
    pub route: Vec<RouteStep>,
}

pub fn decide_open(command: OpenSheet) -> Result<Vec<SheetEvent>, SheetError> {
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
    let nobody_approves = rows.is_empty();
    let mut events = vec![SheetEvent::Opened(SheetOpened { application: command.application.clone(), rows })];
    // A service without approvers still flows: its sheet is approved as it opens.
    if nobody_approves {
        events.push(SheetEvent::Approved(SheetApproved { application: command.application, approvals: Vec::new() }));
    }
    Ok(events)
}

/// The person deciding, as their token names them.
#[derive(Debug, Clone)]
pub struct Approver {
    pub user_id: Uuid,
    pub full_name: String,
    pub position: String,
    pub department: String,
}

/// An approver approves or rejects their department's row.
#[derive(Debug, Clone)]
pub struct DecideCommand {
    pub approver: Approver,
    pub decision: Decision,
    pub note: String,
    pub now: DateTime<Utc>,
}

/// Decides the approver's department's row: the first pending one of the current stage.
pub fn decide(sheet: &Sheet, command: DecideCommand) -> Result<Vec<SheetEvent>, SheetError> {
    let note = command.note.trim().to_owned();
    if command.decision == Decision::Reject && note.is_empty() {
        return Err(SheetError::NoteRequired);
    }
    match sheet.status {
        SheetStatus::Open => {}
        SheetStatus::NotOpened => return Err(SheetError::NotFound),
        closed => return Err(SheetError::Closed(closed)),
    }
    let department = &command.approver.department;
    let theirs: Vec<(usize, &Row)> =
        sheet.rows.iter().enumerate().filter(|(_, r)| &r.step.department == department).collect();
    if theirs.is_empty() {
        return Err(SheetError::NotAnApprover);
    }
    let current = sheet.current_stage();
    let Some((index, row)) = theirs.iter().find(|(_, r)| r.is_pending() && Some(r.step.stage) == current) else {
        return Err(match (theirs.iter().find(|(_, r)| r.is_pending()), current) {
            (Some((_, row)), _) if sheet.stage_complete(row.step.stage) => SheetError::NoLongerNeeded(row.step.stage),
            (Some((_, later)), Some(current)) => SheetError::StageNotReached { stage: later.step.stage, current },
            _ => SheetError::AlreadyDecided,
        });
    };
    let stage = row.step.stage;

    let application_id = sheet.application.application_id;
    let approver = command.approver;
    let decided = SheetEvent::RowDecided(RowDecided {
        application_id,
        row: *index as u32,
        department: row.step.department.clone(),
        decision: command.decision,
        decided_by_id: approver.user_id,
        decided_by_name: approver.full_name.clone(),
        decided_by_position: approver.position,
        note: note.clone(),
        decided_at: command.now,
    });
    let mut after = sheet.clone();
    apply(&mut after, &decided);
    let mut events = vec![decided];
    match command.decision {
        Decision::Approve => {
            if after.current_stage().is_none() {
                events.push(SheetEvent::Approved(SheetApproved {
                    application: after.application.clone(),
                    approvals: after.approvals(),
                }));
            }
        }
        // A rejection that leaves the stage short of its quorum ends the sheet for now: rework (the applicant
        // answers, the approver reconsiders) comes in a later issue and will reopen it. In a committee, one
        // rejection among enough approvals is just recorded.
        Decision::Reject if after.stage_failed(stage) => events.push(SheetEvent::Rejected(SheetRejected {
            application_id,
            department: row.step.department.clone(),
            note,
            decided_by_name: approver.full_name,
        })),
        Decision::Reject => {}
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
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
            document_language: "kk".into(),
        }
    }

    fn route(steps: &[(i32, &str)]) -> Vec<RouteStep> {
        steps
            .iter()
            .map(|(stage, department)| RouteStep {
                stage: *stage,
                department: (*department).into(),
                position: format!("Head of {department}"),
                required: 0,
            })
            .collect()
    }

    /// A route whose stage `stage` needs `required` approvals.
    fn with_quorum(steps: &[(i32, &str)], stage: i32, required: u32) -> Vec<SheetEvent> {
        let mut route = route(steps);
        for step in route.iter_mut().filter(|s| s.stage == stage) {
            step.required = required;
        }
        decide_open(OpenSheet { application: application(), route }).expect("the sheet opens")
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
    fn a_committee_needs_its_quorum_and_fails_only_when_it_cannot_reach_it() {
        let members = [(1, "member-a"), (1, "member-b"), (1, "member-c")];
        // Two of three: one rejection is recorded, the sheet stays open.
        let mut history = with_quorum(&members, 1, 2);
        let events = when(&mut history, reject("member-a", "Not convinced")).expect("recorded");
        assert_eq!(events.len(), 1, "no sheet.rejected yet");
        assert_eq!(given(&history).status, SheetStatus::Open);
        when(&mut history, approve("member-b")).expect("approved");
        assert_eq!(given(&history).progress_percent(), 50);
        let events = when(&mut history, approve("member-c")).expect("approved");
        assert_eq!(approvals_in(&events).len(), 1, "two of three approved");

        // Two rejections of three: the quorum of two can no longer be reached.
        let mut history = with_quorum(&members, 1, 2);
        when(&mut history, reject("member-a", "No")).expect("recorded");
        let events = when(&mut history, reject("member-b", "No")).expect("rejected");
        assert!(matches!(events.last(), Some(SheetEvent::Rejected(r)) if r.department == "member-b"));
        assert_eq!(given(&history).status, SheetStatus::Rejected);
    }

    #[test]
    fn all_of_stays_the_default() {
        let mut history = opened(&[(1, "library"), (1, "dormitory")]);
        when(&mut history, approve("library")).expect("approved");
        assert_eq!(given(&history).current_stage(), Some(1));
        let events = when(&mut history, reject("dormitory", "Keys not returned")).expect("rejected");
        assert!(matches!(events.last(), Some(SheetEvent::Rejected(_))), "one rejection fails an all-of stage");
        // A quorum larger than the stage means all of it.
        let mut history = with_quorum(&[(1, "library"), (1, "dormitory")], 1, 5);
        when(&mut history, approve("library")).expect("approved");
        assert_eq!(given(&history).current_stage(), Some(1));
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 11, minute, 0).single().expect("a valid time")
    }

    fn given(events: &[SheetEvent]) -> Sheet {
        let mut sheet = Sheet::default();
        for event in events {
            apply(&mut sheet, event);
        }
        sheet
    }

    fn opened(steps: &[(i32, &str)]) -> Vec<SheetEvent> {
        decide_open(OpenSheet { application: application(), route: route(steps) }).expect("the sheet opens")
    }

    fn command(department: &str, decision: Decision, note: &str) -> DecideCommand {
        DecideCommand {
            approver: Approver {
                user_id: Uuid::now_v7(),
                full_name: format!("Approver of {department}"),
                position: format!("Head of {department}"),
                department: department.into(),
            },
            decision,
            note: note.into(),
            now: at(30),
        }
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

    fn approvals_in(events: &[SheetEvent]) -> Vec<&SheetApproved> {
        events.iter().filter_map(|e| if let SheetEvent::Approved(a) = e { Some(a) } else { None }).collect()
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
    fn a_rejection_needs_a_note() {
        let mut history = opened(&[(1, "library")]);
        assert_eq!(when(&mut history, reject("library", "  ")), Err(SheetError::NoteRequired));
        assert_eq!(given(&history).status, SheetStatus::Open);
    }

    #[test]
    fn a_rejection_closes_the_sheet() {
        let mut history = opened(&[(1, "library"), (1, "dormitory"), (2, "dean")]);
        let events = when(&mut history, reject("library", " Return the borrowed books ")).expect("library rejects");
        assert!(
            matches!(&events[0], SheetEvent::RowDecided(d) if d.decision == Decision::Reject && d.note == "Return the borrowed books")
        );
        assert!(matches!(&events[1], SheetEvent::Rejected(r)
            if r.department == "library" && r.note == "Return the borrowed books" && r.decided_by_name == "Approver of library"));
        assert_eq!(events.len(), 2);

        let sheet = given(&history);
        assert_eq!(sheet.status, SheetStatus::Rejected);
        assert_eq!(sheet.rows[0].status(), RowStatus::Rejected);
        assert!(!sheet.awaits("dormitory"));
        assert_eq!(when(&mut history, approve("dormitory")), Err(SheetError::Closed(SheetStatus::Rejected)));
        assert_eq!(
            SheetError::Closed(SheetStatus::Rejected).to_string(),
            "the sheet is rejected and takes no more decisions"
        );
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
        let application = application();
        let zero = decide_open(OpenSheet { application: application.clone(), route: route(&[(0, "library")]) });
        assert!(matches!(zero, Err(SheetError::InvalidRoute(_))));
        let nameless = decide_open(OpenSheet { application, route: route(&[(1, " ")]) });
        assert!(matches!(nameless, Err(SheetError::InvalidRoute(_))));
    }

    #[test]
    fn payloads_follow_the_event_contract() {
        let mut history = opened(&[(1, "library")]);
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
        opened["rows"] = json!([{ "stage": 1, "department": "library", "position": "Head of library" }]);
        assert_eq!(payloads[0], json!({ "type": "sheet.opened", "payload": opened }));

        let SheetEvent::RowDecided(decided) = &history[1] else { panic!("a row decision") };
        assert_eq!(
            payloads[1],
            json!({ "type": "sheet.row_decided", "payload": {
                "application_id": application_id, "row": 0, "department": "library", "decision": "approved",
                "decided_by_id": decided.decided_by_id.to_string(), "decided_by_name": "Approver of library",
                "decided_by_position": "Head of library", "note": "", "decided_at": "2026-11-23T11:30:00Z",
            }})
        );

        let mut approved = summary;
        approved["approvals"] = json!([{
            "full_name": "Approver of library", "position": "Head of library", "department": "library",
            "decided_at": "2026-11-23T11:30:00Z", "note": "",
        }]);
        assert_eq!(payloads[2], json!({ "type": "sheet.approved", "payload": approved }));

        let back: Vec<SheetEvent> = payloads.into_iter().map(|p| serde_json::from_value(p).expect("decodes")).collect();
        assert_eq!(back, history);
    }

    #[test]
    fn the_rejection_payload_follows_the_event_contract() {
        let mut history = opened(&[(1, "library")]);
        when(&mut history, reject("library", "Return the borrowed books")).expect("library rejects");
        let application_id = given(&history).application.application_id.to_string();
        assert_eq!(
            serde_json::to_value(&history[2]).expect("encodes"),
            json!({ "type": "sheet.rejected", "payload": {
                "application_id": application_id, "department": "library", "note": "Return the borrowed books",
                "decided_by_name": "Approver of library",
            }})
        );
    }
}
