//! The public event contract in the distributed mode: an integrator following one application over NATS (live and
//! replayed from a point in time) and over a signed webhook, while the real flow runs as six processes.

use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use onewindow::walkthrough::{Cast, Endpoints, Login, authed, certificate_of_study, sign_in};
use onewindow_eventlog::OrgId;
use onewindow_identity::{NewAccount, register_account, roles};
use onewindow_notifications::{public, webhooks};
use onewindow_proto::notifications::v1::{
    ListNotificationsRequest, ListWebhookDeliveriesRequest, Notification, RegisterWebhookRequest,
    integrations_service_client::IntegrationsServiceClient, notifications_service_client::NotificationsServiceClient,
};
use onewindow_tests::{DistributedServices, NatsServer, ServiceDatabases};
use serde_json::{Value, json};

const ORG: &str = "kaznu";

/// The statuses one certificate of study goes through, in order.
const FLOW: [&str; 4] = ["submitted", "in_work", "completed", "issued"];

/// The schema of the public event, as `docs/asyncapi.yaml` declares it.
pub(crate) fn asyncapi_validator() -> jsonschema::Validator {
    // Compiled in: the build cache is shared by checkouts at other paths, so a path read at run time could name
    // another checkout's copy.
    let document: Value =
        serde_norway::from_str(include_str!("../../../docs/asyncapi.yaml")).expect("the AsyncAPI document is YAML");
    let message = &document["components"]["messages"]["ApplicationStatusChanged"];
    assert_eq!(message["name"], public::STATUS_CHANGED);
    let schema = json!({
        "$ref": message["payload"]["$ref"].clone(),
        "components": { "schemas": document["components"]["schemas"].clone() },
    });
    jsonschema::options().should_validate_formats(true).build(&schema).expect("a JSON schema")
}

async fn seed(identity_url: &str, catalog_url: &str) -> (Cast, Login) {
    let org = OrgId::parse(ORG).expect("org");
    let identity = onewindow_eventlog::open(identity_url).await.expect("identity database");
    let mut logins = Vec::new();
    for (login, name, role, department, position) in [
        ("student", "Aruzhan Serikqyzy Nurlanova", "applicant", "", ""),
        ("dean", "Gauhar Qairatqyzy Abenova", "approver", "deans-office", "dean"),
        ("registrar", "Yerlan Bolatuly Sadykov", "approver", "registrar", "registrar"),
        ("erp", "KazNU ERP", "integrator", "", ""),
    ] {
        let password = format!("{login}-{}", uuid::Uuid::now_v7().simple());
        let account = NewAccount {
            org: org.clone(),
            login: login.into(),
            password: password.clone(),
            full_name: name.into(),
            roles: roles(&[role]),
            department: department.into(),
            position: position.into(),
            email: format!("{login}@kaznu.example.kz"),
        };
        register_account(identity.as_ref(), account).await.expect("account");
        logins.push(Login { login: login.into(), password });
    }
    let catalog = onewindow_eventlog::open(catalog_url).await.expect("catalog database");
    onewindow_catalog::seed_catalog(catalog.as_ref(), &org).await.expect("the seeds' catalog");
    let erp = logins.pop().expect("erp");
    let registrar = logins.pop().expect("registrar");
    let dean = logins.pop().expect("dean");
    let student = logins.pop().expect("student");
    (Cast { org: ORG.into(), student, approvers: vec![dean, registrar] }, erp)
}

type Receiver = onewindow_testkit::WebhookReceiver;

async fn receiver(failures: u32) -> Receiver {
    Receiver::start("/onewindow", failures).await
}

