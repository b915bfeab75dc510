//! The documents service as its own process. Configuration: `ONEWINDOW_*` variables (see the README), and
//! `ONEWINDOW_BLOB_STORE` (`nats`, the default, or `fs:<directory>`).

use onewindow_documents::{DEFAULT_PORT, SERVICE, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(SERVICE, DEFAULT_PORT, run).await
}
