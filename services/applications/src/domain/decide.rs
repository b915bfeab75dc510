//! Every command and reaction on an application, decided from its state alone. A transition the life cycle does
//! not allow is refused naming the current status; invalid input is refused with every invalid field at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Application, ApplicationEvent, ApprovalRecorded, CommentAuthor, Created, Draft, Recipient, ServiceNames, Status,
    Submitted, Withdrawn,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    #[error("the application does not exist")]
    NotFound,
    #[error("the application exists already")]
    AlreadyExists,
    #[error("cannot {action} an application in status {from}")]
    InvalidTransition { from: Status, action: &'static str },
    #[error("cannot complete: the approval sheet is not approved yet")]
    SheetNotApproved,
    #[error("the document is issued by the documents service when the application completes")]
    DocumentIssuedAutomatically,
    #[error("the application form is still being issued: try again in a moment")]
    FormNotIssuedYet,
    #[error(
        "the application form has not been issued: its issuing is delayed, the application is kept and the \
         administrators see the delay among the parked events"
    )]
    FormDelayed,
    #[error("invalid fields")]
    Invalid(Vec<(&'static str, String)>),
}

/// Someone acting on the application (staff, or the applicant for a comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub name: String,
}

/// The files attached to an application so far, as submit checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachedFiles {
    /// Files per required document (its index in the service's list).
    pub per_document: BTreeMap<u32, usize>,
    pub ids: BTreeSet<Uuid>,
}

/// The longest comment accepted, in characters.
pub const COMMENT_MAX_CHARS: usize = 2000;
/// The longest reason (for the application, a refusal or a withdrawal), in characters.
pub const REASON_MAX_CHARS: usize = 2000;

type Decided = Result<Vec<ApplicationEvent>, ApplicationError>;

fn current(state: &Application) -> Result<(&Created, Status), ApplicationError> {
    match (&state.created, state.status) {
        (Some(created), Some(status)) if !state.deleted => Ok((created, status)),
        _ => Err(ApplicationError::NotFound),
    }
}

fn require(status: Status, allowed: &[Status], action: &'static str) -> Result<(), ApplicationError> {
    if allowed.contains(&status) { Ok(()) } else { Err(ApplicationError::InvalidTransition { from: status, action }) }
}

/// Creating a draft.
pub fn create(state: &Application, created: Created) -> Decided {
    if state.created.is_some() {
        return Err(ApplicationError::AlreadyExists);
    }
    let invalid = draft_violations(&created.service, &created.draft);
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    Ok(vec![ApplicationEvent::Created(Box::new(created))])
}

/// What is wrong with a draft's fields, whatever the status (saving keeps a draft that is merely incomplete).
fn draft_violations(service: &super::ServiceSnapshot, draft: &Draft) -> Vec<(&'static str, String)> {
    let mut invalid = Vec::new();
    if let Some(preset) = draft.reason_preset
        && preset as usize >= service.reasons.len()
    {
        invalid.push(("reason_preset", format!("the service offers {} reasons", service.reasons.len())));
    }
    if draft.reason.chars().count() > REASON_MAX_CHARS {
        invalid.push(("reason", format!("is longer than {REASON_MAX_CHARS} characters")));
    }
    if let Some(language) = draft.document_language {
        if service.issues_document.is_empty() {
            invalid.push(("document_language", "the service issues no document".to_owned()));
        } else if !service.document_languages.is_empty() && !service.document_languages.contains(&language) {
            invalid.push(("document_language", "the service does not issue its document in this language".to_owned()));
        }
    }
    let email = draft.email.trim();
    if !email.is_empty() && !looks_like_email(email) {
        invalid.push(("email", "is not an e-mail address".to_owned()));
    }
    let phone = draft.phone.trim();
    if !phone.is_empty() && !looks_like_phone(phone) {
        invalid.push(("phone", "must be a phone number: digits, optionally a leading + (10 to 15 digits)".to_owned()));
    }
    invalid
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn looks_like_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    (10..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
}

/// Saving the draft's editable block again. Picking a preset reason copies its text when no text is given.
pub fn update_draft(
    state: &Application,
    mut draft: Draft,
    language: super::Language,
    planned_at: Option<DateTime<Utc>>,
) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Saved], "edit")?;
    if let Some(preset) = draft.reason_preset
        && draft.reason.trim().is_empty()
        && let Some(text) = created.service.reasons.get(preset as usize)
    {
        draft.reason = text.get(language).to_owned();
    }
    let invalid = draft_violations(&created.service, &draft);
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    Ok(vec![ApplicationEvent::DraftUpdated { application_id: created.application_id, draft, planned_at }])
}

