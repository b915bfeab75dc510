//! What routing does with the applications service's events: a submitted (or, where the service says so, an
//! accepted) application gets its approval sheet; a withdrawn or refused one has its sheet closed.
//!
//! The route is routing's own copy of the catalog's version the application was submitted under (with time limits,
//! silence, the signatory stage, people named outright); a submission that arrives before that copy is retried
//! until it is there. Approvers named by department and position are resolved to people through identity as the sheet opens.
//! A service whose sheet opens on acceptance has its submission kept (`submission/<application_id>`, never
//! published) until `application.accepted`.

use std::{convert::Infallible, sync::Arc};

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_commands::{Command, run_command};
use onewindow_contracts::applications::{ACCEPTED, ApplicationEvent, REFUSED, SUBMITTED, Submitted, WITHDRAWN};
use onewindow_eventlog::{
    Aggregate, EventSchema, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, UpcastError, load,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    Clock, SERVICE,
    consumers::catalog_copy::{OpensOn, calendar_of, copied_route},
    directory::Directory,
    sheet::{ApplicationSummary, OpenSheet, RouteStep, Sheet, decide_close, decide_open, sheet_stream},
};

/// The durable consumer's name, and the key of its inbox records.
pub const CONSUMER: &str = "routing-applications";
/// Submissions waiting for acceptance before their sheet opens.
pub const SUBMISSION: &str = "submission";

/// The applications' events routing reacts to.
pub const SUBSCRIBES: &[&str] = &[SUBMITTED, ACCEPTED, WITHDRAWN, REFUSED];

/// A submission kept until acceptance: the contract's `application.submitted`. Version 1 kept routing's own
/// reading of it (`document_language` `""` for none, no `email`, `service_version` possibly a string).
const SUBMISSION_AS_SUBMITTED: i32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
enum SubmissionEvent {
    #[serde(rename = "submission.recorded")]
    Recorded(Box<Submitted>),
}

impl EventSchema for SubmissionEvent {
    fn schema_version(_: &str) -> i32 {
        SUBMISSION_AS_SUBMITTED
    }

    fn upcast(event_type: &str, from: i32, mut payload: Value) -> Result<Value, UpcastError> {
        let unexpected = |problem: &str| UpcastError::Unexpected {
            event_type: event_type.to_owned(),
            from,
            problem: problem.to_owned(),
        };
        let fields = payload.as_object_mut().ok_or_else(|| unexpected("not an object"))?;
        if fields.get("document_language").and_then(Value::as_str) == Some("") {
            fields.insert("document_language".into(), Value::Null);
        }
        let version = match fields.get("service_version") {
            Some(Value::String(text)) => text.parse::<i64>().map_err(|_| unexpected("service_version"))?,
            Some(Value::Number(number)) => number.as_i64().ok_or_else(|| unexpected("service_version"))?,
            _ => 0,
        };
        fields.insert("service_version".into(), Value::from(version));
        fields.entry("email").or_insert_with(|| Value::String(String::new()));
        Ok(payload)
    }
}

#[derive(Debug, Default)]
struct Submission(Option<Submitted>);

impl Aggregate for Submission {
    type Event = SubmissionEvent;
    fn apply(&mut self, event: &SubmissionEvent, _: &RecordedEvent) {
        let SubmissionEvent::Recorded(s) = event;
        self.0 = Some(s.as_ref().clone());
    }
}

/// What the sheet carries of the submitted application.
fn summary(submitted: &Submitted) -> ApplicationSummary {
    ApplicationSummary {
        application_id: submitted.application_id,
        number: submitted.number.clone(),
        applicant_id: submitted.applicant_id,
        applicant_name: submitted.applicant_name.clone(),
        service_code: submitted.service_code.clone(),
        service_name: submitted.service_name.clone(),
        issues_document: submitted.issues_document.clone(),
        document_language: submitted.document_language,
    }
}

/// A route as applications copied it (no catalog version to read routing's own copy from).
fn submitted_route(submitted: &Submitted) -> Vec<RouteStep> {
    submitted
        .route
        .iter()
        .map(|step| RouteStep {
            stage: step.stage as i32,
            department: step.department.clone(),
            position: step.position.clone(),
            required: step.required,
            ..RouteStep::default()
        })
        .collect()
}

/// Opens and closes sheets, once each.
pub struct ApplicationEvents {
    store: Arc<dyn EventStore>,
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
}

fn transient(context: &'static str) -> impl Fn(StoreError) -> HandleError {
    move |e| HandleError::Transient(anyhow::Error::new(e).context(context))
}