/// The statuses of `application_id` among `events`, in order, with `accepted` (staff taking the application into
/// work, where applications records it) left out: the flow below does not depend on it.
fn statuses_of(events: &[Value], application_id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["data"]["application_id"] == application_id)
        .map(|e| e["data"]["status"].as_str().unwrap_or_default().to_owned())
        .filter(|s| s != "accepted")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integrator_follows_an_application_over_nats_and_a_signed_webhook() {
    onewindow_tests::init_test_logging();
    let nats = NatsServer::start().await.expect("a current nats-server is required");
    let databases = ServiceDatabases::fresh().await.expect("PostgreSQL is required");
    let (cast, erp) = seed(&databases.identity, &databases.catalog).await;

    // The integrator listens before anything happens.
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let mut live = client.subscribe(format!("onewindow.public.v1.{ORG}.>")).await.expect("subscribe");
    let flow_started = time::OffsetDateTime::now_utc();

    let services = DistributedServices::start(&databases, &nats.url).await.expect("the six services serving");
    let DistributedServices { identity, applications, routing, documents, notifications, .. } = &services;
    let logs = || services.logs();

    // The integrator also registers a webhook whose receiver fails twice before it accepts.
    let receiver = receiver(2).await;
    let erp_token = sign_in(&identity.url, ORG, &erp).await.expect("the integrator signs in");
    let channel = tonic::transport::Endpoint::from_shared(notifications.url.clone())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut integrations = IntegrationsServiceClient::new(channel);
    let request =
        RegisterWebhookRequest { url: receiver.url.clone(), event_types: vec![public::STATUS_CHANGED.into()] };
    let registered = integrations
        .register_webhook(authed(request, &erp_token).expect("request"))
        .await
        .expect("webhook")
        .into_inner();

    let endpoints = Endpoints {
        identity: identity.url.clone(),
        applications: applications.url.clone(),
        routing: routing.url.clone(),
        documents: documents.url.clone(),
        notifications: notifications.url.clone(),
    };
    let outcome = match certificate_of_study(&endpoints, &cast, Duration::from_secs(60)).await {
        Ok(outcome) => outcome,
        Err(error) => panic!("the distributed flow failed: {error:#}\n{}", logs()),
    };
    let application_id = outcome.application.id.clone();

    // Live: one CloudEvent per status change, in order, on the documented subjects, valid against the document.
    let validator = asyncapi_validator();
    let mut received: Vec<Value> = Vec::new();
    while statuses_of(&received, &application_id).len() < FLOW.len() {
        let message = match tokio::time::timeout(Duration::from_secs(60), live.next()).await {
            Ok(Some(message)) => message,
            _ => panic!("the public events stopped at {:?}\n{}", statuses_of(&received, &application_id), logs()),
        };
        let event: Value = serde_json::from_slice(&message.payload).expect("JSON");
        let errors: Vec<String> = validator.iter_errors(&event).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{event:#} does not match docs/asyncapi.yaml: {errors:?}");
        let status = event["data"]["status"].as_str().expect("status");
        assert_eq!(message.subject.as_str(), format!("onewindow.public.v1.{ORG}.application.{status}"));
        let msg_id = message.headers.as_ref().and_then(|h| h.get("Nats-Msg-Id")).map(|v| v.as_str().to_owned());
        assert_eq!(msg_id.as_deref(), event["id"].as_str(), "deduplicated by the CloudEvent id");
        let text = String::from_utf8_lossy(&message.payload).to_string();
        for personal in ["Aruzhan", "Nurlanova", "student@example.kz", "+7701", "Abenova", "Sadykov"] {
            assert!(!text.contains(personal), "{personal} was published: {text}");
        }
        received.push(event);
    }
    assert_eq!(statuses_of(&received, &application_id), FLOW);
    let ours: Vec<&Value> =
        received.iter().filter(|e| e["data"]["application_id"] == application_id.as_str()).collect();
    assert_eq!(ours[0]["data"]["application_number"], outcome.application.number.as_str());
    assert_eq!(ours.last().expect("issued")["data"]["document_number"], outcome.document.registration_number.as_str());
    let sequences: Vec<i64> = ours.iter().map(|e| e["sequence"].as_i64().expect("sequence")).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "sequences grow: {sequences:?}");

    // Replay: a consumer of ONEWINDOW_PUBLIC starting at a point in time gets the same events again, in order.
    let jetstream = async_nats::jetstream::new(client.clone());
    let stream = jetstream.get_stream(public::STREAM).await.expect("the public stream");
    let replay = |name: &str, start_time: time::OffsetDateTime| {
        let stream = stream.clone();
        let name = name.to_owned();
        async move {
            let consumer = stream
                .create_consumer(pull::Config {
                    durable_name: Some(name),
                    deliver_policy: DeliverPolicy::ByStartTime { start_time },
                    filter_subject: format!("onewindow.public.v1.{ORG}.>"),
                    ..Default::default()
                })
                .await
                .expect("a replaying consumer");
            let mut messages = consumer.fetch().max_messages(100).messages().await.expect("fetch");
            let mut events = Vec::new();
            while let Some(message) = messages.next().await {
                let message = message.expect("message");
                let stored_at = message.info().expect("JetStream metadata").published;
                events.push((serde_json::from_slice::<Value>(&message.payload).expect("JSON"), stored_at));
                message.ack().await.expect("ack");
            }
            events
        }
    };
    let events_of = |replayed: &[(Value, time::OffsetDateTime)]| -> Vec<Value> {
        replayed.iter().map(|(event, _)| event.clone()).collect()
    };
    let replayed = replay("erp-from-start", flow_started).await;
    assert_eq!(statuses_of(&events_of(&replayed), &application_id), FLOW);
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["data"]["application_id"] == application_id.as_str())
            .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids(&events_of(&replayed)), ids(&received), "the same events, with the same ids");
    let (_, completion_stored_at) = replayed
        .iter()
        .find(|(e, _)| e["data"]["application_id"] == application_id.as_str() && e["data"]["status"] == "completed")
        .expect("completed");
    let since_completion = replay("erp-after-completion", *completion_stored_at + time::Duration::nanoseconds(1)).await;
    assert_eq!(statuses_of(&events_of(&since_completion), &application_id), ["issued"], "from that point on only");

    // The webhook: after two refusals, every status change exactly once, signed with the webhook's secret.
    let webhook_id = registered.webhook.expect("webhook").id;
    let mut deliveries = Vec::new();
    for _ in 0..600 {
        let request = ListWebhookDeliveriesRequest { webhook_id: webhook_id.clone() };
        deliveries = integrations
            .list_webhook_deliveries(authed(request, &erp_token).expect("request"))
            .await
            .expect("deliveries")
            .into_inner()
            .deliveries;
        let delivered = deliveries.iter().filter(|d| d.status == "delivered").count();
        if delivered >= received.len() && delivered == deliveries.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(deliveries.iter().all(|d| d.status == "delivered"), "{deliveries:#?}\n{}", logs());
    assert!(deliveries.iter().any(|d| d.attempts == 3 && d.last_error.contains("503")), "{deliveries:#?}");
    let accepted = receiver.accepted.lock().expect("lock").clone();
    let bodies: Vec<Value> = accepted.iter().map(|a| serde_json::from_str(&a.body).expect("JSON")).collect();
    assert_eq!(statuses_of(&bodies, &application_id), FLOW, "each status change exactly once, in order");
    assert_eq!(ids(&bodies), ids(&received), "the same CloudEvents as on NATS");
    for request in &accepted {
        let header = |name: &str| request.header(name).map(str::to_owned);
        let signature = header(webhooks::SIGNATURE_HEADER).expect("signed");
        let (t, _) = signature.split_once(',').expect("t=…,v1=…");
        let timestamp: i64 = t.trim_start_matches("t=").parse().expect("a timestamp");
        assert_eq!(signature, webhooks::signature(&registered.secret, timestamp, &request.body));
        assert!(header(webhooks::DELIVERY_HEADER).is_some());
    }

    // A redelivered event (the submission again, as after a lost ack) notifies nobody twice, publishes no second
    // CloudEvent and queues no second webhook delivery.
    let student = sign_in(&identity.url, ORG, &cast.student).await.expect("student");
    let inbox_channel = tonic::transport::Endpoint::from_shared(notifications.url.clone())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let inbox = NotificationsServiceClient::new(inbox_channel);
    let list = |mut inbox: NotificationsServiceClient<tonic::transport::Channel>| {
        let token = student.clone();
        async move {
            let request = authed(ListNotificationsRequest {}, &token).expect("request");
            inbox.list_notifications(request).await.expect("list").into_inner().notifications
        }
    };
    let before: Vec<Notification> = list(inbox.clone()).await;
    let submitted_notes = |notes: &[Notification]| notes.iter().filter(|n| n.kind == "application.submitted").count();
    assert_eq!(submitted_notes(&before), 1);
    let public_before = stream.clone().info().await.expect("info").state.messages;
    let deliveries_before = deliveries.len();

    let applications_stream = jetstream.get_stream("ONEWINDOW_APPLICATIONS").await.expect("applications' stream");
    let subject = format!("onewindow.v1.{ORG}.applications.application.submitted");
    let original = applications_stream.get_last_raw_message_by_subject(&subject).await.expect("the submission");
    let envelope: Value = serde_json::from_slice(&original.payload).expect("envelope");
    assert_eq!(envelope["stream_id"], application_id.as_str(), "the last submission is ours");
    let again = async_nats::jetstream::message::PublishMessage::build()
        .payload(original.payload.clone())
        .message_id(format!("redelivery-{}", uuid::Uuid::now_v7()));
    let sequence = jetstream.send_publish(subject, again).await.expect("publish").await.expect("ack").sequence;
    for consumer in ["notifications-applications", "notifications-public-events", "notifications-webhooks"] {
        let mut handled = false;
        for _ in 0..600 {
            let mut durable: async_nats::jetstream::consumer::PullConsumer =
                applications_stream.get_consumer(consumer).await.expect("the durable consumer");
            if durable.info().await.expect("info").ack_floor.stream_sequence >= sequence {
                handled = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(handled, "{consumer} did not handle the redelivery\n{}", logs());
    }
    let after = list(inbox.clone()).await;
    assert_eq!(after.len(), before.len(), "no new notification");
    assert_eq!(submitted_notes(&after), 1);
    assert_eq!(stream.clone().info().await.expect("info").state.messages, public_before, "no second CloudEvent");
    let request = ListWebhookDeliveriesRequest { webhook_id: webhook_id.clone() };
    let deliveries_after = integrations
        .list_webhook_deliveries(authed(request, &erp_token).expect("request"))
        .await
        .expect("deliveries")
        .into_inner()
        .deliveries;
    assert_eq!(deliveries_after.len(), deliveries_before, "no second webhook delivery");
}
