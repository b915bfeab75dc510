//! The application's life cycle over gRPC in one process: the card copied, a draft edited by two clients at once,
//! submit refusing with every missing field, staff accepting it, an approver deciding, comments, the applicant
//! withdrawing it (the event names the executor and the approver to tell), the application as of an earlier
//! moment, and where its time went.

use std::time::{Duration, Instant};

use onewindow::walkthrough::{authed, sign_in};
use onewindow_auth::Role;
use onewindow_eventlog::{OrgId, StreamRef};
use onewindow_identity::{NewAccount, register_account};
use onewindow_proto::{
    applications::v1::{
        self as apps, AcceptApplicationRequest, AddCommentRequest, CreateApplicationRequest, GetApplicationRequest,
        GetApplicationTimingRequest, PrintApplicationRequest, SetPlannedDateRequest, SubmitApplicationRequest,
        UpdateDraftRequest, WithdrawApplicationRequest, applications_service_client::ApplicationsServiceClient,
    },
    identity::v1::{GetMeRequest, PersonalCard, UpdateCardRequest, identity_service_client::IdentityServiceClient},
    notifications::v1::{ListNotificationsRequest, notifications_service_client::NotificationsServiceClient},
    routing::v1::{self as routing, DecideRequest, routing_service_client::RoutingServiceClient},
    timestamp,
};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

use super::embedded::EmbeddedSystem;

const ORG: &str = "kaznu";

