//! The documents gRPC API: a document's record and PDFs for its holder and staff, revocation and reissue, the
//! journals, the signing keys, and the public verification.

use std::{pin::Pin, sync::Arc};

use bytes::Bytes;
use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_blobs::BlobStore;
use onewindow_eventlog::{Commit, EventStore, OrgId, StoreError, StreamRef, decode, encode, load};
use onewindow_proto::documents::v1::{self as pb, DocumentStatus, documents_service_server::DocumentsService};
use onewindow_server::{FieldErrors, NetworkLimiter, caller_address, network_of, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        self, Document, DocumentError, DocumentKind, Issued, JournalEvent, JournalKey, Language, RegistrationNumber,
        Status as DocStatus, Unit, is_staff, mask_name, may_read, sha256_hex,
    },
    issuer::{self, IssueError, IssueOrder, Issuer, Outcome, document_stream, journal_position, key_ring_stream},
    printing,
    signing::{self, KeyRing, PublicKey},
    verification::{self, Method, Recorded, VERIFICATION},
};

mod verify;

use verify::{Found, Target, target};

/// gRPC messages stay well under the 4 MiB default limit, and a client sees progress on a slow link.
const CHUNK: usize = 64 * 1024;
/// Journal entries listed at once by default, and at most.
const JOURNAL_PAGE: i32 = 100;
const JOURNAL_PAGE_MAX: i32 = 500;

pub struct DocumentsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) issuer: Arc<Issuer>,
    pub(crate) limiter: Arc<NetworkLimiter>,
    /// Behind a gateway the caller's address is the first of `x-forwarded-for`; only trusted when configured.
    pub(crate) trust_forwarded_for: bool,
}

impl From<DocumentError> for Status {
    fn from(error: DocumentError) -> Self {
        let message = error.to_string();
        match error {
            DocumentError::InvalidRegistrationNumber => FieldErrors::one("registration_number", message),
            DocumentError::UnknownKind(_) => FieldErrors::one("journal.document_type", message),
            DocumentError::InvalidUnit(_) => FieldErrors::one("journal.issuing_unit", message),
            DocumentError::UnknownLanguage(_) => FieldErrors::one("language", message),
            DocumentError::InvalidPaperNumber => FieldErrors::one("last_paper_number", message),
            DocumentError::ReasonRequired => FieldErrors::one("reason", message),
            DocumentError::NotFound => Status::not_found(message),
            DocumentError::NotAllowed => Status::permission_denied(message),
            DocumentError::AlreadyIssued | DocumentError::JournalStarted { .. } | DocumentError::NotValid(_) => {
                Status::failed_precondition(message)
            }
        }
    }
}

impl From<IssueError> for Status {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::Refused(error) => error.into(),
            IssueError::Render(error) => {
                tracing::error!(error = format!("{error:#}"), "rendering failed");
                Status::internal("the document could not be rendered")
            }
            IssueError::Unavailable(error) => {
                tracing::warn!(error = format!("{error:#}"), "issuing failed");
                Status::unavailable("storage is unavailable, try again")
            }
        }
    }
}

/// A write that lost a race: the caller reads again and decides again.
fn commit_status(error: StoreError) -> Status {
    match error {
        StoreError::Concurrency { .. } => Status::aborted("changed by someone else meanwhile: read it again and retry"),
        other => store_status(other),
    }
}

/// A blob store that failed or lost a file: ours to fix, so it is logged; the caller may retry.
fn blob_status(error: anyhow::Error) -> Status {
    tracing::error!(error = format!("{error:#}"), "blob store failure");
    Status::unavailable("the document's file is unavailable, try again")
}

fn status_pb(status: DocStatus) -> DocumentStatus {
    match status {
        DocStatus::Valid => DocumentStatus::Valid,
        DocStatus::Revoked => DocumentStatus::Revoked,
        DocStatus::Reissued => DocumentStatus::Reissued,
    }
}

fn document_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one("document_id", "must be a document id (a UUID)"))
}

fn signing_key_pb(key: &PublicKey, active: bool) -> pb::SigningKey {
    use base64::Engine;
    pb::SigningKey {
        key_id: key.key_id.clone(),
        algorithm: "Ed25519".into(),
        public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.key.as_bytes()),
        created_at: Some(onewindow_proto::timestamp(key.created_at)),
        active,
    }
}

fn keys_pb(ring: &KeyRing) -> Vec<pb::SigningKey> {
    let keys = ring.public_keys();
    let last = keys.len().saturating_sub(1);
    keys.iter().enumerate().map(|(i, key)| signing_key_pb(key, i == last)).collect()
}

/// Whether the document's record signature checks with the organisation's keys.
fn record_signature_valid(issued: &Issued, keys: &[PublicKey]) -> bool {
    let message = signing::record_message(
        &issued.document_id.to_string(),
        &issued.registration_number,
        &issued.hashes(),
        issued.issued_at,
    );
    !issued.signature.is_empty() && signing::verify(keys, &issued.key_id, &message, &issued.signature)
}

/// A journal named by a request: its kind, unit and year, each checked and named in `errors`.
fn journal_key(journal: Option<&pb::JournalRef>, errors: &mut FieldErrors) -> Option<JournalKey> {
    let Some(journal) = journal else {
        errors.check(false, "journal", "is required: document_type, issuing_unit (optional) and year");
        return None;
    };
    let kind = DocumentKind::parse(journal.document_type.trim());
    errors.check(kind.is_ok(), "journal.document_type", "must be a document type such as \"certificate_of_study\"");
    let unit = Unit::parse_optional(&journal.issuing_unit);
    errors.check(unit.is_ok(), "journal.issuing_unit", "must be up to 16 letters and digits, or empty");
    let year_ok = (2000..=2100).contains(&journal.year);
    errors.check(year_ok, "journal.year", "must be a year such as 2026");
    match (kind, unit) {
        (Ok(kind), Ok(unit)) if year_ok => Some(JournalKey { unit, kind, year: journal.year }),
        _ => None,
    }
}

