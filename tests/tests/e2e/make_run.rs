//! What `make run` starts: the `onewindow` binary, all six services on one port, healthy and reflectable.

use onewindow_tests::ServiceProcess;

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

    let names = onewindow_tests::reflected_services(&process.url).await.expect("reflection answers");
    for service in SERVICES.iter().chain(&["grpc.health.v1.Health"]) {
        assert!(names.iter().any(|n| n == service), "reflection lists {service}: {names:?}");
    }
    assert!(data_dir.join("demo-accounts.txt").exists(), "demo accounts are written for the walkthrough");
}

/// Stopped with SIGTERM while a client holds a watch stream open (with no deadline), the process exits within
/// the grace period orchestrators give (systemd's and Kubernetes' default is 30 s; the server gives open calls 5 s).
#[tokio::test]
async fn sigterm_stops_the_process_while_watch_streams_are_open() {
    use onewindow::walkthrough::{authed, sign_in};
    use onewindow_proto::{
        applications::v1::{
            WatchMyApplicationsRequest, application_lists_service_client::ApplicationListsServiceClient,
        },
        notifications::v1::{WatchNotificationsRequest, notifications_service_client::NotificationsServiceClient},
    };
    let data_dir = std::env::temp_dir().join(format!("onewindow-run-{}", uuid::Uuid::now_v7().simple()));
    let mut process = ServiceProcess::spawn("onewindow", &[("ONEWINDOW_DATA_DIR", data_dir.display().to_string())])
        .expect("the onewindow binary");
    process.wait_serving("onewindow.notifications.v1.NotificationsService").await.expect("SERVING");
    let cast =
        onewindow::walkthrough::Cast::from_demo_file(&data_dir.join("demo-accounts.txt"), "kaznu").expect("demo");
    let token = sign_in(&process.url, "kaznu", &cast.student).await.expect("the student signs in");
    let channel =
        tonic::transport::Endpoint::from_shared(process.url.clone()).expect("url").connect().await.expect("connect");
    let notifications = NotificationsServiceClient::new(channel.clone())
        .watch_notifications(authed(WatchNotificationsRequest::default(), &token).expect("request"))
        .await
        .expect("watching notifications")
        .into_inner();
    let applications = ApplicationListsServiceClient::new(channel)
        .watch_my_applications(authed(WatchMyApplicationsRequest::default(), &token).expect("request"))
        .await
        .expect("watching applications")
        .into_inner();
    let status = process.terminate(std::time::Duration::from_secs(20)).await;
    assert!(status.is_some(), "the process was still running 20 s after SIGTERM with two watch streams open");
    drop((notifications, applications));
}
