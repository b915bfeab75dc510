//! The whole onewindow system in one process: the embedded default behind `make run`.
//!
//! All six services share one gRPC port. Each keeps its own SQLite file under the data folder (each service still
//! owns its data), and events travel by the in-process bus, which reads each producer's log directly with the
//! same at-least-once, idempotent contract as JetStream.
//!
//! # Layout
//! - [`run_embedded`]: opens the six stores, wires the services and serves them
//! - `demo`: the demo organisations, accounts and catalog, seeded on first start
//! - `walkthrough`: the certificate-of-study flow as a gRPC client (`onewindow demo`)
//! - [`rebuild`]: `onewindow rebuild <projection>`, a read model dropped and replayed from its service's log

mod demo;
pub mod rebuild;
pub mod walkthrough;

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use anyhow::Context;
use onewindow_auth::Authenticator;
use onewindow_bus::LogTailBus;
use onewindow_eventlog::EventStore;
use onewindow_server::{Grpc, ServiceContext};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use demo::{DemoAccount, demo_accounts, seed_demo};

/// Settings of the embedded mode.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Where the SQLite files, the PDFs (`blobs/`) and the attachments (`attachments/`) are kept
    /// (`ONEWINDOW_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// Seed the demo organisations, accounts and catalog on start.
    pub seed_demo: bool,
    /// Where e-mail goes (`smtp://host:port`); none means e-mail is off.
    pub smtp_url: Option<String>,
    pub mail_from: String,
}

const SERVICES: [&str; 6] = ["identity", "catalog", "applications", "routing", "documents", "notifications"];

/// Runs all six services on `listener` until `shutdown`.
pub async fn run_embedded(
    config: EmbeddedConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let mut stores: HashMap<&'static str, Arc<dyn EventStore>> = HashMap::new();
    for service in SERVICES {
        let url = format!("sqlite:{}", config.data_dir.join(format!("{service}.db")).display());
        let store = onewindow_eventlog::open(&url).await.with_context(|| format!("opening {url}"))?;
        stores.insert(service, store);
    }
    let store = |name: &str| stores.get(name).cloned().context("store missing");

    let identity = onewindow_identity::Identity::open(store("identity")?).await?;
    let auth = Authenticator::new(identity.key_source());
    let bus = Arc::new(LogTailBus::new(stores.clone()));
    let context = |name: &str| -> anyhow::Result<ServiceContext> {
        Ok(ServiceContext { store: store(name)?, bus: bus.clone(), auth: auth.clone(), shutdown: shutdown.clone() })
    };

    if config.seed_demo {
        seed_demo(&config.data_dir, store("identity")?.as_ref(), store("catalog")?.as_ref()).await?;
    }

    let address = listener.local_addr()?;
    let here = format!("http://{address}");
    let upstream = onewindow_applications::upstream(&here, &here, &here)?;
    let blobs = Arc::new(onewindow_blobs::FsBlobStore::new(config.data_dir.join("blobs")));

    let mut grpc = Grpc::new(auth.clone());
    let mut workers = identity.register(&context("identity")?, &mut grpc);
    workers.extend(onewindow_catalog::register(&context("catalog")?, &mut grpc));
    let attachments = Arc::new(onewindow_blobs::FsBlobStore::new(config.data_dir.join("attachments")));
    workers.extend(onewindow_applications::register(&context("applications")?, &mut grpc, upstream, attachments)?);
    let identity_directory = onewindow_routing::identity_directory(&format!("http://{address}"))?;
    workers.extend(onewindow_routing::register(&context("routing")?, &mut grpc, identity_directory)?);
    workers.extend(onewindow_documents::register(&context("documents")?, &mut grpc, blobs));
    let notifications = context("notifications")?;
    workers.extend(onewindow_notifications::register(&notifications, &mut grpc));
    match &config.smtp_url {
        Some(url) => workers.push(onewindow_notifications::email_worker(&notifications, url, &config.mail_from)?),
        None => tracing::info!("ONEWINDOW_SMTP_URL is not set: e-mail is off"),
    }
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
