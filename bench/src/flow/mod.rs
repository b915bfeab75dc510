//! The whole clearance-sheet flow under load (issue 9): many applicants and approvers driven through create,
//! attach a scan, submit, twelve parallel approvals, the PDF issued, notifications delivered, plus reads — in the
//! embedded mode (one process, SQLite) and the distributed mode (six processes over PostgreSQL and JetStream).
//!
//! # Layout
//! - `system`: starts the system under load and reads its processes' CPU and memory from /proc
//! - `driver`: one flow over gRPC; the closed loop (N applicants) and the open loop (a fixed arrival rate)
//! - `logs`: the services' event logs, read behind the API (events and commits per flow, documents per
//!   application, event times)
//! - `report`: a stage's figures as JSON
//!
//! A run per mode: a scaling curve in the closed loop (1, 2, 4 … applicants) finds the peak; an open-loop stage
//! at half the peak measures latencies and lags; in the distributed mode a second routing replica is added and
//! the peak concurrency run again. At the end every flow is checked: issued with exactly one document and the
//! expected notifications, or failed with its error.

mod driver;
mod logs;
mod report;
mod system;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::StreamExt;
use onewindow_eventlog::OrgId;
use onewindow_identity::{NewAccount, roles};
use onewindow_proto::{
    catalog::v1::{GetServiceRequest, catalog_service_client::CatalogServiceClient},
    identity::v1::{SignInRequest, identity_service_client::IdentityServiceClient},
    notifications::v1::{ListNotificationsRequest, notifications_service_client::NotificationsServiceClient},
};
use serde_json::{Value, json};

use self::{
    driver::{Cast, Clients, FlowOutcome, Load, authed, channel},
    report::{Stage, ms},
    system::{ORG, System},
};
use crate::stats::Run;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Embedded,
    Distributed,
}

#[derive(Debug, Clone, clap::Args)]
pub struct FlowArgs {
    /// The modes to run.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Mode::Embedded, Mode::Distributed])]
    pub modes: Vec<Mode>,
    /// Concurrent applicants of the scaling curve (closed loop).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4, 8, 16, 32])]
    pub curve: Vec<usize>,
    /// Seconds of each point of the curve (flows under way then finish).
    #[arg(long, default_value_t = 6)]
    pub stage_seconds: u64,
    /// Seconds of the open-loop stage.
    #[arg(long, default_value_t = 10)]
    pub open_seconds: u64,
    /// Flows started per second in the open loop; default: half the peak of the curve.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Skip the run with two routing replicas (distributed mode).
    #[arg(long)]
    pub no_replicas: bool,
    /// How long one flow may wait for a step before it counts as failed.
    #[arg(long, default_value_t = 60)]
    pub flow_timeout_seconds: u64,
}

async fn sign_in(identity: &str, login: &str, password: &str) -> anyhow::Result<String> {
    let request = SignInRequest { organization_id: ORG.into(), login: login.into(), password: password.into() };
    let answer = IdentityServiceClient::new(channel(identity).await?).sign_in(request).await;
    Ok(answer.with_context(|| format!("signing in as {login}"))?.into_inner().access_token)
}

fn account(login: String, password: &str, role: &str, department: &str, position: &str) -> anyhow::Result<NewAccount> {
    Ok(NewAccount {
        org: OrgId::parse(ORG)?,
        full_name: format!("Bench {login}"),
        email: format!("{login}@bench.example.kz"),
        login,
        password: password.to_owned(),
        roles: roles(&[role]),
        department: department.into(),
        position: position.into(),
    })
}

