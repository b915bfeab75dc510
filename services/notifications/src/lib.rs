//! Notifications: the in-system inbox of every user, filled from other services' events ("Your application has
//! been accepted for processing", "Your document is ready"), e-mail copies of it, and the public event contract
//! for integrators (CloudEvents on NATS, signed webhooks).
//!
//! Each user's inbox is a stream (`inbox/<user_id>`). Consumers of applications', routing's and documents' events
//! append a notification in the recipient's language, with the consumed event's inbox mark in the same commit, so
//! a redelivered event notifies once. The API lists the caller's own inbox.
//!
//! Submissions also teach each applicant's e-mail address and language (`contact/<user_id>`) and the application
//! itself (`application_copy/<id>`, for events that carry only its id); a notification for a user with a known
//! address queues an e-mail (`email/<email_id>`) in the same commit, and the e-mail sender sends it over SMTP
//! once, retrying with backoff before dead-lettering it. Each user's preferences (`preferences/<user_id>`) turn
//! kinds off per channel.
//!
//! Applications' status changes are public: as CloudEvents on `onewindow.public.v1.<org>.application.<status>`
//! (JetStream stream `ONEWINDOW_PUBLIC`, distributed mode), and as signed HTTP POSTs to integrators' webhooks
//! (`webhook/<id>`, deliveries `webhook_delivery/<id>`, both modes).
//!
//! # Layout
//! - `domain`: the inbox as events, pure
//! - `texts`: what each kind of notification says, in kk, ru and en
//! - `preferences`: users' delivery preferences and the copy of applications, pure
//! - `consumers`: `notifications-applications`, `notifications-routing` and `notifications-documents`
//! - `mail`: contacts and the e-mail outbox as events, pure
//! - `sender`: the e-mail sender worker and its `MailTransport` port
//! - `smtp`: the SMTP adapter (lettre)
//! - `public`: the public CloudEvents mapped from applications' events, pure
//! - `nats`: the publisher of the public events to JetStream
//! - `public_log`: the public events kept in the notifications log, for `WatchPublicEvents` (replay without NATS)
//! - `webhooks`: webhooks and their deliveries as events, and the signature, pure
//! - `webhook_sender`: the consumer queuing deliveries, the sender worker and its `WebhookTransport` port
//! - `http`: the HTTP adapter (reqwest)
//! - `service`: the gRPC API of the inbox, preferences and dead letters
//! - `integrations`: the gRPC API of webhooks
//! - `settings`: what the process reads at start

mod consumers;
mod domain;
mod http;
mod integrations;
mod mail;
mod nats;
mod preferences;
pub mod public;
mod public_log;
mod sender;
mod service;
pub mod settings;
mod smtp;
#[cfg(test)]
mod stored_log;
mod texts;
mod webhook_sender;
pub mod webhooks;

/// Every consumer of notifications, with the event types it reads (the contract tests decode each of them).
/// The public-event consumers (the log, the NATS publisher, the webhook queue) read `public::status_types()`.
pub const CONSUMES: &[(&str, &[&str])] = &[
    (consumers::FROM_APPLICATIONS, consumers::APPLICATION_EVENTS),
    (consumers::FROM_ROUTING, consumers::SHEET_EVENTS),
    (consumers::FROM_DOCUMENTS, consumers::DOCUMENT_EVENTS),
];

/// Every consumer notifications runs in both modes and the event types each reads: [`CONSUMES`], and the two
/// whose types derive from the public statuses (webhooks' queue, the public events' own log). The distributed
/// mode adds the publisher of the public events to NATS, which reads the same types.
pub fn consumes() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut consumes: Vec<_> = CONSUMES.iter().map(|(name, types)| (*name, types.to_vec())).collect();
    consumes.push((webhook_sender::QUEUER, public::status_types()));
    consumes.push((public_log::RECORDER, public::status_types()));
    consumes
}

use std::sync::Arc;

