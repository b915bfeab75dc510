//! The applications service as its own process: `onewindow-applications --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(
        onewindow_applications::SERVICE,
        onewindow_applications::DEFAULT_PORT,
        onewindow_applications::run,
    )
    .await
}
