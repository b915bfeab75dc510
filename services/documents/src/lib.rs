//! Documents: issuing the PDFs services promise (certificates of study and of stipend, clearance sheets, orders,
//! and every submission's application form and notification of acceptance), registered in the document journal,
//! signed, and verifiable by anyone.
//!
//! A service's document is issued when routing approves its sheet (`sheet.approved`), the two receipts when the
//! application is submitted (`application.submitted`). Each takes the next number of its journal (per organisation
//! or issuing unit, type and year: unique, gapless, continuable from a paper journal, voidable with a reason), is
//! rendered in Kazakh, Russian and English, signed with the organisation's Ed25519 key, and carries a QR code a
//! scanner checks offline. The public verification takes a number, a QR payload or a link, is rate-limited per
//! network, and records every check for the holder.
//!
//! # Layout
//! - `domain`: documents, journals, registration numbers and name masking, as events, pure
//! - `signing`: the key ring, the record signature and the QR payload, pure
//! - `verification`: verification codes and the record of each check, pure
//! - `pdf`: the templates of every document type in kk, ru and en, and the layout engine
//! - `printing`: a document's content as a template's body
//! - `departments`: the catalog's department names, copied so documents print names, not codes
//! - `issuer`: issuing one document (number, render, sign, store, commit)
//! - `consumers`: the consumers that issue on `sheet.approved` and `application.submitted`
//! - `service`: the gRPC API
//! - `settings`: what the process reads at start

mod consumers;
mod departments;
mod domain;
mod issuer;
pub mod pdf;
mod printing;
mod service;
pub mod settings;
pub mod signing;
#[cfg(test)]
mod stored_log;
#[cfg(test)]
mod testing;
mod verification;

/// Every consumer of documents, with the event types it reads (the contract tests decode each of them).
pub const CONSUMES: &[(&str, &[&str])] = &[
    (consumers::CONSUMER, consumers::APPROVAL_EVENTS),
    (consumers::RECEIPTS_CONSUMER, consumers::RECEIPT_EVENTS),
    (departments::CONSUMER, departments::SUBSCRIBES),
];

use std::sync::Arc;

use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::documents::v1::documents_service_server::{DocumentsServiceServer, SERVICE_NAME};
use onewindow_server::{CallerSettings, ClusterSettings, Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use domain::{DocumentError, mask_name};
/// The blob store moved to `onewindow-blobs`; these names stay for callers that still use them from here.
pub use onewindow_blobs::{BlobStore, FsBlobStore, InvalidKey, NatsObjectStore};
pub use settings::{Settings, VerificationSettings};

pub const SERVICE: &str = "documents";

/// Stream types the relay never publishes: signing keys hold secrets, verification codes are the documents'
/// unguessable handles, and department names are the catalog's to publish.
const PRIVATE: &[&str] = &[signing::SIGNING_KEYS, verification::VERIFICATION_CODE, departments::DEPARTMENT_NAME];
pub const DEFAULT_PORT: u16 = 50055;

/// Adds the API to `grpc`; the workers are the relay of the documents log and the issuing consumer.
pub fn register(
    ctx: &ServiceContext,
    grpc: &mut Grpc,
    blobs: Arc<dyn BlobStore>,
    verification: VerificationSettings,
    caller: CallerSettings,
) -> Vec<Worker> {
    let issuer = issuer::Issuer::new(ctx.store.clone(), blobs.clone(), verification.verify_url);
    let issuer = Arc::new(issuer.with_clock(ctx.clock.clone()));
    let api = service::DocumentsApi {
        store: ctx.store.clone(),
        blobs,
        auth: ctx.auth.clone(),
        issuer: issuer.clone(),
        limiter: Arc::new(onewindow_server::NetworkLimiter::per_minute(
            verification.verify_per_minute.get(),
            "verifications",
        )),
        trust_forwarded_for: caller.trust_forwarded_for,
    };
    grpc.routes.add_service(DocumentsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![
        Arc::new(consumers::IssueOnApproval::new(issuer.clone())),
        Arc::new(consumers::IssueReceipts::new(issuer)),
        Arc::new(departments::CopyDepartmentNames::new(ctx.store.clone())),
    ];
    ctx.workers_keeping_private(SERVICE, PRIVATE, handlers)
}

/// The NATS object store bucket issued PDFs are kept in (distributed mode).
pub const BLOB_BUCKET: &str = "onewindow-documents";

/// The blob store of a distributed documents process: the bucket [`BLOB_BUCKET`] on the service's NATS, or a
/// directory.
pub async fn open_blob_store(
    spec: &onewindow_blobs::StoreSpec,
    cluster: &ClusterSettings,
) -> anyhow::Result<Arc<dyn BlobStore>> {
    let bucket = onewindow_blobs::Bucket {
        name: BLOB_BUCKET.into(),
        description: "onewindow issued documents (PDF)".into(),
        replicas: cluster.stream_replicas(),
    };
    onewindow_blobs::open(spec, &cluster.nats_url, bucket, "onewindow-documents-blobs").await
}

/// Runs documents as its own process (the distributed mode).
pub async fn run(settings: Settings, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(SERVICE, &settings.server, &settings.cluster, shutdown.clone()).await?;
    let blobs = open_blob_store(&settings.blob_store, &settings.cluster).await?;
    let mut grpc = Grpc::new(ctx.auth.clone());
    let workers = register(&ctx, &mut grpc, blobs, settings.verification, settings.caller);
    onewindow_server::parked::register(&mut grpc, ctx.consumers.clone(), ctx.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
