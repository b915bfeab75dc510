//! The catalog gRPC API (thin), and defining services, sections and departments (admin calls and seeding).

use std::{collections::BTreeSet, sync::Arc};

use chrono::Datelike;

use onewindow_auth::Authenticator;
use onewindow_commands::{Command, CommandError, run_command};
use onewindow_eventlog::{Commit, EventStore, Loaded, OrgId, StoreError, StreamRef, encode, load, load_all};
use onewindow_proto::{
    catalog::v1::{
        ComputeDueDateRequest, ComputeDueDateResponse, DefineCalendarRequest, DefineCalendarResponse,
        DefineDepartmentRequest, DefineDepartmentResponse, DefineSectionRequest, DefineSectionResponse,
        DefineServiceRequest, DefineServiceResponse, GetCalendarRequest, GetCalendarResponse, GetServiceRequest,
        GetServiceResponse, ListDepartmentsRequest, ListDepartmentsResponse, ListSectionsRequest, ListSectionsResponse,
        ListServicesRequest, ListServicesResponse, SearchServicesRequest, SearchServicesResponse,
        catalog_service_server::CatalogService,
    },
    timestamp,
};
use onewindow_server::{FieldErrors, request_metadata, store_status};
use tonic::{Request, Response, Status};

use crate::{
    calendar::WorkingCalendar,
    convert::{self, definition_from_pb, definition_pb, department_from_pb, department_pb, section_pb},
    domain::{
        CALENDAR_ID, CALENDAR_STREAM, CalendarEvent, CalendarSettings, CatalogEntry, DEPARTMENT_STREAM,
        DefinitionError, Department, DepartmentEntry, DepartmentEvent, OrgCalendar, SECTION_STREAM, SERVICE_STREAM,
        Section, SectionEntry, SectionEvent, ServiceDefinition, check_route, define, effective_calendar, valid_code,
    },
    search::search,
};

/// A due date further than this is a typo, not a service standard.
const MAX_DUE_HOURS: i32 = 24 * 365;

pub struct CatalogApi {
    pub(crate) store: Arc<dyn EventStore>,
    pub(crate) auth: Arc<Authenticator>,
}

/// The organisation's calendar settings and their version.
async fn calendar_settings(store: &dyn EventStore, org: &OrgId) -> Result<(CalendarSettings, i64), StoreError> {
    let loaded = load::<OrgCalendar>(store, &StreamRef::new(org, CALENDAR_STREAM, CALENDAR_ID)).await?;
    Ok((loaded.state.0, loaded.version))
}