/// A request's journal, or INVALID_ARGUMENT naming every field that is wrong.
fn valid_journal(journal: Option<&pb::JournalRef>, mut errors: FieldErrors) -> Result<JournalKey, Status> {
    let key = journal_key(journal, &mut errors);
    errors.into_result()?;
    key.ok_or_else(|| Status::invalid_argument("invalid journal"))
}

impl DocumentsApi {
    /// The document in `org`, or NOT_FOUND: another organisation's documents are not there at all.
    async fn document(&self, org: &OrgId, id: Uuid) -> Result<(Document, i64), Status> {
        let loaded = load::<Document>(self.store.as_ref(), &document_stream(org, id)).await.map_err(store_status)?;
        if loaded.state.issued.is_none() {
            return Err(DocumentError::NotFound.into());
        }
        Ok((loaded.state, loaded.version))
    }

    /// The document `raw_id` names, if `reader` may read it.
    pub(crate) async fn readable(&self, reader: &Principal, raw_id: &str) -> Result<(Document, i64), Status> {
        let id = document_id(raw_id)?;
        let (document, version) = self.document(&reader.org, id).await?;
        may_read(issued(&document)?, reader)?;
        Ok((document, version))
    }

    fn document_pb(&self, org: &OrgId, document: &Document) -> pb::Document {
        let Some(issued) = &document.issued else { return pb::Document::default() };
        pb::Document {
            id: issued.document_id.to_string(),
            organization_id: org.to_string(),
            application_id: issued.application_id.clone(),
            registration_number: issued.registration_number.clone(),
            title: issued.title.clone(),
            holder_id: issued.holder_id.to_string(),
            holder_name: issued.holder_name.clone(),
            language: issued.language.as_str().to_owned(),
            issued_at: Some(onewindow_proto::timestamp(issued.issued_at)),
            sha256: issued.sha256.clone(),
            size_bytes: issued.size_bytes,
            status: status_pb(document.status()) as i32,
            document_type: issued.document_type.clone(),
            languages: Language::ALL
                .into_iter()
                .filter(|l| issued.copy(*l).is_some())
                .map(|l| l.as_str().to_owned())
                .collect(),
            verification_url: if issued.verification_code.is_empty() {
                String::new()
            } else {
                format!("{}/{org}/{}", self.issuer.verify_url, issued.verification_code)
            },
            key_id: issued.key_id.clone(),
            replaces_document_id: issued.replaces.map(|id| id.to_string()).unwrap_or_default(),
            replaced_by_document_id: document.replaced_by.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default(),
            status_reason: document.revoked.clone().unwrap_or_default(),
        }
    }

    /// A copy's PDF, checked against the hash the log recorded: a file that no longer matches is never handed out.
    pub(crate) async fn pdf(&self, copy: &domain::Copy) -> Result<Bytes, Status> {
        let bytes = self
            .blobs
            .get(&copy.blob_key)
            .await
            .map_err(blob_status)?
            .ok_or_else(|| blob_status(anyhow::anyhow!("{} is missing", copy.blob_key)))?;
        if sha256_hex(&bytes) != copy.sha256 {
            return Err(blob_status(anyhow::anyhow!("{} does not match its recorded SHA-256", copy.blob_key)));
        }
        Ok(bytes)
    }

    /// The paper form of a document in `language`, rendered now from what was registered: the same content and
    /// QR code as the electronic copy, with the registration number printed.
    async fn printed_form(&self, issued: &Issued, language: Language) -> Result<Bytes, Status> {
        let kind = domain::kind_of(issued)?;
        let org = RegistrationNumber::parse(&issued.registration_number)?.org;
        let organisation_name = domain::organisation_name(&org);
        let registration = printing::Registration {
            organisation_name: &organisation_name,
            printed_number: Some(&issued.registration_number),
            issued_at: issued.issued_at,
            qr_payload: &issued.qr_payload,
            key_id: &issued.key_id,
        };
        let doc = printing::printed(kind, &issued.content, language, &registration);
        let pdf = tokio::task::spawn_blocking(move || crate::pdf::render(&doc))
            .await
            .map_err(|e| Status::internal(format!("rendering stopped: {e}")))?
            .map_err(|e| Status::from(IssueError::Render(e.into())))?;
        Ok(Bytes::from(pdf))
    }

    async fn key_ring(&self, org: &OrgId) -> Result<(KeyRing, i64), Status> {
        let loaded = load::<KeyRing>(self.store.as_ref(), &key_ring_stream(org)).await.map_err(store_status)?;
        Ok((loaded.state, loaded.version))
    }
}

fn issued(document: &Document) -> Result<&Issued, Status> {
    document.issued.as_ref().ok_or_else(|| DocumentError::NotFound.into())
}

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadDocumentResponse, Status>> + Send>>;

/// The PDF as a stream of chunks of at most [`CHUNK`] bytes.
fn download_stream(bytes: Bytes) -> DownloadStream {
    let chunks: Vec<_> =
        chunks(bytes).map(|chunk| Ok(pb::DownloadDocumentResponse { chunk: chunk.to_vec() })).collect();
    Box::pin(tokio_stream::iter(chunks))
}

