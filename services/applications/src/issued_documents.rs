//! Every document issued for an application: the receipts of its submission (the printed form, the notification of
//! acceptance) and its result, kept from documents' `document.issued` in a private stream
//! (`issued_documents/<application_id>`), so `GetApplication` lists each with its number, kind and id.

use std::sync::Arc;

use async_trait::async_trait;
use onewindow_bus::{EventHandler, HandleError, Subscription, read};
use onewindow_commands::{Command, run_command};
use onewindow_contracts::documents::DocumentEvent;
use onewindow_eventlog::{
    Aggregate, EventSchema, EventStore, Loaded, OrgId, RecordedEvent, StoreError, StreamRef, load,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const ISSUED_DOCUMENTS: &str = "issued_documents";
pub const CONSUMER: &str = "applications-issued-documents";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum IssuedDocumentEvent {
    #[serde(rename = "issued_documents.recorded")]
    Recorded(IssuedDocument),
}

impl EventSchema for IssuedDocumentEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedDocument {
    pub application_id: Uuid,
    pub document_id: Uuid,
    /// The kind's catalog name, e.g. `application_form`, `acceptance_notice`, `certificate_of_study`.
    pub document_type: String,
    pub registration_number: String,
    /// A receipt of the submission, not the result.
    pub receipt: bool,
}

/// An application's documents, in the order they were issued.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssuedDocuments(pub Vec<IssuedDocument>);

impl Aggregate for IssuedDocuments {
    type Event = IssuedDocumentEvent;

    fn apply(&mut self, event: &IssuedDocumentEvent, _: &RecordedEvent) {
        let IssuedDocumentEvent::Recorded(document) = event;
        if !self.0.iter().any(|d| d.document_id == document.document_id) {
            self.0.push(document.clone());
        }
    }
}

pub fn stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, ISSUED_DOCUMENTS, application_id.to_string())
}

pub async fn issued_documents_of(
    store: &dyn EventStore,
    org: &OrgId,
    application_id: Uuid,
) -> Result<IssuedDocuments, StoreError> {
    Ok(load::<IssuedDocuments>(store, &stream(org, application_id)).await?.state)
}

/// Records each document documents issues for one of our applications, once.
pub struct RecordIssuedDocuments {
    pub store: Arc<dyn EventStore>,
}

#[async_trait]
impl EventHandler for RecordIssuedDocuments {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "documents", event_types: crate::consumers::DOCUMENT_EVENTS.to_vec() }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        let DocumentEvent::Issued(issued) = read::<DocumentEvent>(event)? else { return Ok(()) };
        // A document of no application of ours (issued by hand) is not listed.
        let Ok(application_id) = Uuid::parse_str(&issued.application_id) else { return Ok(()) };
        let document = IssuedDocument {
            application_id,
            document_id: issued.document_id,
            document_type: issued.document_type.clone(),
            registration_number: issued.registration_number.clone(),
            receipt: issued.receipt,
        };
        let command = Command::reaction(stream(&event.stream.org, application_id), crate::SERVICE, CONSUMER, event);
        run_command(self.store.as_ref(), &command, |loaded: &Loaded<IssuedDocuments>| {
            let known = loaded.state.0.iter().any(|d| d.document_id == document.document_id);
            Ok::<_, String>(if known { Vec::new() } else { vec![IssuedDocumentEvent::Recorded(document.clone())] })
        })
        .await?;
        Ok(())
    }
}