/// Applicants for the largest point of the curve, and one approver per department row of the sheet.
async fn prepare_cast(system: &System, applicants: usize) -> anyhow::Result<Cast> {
    let password = format!("{}Aa1", uuid::Uuid::now_v7().simple());
    let logins: Vec<String> = (0..applicants).map(|i| format!("bench-applicant-{i:02}")).collect();
    let accounts =
        logins.iter().map(|l| account(l.clone(), &password, "applicant", "", "")).collect::<Result<_, _>>()?;
    system.register(accounts).await?;
    let mut tokens = Vec::new();
    for login in &logins {
        tokens.push(sign_in(&system.endpoints.identity, login, &password).await?);
    }
    let service = CatalogServiceClient::new(channel(&system.endpoints.catalog).await?)
        .get_service(authed(GetServiceRequest { code: driver::SERVICE.into(), version: 0 }, &tokens[0]))
        .await
        .context("the clearance sheet service")?
        .into_inner()
        .service
        .context("no service")?;
    let rows: Vec<_> =
        service.route.clone().context("no route")?.stages.into_iter().flat_map(|s| s.approvers).collect();
    let mut accounts = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        accounts.push(account(
            format!("bench-approver-{i:02}"),
            &password,
            "approver",
            &row.department,
            &row.position,
        )?);
    }
    system.register(accounts).await?;
    let mut approvers = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let token = sign_in(&system.endpoints.identity, &format!("bench-approver-{i:02}"), &password).await?;
        approvers.push((row.department.clone(), token));
    }
    offer_a_scan(system, &password, service).await?;
    Ok(Cast { applicants: tokens, approvers })
}

/// Seed 000's clearance sheet asks for no documents; the flow attaches a small scan anyway. A bench
/// administrator revises the service (a new catalog version) with an optional scan slot, as an admin would.
async fn offer_a_scan(
    system: &System,
    password: &str,
    mut service: onewindow_proto::catalog::v1::ServiceDefinition,
) -> anyhow::Result<()> {
    use onewindow_proto::catalog::v1::{DefineServiceRequest, LocalizedText, RequiredDocument};
    system.register(vec![account("bench-admin".into(), password, "admin", "service-centre", "administrator")?]).await?;
    let admin = sign_in(&system.endpoints.identity, "bench-admin", password).await?;
    let expected_version = Some(service.version);
    service.required_documents.push(RequiredDocument {
        name: Some(LocalizedText {
            kk: "Дипломға қосымша".into(),
            ru: "Приложение к диплому".into(),
            en: "Diploma supplement".into(),
        }),
        max_files: 1,
        required: false,
    });
    CatalogServiceClient::new(channel(&system.endpoints.catalog).await?)
        .define_service(authed(DefineServiceRequest { service: Some(service), expected_version }, &admin))
        .await
        .context("revising the clearance sheet with a scan slot")?;
    Ok(())
}

/// A plain NATS subscriber on the public subjects, as an integrator would have: the lag from each event's time
/// to its arrival here.
struct Integrator {
    lags: Arc<Mutex<Vec<Duration>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Integrator {
    async fn subscribe(nats_url: &str) -> anyhow::Result<Self> {
        let client = async_nats::connect(nats_url).await?;
        let mut subscriber = client.subscribe("onewindow.v1.>").await?;
        client.flush().await?;
        let lags = Arc::new(Mutex::new(Vec::new()));
        let sink = lags.clone();
        let task = tokio::spawn(async move {
            let _client = client;
            while let Some(message) = subscriber.next().await {
                let received = chrono::Utc::now();
                let Ok(envelope) = serde_json::from_slice::<Value>(&message.payload) else { continue };
                let Some(at) =
                    envelope["occurred_at"].as_str().and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
                else {
                    continue;
                };
                let lag = (received - at).to_std().unwrap_or_default();
                sink.lock().expect("lags").push(lag);
            }
        });
        Ok(Self { lags, task })
    }

    fn take(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.lags.lock().expect("lags"))
    }
}

impl Drop for Integrator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Shape {
    Closed(usize),
    Open(f64),
}

