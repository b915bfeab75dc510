//! One clearance-sheet flow as the applicant and the approvers drive it over gRPC, and the two ways of putting
//! load on the system: a closed loop (N applicants, each starting the next flow when the last one ends) and an
//! open loop (flows started at a fixed rate whatever the system does, so latency is measured honestly).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use onewindow_proto::{
    applications::v1::{
        self as apps, CreateApplicationRequest, GetApplicationRequest, SubmitApplicationRequest,
        UploadAttachmentMetadata, UploadAttachmentRequest, applications_service_client::ApplicationsServiceClient,
        attachments_service_client::AttachmentsServiceClient, upload_attachment_request::Part,
    },
    documents::v1::{GetDocumentRequest, VerifyDocumentRequest, documents_service_client::DocumentsServiceClient},
    notifications::v1::{ListNotificationsRequest, notifications_service_client::NotificationsServiceClient},
    routing::v1::{self as routing, DecideRequest, GetSheetRequest, routing_service_client::RoutingServiceClient},
};
use tonic::{Code, Request, Status, transport::Channel};

use super::system::{Endpoints, ORG};

pub const SERVICE: &str = "kaznmu-clearance-sheet";

/// The signed-in people of the run.
pub struct Cast {
    pub applicants: Vec<String>,
    /// One approver per department row of the sheet: (department, token).
    pub approvers: Vec<(String, String)>,
}

/// Clients over one HTTP/2 channel per service (routing: one per replica).
#[derive(Clone)]
pub struct Clients {
    applications: ApplicationsServiceClient<Channel>,
    attachments: AttachmentsServiceClient<Channel>,
    routing: Vec<RoutingServiceClient<Channel>>,
    documents: DocumentsServiceClient<Channel>,
    notifications: NotificationsServiceClient<Channel>,
}

pub async fn channel(url: &str) -> anyhow::Result<Channel> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())?;
    endpoint.connect().await.with_context(|| format!("connecting to {url}"))
}

impl Clients {
    pub async fn connect(endpoints: &Endpoints) -> anyhow::Result<Self> {
        let applications = channel(&endpoints.applications).await?;
        let mut routing = Vec::new();
        for url in &endpoints.routing {
            routing.push(RoutingServiceClient::new(channel(url).await?));
        }
        Ok(Self {
            applications: ApplicationsServiceClient::new(applications.clone()),
            attachments: AttachmentsServiceClient::new(applications),
            routing,
            documents: DocumentsServiceClient::new(channel(&endpoints.documents).await?),
            notifications: NotificationsServiceClient::new(channel(&endpoints.notifications).await?),
        })
    }
}

pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Latencies per RPC kind, and the errors each kind answered.
#[derive(Default)]
pub struct Recorder {
    latencies: Mutex<HashMap<&'static str, Vec<Duration>>>,
    errors: Mutex<HashMap<&'static str, u64>>,
}

impl Recorder {
    async fn timed<T>(
        &self,
        kind: &'static str,
        call: impl std::future::Future<Output = Result<T, Status>>,
    ) -> Result<T, Status> {
        let started = Instant::now();
        let answer = call.await;
        match &answer {
            Ok(_) => self.latencies.lock().expect("recorder").entry(kind).or_default().push(started.elapsed()),
            Err(_) => *self.errors.lock().expect("recorder").entry(kind).or_default() += 1,
        }
        answer
    }

    pub fn take(&self) -> (HashMap<&'static str, Vec<Duration>>, HashMap<&'static str, u64>) {
        (
            std::mem::take(&mut *self.latencies.lock().expect("recorder")),
            std::mem::take(&mut *self.errors.lock().expect("recorder")),
        )
    }
}

/// What the load generator shares between flows.
pub struct Load {
    pub clients: Clients,
    pub cast: Cast,
    pub recorder: Recorder,
    pub timeout: Duration,
}

