//! The documents gRPC API: a document's record and PDF for its holder and staff, and the public verification.

use std::{pin::Pin, sync::Arc};

use bytes::Bytes;
use futures::Stream;
use onewindow_auth::{Authenticator, Principal};
use onewindow_eventlog::{EventStore, OrgId, StreamRef, load};
use onewindow_proto::documents::v1::{
    self as pb, DocumentStatus, DownloadDocumentRequest, DownloadDocumentResponse, GetDocumentRequest,
    GetDocumentResponse, VerifyDocumentRequest, VerifyDocumentResponse, documents_service_server::DocumentsService,
};
use onewindow_server::{FieldErrors, store_status};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    blobs::BlobStore,
    domain::{
        DOCUMENT, Document, DocumentError, Issued, JOURNAL, JournalEvent, RegistrationNumber, mask_name, may_read,
        sha256_hex,
    },
};

/// gRPC messages stay well under the 4 MiB default limit, and a client sees progress on a slow link.
const CHUNK: usize = 64 * 1024;

pub struct DocumentsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) auth: Arc<Authenticator>,
}

impl From<DocumentError> for Status {
    fn from(error: DocumentError) -> Self {
        match error {
            DocumentError::InvalidRegistrationNumber => FieldErrors::one("registration_number", error.to_string()),
            DocumentError::UnknownKind(_) | DocumentError::UnknownLanguage(_) => {
                Status::invalid_argument(error.to_string())
            }
            DocumentError::NotFound => Status::not_found(error.to_string()),
            DocumentError::NotAllowed => Status::permission_denied(error.to_string()),
            DocumentError::AlreadyIssued => Status::failed_precondition(error.to_string()),
        }
    }
}

/// A blob store that failed or lost a file: ours to fix, so it is logged; the caller may retry.
fn blob_status(error: anyhow::Error) -> Status {
    tracing::error!(error = format!("{error:#}"), "blob store failure");
    Status::unavailable("the document's file is unavailable, try again")
}

fn document_pb(org: &OrgId, issued: &Issued) -> pb::Document {
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
        // Revocation is not modelled yet: every issued document is valid.
        status: DocumentStatus::Valid as i32,
    }
}

fn document_id(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one("document_id", "must be a document id (a UUID)"))
}

impl DocumentsApi {
    /// The document in `org`, or NOT_FOUND: another organisation's documents are not there at all.
    async fn issued(&self, org: &OrgId, id: Uuid) -> Result<Issued, Status> {
        let stream = StreamRef::new(org, DOCUMENT, id.to_string());
        let document = load::<Document>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        Ok(document.state.issued.ok_or(DocumentError::NotFound)?)
    }

    /// The document `raw_id` names, if `reader` may read it.
    pub(crate) async fn readable(&self, reader: &Principal, raw_id: &str) -> Result<Issued, Status> {
        let id = document_id(raw_id)?;
        let issued = self.issued(&reader.org, id).await?;
        may_read(&issued, reader)?;
        Ok(issued)
    }

    /// The document's PDF, checked against the hash the log recorded: a file that no longer matches is never
    /// handed out.
    pub(crate) async fn pdf(&self, issued: &Issued) -> Result<Bytes, Status> {
        let bytes = self
            .blobs
            .get(&issued.blob_key)
            .await
            .map_err(blob_status)?
            .ok_or_else(|| blob_status(anyhow::anyhow!("{} is missing", issued.blob_key)))?;
        if sha256_hex(&bytes) != issued.sha256 {
            return Err(blob_status(anyhow::anyhow!("{} does not match its recorded SHA-256", issued.blob_key)));
        }
        Ok(bytes)
    }
}

type DownloadStream = Pin<Box<dyn Stream<Item = Result<DownloadDocumentResponse, Status>> + Send>>;

/// The PDF as a stream of chunks of at most [`CHUNK`] bytes.
fn download_stream(bytes: Bytes) -> DownloadStream {
    let chunks: Vec<_> = chunks(bytes).map(|chunk| Ok(DownloadDocumentResponse { chunk: chunk.to_vec() })).collect();
    Box::pin(tokio_stream::iter(chunks))
}