async fn stage(
    name: String,
    shape: Shape,
    duration: Duration,
    load: &Arc<Load>,
    system: &System,
    logs: &[logs::Log],
    first_index: usize,
) -> anyhow::Result<Stage> {
    load.recorder.take();
    let before = logs::counts(logs).await?;
    let cpu_before = system.cpu();
    let (outcomes, elapsed) = match shape {
        Shape::Closed(concurrency) => driver::closed_loop(load.clone(), concurrency, duration, first_index).await,
        Shape::Open(rate) => driver::open_loop(load.clone(), rate, duration, first_index).await,
    };
    let cpu_after = system.cpu();
    let after = logs::counts(logs).await?;
    let (latencies, rpc_errors) = load.recorder.take();
    let mut rpcs: Vec<Run> = latencies.into_iter().map(|(kind, l)| Run::new(kind, elapsed, l)).collect();
    rpcs.sort_by(|a, b| a.name.cmp(&b.name));
    let log_growth = before
        .iter()
        .zip(&after)
        .map(|((service, b), (_, a))| {
            let commits = a.commits.zip(b.commits).map(|(a, b)| a - b);
            (
                *service,
                logs::Counts { events: a.events - b.events, commits, inbox_marks: a.inbox_marks - b.inbox_marks },
            )
        })
        .collect();
    let cpu_seconds = cpu_after
        .iter()
        .map(|(name, a)| {
            let b = cpu_before.iter().find(|(n, _)| n == name).map(|(_, cpu)| *cpu).unwrap_or(0.0);
            (name.clone(), (a - b).max(0.0))
        })
        .collect();
    let (concurrency, target_per_second) = match shape {
        Shape::Closed(c) => (Some(c), None),
        Shape::Open(r) => (None, Some(r)),
    };
    let stage =
        Stage { name, concurrency, target_per_second, outcomes, elapsed, rpcs, rpc_errors, log_growth, cpu_seconds };
    let flow = stage.flow_latency();
    println!(
        "  {:<34} {:>4} started {:>4} done {:>6.2} flows/s  flow p50 {:>7.0} ms p99 {:>7.0} ms  busiest {}",
        stage.name,
        stage.outcomes.len(),
        stage.completed(),
        stage.flows_per_second(),
        ms(flow.percentile(0.5)),
        ms(flow.percentile(0.99)),
        stage.busiest().map(|(n, c)| format!("{n} ({c:.2} cores)")).unwrap_or_default()
    );
    let mut errors: HashMap<String, usize> = HashMap::new();
    for outcome in &stage.outcomes {
        if let Err(error) = &outcome.result {
            *errors.entry(error.chars().take(160).collect()).or_default() += 1;
        }
    }
    for (error, count) in errors {
        println!("      {count} failed: {error}");
    }
    Ok(stage)
}

/// The end-of-run check: every started flow is issued with exactly one document and the expected notifications,
/// or failed with its error. Returns the violations and the event → notification lags.
async fn check_flows(
    outcomes: &[&FlowOutcome],
    load: &Load,
    notifications_url: &str,
    logs: &[logs::Log],
) -> anyhow::Result<(Vec<String>, Vec<Duration>)> {
    let documents_log = logs.iter().find(|l| l.service == "documents").context("documents log")?;
    let documents = documents_log.documents_per_application().await?;
    let mut violations = Vec::new();
    for outcome in outcomes.iter().filter(|o| o.result.is_ok()) {
        let id = outcome.application_id.clone().unwrap_or_default();
        let count = documents.get(&id).copied().unwrap_or(0);
        if count != 1 {
            violations.push(format!("application {id}: {count} documents issued, expected exactly one"));
        }
    }
    // Registration numbers are unique: two flows never share a document.
    let mut numbers = HashMap::new();
    for outcome in outcomes {
        if let Ok(issued) = &outcome.result
            && let Some(other) = numbers.insert(issued.registration_number.clone(), issued.document_id.clone())
        {
            violations.push(format!(
                "number {} issued twice (documents {other}, {})",
                issued.registration_number, issued.document_id
            ));
        }
    }
    // Notifications come after the document: give the last ones a moment, then check every applicant's list.
    const EXPECTED: [&str; 3] = ["application.submitted", "document.issued", "verification.recorded"];
    let mut client = NotificationsServiceClient::new(channel(notifications_url).await?);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut missing;
    let mut listed = HashMap::new();
    loop {
        missing = Vec::new();
        for (applicant, token) in load.cast.applicants.iter().enumerate() {
            let list = client.list_notifications(authed(ListNotificationsRequest {}, token)).await?.into_inner();
            listed.insert(applicant, list.notifications);
        }
        for outcome in outcomes.iter().filter(|o| o.result.is_ok()) {
            let id = outcome.application_id.as_deref().unwrap_or_default();
            let mine: Vec<_> = listed[&outcome.applicant].iter().filter(|n| n.application_id == id).collect();
            for kind in EXPECTED {
                let n = mine.iter().filter(|m| m.kind == kind).count();
                if n != 1 {
                    missing.push(format!("application {id}: {n} notifications {kind}, expected one"));
                }
            }
        }
        if missing.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    violations.extend(missing);

    let mut times = HashMap::new();
    for log in logs.iter().filter(|l| matches!(l.service, "applications" | "documents")) {
        times.extend(log.event_times().await?);
    }
    let ids: std::collections::HashSet<_> =
        outcomes.iter().filter(|o| o.result.is_ok()).filter_map(|o| o.application_id.clone()).collect();
    let mut lags = Vec::new();
    for notification in listed.values().flatten().filter(|n| ids.contains(&n.application_id)) {
        let (Some(at), Some(created)) = (times.get(&notification.event_id), notification.created_at) else { continue };
        let created = chrono::DateTime::from_timestamp(created.seconds, created.nanos as u32).unwrap_or_default();
        lags.push((created - *at).to_std().unwrap_or_default());
    }
    Ok((violations, lags))
}

/// The raw limits the platform's figures are divided by.
pub struct Limits<'a> {
    pub runs: &'a [Run],
}

