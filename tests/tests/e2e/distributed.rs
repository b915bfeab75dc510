//! The same flow in the distributed mode: six service processes, each with its own PostgreSQL database, talking
//! over a real NATS JetStream.

use std::time::Duration;

use onewindow::walkthrough::{Cast, Endpoints, Login, authed, certificate_of_study, sign_in};
use onewindow_eventlog::{OrgId, StreamRef};
use onewindow_identity::{NewAccount, register_account, roles};
use onewindow_proto::applications::v1::{
    CreateApplicationRequest, Language, applications_service_client::ApplicationsServiceClient,
};
use onewindow_tests::{DistributedServices, NatsServer, ServiceDatabases};

use super::embedded::assert_certificate_issued;

const ORG: &str = "kaznu";

async fn seed(identity_url: &str, catalog_url: &str) -> Cast {
    let org = OrgId::parse(ORG).expect("org");
    let identity = onewindow_eventlog::open(identity_url).await.expect("identity database");
    let mut logins = Vec::new();
    for (login, name, role, department, position) in [
        ("student", "Aruzhan Serikqyzy Nurlanova", "applicant", "", ""),
        ("dean", "Gauhar Qairatqyzy Abenova", "approver", "deans-office", "dean"),
        ("registrar", "Yerlan Bolatuly Sadykov", "approver", "registrar", "registrar"),
    ] {
        let password = format!("{login}-{}", uuid::Uuid::now_v7().simple());
        register_account(
            identity.as_ref(),
            NewAccount {
                org: org.clone(),
                login: login.into(),
                password: password.clone(),
                full_name: name.into(),
                roles: roles(&[role]),
                department: department.into(),
                position: position.into(),
                email: format!("{login}@kaznu.example.kz"),
            },
        )
        .await
        .expect("account");
        logins.push(Login { login: login.into(), password });
    }
    let catalog = onewindow_eventlog::open(catalog_url).await.expect("catalog database");
    onewindow_catalog::seed_catalog(catalog.as_ref(), &org).await.expect("the seeds' catalog");
    let registrar = logins.pop().expect("registrar");
    let dean = logins.pop().expect("dean");
    let student = logins.pop().expect("student");
    Cast { org: ORG.into(), student, approvers: vec![dean, registrar] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_runs_as_six_processes_over_postgres_and_nats() {
    onewindow_tests::init_test_logging();
    let nats = NatsServer::start().await.expect("a current nats-server is required");
    let databases = ServiceDatabases::fresh().await.expect("PostgreSQL is required");
    let cast = seed(&databases.identity, &databases.catalog).await;
    let mut services = DistributedServices::start(&databases, &nats.url).await.expect("the six services serving");

    let endpoints = Endpoints {
        identity: services.identity.url.clone(),
        applications: services.applications.url.clone(),
        routing: services.routing.url.clone(),
        documents: services.documents.url.clone(),
        notifications: services.notifications.url.clone(),
    };
    let outcome = match certificate_of_study(&endpoints, &cast, Duration::from_secs(60)).await {
        Ok(outcome) => outcome,
        Err(error) => panic!("the distributed flow failed: {error:#}\n{}", services.logs()),
    };
    assert_certificate_issued(&outcome, "KAZNU-");

    // Reflection on each process's port lists that process's APIs only (and health, reflection, parked events).
    for process in services.all() {
        let package = format!("onewindow.{}.v1.", process.name.trim_start_matches("onewindow-"));
        let listed = onewindow_tests::reflected_services(&process.url).await.expect("reflection answers");
        assert!(listed.iter().any(|name| name.starts_with(&package)), "{} lists its own API: {listed:?}", process.name);
        let foreign: Vec<_> = listed
            .iter()
            .filter(|name| !name.starts_with(&package) && !name.starts_with("grpc."))
            .filter(|name| *name != "onewindow.operations.v1.ParkedEventsService")
            .collect();
        assert!(foreign.is_empty(), "{} advertises APIs it does not serve: {foreign:?}", process.name);
    }

    // The events really went through JetStream, on the documented subjects.
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats.url.as_str()).await.expect("nats"));
    let subject = "onewindow.v1.kaznu.applications.application.submitted";
    let mut stream = jetstream.get_stream("ONEWINDOW_APPLICATIONS").await.expect("the applications stream");
    let message = stream.get_last_raw_message_by_subject(subject).await.expect("a submitted event on its subject");
    let envelope: serde_json::Value = serde_json::from_slice(&message.payload).expect("JSON envelope");
    assert_eq!(envelope["type"], "application.submitted");
    assert_eq!(envelope["organization_id"], ORG);
    assert_eq!(envelope["stream_id"], outcome.application.id.as_str());
    assert!(stream.info().await.expect("info").state.messages >= 5, "created, submitted, in work, completed, issued");

    // The trace of the submit call crossed NATS (traceparent header) into the routing process.
    let applications_log = onewindow_eventlog::open(&databases.applications).await.expect("applications database");
    let routing_log = onewindow_eventlog::open(&databases.routing).await.expect("routing database");
    super::embedded::assert_one_trace(applications_log.as_ref(), routing_log.as_ref(), &outcome.application.id).await;

    // Applications keeps its own copy of the catalog from the catalog's events: with the catalog down, an
    // application can still be created.
    let org = OrgId::parse(ORG).expect("org");
    let copy = StreamRef::new(&org, "service_copy", "certificate-of-study");
    for _ in 0..400 {
        if applications_log.stream_version(&copy).await.expect("read") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        applications_log.stream_version(&copy).await.expect("read") > 0,
        "the catalog's events reached applications; its log:\n{}",
        std::fs::read_to_string(&services.applications.log).unwrap_or_default()
    );
    services.catalog.kill();
    let student = sign_in(&services.identity.url, ORG, &cast.student).await.expect("student");
    let channel = tonic::transport::Endpoint::from_shared(services.applications.url.clone())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let created = ApplicationsServiceClient::new(channel)
        .create_application(
            authed(
                CreateApplicationRequest {
                    service_code: "certificate-of-study".into(),
                    document_language: Language::Ru as i32,
                    email: "student@example.kz".into(),
                    ..Default::default()
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect("created from the local copy while the catalog is down")
        .into_inner()
        .application
        .expect("application");
    assert!(created.number.starts_with("KAZNU-"));
}
