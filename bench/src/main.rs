//! `onewindow-bench` (issue 9): the raw limits of this machine's components and the platform's figures as ratios of
//! them, measured in the same run.
//!
//! - `raw` (the default): single-row PostgreSQL commits, event-log commits on PostgreSQL and SQLite, acknowledged
//!   JetStream publishes, JetStream → subscriber lag; writes `bench-results/raw-limits.json`.
//! - `flow`: the clearance-sheet flow under load in the embedded and the distributed mode (`flow/`).
//! - `rebuild`: one application of 1,000 events loaded against the bare read of its rows.
//! - `all` (what `make bench` runs): the three, with the ratios; writes `bench-results/flow.json` too.
//!
//! Starts its own nats-server (the version the tests use, `sync_interval: always`), fresh databases on the
//! machine's PostgreSQL and fresh SQLite files; spawns the workspace's binaries from its own directory.

mod flow;
mod raw;
mod rebuild;
mod scratch;
mod stats;

use std::{path::PathBuf, time::Duration};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::stats::Run;

#[derive(Parser)]
#[command(about = "The raw limits of PostgreSQL, SQLite and JetStream, and the onewindow flow measured against them")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seconds per raw measurement.
    #[arg(long, default_value_t = 5, global = true)]
    seconds: u64,
    /// Concurrent writers for the "N" raw measurements.
    #[arg(long, default_value_t = 8, global = true)]
    writers: usize,
    /// Where the JSON reports go.
    #[arg(long, default_value = "bench-results", global = true)]
    output_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// The raw limits only (the default).
    Raw,
    /// The clearance-sheet flow under load (ratios need the raw limits: use `all`).
    Flow(flow::FlowArgs),
    /// One application with 1,000 events loaded against the bare read of its rows.
    Rebuild(RebuildArgs),
    /// Raw limits, rebuild and flow in one run, with the ratios (what `make bench` runs).
    All {
        #[command(flatten)]
        flow: flow::FlowArgs,
        #[command(flatten)]
        rebuild: RebuildArgs,
    },
}

#[derive(Clone, clap::Args)]
struct RebuildArgs {
    /// Also the million-event projection rebuild (writes a million events to a fresh PostgreSQL database first).
    #[arg(long)]
    million_event_rebuild: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let outcome = run(cli).await;
    scratch::drop_all().await;
    outcome
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cli.output_dir)?;
    match cli.command.unwrap_or(Command::Raw) {
        Command::Raw => {
            raw_limits(&cli.output_dir, cli.seconds, cli.writers).await?;
        }
        Command::Rebuild(args) => {
            rebuild_report(&args).await?;
        }
        Command::Flow(args) => {
            let (report, violations) = flows(&args, &[]).await?;
            write(&cli.output_dir.join("flow.json"), &report)?;
            fail_on(violations)?;
        }
        Command::All { flow, rebuild } => {
            let started = std::time::Instant::now();
            let runs = raw_limits(&cli.output_dir, cli.seconds, cli.writers).await?;
            let rebuilt = rebuild_report(&rebuild).await?;
            let (mut report, violations) = flows(&flow, &runs).await?;
            report["raw_limits"] = Value::Array(runs.iter().map(Run::json).collect());
            report["rebuild"] = rebuilt;
            report["seconds_total"] = json!(started.elapsed().as_secs_f64());
            write(&cli.output_dir.join("flow.json"), &report)?;
            print_summary(&report);
            fail_on(violations)?;
        }
    }
    Ok(())
}

