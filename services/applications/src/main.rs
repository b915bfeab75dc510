//! The applications service as its own process. Configuration: `ONEWINDOW_*` variables (see the README).

use onewindow_applications::{DEFAULT_PORT, SERVICE, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(SERVICE, DEFAULT_PORT, run).await
}
