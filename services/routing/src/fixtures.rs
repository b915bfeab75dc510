//! What this crate's tests share: an applications event as a bus delivers it, and signed-in callers.

use std::sync::Arc;

use chrono::{Duration, Utc};
use onewindow_auth::{Authenticator, Principal, Role, SigningKeyPair, StaticKeySource, TokenIssuer};
use onewindow_eventlog::{Commit, EventMetadata, NewEvent, OrgId, Position, RecordedEvent, StreamRef};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ORG: &str = "kaznu";

pub fn org() -> OrgId {
    OrgId::parse(ORG).expect("a valid organisation id")
}

/// An `application.submitted` of a new application, committed to a log of its own and read back from it.
pub async fn submitted(route: Value) -> RecordedEvent {
    submitted_by(Uuid::now_v7(), route).await
}

pub async fn submitted_by(applicant_id: Uuid, route: Value) -> RecordedEvent {
    let applications = onewindow_eventlog::open("sqlite::memory:").await.expect("the applications log");
    let application_id = Uuid::now_v7();
    let payload = json!({
        "application_id": application_id,
        "number": "KZ-2026-000042",
        "applicant_id": applicant_id,
        "applicant_name": "Aruzhan Serikova",
        "service_code": "clearance_sheet",
        "service_version": "3",
        "service_name": "Clearance sheet",
        "route": route,
        "issues_document": "certificate_of_study",
        "document_language": "kk",
        "email": "aruzhan@example.kz",
    });
    let event = NewEvent {
        id: Uuid::now_v7(),
        event_type: "application.submitted".into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: applicant_id.to_string(),
            correlation_id: application_id,
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    };
    let stream = StreamRef::new(&org(), "application", application_id.to_string());
    applications.commit(Commit::append(stream, 0, vec![event])).await.expect("committed");
    let mut all = applications.read_all(Position::START, 10).await.expect("read back");
    all.pop().expect("the submitted event")
}

pub fn person(roles: &[Role], department: &str) -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        org: org(),
        roles: roles.to_vec(),
        full_name: format!("Someone of {department}"),
        department: department.into(),
        position: if department.is_empty() { String::new() } else { format!("Head of {department}") },
    }
}

pub fn approver(department: &str) -> Principal {
    person(&[Role::Approver], department)
}

/// Issues tokens the way identity does, and verifies them with its public key.
pub struct Tokens {
    issuer: TokenIssuer,
    pub auth: Arc<Authenticator>,
}

impl Tokens {
    pub fn new() -> Self {
        let pair = SigningKeyPair::generate("test-key").expect("a key pair");
        let issuer = TokenIssuer::new(&pair, Duration::minutes(5)).expect("an issuer");
        let auth = Authenticator::new(Arc::new(StaticKeySource(vec![pair.public()])));
        Self { issuer, auth }
    }

    /// `message` as `principal` sends it.
    pub fn request<T>(&self, principal: &Principal, message: T) -> tonic::Request<T> {
        let (token, _) = self.issuer.issue(principal, Utc::now()).expect("a token");
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ASCII"));
        request
    }
}