fn field_violations(status: &tonic::Status) -> Vec<String> {
    let details = status.get_error_details();
    details.bad_request().map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_is_edited_submitted_worked_on_and_withdrawn_with_everyone_named() {
    let system = EmbeddedSystem::start().await;
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let cast = system.cast(ORG);
    let student = sign_in(&system.url, ORG, &cast.student).await.expect("student");
    let identity = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("identity.db").display()))
        .await
        .expect("identity's log");
    let executor = NewAccount {
        org: OrgId::parse(ORG).expect("org"),
        login: "executor-1".into(),
        password: "Executor-pass-1".into(),
        full_name: "Erlan Executor".into(),
        roles: vec![Role::Executor],
        department: "registrar".into(),
        position: "specialist".into(),
        email: "executor@example.kz".into(),
    };
    register_account(identity.as_ref(), executor).await.expect("executor registered");
    let staff = sign_in(
        &system.url,
        ORG,
        &onewindow::walkthrough::Login { login: "executor-1".into(), password: "Executor-pass-1".into() },
    )
    .await
    .expect("executor");
    // The student's personal card, as the organisation's administrator records it.
    let admin = onewindow::walkthrough::demo_login(&system.data_dir.join("demo-accounts.txt"), ORG, "admin")
        .expect("demo admin");
    let admin = sign_in(&system.url, ORG, &admin).await.expect("admin");
    let mut identity_client = IdentityServiceClient::new(channel.clone());
    let me = identity_client
        .get_me(authed(GetMeRequest {}, &student).expect("request"))
        .await
        .expect("me")
        .into_inner()
        .account
        .expect("account");
    let card = PersonalCard {
        user_id: me.id.clone(),
        surname: "Nurlanova".into(),
        name: "Aruzhan".into(),
        patronymic: "Serikqyzy".into(),
        birth_date: "2004-03-15".into(),
        iin: "040315600128".into(),
        faculty: "Information technologies".into(),
        specialty: "Computer science".into(),
        course: 3,
        group: "CS-22-1".into(),
        address: "Almaty, Al-Farabi 71".into(),
        phone: "+7 777 000 11 22".into(),
        email: "aruzhan@example.kz".into(),
        ..Default::default()
    };
    identity_client
        .update_card(authed(UpdateCardRequest { card: Some(card) }, &admin).expect("request"))
        .await
        .expect("card recorded");
    let mut applications = ApplicationsServiceClient::new(channel.clone());

    // A draft: contacts for this application only, the request block.
    let created = applications
        .create_application(
            authed(
                CreateApplicationRequest {
                    service_code: "certificate-of-study".into(),
                    phone: "+7 701 111 22 33".into(),
                    email: "for-this-application@example.kz".into(),
                    ..Default::default()
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect("created")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(created.status(), apps::ApplicationStatus::Saved);
    let block = created.applicant.clone().expect("the applicant block");
    assert_eq!(
        (block.surname.as_str(), block.iin.as_str(), block.course, block.group.as_str()),
        ("Nurlanova", "040315600128", 3, "CS-22-1"),
        "copied from the card"
    );
    assert_eq!((block.card_phone.as_str(), created.phone.as_str()), ("+77770001122", "+7 701 111 22 33"));
    assert!(created.planned_at.is_some(), "the planned date is computed for a draft");
    assert!(!created.time_left.is_empty());

    // Submitting the incomplete draft names every missing field at once and changes nothing.
    let refused = applications
        .submit_application(
            authed(
                SubmitApplicationRequest {
                    application_id: created.id.clone(),
                    expected_version: Some(created.version),
                    agreed_to_terms: false,
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect_err("incomplete");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&refused), ["agreed_to_terms", "document_language"]);

    // Two clients edit the same draft from the same version: one wins, the other is told, nothing is mixed.
    let edit = |reason: &str| UpdateDraftRequest {
        application_id: created.id.clone(),
        expected_version: Some(created.version),
        document_language: apps::Language::Ru as i32,
        reason: reason.into(),
        email: "for-this-application@example.kz".into(),
        phone: "+7 701 111 22 33".into(),
        ..Default::default()
    };
    let (mut one, mut other) = (applications.clone(), applications.clone());
    let (first, second) = tokio::join!(
        one.update_draft(authed(edit("for the visa office"), &student).expect("request")),
        other.update_draft(authed(edit("for the military office"), &student).expect("request")),
    );
    let outcomes = [first.map(|r| r.into_inner().application), second.map(|r| r.into_inner().application)];
    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).flatten().collect();
    let losers: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!((winners.len(), losers.len()), (1, 1), "{outcomes:?}");
    assert_eq!(losers[0].code(), Code::Aborted);
    let draft = winners[0].clone();
    assert_eq!(draft.version, created.version + 1);

    let submitted = applications
        .submit_application(
            authed(
                SubmitApplicationRequest {
                    application_id: created.id.clone(),
                    expected_version: Some(draft.version),
                    agreed_to_terms: true,
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect("submitted")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(submitted.reason, draft.reason, "the winner's edit is what was submitted");
    let submitted_at = submitted.submitted_at.expect("submitted at");

    // The sheet opens on submission; staff accept it into work and set the planned date.
    // No expected version: if the sheet opens at the same moment, the server decides again on the new state.
    let request = AcceptApplicationRequest { application_id: created.id.clone(), ..Default::default() };
    let accepted = applications
        .accept_application(authed(request, &staff).expect("request"))
        .await
        .expect("accepted")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(accepted.status(), apps::ApplicationStatus::InWork);
    assert_eq!(accepted.executor_name, "Erlan Executor");
    let planned = chrono::Utc::now() + chrono::TimeDelta::days(3);
    let planned_answer = applications
        .set_planned_date(
            authed(
                SetPlannedDateRequest {
                    application_id: created.id.clone(),
                    planned_at: Some(timestamp(planned)),
                    remark: "the archive is slow this week".into(),
                    ..Default::default()
                },
                &staff,
            )
            .expect("request"),
        )
        .await
        .expect("planned")
        .into_inner()
        .application
        .expect("application");
    assert!(planned_answer.planned_by_executor);

    // The first stage's approver (the dean) approves; the history records the department and the decision.
    let dean = sign_in(&system.url, ORG, &cast.approvers[0]).await.expect("dean");
    let mut routing_client = RoutingServiceClient::new(channel.clone());
    let started = Instant::now();
    loop {
        let request = DecideRequest {
            application_id: created.id.clone(),
            decision: routing::Decision::Approve as i32,
            note: "studies in the 3rd year".into(),
            expected_version: None,
        };
        match routing_client.decide(authed(request, &dean).expect("request")).await {
            Ok(_) => break,
            Err(status) if status.code() == Code::NotFound && started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("the dean's decision was refused: {status:?}"),
        }
    }
    let read = |token: String| {
        let mut client = applications.clone();
        let id = created.id.clone();
        async move {
            let request = GetApplicationRequest { application_id: id, ..Default::default() };
            client.get_application(authed(request, &token).expect("request")).await.map(|r| r.into_inner())
        }
    };
    let started = Instant::now();
    let in_work = loop {
        let application = read(student.clone()).await.expect("read").application.expect("application");
        if application.history.iter().any(|h| h.change == "approval_recorded") {
            break application;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the approval never reached the application");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let approval = in_work.history.iter().find(|h| h.change == "approval_recorded").expect("approval line");
    assert_eq!((approval.department.as_str(), approval.approved), ("deans-office", Some(true)));
    assert_eq!(approval.remark, "studies in the 3rd year");

    // Comments both ways.
    for (token, text) in [(&student, "Can it be ready by Friday?"), (&staff, "Yes, it will be.")] {
        let request = AddCommentRequest { application_id: created.id.clone(), text: text.into(), ..Default::default() };
        applications.add_comment(authed(request, token).expect("request")).await.expect("commented");
    }

    // The application form prints in the language asked for (documents issued it as a receipt of the submission).
    let printer = applications.clone();
    let print = |language: apps::Language| {
        let mut client = printer.clone();
        let (id, token) = (created.id.clone(), student.clone());
        async move {
            let request = PrintApplicationRequest { application_id: id, language: language as i32 };
            let mut stream = client.print_application(authed(request, &token).expect("request")).await?.into_inner();
            let (mut pdf, mut number) = (Vec::new(), String::new());
            while let Some(message) = stream.message().await? {
                if number.is_empty() {
                    number = message.registration_number.clone();
                }
                pdf.extend_from_slice(&message.chunk);
            }
            Ok::<_, tonic::Status>((number, pdf))
        }
    };
    let started = Instant::now();
    let (form_number, form) = loop {
        match print(apps::Language::En).await {
            Ok(printed) => break printed,
            Err(status) if status.code() == Code::FailedPrecondition && started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("printing was refused: {status:?}"),
        }
    };
    assert!(form_number.contains("-AF-"), "the application form's number: {form_number}");
    let text = super::embedded::pdf_text(&form);
    assert!(text.contains(&created.number), "the form names the application {}: {text}", created.number);

    // Withdrawing in work needs a reason; with one, the event names the executor and the dean to tell.
    let before_withdrawal = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let withdraw = |reason: &str| WithdrawApplicationRequest {
        application_id: created.id.clone(),
        expected_version: None,
        reason: reason.into(),
    };
    let no_reason = applications
        .withdraw_application(authed(withdraw(""), &student).expect("request"))
        .await
        .expect_err("a reason is needed in work");
    assert_eq!((no_reason.code(), field_violations(&no_reason)), (Code::InvalidArgument, vec!["reason".to_owned()]));
    let withdrawn = applications
        .withdraw_application(authed(withdraw("I have found the certificate I had"), &student).expect("request"))
        .await
        .expect("withdrawn")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(withdrawn.status(), apps::ApplicationStatus::Withdrawn);
    assert_eq!(withdrawn.comments.len(), 2);
    let not_printable = print(apps::Language::Ru).await.expect_err("withdrawn");
    assert_eq!(not_printable.code(), Code::FailedPrecondition, "{not_printable:?}");

    let log = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("applications.db").display()))
        .await
        .expect("applications' log");
    let stream = StreamRef::new(&OrgId::parse(ORG).expect("org"), "application", &created.id);
    let events = log.read_stream(&stream).await.expect("read");
    let event = events.iter().find(|e| e.event_type == "application.withdrawn").expect("withdrawn event");
    let mut told: Vec<(String, String)> = event.payload["notify"]
        .as_array()
        .expect("notify")
        .iter()
        .map(|r| {
            (r["role"].as_str().unwrap_or_default().to_owned(), r["user_id"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    told.sort();
    // Every approver on the sheet (routing resolved both posts to people when it opened) and the executor.
    let mut expected: Vec<(String, String)> = events
        .iter()
        .filter(|e| e.event_type == "application.work_started")
        .flat_map(|e| e.payload["approver_ids"].as_array().cloned().unwrap_or_default())
        .chain(
            events
                .iter()
                .filter(|e| e.event_type == "application.approval_recorded")
                .map(|e| e.payload["decided_by_id"].clone()),
        )
        .map(|id| ("approver".to_owned(), id.as_str().unwrap_or_default().to_owned()))
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(expected.len(), 2, "the dean and the registrar: {expected:?}");
    expected.push(("executor".to_owned(), accepted.executor_id.clone()));
    assert_eq!(told, expected);

    // Each of them finds the withdrawal in their notifications, once, linking to the application.
    let registrar = sign_in(&system.url, ORG, &cast.approvers[1]).await.expect("registrar");
    let mut notifications = NotificationsServiceClient::new(channel.clone());
    for (who, token) in [("the executor", &staff), ("the dean", &dean), ("the registrar", &registrar)] {
        let started = Instant::now();
        loop {
            let request = authed(ListNotificationsRequest {}, token).expect("request");
            let inbox = notifications.list_notifications(request).await.expect("inbox").into_inner();
            let told: Vec<_> = inbox
                .notifications
                .iter()
                .filter(|n| n.kind == "application.withdrawn" && n.application_id == created.id)
                .collect();
            if !told.is_empty() {
                assert_eq!(told.len(), 1, "{who} is told once");
                assert!(told[0].body.contains("I have found the certificate I had"), "{who}: {:?}", told[0]);
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{who} was never told of the withdrawal");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // As of a moment before the withdrawal it was in work; as of the submission, submitted.
    let as_of = |moment: prost_types::Timestamp| {
        let mut client = applications.clone();
        let (id, token) = (created.id.clone(), student.clone());
        async move {
            let request = GetApplicationRequest { application_id: id, as_of: Some(moment) };
            client.get_application(authed(request, &token).expect("request")).await.expect("read").into_inner()
        }
    };
    let past = as_of(timestamp(before_withdrawal)).await.application.expect("application");
    assert_eq!(past.status(), apps::ApplicationStatus::InWork);
    assert!(past.version < withdrawn.version);
    let at_submission = as_of(submitted_at).await.application.expect("application");
    assert_eq!(at_submission.status(), apps::ApplicationStatus::Submitted);

    // Where the time went: acceptance, the dean's approval, the registrar's still open when it was withdrawn.
    let timing = applications
        .get_application_timing(
            authed(GetApplicationTimingRequest { application_id: created.id.clone() }, &student).expect("request"),
        )
        .await
        .expect("timing")
        .into_inner();
    let steps: Vec<_> = timing.steps.iter().map(|s| (s.kind.as_str(), s.department.as_str())).collect();
    assert_eq!(
        steps,
        [("acceptance", ""), ("approval", "deans-office"), ("approval", "registrar"), ("completion", "")],
        "{timing:?}"
    );
    assert!(timing.steps.iter().all(|s| s.ended_at.is_some()), "every step ended with the withdrawal");
    assert_eq!(timing.standard_working_minutes, 9 * 60, "the catalog's average processing time");
}
