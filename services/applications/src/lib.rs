//! Applications: what an applicant orders, from the draft to the issued document.
//!
//! Each application is an event stream, rebuilt on every command and decided by the pure `domain`. Its events
//! (`application.submitted` above all) start routing and notifications; routing's and documents' events move it
//! on through the consumers.
//!
//! # Layout
//! - `domain`: statuses, events, decisions, planned dates and "why is it late"; pure
//! - `service`: the gRPC API (thin); `convert`: domain ↔ protobuf
//! - `upstream`: what is asked of the catalog and identity over gRPC, with the caller's token
//! - `consumers`: routing's sheet events and documents' issue move the application
//! - `catalog_copy`: the local copy of the catalog's services and calendar, kept from its events
//! - `attachments`: the files attached to drafts (`AttachmentsService`), their own aggregate and blob store
//! - `issued_documents`: every document issued for an application (receipts and result)
//! - `delays`: applications held up by an event another service (or this one) parked
//! - `lists`: the `application_list` read model (a projection), its queries and the watch streams
//! - `settings`: what the process reads at start

pub mod attachments;
mod catalog_copy;
mod consumers;
pub mod convert;
pub mod delays;
mod domain;
pub mod issued_documents;
pub mod lists;
mod service;
pub mod settings;
#[cfg(test)]
mod stored_log;
mod upstream;

/// Every consumer of applications, with the event types it reads (the contract tests decode each of them).
pub const CONSUMES: &[(&str, &[&str])] = &[
    ("applications-routing", consumers::SHEET_EVENTS),
    ("applications-documents", consumers::DOCUMENT_EVENTS),
    ("applications-catalog", catalog_copy::SUBSCRIBES),
    (issued_documents::CONSUMER, consumers::DOCUMENT_EVENTS),
    ("applications-parked-routing", delays::PARKED_EVENTS),
    ("applications-parked-documents", delays::PARKED_EVENTS),
    ("applications-parked-notifications", delays::PARKED_EVENTS),
    ("applications-parked-applications", delays::PARKED_EVENTS),
];

use std::sync::Arc;

use onewindow_bus::Worker;
use onewindow_proto::{
    applications::v1::applications_service_server::{ApplicationsServiceServer, SERVICE_NAME},
    catalog::v1::catalog_service_client::CatalogServiceClient,
    documents::v1::documents_service_client::DocumentsServiceClient,
    identity::v1::identity_service_client::IdentityServiceClient,
};
use onewindow_server::{Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

pub use domain::{
    Application, ApplicationEvent, Created, Draft, Language, RouteStep, ServiceSnapshot, Status, Submitted,
    format_number,
};
pub use settings::Settings;
pub use upstream::Upstream;

pub const SERVICE: &str = "applications";
pub const DEFAULT_PORT: u16 = 50053;

/// Adds the applications API, the attachments API (files in `attachment_blobs`, checked against `limits`) and the
/// lists to `grpc` and returns the relay, consumers and projection runner.
pub fn register(
    ctx: &ServiceContext,
    grpc: &mut Grpc,
    upstream: Upstream,
    attachment_blobs: Arc<dyn onewindow_blobs::BlobStore>,
    limits: attachments::Limits,
) -> Vec<Worker> {
    attachments::register(ctx, grpc, attachment_blobs.clone(), limits);
    let clock = ctx.clock.clone();
    let api = |upstream| service::ApplicationsApi {
        store: ctx.store.clone(),
        auth: ctx.auth.clone(),
        upstream,
        attachment_blobs: attachment_blobs.clone(),
        clock: clock.clone(),
    };
    let reader = Arc::new(lists::ThroughGetApplication { api: api(upstream.clone()) });
    grpc.routes.add_service(ApplicationsServiceServer::new(api(upstream)));
    grpc.names.push(SERVICE_NAME);
    let mut handlers: Vec<Arc<dyn onewindow_bus::EventHandler>> = vec![
        Arc::new(consumers::SheetProgress { store: ctx.store.clone() }),
        Arc::new(consumers::DocumentIssued { store: ctx.store.clone() }),
        Arc::new(catalog_copy::CatalogCopy { store: ctx.store.clone() }),
        Arc::new(issued_documents::RecordIssuedDocuments { store: ctx.store.clone() }),
    ];
    handlers.extend(
        delays::ParkedElsewhere::all(&ctx.store)
            .into_iter()
            .map(|h| Arc::new(h) as Arc<dyn onewindow_bus::EventHandler>),
    );
    // What holds an application up is this service's own business (staff and the applicant see it here).
    let mut workers =
        ctx.workers_keeping_private(SERVICE, &[delays::DELAY, issued_documents::ISSUED_DOCUMENTS], handlers);
    workers.extend(lists::register(ctx, grpc, reader, clock));
    workers
}

/// Clients of the catalog, identity and documents that connect on first use (they may start after us).
pub fn upstream(catalog_url: &str, identity_url: &str, documents_url: &str) -> anyhow::Result<Upstream> {
    let lazy = |url: &str| -> anyhow::Result<Channel> {
        Ok(tonic::transport::Endpoint::from_shared(url.to_owned())?.connect_lazy())
    };
    Ok(Upstream {
        catalog: CatalogServiceClient::new(lazy(catalog_url)?),
        identity: IdentityServiceClient::new(lazy(identity_url)?),
        documents: DocumentsServiceClient::new(lazy(documents_url)?),
    })
}

/// Runs applications as its own process (the distributed mode).
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let upstream = upstream(&settings.catalog_url, &settings.cluster.identity_url, &settings.documents_url)?;
    let blobs =
        attachments::open_blob_store(&settings.blob_store, &settings.attachments_bucket, &settings.cluster).await?;
    let ctx = onewindow_server::connect(SERVICE, &settings.server, &settings.cluster, shutdown.clone()).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc, upstream, blobs, settings.attachments);
    onewindow_server::parked::register(&mut grpc, ctx.consumers.clone(), ctx.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
