//! Issuing: when routing approves a sheet whose service issues a document, the document is registered in the
//! journal, rendered, stored and recorded, once.
//!
//! The steps are ordered so a crash anywhere is harmless: the PDF is stored under its own hash before anything is
//! committed, and the journal number, the document and the consumer's inbox mark are committed together. A
//! redelivered approval finds the document (its id is derived from the application) and does nothing; a replica
//! that lost the race for a number reads the journal again and renders with the next one.

use std::{sync::Arc, time::Instant};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Datelike, Utc};
use onewindow_bus::{EventHandler, HandleError, Subscription};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, NewEvent, RecordedEvent, StoreError, StreamAppend,
    StreamRef, encode, load,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    SERVICE,
    blobs::BlobStore,
    domain::{self, DOCUMENT, Document, DocumentKind, Issued, JOURNAL, Language, RegistrationNumber, take_number},
    pdf::{self, Printed},
};

pub const CONSUMER: &str = "documents-routing";

/// Attempts at taking a number before giving the event back to the bus: each lost race means another issuer got
/// a number, so this many concurrent issuers of one journal always get through.
const ATTEMPTS: u32 = 10;

/// `sheet.approved`, read for what issuing needs (docs/EVENTS.md).
#[derive(Debug, Deserialize)]
struct SheetApproved {
    application_id: String,
    applicant_id: Uuid,
    applicant_name: String,
    issues_document: String,
    #[serde(default)]
    document_language: String,
    #[serde(default)]
    approvals: Vec<ApprovalGiven>,
}

#[derive(Debug, Deserialize)]
struct ApprovalGiven {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    decided_at: Option<DateTime<Utc>>,
}

/// The consumer of routing's approvals.
pub struct IssueOnApproval {
    store: Arc<dyn EventStore>,
    blobs: Arc<dyn BlobStore>,
}

impl IssueOnApproval {
    pub fn new(store: Arc<dyn EventStore>, blobs: Arc<dyn BlobStore>) -> Self {
        Self { store, blobs }
    }
}

fn poison(error: impl Into<anyhow::Error>) -> HandleError {
    HandleError::Poison(error.into())
}

fn transient(error: impl Into<anyhow::Error>) -> HandleError {
    HandleError::Transient(error.into())
}

