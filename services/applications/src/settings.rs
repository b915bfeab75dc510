//! What applications reads at start (`onewindow-applications --help` lists it): its database and listener, NATS,
//! the services it asks (catalog, identity, documents), where attachments are kept and what they may be.

use clap::Parser;
use onewindow_blobs::StoreSpec;
use onewindow_server::{ClusterSettings, ServerSettings, settings::http_url};

use crate::attachments::{DEFAULT_BUCKET, Limits};

/// The applications process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-applications", version, about = "onewindow applications: drafts, submissions, files")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub cluster: ClusterSettings,
    /// The catalog service
    #[arg(long, env = "ONEWINDOW_CATALOG_URL", value_name = "URL", default_value = "http://127.0.0.1:50052",
        value_parser = http_url)]
    pub catalog_url: String,
    /// The documents service (printing the application form)
    #[arg(long, env = "ONEWINDOW_DOCUMENTS_URL", value_name = "URL", default_value = "http://127.0.0.1:50055",
        value_parser = http_url)]
    pub documents_url: String,
    /// Where attachments are kept: `nats` (a JetStream object store) or `fs:<directory>`
    #[arg(long, env = "ONEWINDOW_BLOB_STORE", value_name = "SPEC", default_value = "nats")]
    pub blob_store: StoreSpec,
    /// The object store bucket of attachments (with `--blob-store nats`)
    #[arg(long, env = "ONEWINDOW_ATTACHMENTS_BUCKET", value_name = "NAME", default_value = DEFAULT_BUCKET,
        value_parser = onewindow_blobs::bucket_name)]
    pub attachments_bucket: String,
    #[command(flatten)]
    pub attachments: Limits,
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
