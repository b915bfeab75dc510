//! The public event contract for integrators: applications' status changes as CloudEvents 1.0 (JSON, structured
//! mode), pure, so every mapping is checked without a broker.
//!
//! Only ids, numbers and statuses leave: no names, e-mail addresses, IINs or free-text reasons (a refusal's
//! reason is written by staff about a person). `docs/asyncapi.yaml` describes exactly this shape and a test
//! validates what is mapped here against it.

use chrono::{DateTime, Utc};
use onewindow_contracts::applications::{self, ApplicationEvent};
use onewindow_eventlog::{EventCodecError, RecordedEvent, decode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::derived_id;

/// The CloudEvents `type` of every status change; the `.v1` changes only with an incompatible schema.
pub const STATUS_CHANGED: &str = "kz.onewindow.application.status_changed.v1";
/// The `schemaversion` extension: the version of the `data` schema within `v1` (additive changes raise it).
pub const SCHEMA_VERSION: u32 = 1;
/// The `dataschema` attribute: the schema's name in `docs/asyncapi.yaml` (`components.schemas`).
pub const DATA_SCHEMA: &str = "urn:onewindow:schema:ApplicationStatusChangedData:1";
/// The subjects every public event is published on: `onewindow.public.v1.<org>.application.<status>`.
pub const SUBJECTS: &str = "onewindow.public.v1.>";
/// The JetStream stream keeping the public events, for replay from any point in time.
pub const STREAM: &str = "ONEWINDOW_PUBLIC";

/// The internal events (applications' log) that are status changes, with the public status each one means.
pub const STATUS_OF: &[(&str, Status)] = &[
    (applications::SUBMITTED, Status::Submitted),
    (applications::ACCEPTED, Status::Accepted),
    (applications::WORK_STARTED, Status::InWork),
    (applications::COMPLETED, Status::Completed),
    (applications::ISSUED, Status::Issued),
    (applications::REFUSED, Status::Refused),
    (applications::WITHDRAWN, Status::Withdrawn),
];

/// The internal event types the public events are made from: what the public consumers subscribe to.
pub fn status_types() -> Vec<&'static str> {
    STATUS_OF.iter().map(|(event_type, _)| *event_type).collect()
}

/// An application's public status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered and accepted for processing.
    Submitted,
    /// Taken into work by an executor.
    Accepted,
    /// On its approval sheet.
    InWork,
    /// Every approval given.
    Completed,
    /// The resulting document issued.
    Issued,
    Refused,
    /// Withdrawn by the applicant.
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::InWork => "in_work",
            Status::Completed => "completed",
            Status::Issued => "issued",
            Status::Refused => "refused",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// A CloudEvent 1.0 in the JSON format (structured mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    pub specversion: String,
    /// Derived from the internal event's id: a republished event keeps it (receivers deduplicate by it).
    pub id: Uuid,
    /// `/onewindow/<organization>/applications`.
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `application/<application_id>`.
    pub subject: String,
    pub time: DateTime<Utc>,
    pub datacontenttype: String,
    pub dataschema: String,
    /// Extension: the `data` schema's version.
    pub schemaversion: u32,
    /// Extension: the organisation (tenant), also the fourth token of the NATS subject.
    pub organization: String,
    /// Extension: the application's version after this change, so receivers can order and skip stale events.
    pub sequence: i64,
    pub data: StatusChangedData,
}

/// `data` of `kz.onewindow.application.status_changed.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChangedData {
    pub application_id: String,
    pub status: Status,
    /// The registered number (`submitted` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_number: Option<String>,
    /// The catalog's code of the ordered service (`submitted` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<String>,
    /// The issued document (`issued` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
}

impl CloudEvent {
    /// The NATS subject it is published on.
    pub fn nats_subject(&self) -> String {
        format!("onewindow.public.v1.{}.application.{}", self.organization, self.data.status.as_str())
    }
}

