//! The routing service as its own process: `onewindow-routing --help` lists its settings.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    onewindow_server::service_main(onewindow_routing::SERVICE, onewindow_routing::DEFAULT_PORT, onewindow_routing::run)
        .await
}
