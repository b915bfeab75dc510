use std::{sync::Arc, time::Duration};

use anyhow::Context;
use onewindow_bus::Worker;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

use onewindow_auth::Authenticator;

use crate::authorize::AuthorizeLayer;

/// The gRPC services of one server, their names (for health), and the authenticator every call passes.
pub struct Grpc {
    pub routes: RoutesBuilder,
    pub names: Vec<&'static str>,
    pub auth: Arc<Authenticator>,
}

impl Grpc {
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { routes: RoutesBuilder::default(), names: Vec::new(), auth }
    }
}

/// How long open calls may run on after the shutdown signal.
const GRACE: Duration = Duration::from_secs(5);

/// The gRPC health service's name, advertised beside the process's own APIs.
const HEALTH: &str = "grpc.health.v1.Health";

/// Serves `grpc` on `listener` beside `workers`, until `shutdown` is cancelled or any of them stops.
///
/// A worker that fails (or ends early) brings the whole server down, so an orchestrator restarts it rather than
/// leaving a service that answers calls while its consumers are dead.
pub async fn serve(
    listener: TcpListener,
    grpc: Grpc,
    workers: Vec<Worker>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Grpc { mut routes, names, auth } = grpc;
    let (health, health_service) = tonic_health::server::health_reporter();
    for name in &names {
        health.set_service_status(*name, ServingStatus::Serving).await;
    }
    // Only the APIs this process serves: a client following reflection must not be sent to a service that lives
    // on another port (it would get UNIMPLEMENTED).
    let advertised = || {
        names.iter().chain(&[HEALTH]).fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(onewindow_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(*name),
        )
    };
    let reflection = advertised().build_v1().context("building reflection v1")?;
    let reflection_alpha = advertised().build_v1alpha().context("building reflection v1alpha")?;
    routes.add_service(health_service).add_service(reflection).add_service(reflection_alpha);

    let address = listener.local_addr()?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let server_shutdown = shutdown.clone();
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        tonic::transport::Server::builder()
            .trace_fn(onewindow_telemetry::grpc_request_span)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(AuthorizeLayer::new(auth))
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, server_shutdown.cancelled_owned())
            .await
            .context("gRPC server")?;
        Ok::<_, anyhow::Error>("gRPC server".to_owned())
    });
    for worker in workers {
        let Worker { name, task } = worker;
        tasks.spawn(async move { task.await.with_context(|| name.clone()).map(|()| name) });
    }
    tracing::info!(%address, services = ?names, "serving");

    let mut outcome = Ok(());
    // After the signal, open calls (watch streams held by clients) get GRACE to finish, then are cut: a process
    // must stop within the orchestrator's grace period, not when its last client's deadline passes.
    let mut cut_at: Option<tokio::time::Instant> = None;
    loop {
        let joined = tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(joined) => joined,
                None => break,
            },
            () = shutdown.cancelled(), if cut_at.is_none() => {
                cut_at = Some(tokio::time::Instant::now() + GRACE);
                continue;
            }
            () = tokio::time::sleep_until(cut_at.unwrap_or_else(tokio::time::Instant::now)), if cut_at.is_some() => {
                tracing::warn!(still_running = tasks.len(), grace_s = GRACE.as_secs(), "calls still open after the grace period: closing them");
                tasks.abort_all();
                cut_at = Some(tokio::time::Instant::now() + Duration::from_secs(3600));
                continue;
            }
        };
        let result = match joined {
            Err(error) if error.is_cancelled() => continue,
            joined => joined.context("a task panicked").and_then(|r| r),
        };
        match result {
            Ok(name) if shutdown.is_cancelled() => tracing::debug!(task = %name, "stopped"),
            Ok(name) => {
                tracing::error!(task = %name, "stopped before shutdown; stopping the server");
                outcome = Err(anyhow::anyhow!("{name} stopped unexpectedly"));
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "task failed; stopping the server");
                if outcome.is_ok() {
                    outcome = Err(error);
                }
            }
        }
        shutdown.cancel();
        for name in &names {
            health.set_service_status(*name, ServingStatus::NotServing).await;
        }
    }
    outcome
}
