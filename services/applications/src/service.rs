//! The applications gRPC API: thin handlers over the pure domain.

use std::sync::Arc;

use chrono::{Datelike, Utc};
use onewindow_auth::{Authenticator, Principal, Role};
use onewindow_eventlog::{Commit, EventMetadata, EventStore, OrgId, StoreError, StreamAppend, StreamRef, encode, load};
use onewindow_proto::{
    applications::v1::{
        self as pb, CreateApplicationRequest, CreateApplicationResponse, GetApplicationRequest, GetApplicationResponse,
        SubmitApplicationRequest, SubmitApplicationResponse, applications_service_server::ApplicationsService,
    },
    catalog::v1::{GetServiceRequest, catalog_service_client::CatalogServiceClient},
    timestamp,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status, transport::Channel};
use uuid::Uuid;

use crate::domain::{
    APPLICATION, Application, ApplicationError, CounterEvent, Created, Language, NUMBER_COUNTER, RequiredDocument,
    RouteStep, ServiceNames, ServiceSnapshot, create, format_number, submit,
};

/// How often a lost race for the next application number is retried before giving up.
const NUMBER_ATTEMPTS: usize = 32;

pub struct ApplicationsApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) catalog: CatalogServiceClient<Channel>,
}

impl From<ApplicationError> for Status {
    fn from(error: ApplicationError) -> Self {
        match error {
            ApplicationError::NotFound => Status::not_found("no such application"),
            ApplicationError::AlreadyExists => Status::already_exists("the application exists already"),
            ApplicationError::InvalidTransition { .. } => Status::failed_precondition(error.to_string()),
            ApplicationError::Invalid(fields) => {
                let mut errors = FieldErrors::new();
                for (field, problem) in fields {
                    errors.add(field, problem);
                }
                errors.into_result().err().unwrap_or_else(|| Status::invalid_argument("invalid"))
            }
        }
    }
}

fn language_from_pb(value: i32) -> Result<Option<Language>, ()> {
    match pb::Language::try_from(value) {
        Ok(pb::Language::Unspecified) => Ok(None),
        Ok(pb::Language::Kk) => Ok(Some(Language::Kk)),
        Ok(pb::Language::Ru) => Ok(Some(Language::Ru)),
        Ok(pb::Language::En) => Ok(Some(Language::En)),
        Err(_) => Err(()),
    }
}

fn language_pb(language: Option<Language>) -> pb::Language {
    match language {
        None => pb::Language::Unspecified,
        Some(Language::Kk) => pb::Language::Kk,
        Some(Language::Ru) => pb::Language::Ru,
        Some(Language::En) => pb::Language::En,
    }
}

fn status_pb(status: crate::domain::Status) -> pb::ApplicationStatus {
    use crate::domain::Status as S;
    match status {
        S::Saved => pb::ApplicationStatus::Saved,
        S::Submitted => pb::ApplicationStatus::Submitted,
        S::InWork => pb::ApplicationStatus::InWork,
        S::Completed => pb::ApplicationStatus::Completed,
        S::Issued => pb::ApplicationStatus::Issued,
        S::Refused => pb::ApplicationStatus::Refused,
        S::Withdrawn => pb::ApplicationStatus::Withdrawn,
    }
}

fn application_pb(org: &OrgId, state: &Application, version: i64) -> Result<pb::Application, Status> {
    let created = state.created.as_ref().ok_or_else(|| Status::not_found("no such application"))?;
    let (document_id, document_number) =
        state.document.as_ref().map(|(id, n)| (id.to_string(), n.clone())).unwrap_or_default();
    Ok(pb::Application {
        id: created.application_id.to_string(),
        number: created.number.clone(),
        organization_id: org.to_string(),
        applicant_id: created.applicant_id.to_string(),
        applicant_name: created.applicant_name.clone(),
        service_code: created.service.code.clone(),
        service_version: created.service.version,
        status: state.status.map(status_pb).unwrap_or_default() as i32,
        document_language: language_pb(created.document_language) as i32,
        reason: created.reason.clone(),
        email: created.email.clone(),
        phone: created.phone.clone(),
        version,
        document_id,
        document_number,
        created_at: state.created_at.map(timestamp),
        updated_at: state.updated_at.map(timestamp),
        history: state
            .history
            .iter()
            .rev()
            .map(|h| pb::HistoryEntry {
                at: Some(timestamp(h.at)),
                status: status_pb(h.status) as i32,
                performer: h.performer.clone(),
                remark: h.remark.clone(),
            })
            .collect(),
    })
}

