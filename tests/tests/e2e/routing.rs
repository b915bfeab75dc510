//! Routing end to end in one process: the certificate of study's dean, resolved through identity as the sheet
//! opens, rejects; the student answers; the dean, away, delegates to a deputy who approves "acting for" the dean;
//! the registrar approves; the issued certificate prints who acted for whom. And an academic-leave order whose
//! final stage (the catalog's vice-rector) is signed, with a signature record, before the order is issued.

use std::time::{Duration, Instant};

use onewindow_auth::Role;
use onewindow_eventlog::OrgId;
use onewindow_identity::{NewAccount, register_account};
use onewindow_proto::{
    applications::v1::{
        self as apps, CreateApplicationRequest, GetApplicationRequest, SubmitApplicationRequest,
        applications_service_client::ApplicationsServiceClient,
    },
    documents::v1::{DownloadDocumentRequest, documents_service_client::DocumentsServiceClient},
    identity::v1::{SignInRequest, identity_service_client::IdentityServiceClient},
    routing::v1::{
        self as routing, AnswerRejectionRequest, DecideRequest, DelegateApprovalsRequest, GetSheetRequest,
        routing_service_client::RoutingServiceClient,
    },
};
use tonic::{Code, transport::Channel};

use super::embedded::{EmbeddedSystem, pdf_text};

const ORG: &str = "kaznu";

fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    request
}

async fn sign_in(channel: Channel, login: &str, password: &str) -> (String, String) {
    let request = SignInRequest { organization_id: ORG.into(), login: login.into(), password: password.into() };
    let answer = IdentityServiceClient::new(channel).sign_in(request).await.expect("signed in").into_inner();
    let user_id = answer.account.map(|a| a.id).unwrap_or_default();
    (answer.access_token, user_id)
}

