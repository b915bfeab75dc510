//! What moves an application on from outside: routing's sheet and documents' issue.

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_commands::{Command, run_command};
use onewindow_contracts::{
    documents::{self, DocumentEvent},
    sheet::{self, Decision, SheetEvent},
};
use onewindow_eventlog::{EventStore, Loaded, RecordedEvent, StreamRef};
use uuid::Uuid;

use crate::domain::{APPLICATION, Application, ApprovalRecorded, Outside, react};

/// Routing's events that move an application.
pub const SHEET_EVENTS: &[&str] = &[sheet::OPENED, sheet::ROW_DECIDED, sheet::APPROVED, sheet::REJECTED];
/// Documents' events that move an application.
pub const DOCUMENT_EVENTS: &[&str] = &[documents::ISSUED];

pub struct SheetProgress {
    pub store: Arc<dyn EventStore>,
}

#[async_trait]
impl EventHandler for SheetProgress {
    fn name(&self) -> &'static str {
        "applications-routing"
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "routing", event_types: SHEET_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let sheet_event = read::<SheetEvent>(event)?;
        let application_id = sheet_event.application_id();
        let outside = match sheet_event {
            SheetEvent::Opened(opened) => {
                let mut approver_ids: Vec<Uuid> =
                    opened.rows.iter().flat_map(|r| r.approver_ids.iter().copied()).collect();
                approver_ids.sort();
                approver_ids.dedup();
                Outside::SheetOpened { approver_ids, opened_at: opened.opened_at }
            }
            SheetEvent::RowDecided(decided) => Outside::RowDecided(ApprovalRecorded {
                application_id,
                department: decided.department,
                approved: decided.decision == Decision::Approve,
                decided_by_id: decided.decided_by_id,
                decided_by_name: decided.decided_by_name,
                acting_for_name: decided.acting_for_name,
                note: decided.note,
                decided_at: decided.decided_at,
            }),
            SheetEvent::Approved(_) => Outside::SheetApproved,
            SheetEvent::Rejected(rejected) => {
                let reason = if rejected.department.is_empty() {
                    rejected.note
                } else {
                    format!("{}: {}", rejected.department, rejected.note)
                };
                Outside::SheetRejected { reason }
            }
            _ => return Ok(()),
        };
        let stream = StreamRef::new(&event.stream.org, APPLICATION, application_id.to_string());
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
        Subscription { service: "documents", event_types: DOCUMENT_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let DocumentEvent::Issued(issued) = read::<DocumentEvent>(event)? else { return Ok(()) };
        let application_id = Uuid::parse_str(&issued.application_id).map_err(|e| {
            HandleError::Poison(anyhow::Error::new(e).context("document.issued names no application of ours"))
        })?;
        let document_id = issued.document_id;
        // The application waits for its result; of the receipts of its submission only the form is kept (printing
        // serves it), and neither moves the application.
        let outside = match (issued.receipt, issued.document_type.as_str()) {
            (false, _) => Outside::DocumentIssued { document_id, document_number: issued.registration_number.clone() },
            (true, "application_form") => {
                Outside::FormIssued { document_id, registration_number: issued.registration_number.clone() }
            }
            (true, _) => return Ok(()),
        };
        let stream = StreamRef::new(&event.stream.org, APPLICATION, application_id.to_string());
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