/// The catalog's document type as the events name it (`certificate_of_study`), or empty for none.
fn names(text: Option<onewindow_proto::catalog::v1::LocalizedText>) -> ServiceNames {
    let text = text.unwrap_or_default();
    ServiceNames { kk: text.kk, ru: text.ru, en: text.en }
}

/// The catalog names languages "kk", "ru" and "en".
fn language_code(code: &str) -> Option<Language> {
    match code {
        "kk" => Some(Language::Kk),
        "ru" => Some(Language::Ru),
        "en" => Some(Language::En),
        _ => None,
    }
}

fn issued_document_name(value: i32) -> &'static str {
    use onewindow_proto::catalog::v1::DocumentType;
    match DocumentType::try_from(value) {
        Ok(DocumentType::CertificateOfStudy) => "certificate_of_study",
        Ok(DocumentType::CertificateOfStipend) => "certificate_of_stipend",
        Ok(DocumentType::ClearanceSheet) => "clearance_sheet",
        Ok(DocumentType::Order) => "order",
        Ok(DocumentType::None | DocumentType::Unspecified) | Err(_) => "",
    }
}

fn parse_id(field: &str, raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| FieldErrors::one(field, "must be a UUID"))
}

/// The applicant sees their own applications; an approver those whose route passes their department (the
/// sheets they are on); the service centre's staff, administrators and integrators every application of the
/// organisation.
fn may_read(principal: &Principal, state: &Application) -> bool {
    let Some(created) = state.created.as_ref() else { return false };
    let own = created.applicant_id == principal.user_id;
    let on_route = principal.has(Role::Approver)
        && !principal.department.is_empty()
        && created.service.route.iter().any(|step| step.department == principal.department);
    // Integrator accounts (document management, accounting) read every application of their organisation.
    own || on_route || [Role::Executor, Role::Admin, Role::Integrator].into_iter().any(|role| principal.has(role))
}

fn encode_all<E: serde::Serialize>(
    events: &[E],
    metadata: &EventMetadata,
) -> Result<Vec<onewindow_eventlog::NewEvent>, Status> {
    events
        .iter()
        .map(|e| encode(e, 1, metadata))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| store_status(StoreError::from(e)))
}

impl ApplicationsApi {
    async fn service_snapshot(
        &self,
        request: &Request<CreateApplicationRequest>,
        org: &OrgId,
        code: &str,
    ) -> Result<ServiceSnapshot, Status> {
        if let Some(copy) = crate::catalog_copy::copied(self.store.as_ref(), org, code).await.map_err(store_status)? {
            return Ok(copy);
        }
        let mut call = Request::new(GetServiceRequest { code: code.to_owned(), version: 0 });
        // The catalog sees the applicant's own token: what they may not read, they may not apply for.
        if let Some(token) = request.metadata().get("authorization") {
            call.metadata_mut().insert("authorization", token.clone());
        }
        onewindow_telemetry::inject_into_metadata(call.metadata_mut());
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
}

#[tonic::async_trait]
impl ApplicationsService for ApplicationsApi {
    #[tracing::instrument(skip_all, fields(service = %request.get_ref().service_code), err)]
    async fn create_application(
        &self,
        request: Request<CreateApplicationRequest>,
    ) -> Result<Response<CreateApplicationResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        principal.require(Role::Applicant)?;
        let body = request.get_ref();
        let mut errors = FieldErrors::new();
        errors.check(!body.service_code.trim().is_empty(), "service_code", "is required");
        let language = language_from_pb(body.document_language);
        errors.check(language.is_ok(), "document_language", "must be LANGUAGE_KK, LANGUAGE_RU or LANGUAGE_EN");
        let email = body.email.trim();
        errors.check(
            email.is_empty() || (email.contains('@') && email.len() <= 254),
            "email",
            "is not an e-mail address",
        );
        errors.check(body.phone.len() <= 32, "phone", "is too long");
        errors.check(body.reason.len() <= 4000, "reason", "is longer than 4000 characters");
        errors.into_result()?;