impl Limits<'_> {
    fn postgres_commit_single(&self) -> Option<&Run> {
        self.runs.iter().find(|r| r.name == "PostgreSQL single-row commit, 1 connection(s)")
    }

    fn postgres_commit_peak(&self) -> Option<&Run> {
        self.runs
            .iter()
            .filter(|r| r.name.starts_with("PostgreSQL single-row commit"))
            .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
    }

    fn sqlite_log_peak(&self) -> Option<&Run> {
        self.runs
            .iter()
            .filter(|r| r.name.starts_with("event log commit on SQLite"))
            .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
    }
}

/// One mode: the curve, the open-loop stage, the replicas, the check. Returns the mode's JSON and whether every
/// flow checked out.
pub async fn run_mode(mode: Mode, args: &FlowArgs, limits: &Limits<'_>) -> anyhow::Result<(Value, Vec<String>)> {
    println!("\n== {mode:?} mode: starting the system");
    let mut system = System::start(mode).await?;
    let applicants = args.curve.iter().copied().max().unwrap_or(1).max(1);
    let cast = prepare_cast(&system, applicants).await?;
    println!("  {} applicants, {} approvers (one per department row)", cast.applicants.len(), cast.approvers.len());
    // Memory after the set-up (registrations and sign-ins), apart from what the load adds.
    let after_setup = system.usage();
    let logs = logs::open_all(&system.logs).await?;
    let integrator = match &system.nats {
        Some(nats) => Some(Integrator::subscribe(&nats.url).await?),
        None => None,
    };
    let timeout = Duration::from_secs(args.flow_timeout_seconds);
    let mut load = Arc::new(Load {
        clients: Clients::connect(&system.endpoints).await?,
        cast,
        recorder: Default::default(),
        timeout,
    });
    driver::wait_for_scan_slot(&load).await?;
    let stage_duration = Duration::from_secs(args.stage_seconds);
    let mut next_index = 0;
    let mut curve = Vec::new();
    for &concurrency in &args.curve {
        let name = format!("closed loop, {concurrency} applicant(s)");
        let s = stage(name, Shape::Closed(concurrency), stage_duration, &load, &system, &logs, next_index).await?;
        next_index += s.outcomes.len();
        curve.push(s);
    }
    let peak = curve.iter().max_by(|a, b| a.flows_per_second().total_cmp(&b.flows_per_second()));
    let peak_rate = peak.map(Stage::flows_per_second).unwrap_or(1.0).max(0.1);
    let peak_concurrency = peak.and_then(|s| s.concurrency).unwrap_or(1);
    let rate = args.rate.unwrap_or(peak_rate / 2.0);

    if let Some(integrator) = &integrator {
        integrator.take();
    }
    let name = format!("open loop, {rate:.2} flows/s");
    let open =
        stage(name, Shape::Open(rate), Duration::from_secs(args.open_seconds), &load, &system, &logs, next_index)
            .await?;
    next_index += open.outcomes.len();
    let integrator_lag = integrator.as_ref().map(|i| Run::new("event → integrator subscriber", open.elapsed, i.take()));
    // The bare JetStream publish → receive at the same message rate, on the same server.
    let bare_lag = match &system.nats {
        Some(nats) => {
            let per_second = (open.events_per_second().round() as u32).max(10);
            Some(crate::raw::jetstream_to_subscriber(&nats.url, per_second, Duration::from_secs(3)).await?)
        }
        None => None,
    };

    let mut replicas = None;
    let mut replicas_error = None;
    if mode == Mode::Distributed && !args.no_replicas {
        // A replica that cannot start (PostgreSQL's connection limit on a shared machine: each service's pool
        // may hold 16) is reported, not fatal: the rest of the run still stands.
        match system.add_routing_replica().await {
            Ok(()) => {
                let clients = Clients::connect(&system.endpoints).await?;
                let previous = Arc::get_mut(&mut load).context("flows still hold the load")?;
                previous.clients = clients;
                let name = format!("closed loop, {peak_concurrency} applicant(s), 2 routing replicas");
                let shape = Shape::Closed(peak_concurrency);
                replicas = Some(stage(name, shape, stage_duration, &load, &system, &logs, next_index).await?);
            }
            Err(error) => {
                println!("  the second routing replica did not start: {error:#}");
                replicas_error = Some(format!("{error:#}"));
            }
        }
    }

    let all: Vec<&FlowOutcome> =
        curve.iter().chain(std::iter::once(&open)).chain(replicas.iter()).flat_map(|s| s.outcomes.iter()).collect();
    let (violations, notification_lags) = check_flows(&all, &load, &system.endpoints.notifications, &logs).await?;
    let notification_lag = Run::new("event → notification recorded", open.elapsed, notification_lags);
    let failures: Vec<Value> = all
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| json!({"application_id": o.application_id, "error": e})))
        .collect();
    let usage = system.usage();
    for (name, log) in system.process_logs() {
        if !violations.is_empty() {
            eprintln!("  log of {name}: {}", log.display());
        }
    }

    // Ratios to the raw limits of the same run.
    let commits_per_flow = open.commits_per_flow();
    let events_per_flow = open.events() as f64 / open.completed().max(1) as f64;
    let commit_allowance = match mode {
        Mode::Distributed => limits.postgres_commit_peak().zip(commits_per_flow).map(|(r, c)| r.per_second() / c),
        Mode::Embedded => limits.sqlite_log_peak().map(|r| r.per_second() / events_per_flow),
    };
    let pg = limits.postgres_commit_single();
    let command_kinds = ["CreateApplication", "UploadAttachment", "SubmitApplication", "Decide"];
    let latency_ratios: Vec<Value> = command_kinds
        .iter()
        .filter_map(|kind| open.rpc(kind))
        .map(|run| {
            let ratio =
                |share| pg.map(|pg| run.percentile(share).as_secs_f64() / pg.percentile(share).as_secs_f64().max(1e-9));
            json!({"rpc": run.name, "p50_ms": ms(run.percentile(0.5)), "p99_ms": ms(run.percentile(0.99)),
                   "p50_over_pg_commit_p50": ratio(0.5), "p99_over_pg_commit_p99": ratio(0.99),
                   "target_met": ratio(0.5).zip(ratio(0.99)).map(|(a, b)| a <= 3.0 && b <= 10.0)})
        })
        .collect();
    let lag_ratio = integrator_lag
        .as_ref()
        .zip(bare_lag.as_ref())
        .map(|(lag, bare)| lag.percentile(0.99).as_secs_f64() / bare.percentile(0.99).as_secs_f64().max(1e-9));
    let report = json!({
        "mode": mode,
        "peak": {"flows_per_second": peak_rate, "concurrency": peak_concurrency},
        "curve": curve.iter().map(Stage::json).collect::<Vec<_>>(),
        "open_loop": open.json(),
        "replicas": replicas.as_ref().map(Stage::json),
        "replicas_error": replicas_error,
        "integrator_lag": integrator_lag.as_ref().map(Run::json),
        "bare_jetstream_lag_same_load": bare_lag.as_ref().map(Run::json),
        "notification_lag": notification_lag.json(),
        "processes": report::usage_json(&usage),
        "processes_after_setup": report::usage_json(&after_setup),
        "ratios": {
            "commit_allowance_flows_per_second": commit_allowance,
            "commit_allowance_basis": match mode {
                Mode::Distributed => "peak PostgreSQL single-row commits/s ÷ writing transactions per flow (all six logs)",
                Mode::Embedded => "peak SQLite event-log commits/s ÷ events per flow (SQLite rows carry no transaction id)",
            },
            "peak_flows_over_allowance": commit_allowance.map(|a| peak_rate / a),
            "target_flows": ">= 0.5",
            "command_latency_at_half_peak": latency_ratios,
            "integrator_lag_p99_over_bare_jetstream_p99": lag_ratio,
            "processes_within_64_mib": usage.iter().map(|(n, u)| json!({"process": n, "ok": u.peak_resident_kib <= 64 * 1024})).collect::<Vec<_>>(),
        },
        "check": {
            "flows_started": all.len(),
            "flows_issued_and_checked": all.iter().filter(|o| o.result.is_ok()).count(),
            "flows_failed": failures,
            "violations": violations,
        },
    });
    print_mode_table(mode, &report);
    Ok((report, violations))
}

