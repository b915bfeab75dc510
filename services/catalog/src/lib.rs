//! Catalog: the services each organisation offers, their passports and approval routes, versioned.
//!
//! Every service is an event stream; each `service.defined` event is a new version, so an application keeps
//! the version it was created under while the catalog moves on.
//!
//! # Layout
//! - `domain`: definitions, versions and their rules, pure; the demo catalog
//! - `service`: the gRPC API and `define_service`

mod domain;
mod service;

use onewindow_bus::Worker;
use onewindow_proto::catalog::v1::catalog_service_server::{CatalogServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use domain::{Approver, DocumentKind, Localized, ServiceDefinition, Stage, demo_services};
pub use service::{DefineError, define_service};

pub const SERVICE: &str = "catalog";
pub const DEFAULT_PORT: u16 = 50052;

/// Adds the catalog API to `grpc`; its log is published for other services' local copies.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::CatalogApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(CatalogServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    ctx.workers(SERVICE, Vec::new())
}

/// Runs the catalog as its own process (the distributed mode).
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let mut grpc = Grpc::default();
    let workers = register(&ctx, &mut grpc);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
