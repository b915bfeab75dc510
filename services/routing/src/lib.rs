//! Routing: the approval sheet of every application, and the approvers' decisions on it.
//!
//! When applications publishes `application.submitted` (or `application.accepted`, for services whose catalog
//! definition says the route opens on acceptance), routing opens the application's sheet: one row per approver of
//! the service's route, grouped in stages that are decided one after another, the rows of a stage in parallel.
//! Approvers named by department and position are resolved to people through identity as the sheet opens. An
//! approver approves their row, or rejects it with a note; the applicant answers and the approver decides again
//! (rework). A substitute may decide for an approver during a delegation. A final signatory stage is signed. Stages
//! may have time limits: a worker reminds, escalates, or deems silent rows decided. When every stage has its
//! approvals routing publishes `sheet.approved` (carrying what the issued document needs); a withdrawn or refused
//! application closes its sheet. Each sheet is a stream `sheet/<application_id>` in routing's own log
//! (docs/EVENTS.md).
//!
//! # Layout
//! - `sheet`: the sheet as events: opening, deciding, rework, signing, deadlines, folding; pure (`state`, `approver`,
//!   `decide`, `deadlines`; the events are `onewindow_contracts::sheet`)
//! - `delegation`: substitutes for a period; pure
//! - `consumers`: `applications`, the consumer of applications' events, which opens and closes the sheets, and
//!   `catalog_copy`, routing's copy of the catalog's routes and working calendar, kept from its events
//! - `directory`: who holds a post, asked of identity
//! - `deadlines`: the worker that records reminders, escalations and deemed decisions
//! - `service`: the gRPC API
//! - `settings`: what the process reads at start

mod consumers;
mod deadlines;
mod delegation;
mod directory;
mod service;
pub mod settings;
mod sheet;
#[cfg(test)]
mod stored_log;
#[cfg(test)]
mod testing;

/// Every consumer of routing, with the event types it reads (the contract tests decode each of them).
pub const CONSUMES: &[(&str, &[&str])] =
    &[(applications::CONSUMER, applications::SUBSCRIBES), ("routing-catalog", catalog_copy::SUBSCRIBES)];

use std::{sync::Arc, time::Duration};

use consumers::{applications, catalog_copy};

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::routing::v1::routing_service_server::{RoutingServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use applications::CONSUMER;
pub use deadlines::HEAD_POSITION;
pub use directory::{Directory, IdentityDirectory, Person};
pub use onewindow_server::{Clock, SystemClock};
pub use settings::{DeadlineSettings, Settings};

pub const SERVICE: &str = "routing";
pub const DEFAULT_PORT: u16 = 50054;

/// Stream types of routing's log that are its own business: copies of other services' data, kept submissions,
/// delegations. They are never published.
const PRIVATE: &[&str] =
    &[catalog_copy::ROUTE_COPY, catalog_copy::CALENDAR_COPY, applications::SUBMISSION, delegation::DELEGATION];

/// Adds the API to `grpc`; the workers are the relay of routing's log, the consumers of applications' and the
/// catalog's events, and the deadline worker.
pub fn register(
    ctx: &ServiceContext,
    grpc: &mut Grpc,
    directory: Arc<dyn Directory>,
    deadline_settings: DeadlineSettings,
) -> Vec<Worker> {
    let clock = ctx.clock.clone();
    let api = service::RoutingApi { store: ctx.store.clone(), auth: ctx.auth.clone(), clock: clock.clone() };
    grpc.routes.add_service(RoutingServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![
        Arc::new(applications::ApplicationEvents::new(ctx.store.clone(), directory.clone(), clock.clone())),
        Arc::new(catalog_copy::CatalogCopy { store: ctx.store.clone() }),
    ];
    let mut workers = ctx.workers_keeping_private(SERVICE, PRIVATE, handlers);
    let every = Duration::from_secs(deadline_settings.scan_seconds.max(1));
    let deadlines = deadlines::DeadlineWorker::new(ctx.store.clone(), directory, clock);
    workers.push(Worker::new("routing-deadlines", deadlines.run(every, ctx.shutdown.clone())));
    workers
}

/// Identity's post holders over gRPC at `identity_url` (connects on first use).
pub fn identity_directory(identity_url: &str) -> anyhow::Result<Arc<dyn Directory>> {
    Ok(Arc::new(IdentityDirectory::new(identity_url)?))
}

/// Runs routing as its own process (the distributed mode): its database, NATS, and identity (keys, post holders).
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let directory = identity_directory(&settings.cluster.identity_url)?;
    let ctx = onewindow_server::connect(SERVICE, &settings.server, &settings.cluster, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc, directory, settings.deadlines);
    onewindow_server::parked::register(&mut grpc, ctx.consumers.clone(), ctx.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
