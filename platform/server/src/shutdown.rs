use tokio_util::sync::CancellationToken;

/// A token cancelled on Ctrl-C or SIGTERM (what orchestrators send), for a service's `main`.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::warn!(%error, "SIGTERM cannot be watched; Ctrl-C only");
                    let _ = ctrl_c.await;
                    cancel.cancel();
                    return;
                }
            };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
    token
}

/// What a distributed service connects to: its own database, NATS, and identity's keys.
pub async fn connect(
    service: &str,
    server: &crate::ServerSettings,
    cluster: &crate::ClusterSettings,
    shutdown: CancellationToken,
) -> anyhow::Result<crate::ServiceContext> {
    use anyhow::Context;
    let store = server.open_store(service).await.context("opening the event log")?;
    let bus = onewindow_bus::NatsBus::connect(onewindow_bus::NatsSettings {
        url: cluster.nats_url.clone(),
        stream_replicas: cluster.stream_replicas(),
    })
    .await
    .context("connecting to NATS")?;
    let keys = onewindow_auth::IdentityKeySource::new(&cluster.identity_url)?;
    Ok(crate::ServiceContext {
        store,
        bus: std::sync::Arc::new(bus),
        auth: onewindow_auth::Authenticator::new(keys),
        shutdown,
        clock: std::sync::Arc::new(crate::SystemClock),
        consumers: Default::default(),
    })
}

/// The settings of a service process: read by [`service_main`] before anything else.
pub trait ProcessSettings: clap::Parser + Send + 'static {
    fn server(&self) -> &crate::ServerSettings;
}

/// The whole `main` of a service process: its settings (`--help` and bad values exit here), telemetry, the
/// listener, and `run` until Ctrl-C or SIGTERM.
pub async fn service_main<S, F, Fut>(service: &'static str, default_port: u16, run: F) -> anyhow::Result<()>
where
    S: ProcessSettings,
    F: FnOnce(S, tokio::net::TcpListener, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    use anyhow::Context;
    let settings: S = crate::parse();
    let _telemetry = settings.server().telemetry.init(service)?;
    let address = settings.server().listen_addr(default_port);
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
    run(settings, listener, shutdown_on_signal()).await
}