fn print_mode_table(mode: Mode, report: &Value) {
    let f = |v: &Value| v.as_f64().map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
    println!("\n{mode:?} mode");
    println!("  {:<44} {:>10} {:>10}", "scaling curve (closed loop)", "flows/s", "flow p99 ms");
    for s in report["curve"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(report["replicas"].as_object().map(|_| &report["replicas"]))
    {
        println!(
            "  {:<44} {:>10} {:>10}  busiest: {}",
            s["name"].as_str().unwrap_or(""),
            f(&s["flows_per_second"]),
            f(&s["flow_latency"]["p99_ms"]),
            s["busiest_process"].as_str().unwrap_or("-")
        );
    }
    let open = &report["open_loop"];
    println!(
        "  {}: {} flows/s, {} events/s, {} commits/flow",
        open["name"].as_str().unwrap_or(""),
        f(&open["flows_per_second"]),
        f(&open["events_per_second"]),
        f(&open["commits_per_flow"])
    );
    println!("  {:<22} {:>9} {:>9} {:>9}", "rpc", "p50 ms", "p95 ms", "p99 ms");
    for r in open["rpcs"].as_array().into_iter().flatten() {
        println!(
            "  {:<22} {:>9} {:>9} {:>9}",
            r["name"].as_str().unwrap_or(""),
            f(&r["p50_ms"]),
            f(&r["p95_ms"]),
            f(&r["p99_ms"])
        );
    }
    for key in ["integrator_lag", "bare_jetstream_lag_same_load", "notification_lag"] {
        let r = &report[key];
        if r.is_object() {
            println!(
                "  {:<40} p50 {:>8} p99 {:>8} ms",
                r["name"].as_str().unwrap_or(key),
                f(&r["p50_ms"]),
                f(&r["p99_ms"])
            );
        }
    }
    for p in report["processes"].as_array().into_iter().flatten() {
        println!(
            "  {:<16} cpu {:>7} s  peak RSS {:>7} MiB",
            p["process"].as_str().unwrap_or(""),
            f(&p["cpu_seconds_total"]),
            f(&p["peak_resident_mib"])
        );
    }
    let ratios = &report["ratios"];
    println!(
        "  ratios: peak flows/s ÷ commit allowance = {} (target ≥ 0.5); integrator lag p99 ÷ bare JetStream p99 = {} (target ≤ 5)",
        f(&ratios["peak_flows_over_allowance"]),
        f(&ratios["integrator_lag_p99_over_bare_jetstream_p99"])
    );
    for r in ratios["command_latency_at_half_peak"].as_array().into_iter().flatten() {
        println!(
            "  {:<22} p50 ÷ PG commit p50 = {:>7} (≤ 3)  p99 ÷ PG commit p99 = {:>7} (≤ 10)",
            r["rpc"].as_str().unwrap_or(""),
            f(&r["p50_over_pg_commit_p50"]),
            f(&r["p99_over_pg_commit_p99"])
        );
    }
    let check = &report["check"];
    println!(
        "  check: {} flows started, {} issued and checked, {} failed, {} violations",
        check["flows_started"],
        check["flows_issued_and_checked"],
        check["flows_failed"].as_array().map_or(0, Vec::len),
        check["violations"].as_array().map_or(0, Vec::len)
    );
}
