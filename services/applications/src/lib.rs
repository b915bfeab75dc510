//! Applications: what an applicant orders, from the draft to the issued document.
//!
//! Each application is an event stream, rebuilt on every command and decided by the pure `domain`. Its events
//! (`application.submitted` above all) start routing and notifications; routing's and documents' events move it
//! on through the consumers.
//!
//! # Layout
//! - `domain`: statuses, events, decisions; pure
//! - `service`: the gRPC API (thin), and committing reactions
//! - `consumers`: routing's sheet events and documents' issue move the application
//! - `catalog_copy`: the local copy of the catalog's services, kept from its events
//! - `lists`: the `application_list` read model (a projection), its queries and the watch streams

mod catalog_copy;
mod consumers;
mod domain;
pub mod lists;
mod service;

use std::sync::Arc;

use onewindow_bus::Worker;
use onewindow_proto::{
    applications::v1::applications_service_server::{ApplicationsServiceServer, SERVICE_NAME},
    catalog::v1::catalog_service_client::CatalogServiceClient,
};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext, env_or};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use domain::{
    Application, ApplicationEvent, Created, Language, RouteStep, ServiceSnapshot, Status, Submitted, format_number,
};

pub const SERVICE: &str = "applications";
pub const DEFAULT_PORT: u16 = 50053;

/// Adds the applications API to `grpc` and returns its relay and consumers.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc, catalog: CatalogServiceClient<Channel>) -> Vec<Worker> {
    let api = service::ApplicationsApi { store: ctx.store.clone(), auth: ctx.auth.clone(), catalog };
    grpc.routes.add_service(ApplicationsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    ctx.workers(
        SERVICE,
        vec![
            Arc::new(consumers::SheetProgress { store: ctx.store.clone() }),
            Arc::new(consumers::DocumentIssued { store: ctx.store.clone() }),
            Arc::new(catalog_copy::CatalogCopy { store: ctx.store.clone() }),
        ],
    )
}

/// A catalog client that connects on first use (the catalog may start after us).
pub fn catalog_client(url: &str) -> anyhow::Result<CatalogServiceClient<Channel>> {
    Ok(CatalogServiceClient::new(tonic::transport::Endpoint::from_shared(url.to_owned())?.connect_lazy()))
}

/// Runs applications as its own process (the distributed mode). Also reads `ONEWINDOW_CATALOG_URL`.
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let catalog = catalog_client(&env_or("ONEWINDOW_CATALOG_URL", "http://127.0.0.1:50052"))?;
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc, catalog);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
