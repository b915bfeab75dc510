//! What applications asks of other services over gRPC, with the caller's own token: the catalog's service
//! definition (when it is not copied yet) and, from identity, the applicant's personal card and staff names.

use onewindow_auth::Principal;
use onewindow_eventlog::{EventStore, OrgId};
use onewindow_proto::{
    catalog::v1::{GetServiceRequest, catalog_service_client::CatalogServiceClient},
    documents::v1::{
        DownloadDocumentRequest, DownloadDocumentResponse, documents_service_client::DocumentsServiceClient,
    },
    identity::v1::{GetCardRequest, PersonalCard, identity_service_client::IdentityServiceClient},
};
use onewindow_server::{FieldErrors, store_status};
use tonic::{Request, Status, metadata::MetadataMap, transport::Channel};
use uuid::Uuid;

use crate::convert::{issued_document_name, language_code, names};
use crate::domain::{ApplicantBlock, RequiredDocument, RouteStep, ServiceSnapshot};

#[derive(Clone)]
pub struct Upstream {
    pub catalog: CatalogServiceClient<Channel>,
    pub identity: IdentityServiceClient<Channel>,
    pub documents: DocumentsServiceClient<Channel>,
}

/// A call on behalf of the caller: their token, and the trace context.
pub(crate) fn on_behalf<T>(incoming: &MetadataMap, message: T) -> Request<T> {
    let mut call = Request::new(message);
    if let Some(token) = incoming.get("authorization") {
        call.metadata_mut().insert("authorization", token.clone());
    }
    onewindow_telemetry::inject_into_metadata(call.metadata_mut());
    call
}

fn full_name(card: &PersonalCard) -> String {
    [card.surname.as_str(), card.name.as_str(), card.patronymic.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Upstream {
    /// The service as the application copies it: from the local copy of the catalog, else from the catalog.
    pub async fn service_snapshot(
        &self,
        store: &dyn EventStore,
        incoming: &MetadataMap,
        org: &OrgId,
        code: &str,
    ) -> Result<ServiceSnapshot, Status> {
        if let Some(copy) = crate::catalog_copy::copied(store, org, code).await.map_err(store_status)? {
            return Ok(copy);
        }
        // The catalog sees the applicant's own token: what they may not read, they may not apply for.
        let call = on_behalf(incoming, GetServiceRequest { code: code.to_owned(), version: 0 });
        let service = match self.catalog.clone().get_service(call).await {
            Ok(response) => response.into_inner().service.ok_or_else(|| Status::internal("catalog answered empty"))?,
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Err(FieldErrors::one("service_code", "no such service in the catalog"));
            }
            Err(status) => {
                return Err(Status::unavailable(format!("the catalog is unavailable: {}", status.message())));
            }
        };
        let name = service.name.unwrap_or_default();
        let stages = service.route.unwrap_or_default().stages;
        let route = RouteStep::from_stages(stages.into_iter().map(|stage| {
            let required = u32::try_from(stage.required).unwrap_or(0);
            (required, stage.approvers.into_iter().map(|a| (a.department, a.position)).collect())
        }));
        let issues_document = issued_document_name(service.issues_document).to_owned();
        Ok(ServiceSnapshot {
            code: service.code,
            version: service.version,
            name_kk: name.kk,
            name_ru: name.ru,
            name_en: name.en,
            route,
            issues_document,
            office: service.office,
            average_processing_hours: u32::try_from(service.average_processing_hours).unwrap_or(0),
            required_documents: service
                .required_documents
                .into_iter()
                .map(|r| RequiredDocument {
                    name: names(r.name),
                    max_files: u32::try_from(r.max_files).unwrap_or(1).max(1),
                    required: r.required,
                })
                .collect(),
            reasons: service.reasons.into_iter().map(|r| names(Some(r))).collect(),
            document_languages: service.document_languages.iter().filter_map(|l| language_code(l)).collect(),
        })
    }

    /// The caller's personal card as the applicant block; empty when identity holds no card for them.
    pub async fn applicant_block(&self, incoming: &MetadataMap) -> Result<ApplicantBlock, Status> {
        match self.identity.clone().get_card(on_behalf(incoming, GetCardRequest { user_id: String::new() })).await {
            Ok(response) => Ok(response.into_inner().card.map(crate::convert::applicant_from_card).unwrap_or_default()),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(ApplicantBlock::default()),
            Err(status) => Err(Status::unavailable(format!("identity is unavailable: {}", status.message()))),
        }
    }

    /// A colleague's full name, from their personal card (staff may read the cards of their organisation).
    pub async fn person_name(
        &self,
        incoming: &MetadataMap,
        caller: &Principal,
        field: &str,
        user_id: Uuid,
    ) -> Result<String, Status> {
        if user_id == caller.user_id {
            return Ok(caller.full_name.clone());
        }
        let call = on_behalf(incoming, GetCardRequest { user_id: user_id.to_string() });
        match self.identity.clone().get_card(call).await {
            Ok(response) => {
                let card = response.into_inner().card.unwrap_or_default();
                let name = full_name(&card);
                if name.is_empty() { Ok(user_id.to_string()) } else { Ok(name) }
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                Err(FieldErrors::one(field, "no such person in the organisation"))
            }
            Err(status) => Err(Status::unavailable(format!("identity is unavailable: {}", status.message()))),
        }
    }

    /// The issued document's PDF in `language` ("kk", "ru", "en"; empty for the application's), streamed from the
    /// documents service with the caller's own token (so its rules on who may download apply).
    pub async fn download(
        &self,
        incoming: &MetadataMap,
        document_id: Uuid,
        language: &str,
    ) -> Result<tonic::Streaming<DownloadDocumentResponse>, Status> {
        let request = DownloadDocumentRequest {
            document_id: document_id.to_string(),
            language: language.into(),
            printed_form: false,
        };
        match self.documents.clone().download_document(on_behalf(incoming, request)).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) if status.code() == tonic::Code::Unavailable => {
                Err(Status::unavailable(format!("the documents service is unavailable: {}", status.message())))
            }
            Err(status) => Err(status),
        }
    }
}