fn write(path: &std::path::Path, report: &Value) -> anyhow::Result<()> {
    std::fs::write(path, format!("{report:#}\n"))?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

fn fail_on(violations: Vec<String>) -> anyhow::Result<()> {
    for violation in &violations {
        eprintln!("VIOLATION: {violation}");
    }
    anyhow::ensure!(violations.is_empty(), "{} flows did not check out (see above)", violations.len());
    Ok(())
}

async fn raw_limits(output_dir: &std::path::Path, seconds: u64, writers: usize) -> anyhow::Result<Vec<Run>> {
    let duration = Duration::from_secs(seconds);
    let nats = onewindow_tests::NatsServer::start().await?;
    let postgres = crate::scratch::postgres_database().await?;
    let events = crate::scratch::postgres_database().await?;
    let sqlite = onewindow_tests::fresh_sqlite_database()?;

    let mut runs = Vec::new();
    for writers in [1, writers] {
        runs.push(raw::postgres_commits(&postgres, writers, duration).await?);
    }
    for writers in [1, writers] {
        let name = format!("event log commit on PostgreSQL, {writers} writer(s)");
        runs.push(raw::event_log_commits(&name, &events, writers, duration).await?);
    }
    for writers in [1, writers] {
        let name = format!("event log commit on SQLite (WAL, synchronous FULL), {writers} writer(s)");
        runs.push(raw::event_log_commits(&name, &sqlite, writers, duration).await?);
    }
    for publishers in [1, writers] {
        runs.push(raw::jetstream_acked_publishes(&nats.url, publishers, duration).await?);
    }
    runs.push(raw::jetstream_to_subscriber(&nats.url, 200, duration).await?);

    print_runs("raw limit", &runs);
    let report = json!({
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "seconds_per_measurement": seconds,
        "cpus": cpus(),
        "runs": runs.iter().map(Run::json).collect::<Vec<_>>(),
    });
    write(&output_dir.join("raw-limits.json"), &report)?;
    Ok(runs)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn print_runs(title: &str, runs: &[Run]) {
    println!("\n{title:<66} {:>10} {:>9} {:>9} {:>9}", "ops/s", "p50 ms", "p95 ms", "p99 ms");
    for run in runs {
        let ms = |share| run.percentile(share).as_secs_f64() * 1e3;
        println!("{:<66} {:>10.0} {:>9.2} {:>9.2} {:>9.2}", run.name, run.per_second(), ms(0.50), ms(0.95), ms(0.99));
    }
}

/// One application of 1,000 events, on PostgreSQL and on SQLite: the load as a share of the bare read.
async fn rebuild_report(args: &RebuildArgs) -> anyhow::Result<Value> {
    let mut runs = Vec::new();
    let mut ratios = Vec::new();
    for url in [crate::scratch::postgres_database().await?, onewindow_tests::fresh_sqlite_database()?] {
        let (read, loaded) = rebuild::one_application(&url, 1_000, 20).await?;
        ratios.push(json!({
            "backend": url.split(':').next(),
            "load_speed_over_bare_read": read.percentile(0.5).as_secs_f64() / loaded.percentile(0.5).as_secs_f64().max(1e-9),
            "target": ">= 0.5",
        }));
        runs.extend([read, loaded]);
    }
    print_runs("rebuild", &runs);
    let million = if args.million_event_rebuild {
        let url = crate::scratch::postgres_database().await?;
        let measured = rebuild::million_event_rebuild(&url, 1_000_000).await?;
        print_runs("million-event rebuild", &[measured.bare_read.clone(), measured.rebuild.clone()]);
        measured.json()
    } else {
        json!("not measured: run with --million-event-rebuild")
    };
    Ok(json!({
        "one_application": runs.iter().map(Run::json).collect::<Vec<_>>(),
        "one_application_ratios": ratios,
        "million_event_rebuild": million,
    }))
}

async fn flows(args: &flow::FlowArgs, raw: &[Run]) -> anyhow::Result<(Value, Vec<String>)> {
    let limits = flow::Limits { runs: raw };
    let mut modes = Vec::new();
    let mut violations = Vec::new();
    for &mode in &args.modes {
        let (report, found) = flow::run_mode(mode, args, &limits).await?;
        modes.push(report);
        violations.extend(found);
    }
    let report = json!({
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "cpus": cpus(),
        "settings": {
            "curve": args.curve, "stage_seconds": args.stage_seconds, "open_seconds": args.open_seconds,
            "rate": args.rate, "replicas": !args.no_replicas,
        },
        "modes": modes,
    });
    Ok((report, violations))
}

/// The short table at the end of `make bench`: each mode's headline figures and their ratios to the raw limits.
fn print_summary(report: &Value) {
    let f = |v: &Value| v.as_f64().map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
    println!(
        "\n==== onewindow benchmark summary ({} cores, {}) ====",
        report["cpus"],
        report["measured_at"].as_str().unwrap_or("")
    );
    println!("{:<58} {:>14} {:>14}", "figure", "embedded", "distributed");
    let mode = |name: &str| {
        report["modes"].as_array().and_then(|m| m.iter().find(|r| r["mode"] == name)).cloned().unwrap_or(Value::Null)
    };
    let (e, d) = (mode("embedded"), mode("distributed"));
    let row = |label: &str, pick: &dyn Fn(&Value) -> Value| {
        println!("{label:<58} {:>14} {:>14}", f(&pick(&e)), f(&pick(&d)));
    };
    row("peak flows/s (closed loop)", &|m| m["peak"]["flows_per_second"].clone());
    row("flows/s at half peak (open loop)", &|m| m["open_loop"]["flows_per_second"].clone());
    row("cores used at the peak (services, PostgreSQL, nats-server)", &|m| {
        let peak = m["curve"]
            .as_array()
            .and_then(|c| {
                c.iter().max_by(|a, b| {
                    a["flows_per_second"]
                        .as_f64()
                        .unwrap_or(0.0)
                        .total_cmp(&b["flows_per_second"].as_f64().unwrap_or(0.0))
                })
            })
            .cloned()
            .unwrap_or(Value::Null);
        json!(peak["cpu_cores_used"].as_array().into_iter().flatten().filter_map(|c| c["cores"].as_f64()).sum::<f64>())
    });
    row("CPU ms per flow at the peak, all processes", &|m| {
        let peak = m["curve"]
            .as_array()
            .and_then(|c| {
                c.iter().max_by(|a, b| {
                    a["flows_per_second"]
                        .as_f64()
                        .unwrap_or(0.0)
                        .total_cmp(&b["flows_per_second"].as_f64().unwrap_or(0.0))
                })
            })
            .cloned()
            .unwrap_or(Value::Null);
        peak["cpu_ms_per_flow_all_processes"].clone()
    });
    row("events/s at half peak", &|m| m["open_loop"]["events_per_second"].clone());
    row("events per flow", &|m| {
        json!(
            m["open_loop"]["events"].as_f64().unwrap_or(0.0)
                / m["open_loop"]["flows_completed"].as_f64().unwrap_or(1.0).max(1.0)
        )
    });
    row("commits per flow (PostgreSQL transactions)", &|m| m["open_loop"]["commits_per_flow"].clone());
    row("flows/s the commit limit allows", &|m| m["ratios"]["commit_allowance_flows_per_second"].clone());
    row("peak flows/s ÷ allowance (target ≥ 0.5)", &|m| m["ratios"]["peak_flows_over_allowance"].clone());
    for kind in ["CreateApplication", "UploadAttachment", "SubmitApplication", "Decide"] {
        let pick = |key: &'static str| {
            move |m: &Value| {
                m["ratios"]["command_latency_at_half_peak"]
                    .as_array()
                    .and_then(|a| a.iter().find(|r| r["rpc"] == kind))
                    .map(|r| r[key].clone())
                    .unwrap_or(Value::Null)
            }
        };
        row(&format!("{kind} p50 ms"), &pick("p50_ms"));
        row(&format!("{kind} p99 ms"), &pick("p99_ms"));
        row(&format!("{kind} p50 ÷ PG commit p50 (≤ 3)"), &pick("p50_over_pg_commit_p50"));
        row(&format!("{kind} p99 ÷ PG commit p99 (≤ 10)"), &pick("p99_over_pg_commit_p99"));
    }
    row("integrator lag p99 ms", &|m| m["integrator_lag"]["p99_ms"].clone());
    row("integrator lag p99 ÷ bare JetStream p99 (≤ 5)", &|m| {
        m["ratios"]["integrator_lag_p99_over_bare_jetstream_p99"].clone()
    });
    row("event → notification lag p50 ms", &|m| m["notification_lag"]["p50_ms"].clone());
    row("event → notification lag p99 ms", &|m| m["notification_lag"]["p99_ms"].clone());
    row("largest peak RSS of a process, MiB (≤ 64)", &|m| {
        json!(
            m["processes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["peak_resident_mib"].as_f64())
                .fold(0.0, f64::max)
        )
    });
    row("flows started / failed", &|m| json!(m["check"]["flows_started"].as_f64()));
    row(
        "flows failed (with their error)",
        &|m| json!(m["check"]["flows_failed"].as_array().map_or(0, Vec::len) as f64),
    );
    for r in report["rebuild"]["one_application_ratios"].as_array().into_iter().flatten() {
        println!(
            "{:<58} {:>14}",
            format!("1,000-event application load ÷ bare read speed, {}", r["backend"].as_str().unwrap_or("")),
            f(&r["load_speed_over_bare_read"])
        );
    }
    let million = &report["rebuild"]["million_event_rebuild"];
    let ratio =
        million["rebuild_speed_over_bare_read"].as_f64().map_or("not measured".to_owned(), |r| format!("{r:.2}"));
    println!("{:<58} {:>14}", "1M-event projection rebuild ÷ bare read speed (≥ 0.5)", ratio);
}
