//! `onewindow-bench`: the raw limits of this machine's components, so the platform's figures can be read as
//! ratios of them (issue 9). Starts its own nats-server (the version the tests use, `sync_interval: always`) and
//! uses a fresh database on the machine's PostgreSQL and a fresh SQLite file; prints a table and writes
//! `bench-results/raw-limits.json`.

mod raw;
mod stats;

use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Measures the raw limits of PostgreSQL, SQLite (the event log's settings) and JetStream")]
struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent writers for the "N" measurements.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Where the JSON report goes.
    #[arg(long, default_value = "bench-results/raw-limits.json")]
    output: std::path::PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let duration = Duration::from_secs(args.seconds);
    let nats = onewindow_tests::NatsServer::start().await?;
    let postgres = onewindow_tests::fresh_postgres_database().await?;
    let events = onewindow_tests::fresh_postgres_database().await?;
    let sqlite = onewindow_tests::fresh_sqlite_database()?;

    let mut runs = Vec::new();
    for writers in [1, args.writers] {
        runs.push(raw::postgres_commits(&postgres, writers, duration).await?);
    }
    for writers in [1, args.writers] {
        let name = format!("event log commit on PostgreSQL, {writers} writer(s)");
        runs.push(raw::event_log_commits(&name, &events, writers, duration).await?);
    }
    for writers in [1, args.writers] {
        let name = format!("event log commit on SQLite (WAL, synchronous FULL), {writers} writer(s)");
        runs.push(raw::event_log_commits(&name, &sqlite, writers, duration).await?);
    }
    for publishers in [1, args.writers] {
        runs.push(raw::jetstream_acked_publishes(&nats.url, publishers, duration).await?);
    }
    runs.push(raw::jetstream_to_subscriber(&nats.url, 200, duration).await?);

    println!("\n{:<66} {:>10} {:>9} {:>9} {:>9}", "raw limit", "ops/s", "p50 ms", "p95 ms", "p99 ms");
    for run in &runs {
        let ms = |share| run.percentile(share).as_secs_f64() * 1e3;
        println!("{:<66} {:>10.0} {:>9.2} {:>9.2} {:>9.2}", run.name, run.per_second(), ms(0.50), ms(0.95), ms(0.99));
    }
    let report = serde_json::json!({
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "seconds_per_measurement": args.seconds,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "runs": runs.iter().map(stats::Run::json).collect::<Vec<_>>(),
    });
    if let Some(dir) = args.output.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.output, format!("{report:#}\n"))?;
    println!("\nwritten to {}", args.output.display());
    Ok(())
}
