//! `onewindow`: the whole system in one process (`onewindow run`, what `make run` starts), and the demo
//! walkthrough as a client (`onewindow demo`), and `onewindow rebuild <projection>` for read models.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use onewindow::{
    EmbeddedConfig, rebuild, run_embedded,
    walkthrough::{Cast, Endpoints, certificate_of_study},
};

#[derive(Parser)]
#[command(version, about = "onewindow: a one-window e-services centre")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs all six services in this process on one gRPC port, over SQLite (the default).
    Run(RunArgs),
    /// Walks the certificate-of-study flow against a running system with the demo accounts.
    Demo {
        #[arg(long, default_value = "http://127.0.0.1:50050")]
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
}

#[derive(clap::Args)]
struct RunArgs {
    #[arg(long, env = "ONEWINDOW_LISTEN_ADDR", default_value = "127.0.0.1:50050")]
    listen: String,
    #[arg(long, env = "ONEWINDOW_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Do not seed the demo organisations, accounts and catalog.
    #[arg(long)]
    no_demo: bool,
    /// Where e-mail goes, e.g. smtp://127.0.0.1:2525; unset means e-mail is off.
    #[arg(long, env = "ONEWINDOW_SMTP_URL")]
    smtp_url: Option<String>,
    #[arg(long, env = "ONEWINDOW_MAIL_FROM", default_value = onewindow_notifications::DEFAULT_MAIL_FROM)]
    mail_from: String,
}

#[derive(Parser)]
struct RunOnly {
    #[command(flatten)]
    args: RunArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = onewindow_telemetry::init("onewindow")?;
    // No subcommand means `run`, with the same environment and defaults.
    let command = Cli::parse().command.unwrap_or_else(|| Command::Run(RunOnly::parse_from(["onewindow"]).args));
    match command {
        Command::Run(RunArgs { listen, data_dir, no_demo, smtp_url, mail_from }) => {
            let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("binding {listen}"))?;
            let address = listener.local_addr()?;
            println!("onewindow is listening on {address} (all six services; data in {})", data_dir.display());
            println!("demo accounts and their passwords: {}", data_dir.join("demo-accounts.txt").display());
            println!("try the whole flow in another terminal: cargo run -p onewindow -- demo --url http://{address}");
            let config = EmbeddedConfig { data_dir, seed_demo: !no_demo, smtp_url, mail_from };
            run_embedded(config, listener, onewindow_server::shutdown_on_signal()).await
        }
        Command::Demo { url, org, data_dir } => {
            let cast = Cast::from_demo_file(&data_dir.join("demo-accounts.txt"), &org)?;
            let outcome = certificate_of_study(&Endpoints::single(&url), &cast, Duration::from_secs(30)).await?;
            let file = data_dir.join(format!("{}.pdf", outcome.document.registration_number));
            std::fs::write(&file, &outcome.pdf)?;
            println!("application {} is {:?}", outcome.application.number, outcome.application.status());
            for row in &outcome.sheet.rows {
                println!("  approved by {} ({})", row.decided_by_name, row.department);
            }
            println!("document {} saved to {}", outcome.document.registration_number, file.display());
            println!(
                "verified publicly: found {}, signature valid {}, kept by {}; verification link {}",
                outcome.verification.found,
                outcome.verification.signature_valid,
                outcome.verification.kept_by,
                outcome.document.verification_url
            );
            for note in &outcome.notifications {
                println!("  notification: {}", note.title);
            }
            Ok(())
        }
        Command::Rebuild { projection, list, database_url, data_dir } => {
            if list {
                for line in rebuild::list(database_url.as_deref(), &data_dir).await? {
                    println!("{line}");
                }
                return Ok(());
            }
            let name = projection.unwrap_or_default();
            let report = rebuild::run(&name, database_url.as_deref(), &data_dir).await?;
            println!("{}", rebuild::summary(&report));
            Ok(())
        }
    }
}