        let service = self.service_snapshot(&request, &principal.org, body.service_code.trim()).await?;
        let application_id = Uuid::now_v7();
        let metadata = request_metadata(principal.actor(), Some(application_id));
        let now = Utc::now();
        let counter = StreamRef::new(&principal.org, NUMBER_COUNTER, now.year().to_string());
        let stream = StreamRef::new(&principal.org, APPLICATION, application_id.to_string());

        for _ in 0..NUMBER_ATTEMPTS {
            let taken = self.store.stream_version(&counter).await.map_err(store_status)?;
            let created = Created {
                application_id,
                number: format_number(principal.org.as_str(), now.year(), taken + 1),
                applicant_id: principal.user_id,
                applicant_name: principal.full_name.clone(),
                service: service.clone(),
                document_language: language.ok().flatten(),
                reason: body.reason.trim().to_owned(),
                email: email.to_owned(),
                phone: body.phone.trim().to_owned(),
            };
            let events = create(&Application::default(), created)?;
            // The number and the application are written together: a number is never taken without its application.
            let commit = Commit {
                appends: vec![
                    StreamAppend {
                        stream: counter.clone(),
                        expected_version: taken,
                        events: encode_all(&[CounterEvent::Taken { application_id }], &metadata)?,
                    },
                    StreamAppend {
                        stream: stream.clone(),
                        expected_version: 0,
                        events: encode_all(&events, &metadata)?,
                    },
                ],
                inbox: None,
            };
            match self.store.commit(commit).await {
                Ok(_) => {
                    let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
                    let application = application_pb(&principal.org, &loaded.state, loaded.version)?;
                    tracing::info!(application_id = %application_id, number = %application.number, "application created");
                    return Ok(Response::new(CreateApplicationResponse { application: Some(application) }));
                }
                // Another application took this number first: take the next one.
                Err(StoreError::Concurrency { .. }) => continue,
                Err(other) => return Err(store_status(other)),
            }
        }
        Err(Status::unavailable("too many applications at once; try again"))
    }

