//! Parked events through the whole embedded system: an `application.submitted` no consumer can read is parked
//! by each consumer of it, administrators of its organisation list it (with the application it concerns) through
//! `ParkedEventsService`, others are refused, and a re-drive before the cause is fixed says it failed again.

use std::time::Duration;

use chrono::Utc;
use onewindow::walkthrough::{authed, demo_login, sign_in};
use onewindow_eventlog::{Commit, EventMetadata, NewEvent, OrgId, StreamRef};
use onewindow_proto::operations::v1::{
    ListParkedEventsRequest, ParkedEvent, RedriveParkedEventRequest,
    parked_events_service_client::ParkedEventsServiceClient,
};
use serde_json::json;
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use super::embedded::EmbeddedSystem;

const ORG: &str = "kaznu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_submission_is_parked_listed_for_admins_and_re_driven() {
    let system = EmbeddedSystem::start().await;
    let applications =
        onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("applications.db").display()))
            .await
            .expect("applications' log");
    let application_id = Uuid::now_v7();
    let org = OrgId::parse(ORG).expect("org");
    // What a producer's bug would write: the applicant is not a user id.
    let poison = NewEvent {
        id: Uuid::now_v7(),
        event_type: "application.submitted".into(),
        schema_version: 1,
        payload: json!({ "application_id": application_id, "applicant_id": "not a user id" }),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            actor: "service:applications".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            trace_context: None,
        },
    };
    let event_id = poison.id;
    let stream = StreamRef::new(&org, "application", application_id.to_string());
    applications.commit(Commit::append(stream, 0, vec![poison])).await.expect("written");

    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let mut client = ParkedEventsServiceClient::new(channel);
    let admin = demo_login(&system.data_dir.join("demo-accounts.txt"), ORG, "admin").expect("demo admin");
    let admin = sign_in(&system.url, ORG, &admin).await.expect("admin");
    let ours = |parked: Vec<ParkedEvent>| -> Vec<ParkedEvent> {
        parked.into_iter().filter(|p| p.event_id == event_id.to_string()).collect()
    };
    // Every consumer of application.submitted in the process, as each service declares them.
    let declared = |consumes: &[(&'static str, &'static [&'static str])]| -> Vec<(&'static str, Vec<&'static str>)> {
        consumes.iter().map(|(name, types)| (*name, types.to_vec())).collect()
    };
    let mut expected: Vec<(String, String)> = [
        (onewindow_routing::SERVICE, declared(onewindow_routing::CONSUMES)),
        (onewindow_documents::SERVICE, declared(onewindow_documents::CONSUMES)),
        (onewindow_notifications::SERVICE, onewindow_notifications::consumes()),
        (onewindow_applications::SERVICE, declared(onewindow_applications::CONSUMES)),
    ]
    .into_iter()
    .flat_map(|(service, consumes)| {
        consumes
            .into_iter()
            .filter(|(_, types)| types.contains(&"application.submitted"))
            .map(move |(consumer, _)| (service.to_owned(), consumer.to_owned()))
    })
    .collect();
    expected.sort();
    assert!(expected.len() >= 3, "{expected:?}");
    let mut parked = Vec::new();
    // Each of them parks it after its retries.
    for _ in 0..400 {
        let listed = client.list_parked_events(authed(ListParkedEventsRequest::default(), &admin).expect("request"));
        parked = ours(listed.await.expect("listed").into_inner().parked_events);
        if parked.len() >= expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut consumers: Vec<(String, String)> = parked.iter().map(|p| (p.service.clone(), p.consumer.clone())).collect();
    consumers.sort();
    assert_eq!(consumers, expected, "every consumer of the event parked it, once");
    for listed in &parked {
        assert_eq!(listed.application_id, application_id.to_string(), "{listed:?}");
        assert_eq!((listed.event_type.as_str(), listed.attempts, listed.redriven), ("application.submitted", 1, false));
        assert!(!listed.reason.is_empty() && listed.parked_at.is_some(), "{listed:?}");
    }

    let student = sign_in(&system.url, ORG, &system.cast(ORG).student).await.expect("student");
    let refused = client.list_parked_events(authed(ListParkedEventsRequest::default(), &student).expect("request"));
    assert_eq!(refused.await.expect_err("an applicant").code(), Code::PermissionDenied);

    let routing = parked.iter().find(|p| p.service == "routing").expect("routing's");
    let redrive = RedriveParkedEventRequest {
        service: routing.service.clone(),
        consumer: routing.consumer.clone(),
        event_id: routing.event_id.clone(),
    };
    let again = client.redrive_parked_event(authed(redrive, &admin).expect("request")).await.expect("re-driven");
    let again = again.into_inner().parked_event.expect("the record");
    assert_eq!((again.attempts, again.redriven), (2, false), "the cause is still there: it stays parked, counted");
    // The same from a terminal: `onewindow redrive`, listing, then re-driving documents' copy.
    let admin_login = demo_login(&system.data_dir.join("demo-accounts.txt"), ORG, "admin").expect("demo admin");
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(onewindow_tests::binary("onewindow").expect("built"))
            .args(["redrive", "--url", &system.url, "--org", ORG, "--login", &admin_login.login])
            .args(args)
            .env("ONEWINDOW_PASSWORD", &admin_login.password)
            .output()
            .expect("onewindow redrive runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let listed = cli(&[]);
    for (service, consumer) in &expected {
        let line = listed.lines().find(|l| l.starts_with(&format!("{service} {consumer} {event_id}")));
        let line = line.unwrap_or_else(|| panic!("{service} {consumer} is listed:\n{listed}"));
        assert!(line.contains(&format!("application={application_id}")), "{line}");
    }
    let event = event_id.to_string();
    let redriven = cli(&["--service", "documents", "--consumer", "documents-applications", "--event-id", &event]);
    assert!(redriven.contains("attempts=2 parked"), "{redriven}");
    let unknown = RedriveParkedEventRequest { event_id: Uuid::now_v7().to_string(), ..Default::default() };
    let unknown = client.redrive_parked_event(authed(unknown, &admin).expect("request")).await.expect_err("no such");
    assert_eq!(unknown.code(), Code::InvalidArgument, "{unknown:?}");
}
