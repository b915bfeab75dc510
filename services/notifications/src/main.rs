//! The notifications service as its own process: `onewindow-notifications --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(
        onewindow_notifications::SERVICE,
        onewindow_notifications::DEFAULT_PORT,
        onewindow_notifications::run,
    )
    .await
}
