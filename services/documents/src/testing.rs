//! Fixtures shared by the crate's tests: approvals as routing publishes them, stores, tokens.

use std::{path::PathBuf, sync::Arc};

use chrono::Utc;
use onewindow_auth::{Authenticator, Principal, Role, SigningKeyPair, StaticKeySource, TokenIssuer};
use onewindow_eventlog::{EventMetadata, EventStore, OrgId, Position, RecordedEvent, StreamRef};
use serde_json::json;
use uuid::Uuid;

use crate::{blobs::FsBlobStore, issuing::IssueOnApproval};

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

    pub fn handler(&self) -> IssueOnApproval {
        IssueOnApproval::new(self.store.clone(), self.blobs.clone())
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `sheet.approved` of one application, as routing records it.
pub fn sheet_approved(
    org: &OrgId,
    application_id: &str,
    applicant_id: Uuid,
    issues_document: &str,
    language: &str,
) -> RecordedEvent {
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
        schema_version: 1,
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
