//! Issuing one document, whatever caused it: a number from the journal, the PDF in all three languages, the
//! signatures, the files in the blob store, then one commit.
//!
//! The steps are ordered so a crash anywhere is harmless: the PDFs are rendered and stored under their own hashes
//! before the number is taken and anything is committed, and the journal entry, the document, its verification code (and, for a reissue, the
//! replaced document's pointer, and the consumer's inbox mark) are committed together. A replica that lost the
//! race for a number reads the journal again and renders with the next one.

use std::{sync::Arc, time::Instant};

use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use onewindow_blobs::BlobStore;
use onewindow_commands::{Attempt, Command, CommandError, RetryPolicy, encode_all, retry, run_command};
use onewindow_eventlog::{
    Commit, CommitOutcome, EventMetadata, EventStore, InboxMark, Loaded, NewEvent, OrgId, StoreError, StreamAppend,
    StreamRef, decode, encode, load,
};
use onewindow_server::{Clock, SystemClock};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    domain::{
        self, Content, Copy, DOCUMENT, Document, DocumentError, DocumentKind, Issued, JournalEvent, JournalKey,
        JournalPosition, Language, RegistrationNumber, Unit,
    },
    pdf,
    printing::{self, Registration},
    signing::{self, GeneratedKey, KEY_RING_ID, KeyEvent, KeyRing, QrClaims, SIGNING_KEYS},
    verification::{CodeEvent, VERIFICATION_CODE},
};

/// What to issue.
#[derive(Debug, Clone)]
pub struct IssueOrder {
    pub org: OrgId,
    pub document_id: Uuid,
    pub kind: DocumentKind,
    /// The issuing unit whose journal numbers it; `None` is the organisation's own journal.
    pub unit: Option<Unit>,
    pub application_id: String,
    pub holder_id: Uuid,
    /// The language the applicant chose: the copy downloaded by default.
    pub language: Language,
    pub content: Content,
    /// A reissue: the document it replaces, and why.
    pub replaces: Option<(Uuid, String)>,
}

#[derive(Debug)]
pub enum Outcome {
    Issued(Box<Issued>),
    /// The document existed already (a redelivery): nothing was done.
    Existing(Box<Issued>),
    /// The consumer had processed the cause already.
    AlreadyProcessed,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Refused(#[from] DocumentError),
    #[error("the document could not be rendered: {0}")]
    Render(anyhow::Error),
    #[error("storage is unavailable: {0}")]
    Unavailable(anyhow::Error),
}

impl From<StoreError> for IssueError {
    fn from(error: StoreError) -> Self {
        Self::Unavailable(error.into())
    }
}

/// The runner's outcome: the domain's refusal stays a refusal; a journal still contended after the runner's
/// attempts, like the store's failure, is worth trying again later.
impl From<CommandError<DocumentError>> for IssueError {
    fn from(error: CommandError<DocumentError>) -> Self {
        match error {
            CommandError::Refused(refusal) => Self::Refused(refusal),
            CommandError::Store(error) => error.into(),
            contended => Self::Unavailable(anyhow::anyhow!("no registration number: {contended}")),
        }
    }
}

pub struct Issuer {
    pub store: Arc<dyn EventStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// The base of verification links: `<base>/<org>/<code>`.
    pub verify_url: String,
    /// When documents are issued and keys generated (tests move it).
    clock: Arc<dyn Clock>,
}

impl Issuer {
    pub fn new(store: Arc<dyn EventStore>, blobs: Arc<dyn BlobStore>, verify_url: impl Into<String>) -> Self {
        let verify_url = verify_url.into().trim_end_matches('/').to_owned();
        Self { store, blobs, verify_url, clock: Arc::new(SystemClock) }
    }

