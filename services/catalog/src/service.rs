//! The catalog gRPC API (reads), and defining services (seeding now, the admin API later).

use std::sync::Arc;

use onewindow_auth::Authenticator;
use onewindow_eventlog::{Commit, EventStore, OrgId, StoreError, StreamRef, encode, load};
use onewindow_proto::catalog::v1::{
    self as pb, GetServiceRequest, GetServiceResponse, ListServicesRequest, ListServicesResponse,
    catalog_service_server::CatalogService,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};

use crate::domain::{CatalogEntry, DefinitionError, DocumentKind, SERVICE_STREAM, ServiceDefinition, define};

pub struct CatalogApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

#[derive(Debug, thiserror::Error)]
pub enum DefineError {
    #[error(transparent)]
    Rejected(#[from] DefinitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Defines (or revises) a service of `org`; returns the new version, or the current one when unchanged.
pub async fn define_service(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    definition: ServiceDefinition,
) -> Result<i64, DefineError> {
    let stream = StreamRef::new(org, SERVICE_STREAM, definition.code.clone());
    let entry = load::<CatalogEntry>(store, &stream).await?;
    let events = match define(&entry.state, definition) {
        Ok(events) => events,
        Err(DefinitionError::Unchanged) => return Ok(entry.version),
        Err(other) => return Err(other.into()),
    };
    let metadata = request_metadata(actor, None);
    let events =
        events.iter().map(|e| encode(e, 1, &metadata)).collect::<Result<Vec<_>, _>>().map_err(StoreError::from)?;
    let count = events.len() as i64;
    store.commit(Commit::append(stream, entry.version, events)).await?;
    Ok(entry.version + count)
}

pub(crate) fn definition_pb(version: i64, d: &ServiceDefinition) -> pb::ServiceDefinition {
    pb::ServiceDefinition {
        code: d.code.clone(),
        version,
        name: Some(pb::LocalizedText { kk: d.name.kk.clone(), ru: d.name.ru.clone(), en: d.name.en.clone() }),
        office: d.office.clone(),
        route: Some(pb::Route {
            stages: d
                .route
                .iter()
                .map(|stage| pb::RouteStage {
                    approvers: stage
                        .approvers
                        .iter()
                        .map(|a| pb::RouteApprover { department: a.department.clone(), position: a.position.clone() })
                        .collect(),
                })
                .collect(),
        }),
        issues_document: match d.issues_document {
            DocumentKind::None => pb::DocumentType::None,
            DocumentKind::CertificateOfStudy => pb::DocumentType::CertificateOfStudy,
        } as i32,
        average_processing_hours: d.average_processing_hours as i32,
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_services(
        &self,
        request: Request<ListServicesRequest>,
    ) -> Result<Response<ListServicesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let codes = self.store.list_streams(&principal.org, SERVICE_STREAM).await.map_err(store_status)?;
        let mut services = Vec::with_capacity(codes.len());
        for code in codes {
            let stream = StreamRef::new(&principal.org, SERVICE_STREAM, code);
            let entry = load::<CatalogEntry>(self.store.as_ref(), &stream).await.map_err(store_status)?;
            if let Some((version, definition)) = entry.state.current() {
                services.push(definition_pb(version, definition));
            }
        }
        Ok(Response::new(ListServicesResponse { services }))
    }

    async fn get_service(&self, request: Request<GetServiceRequest>) -> Result<Response<GetServiceResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        errors.check(!request.code.trim().is_empty(), "code", "is required");
        errors.check(request.version >= 0, "version", "must be 0 (current) or a version number");
        errors.into_result()?;
        let stream = StreamRef::new(&principal.org, SERVICE_STREAM, request.code.trim().to_owned());
        let entry = load::<CatalogEntry>(self.store.as_ref(), &stream).await.map_err(store_status)?.state;
        let found = if request.version == 0 {
            entry.current()
        } else {
            entry.version(request.version).map(|d| (request.version, d))
        };
        let (version, definition) = found
            .ok_or_else(|| Status::not_found(format!("no service {:?} (version {})", request.code, request.version)))?;
        Ok(Response::new(GetServiceResponse { service: Some(definition_pb(version, definition)) }))
    }
}
