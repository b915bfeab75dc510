//! One template per document type, and the parts they share: the letterhead, the holder's details, the approvals
//! table. Every document then ends the same way: the signature block when it is signed, and the footer band with
//! the QR code.

mod acceptance_notice;
mod application_form;
mod certificate_of_stipend;
mod certificate_of_study;
mod clearance_sheet;
mod order;

use qrcode::QrCode;

use super::fonts::Faces;
use super::footer::{Footer, footer, number_pages};
use super::layout::{Align, Layout, Mark};
use super::page::{BODY_SIZE, ORGANISATION_SIZE, TITLE_SIZE};
use super::signature::signature_block;
use super::table::{Column, Table};
use super::texts::{acting_for, common};
use super::wrap::{bold, regular};
use super::{Approval, Body, Holder, Language, Printed, locale};

/// The document's title in its language, also the PDF's title.
pub(super) fn title(doc: &Printed) -> &'static str {
    let language = doc.language;
    match &doc.body {
        Body::CertificateOfStudy(_) => certificate_of_study::title(language),
        Body::CertificateOfStipend(_) => certificate_of_stipend::title(language),
        Body::ClearanceSheet(_) => clearance_sheet::title(language),
        Body::Order(_) => order::title(language),
        Body::ApplicationForm(_) => application_form::title(language),
        Body::AcceptanceNotice(_) => acceptance_notice::title(language),
    }
}

/// Lays the whole document out on pages.
pub(super) fn lay_out(doc: &Printed, faces: &Faces, qr: &QrCode) -> Vec<Vec<Mark>> {
    let mut layout = Layout::new(faces);
    match &doc.body {
        Body::CertificateOfStudy(body) => certificate_of_study::lay_out(&mut layout, doc, body),
        Body::CertificateOfStipend(body) => certificate_of_stipend::lay_out(&mut layout, doc, body),
        Body::ClearanceSheet(body) => clearance_sheet::lay_out(&mut layout, doc, body),
        Body::Order(body) => order::lay_out(&mut layout, doc, body),
        Body::ApplicationForm(body) => application_form::lay_out(&mut layout, doc, body),
        Body::AcceptanceNotice(body) => acceptance_notice::lay_out(&mut layout, doc, body),
    }
    if let Some(signatory) = &doc.signed_by {
        signature_block(&mut layout, doc.language, signatory, &doc.issued_at);
    }
    footer(&mut layout, &footer_of(doc), qr);
    let mut pages = layout.finish();
    number_pages(&mut pages, faces);
    pages
}

/// The number (printed form only, seed rule) and the date of issue next to the QR code. An order prints both under
/// its title instead, where orders carry them.
fn footer_of(doc: &Printed) -> Footer<'static> {
    let t = common(doc.language);
    let mut lines = Vec::new();
    if !matches!(doc.body, Body::Order(_)) {
        if doc.printed_form {
            lines.push((t.registration_number, doc.registration_number.clone()));
        }
        lines.push((t.date_of_issue, locale::date(doc.language, &doc.issued_at)));
    }
    Footer { lines, note: t.verification_note }
}

/// The organisation's name and the document's title, centred.
fn letterhead(layout: &mut Layout<'_>, doc: &Printed) {
    layout.paragraph(&[bold(doc.organisation_name.as_str())], ORGANISATION_SIZE, Align::Centre);
    layout.gap(24.0);
    layout.paragraph(&[bold(title(doc))], TITLE_SIZE, Align::Centre);
    layout.gap(18.0);
}

/// Faculty, specialty, course and group as labelled lines; blank ones are left out.
fn holder_details(layout: &mut Layout<'_>, language: Language, holder: &Holder) {
    let t = common(language);
    layout.field(t.faculty, &holder.faculty);
    layout.field(t.specialty, &holder.specialty);
    layout.field(t.course, &course(holder.course));
    layout.field(t.group, &holder.group);
}

/// "3", or blank for course 0 (unknown), which `Layout::field` then leaves out.
fn course(course: u8) -> String {
    if course == 0 { String::new() } else { course.to_string() }
}

/// A free-text sentence such as the purpose of a certificate; nothing when blank.
fn optional_paragraph(layout: &mut Layout<'_>, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        layout.gap(6.0);
        layout.paragraph(&[regular(text)], BODY_SIZE, Align::Left);
    }
}

/// "Approved by" and the table full name | position | department | date; nothing without approvals. A delegate's
/// principal is written under their name.
fn approvals_table(layout: &mut Layout<'_>, language: Language, approvals: &[Approval]) {
    if approvals.is_empty() {
        return;
    }
    let t = common(language);
    layout.gap(16.0);
    layout.heading(t.approvals);
    let rows = approvals
        .iter()
        .map(|a| {
            vec![
                with_principal(language, &a.full_name, &a.acting_for),
                a.position.clone(),
                a.department.clone(),
                locale::date(language, &a.decided_at),
            ]
        })
        .collect();
    layout.table(&Table {
        columns: vec![
            Column { header: t.column_full_name, share: 0.29 },
            Column { header: t.column_position, share: 0.25 },
            Column { header: t.column_department, share: 0.27 },
            Column { header: t.column_date, share: 0.19 },
        ],
        rows,
    });
}

/// A name, and on the next line whom they acted for when they were a substitute.
fn with_principal(language: Language, full_name: &str, principal: &str) -> String {
    let principal = principal.trim();
    if principal.is_empty() {
        full_name.to_string()
    } else {
        format!("{full_name}\n{}", acting_for(language, principal))
    }
}
