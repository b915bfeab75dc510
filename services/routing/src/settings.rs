//! What routing reads at start (`onewindow-routing --help` lists it): its database and listener, NATS, identity
//! (keys, and who holds a post), and how often stage time limits are looked at.

use clap::{Args, Parser};
use onewindow_server::{ClusterSettings, ServerSettings};

/// The routing process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-routing", version, about = "onewindow routing: approval sheets, stages, deadlines")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub cluster: ClusterSettings,
    #[command(flatten)]
    pub deadlines: DeadlineSettings,
}

/// Routing's own settings, also read by the embedded mode.
#[derive(Args, Debug, Clone, Copy)]
pub struct DeadlineSettings {
    /// How often routing looks for stage time limits due (reminders, escalations, deemed decisions), in seconds
    #[arg(long = "deadline-scan-seconds", env = "ONEWINDOW_ROUTING_DEADLINE_SCAN_SECONDS", value_name = "SECONDS",
        default_value_t = DEFAULT_SCAN_SECONDS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub scan_seconds: u64,
}

/// A minute: a deadline is met to the minute, and a scan of the open sheets is cheap.
pub const DEFAULT_SCAN_SECONDS: u64 = 60;

impl Default for DeadlineSettings {
    fn default() -> Self {
        Self { scan_seconds: DEFAULT_SCAN_SECONDS }
    }
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