/// The public status change an internal event announces; `None` for every other event. An application event
/// that does not decode is an error (the consumer parks it), never a silently missing public event.
pub fn status_changed(event: &RecordedEvent) -> Result<Option<CloudEvent>, EventCodecError> {
    let Some(status) = STATUS_OF.iter().find(|(t, _)| *t == event.event_type).map(|(_, s)| *s) else {
        return Ok(None);
    };
    let application_event = decode::<ApplicationEvent>(event)?;
    let application_id = application_event.application_id().to_string();
    let (application_number, service_code, document_id, document_number) = match application_event {
        ApplicationEvent::Submitted(submitted) => {
            (Some(submitted.number), Some(submitted.service_code).filter(|c| !c.is_empty()), None, None)
        }
        ApplicationEvent::Issued { document_id, document_number, .. } => {
            (None, None, document_id.map(|id| id.to_string()), Some(document_number).filter(|n| !n.is_empty()))
        }
        _ => (None, None, None, None),
    };
    let org = event.stream.org.to_string();
    Ok(Some(CloudEvent {
        specversion: "1.0".into(),
        id: public_event_id(event.id),
        source: format!("/onewindow/{org}/applications"),
        event_type: STATUS_CHANGED.into(),
        subject: format!("application/{application_id}"),
        time: event.metadata.occurred_at,
        datacontenttype: "application/json".into(),
        dataschema: DATA_SCHEMA.into(),
        schemaversion: SCHEMA_VERSION,
        organization: org,
        sequence: event.version,
        data: StatusChangedData {
            application_id,
            status,
            application_number: application_number.filter(|n| !n.is_empty()),
            service_code,
            document_id,
            document_number,
        },
    }))
}

