//! The `onewindow` command line: `run` (the default), `demo` and `rebuild`, each setting readable from flags or the
//! environment, checked before anything opens.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::EmbeddedConfig;

#[derive(Parser, Debug)]
#[command(name = "onewindow", version, about = "onewindow: a one-window e-services centre")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub telemetry: onewindow_server::settings::TelemetrySettings,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Runs all six services in this process on one gRPC port, over SQLite (the default).
    Run(RunArgs),
    /// Walks the certificate-of-study flow against a running system with the demo accounts.
    Demo {
        #[arg(long, default_value = "http://127.0.0.1:50050", value_parser = onewindow_server::settings::http_url)]
        url: String,
        #[arg(long, default_value = "kaznu")]
        org: String,
        #[arg(long, env = "ONEWINDOW_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Drops a read model (projection) and replays its service's event log into it.
    Rebuild {
        /// The projection, e.g. application_list.
        #[arg(required_unless_present = "list")]
        projection: Option<String>,
        /// Names every projection and how far it is, instead.
        #[arg(long)]
        list: bool,
        /// The owning service's database (as the service reads it); unset means the embedded mode's SQLite file.
        #[arg(long, env = "ONEWINDOW_DATABASE_URL")]
        database_url: Option<String>,
        #[arg(long, env = "ONEWINDOW_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Lists the events consumers parked, or re-drives one (`--service`, `--consumer`, `--event-id`, as listed),
    /// as an administrator of the organisation.
    Redrive {
        #[arg(long, default_value = "http://127.0.0.1:50050", value_parser = onewindow_server::settings::http_url)]
        url: String,
        #[arg(long, default_value = "kaznu")]
        org: String,
        #[arg(long)]
        login: String,
        /// The administrator's password
        #[arg(long, env = "ONEWINDOW_PASSWORD", hide_env_values = true)]
        password: String,
        /// Also those re-driven already
        #[arg(long)]
        all: bool,
        #[arg(long, requires_all = ["consumer", "event_id"])]
        service: Option<String>,
        #[arg(long, requires_all = ["service", "event_id"])]
        consumer: Option<String>,
        #[arg(long, requires_all = ["service", "consumer"])]
        event_id: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The one gRPC address of all six services
    #[arg(long, env = "ONEWINDOW_LISTEN_ADDR", value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub system: EmbeddedConfig,
}

#[derive(Parser)]
struct RunOnly {
    #[command(flatten)]
    args: RunArgs,
}

impl Cli {
    /// The command line of this process; no subcommand means `run`, with the same environment and defaults.
    pub fn read() -> (Command, onewindow_server::settings::TelemetrySettings) {
        let cli: Cli = onewindow_server::parse();
        let command = cli.command.unwrap_or_else(|| {
            Command::Run(onewindow_server::settings::parse_from::<RunOnly, _, _>(["onewindow"]).args)
        });
        (command, cli.telemetry)
    }
}
