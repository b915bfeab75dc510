//! What the catalog reads at start (`onewindow-catalog --help` lists it): its database and listener, NATS, and
//! identity's keys.

use clap::Parser;
use onewindow_server::{ClusterSettings, ServerSettings};

/// The catalog process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-catalog", version, about = "onewindow catalog: services, routes, departments, calendar")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub cluster: ClusterSettings,
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
