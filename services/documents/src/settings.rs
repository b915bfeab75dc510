//! What documents reads at start (`onewindow-documents --help` lists it): its database and listener, NATS,
//! identity's keys, where the PDFs are kept, the verification links and the budget of public verifications.

use std::num::NonZeroU32;

use clap::{Args, Parser};
use onewindow_blobs::StoreSpec;
use onewindow_server::{CallerSettings, ClusterSettings, ServerSettings, settings::http_url};

/// The documents process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-documents", version, about = "onewindow documents: signed PDFs, registry, verification")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub cluster: ClusterSettings,
    #[command(flatten)]
    pub caller: CallerSettings,
    /// Where issued PDFs are kept: `nats` (a JetStream object store) or `fs:<directory>`
    #[arg(long, env = "ONEWINDOW_BLOB_STORE", value_name = "SPEC", default_value = "nats")]
    pub blob_store: StoreSpec,
    #[command(flatten)]
    pub verification: VerificationSettings,
}

/// Documents' own settings, also read by the embedded mode.
#[derive(Args, Debug, Clone)]
pub struct VerificationSettings {
    /// The base of the verification links the QR codes carry (`<base>/<org>/<code>`)
    #[arg(long, env = "ONEWINDOW_VERIFY_URL", value_name = "URL", default_value = DEFAULT_VERIFY_URL,
        value_parser = http_url)]
    pub verify_url: String,
    /// Public verifications allowed per minute from one network (/24, /64)
    #[arg(long, env = "ONEWINDOW_VERIFY_PER_MINUTE", value_name = "N", default_value_t = DEFAULT_VERIFY_PER_MINUTE)]
    pub verify_per_minute: NonZeroU32,
}

/// A placeholder that says so: a deployment sets its own public address.
pub const DEFAULT_VERIFY_URL: &str = "https://onewindow.invalid/verify";

/// An HR office checking a pile of documents gets through, a scraper counting numbers does not.
pub const DEFAULT_VERIFY_PER_MINUTE: NonZeroU32 = NonZeroU32::new(30).unwrap();

impl Default for VerificationSettings {
    fn default() -> Self {
        Self { verify_url: DEFAULT_VERIFY_URL.into(), verify_per_minute: DEFAULT_VERIFY_PER_MINUTE }
    }
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