pub fn delete_draft(state: &Application) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Saved], "delete")?;
    Ok(vec![ApplicationEvent::DraftDeleted { application_id: created.application_id }])
}

/// Submitting a draft: every missing or invalid field is reported at once, and the draft is kept as it is.
pub fn submit(
    state: &Application,
    agreed_to_terms: bool,
    attached: &AttachedFiles,
    planned_at: Option<DateTime<Utc>>,
) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Saved], "submit")?;
    let draft = &state.draft;
    let service = &created.service;
    let mut invalid = draft_violations(service, draft);
    match draft.own_statement {
        Some(statement) if !attached.ids.contains(&statement) => {
            invalid.push(("own_statement", "the statement's file is not attached".to_owned()));
        }
        Some(_) => {}
        None if !agreed_to_terms => {
            invalid.push(("agreed_to_terms", "the \"I have read and agree\" box must be ticked".to_owned()));
        }
        None => {}
    }
    if !service.issues_document.is_empty() && draft.document_language.is_none() {
        invalid.push(("document_language", "is required: the service issues a document".to_owned()));
    }
    if !service.reasons.is_empty() && draft.reason.trim().is_empty() {
        invalid.push(("reason", "is required: pick a reason or write one".to_owned()));
    }
    if draft.email.trim().is_empty() {
        invalid.push(("email", "is required: the result is announced by e-mail".to_owned()));
    }
    for (index, document) in service.required_documents.iter().enumerate() {
        if document.required && attached.per_document.get(&(index as u32)).copied().unwrap_or(0) == 0 {
            invalid.push(("required_documents", format!("{index}: \"{}\" is not attached", document.name.en)));
        }
    }
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    Ok(vec![ApplicationEvent::Submitted(Box::new(Submitted {
        application_id: created.application_id,
        number: created.number.clone(),
        applicant_id: created.applicant_id,
        applicant_name: created.applicant_name.clone(),
        service_code: service.code.clone(),
        service_version: service.version,
        service_name: service.name_in(draft.document_language).to_owned(),
        route: service.route.clone(),
        issues_document: service.issues_document.clone(),
        document_language: draft.document_language,
        email: draft.email.trim().to_owned(),
        service_names: ServiceNames {
            kk: service.name_kk.clone(),
            ru: service.name_ru.clone(),
            en: service.name_en.clone(),
        },
        reason: draft.reason.clone(),
        office: service.office.clone(),
        planned_at,
    }))])
}

/// Staff take the application into work, naming its executor (themselves or a colleague). An application whose
/// sheet opened on submission is in work already and only gets its executor.
pub fn accept(state: &Application, executor: Actor, by: Actor) -> Decided {
    let (created, status) = current(state)?;
    let open_without_executor = status == Status::InWork && state.executor.is_none();
    if status != Status::Submitted && !open_without_executor {
        return Err(ApplicationError::InvalidTransition { from: status, action: "accept" });
    }
    Ok(vec![ApplicationEvent::Accepted {
        application_id: created.application_id,
        executor_id: executor.id,
        executor_name: executor.name,
        accepted_by_id: by.id,
        accepted_by_name: by.name,
    }])
}

