//! Notifications: the in-system inbox of every user, filled from other services' events ("Your application has
//! been accepted for processing", "Your document is ready").
//!
//! Each user's inbox is a stream (`inbox/<user_id>`). Consumers of applications' and documents' events append a
//! notification in the language the applicant chose, with the consumed event's inbox mark in the same commit, so
//! a redelivered event notifies once. The API lists the caller's own inbox.
//!
//! Submissions also teach each applicant's e-mail address and language (`contact/<user_id>`); a notification for
//! a user with a known address queues an e-mail (`email/<email_id>`) in the same commit, and the e-mail sender sends
//! it over SMTP once, retrying with backoff before dead-lettering it. User preferences come later.
//!
//! # Layout
//! - `domain`: the inbox as events, pure
//! - `texts`: what each kind of notification says, in kk, ru and en
//! - `consumers`: `notifications-applications` and `notifications-documents` (a document issued, or verified by
//!   someone)
//! - `mail`: contacts and the e-mail outbox as events, pure
//! - `sender`: the e-mail sender worker and its `MailTransport` port
//! - `smtp`: the SMTP adapter (lettre)
//! - `service`: the gRPC API

mod consumers;
mod domain;
mod mail;
mod sender;
mod service;
mod smtp;
mod texts;

use std::sync::Arc;

use anyhow::Context;

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::notifications::v1::notifications_service_server::{NotificationsServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const SERVICE: &str = "notifications";
pub const DEFAULT_PORT: u16 = 50056;
/// The sender of e-mails when `ONEWINDOW_MAIL_FROM` is not set.
pub const DEFAULT_MAIL_FROM: &str = "onewindow <noreply@onewindow.invalid>";

/// Adds the API to `grpc`; the workers are the relay of the notifications log and the two consumers.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::NotificationsApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(NotificationsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![
        Arc::new(consumers::NotifySubmitted::new(ctx.store.clone())),
        Arc::new(consumers::NotifyIssued::new(ctx.store.clone())),
    ];
    // Contacts and e-mails hold personal data: they stay in this service's log.
    ctx.workers_keeping_private(SERVICE, &[mail::CONTACT, mail::EMAIL], handlers)
}

/// The worker sending queued e-mails through the plain SMTP server at `smtp_url` (`smtp://host:port`) from `from`
/// (a mailbox, `Name <address>`); it stops with `ctx.shutdown`.
pub fn email_worker(ctx: &ServiceContext, smtp_url: &str, from: &str) -> anyhow::Result<Worker> {
    let smtp = smtp::Smtp::new(smtp_url, from).context("configuring e-mail")?;
    let sender = sender::EmailSender::new(ctx.store.clone(), Arc::new(smtp), sender::Retry::default());
    Ok(Worker::new(sender::CHECKPOINT, sender.run(ctx.shutdown.clone())))
}

/// The e-mail worker as the environment configures it (`ONEWINDOW_SMTP_URL`, `ONEWINDOW_MAIL_FROM`): none when no
/// SMTP server is named.
fn email_worker_from_env(ctx: &ServiceContext) -> anyhow::Result<Option<Worker>> {
    let Some(url) = std::env::var("ONEWINDOW_SMTP_URL").ok().filter(|url| !url.trim().is_empty()) else {
        tracing::info!("ONEWINDOW_SMTP_URL is not set: e-mail is off (notifications stay in the inbox)");
        return Ok(None);
    };
    let from = std::env::var("ONEWINDOW_MAIL_FROM").unwrap_or_else(|_| DEFAULT_MAIL_FROM.to_owned());
    tracing::info!(smtp = %url, %from, "e-mail is on");
    email_worker(ctx, &url, &from).map(Some)
}

/// Runs notifications as its own process (the distributed mode).
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let mut workers = register(&ctx, &mut grpc);
    workers.extend(email_worker_from_env(&ctx)?);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
