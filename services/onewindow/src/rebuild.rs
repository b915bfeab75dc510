//! `onewindow rebuild <projection>`: drops a read model and replays its service's log into it, with a progress bar.
//!
//! It opens the owning service's database as the service does (`ONEWINDOW_DATABASE_URL`, or the embedded mode's
//! SQLite file under `ONEWINDOW_DATA_DIR`). A running service may stay up: its projection runner and the rebuild
//! take turns on the checkpoint, so no batch is applied twice; its lists are incomplete until the rebuild ends.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use indicatif::{HumanCount, ProgressBar, ProgressStyle};
use onewindow_projections::{Projection, ReadModelDb, RebuildReport, rebuild};

/// A projection and the service whose log and database it lives in.
pub struct Rebuildable {
    pub service: &'static str,
    pub projection: Arc<dyn Projection>,
}

/// Every projection of every service.
pub fn rebuildable() -> Vec<Rebuildable> {
    onewindow_applications::lists::projections()
        .into_iter()
        .map(|projection| Rebuildable { service: onewindow_applications::SERVICE, projection })
        .collect()
}

/// The database of `service`: the given URL, or the embedded mode's file under `data_dir`.
pub fn database_url(service: &str, url: Option<&str>, data_dir: &Path) -> String {
    match url.filter(|u| !u.is_empty()) {
        Some(url) => url.to_owned(),
        None => format!("sqlite:{}", data_dir.join(format!("{service}.db")).display()),
    }
}

/// One line per projection: its name, service, and how far its checkpoint is.
pub async fn list(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for Rebuildable { service, projection } in rebuildable() {
        let url = database_url(service, url, data_dir);
        let log = onewindow_eventlog::open(&url).await.with_context(|| format!("opening {url}"))?;
        let db = ReadModelDb::of(log.as_ref())?;
        let state = match db.checkpoint(projection.name()).await {
            Ok(Some(checkpoint)) => format!(
                "version {}, {} events applied, at {}",
                checkpoint.version,
                HumanCount(u64::try_from(checkpoint.events).unwrap_or(0)),
                checkpoint.position
            ),
            // Before the service first started, there is no checkpoint table or row yet.
            Ok(None) | Err(_) => "not built yet".to_owned(),
        };
        lines.push(format!("{} ({service}): {state}", projection.name()));
    }
    Ok(lines)
}

/// Rebuilds the projection named `name`, drawing a progress bar on the terminal.
pub async fn run(name: &str, url: Option<&str>, data_dir: &Path) -> anyhow::Result<RebuildReport> {
    let Rebuildable { service, projection } = rebuildable()
        .into_iter()
        .find(|r| r.projection.name() == name)
        .with_context(|| format!("no projection is named {name:?}: `onewindow rebuild --list` names them"))?;
    let url = database_url(service, url, data_dir);
    let log = onewindow_eventlog::open(&url).await.with_context(|| format!("opening {url}"))?;

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40.cyan/blue}] {human_pos}/{human_len} events ({per_sec}, {eta} left)",
        )?
        .progress_chars("=> "),
    );
    bar.set_message(format!("rebuilding {name}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let progress_bar = bar.clone();
    let report = rebuild(projection.as_ref(), log, move |progress| {
        progress_bar.set_length(progress.total.max(progress.events));
        progress_bar.set_position(progress.events);
    })
    .await;
    bar.finish_and_clear();
    Ok(report?)
}

/// "rebuilt application_list: 1,234,567 events, 45,678 applications in 12.3 s"
pub fn summary(report: &RebuildReport) -> String {
    format!(
        "rebuilt {}: {} events, {} {} in {:.1} s",
        report.projection,
        HumanCount(u64::try_from(report.events).unwrap_or(0)),
        HumanCount(u64::try_from(report.rows).unwrap_or(0)),
        report.rows_are,
        report.elapsed.as_secs_f64()
    )
}
