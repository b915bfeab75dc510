//! The certificate-of-study flow in the embedded mode: one process, SQLite, the in-process bus.

use std::{path::PathBuf, time::Duration};

use onewindow::{
    EmbeddedConfig, run_embedded,
    walkthrough::{Cast, Endpoints, Outcome, certificate_of_study},
};
use onewindow_proto::applications::v1::ApplicationStatus;
use tokio_util::sync::CancellationToken;

/// The whole system on a free port with a fresh data folder; stopped when dropped.
pub struct EmbeddedSystem {
    pub url: String,
    pub data_dir: PathBuf,
    shutdown: CancellationToken,
}

impl EmbeddedSystem {
    pub async fn start() -> Self {
        onewindow_tests::init_test_logging();
        let data_dir = std::env::temp_dir().join(format!("onewindow-embedded-{}", uuid::Uuid::now_v7().simple()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let config = EmbeddedConfig { data_dir: data_dir.clone(), ..EmbeddedConfig::default() };
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Err(error) = run_embedded(config, listener, stop).await {
                panic!("the embedded system failed: {error:#}");
            }
        });
        for _ in 0..600 {
            if onewindow_tests::health_status(&url, "onewindow.notifications.v1.NotificationsService")
                .await
                .unwrap_or(false)
            {
                return Self { url, data_dir, shutdown };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the embedded system did not start");
    }

    pub fn cast(&self, org: &str) -> Cast {
        Cast::from_demo_file(&self.data_dir.join("demo-accounts.txt"), org).expect("demo accounts")
    }
}

impl Drop for EmbeddedSystem {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The application lists every document issued for it: the printed form and the notification of acceptance
/// (receipts of the submission) and the certificate, each with its id and number.
async fn assert_documents_listed(system: &EmbeddedSystem, outcome: &Outcome) {
    use onewindow::walkthrough::{authed, sign_in};
    use onewindow_proto::applications::v1::{
        GetApplicationRequest, applications_service_client::ApplicationsServiceClient,
    };
    let token = sign_in(&system.url, "kaznu", &system.cast("kaznu").student).await.expect("the student signs in");
    let channel =
        tonic::transport::Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let mut client = ApplicationsServiceClient::new(channel);
    for _ in 0..200 {
        let request = GetApplicationRequest { application_id: outcome.application.id.clone(), ..Default::default() };
        let answer = client.get_application(authed(request, &token).expect("request")).await.expect("read");
        let documents = answer.into_inner().application.expect("the application").documents;
        let mut kinds: Vec<(&str, bool)> = documents.iter().map(|d| (d.document_type.as_str(), d.receipt)).collect();
        kinds.sort();
        if kinds.len() == 3 {
            let expected = [("acceptance_notice", true), ("application_form", true), ("certificate_of_study", false)];
            assert_eq!(kinds, expected);
            let certificate = documents.iter().find(|d| !d.receipt).expect("the result");
            assert_eq!(certificate.document_id, outcome.document.id);
            assert_eq!(certificate.registration_number, outcome.document.registration_number);
            assert!(documents.iter().all(|d| !d.registration_number.is_empty() && !d.document_id.is_empty()));
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the application does not list its three documents");
}

/// Checks everything the flow must end with, in either mode.
pub fn assert_certificate_issued(outcome: &Outcome, org_prefix: &str) {
    let application = &outcome.application;
    assert_eq!(application.status(), ApplicationStatus::Issued);
    assert!(application.number.starts_with(org_prefix), "number {}", application.number);
    let history: Vec<_> = application
        .history
        .iter()
        .map(|h| (h.status(), h.change.as_str(), h.department.as_str(), h.approved))
        .collect();
    assert_eq!(
        history,
        [
            (ApplicationStatus::Issued, "issued", "", None),
            (ApplicationStatus::Completed, "completed", "", None),
            (ApplicationStatus::InWork, "approval_recorded", "registrar", Some(true)),
            (ApplicationStatus::InWork, "approval_recorded", "deans-office", Some(true)),
            (ApplicationStatus::InWork, "work_started", "", None),
            (ApplicationStatus::Submitted, "submitted", "", None),
            (ApplicationStatus::Saved, "created", "", None)
        ],
        "history, newest first"
    );

    assert_eq!(outcome.sheet.progress_percent, 100);
    let departments: Vec<_> = outcome.sheet.rows.iter().map(|r| r.department.as_str()).collect();
    assert_eq!(departments, ["deans-office", "registrar"]);
    assert!(outcome.sheet.rows.iter().all(|r| !r.decided_by_name.is_empty()));

    assert_eq!(outcome.document.registration_number, application.document_number);
    assert!(outcome.document.registration_number.starts_with(org_prefix));
    assert_eq!(outcome.document.size_bytes as usize, outcome.pdf.len());
    assert_eq!(outcome.document.languages, ["kk", "ru", "en"]);
    let verified = &outcome.verification;
    assert!(verified.found && verified.signature_valid, "{verified:?}");
    assert_eq!(verified.status, onewindow_proto::documents::v1::DocumentStatus::Valid as i32);
    assert_eq!(verified.approvers.len(), outcome.sheet.rows.len(), "every approver is named");
    let text = pdf_text(&outcome.pdf);
    assert!(text.contains("ОҚУ ТУРАЛЫ АНЫҚТАМА"), "the Kazakh title is in the PDF:\n{text}");
    assert!(text.contains(&outcome.application.applicant_name), "the holder is named in the PDF");
    // The electronic copy shows only the QR code (the seeds' rule); its number lives in the journal.
    let number = &outcome.document.registration_number;
    assert!(!text.contains(number.as_str()) && !pdf_info(&outcome.pdf).contains(number.as_str()), "no number");

    let kinds: Vec<_> = outcome.notifications.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "application.submitted").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "document.issued").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "verification.recorded").count(), 1, "the holder hears of the check");
    assert!(outcome.notifications.iter().all(|n| n.application_id == application.id));
}

fn with_pdf_file<T>(pdf: &[u8], read: impl FnOnce(&std::path::Path) -> T) -> T {
    let path = std::env::temp_dir().join(format!("onewindow-{}.pdf", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, pdf).expect("write pdf");
    let result = read(&path);
    let _ = std::fs::remove_file(&path);
    result
}

/// The PDF's text through poppler's pdftotext: fails if the file does not parse as PDF.
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    with_pdf_file(pdf, |path| {
        let output = std::process::Command::new("pdftotext")
            .arg(path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) is required: scripts/test-prepare.sh installs it");
        assert!(output.status.success(), "pdftotext could not parse the PDF");
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
}

/// The PDF's document information (title, subject, ...) through poppler's pdfinfo.
pub fn pdf_info(pdf: &[u8]) -> String {
    with_pdf_file(pdf, |path| {
        let output = std::process::Command::new("pdfinfo").arg(path).output().expect("pdfinfo is required");
        assert!(output.status.success(), "pdfinfo could not parse the PDF");
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_of_study_flows_from_order_to_pdf() {
    let system = EmbeddedSystem::start().await;
    let outcome = certificate_of_study(&Endpoints::single(&system.url), &system.cast("kaznu"), Duration::from_secs(60))
        .await
        .expect("the flow completes");
    assert_certificate_issued(&outcome, "KAZNU-");
    assert_documents_listed(&system, &outcome).await;

    // The trace of the submit call continues through the bus into routing.
    let log = |service: &str| format!("sqlite:{}", system.data_dir.join(format!("{service}.db")).display());
    let applications = onewindow_eventlog::open(&log("applications")).await.expect("applications log");
    let routing = onewindow_eventlog::open(&log("routing")).await.expect("routing log");
    assert_one_trace(applications.as_ref(), routing.as_ref(), &outcome.application.id).await;
}

fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

/// `application.submitted` and the `sheet.opened` it caused in routing share one trace id.
pub async fn assert_one_trace(
    applications: &dyn onewindow_eventlog::EventStore,
    routing: &dyn onewindow_eventlog::EventStore,
    application_id: &str,
) {
    use onewindow_eventlog::{OrgId, StreamRef};
    let org = OrgId::parse("kaznu").expect("org");
    let submitted = applications
        .read_stream(&StreamRef::new(&org, "application", application_id))
        .await
        .expect("read")
        .into_iter()
        .find(|e| e.event_type == "application.submitted")
        .expect("submitted");
    let opened = routing
        .read_stream(&StreamRef::new(&org, "sheet", application_id))
        .await
        .expect("read")
        .into_iter()
        .find(|e| e.event_type == "sheet.opened")
        .expect("opened");
    let submitted_trace = submitted.metadata.trace_context.expect("the submit call's trace is stored with its event");
    let opened_trace = opened.metadata.trace_context.expect("routing's reaction carries a trace");
    assert_eq!(trace_id(&submitted_trace), trace_id(&opened_trace), "one trace from the gRPC call into routing");
    assert_ne!(trace_id(&submitted_trace), "00000000000000000000000000000000");
    assert_eq!(opened.metadata.causation_id, submitted.id, "routing's event names its cause");
    assert_eq!(opened.metadata.correlation_id, submitted.metadata.correlation_id, "one flow, one correlation id");
}

/// A domain history used by the event-log tests: created → submitted → in work → completed → issued.
pub fn sample_application_events() -> Vec<onewindow_applications::ApplicationEvent> {
    use onewindow_applications::{
        ApplicationEvent as E, Created, Draft, Language, RouteStep, ServiceSnapshot, Submitted,
    };
    use uuid::Uuid;
    let application_id = Uuid::now_v7();
    let applicant_id = Uuid::now_v7();
    let service = ServiceSnapshot {
        code: "certificate-of-study".into(),
        version: 1,
        name_kk: "Оқу туралы анықтама".into(),
        name_ru: "Справка об обучении".into(),
        name_en: "Certificate of study".into(),
        route: vec![RouteStep { stage: 1, department: "registrar".into(), position: "registrar".into(), required: 0 }],
        issues_document: "certificate_of_study".into(),
        ..ServiceSnapshot::default()
    };
    vec![
        E::Created(Box::new(Created {
            application_id,
            number: "KAZNU-2026-000001".into(),
            applicant_id,
            applicant_name: "Aruzhan Serikqyzy Nurlanova".into(),
            service: service.clone(),
            draft: Draft {
                document_language: Some(Language::Kk),
                reason: "visa".into(),
                email: "a@example.kz".into(),
                ..Draft::default()
            },
            applicant: Default::default(),
            planned_at: None,
        })),
        E::Submitted(Box::new(Submitted {
            application_id,
            number: "KAZNU-2026-000001".into(),
            applicant_id,
            applicant_name: "Aruzhan Serikqyzy Nurlanova".into(),
            service_code: service.code.clone(),
            service_version: 1,
            service_name: service.name_kk.clone(),
            route: service.route.clone(),
            issues_document: service.issues_document.clone(),
            document_language: Some(Language::Kk),
            email: "a@example.kz".into(),
            service_names: Default::default(),
            reason: "visa".into(),
            office: "registrar".into(),
            planned_at: None,
        })),
        E::WorkStarted { application_id, approver_ids: Vec::new(), opened_at: None },
        E::Completed { application_id, completed_by_name: String::new() },
        E::Issued {
            application_id,
            document_id: Some(Uuid::now_v7()),
            document_number: "KAZNU-CS-2026-000001".into(),
            issued_by_name: String::new(),
        },
    ]
}