impl ApplicationEvents {
    pub fn new(store: Arc<dyn EventStore>, directory: Arc<dyn Directory>, clock: Arc<dyn Clock>) -> Self {
        Self { store, directory, clock }
    }

    /// The application's route: the copied catalog version's where it has arrived, with its people resolved.
    async fn route(&self, org: &OrgId, submitted: &Submitted) -> Result<(Vec<RouteStep>, OpensOn), HandleError> {
        let version = submitted.service_version;
        let copy = match version {
            1.. => copied_route(self.store.as_ref(), org, &submitted.service_code, version)
                .await
                .map_err(transient("reading the route copy"))?,
            _ => None,
        };
        let (mut steps, opens_on) = match copy {
            Some(copy) => {
                let steps = copy
                    .route
                    .iter()
                    .enumerate()
                    .flat_map(|(i, stage)| {
                        stage.approvers.iter().map(move |a| RouteStep {
                            stage: i as i32 + 1,
                            department: a.department.clone(),
                            position: a.position.clone(),
                            required: stage.required,
                            approver_ids: a.person_id.into_iter().collect(),
                            time_limit_hours: stage.time_limit_hours,
                            on_silence: stage.on_silence.into(),
                            signatory: stage.signatory,
                            ..RouteStep::default()
                        })
                    })
                    .collect();
                (steps, copy.route_opens_on)
            }
            // The catalog's version has not reached routing yet: try again shortly rather than open the sheet
            // without its stage settings (signatory, time limits, people named outright).
            None if version > 0 => {
                return Err(HandleError::Transient(anyhow::anyhow!(
                    "routing has no copy of {} version {version} yet",
                    submitted.service_code,
                )));
            }
            // No catalog version to read: the route the application copied is all there is.
            None => (submitted_route(submitted), OpensOn::Submitted),
        };
        for step in steps.iter_mut().filter(|s| s.approver_ids.is_empty() && !s.position.trim().is_empty()) {
            let people = self
                .directory
                .holders(org, &step.department, &step.position)
                .await
                .map_err(|e| HandleError::Transient(e.context("asking identity who holds the post")))?;
            // Nobody holds the post: the row stays open to the department's approvers.
            step.approver_ids = people.iter().map(|p| p.user_id).collect();
            step.approver_names = people.into_iter().map(|p| p.full_name).collect();
        }
        Ok((steps, opens_on))
    }

    async fn open(
        &self,
        event: &RecordedEvent,
        submitted: Submitted,
        route: Vec<RouteStep>,
    ) -> Result<(), HandleError> {
        let org = &event.stream.org;
        let application_id = submitted.application_id;
        let calendar = calendar_of(self.store.as_ref(), org).await.map_err(transient("reading the calendar"))?;
        let command = OpenSheet { application: summary(&submitted), route, now: self.clock.now() };
        let reaction = Command::reaction(sheet_stream(org, application_id), SERVICE, CONSUMER, event);
        // A sheet that exists already was opened by another event about the same application: nothing to add.
        let ran = run_command(self.store.as_ref(), &reaction, |sheet: &Loaded<Sheet>| {
            if sheet.exists() {
                return Ok(Vec::new());
            }
            decide_open(command.clone(), &calendar).map_err(|e| format!("opening the sheet: {e}"))
        })
        .await?;
        if ran.wrote() {
            tracing::info!(%application_id, "approval sheet opened");
        } else {
            tracing::debug!(%application_id, "the sheet exists already");
        }
        Ok(())
    }

    async fn submitted(&self, event: &RecordedEvent, submitted: Submitted) -> Result<(), HandleError> {
        let (route, opens_on) = self.route(&event.stream.org, &submitted).await?;
        match opens_on {
            OpensOn::Submitted => self.open(event, submitted, route).await,
            OpensOn::Accepted => {
                let stream = StreamRef::new(&event.stream.org, SUBMISSION, submitted.application_id.to_string());
                let reaction = Command::reaction(stream, SERVICE, CONSUMER, event);
                let submitted = Box::new(submitted);
                // Kept once: a second submission of the same application leaves the first in place.
                run_command(self.store.as_ref(), &reaction, |kept: &Loaded<Submission>| {
                    Ok::<_, Infallible>(if kept.exists() {
                        Vec::new()
                    } else {
                        vec![SubmissionEvent::Recorded(submitted.clone())]
                    })
                })
                .await?;
                Ok(())
            }
        }
    }

