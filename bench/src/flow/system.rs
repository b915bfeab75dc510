//! The system under load, started by the bench itself: the embedded `onewindow run` (one process, SQLite) or the
//! six service binaries over PostgreSQL and JetStream (optionally a second routing replica). Every process is
//! spawned here, so its CPU time and peak memory can be read from /proc.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use onewindow_eventlog::{EventStore, OrgId};
use onewindow_identity::{NewAccount, register_account};
use uuid::Uuid;

use super::Mode;

/// Where the binaries of the workspace are: next to this one (`cargo build --release --workspace --bins`).
fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("no binary directory")?.join(name);
    if !path.exists() {
        bail!("{} is missing: build the binaries first (`cargo build --release --workspace --bins`)", path.display());
    }
    Ok(path)
}

/// One spawned process, killed when dropped; its log is kept in a scratch file for post-mortems.
pub struct Process {
    child: Child,
    pub name: String,
    pub url: String,
    pub log: PathBuf,
}

/// CPU seconds and memory of a process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_seconds: f64,
    pub peak_resident_kib: u64,
    pub resident_kib: u64,
}

impl Process {
    fn spawn(label: &str, binary_name: &str, args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Self> {
        let port = onewindow_tests::free_port()?;
        let log = std::env::temp_dir().join(format!("onewindow-bench-{label}-{}.log", Uuid::now_v7().simple()));
        let file = std::fs::File::create(&log)?;
        let mut command = Command::new(binary(binary_name)?);
        command
            .args(args)
            .env("ONEWINDOW_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            // The load comes from one address, standing for many verifiers and users on many networks: the
            // per-network limits of public verification and sign-in would otherwise refuse it.
            .env("ONEWINDOW_VERIFY_PER_MINUTE", "1000000")
            .env("ONEWINDOW_SIGN_IN_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(file);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("starting {binary_name}"))?;
        Ok(Self { child, name: label.to_owned(), url: format!("http://127.0.0.1:{port}"), log })
    }

    async fn wait_serving(&mut self, service: &str) -> anyhow::Result<()> {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited with {status}; log: {}", self.name, self.log.display());
            }
            if onewindow_tests::health_status(&self.url, service).await.unwrap_or(false) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} did not become SERVING; log: {}", self.name, self.log.display())
    }

    /// utime + stime (/proc/<pid>/stat fields 14 and 15) and VmHWM / VmRSS (/proc/<pid>/status).
    pub fn usage(&self) -> anyhow::Result<Usage> {
        let pid = self.child.id();
        let (ticks, _) = stat(pid)?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok(Usage { cpu_seconds: ticks, peak_resident_kib: kib("VmHWM:"), resident_kib: kib("VmRSS:") })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) and the parent pid of a process, from /proc/<pid>/stat.
fn stat(pid: u32) -> anyhow::Result<(f64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after_name = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok((ticks as f64 / clock_ticks_per_second(), fields[1].parse()?))
}

/// The CPU seconds of the servers under the services: the bench's own nats-server (a child of this process) and
/// PostgreSQL (every backend: the machine's server is shared, so other users' work is counted too).
pub fn infrastructure_cpu() -> Vec<(String, f64)> {
    let me = std::process::id();
    let (mut nats, mut postgres) = (None::<f64>, 0.0);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let Ok((cpu, parent)) = stat(pid) else { continue };
        match comm.trim() {
            "nats-server" if parent == me => *nats.get_or_insert(0.0) += cpu,
            "postgres" => postgres += cpu,
            _ => {}
        }
    }
    let mut usage = vec![("postgresql (all backends, shared)".to_owned(), postgres)];
    usage.extend(nats.map(|cpu| ("nats-server".to_owned(), cpu)));
    usage
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Where the clients send each kind of call; routing may have replicas.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub identity: String,
    pub catalog: String,
    pub applications: String,
    pub routing: Vec<String>,
    pub documents: String,
    pub notifications: String,
}

/// One service's event log, for counting what a flow commits.
pub struct ServiceLog {
    pub service: &'static str,
    pub url: String,
}

pub struct System {
    pub mode: Mode,
    pub endpoints: Endpoints,
    pub processes: Vec<Process>,
    pub logs: Vec<ServiceLog>,
    pub nats: Option<onewindow_tests::NatsServer>,
    identity_log: String,
    routing_env: Vec<(&'static str, String)>,
    data_dir: Option<PathBuf>,
}

const SERVICES: [&str; 6] = ["identity", "catalog", "applications", "routing", "documents", "notifications"];

pub const ORG: &str = "kaznmu";

impl System {
    pub async fn start(mode: Mode) -> anyhow::Result<Self> {
        match mode {
            Mode::Embedded => Self::embedded().await,
            Mode::Distributed => Self::distributed().await,
        }
    }

