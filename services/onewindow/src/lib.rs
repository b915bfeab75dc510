//! The whole onewindow system in one process: the embedded default behind `make run`.
//!
//! All six services share one gRPC port. Each keeps its own SQLite file under the data folder (each service still
//! owns its data), and events travel by the in-process bus, which reads each producer's log directly with the
//! same at-least-once, idempotent contract as JetStream.
//!
//! # Layout
//! - [`run_embedded`]: opens the six stores, wires the services and serves them
//! - `cli`: the command line (`run`, `demo`, `rebuild`) and its settings
//! - `demo`: the demo organisations, accounts and catalog, seeded on first start
//! - `walkthrough`: the certificate-of-study flow as a gRPC client (`onewindow demo`)
//! - [`rebuild`]: `onewindow rebuild <projection>`, a read model dropped and replayed from its service's log
//! - [`redrive`]: `onewindow redrive`, parked events listed and re-driven by an administrator

pub mod cli;
mod demo;
pub mod rebuild;
pub mod redrive;
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

/// Settings of the embedded mode: where its data is, and each service's own settings (the same variables as the
/// services' processes read).
#[derive(clap::Args, Debug, Clone)]
pub struct EmbeddedConfig {
    /// Where the SQLite files, the PDFs (`blobs/`), the attachments (`attachments/`) and the demo passwords are kept
    #[arg(long, env = "ONEWINDOW_DATA_DIR", value_name = "DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Do not seed the demo organisations, accounts and catalog
    #[arg(long = "no-demo", action = clap::ArgAction::SetFalse)]
    pub seed_demo: bool,
    #[command(flatten)]
    pub mail: onewindow_notifications::MailSettings,
    #[command(flatten)]
    pub sign_in: onewindow_identity::SignInSettings,
    #[command(flatten)]
    pub caller: onewindow_server::CallerSettings,
    #[command(flatten)]
    pub verification: onewindow_documents::VerificationSettings,
    #[command(flatten)]
    pub deadlines: onewindow_routing::DeadlineSettings,
    #[command(flatten)]
    pub attachments: onewindow_applications::attachments::Limits,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            data_dir: "data".into(),
            seed_demo: true,
            mail: Default::default(),
            sign_in: Default::default(),
            caller: Default::default(),
            verification: Default::default(),
            deadlines: Default::default(),
            attachments: Default::default(),
        }
    }
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

    let identity_options = onewindow_identity::Options { sign_in: config.sign_in, caller: config.caller };
    let identity = onewindow_identity::Identity::open(store("identity")?).await?.with_options(identity_options);
    let auth = Authenticator::new(identity.key_source());
    let bus = Arc::new(LogTailBus::new(stores.clone()));
    let consumers: Arc<onewindow_server::parked::Consumers> = Arc::default();
    let context = |name: &str| -> anyhow::Result<ServiceContext> {
        Ok(ServiceContext {
            store: store(name)?,
            bus: bus.clone(),
            auth: auth.clone(),
            shutdown: shutdown.clone(),
            clock: Arc::new(onewindow_server::SystemClock),
            consumers: consumers.clone(),
        })
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
    let applications = context("applications")?;
    workers.extend(onewindow_applications::register(
        &applications,
        &mut grpc,
        upstream,
        attachments,
        config.attachments,
    ));
    let identity_directory = onewindow_routing::identity_directory(&format!("http://{address}"))?;
    workers.extend(onewindow_routing::register(&context("routing")?, &mut grpc, identity_directory, config.deadlines));
    let documents = context("documents")?;
    workers.extend(onewindow_documents::register(&documents, &mut grpc, blobs, config.verification, config.caller));
    let notifications = context("notifications")?;
    workers.extend(onewindow_notifications::register(&notifications, &mut grpc));
    workers.extend(onewindow_notifications::email_worker_for(&notifications, &config.mail)?);
    onewindow_server::parked::register(&mut grpc, consumers.clone(), notifications.clock.clone());
    onewindow_server::serve(listener, grpc, workers, shutdown).await
}
