//! The layout's rules, checked on the rendered files: the printed-form rule, page breaks with repeated table headers
//! and page numbers, marks inside the page, a scannable QR code, small files.

use super::samples::{self, LANGUAGES, NUMBER};
use super::{decode_qr, normalise, page_count, pdf_info, pdf_text, rendered};
use crate::pdf::fonts::{Faces, faces};
use crate::pdf::footer::qr_code;
use crate::pdf::layout::Mark;
use crate::pdf::page::{CONTENT_TOP, MARGIN_LEFT, MARGIN_RIGHT, PAGE_NUMBER_BASELINE, PAGE_WIDTH};
use crate::pdf::templates::lay_out;
use crate::pdf::texts::common;
use crate::pdf::{Body, Language, Printed, RenderError, render};

#[test]
fn every_type_renders_a_pdf() {
    for language in LANGUAGES {
        for doc in samples::every_type(language) {
            assert!(rendered(&doc).starts_with(b"%PDF-"));
        }
    }
}

#[test]
fn registration_number_only_on_the_printed_form() {
    for language in LANGUAGES {
        let label = common(language).registration_number;
        for mut doc in samples::every_type(language) {
            let kind = samples::kind(&doc.body);
            let printed = normalise(&pdf_text(&rendered(&doc)));
            assert!(printed.contains(NUMBER), "{language:?} {kind} printed form");
            doc.printed_form = false;
            let bytes = rendered(&doc);
            let electronic = normalise(&pdf_text(&bytes));
            assert!(!electronic.contains(NUMBER), "{language:?} {kind} electronic copy: {electronic}");
            assert!(!electronic.contains(label), "{language:?} {kind} electronic label");
            // The QR code is on both, and the number is in the document information of both.
            assert_eq!(decode_qr(&bytes), samples::PAYLOAD, "{language:?} {kind} QR");
            let info = pdf_info(&bytes);
            assert!(info.lines().any(|l| l.starts_with("Subject:") && l.contains(NUMBER)), "{info}");
        }
    }
}

#[test]
fn the_pdf_title_is_the_documents_title() {
    let info = pdf_info(&rendered(&samples::order(Language::Kk)));
    assert!(info.lines().any(|l| l.starts_with("Title:") && l.contains("БҰЙРЫҚ")), "{info}");
}

#[test]
fn empty_details_are_omitted() {
    let mut doc = samples::certificate_of_study(Language::En, 0);
    if let Body::CertificateOfStudy(body) = &mut doc.body {
        body.holder.faculty.clear();
        body.holder.specialty = "  ".to_string();
        body.holder.course = 0;
        body.holder.group.clear();
        body.purpose.clear();
    }
    doc.signed_by = None;
    let text = normalise(&pdf_text(&rendered(&doc)));
    for absent in ["Faculty:", "Specialty:", "Year of study:", "Group:", "Approved by", "Full name", "Signed"] {
        assert!(!text.contains(absent), "{absent} should be omitted");
    }
    assert!(text.contains("Date of issue: 17 March 2026"));
}

/// Page numbers: pdftotext drops the narrow spaces around the slash.
fn assert_numbered(text: &str, pages: usize) {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for page in 1..=pages {
        assert!(compact.contains(&format!("{page}/{pages}")), "page {page} of {pages} is not numbered");
    }
}

#[test]
fn long_clearance_sheet_breaks_across_pages() {
    for language in LANGUAGES {
        let doc = samples::clearance_sheet(language, 40);
        let bytes = rendered(&doc);
        let pages = page_count(&bytes);
        assert!(pages >= 2, "{language:?}: {pages} page(s)");
        let text = pdf_text(&bytes);
        for row in 1..=40 {
            assert!(text.contains(&format!("Clearer {row:02}")), "{language:?}: row {row} missing");
        }
        // The header row is on every page the table runs over (the footer may take a page of its own).
        let header = match language {
            Language::Kk => "Ескертпе",
            Language::Ru => "Примечание",
            Language::En => "Note",
        };
        let headers = text.matches(header).count();
        assert!(headers >= pages - 1 && headers >= 2, "{language:?}: {headers} header(s) on {pages} pages");
        assert_numbered(&text, pages);
        assert_eq!(decode_qr(&bytes), samples::PAYLOAD, "{language:?} QR on the last page");
    }
}

#[test]
fn long_approval_table_breaks_across_pages() {
    let doc = samples::certificate_of_study(Language::Ru, 40);
    let bytes = rendered(&doc);
    let pages = page_count(&bytes);
    assert!(pages >= 2);
    let text = pdf_text(&bytes);
    for i in 0..40 {
        assert!(text.contains(&format!("Approver{i:02} Surname")), "missing approver {i}");
    }
    assert!(text.matches("Подразделение").count() >= 2, "the header row is repeated");
    assert_numbered(&text, pages);
}

fn marks(doc: &Printed) -> (Vec<Vec<Mark>>, &'static Faces) {
    let faces = faces().expect("fonts");
    let qr = qr_code(&doc.qr_payload).expect("qr");
    (lay_out(doc, faces, &qr), faces)
}

