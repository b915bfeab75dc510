//! The clearance sheet of seed 000, end to end in one process: a graduate of `kaznmu` orders it, every department
//! on its route approves at the same time, and the clearance sheet is issued with each approver on it.

use std::time::{Duration, Instant};

use onewindow_auth::Role;
use onewindow_eventlog::OrgId;
use onewindow_identity::{NewAccount, register_account};
use onewindow_proto::{
    applications::v1::{
        self as apps, CreateApplicationRequest, GetApplicationRequest, SubmitApplicationRequest,
        applications_service_client::ApplicationsServiceClient,
    },
    catalog::v1::{GetServiceRequest, catalog_service_client::CatalogServiceClient},
    documents::v1::{DownloadDocumentRequest, GetDocumentRequest, documents_service_client::DocumentsServiceClient},
    identity::v1::{SignInRequest, identity_service_client::IdentityServiceClient},
    routing::v1::{self as routing, DecideRequest, routing_service_client::RoutingServiceClient},
};
use tonic::transport::Channel;

use super::embedded::{EmbeddedSystem, pdf_text};

const ORG: &str = "kaznmu";
const SERVICE: &str = "kaznmu-clearance-sheet";

fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    request
}

async fn sign_in(channel: Channel, login: &str, password: &str) -> String {
    let request = SignInRequest { organization_id: ORG.into(), login: login.into(), password: password.into() };
    let answer = IdentityServiceClient::new(channel).sign_in(request).await.expect("signed in");
    answer.into_inner().access_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_department_clears_a_graduate_and_the_clearance_sheet_is_issued() {
    let system = EmbeddedSystem::start().await;
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let cast = system.cast(ORG);
    let student = sign_in(channel.clone(), &cast.student.login, &cast.student.password).await;

    // One approver account per department of the route, as the organisation's administrator would import them.
    let mut catalog = CatalogServiceClient::new(channel.clone());
    let service = catalog
        .get_service(authed(GetServiceRequest { code: SERVICE.into(), version: 0 }, &student))
        .await
        .expect("the clearance sheet service")
        .into_inner()
        .service
        .expect("a service");
    let stages = service.route.expect("a route").stages;
    assert_eq!(stages.len(), 1, "one parallel stage");
    let identity = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("identity.db").display()))
        .await
        .expect("identity's log");
    let mut approvers = Vec::new();
    for (i, approver) in stages[0].approvers.iter().enumerate() {
        let (login, password) = (format!("clearance-{i:02}"), format!("{}Aa1", uuid::Uuid::now_v7()));
        let full_name = format!("Aidana Approver{i:02}");
        let account = NewAccount {
            org: OrgId::parse(ORG).expect("org"),
            login: login.clone(),
            password: password.clone(),
            full_name: full_name.clone(),
            roles: vec![Role::Approver],
            department: approver.department.clone(),
            position: approver.position.clone(),
            email: format!("{login}@example.kz"),
        };
        register_account(identity.as_ref(), account).await.expect("registered");
        approvers.push((full_name, sign_in(channel.clone(), &login, &password).await));
    }
    assert!(approvers.len() >= 10, "seed 000's sheet has a row per department: {}", approvers.len());

    let mut applications = ApplicationsServiceClient::new(channel.clone());
    let created = applications
        .create_application(authed(
            CreateApplicationRequest {
                service_code: SERVICE.into(),
                document_language: apps::Language::Ru as i32,
                reason: "graduation".into(),
                email: "graduate@example.kz".into(),
                phone: String::new(),
                ..Default::default()
            },
            &student,
        ))
        .await
        .expect("created")
        .into_inner()
        .application
        .expect("an application");
    let submit = SubmitApplicationRequest {
        application_id: created.id.clone(),
        expected_version: Some(created.version),
        agreed_to_terms: true,
    };
    applications.submit_application(authed(submit, &student)).await.expect("submitted");

    // Every department decides at once, each as soon as the sheet is there.
    let decisions = approvers.iter().map(|(_, token)| {
        let (channel, token, id) = (channel.clone(), token.clone(), created.id.clone());
        tokio::spawn(async move {
            let mut routing = RoutingServiceClient::new(channel);
            let started = Instant::now();
            loop {
                let request = DecideRequest {
                    application_id: id.clone(),
                    decision: routing::Decision::Approve as i32,
                    note: "No debts".into(),
                    expected_version: None,
                };
                match routing.decide(authed(request, &token)).await {
                    Ok(_) => return,
                    Err(status)
                        if status.code() == tonic::Code::NotFound && started.elapsed() < Duration::from_secs(30) =>
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(status) => panic!("the decision was refused: {status:?}"),
                }
            }
        })
    });
    for decided in futures::future::join_all(decisions).await {
        decided.expect("no panic");
    }

    let started = Instant::now();
    let issued = loop {
        let request =
            authed(GetApplicationRequest { application_id: created.id.clone(), ..Default::default() }, &student);
        let application = applications.get_application(request).await.expect("read").into_inner().application;
        let application = application.expect("an application");
        if application.status == apps::ApplicationStatus::Issued as i32 {
            break application;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not issued: {application:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let mut documents = DocumentsServiceClient::new(channel.clone());
    let document = documents
        .get_document(authed(GetDocumentRequest { document_id: issued.document_id.clone() }, &student))
        .await
        .expect("the document")
        .into_inner()
        .document
        .expect("a document");
    assert_eq!(document.document_type, "clearance_sheet");
    assert!(document.registration_number.starts_with("KAZNMU-CL-"), "{}", document.registration_number);
    let request =
        DownloadDocumentRequest { document_id: document.id.clone(), language: "ru".into(), printed_form: false };
    let mut chunks = documents.download_document(authed(request, &student)).await.expect("download").into_inner();
    let mut pdf = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
        pdf.extend_from_slice(&chunk.expect("chunk").chunk);
    }
    // Table cells wrap long words, so names are compared without whitespace.
    let compact = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let text = compact(&pdf_text(&pdf));
    assert!(text.contains("ОБХОДНОЙЛИСТ"), "{text}");
    // Departments are printed by their catalog names, not their codes.
    assert!(text.contains("Научнаябиблиотека") && !text.contains("head-of-library-library"), "{text}");
    for (full_name, _) in &approvers {
        assert!(text.contains(&compact(full_name)), "{full_name} is on the sheet:\n{text}");
    }
}
