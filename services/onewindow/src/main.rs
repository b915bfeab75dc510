//! `onewindow`: the whole system in one process (`onewindow run`, what `make run` starts), and the demo
//! walkthrough as a client (`onewindow demo`), and `onewindow rebuild <projection>` for read models.

use std::time::Duration;

use anyhow::Context;
use onewindow::{
    cli::{Cli, Command, RunArgs},
    rebuild,
    redrive::{self, Target},
    run_embedded,
    walkthrough::{Cast, Endpoints, Login, certificate_of_study},
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (command, telemetry) = Cli::read();
    let _telemetry = telemetry.init("onewindow")?;
    match command {
        Command::Run(RunArgs { listen, system }) => {
            let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("binding {listen}"))?;
            let address = listener.local_addr()?;
            let data_dir = &system.data_dir;
            println!("onewindow is listening on {address} (all six services; data in {})", data_dir.display());
            println!("demo accounts and their passwords: {}", data_dir.join("demo-accounts.txt").display());
            println!("try the whole flow in another terminal: make demo (or: onewindow demo --url http://{address})");
            run_embedded(system, listener, onewindow_server::shutdown_on_signal()).await
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
        Command::Redrive { url, org, login, password, all, service, consumer, event_id } => {
            let target = match (service, consumer, event_id) {
                (Some(service), Some(consumer), Some(event_id)) => Some(Target { service, consumer, event_id }),
                _ => None,
            };
            for line in redrive::run(&url, &org, &Login { login, password }, target, all).await? {
                println!("{line}");
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
