//! Notifications: the in-system inbox of every user, filled from other services' events ("Your application has
//! been accepted for processing", "Your document is ready").
//!
//! Each user's inbox is a stream (`inbox/<user_id>`). Consumers of applications' and documents' events append a
//! notification in the language the applicant chose, with the consumed event's inbox mark in the same commit, so
//! a redelivered event notifies once. The API lists the caller's own inbox. E-mail and user preferences come later.
//!
//! # Layout
//! - `domain`: the inbox as events, pure
//! - `texts`: what each kind of notification says, in kk, ru and en
//! - `consumers`: `notifications-applications` and `notifications-documents`
//! - `service`: the gRPC API

mod consumers;
mod domain;
mod service;
mod texts;

use std::sync::Arc;

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::notifications::v1::notifications_service_server::{NotificationsServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const SERVICE: &str = "notifications";
pub const DEFAULT_PORT: u16 = 50056;

/// Adds the API to `grpc`; the workers are the relay of the notifications log and the two consumers.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::NotificationsApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(NotificationsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![
        Arc::new(consumers::NotifySubmitted::new(ctx.store.clone())),
        Arc::new(consumers::NotifyIssued::new(ctx.store.clone())),
    ];
    ctx.workers(SERVICE, handlers)
}

/// Runs notifications as its own process (the distributed mode).
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let mut grpc = Grpc::default();
    let workers = register(&ctx, &mut grpc);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