#[async_trait]
impl EventHandler for IssueOnApproval {
    fn name(&self) -> &'static str {
        CONSUMER
    }

    fn subscription(&self) -> Subscription {
        Subscription { service: "routing", event_types: vec!["sheet.approved"] }
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandleError> {
        // Most services issue nothing: look at that before asking anything else of the payload.
        let issues = event.payload.get("issues_document").and_then(|v| v.as_str()).unwrap_or_default();
        if issues.is_empty() {
            return Ok(());
        }
        let approved: SheetApproved = serde_json::from_value(event.payload.clone()).map_err(poison)?;
        let kind = DocumentKind::parse(&approved.issues_document).map_err(poison)?;
        let language = Language::parse(&approved.document_language).map_err(poison)?;
        if approved.application_id.trim().is_empty() {
            return Err(poison(anyhow::anyhow!("sheet.approved without an application_id")));
        }

        let started = Instant::now();
        let org = &event.stream.org;
        let document_id = domain::document_id(org, &approved.application_id, kind);
        let document_stream = StreamRef::new(org, DOCUMENT, document_id.to_string());
        let issued_at = Utc::now();
        let journal_stream = StreamRef::new(org, JOURNAL, kind.journal_id(issued_at.year()));
        let metadata = onewindow_server::reaction_metadata(SERVICE, event);

        for attempt in 1..=ATTEMPTS {
            let document = load::<Document>(self.store.as_ref(), &document_stream).await.map_err(transient)?;
            if document.exists() {
                return Ok(());
            }
            // Only the journal's version is needed: it is the last number taken.
            let journal_version = self.store.stream_version(&journal_stream).await.map_err(transient)?;
            let taken = take_number(journal_version, document_id);
            let domain::JournalEvent::NumberTaken { number, .. } = taken;
            let registration_number =
                RegistrationNumber { org: org.clone(), kind, year: issued_at.year(), number }.to_string();

            let certificate = certificate(&approved, event, language, &registration_number, issued_at);
            // Rendering is CPU-bound (font subsetting, compression): off the async workers.
            let rendered = tokio::task::spawn_blocking(move || pdf::render(&certificate))
                .await
                .map_err(poison)?
                .map_err(poison)?;
            let sha256 = domain::sha256_hex(&rendered);
            let size_bytes = rendered.len() as i64;
            let blob_key = domain::blob_key(org, document_id, &sha256);
            self.blobs.put(&blob_key, Bytes::from(rendered)).await.map_err(transient)?;

            let issued = Issued {
                document_id,
                application_id: approved.application_id.clone(),
                holder_id: approved.applicant_id,
                holder_name: approved.applicant_name.clone(),
                registration_number: registration_number.clone(),
                title: kind.title(language).to_owned(),
                sha256,
                size_bytes,
                language,
                issued_at,
                blob_key,
            };
            let issued = domain::issue(&document.state, issued).map_err(poison)?;
            // The number, the document and the inbox mark, all or nothing.
            let commit = Commit {
                appends: vec![
                    StreamAppend {
                        stream: journal_stream.clone(),
                        expected_version: journal_version,
                        events: encoded(&[taken], &metadata)?,
                    },
                    StreamAppend {
                        stream: document_stream.clone(),
                        expected_version: 0,
                        events: encoded(&issued, &metadata)?,
                    },
                ],
                inbox: Some(InboxMark { consumer: CONSUMER.into(), event_id: event.id }),
            };

            match self.store.commit(commit).await {
                Ok(CommitOutcome::Committed { .. }) => {
                    tracing::info!(%document_id, %registration_number, attempt, elapsed_ms = started.elapsed().as_millis() as u64, "document issued");
                    return Ok(());
                }
                Ok(CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing) => return Ok(()),
                Err(StoreError::Concurrency { .. }) => {
                    tracing::debug!(%document_id, attempt, "the number was taken meanwhile; reading the journal again");
                }
                Err(error) => return Err(transient(error)),
            }
        }
        Err(transient(anyhow::anyhow!("no registration number after {ATTEMPTS} attempts: the journal is contended")))
    }
}

fn encoded<E: Serialize>(events: &[E], metadata: &EventMetadata) -> Result<Vec<NewEvent>, HandleError> {
    events.iter().map(|e| encode(e, 1, metadata).map_err(poison)).collect()
}