/// The working calendar of `org`: Kazakhstan's, with the organisation's adjustments.
pub async fn working_calendar(store: &dyn EventStore, org: &OrgId) -> Result<WorkingCalendar, Status> {
    let (settings, _) = calendar_settings(store, org).await.map_err(store_status)?;
    effective_calendar(&settings).map_err(|e| {
        tracing::error!(%org, error = %e, "a stored calendar does not build");
        Status::internal("the organisation's calendar is inconsistent")
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DefineError {
    #[error(transparent)]
    Rejected(#[from] DefinitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The admin's view is stale, or the definition kept changing under the runner's attempts.
    #[error("{0}")]
    Conflict(String),
}

impl From<CommandError<DefinitionError>> for DefineError {
    fn from(error: CommandError<DefinitionError>) -> Self {
        match error {
            CommandError::Refused(refusal) => Self::Rejected(refusal),
            CommandError::Store(error) => Self::Store(error),
            conflict => Self::Conflict(conflict.to_string()),
        }
    }
}

impl From<DefineError> for Status {
    fn from(error: DefineError) -> Self {
        match error {
            DefineError::Rejected(DefinitionError::Invalid { field, problem }) => {
                FieldErrors::one(&format!("service.{field}"), problem)
            }
            DefineError::Rejected(DefinitionError::Unchanged) => Status::already_exists("the definition is unchanged"),
            DefineError::Store(error) => store_status(error),
            DefineError::Conflict(problem) => Status::aborted(problem),
        }
    }
}

async fn known_departments(store: &dyn EventStore, org: &OrgId) -> Result<BTreeSet<String>, StoreError> {
    Ok(store.list_streams(org, DEPARTMENT_STREAM).await?.into_iter().collect())
}

/// Defines (or revises) a service of `org`; returns the new version, or the current one when unchanged.
/// `expected_version`, when given, must be the current version (an admin's edit of what they read).
pub async fn define_service(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    definition: ServiceDefinition,
    expected_version: Option<i64>,
) -> Result<i64, DefineError> {
    let known = known_departments(store, org).await?;
    define_checked(store, org, actor, definition, expected_version, &known).await
}

/// Defines many services, reading the known departments once (seeding a whole catalog).
pub async fn define_services(
    store: &dyn EventStore,
    org: &OrgId,
    actor: &str,
    definitions: Vec<ServiceDefinition>,
) -> Result<(), DefineError> {
    let known = known_departments(store, org).await?;
    for definition in definitions {
        define_checked(store, org, actor.to_owned(), definition, None, &known).await?;
    }
    Ok(())
}

async fn define_checked(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    definition: ServiceDefinition,
    expected_version: Option<i64>,
    known_departments: &BTreeSet<String>,
) -> Result<i64, DefineError> {
    check_route(&definition, known_departments)?;
    let stream = StreamRef::new(org, SERVICE_STREAM, definition.code.clone());
    let command = Command::new(stream, request_metadata(actor, None)).expecting(expected_version);
    let ran =
        run_command(store, &command, |entry: &Loaded<CatalogEntry>| match define(&entry.state, definition.clone()) {
            // An unchanged definition is no new version: nothing to write, the current version is the answer.
            Err(DefinitionError::Unchanged) => Ok(Vec::new()),
            decided => decided,
        })
        .await?;
    Ok(ran.version())
}

/// Defines a section or a department: a stream whose latest event is the definition (unchanged ones are skipped).
async fn define_latest<A, E>(
    store: &dyn EventStore,
    stream: StreamRef,
    actor: String,
    current: impl Fn(&A) -> bool,
    event: E,
) -> Result<(), StoreError>
where
    A: onewindow_eventlog::Aggregate,
    E: serde::Serialize + onewindow_eventlog::EventSchema,
{
    let loaded = load::<A>(store, &stream).await?;
    if current(&loaded.state) {
        return Ok(());
    }
    let new = encode(&event, &request_metadata(actor, None))?;
    store.commit(Commit::append(stream, loaded.version, vec![new])).await?;
    Ok(())
}

pub async fn define_section(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    section: Section,
) -> Result<(), StoreError> {
    let stream = StreamRef::new(org, SECTION_STREAM, section.code.clone());
    let same = section.clone();
    define_latest(
        store,
        stream,
        actor,
        move |e: &SectionEntry| e.0.as_ref() == Some(&same),
        SectionEvent::Defined(section),
    )
    .await
}

pub async fn define_department(
    store: &dyn EventStore,
    org: &OrgId,
    actor: String,
    department: Department,
) -> Result<(), StoreError> {
    let stream = StreamRef::new(org, DEPARTMENT_STREAM, department.code.clone());
    let same = department.clone();
    define_latest(
        store,
        stream,
        actor,
        move |e: &DepartmentEntry| e.0.as_ref() == Some(&same),
        DepartmentEvent::Defined(department),
    )
    .await
}

/// The current version of every service of `org`, in code order.
async fn current_services(store: &dyn EventStore, org: &OrgId) -> Result<Vec<(i64, ServiceDefinition)>, StoreError> {
    Ok(load_all::<CatalogEntry>(store, org, SERVICE_STREAM)
        .await?
        .into_iter()
        .filter_map(|(_, loaded)| loaded.state.current().map(|(v, d)| (v, d.clone())))
        .collect())
}

async fn sections(store: &dyn EventStore, org: &OrgId) -> Result<Vec<Section>, StoreError> {
    Ok(load_all::<SectionEntry>(store, org, SECTION_STREAM).await?.into_iter().filter_map(|(_, l)| l.state.0).collect())
}

/// `root` and every section under it.
fn subtree(sections: &[Section], root: &str) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = [root.to_owned()].into();
    loop {
        let before = found.len();
        for s in sections {
            if s.parent.as_ref().is_some_and(|p| found.contains(p)) {
                found.insert(s.code.clone());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_sections(
        &self,
        request: Request<ListSectionsRequest>,
    ) -> Result<Response<ListSectionsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let sections = sections(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
        Ok(Response::new(ListSectionsResponse { sections: sections.iter().map(section_pb).collect() }))
    }

    async fn list_services(
        &self,
        request: Request<ListServicesRequest>,
    ) -> Result<Response<ListServicesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let section = request.into_inner().section;
        let mut services = current_services(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
        if !section.trim().is_empty() {
            let all = sections(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
            let wanted = subtree(&all, section.trim());
            services.retain(|(_, d)| wanted.contains(&d.section) || wanted.contains(&d.office));
        }
        Ok(Response::new(ListServicesResponse {
            services: services.iter().map(|(v, d)| definition_pb(*v, d)).collect(),
        }))
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

    async fn search_services(
        &self,
        request: Request<SearchServicesRequest>,
    ) -> Result<Response<SearchServicesResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let query = request.into_inner().query;
        let mut errors = FieldErrors::new();
        errors.check(!query.trim().is_empty(), "query", "is required");
        errors.check(query.chars().count() <= 200, "query", "is longer than 200 characters");
        errors.into_result()?;
        let services = current_services(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
        let found = search(&services, |(_, d)| d, &query).into_iter().map(|(v, d)| definition_pb(*v, d)).collect();
        Ok(Response::new(SearchServicesResponse { services: found }))
    }

    async fn list_departments(
        &self,
        request: Request<ListDepartmentsRequest>,
    ) -> Result<Response<ListDepartmentsResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let departments = load_all::<DepartmentEntry>(self.store.as_ref(), &principal.org, DEPARTMENT_STREAM)
            .await
            .map_err(store_status)?;
        Ok(Response::new(ListDepartmentsResponse {
            departments: departments.into_iter().filter_map(|(_, l)| l.state.0).map(|d| department_pb(&d)).collect(),
        }))
    }

    #[tracing::instrument(skip_all, err)]
    async fn define_service(
        &self,
        request: Request<DefineServiceRequest>,
    ) -> Result<Response<DefineServiceResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let definition = definition_from_pb(request.service)?;
        let code = definition.code.clone();
        let version = define_service(
            self.store.as_ref(),
            &principal.org,
            principal.actor(),
            definition,
            request.expected_version,
        )
        .await
        .map_err(Status::from)?;
        let stream = StreamRef::new(&principal.org, SERVICE_STREAM, code);
        let entry = load::<CatalogEntry>(self.store.as_ref(), &stream).await.map_err(store_status)?.state;
        let defined = entry.version(version).ok_or_else(|| Status::internal("the defined version is missing"))?;
        tracing::info!(service = %defined.code, version, "service defined");
        Ok(Response::new(DefineServiceResponse { service: Some(definition_pb(version, defined)) }))
    }

    async fn define_department(
        &self,
        request: Request<DefineDepartmentRequest>,
    ) -> Result<Response<DefineDepartmentResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let department = department_from_pb(request.into_inner().department)?;
        define_department(self.store.as_ref(), &principal.org, principal.actor(), department.clone())
            .await
            .map_err(store_status)?;
        Ok(Response::new(DefineDepartmentResponse { department: Some(department_pb(&department)) }))
    }

    async fn define_section(
        &self,
        request: Request<DefineSectionRequest>,
    ) -> Result<Response<DefineSectionResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let section = request.into_inner().section.ok_or_else(|| FieldErrors::one("section", "is required"))?;
        let name = section.name.unwrap_or_default();
        let parent = Some(section.parent.trim().to_owned()).filter(|p| !p.is_empty());
        let mut errors = FieldErrors::new();
        errors.check(valid_code(section.code.trim()), "section.code", "1 to 64 characters of a-z, 0-9 and '-'");
        errors.check(
            ![&name.kk, &name.ru, &name.en].iter().any(|t| t.trim().is_empty()),
            "section.name",
            "is required in kk, ru and en",
        );
        if let Some(parent) = &parent {
            let known = self.store.list_streams(&principal.org, SECTION_STREAM).await.map_err(store_status)?;
            errors.check(known.contains(parent), "section.parent", "no such section");
            errors.check(parent != section.code.trim(), "section.parent", "a section cannot be its own parent");
        }
        errors.into_result()?;
        let section = Section {
            code: section.code.trim().to_owned(),
            parent,
            name: crate::domain::Localized { kk: name.kk, ru: name.ru, en: name.en },
            translations_reviewed: true,
        };
        define_section(self.store.as_ref(), &principal.org, principal.actor(), section.clone())
            .await
            .map_err(store_status)?;
        Ok(Response::new(DefineSectionResponse { section: Some(section_pb(&section)) }))
    }

    async fn get_calendar(
        &self,
        request: Request<GetCalendarRequest>,
    ) -> Result<Response<GetCalendarResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let year = request.into_inner().year;
        let (settings, version) = calendar_settings(self.store.as_ref(), &principal.org).await.map_err(store_status)?;
        let calendar = effective_calendar(&settings).map_err(|e| Status::internal(e.to_string()))?;
        let days_off = calendar
            .days_off()
            .filter(|(date, _)| date.year() == year)
            .map(|(date, name)| convert::calendar::day_off_pb(date, name))
            .collect();
        Ok(Response::new(GetCalendarResponse {
            settings: Some(convert::calendar::settings_pb(&settings)),
            days_off,
            version,
        }))
    }

    async fn define_calendar(
        &self,
        request: Request<DefineCalendarRequest>,
    ) -> Result<Response<DefineCalendarResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let settings = convert::calendar::settings_from_pb(request.settings)?;
        // The settings must make a calendar: office hours that open before they close, transfers that swap a
        // working day for a day off.
        effective_calendar(&settings).map_err(|e| FieldErrors::one("settings", e.to_string()))?;
        let stream = StreamRef::new(&principal.org, CALENDAR_STREAM, CALENDAR_ID);
        let command =
            Command::new(stream, request_metadata(principal.actor(), None)).expecting(request.expected_version);
        let ran = run_command(self.store.as_ref(), &command, |_: &Loaded<OrgCalendar>| {
            Ok::<_, Status>(vec![CalendarEvent::Adjusted(settings.clone())])
        })
        .await?;
        let version = ran.decided_on.version;
        Ok(Response::new(DefineCalendarResponse {
            settings: Some(convert::calendar::settings_pb(&settings)),
            version: version + 1,
        }))
    }

    async fn compute_due_date(
        &self,
        request: Request<ComputeDueDateRequest>,
    ) -> Result<Response<ComputeDueDateResponse>, Status> {
        let principal = self.auth.authenticate(&request).await?;
        let request = request.into_inner();
        let mut errors = FieldErrors::new();
        let start = request
            .start
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)));
        errors.check(start.is_some(), "start", "is required and must be a valid time");
        errors.check((0..=MAX_DUE_HOURS).contains(&request.working_hours), "working_hours", "must be 0 to 8760");
        errors.into_result()?;
        let start = start.ok_or_else(|| FieldErrors::one("start", "is required"))?;
        let calendar = working_calendar(self.store.as_ref(), &principal.org).await?;
        let due = calendar.add_working_hours(start, request.working_hours as u32);
        Ok(Response::new(ComputeDueDateResponse { due: Some(timestamp(due)) }))
    }
}