pub fn assign_executor(state: &Application, executor: Actor, by: Actor) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::InWork], "assign an executor to")?;
    if state.executor.as_ref().is_some_and(|e| e.id == executor.id) {
        return Ok(Vec::new());
    }
    Ok(vec![ApplicationEvent::ExecutorAssigned {
        application_id: created.application_id,
        executor_id: executor.id,
        executor_name: executor.name,
        assigned_by_id: by.id,
        assigned_by_name: by.name,
    }])
}

pub fn set_planned_date(
    state: &Application,
    planned_at: DateTime<Utc>,
    remark: String,
    by: Actor,
    now: DateTime<Utc>,
) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::InWork], "set the planned date of")?;
    if planned_at <= now {
        return Err(ApplicationError::Invalid(vec![("planned_at", "must be in the future".to_owned())]));
    }
    Ok(vec![ApplicationEvent::PlannedDateSet {
        application_id: created.application_id,
        planned_at,
        set_by_id: by.id,
        set_by_name: by.name,
        remark,
    }])
}

/// Staff complete the work. With a route, only every approval completes it (the sheet's approval does).
pub fn complete(state: &Application, by: Actor) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::InWork], "complete")?;
    if !created.service.route.is_empty() {
        return Err(ApplicationError::SheetNotApproved);
    }
    Ok(vec![ApplicationEvent::Completed { application_id: created.application_id, completed_by_name: by.name }])
}

/// Staff hand the result over. A service that issues a document is issued by the documents service instead.
pub fn issue(state: &Application, by: Actor) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Completed], "issue")?;
    if !created.service.issues_document.is_empty() {
        return Err(ApplicationError::DocumentIssuedAutomatically);
    }
    Ok(vec![ApplicationEvent::Issued {
        application_id: created.application_id,
        document_id: None,
        document_number: String::new(),
        issued_by_name: by.name,
    }])
}

fn reason_violations(reason: &str, required: bool) -> Vec<(&'static str, String)> {
    if required && reason.trim().is_empty() {
        vec![("reason", "is required".to_owned())]
    } else if reason.chars().count() > REASON_MAX_CHARS {
        vec![("reason", format!("is longer than {REASON_MAX_CHARS} characters"))]
    } else {
        Vec::new()
    }
}

pub fn refuse(state: &Application, reason: String, by: Actor) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Submitted, Status::InWork], "refuse")?;
    let invalid = reason_violations(&reason, true);
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    Ok(vec![ApplicationEvent::Refused {
        application_id: created.application_id,
        reason: reason.trim().to_owned(),
        refused_by_id: Some(by.id),
        refused_by_name: by.name,
    }])
}

/// The applicant withdraws: from Submitted freely, from In work only with a reason, and then the executor and
/// every approver on the sheet are named on the event to be told.
pub fn withdraw(state: &Application, reason: String) -> Decided {
    let (created, status) = current(state)?;
    require(status, &[Status::Submitted, Status::InWork], "withdraw")?;
    let invalid = reason_violations(&reason, status == Status::InWork);
    if !invalid.is_empty() {
        return Err(ApplicationError::Invalid(invalid));
    }
    let mut notify: Vec<Recipient> =
        state.executor.iter().map(|e| Recipient { user_id: e.id, role: "executor".into() }).collect();
    notify.extend(
        state
            .approvers
            .iter()
            .filter(|id| state.executor.as_ref().is_none_or(|e| e.id != **id))
            .map(|id| Recipient { user_id: *id, role: "approver".into() }),
    );
    Ok(vec![ApplicationEvent::Withdrawn(Withdrawn {
        application_id: created.application_id,
        number: created.number.clone(),
        applicant_id: created.applicant_id,
        reason: reason.trim().to_owned(),
        from_status: status,
        notify,
    })])
}