/// How one flow ended: issued (with its document) or failed with its error.
#[derive(Debug, Clone)]
pub struct FlowOutcome {
    pub applicant: usize,
    pub application_id: Option<String>,
    pub result: Result<Issued, String>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct Issued {
    pub document_id: String,
    pub registration_number: String,
}

// A small but real PDF, as a scanned page would be uploaded.
use onewindow_applications::attachments::samples::pdf_noting as scan;

fn not_yet(status: &Status) -> bool {
    matches!(status.code(), Code::NotFound | Code::Aborted | Code::Unavailable)
}

/// Runs one flow to the issued document; the error names the step that failed.
pub async fn run_flow(load: Arc<Load>, index: usize) -> FlowOutcome {
    let applicant = index % load.cast.applicants.len();
    let started = Instant::now();
    let mut application_id = None;
    let result = flow_steps(&load, index, applicant, &mut application_id).await.map_err(|e| format!("{e:#}"));
    FlowOutcome { applicant, application_id, result, elapsed: started.elapsed() }
}

async fn flow_steps(
    load: &Load,
    index: usize,
    applicant: usize,
    application_id: &mut Option<String>,
) -> anyhow::Result<Issued> {
    let token = load.cast.applicants[applicant].as_str();
    let recorder = &load.recorder;
    let mut applications = load.clients.applications.clone();
    let create = CreateApplicationRequest {
        service_code: SERVICE.into(),
        document_language: apps::Language::Ru as i32,
        reason: "graduation".into(),
        email: format!("graduate-{applicant}@example.kz"),
        ..Default::default()
    };
    let created = recorder
        .timed("CreateApplication", applications.create_application(authed(create, token)))
        .await
        .context("create")?
        .into_inner()
        .application
        .context("no application")?;
    *application_id = Some(created.id.clone());

    let mut parts = vec![UploadAttachmentRequest {
        part: Some(Part::Metadata(UploadAttachmentMetadata {
            application_id: created.id.clone(),
            file_name: "diploma-supplement.pdf".into(),
            ..Default::default()
        })),
    }];
    parts.push(UploadAttachmentRequest { part: Some(Part::Chunk(scan(&format!("flow {index}")))) });
    let mut attachments = load.clients.attachments.clone();
    let uploaded = recorder
        .timed("UploadAttachment", attachments.upload_attachment(authed(tokio_stream::iter(parts), token)))
        .await
        .context("upload")?
        .into_inner();

    let submit = SubmitApplicationRequest {
        application_id: created.id.clone(),
        expected_version: Some(uploaded.version),
        agreed_to_terms: true,
    };
    recorder
        .timed("SubmitApplication", applications.submit_application(authed(submit, token)))
        .await
        .context("submit")?;

    // Every department decides at once, each as soon as its row is on the sheet (routing opens it from the
    // submitted event); replicas of routing take turns.
    let routing = &load.clients.routing;
    let decisions = load.cast.approvers.iter().enumerate().map(|(row, (department, approver))| {
        let mut client = routing[(index + row) % routing.len()].clone();
        let id = created.id.clone();
        async move {
            let deadline = Instant::now() + load.timeout;
            loop {
                let request = DecideRequest {
                    application_id: id.clone(),
                    decision: routing::Decision::Approve as i32,
                    note: "No debts".into(),
                    expected_version: None,
                };
                let started = Instant::now();
                match client.decide(authed(request, approver)).await {
                    Ok(_) => {
                        recorder
                            .latencies
                            .lock()
                            .expect("recorder")
                            .entry("Decide")
                            .or_default()
                            .push(started.elapsed());
                        return Ok(());
                    }
                    Err(status) if not_yet(&status) && Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                    Err(status) => {
                        *recorder.errors.lock().expect("recorder").entry("Decide").or_default() += 1;
                        return Err(anyhow::Error::new(status).context(format!("{department} deciding")));
                    }
                }
            }
        }
    });
    for decided in futures::future::join_all(decisions).await {
        decided?;
    }
    let mut routing = load.clients.routing[index % load.clients.routing.len()].clone();
    recorder
        .timed("GetSheet", routing.get_sheet(authed(GetSheetRequest { application_id: created.id.clone() }, token)))
        .await
        .context("sheet")?;

    let deadline = Instant::now() + load.timeout;
    let issued = loop {
        let request = GetApplicationRequest { application_id: created.id.clone(), ..Default::default() };
        let application = recorder
            .timed("GetApplication", applications.get_application(authed(request, token)))
            .await
            .context("status")?
            .into_inner()
            .application
            .context("no application")?;
        if application.status == apps::ApplicationStatus::Issued as i32 {
            break application;
        }
        anyhow::ensure!(Instant::now() < deadline, "not issued within {:?}: {:?}", load.timeout, application.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let mut documents = load.clients.documents.clone();
    let document = recorder
        .timed(
            "GetDocument",
            documents.get_document(authed(GetDocumentRequest { document_id: issued.document_id.clone() }, token)),
        )
        .await
        .context("document")?
        .into_inner()
        .document
        .context("no document")?;
    let verify = VerifyDocumentRequest {
        organization_id: ORG.into(),
        registration_number: document.registration_number.clone(),
        verifier: "onewindow-bench".into(),
        ..Default::default()
    };
    let verified = recorder.timed("VerifyDocument", documents.verify_document(verify)).await.context("verify")?;
    anyhow::ensure!(verified.get_ref().found, "the issued number {} is not found", document.registration_number);
    let mut notifications = load.clients.notifications.clone();
    recorder
        .timed("ListNotifications", notifications.list_notifications(authed(ListNotificationsRequest {}, token)))
        .await
        .context("notifications")?;
    Ok(Issued { document_id: document.id, registration_number: document.registration_number })
}

/// `concurrency` applicants, each running flows back to back until `duration` has passed (the flows under way
/// then finish). Returns the outcomes and the time from the first start to the last end.
pub async fn closed_loop(
    load: Arc<Load>,
    concurrency: usize,
    duration: Duration,
    first_index: usize,
) -> (Vec<FlowOutcome>, Duration) {
    let started = Instant::now();
    let deadline = started + duration;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(first_index));
    let workers = (0..concurrency).map(|_| {
        let (load, next) = (load.clone(), next.clone());
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            while Instant::now() < deadline {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                outcomes.push(run_flow(load.clone(), index).await);
            }
            outcomes
        })
    });
    let mut outcomes = Vec::new();
    for worker in futures::future::join_all(workers).await {
        outcomes.extend(worker.unwrap_or_default());
    }
    (outcomes, started.elapsed())
}

