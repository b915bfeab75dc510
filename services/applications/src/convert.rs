//! Domain ↔ protobuf for the applications API.

use chrono::{DateTime, Utc};
use onewindow_calendar::WorkingCalendar;
use onewindow_eventlog::OrgId;
use onewindow_proto::{applications::v1 as pb, timestamp};
use tonic::Status;

use crate::domain::{
    ApplicantBlock, Application, CommentAuthor, Language, Lateness, ServiceNames, Status as AppStatus, time_left,
};

/// A language value outside the proto's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownLanguage;

pub fn language_from_pb(value: i32) -> Result<Option<Language>, UnknownLanguage> {
    match pb::Language::try_from(value) {
        Ok(pb::Language::Unspecified) => Ok(None),
        Ok(pb::Language::Kk) => Ok(Some(Language::Kk)),
        Ok(pb::Language::Ru) => Ok(Some(Language::Ru)),
        Ok(pb::Language::En) => Ok(Some(Language::En)),
        Err(_) => Err(UnknownLanguage),
    }
}

pub fn language_pb(language: Option<Language>) -> pb::Language {
    match language {
        None => pb::Language::Unspecified,
        Some(Language::Kk) => pb::Language::Kk,
        Some(Language::Ru) => pb::Language::Ru,
        Some(Language::En) => pb::Language::En,
    }
}

pub fn status_pb(status: AppStatus) -> pb::ApplicationStatus {
    match status {
        AppStatus::Saved => pb::ApplicationStatus::Saved,
        AppStatus::Submitted => pb::ApplicationStatus::Submitted,
        AppStatus::InWork => pb::ApplicationStatus::InWork,
        AppStatus::Completed => pb::ApplicationStatus::Completed,
        AppStatus::Issued => pb::ApplicationStatus::Issued,
        AppStatus::Refused => pb::ApplicationStatus::Refused,
        AppStatus::Withdrawn => pb::ApplicationStatus::Withdrawn,
    }
}

fn applicant_pb(block: &ApplicantBlock) -> pb::ApplicantBlock {
    pb::ApplicantBlock {
        surname: block.surname.clone(),
        name: block.name.clone(),
        patronymic: block.patronymic.clone(),
        birth_date: block.birth_date.clone(),
        iin: block.iin.clone(),
        identity_document: block.identity_document.clone(),
        faculty: block.faculty.clone(),
        specialty: block.specialty.clone(),
        course: i32::try_from(block.course).unwrap_or(0),
        group: block.group.clone(),
        address: block.address.clone(),
        card_phone: block.phone.clone(),
        card_email: block.email.clone(),
    }
}

/// Whether a status still has work ahead, so a planned date can be missed.
pub fn is_open(status: AppStatus) -> bool {
    matches!(status, AppStatus::Saved | AppStatus::Submitted | AppStatus::InWork | AppStatus::Completed)
}

/// The application as the API shows it at `now`: the time left is counted on the organisation's calendar.
pub fn application_pb(
    org: &OrgId,
    state: &Application,
    version: i64,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
) -> Result<pb::Application, Status> {
    let created = state.created.as_ref().ok_or_else(|| Status::not_found("no such application"))?;
    let status = state.status.unwrap_or(AppStatus::Saved);
    let (document_id, document_number) = state
        .document
        .as_ref()
        .map(|(id, n)| (id.map(|id| id.to_string()).unwrap_or_default(), n.clone()))
        .unwrap_or_default();
    let left = state.planned_at.filter(|_| is_open(status)).map(|planned| time_left(calendar, now, planned));
    let draft = &state.draft;
    Ok(pb::Application {
        id: created.application_id.to_string(),
        number: created.number.clone(),
        organization_id: org.to_string(),
        applicant_id: created.applicant_id.to_string(),
        applicant_name: created.applicant_name.clone(),
        service_code: created.service.code.clone(),
        service_version: created.service.version,
        status: status_pb(status) as i32,
        document_language: language_pb(draft.document_language) as i32,
        reason: draft.reason.clone(),
        email: draft.email.clone(),
        phone: draft.phone.clone(),
        version,
        document_id,
        document_number,
        created_at: state.created_at.map(timestamp),
        updated_at: state.updated_at.map(timestamp),
        history: state
            .history
            .iter()
            .rev()
            .map(|h| pb::HistoryEntry {
                at: Some(timestamp(h.at)),
                status: status_pb(h.status) as i32,
                performer: h.performer.clone(),
                remark: h.remark.clone(),
                change: h.change.clone(),
                department: h.department.clone(),
                approved: h.approved,
            })
            .collect(),
        applicant: Some(applicant_pb(&created.applicant)),
        reason_preset: draft.reason_preset.and_then(|p| i32::try_from(p).ok()),
        own_statement_attachment_id: draft.own_statement.map(|id| id.to_string()).unwrap_or_default(),
        service_name: created.service.name_in(draft.document_language).to_owned(),
        office: created.service.office.clone(),
        executor_id: state.executor.as_ref().map(|e| e.id.to_string()).unwrap_or_default(),
        executor_name: state.executor.as_ref().map(|e| e.name.clone()).unwrap_or_default(),
        planned_at: state.planned_at.map(timestamp),
        planned_by_executor: state.planned_by_staff,
        working_minutes_left: left.as_ref().map_or(0, |l| l.working_minutes),
        time_left: left.as_ref().map(|l| l.display.clone()).unwrap_or_default(),
        overdue: left.as_ref().is_some_and(|l| l.working_minutes < 0),
        comments: state
            .comments
            .iter()
            .map(|c| pb::Comment {
                id: c.id.to_string(),
                at: Some(timestamp(c.at)),
                author_id: c.author_id.to_string(),
                author_name: c.author_name.clone(),
                author_role: match c.author_role {
                    CommentAuthor::Applicant => "applicant",
                    CommentAuthor::Staff => "staff",
                }
                .to_owned(),
                text: c.text.clone(),
            })
            .collect(),
        submitted_at: state.submitted_at.map(timestamp),
        // Kept beside the application (`crate::delays`): the service adds them.
        processing_delayed: false,
        delayed_since: None,
        documents: Vec::new(),
    })
}

