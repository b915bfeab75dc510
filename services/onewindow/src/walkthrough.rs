//! The certificate-of-study flow, driven through the public gRPC APIs as a client would: `onewindow demo` runs
//! it against a running system, and the end-to-end tests run it in both modes.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use onewindow_proto::{
    applications::v1::{
        self as apps, CreateApplicationRequest, GetApplicationRequest, SubmitApplicationRequest,
        applications_service_client::ApplicationsServiceClient,
    },
    documents::v1::{
        self as docs, DownloadDocumentRequest, GetDocumentRequest, documents_service_client::DocumentsServiceClient,
    },
    identity::v1::{SignInRequest, identity_service_client::IdentityServiceClient},
    notifications::v1::{
        self as notes, ListNotificationsRequest, notifications_service_client::NotificationsServiceClient,
    },
    routing::v1::{self as routing, DecideRequest, GetSheetRequest, routing_service_client::RoutingServiceClient},
};
use tonic::{Code, Request, transport::Channel};

/// Where each service answers: one address for all in the embedded mode.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub identity: String,
    pub applications: String,
    pub routing: String,
    pub documents: String,
    pub notifications: String,
}

impl Endpoints {
    pub fn single(url: &str) -> Self {
        Self {
            identity: url.into(),
            applications: url.into(),
            routing: url.into(),
            documents: url.into(),
            notifications: url.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Login {
    pub login: String,
    pub password: String,
}

/// The accounts the flow signs in with.
#[derive(Debug, Clone)]
pub struct Cast {
    pub org: String,
    pub student: Login,
    pub approvers: Vec<Login>,
}

/// One demo account's login, from the passwords written on first start (`<data dir>/demo-accounts.txt`).
pub fn demo_login(path: &std::path::Path, org: &str, login: &str) -> anyhow::Result<Login> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {} (start `make run` first)", path.display()))?;
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('\t');
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .find(|(o, l, _)| *o == org && *l == login)
        .map(|(_, l, p)| Login { login: l.into(), password: p.into() })
        .with_context(|| format!("no {login} of {org} in {}", path.display()))
}

impl Cast {
    /// The demo student and the certificate's two approvers of `org`.
    pub fn from_demo_file(path: &std::path::Path, org: &str) -> anyhow::Result<Self> {
        let login = |name: &str| demo_login(path, org, name);
        Ok(Self { org: org.into(), student: login("student")?, approvers: vec![login("dean")?, login("registrar")?] })
    }
}

/// What the flow ends with, for the caller to check.
#[derive(Debug)]
pub struct Outcome {
    pub application: apps::Application,
    pub sheet: routing::Sheet,
    pub document: docs::Document,
    pub pdf: Vec<u8>,
    /// The public verification of the document by its number, as a third party would ask it.
    pub verification: docs::VerifyDocumentResponse,
    pub notifications: Vec<notes::Notification>,
}

pub async fn channel(url: &str) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// A request carrying the bearer token.
pub fn authed<T>(message: T, token: &str) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

pub async fn sign_in(identity_url: &str, org: &str, login: &Login) -> anyhow::Result<String> {
    let mut identity = IdentityServiceClient::new(channel(identity_url).await?);
    let response = identity
        .sign_in(SignInRequest {
            organization_id: org.into(),
            login: login.login.clone(),
            password: login.password.clone(),
        })
        .await
        .with_context(|| format!("signing in as {}", login.login))?;
    Ok(response.into_inner().access_token)
}

/// Retries `step` while it fails with a status that means "not there yet" (events still on their way).
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut step: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = step().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn not_yet(status: &tonic::Status) -> bool {
    matches!(status.code(), Code::NotFound | Code::Unavailable | Code::Aborted)
}

/// Orders a certificate of study, has every approver approve, and waits for the document and notifications.
pub async fn certificate_of_study(endpoints: &Endpoints, cast: &Cast, timeout: Duration) -> anyhow::Result<Outcome> {
    let student = sign_in(&endpoints.identity, &cast.org, &cast.student).await?;
    let mut applications = ApplicationsServiceClient::new(channel(&endpoints.applications).await?);
    let created = applications
        .create_application(authed(
            CreateApplicationRequest {
                service_code: "certificate-of-study".into(),
                document_language: apps::Language::Kk as i32,
                reason: "to be presented at the place of demand".into(),
                email: "student@example.kz".into(),
                phone: "+77010000000".into(),
                ..Default::default()
            },
            &student,
        )?)
        .await?
        .into_inner()
        .application
        .context("no application in the answer")?;
    let submitted = applications
        .submit_application(authed(
            SubmitApplicationRequest {
                application_id: created.id.clone(),
                expected_version: Some(created.version),
                agreed_to_terms: true,
            },
            &student,
        )?)
        .await?
        .into_inner()
        .application
        .context("no application in the answer")?;
    tracing::info!(number = %submitted.number, "submitted");

    let mut routing = RoutingServiceClient::new(channel(&endpoints.routing).await?);
    for approver in &cast.approvers {
        let token = sign_in(&endpoints.identity, &cast.org, approver).await?;
        let id = submitted.id.clone();
        eventually("the approval sheet", timeout, || {
            let mut routing = routing.clone();
            let request = authed(
                DecideRequest {
                    application_id: id.clone(),
                    decision: routing::Decision::Approve as i32,
                    note: String::new(),
                    expected_version: None,
                },
                &token,
            );
            async move {
                match routing.decide(request?).await {
                    Ok(_) => Ok(Some(())),
                    Err(status) if not_yet(&status) => Ok(None),
                    Err(status) => Err(status.into()),
                }
            }
        })
        .await
        .with_context(|| format!("{} approving", approver.login))?;
    }
    let sheet = routing
        .get_sheet(authed(GetSheetRequest { application_id: submitted.id.clone() }, &student)?)
        .await?
        .into_inner()
        .sheet
        .context("no sheet")?;

    // Issued, with every approval in its history (decisions and the document reach applications through
    // different consumers, so the document may come first).
    let approvals = sheet.rows.len();
    let application = eventually("the application to be issued", timeout, || {
        let mut applications = applications.clone();
        let request =
            authed(GetApplicationRequest { application_id: submitted.id.clone(), ..Default::default() }, &student);
        async move {
            let application = applications.get_application(request?).await?.into_inner().application;
            Ok(application.filter(|a| {
                a.status == apps::ApplicationStatus::Issued as i32
                    && a.history.iter().filter(|h| h.change == "approval_recorded").count() >= approvals
            }))
        }
    })
    .await?;

    let mut documents = DocumentsServiceClient::new(channel(&endpoints.documents).await?);
    let document = documents
        .get_document(authed(GetDocumentRequest { document_id: application.document_id.clone() }, &student)?)
        .await?
        .into_inner()
        .document
        .context("no document")?;
    let mut chunks = documents
        .download_document(authed(
            DownloadDocumentRequest { document_id: document.id.clone(), ..Default::default() },
            &student,
        )?)
        .await?
        .into_inner();
    let mut pdf = Vec::new();
    while let Some(chunk) = chunks.next().await {
        pdf.extend_from_slice(&chunk?.chunk);
    }
    // Public: no token.
    let verification = documents
        .verify_document(docs::VerifyDocumentRequest {
            organization_id: document.organization_id.clone(),
            registration_number: document.registration_number.clone(),
            verifier: "onewindow demo".into(),
            ..Default::default()
        })
        .await?
        .into_inner();

    let notifications = NotificationsServiceClient::new(channel(&endpoints.notifications).await?);
    // Submitted, issued, and verified (the check above): the holder hears of each.
    let notifications = eventually("three notifications", timeout, || {
        let mut client = notifications.clone();
        let request = authed(ListNotificationsRequest {}, &student);
        async move {
            let listed = client.list_notifications(request?).await?.into_inner().notifications;
            let verified = listed.iter().any(|n| n.kind == "verification.recorded");
            Ok((listed.len() >= 3 && verified).then_some(listed))
        }
    })
    .await?;

    Ok(Outcome { application, sheet, document, pdf, verification, notifications })
}