#[tonic::async_trait]
impl DocumentsService for DocumentsApi {
    #[tracing::instrument(skip_all, fields(document_id = %request.get_ref().document_id))]
    async fn get_document(
        &self,
        request: Request<pb::GetDocumentRequest>,
    ) -> Result<Response<pb::GetDocumentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let (document, _) = self.readable(&principal, &request.get_ref().document_id).await?;
        Ok(Response::new(pb::GetDocumentResponse { document: Some(self.document_pb(&principal.org, &document)) }))
    }

    type DownloadDocumentStream = DownloadStream;

    #[tracing::instrument(skip_all, fields(document_id = %request.get_ref().document_id))]
    async fn download_document(
        &self,
        request: Request<pb::DownloadDocumentRequest>,
    ) -> Result<Response<Self::DownloadDocumentStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let language = match request.get_ref().language.trim() {
            "" => None,
            other => Some(domain::parse_language(other)?),
        };
        let (document, _) = self.readable(&principal, &request.get_ref().document_id).await?;
        let issued = issued(&document)?;
        let language = language.unwrap_or(issued.language);
        if request.get_ref().printed_form {
            // Depends on the request, so not the policy table's: the paper form is for the counter's staff.
            if !is_staff(&principal) {
                return Err(Status::permission_denied(
                    "only the service centre's staff and administrators may do this",
                ));
            }
            return Ok(Response::new(download_stream(self.printed_form(issued, language).await?)));
        }
        let copy = issued.copy(language).ok_or_else(|| {
            FieldErrors::one("language", format!("the document has no copy in {}", language.as_str()))
        })?;
        let bytes = self.pdf(&copy).await?;
        Ok(Response::new(download_stream(bytes)))
    }

    /// Public: anyone holding a number, a QR code or a link may check it. Unknown documents are an answer, not an
    /// error, the holder's name is masked, and every check found is recorded for the holder.
    #[tracing::instrument(skip_all)]
    async fn verify_document(
        &self,
        request: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerifyDocumentResponse>, Status> {
        let source = network_of(caller_address(&request, self.trust_forwarded_for));
        self.limiter.check(&source)?;
        let request = request.into_inner();
        let target = target(&request)?;
        let method = match &target {
            Target::Number(..) => Method::Number,
            Target::Qr(..) => Method::Qr,
            Target::Code(..) => Method::Code,
        };
        let (Target::Number(org, _) | Target::Qr(org, _) | Target::Code(org, _)) = &target;
        let keys = self.key_ring(org).await?.0.public_keys();
        let found = self.find(&target, &keys).await?;
        let (org, document, approvers) = match found {
            Found::Document { org, document, approvers } => (org, document, approvers),
            Found::NotFound { reason } => {
                return Ok(Response::new(pb::VerifyDocumentResponse {
                    found: false,
                    status_reason: reason,
                    ..Default::default()
                }));
            }
        };
        let issued = issued(&document)?;
        // A QR payload whose signature failed found nothing: what is found here passed it, if it was scanned.
        let signature_valid = record_signature_valid(issued, &keys);
        let status = document.status();
        self.record_check(
            &org,
            Recorded {
                document_id: issued.document_id,
                holder_id: issued.holder_id,
                application_id: issued.application_id.clone(),
                registration_number: issued.registration_number.clone(),
                language: issued.language.as_str().to_owned(),
                method,
                verifier: verification::verifier_label(&request.verifier),
                source,
                status,
                signature_valid,
                verified_at: self.issuer.now(),
            },
        )
        .await?;
        Ok(Response::new(pb::VerifyDocumentResponse {
            found: true,
            title: issued.title.clone(),
            holder_name_masked: mask_name(&issued.holder_name),
            issued_at: Some(onewindow_proto::timestamp(issued.issued_at)),
            status: status_pb(status) as i32,
            kept_by: format!("the electronic document journal of {}", domain::organisation_name(&org)),
            signature_valid,
            document_type: issued.document_type.clone(),
            replaced_by_registration_number: document.replaced_by.as_ref().map(|(_, n)| n.clone()).unwrap_or_default(),
            status_reason: document.revoked.clone().unwrap_or_default(),
            approvers,
        }))
    }

    async fn list_signing_keys(
        &self,
        request: Request<pb::ListSigningKeysRequest>,
    ) -> Result<Response<pb::ListSigningKeysResponse>, Status> {
        let org = OrgId::parse(request.get_ref().organization_id.trim())
            .map_err(|_| FieldErrors::one("organization_id", "must be an organisation id such as \"kaznu\""))?;
        let (ring, _) = self.key_ring(&org).await?;
        Ok(Response::new(pb::ListSigningKeysResponse { keys: keys_pb(&ring) }))
    }

    async fn rotate_signing_key(
        &self,
        request: Request<pb::RotateSigningKeyRequest>,
    ) -> Result<Response<pb::RotateSigningKeyResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let (_, version) = self.key_ring(&principal.org).await?;
        let key_id = issuer::rotate_key(
            self.store.as_ref(),
            &principal.org,
            version,
            &principal.user_id.to_string(),
            self.issuer.now(),
        )
        .await
        .map_err(commit_status)?;
        tracing::info!(org = %principal.org, %key_id, "document signing key rotated");
        let (ring, _) = self.key_ring(&principal.org).await?;
        let key = keys_pb(&ring).into_iter().find(|k| k.key_id == key_id);
        Ok(Response::new(pb::RotateSigningKeyResponse { key }))
    }

    async fn revoke_document(
        &self,
        request: Request<pb::RevokeDocumentRequest>,
    ) -> Result<Response<pb::RevokeDocumentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let (document, version) = self.readable(&principal, &request.document_id).await?;
        let events = domain::revoke(&document, &request.reason, &principal.user_id.to_string())?;
        let metadata = onewindow_server::request_metadata(principal.user_id.to_string(), None);
        let encoded = events
            .iter()
            .map(|e| encode(e, &metadata))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| store_status(StoreError::Corrupt(e.to_string())))?;
        let id = issued(&document)?.document_id;
        self.store
            .commit(Commit::append(document_stream(&principal.org, id), version, encoded))
            .await
            .map_err(commit_status)?;
        let (document, _) = self.document(&principal.org, id).await?;
        Ok(Response::new(pb::RevokeDocumentResponse { document: Some(self.document_pb(&principal.org, &document)) }))
    }

    async fn reissue_document(
        &self,
        request: Request<pb::ReissueDocumentRequest>,
    ) -> Result<Response<pb::ReissueDocumentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        if request.reason.trim().is_empty() {
            return Err(DocumentError::ReasonRequired.into());
        }
        let (document, _) = self.readable(&principal, &request.document_id).await?;
        let old = issued(&document)?;
        if document.status() == DocStatus::Reissued {
            return Err(DocumentError::NotValid(DocStatus::Reissued).into());
        }
        let unit = RegistrationNumber::parse(&old.registration_number).ok().and_then(|n| n.journal.unit);
        let order = IssueOrder {
            org: principal.org.clone(),
            // Derived from the replaced document: a retried request finds the replacement it made.
            document_id: domain::name_based_id(format!("{}/reissue", old.document_id).as_bytes()),
            kind: domain::kind_of(old)?,
            unit,
            application_id: old.application_id.clone(),
            holder_id: old.holder_id,
            language: old.language,
            content: old.content.clone(),
            replaces: Some((old.document_id, request.reason.trim().to_owned())),
        };
        let metadata = onewindow_server::request_metadata(principal.user_id.to_string(), None);
        let new = match self.issuer.issue(&order, &metadata, None).await? {
            Outcome::Issued(issued) | Outcome::Existing(issued) => issued.document_id,
            Outcome::AlreadyProcessed => order.document_id,
        };
        let (document, _) = self.document(&principal.org, new).await?;
        Ok(Response::new(pb::ReissueDocumentResponse { document: Some(self.document_pb(&principal.org, &document)) }))
    }

    async fn list_verifications(
        &self,
        request: Request<pb::ListVerificationsRequest>,
    ) -> Result<Response<pb::ListVerificationsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let (document, _) = self.readable(&principal, &request.get_ref().document_id).await?;
        let id = issued(&document)?.document_id;
        let stream = StreamRef::new(&principal.org, VERIFICATION, id.to_string());
        let checks = load::<verification::Checks>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        let verifications = checks
            .state
            .recorded
            .iter()
            .rev()
            .map(|r| pb::Verification {
                verified_at: Some(onewindow_proto::timestamp(r.verified_at)),
                method: r.method.as_str().to_owned(),
                verifier: r.verifier.clone(),
                source: r.source.clone(),
                status: status_pb(r.status) as i32,
                signature_valid: r.signature_valid,
            })
            .collect();
        Ok(Response::new(pb::ListVerificationsResponse { verifications }))
    }

    async fn continue_paper_journal(
        &self,
        request: Request<pb::ContinuePaperJournalRequest>,
    ) -> Result<Response<pb::ContinuePaperJournalResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        errors.check(request.last_paper_number >= 1, "last_paper_number", "must be 1 or more");
        let journal = valid_journal(request.journal.as_ref(), errors)?;
        let stream = journal.stream(&principal.org);
        let position = journal_position(self.store.as_ref(), &stream).await.map_err(store_status)?;
        let event = domain::continue_from_paper(position, request.last_paper_number, &request.note)?;
        self.append_journal(&principal, &stream, position.version, &event).await?;
        let next = RegistrationNumber { org: principal.org.clone(), journal, number: request.last_paper_number + 1 };
        Ok(Response::new(pb::ContinuePaperJournalResponse { next_registration_number: next.to_string() }))
    }

    async fn void_next_number(
        &self,
        request: Request<pb::VoidNextNumberRequest>,
    ) -> Result<Response<pb::VoidNextNumberResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        errors.check(!request.reason.trim().is_empty(), "reason", "is required: it explains the gap");
        let journal = valid_journal(request.journal.as_ref(), errors)?;
        let stream = journal.stream(&principal.org);
        let position = journal_position(self.store.as_ref(), &stream).await.map_err(store_status)?;
        let event = domain::void_next_number(position, &request.reason)?;
        self.append_journal(&principal, &stream, position.version, &event).await?;
        let voided = RegistrationNumber { org: principal.org.clone(), journal, number: position.next_number() };
        Ok(Response::new(pb::VoidNextNumberResponse { voided_registration_number: voided.to_string() }))
    }

    async fn list_journal_entries(
        &self,
        request: Request<pb::ListJournalEntriesRequest>,
    ) -> Result<Response<pb::ListJournalEntriesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let journal = valid_journal(request.journal.as_ref(), FieldErrors::new())?;
        let page = match request.page_size {
            0 => JOURNAL_PAGE,
            n if (1..=JOURNAL_PAGE_MAX).contains(&n) => n,
            _ => return Err(FieldErrors::one("page_size", format!("must be between 1 and {JOURNAL_PAGE_MAX}"))),
        };
        let stream = journal.stream(&principal.org);
        let position = journal_position(self.store.as_ref(), &stream).await.map_err(store_status)?;
        let first = position.last_paper_number.map_or(1, |last| last + 1).max(request.after_number + 1);
        let mut entries = Vec::new();
        // The entries are read by version, so a page costs its own rows, however long the journal.
        for number in first..first + i64::from(page) {
            let Some(version) = position.version_of(number) else { break };
            let Some(event) = self.store.read_event(&stream, version).await.map_err(store_status)? else { break };
            let registration_number =
                RegistrationNumber { org: principal.org.clone(), journal: journal.clone(), number }.to_string();
            let mut entry = pb::JournalEntry {
                number,
                registration_number,
                recorded_at: Some(onewindow_proto::timestamp(event.metadata.occurred_at)),
                ..Default::default()
            };
            match decode::<JournalEvent>(&event).map_err(|e| store_status(StoreError::Corrupt(e.to_string())))? {
                JournalEvent::NumberTaken { document_id, .. } => entry.document_id = document_id.to_string(),
                JournalEvent::NumberVoided { reason, .. } => entry.void_reason = reason,
                JournalEvent::ContinuedFromPaper { .. } => continue,
            }
            entries.push(entry);
        }
        Ok(Response::new(pb::ListJournalEntriesResponse {
            entries,
            last_paper_number: position.last_paper_number.unwrap_or(0),
            next_number: position.next_number(),
        }))
    }
}