    #[tracing::instrument(skip_all, fields(application_id = %request.get_ref().application_id), err)]
    async fn submit_application(
        &self,
        request: Request<SubmitApplicationRequest>,
    ) -> Result<Response<SubmitApplicationResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let body = request.into_inner();
        let id = parse_id("application_id", &body.application_id)?;
        let stream = StreamRef::new(&principal.org, APPLICATION, id.to_string());
        let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        let Some(created) = &loaded.state.created else { return Err(ApplicationError::NotFound.into()) };
        if created.applicant_id != principal.user_id {
            return Err(Status::permission_denied("only the applicant may submit the application"));
        }
        if let Some(expected) = body.expected_version.filter(|v| *v != loaded.version) {
            return Err(Status::aborted(format!(
                "the application is at version {}, not {expected}: read it again and retry",
                loaded.version
            )));
        }
        let events = submit(&loaded.state, body.agreed_to_terms)?;
        let metadata = request_metadata(principal.actor(), Some(created.application_id));
        self.store
            .commit(Commit::append(stream.clone(), loaded.version, encode_all(&events, &metadata)?))
            .await
            .map_err(store_status)?;
        let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        tracing::info!(application_id = %id, "application submitted");
        Ok(Response::new(SubmitApplicationResponse {
            application: Some(application_pb(&principal.org, &loaded.state, loaded.version)?),
        }))
    }

    async fn get_application(
        &self,
        request: Request<GetApplicationRequest>,
    ) -> Result<Response<GetApplicationResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let id = parse_id("application_id", &request.get_ref().application_id)?;
        let stream = StreamRef::new(&principal.org, APPLICATION, id.to_string());
        let loaded = load::<Application>(self.store.as_ref(), &stream).await.map_err(store_status)?;
        if !loaded.exists() {
            return Err(ApplicationError::NotFound.into());
        }
        if !may_read(&principal, &loaded.state) {
            return Err(Status::permission_denied("this application belongs to someone else"));
        }
        Ok(Response::new(GetApplicationResponse {
            application: Some(application_pb(&principal.org, &loaded.state, loaded.version)?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use onewindow_eventlog::OrgId;

    use super::*;
    use crate::domain::{Created, RouteStep, ServiceSnapshot};

    fn person(roles: &[Role], department: &str) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            org: OrgId::parse("kaznu").expect("org"),
            roles: roles.to_vec(),
            full_name: "Test".into(),
            department: department.into(),
            position: String::new(),
        }
    }

    fn application(applicant: Uuid) -> Application {
        let step = |stage, department: &str| RouteStep {
            stage,
            department: department.into(),
            position: "Head".into(),
            required: 0,
        };
        Application {
            created: Some(Created {
                application_id: Uuid::now_v7(),
                number: "KAZNU-2026-000001".into(),
                applicant_id: applicant,
                applicant_name: "A".into(),
                service: ServiceSnapshot {
                    code: "clearance-sheet".into(),
                    version: 1,
                    name_kk: String::new(),
                    name_ru: String::new(),
                    name_en: String::new(),
                    route: vec![step(1, "library"), step(2, "deans-office")],
                    ..ServiceSnapshot::default()
                },
                document_language: None,
                reason: String::new(),
                email: String::new(),
                phone: String::new(),
            }),
            ..Application::default()
        }
    }

    #[test]
    fn every_catalog_document_type_is_named_as_documents_expects() {
        use onewindow_proto::catalog::v1::DocumentType;
        let names: Vec<_> = [
            DocumentType::CertificateOfStudy,
            DocumentType::CertificateOfStipend,
            DocumentType::ClearanceSheet,
            DocumentType::Order,
            DocumentType::None,
        ]
        .into_iter()
        .map(|t| issued_document_name(t as i32))
        .collect();
        assert_eq!(names, ["certificate_of_study", "certificate_of_stipend", "clearance_sheet", "order", ""]);
        assert_eq!(issued_document_name(99), "");
    }

    #[test]
    fn an_application_is_read_by_its_applicant_its_route_and_the_service_centre() {
        let applicant = person(&[Role::Applicant], "");
        let app = application(applicant.user_id);
        assert!(may_read(&applicant, &app));
        assert!(may_read(&person(&[Role::Approver], "deans-office"), &app), "an approver on the route");
        assert!(may_read(&person(&[Role::Executor], ""), &app) && may_read(&person(&[Role::Admin], ""), &app));
        assert!(may_read(&person(&[Role::Integrator], ""), &app), "an integrator reads, read-only");
        assert!(!may_read(&person(&[Role::Signatory], ""), &app), "a signatory is not staff");
        assert!(!may_read(&person(&[Role::Approver], "accounting"), &app), "an approver off the route");
        assert!(!may_read(&person(&[Role::Approver], ""), &app), "an approver of no department");
        assert!(!may_read(&person(&[Role::Applicant], "library"), &app), "another applicant");
        assert!(!may_read(&applicant, &Application::default()), "nothing to read");
    }
}
