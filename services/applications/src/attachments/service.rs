//! The attachments gRPC API: thin handlers over the pure `domain`, the content checks and the blob store.
//!
//! An upload is buffered whole (bounded by the size limit, refused as soon as it passes it), checked, stored in
//! the blob store, and only then committed: a crash in between leaves a blob no event names, which is harmless
//! (nothing reads it; the key is random). A deletion commits first and removes the blob after, so a file is
//! never missing while an event still names it.

use std::{pin::Pin, sync::Arc};

use bytes::Bytes;
use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_blobs::BlobStore;
use onewindow_eventlog::{Commit, CommitOutcome, EventStore, OrgId, StreamRef, load};
use onewindow_proto::{
    applications::v1::{self as pb, attachments_service_server::AttachmentsService, upload_attachment_request::Part},
    timestamp,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::{
    attachments_of,
    content::{Limits, sanitise_file_name, sha256_hex},
    domain::{
        ATTACHMENT, Attachment, AttachmentCommand, AttachmentError, AttachmentEvent, Draft, Uploaded, blob_key, decide,
    },
    encode_all,
};
use crate::domain::{APPLICATION, Application, Created, Status as ApplicationStatus};

/// Downloads are sent in pieces of this size.
const CHUNK: usize = 64 * 1024;

pub struct AttachmentsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) limits: Limits,
}

impl From<AttachmentError> for Status {
    fn from(error: AttachmentError) -> Self {
        match error {
            AttachmentError::NotADraft(_) | AttachmentError::Sealed | AttachmentError::TooManyFiles { .. } => {
                Status::failed_precondition(error.to_string())
            }
            AttachmentError::NoSuchRequiredDocument { .. } | AttachmentError::ReplacedElsewhere { .. } => {
                FieldErrors::one("required_document", error.to_string())
            }
            AttachmentError::NotFound(_) => Status::not_found(error.to_string()),
        }
    }
}

/// The application the files belong to, as far as attachments care.
struct Owner {
    created: Created,
    status: ApplicationStatus,
}

impl Owner {
    fn draft(&self) -> Draft<'_> {
        Draft {
            application_id: self.created.application_id,
            status: self.status,
            required_documents: &self.created.service.required_documents,
        }
    }
}

fn parse_id(field: &str, raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one(field, "must be a UUID"))
}

/// An application's and one of its attachments' ids, both named when invalid.
fn parse_ids(application_id: &str, attachment_id: &str) -> Result<(Uuid, Uuid), Status> {
    let mut errors = FieldErrors::new();
    let application_id = Uuid::parse_str(application_id.trim());
    errors.check(application_id.is_ok(), "application_id", "must be a UUID");
    let attachment_id = Uuid::parse_str(attachment_id.trim());
    errors.check(attachment_id.is_ok(), "attachment_id", "must be a UUID");
    errors.into_result()?;
    match (application_id, attachment_id) {
        (Ok(application_id), Ok(attachment_id)) => Ok((application_id, attachment_id)),
        _ => Err(Status::invalid_argument("invalid ids")),
    }
}

fn check_version(expected: Option<i64>, actual: i64) -> Result<(), Status> {
    match expected {
        Some(expected) if expected != actual => Err(Status::aborted(format!(
            "the attachments are at version {actual}, not {expected}: list them again and retry"
        ))),
        _ => Ok(()),
    }
}

fn attachment_pb(attachment: &Attachment) -> pb::Attachment {
    let file = &attachment.file;
    pb::Attachment {
        id: file.attachment_id.to_string(),
        application_id: file.application_id.to_string(),
        required_document: file.required_document,
        file_name: file.file_name.clone(),
        content_type: file.content_type.clone(),
        size_bytes: i64::try_from(file.size_bytes).unwrap_or(i64::MAX),
        sha256: file.sha256.clone(),
        uploaded_at: Some(timestamp(attachment.uploaded_at)),
    }
}

/// The stream's version after a commit of one append.
fn committed_version(outcome: CommitOutcome, before: i64) -> i64 {
    match outcome {
        CommitOutcome::Committed { versions } => versions.first().copied().unwrap_or(before),
        CommitOutcome::AlreadyProcessed | CommitOutcome::Nothing => before,
    }
}