/// Flows started at `per_second` for `duration`, each its own task, whatever the system's answers do.
pub async fn open_loop(
    load: Arc<Load>,
    per_second: f64,
    duration: Duration,
    first_index: usize,
) -> (Vec<FlowOutcome>, Duration) {
    let count = (per_second * duration.as_secs_f64()).ceil().max(1.0) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(0.01)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut flows = Vec::with_capacity(count);
    for n in 0..count {
        ticker.tick().await;
        flows.push(tokio::spawn(run_flow(load.clone(), first_index + n)));
    }
    let mut outcomes = Vec::new();
    for flow in futures::future::join_all(flows).await {
        match flow {
            Ok(outcome) => outcomes.push(outcome),
            Err(panic) => outcomes.push(FlowOutcome {
                applicant: 0,
                application_id: None,
                result: Err(format!("the flow's task panicked: {panic}")),
                elapsed: Duration::ZERO,
            }),
        }
    }
    (outcomes, started.elapsed())
}

/// Waits until applications copies the revised service (its local catalog copy follows the catalog's events): a
/// draft of the applicant takes the scan. The probe drafts are deleted.
pub async fn wait_for_scan_slot(load: &Load) -> anyhow::Result<()> {
    use onewindow_proto::applications::v1::DeleteDraftRequest;
    let token = load.cast.applicants[0].as_str();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut applications = load.clients.applications.clone();
        let create = CreateApplicationRequest { service_code: SERVICE.into(), ..Default::default() };
        let draft = applications.create_application(authed(create, token)).await?.into_inner().application;
        let id = draft.context("no application")?.id;
        let parts = vec![
            UploadAttachmentRequest {
                part: Some(Part::Metadata(UploadAttachmentMetadata {
                    application_id: id.clone(),
                    file_name: "probe.pdf".into(),
                    ..Default::default()
                })),
            },
            UploadAttachmentRequest { part: Some(Part::Chunk(scan("probe"))) },
        ];
        let uploaded =
            load.clients.attachments.clone().upload_attachment(authed(tokio_stream::iter(parts), token)).await;
        let delete = DeleteDraftRequest { application_id: id, expected_version: None };
        applications.delete_draft(authed(delete, token)).await?;
        match uploaded {
            Ok(_) => return Ok(()),
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(status) => {
                return Err(anyhow::Error::new(status).context("the revised service never reached applications"));
            }
        }
    }
}