    async fn accepted(&self, event: &RecordedEvent, application_id: Uuid) -> Result<(), HandleError> {
        let stream = StreamRef::new(&event.stream.org, SUBMISSION, application_id.to_string());
        let kept =
            load::<Submission>(self.store.as_ref(), &stream).await.map_err(transient("reading the submission"))?;
        // A service whose sheet opened on submission: acceptance changes nothing here.
        let Some(submitted) = kept.state.0 else { return Ok(()) };
        // Resolved now, as the sheet opens: whoever holds the post at acceptance decides.
        let (route, _) = self.route(&event.stream.org, &submitted).await?;
        self.open(event, submitted, route).await
    }

    async fn ended(
        &self,
        event: &RecordedEvent,
        application_id: Uuid,
        how: &str,
        given: &str,
    ) -> Result<(), HandleError> {
        let stream = sheet_stream(&event.stream.org, application_id);
        let reason = if given.trim().is_empty() { how.to_owned() } else { format!("{how}: {}", given.trim()) };
        let reaction = Command::reaction(stream, SERVICE, CONSUMER, event);
        run_command(self.store.as_ref(), &reaction, |sheet: &Loaded<Sheet>| {
            Ok::<_, Infallible>(decide_close(&sheet.state, &reason))
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl EventHandler for ApplicationEvents {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: SUBSCRIBES.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        match read::<ApplicationEvent>(event)? {
            ApplicationEvent::Submitted(submitted) => self.submitted(event, *submitted).await,
            ApplicationEvent::Accepted { application_id, .. } => self.accepted(event, application_id).await,
            ApplicationEvent::Withdrawn(withdrawn) => {
                self.ended(event, withdrawn.application_id, "withdrawn", &withdrawn.reason).await
            }
            ApplicationEvent::Refused { application_id, reason, .. } => {
                self.ended(event, application_id, "refused", &reason).await
            }
            _ => Ok(()),
        }
    }
}

/// The kept submission a stream folds into, shown in the shape routing's own reading of `application.submitted`
/// had before the contract (kept `submission.recorded` v1): the stored-log test checks that every fact it held is
/// still read, now through the upcaster into the contract's `Submitted`.
#[cfg(test)]
pub(crate) fn stored_state_as_read_before(events: &[RecordedEvent]) -> String {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct ApplicationSubmitted {
        application_id: Uuid,
        applicant_id: Uuid,
        number: String,
        applicant_name: String,
        service_code: String,
        service_version: serde_json::Value,
        service_name: String,
        issues_document: String,
        document_language: String,
        route: Vec<RouteStep>,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Submission(Option<ApplicationSubmitted>);
    let kept = onewindow_eventlog::fold::<self::Submission>(events.to_vec()).expect("folds").state.0;
    let as_before = kept.map(|s| ApplicationSubmitted {
        application_id: s.application_id,
        applicant_id: s.applicant_id,
        number: s.number.clone(),
        applicant_name: s.applicant_name.clone(),
        service_code: s.service_code.clone(),
        service_version: serde_json::Value::from(s.service_version),
        service_name: s.service_name.clone(),
        issues_document: s.issues_document.clone(),
        document_language: s.document_language.map_or("", onewindow_contracts::Language::as_str).to_owned(),
        route: submitted_route(&s),
    });
    format!("{:#?}", Submission(as_before))
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::{Position, load};
    use serde_json::json;

    use super::*;
    use crate::{
        consumers::catalog_copy::CatalogCopy,
        sheet::SheetStatus,
        testing::{
            Directory as People, ORG, TestClock, application_event, catalog_event, monday_eleven, org, submitted,
        },
    };

    fn handler(store: &Arc<dyn EventStore>, people: &People) -> ApplicationEvents {
        ApplicationEvents::new(store.clone(), Arc::new(people.clone()), Arc::new(TestClock::new(monday_eleven())))
    }

    async fn store() -> Arc<dyn EventStore> {
        onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store")
    }

    #[tokio::test]
    async fn a_service_that_issues_no_document_gets_its_sheet() {
        // Applications writes `"document_language": null` when the service issues no document.
        let mut event = submitted(json!([{ "stage": 1, "department": "registrar", "position": "Registrar" }])).await;
        event.payload["issues_document"] = json!("");
        event.payload["document_language"] = json!(null);
        let store = store().await;
        handler(&store, &People::default()).handle(&event).await.expect("opened, not parked");
        let application_id = Uuid::parse_str(&event.stream.stream_id).expect("a UUID");
        let sheet = load::<Sheet>(store.as_ref(), &sheet_stream(&org(), application_id)).await.expect("sheet");
        assert_eq!(sheet.state.status, SheetStatus::Open);
        assert_eq!(sheet.state.application.document_language, None);
    }

    #[tokio::test]
    async fn a_redelivered_submission_opens_one_sheet() {
        let event = submitted(json!([
            { "stage": 1, "department": "library", "position": "Librarian" },
            { "stage": 1, "department": "dormitory", "position": "Head of dormitory" },
        ]))
        .await;
        let store = store().await;
        let handler = handler(&store, &People::default());

        handler.handle(&event).await.expect("first delivery");
        handler.handle(&event).await.expect("redelivery");

        let application_id = Uuid::parse_str(&event.stream.stream_id).expect("a UUID");
        let stream = sheet_stream(&org(), application_id);
        let recorded = store.read_stream(&stream).await.expect("the sheet's stream");
        let types: Vec<&str> = recorded.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["sheet.opened"]);
        let opened = &recorded[0];
        assert_eq!(opened.stream.org.as_str(), ORG);
        assert_eq!(opened.metadata.actor, "service:routing");
        assert_eq!(opened.metadata.causation_id, event.id);
        assert_eq!(opened.metadata.correlation_id, event.metadata.correlation_id);

        let sheet = load::<Sheet>(store.as_ref(), &stream).await.expect("the sheet").state;
        assert_eq!(sheet.status, SheetStatus::Open);
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.application.number, "KZ-2026-000042");
        assert!(
            sheet.awaits("library") && sheet.awaits("dormitory"),
            "nobody holds these posts: the departments decide"
        );
    }

    #[tokio::test]
    async fn the_holders_of_a_post_are_recorded_on_its_row() {
        let people = People::default();
        let librarian = people.add("library", "Librarian", "Saule Librarian");
        let event = submitted(json!([
            { "stage": 1, "department": "library", "position": "Librarian" },
            { "stage": 1, "department": "dormitory", "position": "Head of dormitory" },
        ]))
        .await;
        let store = store().await;
        handler(&store, &people).handle(&event).await.expect("opened");
        let recorded = store.read_stream(&sheet_stream(&org(), application_id(&event))).await.expect("stream");
        assert_eq!(recorded[0].payload["rows"][0]["approver_ids"], json!([librarian]));
        assert_eq!(recorded[0].payload["rows"][0]["approver_names"], json!(["Saule Librarian"]));
        assert_eq!(recorded[0].payload["rows"][1]["approver_ids"], json!([]), "nobody holds it: empty");
        assert!(recorded[0].payload["opened_at"].is_string());
    }

    fn application_id(event: &RecordedEvent) -> Uuid {
        Uuid::parse_str(&event.stream.stream_id).expect("a UUID")
    }

    #[tokio::test]
    async fn the_catalog_copy_gives_the_route_its_settings_and_may_open_it_on_acceptance() {
        let store = store().await;
        let person = Uuid::now_v7();
        let defined = catalog_event(
            "service.defined",
            "service",
            "clearance_sheet",
            3,
            json!({
                "code": "clearance_sheet", "route_opens_on": "accepted",
                "route": [
                    { "approvers": [{ "department": "library", "position": "Librarian" }], "time_limit_hours": 8 },
                    { "approvers": [{ "department": "rectorate", "position": "vice-rector", "person_id": person }],
                      "signatory": true },
                ],
            }),
        );
        let mut event = submitted(json!([{ "stage": 1, "department": "library", "position": "Librarian" }])).await;
        event.payload["service_version"] = json!(3);
        let handler = handler(&store, &People::default());
        // Before the catalog's version reaches routing, the submission waits (it is delivered again).
        assert!(matches!(handler.handle(&event).await, Err(HandleError::Transient(_))), "no copy yet: retried later");
        assert!(store.read_stream(&sheet_stream(&org(), application_id(&event))).await.expect("stream").is_empty());
        CatalogCopy { store: store.clone() }.handle(&defined).await.expect("copied");
        handler.handle(&event).await.expect("kept for acceptance");
        let id = application_id(&event);
        assert!(store.read_stream(&sheet_stream(&org(), id)).await.expect("stream").is_empty(), "not opened yet");

        let accepted = application_event(
            "application.accepted",
            id,
            json!({ "application_id": id, "executor_id": Uuid::now_v7(), "executor_name": "Dana",
                    "accepted_by_id": Uuid::now_v7(), "accepted_by_name": "Dana" }),
        )
        .await;
        handler.handle(&accepted).await.expect("opened on acceptance");
        handler.handle(&accepted).await.expect("redelivered");
        let sheet = load::<Sheet>(store.as_ref(), &sheet_stream(&org(), id)).await.expect("sheet");
        assert_eq!(sheet.version, 1);
        let rows = &sheet.state.rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].step.time_limit_hours, 8);
        assert!(rows[0].step.deadline_at.is_some(), "the first stage's deadline is on sheet.opened");
        assert!(rows[1].step.signatory);
        assert_eq!(rows[1].step.approver_ids, [person], "a person named outright");
    }