/// The public event's id: derived from the internal event's, so a redelivery publishes the same id (JetStream's
/// `Nats-Msg-Id` deduplication, receivers' own), and the internal id is not exposed.
pub fn public_event_id(source_event_id: Uuid) -> Uuid {
    derived_id(Uuid::NAMESPACE_X500, source_event_id)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use onewindow_eventlog::{EventMetadata, OrgId, Position, StreamRef};
    use serde_json::{Value, json};

    use super::*;

    /// `event` as applications records it at `version` of the application's stream.
    pub(crate) fn application_event(application_id: Uuid, version: i64, event: &ApplicationEvent) -> RecordedEvent {
        let metadata = EventMetadata {
            occurred_at: Utc::now(),
            actor: "service:test".into(),
            correlation_id: application_id,
            causation_id: application_id,
            trace_context: None,
        };
        let stream = StreamRef::new(&OrgId::parse("kaznu").expect("org"), "application", application_id.to_string());
        let new = onewindow_eventlog::encode(event, &metadata).expect("encodes");
        RecordedEvent::from_new(new, stream, version, Position::START)
    }

    /// Whether `event` announces a public status change, and which.
    fn public(event: &RecordedEvent) -> Option<CloudEvent> {
        status_changed(event).expect("an application event decodes")
    }

    /// An application's whole life as applications records it, with the personal data its events carry.
    pub(crate) fn life(application_id: Uuid) -> Vec<RecordedEvent> {
        let submitted = applications::Submitted {
            application_id,
            number: "KAZNU-2026-000123".into(),
            applicant_id: Uuid::now_v7(),
            applicant_name: "Aruzhan Serikova".into(),
            service_code: "certificate-of-study".into(),
            service_version: 3,
            service_name: "Справка об обучении".into(),
            route: Vec::new(),
            issues_document: "certificate_of_study".into(),
            document_language: Some(onewindow_contracts::Language::Kk),
            email: "a@example.kz".into(),
            service_names: Default::default(),
            reason: "for the military office".into(),
            office: "registrar".into(),
            planned_at: None,
        };
        let dana = Uuid::now_v7();
        [
            ApplicationEvent::Submitted(Box::new(submitted)),
            ApplicationEvent::Accepted {
                application_id,
                executor_id: dana,
                executor_name: "Dana Executor".into(),
                accepted_by_id: dana,
                accepted_by_name: "Dana Executor".into(),
            },
            ApplicationEvent::WorkStarted { application_id, approver_ids: vec![dana], opened_at: None },
            ApplicationEvent::Completed { application_id, completed_by_name: String::new() },
            ApplicationEvent::Issued {
                application_id,
                document_id: Some(Uuid::now_v7()),
                document_number: "KAZNU-CS-2026-000001".into(),
                issued_by_name: String::new(),
            },
        ]
        .iter()
        .zip(2..)
        .map(|(event, version)| application_event(application_id, version, event))
        .collect()
    }

    #[test]
    fn each_status_change_is_one_cloud_event_without_personal_data() {
        let id = Uuid::now_v7();
        let events: Vec<CloudEvent> = life(id).iter().filter_map(public).collect();
        let statuses: Vec<&str> = events.iter().map(|e| e.data.status.as_str()).collect();
        assert_eq!(statuses, ["submitted", "accepted", "in_work", "completed", "issued"]);
        let submitted = &events[0];
        assert_eq!((submitted.specversion.as_str(), submitted.event_type.as_str()), ("1.0", STATUS_CHANGED));
        assert_eq!(submitted.nats_subject(), "onewindow.public.v1.kaznu.application.submitted");
        assert_eq!(submitted.source, "/onewindow/kaznu/applications");
        assert_eq!(submitted.subject, format!("application/{id}"));
        assert_eq!(submitted.data.application_number.as_deref(), Some("KAZNU-2026-000123"));
        assert_eq!(submitted.data.service_code.as_deref(), Some("certificate-of-study"));
        assert_eq!(events[4].data.document_number.as_deref(), Some("KAZNU-CS-2026-000001"));
        assert_eq!(events[2].nats_subject(), "onewindow.public.v1.kaznu.application.in_work");
        assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
        let json = serde_json::to_string(&events).expect("json");
        for personal in ["Aruzhan", "a@example.kz", "Dana", "military", "Справка", "executor_id"] {
            assert!(!json.contains(personal), "{personal} leaked: {json}");
        }
    }

    #[test]
    fn ids_are_stable_and_other_events_are_not_public() {
        let id = Uuid::now_v7();
        let event = &life(id)[0];
        assert_eq!(public(event).map(|e| e.id), public(event).map(|e| e.id));
        assert_ne!(public(event).map(|e| e.id), Some(event.id));
        let refused = ApplicationEvent::Refused {
            application_id: id,
            reason: "the student was expelled".into(),
            refused_by_id: Some(Uuid::now_v7()),
            refused_by_name: "Dana Executor".into(),
        };
        let public_refusal = public(&application_event(id, 4, &refused)).expect("public");
        assert_eq!(public_refusal.data.status, Status::Refused);
        assert!(!serde_json::to_string(&public_refusal).expect("json").contains("expelled"));
        let commented = ApplicationEvent::DraftDeleted { application_id: id };
        assert!(public(&application_event(id, 1, &commented)).is_none());
    }

    #[test]
    fn an_undecodable_status_change_is_an_error_not_a_silence() {
        let id = Uuid::now_v7();
        let mut event = life(id).remove(0);
        event.payload = json!({ "application_id": id });
        assert!(status_changed(&event).is_err());
    }

    /// The document as compiled in (the build cache is shared by checkouts at other paths: a path read at run
    /// time could name another checkout's copy).
    const ASYNCAPI: &str = include_str!("../../../docs/asyncapi.yaml");

    /// The JSON schema of the public event, as `docs/asyncapi.yaml` declares it.
    pub(crate) fn asyncapi_validator() -> jsonschema::Validator {
        let document: Value = serde_norway::from_str(ASYNCAPI).expect("YAML");
        assert_eq!(document["asyncapi"], "3.0.0");
        let message = &document["components"]["messages"]["ApplicationStatusChanged"];
        assert_eq!(message["name"], STATUS_CHANGED, "the document names the type we publish");
        assert_eq!(message["payload"]["$ref"], "#/components/schemas/ApplicationStatusChanged");
        let schema = json!({
            "$ref": "#/components/schemas/ApplicationStatusChanged",
            "components": { "schemas": document["components"]["schemas"].clone() },
        });
        jsonschema::options().should_validate_formats(true).build(&schema).expect("a valid JSON schema")
    }

    #[test]
    fn what_is_published_matches_the_asyncapi_document() {
        let validator = asyncapi_validator();
        let id = Uuid::now_v7();
        let mut events: Vec<CloudEvent> = life(id).iter().filter_map(public).collect();
        let withdrawn = ApplicationEvent::Withdrawn(applications::Withdrawn {
            application_id: id,
            number: "KAZNU-2026-000123".into(),
            applicant_id: Uuid::now_v7(),
            reason: "moved".into(),
            from_status: applications::Status::InWork,
            notify: vec![applications::Recipient { user_id: Uuid::now_v7(), role: "executor".into() }],
        });
        events.extend(public(&application_event(id, 7, &withdrawn)));
        assert_eq!(events.len(), 6);
        for event in &events {
            let json = serde_json::to_value(event).expect("json");
            let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{json:#}: {errors:?}");
        }
        // The schema is strict enough to catch a leak or a wrong shape.
        let mut leaked = serde_json::to_value(&events[0]).expect("json");
        leaked["data"]["applicant_name"] = json!("Aruzhan Serikova");
        assert!(!validator.is_valid(&leaked));
        let mut unknown_status = serde_json::to_value(&events[0]).expect("json");
        unknown_status["data"]["status"] = json!("lost");
        assert!(!validator.is_valid(&unknown_status));
        let mut not_a_time = serde_json::to_value(&events[0]).expect("json");
        not_a_time["time"] = json!("yesterday");
        assert!(!validator.is_valid(&not_a_time));
        // The document's example is valid too.
        let document: Value = serde_norway::from_str(ASYNCAPI).expect("YAML");
        let example = &document["components"]["messages"]["ApplicationStatusChanged"]["examples"][0]["payload"];
        assert!(validator.is_valid(example), "{example:#}");
    }
}