    /// Issues with `clock` instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The time now, by this issuer's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Issues the document once. `inbox` marks the consumed event in the same commit.
    ///
    /// The copies are rendered and stored before the number is taken: the electronic copy prints no number (the
    /// seeds' rule) and its QR code carries the verification code, so a lost race for a number costs a re-read
    /// and a signature, not three renders.
    pub async fn issue(
        &self,
        order: &IssueOrder,
        metadata: &EventMetadata,
        inbox: Option<InboxMark>,
    ) -> Result<Outcome, IssueError> {
        let started = Instant::now();
        let org = &order.org;
        let stream = document_stream(org, order.document_id);
        let document = load::<Document>(self.store.as_ref(), &stream).await?;
        if let Some(existing) = document.state.issued {
            return Ok(Outcome::Existing(Box::new(existing)));
        }
        let keys = self.key_ring(org).await?;
        let signer = keys.active().ok_or_else(|| IssueError::Unavailable(anyhow::anyhow!("no signing key")))?;
        // Seconds: the QR code and the record signature state the time to the second.
        let now = self.now();
        let issued_at = now.with_nanosecond(0).unwrap_or(now);
        let code = domain::verification_code();
        let claims = QrClaims {
            verify_url: format!("{}/{org}/{code}", self.verify_url),
            title: order.kind.title(order.language).to_owned(),
            holder: order.content.holder.full_name.clone(),
            signed_at: issued_at,
            approvers: order.content.approvals.iter().map(|a| a.full_name.clone()).collect(),
            organization_id: org.to_string(),
            key_id: signer.public.key_id.clone(),
        };
        let qr_payload = signing::qr_payload(&claims, &signer);
        let copies = self.render_and_store(order, issued_at, &qr_payload, &signer.public.key_id).await?;
        let hashes: Vec<(&str, &str)> = copies.iter().map(|c| (c.language.as_str(), c.sha256.as_str())).collect();
        let chosen = copies
            .iter()
            .find(|c| c.language == order.language)
            .cloned()
            .ok_or_else(|| IssueError::Render(anyhow::anyhow!("no copy in the chosen language")))?;

        // The PDFs are ready: an attempt is a read and a commit. Each lost race means another issuer took the
        // number (or issued this very document, a redelivery on another replica), so the runner reads again.
        let (store, stream, copies, hashes, chosen) = (self.store.as_ref(), &stream, &copies, &hashes, &chosen);
        let (signer, code, qr_payload, inbox) = (&signer, &code, &qr_payload, &inbox);
        let issuing = retry(store, RetryPolicy::DEFAULT, move |attempt| async move {
            let document = load::<Document>(store, stream).await?;
            if let Some(existing) = document.state.issued {
                return Ok(Attempt::Answer(Outcome::Existing(Box::new(existing))));
            }
            let replaced = match &order.replaces {
                Some((id, reason)) => {
                    let loaded = load::<Document>(store, &document_stream(org, *id)).await?;
                    Some((*id, loaded, reason))
                }
                None => None,
            };
            let journal = JournalKey { unit: order.unit.clone(), kind: order.kind, year: issued_at.year() };
            let journal_stream = journal.stream(org);
            let position = journal_position(store, &journal_stream).await?;
            let number = position.next_number();
            let taken = domain::take_number(position, order.document_id);
            let registration_number = RegistrationNumber { org: org.clone(), journal, number }.to_string();
            let record =
                signing::record_message(&order.document_id.to_string(), &registration_number, hashes, issued_at);

            let issued = Issued {
                document_id: order.document_id,
                document_type: order.kind.as_str().to_owned(),
                receipt: order.kind.is_receipt(),
                application_id: order.application_id.clone(),
                holder_id: order.holder_id,
                holder_name: order.content.holder.full_name.clone(),
                registration_number: registration_number.clone(),
                title: order.kind.title(order.language).to_owned(),
                sha256: chosen.sha256.clone(),
                size_bytes: chosen.size_bytes,
                language: order.language,
                issued_at,
                blob_key: chosen.blob_key.clone(),
                signature: signer.sign(&record),
                key_id: signer.public.key_id.clone(),
                verification_code: code.clone(),
                copies: copies.clone(),
                replaces: order.replaces.as_ref().map(|(id, _)| *id),
                content: order.content.clone(),
                qr_payload: qr_payload.clone(),
            };
            let issue_events = domain::issue(&document.state, issued.clone()).map_err(CommandError::Refused)?;
            let mut appends = vec![
                StreamAppend {
                    stream: journal_stream.clone(),
                    expected_version: position.version,
                    events: encoded(&[taken], metadata)?,
                },
                StreamAppend { stream: stream.clone(), expected_version: 0, events: encoded(&issue_events, metadata)? },
                StreamAppend {
                    stream: StreamRef::new(org, VERIFICATION_CODE, code.clone()),
                    expected_version: 0,
                    events: encoded(&[CodeEvent::Assigned { document_id: order.document_id }], metadata)?,
                },
            ];
            if let Some((old_id, old, reason)) = &replaced {
                let events = domain::reissue(&old.state, order.document_id, &registration_number, reason)
                    .map_err(CommandError::Refused)?;
                appends.push(StreamAppend {
                    stream: document_stream(org, *old_id),
                    expected_version: old.version,
                    events: encoded(&events, metadata)?,
                });
            }
            tracing::debug!(document_id = %order.document_id, attempt, %registration_number, "taking the number");
            Ok(Attempt::Commit(Commit { appends, inbox: inbox.clone() }, Outcome::Issued(Box::new(issued))))
        })
        .await?;
        match (issuing.outcome, issuing.answer) {
            (CommitOutcome::Committed { .. }, Outcome::Issued(issued)) => {
                tracing::info!(document_id = %order.document_id, registration_number = %issued.registration_number,
                    attempts = issuing.attempts, elapsed_ms = started.elapsed().as_millis() as u64, "document issued");
                Ok(Outcome::Issued(issued))
            }
            (_, existing @ Outcome::Existing(_)) => Ok(existing),
            _ => Ok(Outcome::AlreadyProcessed),
        }
    }