fn decision(id: &str, decision: routing::Decision, note: &str) -> DecideRequest {
    DecideRequest { application_id: id.into(), decision: decision as i32, note: note.into(), expected_version: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_is_reworked_and_a_deputy_approves_for_the_dean_through_the_apis() {
    let system = EmbeddedSystem::start().await;
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let cast = system.cast(ORG);
    let (student, _) = sign_in(channel.clone(), &cast.student.login, &cast.student.password).await;
    let login = |name: &str| cast.approvers.iter().find(|a| a.login == name).expect("a demo approver").clone();
    let (dean, dean_id) = sign_in(channel.clone(), "dean", &login("dean").password).await;
    let (registrar, _) = sign_in(channel.clone(), "registrar", &login("registrar").password).await;

    // A deputy of another department, as the organisation's administrator would import them.
    let post = ("international-office", "deputy");
    let (deputy, deputy_id) =
        staff(&system, channel.clone(), "deputy", "Dana Deputova", vec![Role::Approver], post).await;

    let mut applications = ApplicationsServiceClient::new(channel.clone());
    let created = applications
        .create_application(authed(
            CreateApplicationRequest {
                service_code: "certificate-of-study".into(),
                document_language: apps::Language::En as i32,
                reason: "for the embassy".into(),
                email: "student@example.kz".into(),
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
    let id = created.id.clone();

    let mut routing = RoutingServiceClient::new(channel.clone());
    let started = Instant::now();
    let sheet = loop {
        match routing.get_sheet(authed(GetSheetRequest { application_id: id.clone() }, &student)).await {
            Ok(answer) => break answer.into_inner().sheet.expect("a sheet"),
            Err(status) if status.code() == Code::NotFound && started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("no sheet: {status:?}"),
        }
    };
    let dean_row = sheet.rows.iter().position(|r| r.department == "deans-office").expect("the dean's row");
    assert_eq!(
        sheet.rows[dean_row].approver_ids,
        std::slice::from_ref(&dean_id),
        "the dean was resolved through identity"
    );

    // The dean rejects; the student answers; the dean, away now, delegates to the deputy.
    let rejected = decision(&id, routing::Decision::Reject, "Attach your student card");
    routing.decide(authed(rejected, &dean)).await.expect("rejected");
    let answer =
        AnswerRejectionRequest { application_id: id.clone(), row: dean_row as i32, comment: "Attached".into() };
    let sheet = routing.answer_rejection(authed(answer, &student)).await.expect("answered").into_inner();
    assert_eq!(sheet.sheet.expect("sheet").rows[dean_row].conversation.len(), 2);
    let early = routing.decide(authed(decision(&id, routing::Decision::Approve, ""), &deputy)).await;
    assert_eq!(early.expect_err("no delegation yet").code(), Code::PermissionDenied);
    let now = chrono::Utc::now();
    let delegation = DelegateApprovalsRequest {
        substitute_id: deputy_id.clone(),
        substitute_name: "Dana Deputova".into(),
        starts_at: Some(onewindow_proto::timestamp(now - chrono::Duration::minutes(1))),
        ends_at: Some(onewindow_proto::timestamp(now + chrono::Duration::days(7))),
        ..Default::default()
    };
    routing.delegate_approvals(authed(delegation, &dean)).await.expect("delegated");
    let approved = routing.decide(authed(decision(&id, routing::Decision::Approve, ""), &deputy)).await;
    let row = approved.expect("the deputy approves").into_inner().sheet.expect("sheet").rows[dean_row].clone();
    assert_eq!((row.decided_by_name.as_str(), row.acting_for_id.as_str()), ("Dana Deputova", dean_id.as_str()));
    routing.decide(authed(decision(&id, routing::Decision::Approve, ""), &registrar)).await.expect("registrar");

    let started = Instant::now();
    let issued = loop {
        let request = authed(GetApplicationRequest { application_id: id.clone(), ..Default::default() }, &student);
        let application = applications.get_application(request).await.expect("read").into_inner().application;
        let application = application.expect("an application");
        if application.status == apps::ApplicationStatus::Issued as i32 {
            break application;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not issued: {application:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut documents = DocumentsServiceClient::new(channel.clone());
    let request =
        DownloadDocumentRequest { document_id: issued.document_id.clone(), language: "en".into(), printed_form: false };
    let mut chunks = documents.download_document(authed(request, &student)).await.expect("download").into_inner();
    let mut pdf = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
        pdf.extend_from_slice(&chunk.expect("chunk").chunk);
    }
    let compact = |text: &str| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let text = compact(&pdf_text(&pdf));
    assert!(text.contains("DanaDeputova"), "{text}");
    assert!(text.contains("actingfor"), "the certificate prints who the deputy acted for:\n{text}");
}

/// Registers an account straight into identity's log, as the organisation's administrator would import it, and
/// signs it in: its token and user id.
async fn staff(
    system: &EmbeddedSystem,
    channel: Channel,
    login: &str,
    full_name: &str,
    roles: Vec<Role>,
    (department, position): (&str, &str),
) -> (String, String) {
    let identity = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("identity.db").display()))
        .await
        .expect("identity's log");
    let password = format!("{}Aa1", uuid::Uuid::now_v7());
    let account = NewAccount {
        org: OrgId::parse(ORG).expect("org"),
        login: login.into(),
        password: password.clone(),
        full_name: full_name.into(),
        roles,
        department: department.into(),
        position: position.into(),
        email: format!("{login}@example.kz"),
    };
    register_account(identity.as_ref(), account).await.expect("registered");
    sign_in(channel, login, &password).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vice_rector_signs_an_academic_leave_order_after_the_parallel_stage() {
    let system = EmbeddedSystem::start().await;
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let cast = system.cast(ORG);
    let (student, _) = sign_in(channel.clone(), &cast.student.login, &cast.student.password).await;
    let dean_login = cast.approvers.iter().find(|a| a.login == "dean").expect("the demo dean").clone();
    let (dean, _) = sign_in(channel.clone(), "dean", &dean_login.password).await;
    let office = ("student-office", "specialist");
    let (specialist, _) =
        staff(&system, channel.clone(), "specialist", "Aigerim Specialist", vec![Role::Approver], office).await;
    let affairs = ("academic-affairs", "director");
    let (director, _) =
        staff(&system, channel.clone(), "director", "Nurlan Director", vec![Role::Approver], affairs).await;
    let rectorate = ("rectorate", "vice-rector-academic");
    let (vice_rector, vice_rector_id) =
        staff(&system, channel.clone(), "vicerector", "Gulnara Vice-Rector", vec![Role::Signatory], rectorate).await;

    let mut applications = ApplicationsServiceClient::new(channel.clone());
    let created = applications
        .create_application(authed(
            CreateApplicationRequest {
                service_code: "academic-leave".into(),
                document_language: apps::Language::En as i32,
                reason: "health".into(),
                email: "student@example.kz".into(),
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
    let id = created.id.clone();

    let mut routing = RoutingServiceClient::new(channel.clone());
    let started = Instant::now();
    let sheet = loop {
        match routing.get_sheet(authed(GetSheetRequest { application_id: id.clone() }, &student)).await {
            Ok(answer) => break answer.into_inner().sheet.expect("a sheet"),
            Err(status) if status.code() == Code::NotFound && started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("no sheet: {status:?}"),
        }
    };
    let last = sheet.rows.last().expect("rows");
    assert!(last.signatory, "the catalog's vice-rector stage is a signatory's");
    assert_eq!(last.approver_ids, std::slice::from_ref(&vice_rector_id));

    let sign = || routing::SignRequest { application_id: id.clone() };
    let early = routing.sign(authed(sign(), &vice_rector)).await.expect_err("the first stage is open");
    assert_eq!(early.code(), Code::FailedPrecondition);
    for token in [&dean, &specialist, &director] {
        routing.decide(authed(decision(&id, routing::Decision::Approve, ""), token)).await.expect("approved");
    }
    let inbox = routing.list_inbox(authed(routing::ListInboxRequest::default(), &vice_rector)).await.expect("inbox");
    assert_eq!(inbox.into_inner().sheets.len(), 1, "the order waits for the vice-rector's signature");
    let signed = routing.sign(authed(sign(), &vice_rector)).await.expect("signed").into_inner();
    let signature = signed.signature.expect("a signature record");
    assert_eq!((signature.signed_by_name.as_str(), signature.sha256.len()), ("Gulnara Vice-Rector", 64));
    assert_eq!(signed.sheet.expect("sheet").status, routing::SheetStatus::Approved as i32);

    let started = Instant::now();
    loop {
        let request = authed(GetApplicationRequest { application_id: id.clone(), ..Default::default() }, &student);
        let application = applications.get_application(request).await.expect("read").into_inner().application;
        let application = application.expect("an application");
        if application.status == apps::ApplicationStatus::Issued as i32 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "not issued: {application:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