/// A comment between the applicant and staff, once the application has been submitted.
pub fn comment(state: &Application, comment_id: Uuid, author: Actor, role: CommentAuthor, text: String) -> Decided {
    let (created, status) = current(state)?;
    if status == Status::Saved {
        return Err(ApplicationError::InvalidTransition { from: status, action: "comment on" });
    }
    let text = text.trim().to_owned();
    if text.is_empty() || text.chars().count() > COMMENT_MAX_CHARS {
        return Err(ApplicationError::Invalid(vec![(
            "text",
            format!("must have 1 to {COMMENT_MAX_CHARS} characters"),
        )]));
    }
    if state.comments.iter().any(|c| c.id == comment_id) {
        return Ok(Vec::new());
    }
    Ok(vec![ApplicationEvent::Commented {
        application_id: created.application_id,
        comment_id,
        author_id: author.id,
        author_name: author.name,
        author_role: role,
        text,
    }])
}

/// What happened elsewhere that moves the application on. Reactions tolerate redelivery and arrival out of order
/// (routing's and documents' events come through different consumers): a step already passed is no change.
#[derive(Debug, Clone, PartialEq)]
pub enum Outside {
    SheetOpened { approver_ids: Vec<Uuid>, opened_at: Option<DateTime<Utc>> },
    RowDecided(ApprovalRecorded),
    SheetApproved,
    SheetRejected { reason: String },
    DocumentIssued { document_id: Uuid, document_number: String },
    FormIssued { document_id: Uuid, registration_number: String },
}

pub fn react(state: &Application, outside: Outside) -> Decided {
    let (created, status) = current(state)?;
    let id = created.application_id;
    let open = matches!(status, Status::Submitted | Status::InWork);
    Ok(match outside {
        // The opening is a fact about the sheet, like a decision: recorded even after the document overtook it.
        Outside::SheetOpened { approver_ids, opened_at } if !state.sheet_opened => {
            vec![ApplicationEvent::WorkStarted { application_id: id, approver_ids, opened_at }]
        }
        // A decision is a fact about the sheet: recorded whenever it arrives, even after the document (which comes
        // through another consumer and may overtake it).
        Outside::RowDecided(decision) => {
            let seen = state.decisions.iter().any(|d| {
                d.at == decision.decided_at && d.department == decision.department && d.approved == decision.approved
            });
            if seen { Vec::new() } else { vec![ApplicationEvent::ApprovalRecorded(decision)] }
        }
        Outside::SheetApproved if open => {
            vec![ApplicationEvent::Completed { application_id: id, completed_by_name: String::new() }]
        }
        Outside::SheetRejected { reason } if open => vec![ApplicationEvent::Refused {
            application_id: id,
            reason,
            refused_by_id: None,
            refused_by_name: String::new(),
        }],
        Outside::DocumentIssued { document_id, document_number } if open || status == Status::Completed => {
            let mut events = Vec::new();
            if open {
                events.push(ApplicationEvent::Completed { application_id: id, completed_by_name: String::new() });
            }
            events.push(ApplicationEvent::Issued {
                application_id: id,
                document_id: Some(document_id),
                document_number,
                issued_by_name: String::new(),
            });
            events
        }
        Outside::FormIssued { document_id, registration_number } if state.form.is_none() => {
            vec![ApplicationEvent::FormIssued { application_id: id, document_id, registration_number }]
        }
        _ => Vec::new(),
    })
}

/// How long after the submission the form is normally issued: past it, "in a moment" is no longer true.
pub const FORM_EXPECTED_WITHIN: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Which form to print at `now`: the issued application form, for a submitted application still being dealt with.
pub fn printable_form(state: &Application, now: DateTime<Utc>) -> Result<(Uuid, String), ApplicationError> {
    let (_, status) = current(state)?;
    require(status, &[Status::Submitted, Status::InWork, Status::Completed], "print")?;
    match (&state.form, state.submitted_at) {
        (Some(form), _) => Ok(form.clone()),
        (None, Some(submitted)) if now - submitted > FORM_EXPECTED_WITHIN => Err(ApplicationError::FormDelayed),
        (None, _) => Err(ApplicationError::FormNotIssuedYet),
    }
}