    async fn embedded() -> anyhow::Result<Self> {
        let data_dir = std::env::temp_dir().join(format!("onewindow-bench-{}", Uuid::now_v7().simple()));
        let env = [("ONEWINDOW_DATA_DIR", data_dir.display().to_string())];
        let mut process = Process::spawn("onewindow", "onewindow", &["run"], &env)?;
        process.wait_serving("onewindow.notifications.v1.NotificationsService").await?;
        let url = process.url.clone();
        let logs = SERVICES
            .iter()
            .map(|service| ServiceLog {
                service,
                url: format!("sqlite:{}", data_dir.join(format!("{service}.db")).display()),
            })
            .collect();
        Ok(Self {
            mode: Mode::Embedded,
            endpoints: Endpoints {
                identity: url.clone(),
                catalog: url.clone(),
                applications: url.clone(),
                routing: vec![url.clone()],
                documents: url.clone(),
                notifications: url,
            },
            processes: vec![process],
            logs,
            nats: None,
            identity_log: format!("sqlite:{}", data_dir.join("identity.db").display()),
            routing_env: Vec::new(),
            data_dir: Some(data_dir),
        })
    }

    async fn distributed() -> anyhow::Result<Self> {
        let nats = onewindow_tests::NatsServer::start().await?;
        let mut logs = Vec::new();
        for service in SERVICES {
            logs.push(ServiceLog { service, url: crate::scratch::postgres_database().await? });
        }
        let url_of = |name: &str| logs.iter().find(|l| l.service == name).map(|l| l.url.clone()).unwrap_or_default();
        let catalog = onewindow_eventlog::open(&url_of("catalog")).await?;
        onewindow_catalog::seed_catalog(catalog.as_ref(), &OrgId::parse(ORG)?).await?;

        let database = |url: String| ("ONEWINDOW_DATABASE_URL", url);
        let mut identity = Process::spawn("identity", "onewindow-identity", &[], &[database(url_of("identity"))])?;
        identity.wait_serving("onewindow.identity.v1.IdentityService").await?;
        let shared = |service: &str| {
            vec![
                database(url_of(service)),
                ("ONEWINDOW_NATS_URL", nats.url.clone()),
                ("ONEWINDOW_IDENTITY_URL", identity.url.clone()),
            ]
        };
        let mut catalog = Process::spawn("catalog", "onewindow-catalog", &[], &shared("catalog"))?;
        catalog.wait_serving("onewindow.catalog.v1.CatalogService").await?;
        let mut applications_env = shared("applications");
        applications_env.push(("ONEWINDOW_CATALOG_URL", catalog.url.clone()));
        let mut applications = Process::spawn("applications", "onewindow-applications", &[], &applications_env)?;
        let routing_env = shared("routing");
        let mut routing = Process::spawn("routing", "onewindow-routing", &[], &routing_env)?;
        let mut documents_env = shared("documents");
        documents_env.push(("ONEWINDOW_BLOB_STORE", "nats".into()));
        let mut documents = Process::spawn("documents", "onewindow-documents", &[], &documents_env)?;
        let mut notifications =
            Process::spawn("notifications", "onewindow-notifications", &[], &shared("notifications"))?;
        applications.wait_serving("onewindow.applications.v1.ApplicationsService").await?;
        routing.wait_serving("onewindow.routing.v1.RoutingService").await?;
        documents.wait_serving("onewindow.documents.v1.DocumentsService").await?;
        notifications.wait_serving("onewindow.notifications.v1.NotificationsService").await?;
        let endpoints = Endpoints {
            identity: identity.url.clone(),
            catalog: catalog.url.clone(),
            applications: applications.url.clone(),
            routing: vec![routing.url.clone()],
            documents: documents.url.clone(),
            notifications: notifications.url.clone(),
        };
        Ok(Self {
            mode: Mode::Distributed,
            endpoints,
            identity_log: url_of("identity"),
            processes: vec![identity, catalog, applications, routing, documents, notifications],
            logs,
            nats: Some(nats),
            routing_env,
            data_dir: None,
        })
    }

    /// A second routing process on the same database and durable consumers: the replicas share the work.
    pub async fn add_routing_replica(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.mode == Mode::Distributed, "replicas need the distributed mode");
        let mut replica = Process::spawn("routing-2", "onewindow-routing", &[], &self.routing_env)?;
        replica.wait_serving("onewindow.routing.v1.RoutingService").await?;
        self.endpoints.routing.push(replica.url.clone());
        self.processes.push(replica);
        Ok(())
    }

    /// Registers accounts straight in identity's log, as an administrator's import would.
    pub async fn register(&self, accounts: Vec<NewAccount>) -> anyhow::Result<()> {
        let store: std::sync::Arc<dyn EventStore> = onewindow_eventlog::open(&self.identity_log).await?;
        for account in accounts {
            register_account(store.as_ref(), account).await.context("registering a bench account")?;
        }
        Ok(())
    }

    pub fn usage(&self) -> Vec<(String, Usage)> {
        self.processes.iter().map(|p| (p.name.clone(), p.usage().unwrap_or_default())).collect()
    }

    /// CPU seconds of every spawned process and of the servers under them.
    pub fn cpu(&self) -> Vec<(String, f64)> {
        let mut cpu: Vec<_> = self.usage().into_iter().map(|(name, u)| (name, u.cpu_seconds)).collect();
        cpu.extend(infrastructure_cpu());
        cpu
    }

    pub fn process_logs(&self) -> Vec<(&str, &Path)> {
        self.processes.iter().map(|p| (p.name.as_str(), p.log.as_path())).collect()
    }
}

impl Drop for System {
    fn drop(&mut self) {
        self.processes.clear();
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
