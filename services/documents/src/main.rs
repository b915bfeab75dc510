//! The documents service as its own process: `onewindow-documents --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(
        onewindow_documents::SERVICE,
        onewindow_documents::DEFAULT_PORT,
        onewindow_documents::run,
    )
    .await
}
