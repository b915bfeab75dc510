//! What this crate's tests share: an applications event as a bus delivers it, signed-in callers, a clock the
//! test moves, and identity's post holders in memory.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
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

/// A submission without a catalog version (as before versions were carried), so its own route is used: tests of
/// routes need no copy of the catalog.
pub async fn submitted_by(applicant_id: Uuid, route: Value) -> RecordedEvent {
    let application_id = Uuid::now_v7();
    let payload = json!({
        "application_id": application_id,
        "number": "KZ-2026-000042",
        "applicant_id": applicant_id,
        "applicant_name": "Aruzhan Serikova",
        "service_code": "clearance_sheet",
        "service_version": 0,
        "service_name": "Clearance sheet",
        "route": route,
        "issues_document": "certificate_of_study",
        "document_language": "kk",
        "email": "aruzhan@example.kz",
    });
    application_event("application.submitted", application_id, payload).await
}

/// A submission of version 1 of a service whose route routing has copied from the catalog first, with the stage
/// settings `route`'s steps name (time limits, silence, a signatory) — what `application.submitted` does not carry.
pub async fn submitted_with_copy(
    store: &std::sync::Arc<dyn onewindow_eventlog::EventStore>,
    applicant_id: Uuid,
    route: Value,
) -> RecordedEvent {
    let mut stages: Vec<Value> = Vec::new();
    for step in route.as_array().into_iter().flatten() {
        let stage = step["stage"].as_u64().unwrap_or(1).max(1) as usize;
        while stages.len() < stage {
            stages.push(serde_json::json!({ "approvers": [] }));
        }
        let copied = &mut stages[stage - 1];
        if let Some(approvers) = copied["approvers"].as_array_mut() {
            approvers.push(serde_json::json!({ "department": step["department"], "position": step["position"] }));
        }
        for setting in ["required", "time_limit_hours", "on_silence", "signatory"] {
            if !step[setting].is_null() {
                copied[setting] = step[setting].clone();
            }
        }
    }
    let defined = serde_json::json!({ "code": "clearance_sheet", "route": stages });
    let copy = crate::consumers::catalog_copy::CatalogCopy { store: store.clone() };
    onewindow_bus::EventHandler::handle(
        &copy,
        &catalog_event("service.defined", "service", "clearance_sheet", 1, defined),
    )
    .await
    .expect("the route copied");
    let mut event = submitted_by(applicant_id, route).await;
    event.payload["service_version"] = serde_json::json!(1);
    event
}

/// An event of `application_id`'s stream in applications' log, read back from it.
pub async fn application_event(event_type: &str, application_id: Uuid, payload: Value) -> RecordedEvent {
    produced(event_type, "application", &application_id.to_string(), payload, application_id).await
}

/// An event of the catalog's log: `version` events into the stream `stream_type/stream_id`. A `service.defined`
/// payload names only what the test is about: the rest of the definition is the catalog's defaults.
pub fn catalog_event(
    event_type: &str,
    stream_type: &str,
    stream_id: &str,
    version: i64,
    mut payload: Value,
) -> RecordedEvent {
    if event_type == onewindow_contracts::catalog::SERVICE_DEFINED {
        let mut definition =
            serde_json::to_value(onewindow_contracts::catalog::ServiceDefinition::default()).expect("a definition");
        if let (Some(whole), Some(given)) = (definition.as_object_mut(), payload.as_object()) {
            whole.extend(given.clone());
        }
        payload = definition;
    }
    RecordedEvent {
        position: Position::START,
        id: Uuid::now_v7(),
        stream: StreamRef::new(&org(), stream_type, stream_id),
        version,
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "admin".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    }
}

async fn produced(
    event_type: &str,
    stream_type: &str,
    stream_id: &str,
    payload: Value,
    correlation: Uuid,
) -> RecordedEvent {
    let log = onewindow_eventlog::open("sqlite::memory:").await.expect("the producer's log");
    let applicant_id = payload["applicant_id"].as_str().unwrap_or_default().to_owned();
    let event = NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        payload,
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: applicant_id,
            correlation_id: correlation,
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    };
    let stream = StreamRef::new(&org(), stream_type, stream_id);
    log.commit(Commit::append(stream, 0, vec![event])).await.expect("committed");
    let mut all = log.read_all(Position::START, 10).await.expect("read back");
    all.pop().expect("the event")
}

/// The clock tests set and move.
pub use onewindow_server::ManualClock as TestClock;

pub fn monday_eleven() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).single().expect("a valid time")
}

/// Identity's post holders, in memory (the real directory is identity's gRPC, tested in identity and end to end).
#[derive(Clone, Default)]
pub struct Directory {
    posts: Arc<Mutex<Vec<(String, String, crate::directory::Person)>>>,
    down: Arc<Mutex<bool>>,
}

impl Directory {
    /// Someone new holds `position` in `department`: their user id.
    pub fn add(&self, department: &str, position: &str, full_name: &str) -> Uuid {
        let person = crate::directory::Person { user_id: Uuid::now_v7(), full_name: full_name.into() };
        let id = person.user_id;
        self.posts.lock().expect("posts").push((department.into(), position.into(), person));
        id
    }

    /// Identity stops answering.
    pub fn fail(&self) {
        *self.down.lock().expect("down") = true;
    }
}

#[async_trait]
impl crate::directory::Directory for Directory {
    async fn holders(
        &self,
        _: &OrgId,
        department: &str,
        position: &str,
    ) -> anyhow::Result<Vec<crate::directory::Person>> {
        if *self.down.lock().expect("down") {
            anyhow::bail!("identity is unavailable");
        }
        let posts = self.posts.lock().expect("posts");
        Ok(posts
            .iter()
            .filter(|(d, p, _)| d == department && p == position)
            .map(|(_, _, person)| person.clone())
            .collect())
    }
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
