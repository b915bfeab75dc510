//! What `make run` starts: the `onewindow` binary, all six services on one port, healthy and reflectable.

use onewindow_tests::ServiceProcess;
use tokio_stream::StreamExt;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

const SERVICES: [&str; 6] = [
    "onewindow.identity.v1.IdentityService",
    "onewindow.catalog.v1.CatalogService",
    "onewindow.applications.v1.ApplicationsService",
    "onewindow.routing.v1.RoutingService",
    "onewindow.documents.v1.DocumentsService",
    "onewindow.notifications.v1.NotificationsService",
];

#[tokio::test]
async fn the_embedded_binary_serves_all_six_services_with_health_and_reflection() {
    let data_dir = std::env::temp_dir().join(format!("onewindow-run-{}", uuid::Uuid::now_v7().simple()));
    let mut process = ServiceProcess::spawn("onewindow", &[("ONEWINDOW_DATA_DIR", data_dir.display().to_string())])
        .expect("the onewindow binary");
    // wait_serving allows a minute, as the issue does; the binary starts in about 1.5 s here.
    for service in SERVICES {
        process.wait_serving(service).await.expect("SERVING");
    }

    let channel =
        tonic::transport::Endpoint::from_shared(process.url.clone()).expect("url").connect().await.expect("connect");
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses.next().await.expect("one response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(listed)) = response.message_response else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<_> = listed.service.iter().map(|s| s.name.as_str()).collect();
    for service in SERVICES.iter().chain(&["grpc.health.v1.Health"]) {
        assert!(names.contains(service), "reflection lists {service}: {names:?}");
    }
    assert!(data_dir.join("demo-accounts.txt").exists(), "demo accounts are written for the walkthrough");
}
