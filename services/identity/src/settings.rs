//! What identity reads at start (`onewindow-identity --help` lists it): its database and listener, and the budget
//! of credential checks. It needs neither NATS nor the other services.

use std::num::NonZeroU32;

use clap::{Args, Parser};
use onewindow_server::{CallerSettings, ServerSettings};

/// The identity process.
#[derive(Parser, Debug, Clone)]
#[command(name = "onewindow-identity", version, about = "onewindow identity: accounts, sign-in, token keys")]
pub struct Settings {
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(flatten)]
    pub caller: CallerSettings,
    #[command(flatten)]
    pub sign_in: SignInSettings,
}

/// Identity's own settings, also read by the embedded mode.
#[derive(Args, Debug, Clone, Copy)]
pub struct SignInSettings {
    /// Sign-in and activation attempts allowed per minute from one network (/24, /64)
    #[arg(long, env = "ONEWINDOW_SIGN_IN_PER_MINUTE", value_name = "N",
        default_value_t = crate::rate_limit::DEFAULT_PER_MINUTE)]
    pub sign_in_per_minute: NonZeroU32,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self { sign_in_per_minute: crate::rate_limit::DEFAULT_PER_MINUTE }
    }
}

impl onewindow_server::ProcessSettings for Settings {
    fn server(&self) -> &ServerSettings {
        &self.server
    }
}