/// Every document with every text field made very long still keeps all its marks inside the page.
#[test]
fn long_cells_and_words_wrap_inside_the_page() {
    let long_text = "Deputy dean for academic affairs and student support ".repeat(40);
    let long_word = "X".repeat(300);
    for language in LANGUAGES {
        for mut doc in samples::every_type(language) {
            doc.organisation_name = long_word.clone();
            if let Some(signatory) = &mut doc.signed_by {
                signatory.position = long_text.clone();
                signatory.key_id = long_word.clone();
            }
            match &mut doc.body {
                Body::CertificateOfStudy(body) => {
                    body.approvals[0].position = long_text.clone();
                    body.approvals[1].department = long_word.clone();
                    body.purpose = "word ".repeat(400);
                }
                Body::CertificateOfStipend(body) => {
                    body.stipend_name = long_text.clone();
                    body.holder.full_name = long_word.clone();
                }
                Body::ClearanceSheet(body) => {
                    body.rows[0].note = long_text.repeat(3);
                    body.rows[1].department = long_word.clone();
                }
                Body::Order(body) => {
                    body.subject = long_text.clone();
                    body.basis_application_number = long_word.clone();
                }
                Body::ApplicationForm(body) => {
                    body.addressee = long_text.clone();
                    body.email = long_word.clone();
                    body.statement = long_text.repeat(2);
                }
                Body::AcceptanceNotice(body) => {
                    body.service_name = long_text.clone();
                    body.office = long_word.clone();
                }
            }
            let kind = samples::kind(&doc.body);
            let (pages, faces) = marks(&doc);
            assert!(pages.len() >= 2, "{language:?} {kind} should run over pages");
            for mark in pages.iter().flatten() {
                let (left, right, bottom, top) = match mark {
                    Mark::Text { x, y, size, weight, text } => (*x, x + faces.width(*weight, *size, text), *y, *y),
                    Mark::Fill { x, y, width, height, .. } | Mark::Frame { x, y, width, height } => {
                        (*x, x + width, *y, y + height)
                    }
                };
                assert!(left >= MARGIN_LEFT - 0.01, "{language:?} {kind}: left {left}");
                assert!(right <= PAGE_WIDTH - MARGIN_RIGHT + 0.01, "{language:?} {kind}: right {right}");
                assert!(bottom >= PAGE_NUMBER_BASELINE - 0.01 && top <= CONTENT_TOP + 0.01, "{language:?} {kind}");
            }
            // And the file is still written.
            assert!(rendered(&doc).starts_with(b"%PDF-"));
        }
    }
}

#[test]
fn qr_payload_limits() {
    let mut doc = samples::certificate_of_study(Language::En, 0);
    doc.qr_payload.clear();
    assert!(render(&doc).is_ok());
    // A version 40 code at level M holds 2331 bytes; more cannot be encoded.
    doc.qr_payload = "x".repeat(3000);
    assert!(matches!(render(&doc), Err(RenderError::Qr(_))));
}

#[test]
fn qr_code_decodes_to_the_payload() {
    let long = format!("{}&pad={}", samples::PAYLOAD, "A1b2C3d4".repeat(60));
    for mut doc in [samples::certificate_of_study(Language::En, 2), samples::order(Language::Kk)] {
        for payload in [samples::PAYLOAD.to_string(), long.clone()] {
            doc.qr_payload = payload;
            assert_eq!(decode_qr(&rendered(&doc)), doc.qr_payload);
        }
    }
}

#[test]
fn characters_outside_the_font_do_not_fail() {
    let mut doc = samples::certificate_of_study(Language::Ru, 1);
    if let Body::CertificateOfStudy(body) = &mut doc.body {
        body.holder.full_name = "Ли 李 Мин 🙂".to_string();
    }
    let text = pdf_text(&rendered(&doc));
    assert!(text.contains("Ли") && text.contains("Мин"));
}

#[test]
fn dates_are_those_of_kazakhstan() {
    // 20:15 UTC on 17 March is 01:15 on 18 March in Kazakhstan.
    let mut doc = samples::certificate_of_study(Language::Ru, 0);
    doc.issued_at += chrono::Duration::minutes(10 * 60 + 45);
    let text = normalise(&pdf_text(&rendered(&doc)));
    assert!(text.contains("Дата выдачи: 18.03.2026"), "{text}");
    assert!(text.contains("Дата и время подписания: 18.03.2026 01:15 (UTC+05:00)"), "{text}");
}

#[test]
fn fonts_are_subset() {
    for language in LANGUAGES {
        for doc in samples::every_type(language) {
            let size = rendered(&doc).len();
            assert!(size < 150_000, "{language:?} {}: {size} bytes", samples::kind(&doc.body));
        }
    }
}

/// `cargo test -p onewindow-documents --release --lib -- --ignored --nocapture render_timing`
#[test]
#[ignore]
fn render_timing() {
    for doc in samples::every_type(Language::Kk) {
        let _ = rendered(&doc);
        let runs = 50;
        let started = std::time::Instant::now();
        let mut size = 0;
        for _ in 0..runs {
            size = rendered(&doc).len();
        }
        let per = started.elapsed() / runs;
        println!("{}: {size} bytes, {per:?} per render", samples::kind(&doc.body));
    }
    let big = rendered(&samples::clearance_sheet(Language::Ru, 40));
    println!("clearance sheet with 40 rows: {} bytes", big.len());
}
