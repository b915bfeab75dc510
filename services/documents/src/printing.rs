//! From a registered document to what its PDF prints: picks the template's body for the kind and fills it from
//! the document's [`Content`] in one language. Pure.

use chrono::{DateTime, Utc};

use crate::{
    domain::{ApprovalLine, Content, DocumentKind, Language},
    pdf,
};

/// The parts of a printed document that come from the registration rather than the content.
pub struct Registration<'a> {
    pub organisation_name: &'a str,
    /// `Some(number)` for the paper form, which prints the number beside the QR code; `None` for the electronic
    /// copy, which prints no number (the seeds' rule) and so is rendered before the number is taken.
    pub printed_number: Option<&'a str>,
    pub issued_at: DateTime<Utc>,
    pub qr_payload: &'a str,
    pub key_id: &'a str,
}

/// `kind` in `language`, as the electronic copy or the paper form (see [`Registration::printed_number`]).
pub fn printed(
    kind: DocumentKind,
    content: &Content,
    language: Language,
    registration: &Registration<'_>,
) -> pdf::Printed {
    let holder = pdf::Holder {
        full_name: content.holder.full_name.clone(),
        faculty: content.holder.faculty.clone(),
        specialty: content.holder.specialty.clone(),
        course: content.holder.course,
        group: content.holder.group.clone(),
    };
    let approvals: Vec<pdf::Approval> =
        content.approvals.iter().map(|a| approval(a, language, registration.issued_at)).collect();
    let service_name = content.service_names.get(language).to_owned();
    let body = match kind {
        DocumentKind::CertificateOfStudy => {
            pdf::Body::CertificateOfStudy(pdf::CertificateOfStudy { holder, purpose: String::new(), approvals })
        }
        DocumentKind::CertificateOfStipend => {
            let stipend = content.stipend.clone().unwrap_or_default();
            pdf::Body::CertificateOfStipend(pdf::CertificateOfStipend {
                holder,
                stipend_name: stipend.name,
                monthly_amount_tenge: stipend.monthly_amount_tenge,
                period: stipend.from.zip(stipend.to),
                purpose: String::new(),
                approvals,
            })
        }
        DocumentKind::ClearanceSheet => pdf::Body::ClearanceSheet(pdf::ClearanceSheet {
            holder,
            reason: content.reason.clone(),
            rows: content
                .approvals
                .iter()
                .map(|a| pdf::ClearanceRow {
                    department: department(a, language),
                    full_name: a.full_name.clone(),
                    position: a.position.clone(),
                    decision: pdf::Decision::Approved,
                    decided_at: a.decided_at,
                    note: a.note.clone(),
                    acting_for: a.acting_for.clone(),
                })
                .collect(),
        }),
        DocumentKind::Order => pdf::Body::Order(pdf::Order {
            subject: service_name.clone(),
            holder,
            service_name,
            basis_application_number: content.application_number.clone(),
            basis_submitted_at: content.submitted_at,
            period: None,
            approvals,
        }),
        DocumentKind::ApplicationForm => pdf::Body::ApplicationForm(pdf::ApplicationForm {
            addressee: registration.organisation_name.to_owned(),
            holder,
            // Contacts are personal data the public events do not carry; the form leaves them off.
            phone: String::new(),
            email: String::new(),
            application_number: content.application_number.clone(),
            service_name,
            reason: content.reason.clone(),
            statement: String::new(),
            // Submission refuses an application whose box is not ticked.
            agreed: true,
            submitted_at: content.submitted_at.unwrap_or(registration.issued_at),
        }),
        DocumentKind::AcceptanceNotice => pdf::Body::AcceptanceNotice(pdf::AcceptanceNotice {
            holder_full_name: content.holder.full_name.clone(),
            application_number: content.application_number.clone(),
            service_name,
            submitted_at: content.submitted_at.unwrap_or(registration.issued_at),
            planned_completion: content.planned_completion,
            office: String::new(),
        }),
    };
    pdf::Printed {
        language: pdf_language(language),
        organisation_name: registration.organisation_name.to_owned(),
        registration_number: registration.printed_number.unwrap_or_default().to_owned(),
        printed_form: registration.printed_number.is_some(),
        issued_at: registration.issued_at,
        signed_by: content.signatory.as_ref().map(|s| pdf::Signatory {
            full_name: s.full_name.clone(),
            position: s.position.clone(),
            acting_for: s.acting_for.clone(),
            key_id: registration.key_id.to_owned(),
        }),
        qr_payload: registration.qr_payload.to_owned(),
        body,
    }
}

/// The department as printed: its name in `language`, or its code when the name was not known at issue.
fn department(line: &ApprovalLine, language: Language) -> String {
    if line.department_names.is_empty() {
        line.department.clone()
    } else {
        line.department_names.get(language).to_owned()
    }
}

fn approval(line: &ApprovalLine, language: Language, fallback: DateTime<Utc>) -> pdf::Approval {
    pdf::Approval {
        full_name: line.full_name.clone(),
        position: line.position.clone(),
        department: department(line, language),
        decided_at: line.decided_at.unwrap_or(fallback),
        acting_for: line.acting_for.clone(),
    }
}

pub fn pdf_language(language: Language) -> pdf::Language {
    match language {
        Language::Kk => pdf::Language::Kk,
        Language::Ru => pdf::Language::Ru,
        Language::En => pdf::Language::En,
    }
}
