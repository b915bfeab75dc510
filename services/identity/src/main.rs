//! The identity service as its own process: `onewindow-identity --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(
        onewindow_identity::SERVICE,
        onewindow_identity::DEFAULT_PORT,
        onewindow_identity::run,
    )
    .await
}