/// What the first message of an upload asks for.
struct UploadRequest {
    application_id: Uuid,
    required_document: u32,
    file_name: String,
    replaces: Option<Uuid>,
    expected_version: Option<i64>,
}

impl TryFrom<pb::UploadAttachmentMetadata> for UploadRequest {
    type Error = Status;

    fn try_from(metadata: pb::UploadAttachmentMetadata) -> Result<Self, Status> {
        let mut errors = FieldErrors::new();
        let application_id = Uuid::parse_str(metadata.application_id.trim());
        errors.check(application_id.is_ok(), "application_id", "must be a UUID");
        let file_name = sanitise_file_name(&metadata.file_name);
        errors.check(file_name.is_some(), "file_name", "is required (a label for the file)");
        let replaces = match metadata.replaces_attachment_id.trim() {
            "" => Ok(None),
            raw => Uuid::parse_str(raw).map(Some),
        };
        errors.check(replaces.is_ok(), "replaces_attachment_id", "must be a UUID or empty");
        errors.into_result()?;
        match (application_id, file_name, replaces) {
            (Ok(application_id), Some(file_name), Ok(replaces)) => Ok(Self {
                application_id,
                required_document: metadata.required_document,
                file_name,
                replaces,
                expected_version: metadata.expected_version,
            }),
            _ => Err(Status::invalid_argument("invalid metadata")),
        }
    }
}

impl AttachmentsApi {
    /// The application `id` of the caller's organisation, or NOT_FOUND.
    async fn owner(&self, org: &OrgId, id: Uuid) -> Result<Owner, Status> {
        let stream = StreamRef::new(org, APPLICATION, id.to_string());
        let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        match (loaded.state.created, loaded.state.status) {
            (Some(created), Some(status)) => Ok(Owner { created, status }),
            _ => Err(Status::not_found("no such application")),
        }
    }

    /// The application, if the caller is its applicant (who alone changes its files).
    async fn owned(&self, principal: &Principal, id: Uuid) -> Result<Owner, Status> {
        let owner = self.owner(&principal.org, id).await?;
        if owner.created.applicant_id != principal.user_id {
            return Err(Status::permission_denied("only the applicant changes the application's attachments"));
        }
        Ok(owner)
    }

    /// The application, if the caller may read it.
    async fn readable(&self, principal: &Principal, id: Uuid) -> Result<Owner, Status> {
        let owner = self.owner(&principal.org, id).await?;
        if !crate::service::may_read_created(principal, &owner.created) {
            return Err(Status::permission_denied("this application belongs to someone else"));
        }
        Ok(owner)
    }

    /// The rest of an upload: its chunks, refused as soon as they pass the size limit.
    async fn receive(&self, mut stream: Streaming<pb::UploadAttachmentRequest>) -> Result<Bytes, Status> {
        let mut content = Vec::new();
        while let Some(message) = stream.message().await? {
            match message.part {
                Some(Part::Chunk(chunk)) => {
                    if content.len() + chunk.len() > self.limits.max_bytes {
                        return Err(FieldErrors::one(
                            "chunk",
                            format!("the file is larger than {}", super::content::size_label(self.limits.max_bytes)),
                        ));
                    }
                    content.extend_from_slice(&chunk);
                }
                Some(Part::Metadata(_)) => {
                    return Err(FieldErrors::one("metadata", "only the first message carries the metadata"));
                }
                None => {}
            }
        }
        Ok(Bytes::from(content))
    }

