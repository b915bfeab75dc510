//! One deployment, several organisations: nobody reads or changes another organisation's data.

use std::time::Duration;

use onewindow::walkthrough::{Endpoints, authed, certificate_of_study, sign_in};
use onewindow_proto::{
    applications::v1::{
        GetApplicationRequest, SubmitApplicationRequest, applications_service_client::ApplicationsServiceClient,
    },
    documents::v1::{GetDocumentRequest, documents_service_client::DocumentsServiceClient},
    routing::v1::{DecideRequest, Decision, GetSheetRequest, routing_service_client::RoutingServiceClient},
};
use tonic::Code;

use super::embedded::EmbeddedSystem;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_of_one_organisation_cannot_read_or_change_the_others_applications() {
    let system = EmbeddedSystem::start().await;
    let kaznu = system.cast("kaznu");
    let outcome = certificate_of_study(&Endpoints::single(&system.url), &kaznu, Duration::from_secs(60))
        .await
        .expect("kaznu's flow completes");
    let application_id = outcome.application.id.clone();

    let kaznmu = system.cast("kaznmu");
    let student = sign_in(&system.url, "kaznmu", &kaznmu.student).await.expect("kaznmu student");
    let dean = sign_in(&system.url, "kaznmu", &kaznmu.approvers[0]).await.expect("kaznmu dean");
    let channel =
        tonic::transport::Endpoint::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");

    let mut applications = ApplicationsServiceClient::new(channel.clone());
    let read = applications
        .get_application(
            authed(GetApplicationRequest { application_id: application_id.clone(), ..Default::default() }, &student)
                .expect("request"),
        )
        .await
        .expect_err("another organisation's application is not readable");
    assert_eq!(read.code(), Code::NotFound);
    let change = applications
        .submit_application(
            authed(
                SubmitApplicationRequest {
                    application_id: application_id.clone(),
                    expected_version: None,
                    agreed_to_terms: true,
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect_err("another organisation's application cannot be changed");
    assert_eq!(change.code(), Code::NotFound);

    let mut routing = RoutingServiceClient::new(channel.clone());
    let sheet = routing
        .get_sheet(authed(GetSheetRequest { application_id: application_id.clone() }, &dean).expect("request"))
        .await
        .expect_err("another organisation's sheet is not readable");
    assert_eq!(sheet.code(), Code::NotFound);
    let decide = routing
        .decide(
            authed(
                DecideRequest {
                    application_id: application_id.clone(),
                    decision: Decision::Reject as i32,
                    note: "not ours".into(),
                    expected_version: None,
                },
                &dean,
            )
            .expect("request"),
        )
        .await
        .expect_err("another organisation's sheet cannot be decided");
    assert_eq!(decide.code(), Code::NotFound);

    let mut documents = DocumentsServiceClient::new(channel);
    let document = documents
        .get_document(
            authed(GetDocumentRequest { document_id: outcome.document.id.clone() }, &student).expect("request"),
        )
        .await
        .expect_err("another organisation's document is not readable");
    assert_eq!(document.code(), Code::NotFound);

    // And a call with no token at all is refused.
    let anonymous = applications
        .get_application(GetApplicationRequest { application_id, ..Default::default() })
        .await
        .expect_err("anonymous calls are refused");
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}
