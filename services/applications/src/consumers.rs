//! What moves an application on from outside: routing's sheet and documents' issue.

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_commands::{Command, run_command};
use onewindow_eventlog::{EventStore, Loaded, RecordedEvent, StreamRef};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{APPLICATION, Application, ApprovalRecorded, Outside, react};

/// The fields of routing's and documents' payloads this service reads (a tolerant reader).
#[derive(Deserialize)]
struct Payload {
    application_id: Uuid,
    #[serde(default)]
    note: String,
    #[serde(default)]
    department: String,
    /// `sheet.opened`: the rows, each with the people resolved to decide it.
    #[serde(default)]
    rows: Vec<Row>,
    /// `sheet.opened`: when routing opened it.
    #[serde(default)]
    opened_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `sheet.row_decided`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    decided_by_id: Option<Uuid>,
    #[serde(default)]
    decided_by_name: String,
    #[serde(default)]
    acting_for_name: String,
    #[serde(default)]
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    document_id: Option<Uuid>,
    #[serde(default)]
    registration_number: String,
    /// `document.issued` of a receipt (the printed form, the notification of acceptance), not the result.
    #[serde(default)]
    receipt: bool,
    #[serde(default)]
    document_type: String,
}

#[derive(Deserialize)]
struct Row {
    #[serde(default)]
    approver_ids: Vec<Uuid>,
}

fn payload(event: &RecordedEvent) -> Result<Payload, HandleError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| HandleError::Poison(e.into()))
}

pub struct SheetProgress {
    pub store: Arc<dyn EventStore>,
}

#[async_trait]
impl EventHandler for SheetProgress {
    fn name(&self) -> &'static str {
        "applications-routing"
    }

    fn subscription(&self) -> Subscription {
        Subscription {
            service: "routing",
            event_types: vec!["sheet.opened", "sheet.row_decided", "sheet.approved", "sheet.rejected"],
        }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let p = payload(event)?;
        let outside = match event.event_type.as_str() {
            "sheet.opened" => {
                let mut approver_ids: Vec<Uuid> = p.rows.iter().flat_map(|r| r.approver_ids.iter().copied()).collect();
                approver_ids.sort();
                approver_ids.dedup();
                Outside::SheetOpened { approver_ids, opened_at: p.opened_at }
            }
            "sheet.row_decided" => Outside::RowDecided(ApprovalRecorded {
                application_id: p.application_id,
                department: p.department,
                approved: p.decision == "approved",
                decided_by_id: p.decided_by_id.unwrap_or_default(),
                decided_by_name: p.decided_by_name,
                acting_for_name: p.acting_for_name,
                note: p.note,
                decided_at: p.decided_at.unwrap_or(event.metadata.occurred_at),
            }),
            "sheet.approved" => Outside::SheetApproved,
            "sheet.rejected" => {
                let reason = if p.department.is_empty() { p.note } else { format!("{}: {}", p.department, p.note) };
                Outside::SheetRejected { reason }
            }
            other => return Err(HandleError::Poison(anyhow::anyhow!("unexpected event type {other}"))),
        };
        let stream = StreamRef::new(&event.stream.org, APPLICATION, p.application_id.to_string());
        react_and_commit(self.store.as_ref(), &stream, self.name(), event, outside).await
    }
}

pub struct DocumentIssued {
    pub store: Arc<dyn EventStore>,
}

#[async_trait]
impl EventHandler for DocumentIssued {
    fn name(&self) -> &'static str {
        "applications-documents"
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "documents", event_types: vec!["document.issued"] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let p = payload(event)?;
        let document_id =
            p.document_id.ok_or_else(|| HandleError::Poison(anyhow::anyhow!("document.issued without document_id")))?;
        // The application waits for its result; of the receipts of its submission only the form is kept (printing
        // serves it), and neither moves the application.
        let outside = match (p.receipt, p.document_type.as_str()) {
            (false, _) => Outside::DocumentIssued { document_id, document_number: p.registration_number },
            (true, "application_form") => {
                Outside::FormIssued { document_id, registration_number: p.registration_number }
            }
            (true, _) => return Ok(()),
        };
        let stream = StreamRef::new(&event.stream.org, APPLICATION, p.application_id.to_string());
        react_and_commit(self.store.as_ref(), &stream, self.name(), event, outside).await
    }
}

/// Applies an event-driven change to one application, with the consumer's inbox mark; the runner decides again
/// after a lost race. A reaction the application refuses cannot succeed on redelivery: poison.
async fn react_and_commit(
    store: &dyn EventStore,
    stream: &StreamRef,
    consumer: &'static str,
    cause: &onewindow_eventlog::RecordedEvent,
    outside: crate::domain::Outside,
) -> Result<(), onewindow_bus::HandleError> {
    let command = Command::reaction(stream.clone(), crate::SERVICE, consumer, cause);
    run_command(store, &command, |loaded: &Loaded<Application>| {
        react(&loaded.state, outside.clone()).map_err(|error| format!("{error} ({stream})"))
    })
    .await?;
    Ok(())
}
