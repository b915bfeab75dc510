//! `make bench`: how long one issued document takes to render (its kk, ru and en copies, as issuing renders them),
//! and how large each PDF is, per document type.
//!
//! A plain timing loop (no harness): each type is rendered a few times to warm up, then `RUNS` times, each time
//! with its own QR payload as real documents have; the table shows the mean and the best time and the sizes, and
//! `bench-results/documents-render.json` keeps them.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use onewindow_documents::pdf::{
    AcceptanceNotice, ApplicationForm, Approval, Body, CertificateOfStipend, CertificateOfStudy, ClearanceRow,
    ClearanceSheet, Decision, Holder, Language, Order, Printed, Signatory, render,
};

const RUNS: u32 = 30;
const WARM_UP: u32 = 3;

fn holder() -> Holder {
    Holder {
        full_name: "Гауһар Әлиханқызы Нұрланова".into(),
        faculty: "Ақпараттық технологиялар факультеті".into(),
        specialty: "Бағдарламалық инженерия".into(),
        course: 3,
        group: "ПИ-21-03".into(),
    }
}

fn approvals(count: usize) -> Vec<Approval> {
    let at = Utc.with_ymd_and_hms(2026, 3, 16, 9, 30, 0).single().unwrap_or_else(Utc::now);
    (0..count)
        .map(|i| Approval {
            full_name: format!("Әлия Серікқызы Бекова {i}"),
            position: "Кітапхана меңгерушісі".into(),
            department: "Ғылыми кітапхана".into(),
            decided_at: at,
            acting_for: String::new(),
        })
        .collect()
}

fn bodies() -> Vec<(&'static str, Body)> {
    let submitted = Utc.with_ymd_and_hms(2026, 3, 10, 11, 0, 0).single().unwrap_or_else(Utc::now);
    let period = NaiveDate::from_ymd_opt(2026, 1, 1).zip(NaiveDate::from_ymd_opt(2026, 6, 30));
    vec![
        (
            "certificate_of_study",
            Body::CertificateOfStudy(CertificateOfStudy {
                holder: holder(),
                purpose: String::new(),
                approvals: approvals(2),
            }),
        ),
        (
            "certificate_of_stipend",
            Body::CertificateOfStipend(CertificateOfStipend {
                holder: holder(),
                stipend_name: "Мемлекеттік стипендия".into(),
                monthly_amount_tenge: 42_000,
                period,
                purpose: String::new(),
                approvals: approvals(2),
            }),
        ),
        (
            "clearance_sheet (12 rows)",
            Body::ClearanceSheet(ClearanceSheet {
                holder: holder(),
                reason: "Оқуды бітіру".into(),
                rows: approvals(12)
                    .into_iter()
                    .map(|a| ClearanceRow {
                        department: a.department,
                        full_name: a.full_name,
                        position: a.position,
                        decision: Decision::Approved,
                        decided_at: Some(a.decided_at),
                        note: "Кітаптар қайтарылды".into(),
                        acting_for: String::new(),
                    })
                    .collect(),
            }),
        ),
        (
            "order",
            Body::Order(Order {
                subject: "Академиялық демалыс беру туралы".into(),
                holder: holder(),
                service_name: "академиялық демалыс".into(),
                basis_application_number: "KAZNU-2026-000123".into(),
                basis_submitted_at: Some(submitted),
                period,
                approvals: approvals(2),
            }),
        ),
        (
            "application_form",
            Body::ApplicationForm(ApplicationForm {
                addressee: "Әл-Фараби атындағы ҚазҰУ ректорына".into(),
                holder: holder(),
                phone: "+7 701 000 00 00".into(),
                email: "student@example.kz".into(),
                application_number: "KAZNU-2026-000123".into(),
                service_name: "Академиялық демалыс".into(),
                reason: "Денсаулығыма байланысты".into(),
                statement: "Маған академиялық демалыс беруіңізді сұраймын.".into(),
                agreed: true,
                submitted_at: submitted,
            }),
        ),
        (
            "acceptance_notice",
            Body::AcceptanceNotice(AcceptanceNotice {
                holder_full_name: holder().full_name,
                application_number: "KAZNU-2026-000123".into(),
                service_name: "Академиялық демалыс".into(),
                submitted_at: submitted,
                planned_completion: Some(submitted + chrono::Duration::days(3)),
                office: "Студенттерге қызмет көрсету орталығы".into(),
            }),
        ),
    ]
}

