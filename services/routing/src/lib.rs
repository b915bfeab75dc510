//! Routing: the approval sheet of every submitted application, and the approvers' decisions on it.
//!
//! When applications publishes `application.submitted`, routing opens the application's sheet: one row per
//! approver of the service's route, grouped in stages that are decided one after another, the rows of a stage in
//! parallel. An approver approves their department's row, or rejects it with a note. When every row is approved
//! routing publishes `sheet.approved` (carrying what the issued document needs); a rejection publishes
//! `sheet.rejected`. Each sheet is a stream `sheet/<application_id>` in routing's own log (docs/EVENTS.md).
//!
//! # Layout
//! - `domain`: the sheet as events: opening, deciding, folding; pure
//! - `applications`: the consumer of applications' events, which opens the sheets
//! - `service`: the gRPC API: a sheet, the approver's inbox, deciding a row

mod applications;
mod domain;
#[cfg(test)]
mod fixtures;
mod service;

use std::sync::Arc;

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::routing::v1::routing_service_server::{RoutingServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use applications::CONSUMER;

pub const SERVICE: &str = "routing";
pub const DEFAULT_PORT: u16 = 50054;

/// Adds the API to `grpc`; the workers are the relay of routing's log and the consumer that opens sheets.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::RoutingApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(RoutingServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handler: Arc<dyn EventHandler> = Arc::new(applications::SubmittedApplications::new(ctx.store.clone()));
    ctx.workers(SERVICE, vec![handler])
}

/// Runs routing as its own process (the distributed mode): its database, NATS, and identity's keys.
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
