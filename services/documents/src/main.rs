//! The documents service as its own process: `onewindow-documents --help` lists its settings.

use onewindow_documents::{DEFAULT_PORT, SERVICE, Settings, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings: Settings = onewindow_server::parse();
    let server = settings.server.clone();
    onewindow_server::service_main(SERVICE, &server, DEFAULT_PORT, |listener, shutdown| {
        run(settings, listener, shutdown)
    })
    .await
}