    #[tokio::test]
    async fn a_withdrawn_or_refused_application_closes_its_sheet_once() {
        let store = store().await;
        let handler = handler(&store, &People::default());
        let event = submitted(json!([{ "stage": 1, "department": "library", "position": "Librarian" }])).await;
        handler.handle(&event).await.expect("opened");
        let id = application_id(&event);
        let withdrawn = application_event(
            "application.withdrawn",
            id,
            json!({ "application_id": id, "number": "KZ-2026-000042", "applicant_id": Uuid::now_v7(),
                    "reason": "Changed my mind", "from_status": "submitted", "notify": [] }),
        )
        .await;
        handler.handle(&withdrawn).await.expect("closed");
        handler.handle(&withdrawn).await.expect("redelivered");
        let refused =
            application_event("application.refused", id, json!({ "application_id": id, "reason": "late" })).await;
        handler.handle(&refused).await.expect("already closed: nothing");
        let recorded = store.read_stream(&sheet_stream(&org(), id)).await.expect("stream");
        let types: Vec<&str> = recorded.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["sheet.opened", "sheet.closed"]);
        assert_eq!(recorded[1].payload, json!({ "application_id": id, "reason": "withdrawn: Changed my mind" }));

        // An application that never had a sheet: nothing to close.
        let other = Uuid::now_v7();
        let refused =
            application_event("application.refused", other, json!({ "application_id": other, "reason": "" })).await;
        handler.handle(&refused).await.expect("nothing");
        assert!(store.read_stream(&sheet_stream(&org(), other)).await.expect("stream").is_empty());
    }

    #[tokio::test]
    async fn a_second_submission_of_the_same_application_leaves_its_sheet_alone() {
        let event = submitted(json!([{ "stage": 1, "department": "library", "position": "Librarian" }])).await;
        let store = store().await;
        let handler = handler(&store, &People::default());
        handler.handle(&event).await.expect("first submission");

        let again = RecordedEvent { id: Uuid::now_v7(), position: Position::START, ..event.clone() };
        handler.handle(&again).await.expect("another event about the same application");

        let recorded = store.read_stream(&sheet_stream(&org(), application_id(&event))).await.expect("the stream");
        assert_eq!(recorded.len(), 1);
    }

    #[tokio::test]
    async fn an_empty_route_is_approved_as_it_opens() {
        let event = submitted(json!([])).await;
        let store = store().await;
        handler(&store, &People::default()).handle(&event).await.expect("handled");

        let recorded = store.read_stream(&sheet_stream(&org(), application_id(&event))).await.expect("the stream");
        let types: Vec<&str> = recorded.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["sheet.opened", "sheet.approved"]);
        assert_eq!(recorded[1].payload["approvals"], json!([]));
        assert_eq!(recorded[1].payload["issues_document"], "certificate_of_study");
    }

    #[tokio::test]
    async fn an_undecodable_submission_is_poison() {
        let mut event = submitted(json!([])).await;
        event.payload = json!({ "application_id": "not a uuid" });
        let outcome = handler(&store().await, &People::default()).handle(&event).await;
        assert!(matches!(outcome, Err(HandleError::Poison(_))), "{outcome:?}");

        let event = submitted(json!([{ "stage": 0, "department": "library" }])).await;
        let outcome = handler(&store().await, &People::default()).handle(&event).await;
        assert!(matches!(outcome, Err(HandleError::Poison(_))), "{outcome:?}");
    }

    #[tokio::test]
    async fn identity_out_of_reach_is_retried_later() {
        let event = submitted(json!([{ "stage": 1, "department": "library", "position": "Librarian" }])).await;
        let people = People::default();
        people.fail();
        let outcome = handler(&store().await, &people).handle(&event).await;
        assert!(matches!(outcome, Err(HandleError::Transient(_))), "{outcome:?}");
    }
}
