//! Fixtures shared by the crate's tests: approvals as routing publishes them, stores, tokens.

use std::{path::PathBuf, sync::Arc};

use chrono::Utc;
use onewindow_auth::{Authenticator, Principal, Role, SigningKeyPair, StaticKeySource, TokenIssuer};
use onewindow_blobs::FsBlobStore;
use onewindow_eventlog::{EventMetadata, EventStore, OrgId, Position, RecordedEvent, StreamRef};
use serde_json::json;
use uuid::Uuid;

use crate::{
    consumers::{IssueOnApproval, IssueReceipts},
    issuer::Issuer,
};

pub const VERIFY_URL: &str = "https://verify.example.kz/d";

pub fn org(id: &str) -> OrgId {
    OrgId::parse(id).expect("org id")
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onewindow-documents-{what}-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

pub struct Setup {
    pub store: Arc<dyn EventStore>,
    pub blobs: Arc<FsBlobStore>,
    pub dir: PathBuf,
}

impl Setup {
    pub async fn in_memory() -> Self {
        let dir = temp_dir("blobs");
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("event log");
        Self { store, blobs: Arc::new(FsBlobStore::new(dir.join("blobs"))), dir }
    }

    /// A file-backed log, so several connections write concurrently as replicas would.
    pub async fn on_file() -> Self {
        let dir = temp_dir("log");
        let url = format!("sqlite:{}", dir.join("documents.db").display());
        let store = onewindow_eventlog::open(&url).await.expect("event log");
        Self { store, blobs: Arc::new(FsBlobStore::new(dir.join("blobs"))), dir }
    }

    pub fn issuer(&self) -> Arc<Issuer> {
        Arc::new(Issuer::new(self.store.clone(), self.blobs.clone(), VERIFY_URL))
    }

    pub fn handler(&self) -> IssueOnApproval {
        IssueOnApproval::new(self.issuer())
    }

    pub fn receipts(&self) -> IssueReceipts {
        IssueReceipts::new(self.issuer())
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The application id a test names `app-1`: a UUID derived from the name, as the events carry it.
pub fn application(name: &str) -> String {
    name.parse::<Uuid>().unwrap_or_else(|_| crate::domain::name_based_id(name.as_bytes())).to_string()
}

/// `sheet.approved` of one application, as routing records it.
pub fn sheet_approved(
    org: &OrgId,
    application_id: &str,
    applicant_id: Uuid,
    issues_document: &str,
    language: &str,
) -> RecordedEvent {
    let application_id = &application(application_id);
    let language = (!language.is_empty()).then_some(language);
    let payload = json!({
        "application_id": application_id,
        "number": "KAZNU-2026-000123",
        "applicant_id": applicant_id,
        "applicant_name": "Aruzhan Serikovna Nurlanova",
        "service_code": "certificate-of-study",
        "service_name": "Certificate of study",
        "issues_document": issues_document,
        "document_language": language,
        "approvals": [
            { "full_name": "Dana Abenova", "position": "Dean", "department": "Faculty of IT", "decided_at": "2026-03-16T09:30:00Z" },
            { "full_name": "Marat Seitkali", "position": "Chief accountant", "department": "Accounting", "decided_at": "2026-03-16T10:05:00Z" }
        ],
        "some_future_field": { "ignored": true }
    });
    let id = Uuid::now_v7();
    RecordedEvent {
        position: Position::START,
        id,
        stream: StreamRef::new(org, "sheet", application_id),
        version: 4,
        event_type: "sheet.approved".into(),
        schema_version: onewindow_contracts::sheet::SUMMARY_LANGUAGE_OPTIONAL,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "service:routing".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: id,
            trace_context: None,
        },
    }
}

/// `application.submitted` of one application, as applications records it.
pub fn application_submitted(org: &OrgId, application_id: &str, applicant_id: Uuid, language: &str) -> RecordedEvent {
    let application_id = &application(application_id);
    let language = (!language.is_empty()).then_some(language);
    let payload = json!({
        "application_id": application_id,
        "number": "KAZNU-2026-000123",
        "applicant_id": applicant_id,
        "applicant_name": "Гауһар Әлиханқызы Нұрланова",
        "service_code": "academic-leave",
        "service_version": 1,
        "service_name": "Академиялық демалыс",
        "service_names": { "kk": "Академиялық демалыс", "ru": "Академический отпуск", "en": "Academic leave" },
        "route": [],
        "issues_document": "order",
        "document_language": language,
        "email": "a@example.kz",
        "reason": "Денсаулығыма байланысты"
    });
    recorded(org, "application", application_id, "application.submitted", "service:applications", payload)
}

fn recorded(
    org: &OrgId,
    stream_type: &str,
    stream_id: &str,
    event_type: &str,
    actor: &str,
    payload: serde_json::Value,
) -> RecordedEvent {
    let id = Uuid::now_v7();
    RecordedEvent {
        position: Position::START,
        id,
        stream: StreamRef::new(org, stream_type, stream_id),
        version: 2,
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: actor.into(),
            correlation_id: Uuid::now_v7(),
            causation_id: id,
            trace_context: None,
        },
    }
}

/// Signs tokens and verifies them, as identity and a service would.
pub struct Tokens {
    issuer: TokenIssuer,
    pub auth: Arc<Authenticator>,
}

impl Tokens {
    pub fn new() -> Self {
        let pair = SigningKeyPair::generate("test-key").expect("key pair");
        let issuer = TokenIssuer::new(&pair, chrono::Duration::minutes(5)).expect("issuer");
        let auth = Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()])));
        Self { issuer, auth }
    }

    pub fn token(&self, org: &OrgId, user_id: Uuid, roles: &[Role]) -> String {
        let principal = Principal {
            user_id,
            org: org.clone(),
            roles: roles.to_vec(),
            full_name: "Test User".into(),
            department: String::new(),
            position: String::new(),
        };
        self.issuer.issue(&principal, Utc::now()).expect("token").0
    }
}

