//! What routing does with the applications service's events: a submitted application gets its approval sheet.

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{Commit, CommitOutcome, EventStore, InboxMark, RecordedEvent, StoreError, encode};
use onewindow_server::reaction_metadata;
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    SERVICE,
    domain::{ApplicationSummary, OpenSheet, RouteStep, decide_open, sheet_stream},
};

/// The durable consumer's name, and the key of its inbox records.
pub const CONSUMER: &str = "routing-applications";

const SUBMITTED: &str = "application.submitted";

/// The part of `application.submitted` routing needs. Everything but the ids may be missing (proto3 JSON leaves
/// out empty values) and unknown fields are ignored, so applications can add to its payload freely.
#[derive(Debug, Deserialize)]
struct ApplicationSubmitted {
    application_id: Uuid,
    applicant_id: Uuid,
    #[serde(default)]
    number: String,
    #[serde(default)]
    applicant_name: String,
    #[serde(default)]
    service_code: String,
    #[serde(default)]
    service_name: String,
    #[serde(default)]
    issues_document: String,
    #[serde(default)]
    document_language: String,
    #[serde(default)]
    route: Vec<RouteStep>,
}

impl From<ApplicationSubmitted> for OpenSheet {
    fn from(s: ApplicationSubmitted) -> Self {
        OpenSheet {
            application: ApplicationSummary {
                application_id: s.application_id,
                number: s.number,
                applicant_id: s.applicant_id,
                applicant_name: s.applicant_name,
                service_code: s.service_code,
                service_name: s.service_name,
                issues_document: s.issues_document,
                document_language: s.document_language,
            },
            route: s.route,
        }
    }
}

/// Opens the sheet of every submitted application, once.
pub struct SubmittedApplications {
    store: Arc<dyn EventStore>,
}

impl SubmittedApplications {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl EventHandler for SubmittedApplications {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "applications", event_types: vec![SUBMITTED] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        if event.event_type != SUBMITTED {
            return Ok(());
        }
        let submitted: ApplicationSubmitted = serde_json::from_value(event.payload.clone())
            .map_err(|e| HandleError::Poison(anyhow::Error::new(e).context("decoding application.submitted")))?;
        let application_id = submitted.application_id;
        let events = decide_open(submitted.into())
            .map_err(|e| HandleError::Poison(anyhow::Error::new(e).context("opening the sheet")))?;
        let metadata = reaction_metadata(SERVICE, event);
        let events = events
            .iter()
            .map(|e| encode(e, 1, &metadata))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| HandleError::Poison(anyhow::Error::new(e).context("encoding the sheet's events")))?;
        let count = events.len();
        let stream = sheet_stream(&event.stream.org, application_id);
        let commit =
            Commit::append(stream, 0, events).with_inbox(InboxMark { consumer: CONSUMER.into(), event_id: event.id });
        match self.store.commit(commit).await {
            Ok(CommitOutcome::Committed { .. }) => {
                tracing::info!(%application_id, events = count, "approval sheet opened");
                Ok(())
            }
            Ok(CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => {
                tracing::debug!(%application_id, "redelivered: the sheet was opened before");
                Ok(())
            }
            // The sheet's stream exists: another event about the same application opened it already.
            Err(StoreError::Concurrency { .. }) => {
                tracing::debug!(%application_id, "the sheet exists already");
                Ok(())
            }
            Err(error) => Err(HandleError::Transient(anyhow::Error::new(error).context("opening the sheet"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::{Position, load};
    use serde_json::json;

    use super::*;
    use crate::{
        domain::{Sheet, SheetStatus},
        fixtures::{ORG, org, submitted},
    };

    #[tokio::test]
    async fn a_redelivered_submission_opens_one_sheet() {
        let event = submitted(json!([
            { "stage": 1, "department": "library", "position": "Librarian" },
            { "stage": 1, "department": "dormitory", "position": "Head of dormitory" },
        ]))
        .await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
        let handler = SubmittedApplications::new(store.clone());

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
        assert!(sheet.awaits("library") && sheet.awaits("dormitory"));
    }

    #[tokio::test]
    async fn a_second_submission_of_the_same_application_leaves_its_sheet_alone() {
        let event = submitted(json!([{ "stage": 1, "department": "library", "position": "Librarian" }])).await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
        let handler = SubmittedApplications::new(store.clone());
        handler.handle(&event).await.expect("first submission");

        let again = RecordedEvent { id: Uuid::now_v7(), position: Position::START, ..event.clone() };
        handler.handle(&again).await.expect("another event about the same application");

        let application_id = Uuid::parse_str(&event.stream.stream_id).expect("a UUID");
        let recorded = store.read_stream(&sheet_stream(&org(), application_id)).await.expect("the stream");
        assert_eq!(recorded.len(), 1);
    }

    #[tokio::test]
    async fn an_empty_route_is_approved_as_it_opens() {
        let event = submitted(json!([])).await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
        SubmittedApplications::new(store.clone()).handle(&event).await.expect("handled");

        let application_id = Uuid::parse_str(&event.stream.stream_id).expect("a UUID");
        let recorded = store.read_stream(&sheet_stream(&org(), application_id)).await.expect("the stream");
        let types: Vec<&str> = recorded.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["sheet.opened", "sheet.approved"]);
        assert_eq!(recorded[1].payload["approvals"], json!([]));
        assert_eq!(recorded[1].payload["issues_document"], "certificate_of_study");
    }

    #[tokio::test]
    async fn an_undecodable_submission_is_poison() {
        let mut event = submitted(json!([])).await;
        event.payload = json!({ "application_id": "not a uuid" });
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
        let outcome = SubmittedApplications::new(store).handle(&event).await;
        assert!(matches!(outcome, Err(HandleError::Poison(_))), "{outcome:?}");

        let event = submitted(json!([{ "stage": 0, "department": "library" }])).await;
        let store = onewindow_eventlog::open("sqlite::memory:").await.expect("routing's store");
        let outcome = SubmittedApplications::new(store).handle(&event).await;
        assert!(matches!(outcome, Err(HandleError::Poison(_))), "{outcome:?}");
    }
}
