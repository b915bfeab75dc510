//! The catalog service as its own process: `onewindow-catalog --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(onewindow_catalog::SERVICE, onewindow_catalog::DEFAULT_PORT, onewindow_catalog::run)
        .await
}
