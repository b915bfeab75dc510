//! The public verification's lookup: what a request names (a number, a QR payload, a code or link) and the
//! document it finds, and the record of each check on the holder's verification stream.

use onewindow_commands::{Attempt, CommandError, RetryPolicy, encode_all, retry};
use onewindow_eventlog::{Commit, OrgId, StoreError, StreamRef, decode, load};
use onewindow_proto::documents::v1 as pb;
use onewindow_server::{FieldErrors, store_status};
use tonic::Status;
use uuid::Uuid;

use super::DocumentsApi;
use crate::{
    domain::{Document, JournalEvent, RegistrationNumber},
    issuer::journal_position,
    signing::{self, PublicKey, QrError},
    verification::{CodeIndex, Recorded, VERIFICATION, VERIFICATION_CODE, VerificationEvent},
};

/// What a verification request names.
pub(super) enum Target {
    Number(OrgId, RegistrationNumber),
    /// The organisation the payload names, and the payload (its signature not checked yet).
    Qr(OrgId, String),
    Code(OrgId, String),
}

/// The document a verification found, or why none was.
pub(super) enum Found {
    Document { org: OrgId, document: Box<Document>, approvers: Vec<String> },
    NotFound { reason: String },
}

/// The lookup behind `VerifyDocument`, kept apart from the handler: a registration number through its journal,
/// a QR payload through its signature and link, a code through its index; and the record of each check.
impl DocumentsApi {
    /// Finds the document a verification names, with the organisation's `keys`. A QR payload whose signature fails
    /// finds nothing.
    pub(super) async fn find(&self, target: &Target, keys: &[PublicKey]) -> Result<Found, Status> {
        let not_found = |reason: &str| Ok(Found::NotFound { reason: reason.to_owned() });
        let (org, id, qr_approvers) = match target {
            Target::Number(org, number) => {
                if &number.org != org {
                    return not_found("no such number");
                }
                let journal = number.journal.stream(org);
                let position = journal_position(self.store.as_ref(), &journal).await.map_err(store_status)?;
                let Some(version) = position.version_of(number.number) else { return not_found("no such number") };
                let entry = self.store.read_event(&journal, version).await.map_err(store_status)?;
                let Some(entry) = entry else { return not_found("no such number") };
                match decode::<JournalEvent>(&entry).map_err(|e| store_status(StoreError::Corrupt(e.to_string())))? {
                    JournalEvent::NumberTaken { document_id, .. } => (org.clone(), document_id, None),
                    JournalEvent::NumberVoided { reason, .. } => {
                        return not_found(&format!("the number was voided: {reason}"));
                    }
                    JournalEvent::ContinuedFromPaper { .. } => return not_found("no such number"),
                }
            }
            Target::Qr(org, payload) => {
                let claims = match signing::verify_qr(payload, keys) {
                    Ok(claims) => claims,
                    Err(error) => return not_found(&error.to_string()),
                };
                let Some((link_org, code)) = signing::link_target(&claims.verify_url) else {
                    return not_found("the code names no document");
                };
                if link_org != org.as_str() {
                    return not_found("the code names no document");
                }
                let Some(id) = self.code_document(org, code).await? else { return not_found("no such document") };
                (org.clone(), id, Some(claims.approvers))
            }
            Target::Code(org, code) => {
                let Some(id) = self.code_document(org, code).await? else { return not_found("no such document") };
                (org.clone(), id, None)
            }
        };
        let (document, _) = match self.document(&org, id).await {
            Ok(found) => found,
            Err(status) if status.code() == tonic::Code::NotFound => return not_found("no such document"),
            Err(status) => return Err(status),
        };
        let approvers = qr_approvers.unwrap_or_else(|| {
            document
                .issued
                .as_ref()
                .map(|i| i.content.approvals.iter().map(|a| a.full_name.clone()).collect())
                .unwrap_or_default()
        });
        Ok(Found::Document { org, document: Box::new(document), approvers })
    }

    pub(super) async fn code_document(&self, org: &OrgId, code: &str) -> Result<Option<Uuid>, Status> {
        let valid = !code.is_empty()
            && code.len() <= 64
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Ok(None);
        }
        let stream = StreamRef::new(org, VERIFICATION_CODE, code);
        let index = load::<CodeIndex>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        Ok(index.state.document_id)
    }

    /// Records a check on the document's verification stream (retrying checks recorded at the same moment).
    pub(super) async fn record_check(&self, org: &OrgId, recorded: Recorded) -> Result<(), Status> {
        let stream = StreamRef::new(org, VERIFICATION, recorded.document_id.to_string());
        let metadata = onewindow_eventlog::EventMetadata {
            occurred_at: recorded.verified_at,
            actor: "public".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: onewindow_telemetry::current_traceparent(),
        };
        let events = encode_all(&[VerificationEvent::Recorded(recorded)], &metadata)
            .map_err(|e| store_status(StoreError::Corrupt(e.to_string())))?;
        // Appended whatever is there: only the stream's version is read again after a lost race.
        let (store, stream, events) = (self.store.as_ref(), &stream, &events);
        retry(store, RetryPolicy::DEFAULT, move |_| async move {
            let version = store.stream_version(stream).await?;
            Ok::<_, CommandError<Status>>(Attempt::Commit(Commit::append(stream.clone(), version, events.clone()), ()))
        })
        .await?;
        Ok(())
    }
}

/// What a verification request names: exactly one of a number (with its organisation), a QR payload, or a
/// verification code (with its organisation, or as the whole link).
pub(super) fn target(request: &pb::VerifyDocumentRequest) -> Result<Target, Status> {
    let given = [&request.registration_number, &request.qr_payload, &request.verification_code]
        .iter()
        .filter(|v| !v.trim().is_empty())
        .count();
    if given != 1 {
        let message = "give exactly one of registration_number, qr_payload and verification_code";
        let mut errors = FieldErrors::new();
        for field in ["registration_number", "qr_payload", "verification_code"] {
            errors.check(false, field, message);
        }
        return Err(errors.into_result().err().unwrap_or_else(|| Status::invalid_argument(message)));
    }
    if !request.qr_payload.trim().is_empty() {
        let (claims, _, _) =
            signing::read_qr(&request.qr_payload).map_err(|e| FieldErrors::one("qr_payload", e.to_string()))?;
        let org = OrgId::parse(&claims.organization_id)
            .map_err(|_| FieldErrors::one("qr_payload", QrError::Malformed.to_string()))?;
        return Ok(Target::Qr(org, request.qr_payload.clone()));
    }
    let org = || {
        OrgId::parse(request.organization_id.trim())
            .map_err(|_| FieldErrors::one("organization_id", "must be an organisation id such as \"kaznu\""))
    };
    if !request.verification_code.trim().is_empty() {
        let code = request.verification_code.trim();
        if let Some((org, code)) = signing::link_target(code).filter(|_| code.contains('/')) {
            let org =
                OrgId::parse(org).map_err(|_| FieldErrors::one("verification_code", "is not a verification link"))?;
            return Ok(Target::Code(org, code.to_owned()));
        }
        return Ok(Target::Code(org()?, code.to_owned()));
    }
    let mut errors = FieldErrors::new();
    let org = org();
    errors.check(org.is_ok(), "organization_id", "must be an organisation id such as \"kaznu\"");
    let number = RegistrationNumber::parse(&request.registration_number);
    errors.check(number.is_ok(), "registration_number", "must look like KAZNU-CS-2026-000017");
    errors.into_result()?;
    match (org, number) {
        (Ok(org), Ok(number)) => Ok(Target::Number(org, number)),
        _ => Err(Status::invalid_argument("invalid request")),
    }
}