    /// Renders every language's copy (CPU-bound: off the async workers) and stores each under its hash.
    async fn render_and_store(
        &self,
        order: &IssueOrder,
        issued_at: DateTime<Utc>,
        qr_payload: &str,
        key_id: &str,
    ) -> Result<Vec<Copy>, IssueError> {
        let organisation_name = domain::organisation_name(&order.org);
        let printed: Vec<(Language, pdf::Printed)> = Language::ALL
            .into_iter()
            .map(|language| {
                let registration = Registration {
                    organisation_name: &organisation_name,
                    printed_number: None,
                    issued_at,
                    qr_payload,
                    key_id,
                };
                (language, printing::printed(order.kind, &order.content, language, &registration))
            })
            .collect();
        let rendered = tokio::task::spawn_blocking(move || {
            printed
                .into_iter()
                .map(|(language, doc)| pdf::render(&doc).map(|bytes| (language, bytes)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| IssueError::Render(e.into()))?
        .map_err(|e| IssueError::Render(e.into()))?;
        let mut copies = Vec::with_capacity(rendered.len());
        for (language, bytes) in rendered {
            let sha256 = domain::sha256_hex(&bytes);
            let blob_key = domain::blob_key(&order.org, order.document_id, &sha256);
            let size_bytes = bytes.len() as i64;
            self.blobs.put(&blob_key, Bytes::from(bytes)).await.map_err(IssueError::Unavailable)?;
            copies.push(Copy { language, sha256, size_bytes, blob_key });
        }
        Ok(copies)
    }

    /// The organisation's signing keys, the first one generated on first use (replicas racing here agree on the
    /// winner's).
    pub async fn key_ring(&self, org: &OrgId) -> Result<KeyRing, IssueError> {
        let stream = key_ring_stream(org);
        let loaded = load::<KeyRing>(self.store.as_ref(), &stream).await?;
        if loaded.exists() {
            return Ok(loaded.state);
        }
        // The first key, generated here (not in the pure decision); a replica that wins the race keeps its own.
        let key = GeneratedKey::generate(self.now());
        let metadata = EventMetadata {
            occurred_at: self.now(),
            actor: "service:documents".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        };
        let command = Command::new(stream, metadata);
        let ran = run_command(self.store.as_ref(), &command, |ring: &Loaded<KeyRing>| {
            Ok::<_, DocumentError>(if ring.exists() { Vec::new() } else { vec![KeyEvent::Generated(key.clone())] })
        })
        .await?;
        if !ran.wrote() {
            return Ok(ran.decided_on.state);
        }
        Ok(load::<KeyRing>(self.store.as_ref(), &command.stream).await?.state)
    }
}

/// Appends a new signing key, generated `now`, to a ring read at `expected_version`: from then on it signs.
pub async fn rotate_key(
    store: &dyn EventStore,
    org: &OrgId,
    expected_version: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let key = GeneratedKey::generate(now);
    let key_id = key.key_id.clone();
    let metadata = EventMetadata {
        occurred_at: now,
        actor: actor.to_owned(),
        correlation_id: Uuid::now_v7(),
        causation_id: Uuid::now_v7(),
        trace_context: None,
    };
    let event = encode(&KeyEvent::Generated(key), &metadata).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.commit(Commit::append(key_ring_stream(org), expected_version, vec![event])).await?;
    Ok(key_id)
}

pub fn key_ring_stream(org: &OrgId) -> StreamRef {
    StreamRef::new(org, SIGNING_KEYS, KEY_RING_ID)
}

pub fn document_stream(org: &OrgId, id: Uuid) -> StreamRef {
    StreamRef::new(org, DOCUMENT, id.to_string())
}

/// A journal's version and whether it continues a paper journal: two reads, however long the journal is.
pub async fn journal_position(store: &dyn EventStore, journal: &StreamRef) -> Result<JournalPosition, StoreError> {
    let version = store.stream_version(journal).await?;
    let first = if version > 0 { store.read_event(journal, 1).await? } else { None };
    let first: Option<JournalEvent> = match first {
        Some(recorded) => Some(decode(&recorded).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        None => None,
    };
    Ok(JournalPosition { version, last_paper_number: domain::last_paper_number(first.as_ref()) })
}

fn encoded<E: Serialize + onewindow_eventlog::EventSchema>(
    events: &[E],
    metadata: &EventMetadata,
) -> Result<Vec<NewEvent>, StoreError> {
    Ok(encode_all(events, metadata)?)
}