impl DocumentsApi {
    async fn append_journal(
        &self,
        principal: &Principal,
        stream: &StreamRef,
        version: i64,
        event: &JournalEvent,
    ) -> Result<(), Status> {
        let metadata = onewindow_server::request_metadata(principal.user_id.to_string(), None);
        let encoded = encode(event, &metadata).map_err(|e| store_status(StoreError::Corrupt(e.to_string())))?;
        self.store.commit(Commit::append(stream.clone(), version, vec![encoded])).await.map_err(commit_status)?;
        Ok(())
    }
}

/// Splits without copying: each chunk shares the blob's buffer.
fn chunks(bytes: Bytes) -> impl Iterator<Item = Bytes> {
    (0..bytes.len()).step_by(CHUNK).map(move |start| bytes.slice(start..(start + CHUNK).min(bytes.len())))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::StreamExt;
    use onewindow_auth::Role;
    use onewindow_bus::EventHandler;
    use tonic::Code;

    use super::*;
    use crate::testing::{Setup, Tokens, VERIFY_URL, decode_qr, org, pdf_text, request, sheet_approved};

    /// The status of a call that must be refused (the answers of some calls cannot be printed).
    fn refused<T>(result: Result<T, Status>, why: &str) -> Status {
        match result {
            Ok(_) => panic!("expected a refusal: {why}"),
            Err(status) => status,
        }
    }

    struct Fixture {
        setup: Setup,
        tokens: Tokens,
        api: DocumentsApi,
        holder: Uuid,
        document: Issued,
    }

    /// What the authorization table says of `who` calling documents' `method`, as the layer in front of the
    /// handlers decides it (the handlers keep only the checks that depend on the data).
    fn table_admits(method: &str, who: &Principal) -> Result<(), Status> {
        let path = format!("/onewindow.documents.v1.DocumentsService/{method}");
        match onewindow_auth::policy::gate(&path) {
            onewindow_auth::policy::Gate::Token(access) => onewindow_auth::policy::admit(access, who),
            other => panic!("{path} is {other:?}"),
        }
    }

    fn principal(org_id: &str, user_id: Uuid, roles: &[Role]) -> Principal {
        Principal {
            user_id,
            org: org(org_id),
            roles: roles.to_vec(),
            full_name: "Test User".into(),
            department: String::new(),
            position: String::new(),
        }
    }

    fn api(setup: &Setup, tokens: &Tokens, per_minute: u32) -> DocumentsApi {
        DocumentsApi {
            store: setup.store.clone(),
            blobs: setup.blobs.clone(),
            auth: tokens.auth.clone(),
            issuer: setup.issuer(),
            limiter: Arc::new(NetworkLimiter::per_minute(per_minute, "verifications")),
            trust_forwarded_for: false,
        }
    }

    /// One certificate issued to `holder` at kaznu, and the API over the same log.
    async fn fixture() -> Fixture {
        let setup = Setup::in_memory().await;
        let tokens = Tokens::new();
        let holder = Uuid::now_v7();
        let kaznu = org("kaznu");
        setup
            .handler()
            .handle(&sheet_approved(&kaznu, "app-1", holder, "certificate_of_study", "en"))
            .await
            .expect("issue");
        let api = api(&setup, &tokens, 1000);
        let id = domain::document_id(&kaznu, &crate::testing::application("app-1"), DocumentKind::CertificateOfStudy);
        let (document, _) = api
            .readable(&principal("kaznu", holder, &[Role::Applicant]), &id.to_string())
            .await
            .expect("the holder reads it");
        let document = document.issued.expect("issued");
        Fixture { setup, tokens, api, holder, document }
    }

    impl Fixture {
        fn token(&self, user: Uuid, roles: &[Role]) -> String {
            self.tokens.token(&org("kaznu"), user, roles)
        }

        fn staff(&self) -> String {
            self.token(Uuid::now_v7(), &[Role::Executor])
        }

        fn admin(&self) -> String {
            self.token(Uuid::now_v7(), &[Role::Admin])
        }

        async fn verify(&self, message: pb::VerifyDocumentRequest) -> Result<pb::VerifyDocumentResponse, Status> {
            self.api.verify_document(tonic::Request::new(message)).await.map(Response::into_inner)
        }

        async fn verify_number(&self, org_id: &str, number: &str) -> Result<pb::VerifyDocumentResponse, Status> {
            self.verify(pb::VerifyDocumentRequest {
                organization_id: org_id.into(),
                registration_number: number.into(),
                ..Default::default()
            })
            .await
        }

        async fn get(&self, id: Uuid) -> pb::Document {
            let call =
                self.api.get_document(request(pb::GetDocumentRequest { document_id: id.to_string() }, &self.staff()));
            call.await.expect("get").into_inner().document.expect("document")
        }

        async fn download(&self, token: &str, language: &str) -> Result<Vec<u8>, Status> {
            self.download_form(token, language, false).await
        }

        async fn download_form(&self, token: &str, language: &str, printed_form: bool) -> Result<Vec<u8>, Status> {
            let message = pb::DownloadDocumentRequest {
                document_id: self.document.document_id.to_string(),
                language: language.into(),
                printed_form,
            };
            let mut stream = self.api.download_document(request(message, token)).await?.into_inner();
            let mut pdf = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?.chunk;
                assert!(!chunk.is_empty() && chunk.len() <= CHUNK);
                pdf.extend_from_slice(&chunk);
            }
            Ok(pdf)
        }
    }

    #[tokio::test]
    async fn the_holder_and_staff_read_a_document_others_do_not() {
        let f = fixture().await;
        let id = f.document.document_id.to_string();
        let pb = f.get(f.document.document_id).await;
        assert_eq!((pb.holder_id, pb.organization_id.as_str()), (f.holder.to_string(), "kaznu"));
        assert_eq!((pb.title.as_str(), pb.language.as_str()), ("Certificate of study", "en"));
        assert_eq!((pb.status, pb.document_type.as_str()), (DocumentStatus::Valid as i32, "certificate_of_study"));
        assert_eq!(pb.languages, vec!["kk", "ru", "en"]);
        assert_eq!(pb.verification_url, format!("{VERIFY_URL}/kaznu/{}", f.document.verification_code));
        for role in [Role::Executor, Role::Admin] {
            assert!(f.api.readable(&principal("kaznu", Uuid::now_v7(), &[role]), &id).await.is_ok(), "{role:?}");
        }
        let stranger = principal("kaznu", Uuid::now_v7(), &[Role::Applicant, Role::Approver]);
        let denied = f.api.readable(&stranger, &id).await;
        assert_eq!(denied.err().map(|s| s.code()), Some(Code::PermissionDenied));
        let elsewhere = principal("kaznmu", f.holder, &[Role::Admin]);
        assert_eq!(f.api.readable(&elsewhere, &id).await.err().map(|s| s.code()), Some(Code::NotFound));
        let holder = principal("kaznu", f.holder, &[Role::Applicant]);
        let malformed = refused(f.api.readable(&holder, "42").await, "not a uuid");
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert!(malformed.message().contains("document_id"));
        let unknown = f.api.readable(&holder, &Uuid::now_v7().to_string()).await;
        assert_eq!(unknown.err().map(|s| s.code()), Some(Code::NotFound));
    }

    #[tokio::test]
    async fn calls_without_a_token_are_refused() {
        let f = fixture().await;
        let id = f.document.document_id.to_string();
        let get = f.api.get_document(tonic::Request::new(pb::GetDocumentRequest { document_id: id.clone() })).await;
        assert_eq!(get.err().map(|s| s.code()), Some(Code::Unauthenticated));
        let message = pb::DownloadDocumentRequest { document_id: id.clone(), ..Default::default() };
        let download = f.api.download_document(tonic::Request::new(message)).await;
        assert_eq!(download.err().map(|s| s.code()), Some(Code::Unauthenticated));
        let message = pb::RevokeDocumentRequest { document_id: id, reason: "x".into() };
        let revoke = f.api.revoke_document(tonic::Request::new(message)).await;
        assert_eq!(revoke.err().map(|s| s.code()), Some(Code::Unauthenticated));
    }

    #[tokio::test]
    async fn each_language_downloads_in_chunks() {
        let f = fixture().await;
        let token = f.token(f.holder, &[Role::Applicant]);
        let chosen = f.download(&token, "").await.expect("the chosen language");
        assert!(chosen.starts_with(b"%PDF-"));
        assert_eq!((sha256_hex(&chosen), chosen.len() as i64), (f.document.sha256.clone(), f.document.size_bytes));
        for language in Language::ALL {
            let pdf = f.download(&token, language.as_str()).await.expect("a copy");
            assert_eq!(Some(sha256_hex(&pdf)), f.document.copy(language).map(|c| c.sha256));
        }
        let unknown = refused(f.download(&token, "de").await, "no such language");
        assert_eq!(unknown.code(), Code::InvalidArgument);
        assert!(unknown.message().contains("language"));
    }

    #[tokio::test]
    async fn staff_print_the_paper_form_with_the_number_and_the_same_qr_code() {
        let f = fixture().await;
        let holder = f.token(f.holder, &[Role::Applicant]);
        let denied = refused(f.download_form(&holder, "", true).await, "the holder gets the electronic copy");
        assert_eq!(denied.code(), Code::PermissionDenied);
        let number = f.document.registration_number.as_str();
        for language in ["kk", "ru", "en"] {
            let paper = f.download_form(&f.staff(), language, true).await.expect("the paper form");
            let electronic = f.download(&holder, language).await.expect("the electronic copy");
            assert!(pdf_text(&paper).contains(number), "{language}: the paper form prints the number");
            assert!(!pdf_text(&electronic).contains(number), "{language}: the electronic copy does not");
            assert_eq!(decode_qr(&paper), decode_qr(&electronic), "{language}: one QR code");
        }
    }

    #[tokio::test]
    async fn a_file_that_changed_or_vanished_is_not_handed_out() {
        let f = fixture().await;
        let copy = f.document.copy(Language::En).expect("copy");
        f.setup.blobs.put(&copy.blob_key, Bytes::from_static(b"%PDF-1.7 tampered")).await.expect("overwrite");
        assert_eq!(f.api.pdf(&copy).await.err().map(|s| s.code()), Some(Code::Unavailable));
        let gone = domain::Copy { blob_key: "kaznu/none/none.pdf".into(), ..copy };
        assert_eq!(f.api.pdf(&gone).await.err().map(|s| s.code()), Some(Code::Unavailable));
    }

    #[test]
    fn chunks_cover_the_file() {
        let bytes = Bytes::from(vec![7u8; 2 * CHUNK + 5]);
        let sizes: Vec<_> = chunks(bytes).map(|c| c.len()).collect();
        assert_eq!(sizes, vec![CHUNK, CHUNK, 5]);
        assert_eq!(chunks(Bytes::new()).count(), 0);
    }

    #[tokio::test]
    async fn anyone_verifies_a_number_and_the_holder_sees_who_did() {
        let f = fixture().await;
        let number = f.document.registration_number.clone();
        let found = f
            .verify(pb::VerifyDocumentRequest {
                organization_id: "kaznu".into(),
                registration_number: number.clone(),
                verifier: "HR of\nKaspi Bank".into(),
                ..Default::default()
            })
            .await
            .expect("verify");
        assert!(found.found && found.signature_valid);
        assert_eq!(found.title, "Certificate of study");
        assert_eq!(found.holder_name_masked, "Aruzhan S*** N***");
        assert_eq!(found.status, DocumentStatus::Valid as i32);
        assert_eq!(found.kept_by, "the electronic document journal of Al-Farabi Kazakh National University");
        assert_eq!(found.issued_at, Some(onewindow_proto::timestamp(f.document.issued_at)));
        assert_eq!(found.approvers, vec!["Dana Abenova", "Marat Seitkali"]);
        assert!(f.verify_number("kaznu", &number.to_lowercase()).await.expect("verify").found, "any case");

        let next = number.replace("000001", "000002");
        assert!(!f.verify_number("kaznu", &next).await.expect("unknown number").found);
        assert!(!f.verify_number("kaznmu", &number).await.expect("another org").found);

        let invalid = refused(f.verify_number("", "12345").await, "invalid");
        assert_eq!(invalid.code(), Code::InvalidArgument);
        assert!(invalid.message().contains("organization_id") && invalid.message().contains("registration_number"));
        let none = refused(f.verify(pb::VerifyDocumentRequest::default()).await, "nothing named");
        assert!(none.message().contains("qr_payload") && none.message().contains("verification_code"));

        // The holder (and staff) see the checks, newest first; nobody else does.
        let list = |token: String| {
            f.api.list_verifications(request(
                pb::ListVerificationsRequest { document_id: f.document.document_id.to_string() },
                &token,
            ))
        };
        let checks = list(f.token(f.holder, &[Role::Applicant])).await.expect("list").into_inner().verifications;
        assert_eq!(checks.len(), 2, "the two checks that found it");
        assert_eq!((checks[1].verifier.as_str(), checks[1].method.as_str()), ("HR of Kaspi Bank", "number"));
        assert!(
            checks[1].signature_valid
                && checks[0].verified_at.as_ref().map(|t| (t.seconds, t.nanos))
                    >= checks[1].verified_at.as_ref().map(|t| (t.seconds, t.nanos))
        );
        let stranger = list(f.token(Uuid::now_v7(), &[Role::Applicant])).await;
        assert_eq!(stranger.err().map(|s| s.code()), Some(Code::PermissionDenied));
        // The check is an event the holder can be told about.
        let stream = StreamRef::new(&org("kaznu"), VERIFICATION, f.document.document_id.to_string());
        let events = f.setup.store.read_stream(&stream).await.expect("checks");
        assert_eq!(events[0].event_type, "verification.recorded");
        assert_eq!(events[0].payload["holder_id"], f.holder.to_string());
    }

    #[tokio::test]
    async fn the_scanned_qr_code_and_the_link_verify_and_a_tampered_code_does_not() {
        let f = fixture().await;
        let pdf = f.setup.blobs.get(&f.document.blob_key).await.expect("get").expect("pdf");
        let payload = decode_qr(&pdf);
        let by_qr = f
            .verify(pb::VerifyDocumentRequest { qr_payload: payload.clone(), ..Default::default() })
            .await
            .expect("verify");
        assert!(by_qr.found && by_qr.signature_valid && by_qr.status == DocumentStatus::Valid as i32);
        assert_eq!(by_qr.approvers, vec!["Dana Abenova", "Marat Seitkali"]);

        let tampered = payload.replace("Aruzhan Serikovna", "Aruzhan Serikovna-Forged");
        let forged = f
            .verify(pb::VerifyDocumentRequest { qr_payload: tampered, ..Default::default() })
            .await
            .expect("an answer");
        assert!(!forged.found && !forged.signature_valid);
        assert!(forged.status_reason.contains("signature"), "{}", forged.status_reason);
        let garbage = f.verify(pb::VerifyDocumentRequest { qr_payload: "hello".into(), ..Default::default() }).await;
        let garbage = refused(garbage, "not a document code");
        assert!(garbage.code() == Code::InvalidArgument && garbage.message().contains("qr_payload"));

        let link = format!("{VERIFY_URL}/kaznu/{}", f.document.verification_code);
        let by_link = f.verify(pb::VerifyDocumentRequest { verification_code: link, ..Default::default() }).await;
        assert!(by_link.expect("by link").found);
        let by_code = f
            .verify(pb::VerifyDocumentRequest {
                organization_id: "kaznu".into(),
                verification_code: f.document.verification_code.clone(),
                ..Default::default()
            })
            .await;
        assert!(by_code.expect("by code").found);
        let guessed = f
            .verify(pb::VerifyDocumentRequest {
                organization_id: "kaznu".into(),
                verification_code: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                ..Default::default()
            })
            .await;
        assert!(!guessed.expect("an answer").found);
    }

    #[tokio::test]
    async fn verification_is_rate_limited() {
        let f = fixture().await;
        let api = api(&f.setup, &f.tokens, 3);
        let number = f.document.registration_number.clone();
        for _ in 0..3 {
            let message = pb::VerifyDocumentRequest {
                organization_id: "kaznu".into(),
                registration_number: number.clone(),
                ..Default::default()
            };
            api.verify_document(tonic::Request::new(message)).await.expect("within the limit");
        }
        let message = pb::VerifyDocumentRequest {
            organization_id: "kaznu".into(),
            registration_number: number,
            ..Default::default()
        };
        let refused = api.verify_document(tonic::Request::new(message)).await;
        assert_eq!(refused.err().map(|s| s.code()), Some(Code::ResourceExhausted));
    }

    #[tokio::test]
    async fn a_revoked_document_verifies_as_revoked() {
        let f = fixture().await;
        let revoke = |token: String, reason: &str| {
            f.api.revoke_document(request(
                pb::RevokeDocumentRequest { document_id: f.document.document_id.to_string(), reason: reason.into() },
                &token,
            ))
        };
        let holder = principal("kaznu", f.holder, &[Role::Applicant]);
        assert_eq!(table_admits("RevokeDocument", &holder).map_err(|s| s.code()), Err(Code::PermissionDenied));
        let no_reason = refused(revoke(f.staff(), " ").await, "a reason is required");
        assert!(no_reason.code() == Code::InvalidArgument && no_reason.message().contains("reason"));
        let revoked = revoke(f.staff(), "issued with a wrong course").await.expect("revoked").into_inner();
        let document = revoked.document.expect("document");
        assert_eq!(document.status, DocumentStatus::Revoked as i32);
        assert_eq!(document.status_reason, "issued with a wrong course");
        let again = revoke(f.staff(), "twice").await;
        assert_eq!(again.err().map(|s| s.code()), Some(Code::FailedPrecondition));

        let verified = f.verify_number("kaznu", &f.document.registration_number).await.expect("verify");
        assert!(verified.found);
        assert_eq!(verified.status, DocumentStatus::Revoked as i32);
        assert_eq!(verified.status_reason, "issued with a wrong course");
    }

    #[tokio::test]
    async fn a_reissued_document_points_to_its_replacement() {
        let f = fixture().await;
        let reissue = |reason: &str| {
            f.api.reissue_document(request(
                pb::ReissueDocumentRequest { document_id: f.document.document_id.to_string(), reason: reason.into() },
                &f.staff(),
            ))
        };
        let new =
            reissue("the holder's name was misspelt").await.expect("reissued").into_inner().document.expect("new");
        let year = f.document.issued_at.format("%Y");
        assert_eq!(new.registration_number, format!("KAZNU-CS-{year}-000002"));
        assert_eq!(new.replaces_document_id, f.document.document_id.to_string());
        assert_eq!((new.status, new.language.as_str()), (DocumentStatus::Valid as i32, "en"));
        let old = f.get(f.document.document_id).await;
        assert_eq!(
            (old.status, old.replaced_by_document_id.as_str()),
            (DocumentStatus::Reissued as i32, new.id.as_str())
        );

        let verified = f.verify_number("kaznu", &f.document.registration_number).await.expect("verify");
        assert_eq!(verified.status, DocumentStatus::Reissued as i32);
        assert_eq!(verified.replaced_by_registration_number, new.registration_number);
        assert!(f.verify_number("kaznu", &new.registration_number).await.expect("verify").signature_valid);
        let twice = reissue("again").await;
        assert_eq!(twice.err().map(|s| s.code()), Some(Code::FailedPrecondition));
    }

    #[tokio::test]
    async fn a_rotated_key_signs_new_documents_and_old_ones_still_verify() {
        let f = fixture().await;
        let keys = || {
            f.api.list_signing_keys(tonic::Request::new(pb::ListSigningKeysRequest { organization_id: "kaznu".into() }))
        };
        let before = keys().await.expect("keys").into_inner().keys;
        assert_eq!(before.len(), 1);
        assert!(before[0].active && before[0].algorithm == "Ed25519" && before[0].key_id == f.document.key_id);

        let staff = principal("kaznu", Uuid::now_v7(), &[Role::Executor]);
        assert_eq!(table_admits("RotateSigningKey", &staff).map_err(|s| s.code()), Err(Code::PermissionDenied));
        let rotated = f.api.rotate_signing_key(request(pb::RotateSigningKeyRequest {}, &f.admin())).await;
        let new_key = rotated.expect("rotated").into_inner().key.expect("key");
        let after = keys().await.expect("keys").into_inner().keys;
        assert_eq!(after.len(), 2);
        assert!(!after[0].active && after[1].active && after[1].key_id == new_key.key_id);

        let kaznu = org("kaznu");
        f.setup
            .handler()
            .handle(&sheet_approved(&kaznu, "app-2", Uuid::now_v7(), "certificate_of_study", "en"))
            .await
            .expect("issued");
        let second = f
            .get(domain::document_id(&kaznu, &crate::testing::application("app-2"), DocumentKind::CertificateOfStudy))
            .await;
        assert_eq!(second.key_id, new_key.key_id);
        for number in [&f.document.registration_number, &second.registration_number] {
            assert!(f.verify_number("kaznu", number).await.expect("verify").signature_valid, "{number}");
        }
    }

    #[tokio::test]
    async fn journals_continue_from_paper_and_explain_voided_numbers() {
        let f = fixture().await;
        let year = f.document.issued_at.format("%Y").to_string().parse::<i32>().expect("year");
        let journal =
            |kind: &str| Some(pb::JournalRef { document_type: kind.into(), issuing_unit: String::new(), year });
        let continue_paper = |kind: &str, last: i64, token: String| {
            f.api.continue_paper_journal(request(
                pb::ContinuePaperJournalRequest {
                    journal: journal(kind),
                    last_paper_number: last,
                    note: "paper journal No. 3".into(),
                },
                &token,
            ))
        };
        let started = continue_paper("certificate_of_study", 100, f.admin()).await;
        assert_eq!(started.err().map(|s| s.code()), Some(Code::FailedPrecondition), "the journal has a number already");
        let staff = principal("kaznu", Uuid::now_v7(), &[Role::Executor]);
        for admins_only in ["ContinuePaperJournal", "VoidNextNumber"] {
            assert_eq!(table_admits(admins_only, &staff).map_err(|s| s.code()), Err(Code::PermissionDenied));
        }
        let bad = refused(continue_paper("diploma", 0, f.admin()).await, "invalid");
        assert!(bad.message().contains("journal.document_type") && bad.message().contains("last_paper_number"));
        let next = continue_paper("clearance_sheet", 4711, f.admin()).await.expect("continued").into_inner();
        assert_eq!(next.next_registration_number, format!("KAZNU-CL-{year}-004712"));

        // A spoiled form uses 4712 up; the gap is explained in the journal and by verification.
        let void = |reason: &str| {
            f.api.void_next_number(request(
                pb::VoidNextNumberRequest { journal: journal("clearance_sheet"), reason: reason.into() },
                &f.admin(),
            ))
        };
        let no_reason = refused(void("").await, "a reason is required");
        assert!(no_reason.message().contains("reason"));
        let voided = void("paper form spoiled").await.expect("voided").into_inner();
        assert_eq!(voided.voided_registration_number, format!("KAZNU-CL-{year}-004712"));
        let kaznu = org("kaznu");
        f.setup
            .handler()
            .handle(&sheet_approved(&kaznu, "app-9", Uuid::now_v7(), "clearance_sheet", "ru"))
            .await
            .expect("issued");
        let sheet = f
            .get(domain::document_id(&kaznu, &crate::testing::application("app-9"), DocumentKind::ClearanceSheet))
            .await;
        assert_eq!(sheet.registration_number, format!("KAZNU-CL-{year}-004713"));

        let entries = f
            .api
            .list_journal_entries(request(
                pb::ListJournalEntriesRequest { journal: journal("clearance_sheet"), after_number: 0, page_size: 0 },
                &f.staff(),
            ))
            .await
            .expect("entries")
            .into_inner();
        assert_eq!((entries.last_paper_number, entries.next_number), (4711, 4714));
        let listed: Vec<_> =
            entries.entries.iter().map(|e| (e.number, e.void_reason.as_str(), e.document_id.as_str())).collect();
        assert_eq!(listed, vec![(4712, "paper form spoiled", ""), (4713, "", sheet.id.as_str())]);
        let voided = f.verify_number("kaznu", &format!("KAZNU-CL-{year}-004712")).await.expect("verify");
        assert!(!voided.found && voided.status_reason.contains("paper form spoiled"));
        let paper = f.verify_number("kaznu", &format!("KAZNU-CL-{year}-004711")).await.expect("verify");
        assert!(!paper.found, "paper numbers are not in the electronic journal");
    }

    /// Through a real token: the first verification fetches the key, and must not wait on itself.
    #[tokio::test]
    async fn the_holder_reads_through_a_token() {
        let f = fixture().await;
        let token = f.token(f.holder, &[Role::Applicant]);
        let call = f
            .api
            .get_document(request(pb::GetDocumentRequest { document_id: f.document.document_id.to_string() }, &token));
        let response = tokio::time::timeout(Duration::from_secs(5), call).await.expect("answered in time");
        assert_eq!(response.expect("read").into_inner().document.map(|d| d.holder_id), Some(f.holder.to_string()));
    }
}
