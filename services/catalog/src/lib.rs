//! Catalog: the services each organisation offers, their passports and approval routes, versioned; the section
//! tree, the departments routes may name, and the working calendar due dates are computed on.
//!
//! Every service is an event stream; each `service.defined` event is a new version, so an application keeps
//! the version it was created under while the catalog moves on. Sections and departments are streams too. The
//! catalog's log is published, so other services can keep a local copy.
//!
//! # Layout
//! - `domain`: definitions, versions, sections, departments and their rules, pure; the demo service
//! - `search`: finding services by words in kk, ru or en, pure
//! - `calendar`: the working calendar and the due-date calculator, pure
//! - `seed_data`: the real catalog of the seeds (`data/catalog.json`), and loading it into an organisation
//! - `convert`: domain ↔ protobuf
//! - `service`: the gRPC API and the admin operations
//! - `settings`: what the process reads at start

/// The calendar lives in `platform/calendar` (applications and routing count working hours on it too).
pub use onewindow_calendar as calendar;
mod convert;
mod domain;
mod search;
mod seed_data;
mod service;
pub mod settings;
#[cfg(test)]
mod stored_log;

use onewindow_bus::Worker;
use onewindow_eventlog::{EventStore, OrgId};
use onewindow_proto::catalog::v1::catalog_service_server::{CatalogServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use domain::{
    Approver, Department, DocumentKind, Fee, Language, Localized, RequiredDocument, Section, ServiceDefinition,
    ServiceForm, Stage, Standard, demo_services,
};
pub use seed_data::{CatalogData, catalog_data};
pub use service::{DefineError, define_department, define_section, define_service, define_services, working_calendar};
pub use settings::Settings;

pub const SERVICE: &str = "catalog";
pub const DEFAULT_PORT: u16 = 50052;

/// Adds the catalog API to `grpc`; its log is published for other services' local copies.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::CatalogApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(CatalogServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    ctx.workers(SERVICE, Vec::new())
}

/// Loads the seeds' catalog into `org`: departments first (routes name them), then sections, then services.
/// Idempotent: what is already defined as given is left alone.
pub async fn seed_catalog(store: &dyn EventStore, org: &OrgId) -> anyhow::Result<()> {
    let data = catalog_data()?;
    for department in data.departments {
        define_department(store, org, "service:seed".into(), department).await?;
    }
    for section in data.sections {
        define_section(store, org, "service:seed".into(), section).await?;
    }
    define_services(store, org, "service:seed", data.services).await?;
    Ok(())
}

/// Runs the catalog as its own process (the distributed mode).
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(SERVICE, &settings.server, &settings.cluster, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc);
    onewindow_server::parked::register(&mut grpc, ctx.consumers.clone(), ctx.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
