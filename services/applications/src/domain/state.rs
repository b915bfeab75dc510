//! The application as its events leave it: status, the current draft, executor, planned date, the sheet's
//! progress, comments, and the history the applicant reads.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use onewindow_eventlog::{Aggregate, RecordedEvent};
use uuid::Uuid;

use super::{ApplicationEvent, ApprovalRecorded, CommentAuthor, Created, Draft, Status};

/// One line of the history: a change, who made it, and for approvals the department and the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// The status after the change.
    pub status: Status,
    /// What happened, as the event type without its prefix ("submitted", "approval_recorded", ...).
    pub change: String,
    /// A name where the event carries one, otherwise the acting user or service.
    pub performer: String,
    pub department: String,
    /// Approved or not, for an approver's decision.
    pub approved: Option<bool>,
    pub remark: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub author_id: Uuid,
    pub author_name: String,
    pub author_role: CommentAuthor,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executor {
    pub id: Uuid,
    pub name: String,
}

/// An approver's decision with when it was made, for "why is it late?".
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub department: String,
    pub approved: bool,
    pub decided_by_name: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Application {
    pub created: Option<Created>,
    /// The editable block as last saved.
    pub draft: Draft,
    pub status: Option<Status>,
    /// A deleted draft: gone from every read.
    pub deleted: bool,
    pub executor: Option<Executor>,
    pub planned_at: Option<DateTime<Utc>>,
    /// Whether the executor set the planned date (it is no longer computed).
    pub planned_by_staff: bool,
    pub sheet_opened: bool,
    /// Everyone who decides or decided on the sheet: told when the application is withdrawn.
    pub approvers: BTreeSet<Uuid>,
    pub decisions: Vec<Decision>,
    /// The printed application form documents issued on submission: its document id and number.
    pub form: Option<(Uuid, String)>,
    /// The issued document (its id when documents issued one) and its number.
    pub document: Option<(Option<Uuid>, String)>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub work_started_at: Option<DateTime<Utc>>,
    pub sheet_opened_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Oldest first (the API shows it newest first).
    pub history: Vec<HistoryEntry>,
    pub comments: Vec<Comment>,
}

impl Application {
    pub fn applicant_id(&self) -> Option<Uuid> {
        self.created.as_ref().map(|c| c.applicant_id)
    }

    /// Whether the application exists for its readers: created and not a deleted draft.
    pub fn exists(&self) -> bool {
        self.created.is_some() && !self.deleted
    }

    fn enter(&mut self, status: Status, at: DateTime<Utc>) {
        self.status = Some(status);
        match status {
            Status::Submitted => self.submitted_at = Some(at),
            Status::InWork => {
                self.work_started_at.get_or_insert(at);
            }
            Status::Completed => self.completed_at = Some(at),
            Status::Issued | Status::Refused | Status::Withdrawn => self.closed_at = Some(at),
            Status::Saved => {}
        }
    }
}

impl Aggregate for Application {
    type Event = ApplicationEvent;