pub fn request<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    request
}

/// Writes `bytes` to a fresh temporary PDF file.
fn temp_pdf(bytes: &[u8]) -> PathBuf {
    let path = temp_dir("pdf").join("d.pdf");
    std::fs::write(&path, bytes).expect("write the temporary PDF");
    path
}

/// Removes a file of [`temp_pdf`] with its folder.
fn remove(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Runs a tool of poppler-utils or zbar-tools; a missing tool fails the test instead of skipping it.
fn run(tool: &str, args: &[&std::ffi::OsStr]) -> String {
    let output = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`{tool}` could not be run ({e}); install poppler-utils and zbar-tools"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The PDF's text as `pdftotext` extracts it.
pub fn pdf_text(pdf: &[u8]) -> String {
    let path = temp_pdf(pdf);
    let text = run("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str(), "-".as_ref()]);
    remove(&path);
    text
}

/// The PDF's document information as `pdfinfo` prints it.
pub fn pdf_info(pdf: &[u8]) -> String {
    let path = temp_pdf(pdf);
    let info = run("pdfinfo", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str()]);
    remove(&path);
    info
}

pub fn page_count(pdf: &[u8]) -> usize {
    pdf_info(pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo reports the page count")
}

/// Rasterises the PDF's last page (where the QR code is) and reads the code with a real decoder (`zbarimg`).
pub fn decode_qr(pdf: &[u8]) -> String {
    let path = temp_pdf(pdf);
    let prefix = path.with_extension("");
    let last = page_count(pdf).to_string();
    let args: [&std::ffi::OsStr; 8] = [
        "-r".as_ref(),
        "200".as_ref(),
        "-png".as_ref(),
        "-singlefile".as_ref(),
        "-f".as_ref(),
        last.as_ref(),
        path.as_os_str(),
        prefix.as_os_str(),
    ];
    run("pdftoppm", &args);
    // QR codes only: a table's rules can look like a one-dimensional barcode to zbar, and its text would be read too.
    let png = prefix.with_extension("png");
    let args: [&std::ffi::OsStr; 5] =
        ["--quiet".as_ref(), "--raw".as_ref(), "-Sdisable".as_ref(), "-Sqrcode.enable".as_ref(), png.as_os_str()];
    let payload = run("zbarimg", &args);
    remove(&path);
    payload.trim_end_matches('\n').to_owned()
}