use anyhow::Context;

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::notifications::v1::{
    integrations_service_server::{self, IntegrationsServiceServer},
    notifications_service_server::{NotificationsServiceServer, SERVICE_NAME},
};
use onewindow_server::{ClusterSettings, Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const SERVICE: &str = "notifications";
pub const DEFAULT_PORT: u16 = 50056;
pub use settings::{DEFAULT_MAIL_FROM, MailSettings, Settings};

/// Adds the APIs to `grpc`; the workers are the relay of the notifications log, the consumers, and the webhook
/// sender (webhooks work in both modes: they are fed from applications' events, not from NATS).
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc) -> Vec<Worker> {
    let api = service::NotificationsApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(NotificationsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let integrations = integrations::IntegrationsApi { store: ctx.store.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(IntegrationsServiceServer::new(integrations));
    grpc.names.push(integrations_service_server::SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![
        Arc::new(consumers::NotifyFromApplications::new(ctx.store.clone())),
        Arc::new(consumers::NotifyFromRouting::new(ctx.store.clone())),
        Arc::new(consumers::NotifyIssued::new(ctx.store.clone())),
        Arc::new(webhook_sender::QueueWebhookDeliveries::new(ctx.store.clone())),
        Arc::new(public_log::RecordPublicEvents::new(ctx.store.clone())),
    ];
    // Contacts, e-mails, preferences, webhooks (secrets, other systems' URLs), the copy of applications and the
    // public events' own log stay in this service's log (`PRIVATE`).
    let mut workers = ctx.workers_keeping_private(SERVICE, PRIVATE, handlers);
    let (store, shutdown, clock) = (ctx.store.clone(), ctx.shutdown.clone(), ctx.clock.clone());
    workers.push(Worker::new(webhook_sender::CHECKPOINT, async move {
        let http = http::Http::new().context("configuring the webhooks' HTTP client")?;
        let retry = sender::Retry::WEBHOOK;
        webhook_sender::WebhookSender::new(store, Arc::new(http), retry).with_clock(clock).run(shutdown).await
    }));
    workers
}

/// The stream types of the notifications log that are never published.
const PRIVATE: &[&str] = &[
    mail::CONTACT,
    mail::EMAIL,
    webhooks::WEBHOOK,
    webhooks::WEBHOOK_DELIVERY,
    preferences::PREFERENCES,
    preferences::APPLICATION_COPY,
    public_log::PUBLIC_EVENT,
];

/// The publisher of the public CloudEvents to `ONEWINDOW_PUBLIC` (distributed mode only: the embedded mode has no
/// NATS; its integrators use webhooks or `WatchPublicEvents`).
async fn public_events_worker(ctx: &ServiceContext, cluster: &ClusterSettings) -> anyhow::Result<Worker> {
    let client = async_nats::ConnectOptions::new()
        .name("onewindow-notifications-public")
        .retry_on_initial_connect()
        .connect(cluster.nats_url.as_str())
        .await
        .context("connecting to NATS for the public events")?;
    let jetstream = async_nats::jetstream::new(client);
    nats::ensure_public_stream(&jetstream, cluster.stream_replicas()).await.context("the public events' stream")?;
    let publisher = Arc::new(nats::PublicEventsPublisher::new(jetstream));
    Ok(ctx.bus.consume(publisher, ctx.store.clone(), ctx.shutdown.clone()))
}

/// The worker sending queued e-mails through the plain SMTP server at `smtp_url` (`smtp://host:port`) from `from`
/// (a mailbox, `Name <address>`); it stops with `ctx.shutdown`.
pub fn email_worker(ctx: &ServiceContext, smtp_url: &str, from: &str) -> anyhow::Result<Worker> {
    let smtp = smtp::Smtp::new(smtp_url, from).context("configuring e-mail")?;
    let sender =
        sender::EmailSender::new(ctx.store.clone(), Arc::new(smtp), sender::Retry::EMAIL).with_clock(ctx.clock.clone());
    Ok(Worker::new(sender::CHECKPOINT, sender.run(ctx.shutdown.clone())))
}

/// The e-mail worker `mail` asks for: none when no SMTP server is named.
pub fn email_worker_for(ctx: &ServiceContext, mail: &MailSettings) -> anyhow::Result<Option<Worker>> {
    let Some(url) = &mail.smtp_url else {
        tracing::info!("ONEWINDOW_SMTP_URL is not set: e-mail is off (notifications stay in the inbox)");
        return Ok(None);
    };
    tracing::info!(smtp = %url, from = %mail.mail_from, "e-mail is on");
    email_worker(ctx, url, &mail.mail_from).map(Some)
}

/// Runs notifications as its own process (the distributed mode).
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(SERVICE, &settings.server, &settings.cluster, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let mut workers = register(&ctx, &mut grpc);
    workers.extend(email_worker_for(&ctx, &settings.mail)?);
    workers.push(public_events_worker(&ctx, &settings.cluster).await?);
    onewindow_server::parked::register(&mut grpc, ctx.consumers.clone(), ctx.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