    fn apply(&mut self, event: &ApplicationEvent, recorded: &RecordedEvent) {
        let at = recorded.metadata.occurred_at;
        let mut performer = String::new();
        let mut department = String::new();
        let mut approved = None;
        let remark = match event {
            ApplicationEvent::Created(created) => {
                self.created = Some((**created).clone());
                self.draft = created.draft.clone();
                self.planned_at = created.planned_at;
                self.created_at = Some(at);
                self.enter(Status::Saved, at);
                performer = created.applicant_name.clone();
                String::new()
            }
            ApplicationEvent::DraftUpdated { draft, planned_at, .. } => {
                self.draft = draft.clone();
                self.planned_at = *planned_at;
                performer = self.created.as_ref().map(|c| c.applicant_name.clone()).unwrap_or_default();
                "draft saved".into()
            }
            ApplicationEvent::DraftDeleted { .. } => {
                self.deleted = true;
                "draft deleted".into()
            }
            ApplicationEvent::Submitted(submitted) => {
                self.planned_at = submitted.planned_at;
                self.enter(Status::Submitted, at);
                performer = submitted.applicant_name.clone();
                String::new()
            }
            ApplicationEvent::Accepted { executor_id, executor_name, accepted_by_name, .. } => {
                self.executor = Some(Executor { id: *executor_id, name: executor_name.clone() });
                self.enter(Status::InWork, at);
                performer = accepted_by_name.clone();
                format!("accepted into work, executor {executor_name}")
            }
            ApplicationEvent::ExecutorAssigned { executor_id, executor_name, assigned_by_name, .. } => {
                self.executor = Some(Executor { id: *executor_id, name: executor_name.clone() });
                performer = assigned_by_name.clone();
                format!("executor {executor_name}")
            }
            ApplicationEvent::PlannedDateSet { planned_at, set_by_name, remark, .. } => {
                self.planned_at = Some(*planned_at);
                self.planned_by_staff = true;
                performer = set_by_name.clone();
                let date = planned_at.format("%Y-%m-%d %H:%M UTC");
                if remark.is_empty() { format!("planned for {date}") } else { format!("planned for {date}: {remark}") }
            }
            ApplicationEvent::WorkStarted { approver_ids, opened_at, .. } => {
                self.approvers.extend(approver_ids.iter().copied());
                self.sheet_opened = true;
                self.sheet_opened_at.get_or_insert(opened_at.unwrap_or(at));
                // Recorded late (the document overtook it), the opening does not reopen a closed application.
                if matches!(self.status, Some(Status::Submitted)) {
                    self.enter(Status::InWork, at);
                }
                "the approval sheet was opened".into()
            }
            ApplicationEvent::ApprovalRecorded(ApprovalRecorded {
                department: d,
                approved: a,
                decided_by_id,
                decided_by_name,
                acting_for_name,
                note,
                decided_at,
                ..
            }) => {
                self.approvers.insert(*decided_by_id);
                self.decisions.push(Decision {
                    department: d.clone(),
                    approved: *a,
                    decided_by_name: decided_by_name.clone(),
                    at: *decided_at,
                });
                department = d.clone();
                approved = Some(*a);
                performer = if acting_for_name.is_empty() {
                    decided_by_name.clone()
                } else {
                    format!("{decided_by_name} (acting for {acting_for_name})")
                };
                note.clone()
            }
            ApplicationEvent::Completed { completed_by_name, .. } => {
                self.enter(Status::Completed, at);
                performer = completed_by_name.clone();
                if completed_by_name.is_empty() { "every approval was given".into() } else { String::new() }
            }
            ApplicationEvent::Refused { reason, refused_by_name, .. } => {
                self.enter(Status::Refused, at);
                performer = refused_by_name.clone();
                reason.clone()
            }
            ApplicationEvent::Withdrawn(withdrawn) => {
                self.enter(Status::Withdrawn, at);
                performer = self.created.as_ref().map(|c| c.applicant_name.clone()).unwrap_or_default();
                withdrawn.reason.clone()
            }
            ApplicationEvent::Commented { comment_id, author_id, author_name, author_role, text, .. } => {
                self.comments.push(Comment {
                    id: *comment_id,
                    at,
                    author_id: *author_id,
                    author_name: author_name.clone(),
                    author_role: *author_role,
                    text: text.clone(),
                });
                self.updated_at = Some(at);
                // A comment is a conversation, not a change of the application: it is not a history line.
                return;
            }
            ApplicationEvent::FormIssued { document_id, registration_number, .. } => {
                self.form = Some((*document_id, registration_number.clone()));
                // A receipt, not a change of the application: no history line.
                return;
            }
            ApplicationEvent::Issued { document_id, document_number, issued_by_name, .. } => {
                self.document = Some((*document_id, document_number.clone()));
                self.enter(Status::Issued, at);
                performer = issued_by_name.clone();
                if document_number.is_empty() { "handed over".into() } else { format!("document {document_number}") }
            }
        };
        self.updated_at = Some(at);
        let mut status = self.status.unwrap_or(Status::Saved);
        let mut line_at = at;
        // Facts with a time of their own (a decision, the sheet's opening) take their place by it, wherever they
        // arrive; every other line follows the log's order, which is the order of the status changes (an event's
        // time is when its command began, so a command that lost a race and decided again is stamped earlier).
        let mut by_own_time = false;
        match event {
            // Decisions are made while the application is in work; one recorded late (after the document overtook
            // it) still takes its place in the history by when it was made.
            ApplicationEvent::ApprovalRecorded(decision) => {
                status = Status::InWork;
                line_at = decision.decided_at;
                by_own_time = true;
            }
            // The sheet opened when routing opened it, before any decision on it.
            ApplicationEvent::WorkStarted { opened_at, .. } => {
                status = Status::InWork;
                line_at = opened_at.map_or(at, |opened| opened.min(at));
                by_own_time = true;
            }
            _ => {}
        }
        let change = recorded.event_type.strip_prefix("application.").unwrap_or(&recorded.event_type).to_owned();
        if performer.is_empty() {
            performer = recorded.metadata.actor.clone();
        }
        let line = HistoryEntry { at: line_at, status, change, performer, department, approved, remark };
        let place = if by_own_time { self.history.partition_point(|h| h.at <= line.at) } else { self.history.len() };
        self.history.insert(place, line);
    }
}

/// The application as it was at `moment`: its events up to then, replayed.
pub fn as_of(events: Vec<RecordedEvent>, moment: DateTime<Utc>) -> Result<Application, onewindow_eventlog::StoreError> {
    let prefix = events.into_iter().take_while(|e| e.metadata.occurred_at <= moment).collect();
    Ok(onewindow_eventlog::fold::<Application>(prefix)?.state)
}