pub fn timing_pb(lateness: &Lateness, calendar: &WorkingCalendar) -> pb::GetApplicationTimingResponse {
    pb::GetApplicationTimingResponse {
        steps: lateness
            .steps
            .iter()
            .map(|s| pb::TimingStep {
                kind: s.kind.to_owned(),
                department: s.department.clone(),
                started_at: Some(timestamp(s.started_at)),
                ended_at: s.ended_at.map(timestamp),
                working_minutes: i64::from(s.working_minutes),
                duration: calendar.remaining_display(i64::from(s.working_minutes)),
            })
            .collect(),
        total_working_minutes: i64::from(lateness.total_working_minutes),
        standard_working_minutes: i64::from(lateness.standard_working_minutes.unwrap_or(0)),
        over_standard_minutes: i64::from(lateness.over_standard_minutes),
        longest_step: lateness.longest.and_then(|i| i32::try_from(i).ok()).unwrap_or(-1),
    }
}

pub fn names(text: Option<onewindow_proto::catalog::v1::LocalizedText>) -> ServiceNames {
    let text = text.unwrap_or_default();
    ServiceNames { kk: text.kk, ru: text.ru, en: text.en }
}

/// The catalog names languages "kk", "ru" and "en".
pub fn language_code(code: &str) -> Option<Language> {
    match code {
        "kk" => Some(Language::Kk),
        "ru" => Some(Language::Ru),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// The catalog's document type as the events name it (`certificate_of_study`), or empty for none.
pub fn issued_document_name(value: i32) -> &'static str {
    use onewindow_proto::catalog::v1::DocumentType;
    match DocumentType::try_from(value) {
        Ok(DocumentType::CertificateOfStudy) => "certificate_of_study",
        Ok(DocumentType::CertificateOfStipend) => "certificate_of_stipend",
        Ok(DocumentType::ClearanceSheet) => "clearance_sheet",
        Ok(DocumentType::Order) => "order",
        Ok(DocumentType::None | DocumentType::Unspecified) | Err(_) => "",
    }
}

/// The personal card (identity) as the applicant block copies it.
pub fn applicant_from_card(card: onewindow_proto::identity::v1::PersonalCard) -> ApplicantBlock {
    let identity_document = card
        .identity_document
        .map(|d| {
            use onewindow_proto::identity::v1::IdentityDocumentType;
            let kind = match IdentityDocumentType::try_from(d.r#type) {
                Ok(IdentityDocumentType::Unspecified) | Err(_) => "Document",
                Ok(other) => other.as_str_name().trim_start_matches("IDENTITY_DOCUMENT_TYPE_"),
            };
            let mut text = format!("{kind} {}", d.number);
            if !d.issue_date.is_empty() || !d.issued_by.is_empty() {
                text = format!("{text}, issued {} {}", d.issue_date, d.issued_by).trim_end().to_owned();
            }
            text
        })
        .unwrap_or_default();
    ApplicantBlock {
        surname: card.surname,
        name: card.name,
        patronymic: card.patronymic,
        birth_date: card.birth_date,
        iin: card.iin,
        identity_document,
        faculty: card.faculty,
        specialty: card.specialty,
        course: u32::try_from(card.course).unwrap_or(0),
        group: card.group,
        address: card.address,
        phone: card.phone,
        email: card.email,
    }
}
