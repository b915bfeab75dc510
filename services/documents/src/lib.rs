//! Documents: issuing the PDFs services promise (a certificate of study, ...), with a number in the organisation's
//! document journal, and letting the holder download them and anyone verify them.
//!
//! A document is issued when routing approves a sheet whose service issues one (`sheet.approved`). The journal
//! number is the journal stream's next version, so numbers are unique and gapless per organisation, kind and year;
//! the PDF goes to a blob store under its hash, and the number, the document and the consumer's inbox mark are
//! committed together. The log publishes `document.issued` for applications and notifications.
//!
//! # Layout
//! - `domain`: documents, the journal, registration numbers and name masking, as events, pure
//! - `pdf`: the certificate of study rendered to PDF (kk, ru, en)
//! - `blobs`: the [`BlobStore`] port, with a directory ([`FsBlobStore`]) and a NATS object store behind it
//! - `issuing`: the `documents-routing` consumer that issues a document on `sheet.approved`
//! - `service`: the gRPC API: get, download (streamed), public verification

mod blobs;
mod domain;
mod issuing;
pub mod pdf;
mod service;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use anyhow::Context;
use onewindow_bus::{EventHandler, Worker};
use onewindow_proto::documents::v1::documents_service_server::{DocumentsServiceServer, SERVICE_NAME};
use onewindow_server::{Grpc, ServiceConfig, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use blobs::{BlobStore, FsBlobStore, InvalidKey, NatsObjectStore};
pub use domain::{DocumentError, mask_name};

pub const SERVICE: &str = "documents";
pub const DEFAULT_PORT: u16 = 50055;

/// Adds the API to `grpc`; the workers are the relay of the documents log and the issuing consumer.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc, blobs: Arc<dyn BlobStore>) -> Vec<Worker> {
    let api = service::DocumentsApi { store: ctx.store.clone(), blobs: blobs.clone(), auth: ctx.auth.clone() };
    grpc.routes.add_service(DocumentsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
    let handlers: Vec<Arc<dyn EventHandler>> = vec![Arc::new(issuing::IssueOnApproval::new(ctx.store.clone(), blobs))];
    ctx.workers(SERVICE, handlers)
}

/// Opens the blob store named by `ONEWINDOW_BLOB_STORE`: `nats` (the default: an object store on the service's
/// NATS) or `fs:<dir>`.
pub async fn open_blob_store(spec: &str, config: &ServiceConfig) -> anyhow::Result<Arc<dyn BlobStore>> {
    if spec == "nats" {
        let client = async_nats::ConnectOptions::new()
            .name("onewindow-documents-blobs")
            .retry_on_initial_connect()
            .connect(config.nats_url.as_str())
            .await
            .context("connecting to NATS for the blob store")?;
        let jetstream = async_nats::jetstream::new(client);
        Ok(Arc::new(NatsObjectStore::open(&jetstream, config.stream_replicas).await?))
    } else if let Some(dir) = spec.strip_prefix("fs:").filter(|d| !d.is_empty()) {
        Ok(Arc::new(FsBlobStore::new(dir)))
    } else {
        anyhow::bail!("ONEWINDOW_BLOB_STORE={spec:?} is not valid: use \"nats\" or \"fs:<directory>\"")
    }
}

/// Runs documents as its own process (the distributed mode).
pub async fn run(config: ServiceConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let ctx = onewindow_server::connect(&config, shutdown.clone()).await?;
    let spec = onewindow_server::env_or("ONEWINDOW_BLOB_STORE", "nats");
    let blobs = open_blob_store(&spec, &config).await?;
    let mut grpc = Grpc::default();
    let workers = register(&ctx, &mut grpc, blobs);
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