fn printed(language: Language, body: Body) -> Printed {
    Printed {
        language,
        organisation_name: "Әл-Фараби атындағы Қазақ ұлттық университеті".into(),
        registration_number: "KAZNU-CS-2026-000017".into(),
        printed_form: false,
        issued_at: Utc.with_ymd_and_hms(2026, 3, 17, 10, 0, 0).single().unwrap_or_else(Utc::now),
        signed_by: Some(Signatory {
            full_name: "Марат Сейтқали".into(),
            position: "Бас бухгалтер".into(),
            acting_for: String::new(),
            key_id: "9f1c2a7b3d4e5f60".into(),
        }),
        // A realistic signed payload: the lines of the QR code and an 86-character signature.
        qr_payload: format!(
            "OW-DOC/1\nhttps://verify.kaznu.kz/d/kaznu/Q2xQm0Rk9yXl3b7nA1c2dE\nОқу туралы анықтама\n{}\n2026-03-17T10:00:00Z\n{}\nkaznu 9f1c2a7b3d4e5f60\n{}",
            holder().full_name,
            approvals(2).iter().map(|a| a.full_name.clone()).collect::<Vec<_>>().join("; "),
            "A".repeat(86)
        ),
        body,
    }
}

struct Case {
    name: String,
    /// One document issued: its kk, ru and en copies, which share one QR payload.
    mean: Duration,
    best: Duration,
    /// The sizes of the kk, ru and en copies.
    bytes: [usize; 3],
}

/// Renders the three copies of one document, as issuing does; `serial` makes each document's QR payload its own.
fn issue(body: &Body, serial: u32) -> [usize; 3] {
    [Language::Kk, Language::Ru, Language::En].map(|language| {
        let mut doc = printed(language, body.clone());
        doc.qr_payload.push_str(&format!("{serial:08}"));
        render(&doc).map(|pdf| pdf.len()).unwrap_or_else(|e| panic!("{language:?}: {e}"))
    })
}

fn main() {
    let mut cases = Vec::new();
    for (name, body) in bodies() {
        let mut bytes = [0; 3];
        for serial in 0..WARM_UP {
            bytes = issue(&body, serial);
        }
        let mut best = Duration::MAX;
        let started = Instant::now();
        for serial in 0..RUNS {
            let one = Instant::now();
            bytes = issue(&body, WARM_UP + serial);
            best = best.min(one.elapsed());
        }
        let mean = started.elapsed() / RUNS;
        cases.push(Case { name: name.to_owned(), mean, best, bytes });
    }
    println!(
        "\n{:<28} {:>14} {:>14} {:>12} {:>26}",
        "document (kk + ru + en)", "mean ms / doc", "best ms / doc", "ms / copy", "PDF KB (kk / ru / en)"
    );
    for case in &cases {
        let kb = case.bytes.map(|b| format!("{:.1}", b as f64 / 1024.0));
        println!(
            "{:<28} {:>14.2} {:>14.2} {:>12.2} {:>26}",
            case.name,
            case.mean.as_secs_f64() * 1e3,
            case.best.as_secs_f64() * 1e3,
            case.mean.as_secs_f64() * 1e3 / 3.0,
            kb.join(" / ")
        );
    }
    let json: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "document": c.name,
                "copies": ["kk", "ru", "en"],
                "mean_ms_per_document": c.mean.as_secs_f64() * 1e3,
                "best_ms_per_document": c.best.as_secs_f64() * 1e3,
                "pdf_bytes_per_copy": c.bytes,
            })
        })
        .collect();
    let report = serde_json::json!({ "measured_at": Utc::now().to_rfc3339(), "runs": RUNS, "cases": json });
    // Cargo runs a bench in its package's directory and says so in CARGO_MANIFEST_DIR (read now: the compiled
    // binary may be shared by several clones through one target directory).
    let package = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = std::path::Path::new(&package).join("../../bench-results");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("documents-render.json"), format!("{report:#}\n")));
    match written {
        Ok(()) => println!("\nwritten to bench-results/documents-render.json"),
        Err(e) => eprintln!("could not write bench-results/documents-render.json: {e}"),
    }
}
