//! The routing service as its own process. Configuration: `ONEWINDOW_*` variables (see the README).

use onewindow_routing::{DEFAULT_PORT, SERVICE, run};
use onewindow_server::{ServiceConfig, shutdown_on_signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = onewindow_telemetry::init(SERVICE)?;
    let config = ServiceConfig::from_env(SERVICE, DEFAULT_PORT)?;
    let listener = tokio::net::TcpListener::bind(&config.listen_addr).await?;
    run(config, listener, shutdown_on_signal()).await
}