    /// Removes blobs no event names any more; a failure only leaves an unreferenced blob behind.
    async fn forget_blob(&self, key: &str) {
        if let Err(error) = self.blobs.delete(key).await {
            tracing::warn!(blob_key = key, error = %format!("{error:#}"), "an unreferenced attachment blob stays");
        }
    }
}

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadAttachmentResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AttachmentsService for AttachmentsApi {
    #[tracing::instrument(skip_all, fields(application_id = tracing::field::Empty))]
    async fn upload_attachment(
        &self,
        request: Request<Streaming<pb::UploadAttachmentRequest>>,
    ) -> Result<Response<pb::UploadAttachmentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let mut stream = request.into_inner();
        let Some(pb::UploadAttachmentRequest { part: Some(Part::Metadata(metadata)) }) = stream.message().await? else {
            return Err(FieldErrors::one("metadata", "the first message must carry the metadata"));
        };
        let upload = UploadRequest::try_from(metadata)?;
        tracing::Span::current().record("application_id", tracing::field::display(upload.application_id));

        // Refuse what cannot succeed before the file is sent.
        let owner = self.owned(&principal, upload.application_id).await?;
        let (state, version) =
            attachments_of(self.store.as_ref(), &principal.org, upload.application_id).await.map_err(store_status)?;
        check_version(upload.expected_version, version)?;
        let attachment_id = Uuid::now_v7();
        let file = |content_type: &str, content: &Bytes| Uploaded {
            attachment_id,
            application_id: upload.application_id,
            required_document: upload.required_document,
            file_name: upload.file_name.clone(),
            content_type: content_type.to_owned(),
            size_bytes: content.len() as u64,
            sha256: sha256_hex(content),
            blob_key: blob_key(principal.org.as_str(), upload.application_id, attachment_id),
        };
        let command = |file| AttachmentCommand::Upload { file, replaces: upload.replaces };
        decide(&state, &owner.draft(), command(file("", &Bytes::new())))?;

        let content = self.receive(stream).await?;
        let content_type = self.limits.check(&content).map_err(|problem| FieldErrors::one("chunk", problem))?;
        let file = file(content_type, &content);

        // Decide on what is there now: uploads of other files in the meantime are no conflict unless the client
        // named the version it saw.
        let owner = self.owned(&principal, upload.application_id).await?;
        let (state, version) =
            attachments_of(self.store.as_ref(), &principal.org, upload.application_id).await.map_err(store_status)?;
        check_version(upload.expected_version, version)?;
        let events = decide(&state, &owner.draft(), command(file.clone()))?;
        let metadata = request_metadata(principal.actor(), Some(upload.application_id));
        let encoded = encode_all(&events, &metadata).map_err(store_status)?;

        self.blobs.put(&file.blob_key, content).await.map_err(|error| {
            tracing::error!(error = %format!("{error:#}"), "the attachment could not be stored");
            Status::unavailable("the file store is unavailable, try again")
        })?;
        let stream_ref = StreamRef::new(&principal.org, ATTACHMENT, upload.application_id.to_string());
        let outcome = match self.store.commit(Commit::append(stream_ref, version, encoded)).await {
            Ok(outcome) => outcome,
            Err(error) => {
                self.forget_blob(&file.blob_key).await;
                return Err(store_status(error));
            }
        };
        for event in &events {
            if let AttachmentEvent::Replaced { replaced_blob_key, .. } = event {
                self.forget_blob(replaced_blob_key).await;
            }
        }
        tracing::info!(%attachment_id, content_type, size_bytes = file.size_bytes, "attachment stored");
        // Answer with what was stored (the log keeps times to its own precision), as later reads will show it.
        let (stored, _) =
            attachments_of(self.store.as_ref(), &principal.org, upload.application_id).await.map_err(store_status)?;
        let attachment =
            stored.get(attachment_id).cloned().unwrap_or(Attachment { file, uploaded_at: metadata.occurred_at });
        Ok(Response::new(pb::UploadAttachmentResponse {
            attachment: Some(attachment_pb(&attachment)),
            version: committed_version(outcome, version),
        }))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id))]
    async fn list_attachments(
        &self,
        request: Request<pb::ListAttachmentsRequest>,
    ) -> Result<Response<pb::ListAttachmentsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let id = parse_id("application_id", &request.get_ref().application_id)?;
        self.readable(&principal, id).await?;
        let (state, version) = attachments_of(self.store.as_ref(), &principal.org, id).await.map_err(store_status)?;
        Ok(Response::new(pb::ListAttachmentsResponse {
            attachments: state.files.iter().map(attachment_pb).collect(),
            version,
        }))
    }

    type DownloadAttachmentStream = DownloadStream;

    #[tracing::instrument(skip_all, fields(attachment_id = %request.get_ref().attachment_id))]
    async fn download_attachment(
        &self,
        request: Request<pb::DownloadAttachmentRequest>,
    ) -> Result<Response<Self::DownloadAttachmentStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.get_ref();
        let (application_id, attachment_id) = parse_ids(&body.application_id, &body.attachment_id)?;
        self.readable(&principal, application_id).await?;
        let (state, _) =
            attachments_of(self.store.as_ref(), &principal.org, application_id).await.map_err(store_status)?;
        let attachment = state.get(attachment_id).ok_or(AttachmentError::NotFound(attachment_id))?.clone();
        let content = self.blobs.get(&attachment.file.blob_key).await.map_err(|error| {
            tracing::error!(error = %format!("{error:#}"), "the attachment could not be read");
            Status::unavailable("the file store is unavailable, try again")
        })?;
        let content = match content {
            Some(content) if sha256_hex(&content) == attachment.file.sha256 => content,
            found => {
                tracing::error!(blob_key = %attachment.file.blob_key, present = found.is_some(), "attachment blob lost or altered");
                return Err(Status::data_loss("the stored file is missing or damaged"));
            }
        };
        let mut messages =
            vec![pb::DownloadAttachmentResponse { attachment: Some(attachment_pb(&attachment)), chunk: Vec::new() }];
        for (i, piece) in content.chunks(CHUNK).enumerate() {
            if i == 0 {
                messages[0].chunk = piece.to_vec();
            } else {
                messages.push(pb::DownloadAttachmentResponse { attachment: None, chunk: piece.to_vec() });
            }
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(messages.into_iter().map(Ok)))))
    }

    #[tracing::instrument(skip_all, fields(attachment_id = %request.get_ref().attachment_id))]
    async fn delete_attachment(
        &self,
        request: Request<pb::DeleteAttachmentRequest>,
    ) -> Result<Response<pb::DeleteAttachmentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.into_inner();
        let (application_id, attachment_id) = parse_ids(&body.application_id, &body.attachment_id)?;
        let owner = self.owned(&principal, application_id).await?;
        let (state, version) =
            attachments_of(self.store.as_ref(), &principal.org, application_id).await.map_err(store_status)?;
        check_version(body.expected_version, version)?;
        let events = decide(&state, &owner.draft(), AttachmentCommand::Delete { attachment_id })?;
        let metadata = request_metadata(principal.actor(), Some(application_id));
        let encoded = encode_all(&events, &metadata).map_err(store_status)?;
        let stream_ref = StreamRef::new(&principal.org, ATTACHMENT, application_id.to_string());
        let outcome = self.store.commit(Commit::append(stream_ref, version, encoded)).await.map_err(store_status)?;
        for event in &events {
            if let AttachmentEvent::Deleted { blob_key, .. } = event {
                self.forget_blob(blob_key).await;
            }
        }
        tracing::info!(%attachment_id, "attachment deleted");
        Ok(Response::new(pb::DeleteAttachmentResponse { version: committed_version(outcome, version) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_the_promised_codes() {
        let code = |e: AttachmentError| Status::from(e).code();
        assert_eq!(code(AttachmentError::NotADraft(ApplicationStatus::Submitted)), tonic::Code::FailedPrecondition);
        assert!(Status::from(AttachmentError::NotADraft(ApplicationStatus::Submitted)).message().contains("SUBMITTED"));
        assert_eq!(code(AttachmentError::Sealed), tonic::Code::FailedPrecondition);
        assert_eq!(code(AttachmentError::TooManyFiles { index: 0, max_files: 5 }), tonic::Code::FailedPrecondition);
        assert_eq!(code(AttachmentError::NoSuchRequiredDocument { index: 3, count: 1 }), tonic::Code::InvalidArgument);
        assert_eq!(code(AttachmentError::NotFound(Uuid::now_v7())), tonic::Code::NotFound);
        assert_eq!(check_version(Some(3), 4).map_err(|s| s.code()), Err(tonic::Code::Aborted));
        assert!(check_version(None, 4).is_ok() && check_version(Some(4), 4).is_ok());
    }

    #[test]
    fn upload_metadata_names_every_bad_field() {
        let status = UploadRequest::try_from(pb::UploadAttachmentMetadata {
            application_id: "nope".into(),
            required_document: 0,
            file_name: "../".into(),
            replaces_attachment_id: "x".into(),
            expected_version: None,
        })
        .err()
        .expect("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        for field in ["application_id", "file_name", "replaces_attachment_id"] {
            assert!(status.message().contains(field), "{field} in {}", status.message());
        }
    }
}