#[tonic::async_trait]
impl DocumentsService for DocumentsApi {
    #[tracing::instrument(skip_all, fields(document_id = %request.get_ref().document_id))]
    async fn get_document(
        &self,
        request: Request<GetDocumentRequest>,
    ) -> Result<Response<GetDocumentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let issued = self.readable(&principal, &request.get_ref().document_id).await?;
        Ok(Response::new(GetDocumentResponse { document: Some(document_pb(&principal.org, &issued)) }))
    }

    type DownloadDocumentStream = DownloadStream;

    #[tracing::instrument(skip_all, fields(document_id = %request.get_ref().document_id))]
    async fn download_document(
        &self,
        request: Request<DownloadDocumentRequest>,
    ) -> Result<Response<Self::DownloadDocumentStream>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let issued = self.readable(&principal, &request.get_ref().document_id).await?;
        let bytes = self.pdf(&issued).await?;
        Ok(Response::new(download_stream(bytes)))
    }

    /// Public: anyone holding a number (printed, or read from the QR code) may check it. Unknown numbers are an
    /// answer, not an error, and the holder's name is masked.
    #[tracing::instrument(skip_all, fields(org = %request.get_ref().organization_id))]
    async fn verify_document(
        &self,
        request: Request<VerifyDocumentRequest>,
    ) -> Result<Response<VerifyDocumentResponse>, Status> {
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let org = OrgId::parse(request.organization_id.trim());
        errors.check(org.is_ok(), "organization_id", "must be an organisation id such as \"kaznu\"");
        let number = RegistrationNumber::parse(&request.registration_number);
        errors.check(number.is_ok(), "registration_number", "must look like KAZNU-CS-2026-000017");
        errors.into_result()?;
        let (Ok(org), Ok(number)) = (org, number) else { return Err(Status::invalid_argument("invalid request")) };

        let not_found = || Response::new(VerifyDocumentResponse { found: false, ..Default::default() });
        if number.org != org {
            return Ok(not_found());
        }
        let journal_stream = StreamRef::new(&org, JOURNAL, number.kind.journal_id(number.year));
        // The journal's version is the number, so the entry is read directly, however long the journal is.
        let entry = self.store.read_event(&journal_stream, number.number).await.map_err(store_status)?;
        let Some(entry) = entry else { return Ok(not_found()) };
        let JournalEvent::NumberTaken { document_id: id, .. } =
            onewindow_eventlog::decode(&entry).map_err(|e| store_status(e.into()))?;
        let issued = match self.issued(&org, id).await {
            Ok(issued) => issued,
            Err(status) if status.code() == tonic::Code::NotFound => return Ok(not_found()),
            Err(status) => return Err(status),
        };
        Ok(Response::new(VerifyDocumentResponse {
            found: true,
            title: issued.title.clone(),
            holder_name_masked: mask_name(&issued.holder_name),
            issued_at: Some(onewindow_proto::timestamp(issued.issued_at)),
            status: DocumentStatus::Valid as i32,
            kept_by: format!("onewindow document journal of {org}"),
        }))
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
    use crate::testing::{Setup, Tokens, org, request, sheet_approved};

    struct Fixture {
        setup: Setup,
        tokens: Tokens,
        api: DocumentsApi,
        holder: Uuid,
        document: Issued,
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
        let api = DocumentsApi { store: setup.store.clone(), blobs: setup.blobs.clone(), auth: tokens.auth.clone() };
        let id = crate::domain::document_id(&kaznu, "app-1", crate::domain::DocumentKind::CertificateOfStudy);
        let document = api
            .readable(&principal("kaznu", holder, &[Role::Applicant]), &id.to_string())
            .await
            .expect("the holder reads it");
        Fixture { setup, tokens, api, holder, document }
    }

    #[tokio::test]
    async fn the_holder_and_staff_read_a_document_others_do_not() {
        let f = fixture().await;
        let id = f.document.document_id.to_string();
        let pb = document_pb(&org("kaznu"), &f.document);
        assert_eq!((pb.holder_id, pb.organization_id.as_str()), (f.holder.to_string(), "kaznu"));
        assert_eq!((pb.title.as_str(), pb.language.as_str()), ("Certificate of study", "en"));
        assert_eq!(pb.status, DocumentStatus::Valid as i32);
        for role in [Role::Executor, Role::Admin] {
            assert!(f.api.readable(&principal("kaznu", Uuid::now_v7(), &[role]), &id).await.is_ok(), "{role:?}");
        }
        let stranger = principal("kaznu", Uuid::now_v7(), &[Role::Applicant, Role::Approver]);
        let denied = f.api.readable(&stranger, &id).await;
        assert_eq!(denied.expect_err("another applicant").code(), Code::PermissionDenied);
        let elsewhere = principal("kaznmu", f.holder, &[Role::Admin]);
        let hidden = f.api.readable(&elsewhere, &id).await;
        assert_eq!(hidden.expect_err("another organisation").code(), Code::NotFound);
        let holder = principal("kaznu", f.holder, &[Role::Applicant]);
        let malformed = f.api.readable(&holder, "42").await.expect_err("not a uuid");
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert!(malformed.message().contains("document_id"));
        let unknown = f.api.readable(&holder, &Uuid::now_v7().to_string()).await;
        assert_eq!(unknown.expect_err("unknown").code(), Code::NotFound);
    }

    #[tokio::test]
    async fn calls_without_a_token_are_refused() {
        let f = fixture().await;
        let id = f.document.document_id.to_string();
        let get = f.api.get_document(tonic::Request::new(GetDocumentRequest { document_id: id.clone() })).await;
        assert_eq!(get.expect_err("no token").code(), Code::Unauthenticated);
        let download = f.api.download_document(tonic::Request::new(DownloadDocumentRequest { document_id: id })).await;
        assert_eq!(download.err().map(|s| s.code()), Some(Code::Unauthenticated));
    }

    #[tokio::test]
    async fn the_pdf_downloads_in_chunks() {
        let f = fixture().await;
        let mut stream = download_stream(f.api.pdf(&f.document).await.expect("pdf"));
        let mut pdf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk").chunk;
            assert!(!chunk.is_empty() && chunk.len() <= CHUNK);
            pdf.extend_from_slice(&chunk);
        }
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(pdf.len() as i64, f.document.size_bytes);
        assert_eq!(sha256_hex(&pdf), f.document.sha256);
    }

    #[tokio::test]
    async fn a_file_that_changed_or_vanished_is_not_handed_out() {
        let f = fixture().await;
        f.setup.blobs.put(&f.document.blob_key, Bytes::from_static(b"%PDF-1.7 tampered")).await.expect("overwrite");
        assert_eq!(f.api.pdf(&f.document).await.err().map(|s| s.code()), Some(Code::Unavailable));
        let mut gone = f.document.clone();
        gone.blob_key = "kaznu/none/none.pdf".into();
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
    async fn anyone_verifies_a_number_without_signing_in() {
        let f = fixture().await;
        let verify = |organization_id: &str, registration_number: &str| {
            f.api.verify_document(tonic::Request::new(VerifyDocumentRequest {
                organization_id: organization_id.into(),
                registration_number: registration_number.into(),
            }))
        };
        let number = f.document.registration_number.clone();
        let found = verify("kaznu", &number).await.expect("verify").into_inner();
        assert!(found.found);
        assert_eq!(found.title, "Certificate of study");
        assert_eq!(found.holder_name_masked, "Aruzhan S*** N***");
        assert_eq!(found.status, DocumentStatus::Valid as i32);
        assert_eq!(found.kept_by, "onewindow document journal of kaznu");
        assert_eq!(found.issued_at, Some(onewindow_proto::timestamp(f.document.issued_at)));
        assert!(verify("kaznu", &number.to_lowercase()).await.expect("verify").into_inner().found, "any case");

        let next = number.replace("000001", "000002");
        assert!(!verify("kaznu", &next).await.expect("unknown number").into_inner().found);
        assert!(!verify("kaznmu", &number).await.expect("another org").into_inner().found);

        let invalid = verify("", "12345").await.expect_err("invalid");
        assert_eq!(invalid.code(), Code::InvalidArgument);
        assert!(invalid.message().contains("organization_id") && invalid.message().contains("registration_number"));
    }

    /// Through a real token: the first verification fetches the key, and must not wait on itself.
    #[tokio::test]
    async fn the_holder_reads_through_a_token() {
        let f = fixture().await;
        let token = f.tokens.token(&org("kaznu"), f.holder, &[Role::Applicant]);
        let call =
            f.api.get_document(request(GetDocumentRequest { document_id: f.document.document_id.to_string() }, &token));
        let response = tokio::time::timeout(Duration::from_secs(5), call).await.expect("answered in time");
        assert_eq!(response.expect("read").into_inner().document.map(|d| d.holder_id), Some(f.holder.to_string()));
    }
}