/// What the electronic copy of a certificate of study prints.
fn certificate(
    approved: &SheetApproved,
    event: &RecordedEvent,
    language: Language,
    registration_number: &str,
    issued_at: DateTime<Utc>,
) -> Printed {
    let org = &event.stream.org;
    Printed {
        language: match language {
            Language::Kk => pdf::Language::Kk,
            Language::Ru => pdf::Language::Ru,
            Language::En => pdf::Language::En,
        },
        organisation_name: domain::organisation_name(org),
        registration_number: registration_number.to_owned(),
        // The number is printed only on the paper form; the electronic copy carries it in the QR code.
        printed_form: false,
        issued_at,
        signed_by: None,
        qr_payload: format!("onewindow:verify:{org}:{registration_number}"),
        body: pdf::Body::CertificateOfStudy(pdf::CertificateOfStudy {
            // The personal card's details come with a later version of the event.
            holder: pdf::Holder { full_name: approved.applicant_name.clone(), ..Default::default() },
            purpose: String::new(),
            approvals: approved
            .approvals
            .iter()
            .map(|a| pdf::Approval {
                full_name: a.full_name.clone(),
                position: a.position.clone(),
                department: a.department.clone(),
                decided_at: a.decided_at.unwrap_or(event.metadata.occurred_at),
                acting_for: String::new(),
            })
            .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use onewindow_eventlog::OrgId;

    use super::*;
    use crate::testing::{Setup, org, sheet_approved};

    const CS: &str = "certificate_of_study";

    fn journal_stream(org: &OrgId) -> StreamRef {
        StreamRef::new(org, JOURNAL, DocumentKind::CertificateOfStudy.journal_id(Utc::now().year()))
    }

    async fn issued(setup: &Setup, org: &OrgId, application_id: &str) -> Issued {
        let id = domain::document_id(org, application_id, DocumentKind::CertificateOfStudy);
        let stream = StreamRef::new(org, DOCUMENT, id.to_string());
        let document = load::<Document>(setup.store.as_ref(), &stream).await.expect("load");
        assert_eq!(document.version, 1, "one document.issued");
        document.state.issued.expect("issued")
    }

    #[tokio::test]
    async fn an_approved_sheet_gets_its_document() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let applicant = Uuid::now_v7();
        let event = sheet_approved(&kaznu, "app-1", applicant, CS, "ru");
        setup.handler().handle(&event).await.expect("issued");

        let issued = issued(&setup, &kaznu, "app-1").await;
        let year = Utc::now().year();
        assert_eq!(issued.registration_number, format!("KAZNU-CS-{year}-000001"));
        assert_eq!(issued.holder_id, applicant);
        assert_eq!(issued.holder_name, "Aruzhan Serikovna Nurlanova");
        assert_eq!(issued.title, "Справка об обучении");
        assert_eq!(issued.language, Language::Ru);
        assert_eq!(issued.application_id, "app-1");
        assert!(issued.blob_key.starts_with("kaznu/") && issued.blob_key.ends_with(&format!("{}.pdf", issued.sha256)));

        let pdf = setup.blobs.get(&issued.blob_key).await.expect("get").expect("the PDF is stored");
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(domain::sha256_hex(&pdf), issued.sha256);
        assert_eq!(pdf.len() as i64, issued.size_bytes);

        // The journal and the document are the events of the contract, caused by the approval.
        let journal = setup.store.read_stream(&journal_stream(&kaznu)).await.expect("journal");
        assert_eq!(journal.len(), 1);
        assert_eq!(journal[0].event_type, "journal.number_taken");
        assert_eq!(journal[0].payload["number"], 1);
        assert_eq!(journal[0].payload["document_id"], issued.document_id.to_string());
        assert_eq!(journal[0].metadata.causation_id, event.id);
        assert_eq!(journal[0].metadata.correlation_id, event.metadata.correlation_id);
        assert_eq!(journal[0].metadata.actor, "service:documents");
        let document = setup
            .store
            .read_stream(&StreamRef::new(&kaznu, DOCUMENT, issued.document_id.to_string()))
            .await
            .expect("document");
        let keys: BTreeSet<_> = document[0].payload.as_object().expect("object").keys().cloned().collect();
        let contract: BTreeSet<String> = [
            "document_id",
            "application_id",
            "holder_id",
            "holder_name",
            "registration_number",
            "title",
            "sha256",
            "size_bytes",
            "language",
            "issued_at",
            "blob_key",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(keys, contract);
        assert_eq!(document[0].payload["language"], "ru");
    }

    #[tokio::test]
    async fn a_redelivered_approval_issues_nothing_more() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let event = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "kk");
        let handler = setup.handler();
        handler.handle(&event).await.expect("first delivery");
        let first = issued(&setup, &kaznu, "app-1").await;
        handler.handle(&event).await.expect("redelivery");
        // The same approval published again under another id (a replayed log) finds the document too.
        let mut replayed = event.clone();
        replayed.id = Uuid::now_v7();
        handler.handle(&replayed).await.expect("replay");

        assert_eq!(issued(&setup, &kaznu, "app-1").await, first);
        let journal_version = setup.store.stream_version(&journal_stream(&kaznu)).await.expect("journal");
        assert_eq!(journal_version, 1, "no second number");
    }

    #[tokio::test]
    async fn numbers_are_gapless_per_journal() {
        let setup = Setup::in_memory().await;
        let (kaznu, kaznmu) = (org("kaznu"), org("kaznmu"));
        let handler = setup.handler();
        for (org, app) in [(&kaznu, "app-1"), (&kaznu, "app-2"), (&kaznmu, "app-3")] {
            handler.handle(&sheet_approved(org, app, Uuid::now_v7(), CS, "en")).await.expect("issued");
        }
        let year = Utc::now().year();
        assert_eq!(issued(&setup, &kaznu, "app-1").await.registration_number, format!("KAZNU-CS-{year}-000001"));
        assert_eq!(issued(&setup, &kaznu, "app-2").await.registration_number, format!("KAZNU-CS-{year}-000002"));
        // Each organisation has its own journal.
        assert_eq!(issued(&setup, &kaznmu, "app-3").await.registration_number, format!("KAZNMU-CS-{year}-000001"));
    }

    #[tokio::test]
    async fn a_sheet_without_a_document_is_left_alone() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let mut event = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), "", "");
        event.payload = serde_json::json!({ "application_id": "app-1", "issues_document": "" });
        setup.handler().handle(&event).await.expect("nothing to do");
        assert!(setup.store.read_stream(&journal_stream(&kaznu)).await.expect("journal").is_empty());
    }

    #[tokio::test]
    async fn undecodable_approvals_are_poison() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let handler = setup.handler();
        let mut missing_applicant = sheet_approved(&kaznu, "app-1", Uuid::now_v7(), CS, "en");
        missing_applicant.payload.as_object_mut().expect("object").remove("applicant_id");
        let unknown_kind = sheet_approved(&kaznu, "app-2", Uuid::now_v7(), "diploma", "en");
        let unknown_language = sheet_approved(&kaznu, "app-3", Uuid::now_v7(), CS, "de");
        for event in [missing_applicant, unknown_kind, unknown_language] {
            assert!(matches!(handler.handle(&event).await, Err(HandleError::Poison(_))), "{}", event.payload);
        }
        assert!(setup.store.read_stream(&journal_stream(&kaznu)).await.expect("journal").is_empty());
    }

    /// Ten replicas issue for ten applications at once, on a log several connections write to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_issuers_take_unique_gapless_numbers() {
        let setup = Setup::on_file().await;
        let kaznu = org("kaznu");
        let tasks = (1..=10).map(|i| {
            let handler = setup.handler();
            let event = sheet_approved(&kaznu, &format!("app-{i}"), Uuid::now_v7(), CS, "en");
            tokio::spawn(async move { handler.handle(&event).await })
        });
        for result in futures::future::join_all(tasks).await {
            result.expect("no panic").expect("issued");
        }
        let mut numbers = Vec::new();
        for i in 1..=10 {
            let issued = issued(&setup, &kaznu, &format!("app-{i}")).await;
            let number = RegistrationNumber::parse(&issued.registration_number).expect("number").number;
            let entry = setup.store.read_event(&journal_stream(&kaznu), number).await.expect("read").expect("entry");
            let domain::JournalEvent::NumberTaken { document_id, .. } =
                onewindow_eventlog::decode(&entry).expect("decode");
            assert_eq!(document_id, issued.document_id, "the journal points back");
            numbers.push(number);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
    }

    /// `cargo test -p onewindow-documents -- --ignored --nocapture issuing_timing`
    #[tokio::test]
    #[ignore]
    async fn issuing_timing() {
        let setup = Setup::in_memory().await;
        let kaznu = org("kaznu");
        let handler = setup.handler();
        handler.handle(&sheet_approved(&kaznu, "warm-up", Uuid::now_v7(), CS, "kk")).await.expect("warm-up");
        let runs = 20;
        let started = Instant::now();
        for i in 0..runs {
            handler
                .handle(&sheet_approved(&kaznu, &format!("app-{i}"), Uuid::now_v7(), CS, "kk"))
                .await
                .expect("issued");
        }
        println!("{:?} per certificate (load, number, render, store, commit)", started.elapsed() / runs);
    }
}
