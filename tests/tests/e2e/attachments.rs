//! Attachments of draft applications over gRPC, in both modes: the embedded one (SQLite, files in a directory)
//! and the distributed one (applications as its own process over PostgreSQL, files in a NATS object store).
//!
//! One scenario runs in both: upload real files, list, download, replace, delete; files whose name lies about
//! their type and files above the limit are refused naming the field; stale versions and concurrent uploads get
//! ABORTED with nothing lost; other people are refused; a submitted application's files no longer change.

use std::sync::Arc;

use onewindow::walkthrough::{Login, authed, sign_in};
use onewindow_blobs::{BlobStore, Bucket, FsBlobStore, NatsObjectStore};
use onewindow_eventlog::{EventStore, OrgId};
use onewindow_identity::{NewAccount, register_account, roles};
use onewindow_proto::applications::v1::{
    ApplicationStatus, Attachment, CreateApplicationRequest, DeleteAttachmentRequest, DeleteDraftRequest,
    DownloadAttachmentRequest, GetApplicationRequest, ListAttachmentsRequest, ListAttachmentsResponse,
    SubmitApplicationRequest, UploadAttachmentMetadata, UploadAttachmentRequest, UploadAttachmentResponse,
    WithdrawApplicationRequest, applications_service_client::ApplicationsServiceClient,
    attachments_service_client::AttachmentsServiceClient, upload_attachment_request::Part,
};
use onewindow_tests::{NatsServer, ServiceProcess, fresh_postgres_database};
use sha2::{Digest, Sha256};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;

use super::embedded::{EmbeddedSystem, pdf_info};

const ORG: &str = "kaznu";
/// The seeds' service with a required document: one "Financial report", up to 5 files.
const SERVICE: &str = "return-from-long-term-mobility";
const MAX_FILES: usize = 5;
/// The default limit.
const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The people of the scenario, each with a fresh password.
struct People {
    student: Login,
    other_student: Login,
    /// An approver of the deans' office: on the service's route.
    dean: Login,
    /// An approver off the route.
    librarian: Login,
    admin: Login,
}

async fn register_people(identity: &dyn EventStore) -> People {
    let org = OrgId::parse(ORG).expect("org");
    let mut logins = Vec::new();
    for (login, role, department, position) in [
        ("att-student", "applicant", "", ""),
        ("att-other-student", "applicant", "", ""),
        ("att-dean", "approver", "deans-office", "dean"),
        ("att-librarian", "approver", "library", "head"),
        ("att-admin", "admin", "", "administrator"),
    ] {
        let password = format!("{login}-{}-Pw1", uuid::Uuid::now_v7().simple());
        register_account(
            identity,
            NewAccount {
                org: org.clone(),
                login: login.into(),
                password: password.clone(),
                full_name: format!("Test {login}"),
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
    let Ok([student, other_student, dean, librarian, admin]) = <[Login; 5]>::try_from(logins) else {
        panic!("five people")
    };
    People { student, other_student, dean, librarian, admin }
}

use onewindow_applications::attachments::samples::{HTML, PNG, elf, jpeg, pdf_noting as pdf};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The fields an INVALID_ARGUMENT names.
fn bad_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// A caller of the attachments API as one person.
#[derive(Clone)]
struct Caller {
    client: AttachmentsServiceClient<Channel>,
    token: String,
}

struct Upload<'a> {
    application_id: &'a str,
    required_document: u32,
    file_name: &'a str,
    content: &'a [u8],
    replaces: &'a str,
    expected_version: Option<i64>,
}

impl<'a> Upload<'a> {
    fn new(application_id: &'a str, file_name: &'a str, content: &'a [u8]) -> Self {
        Self { application_id, required_document: 0, file_name, content, replaces: "", expected_version: None }
    }
}

impl Caller {
    async fn upload(&self, upload: Upload<'_>) -> Result<UploadAttachmentResponse, Status> {
        let mut messages = vec![UploadAttachmentRequest {
            part: Some(Part::Metadata(UploadAttachmentMetadata {
                application_id: upload.application_id.into(),
                required_document: upload.required_document,
                file_name: upload.file_name.into(),
                replaces_attachment_id: upload.replaces.into(),
                expected_version: upload.expected_version,
            })),
        }];
        messages.extend(
            upload.content.chunks(64 * 1024).map(|c| UploadAttachmentRequest { part: Some(Part::Chunk(c.to_vec())) }),
        );
        let request = authed(tokio_stream::iter(messages), &self.token).expect("request");
        self.client.clone().upload_attachment(request).await.map(|r| r.into_inner())
    }

    async fn list(&self, application_id: &str) -> Result<ListAttachmentsResponse, Status> {
        let request = ListAttachmentsRequest { application_id: application_id.into() };
        self.client
            .clone()
            .list_attachments(authed(request, &self.token).expect("request"))
            .await
            .map(|r| r.into_inner())
    }

    async fn download(&self, application_id: &str, attachment_id: &str) -> Result<(Attachment, Vec<u8>), Status> {
        let request =
            DownloadAttachmentRequest { application_id: application_id.into(), attachment_id: attachment_id.into() };
        let mut stream =
            self.client.clone().download_attachment(authed(request, &self.token).expect("request")).await?.into_inner();
        let mut described = None;
        let mut content = Vec::new();
        while let Some(message) = stream.message().await? {
            if let Some(attachment) = message.attachment {
                assert!(described.is_none(), "only the first message describes the file");
                described = Some(attachment);
            }
            content.extend_from_slice(&message.chunk);
        }
        Ok((described.expect("the first message describes the file"), content))
    }

    async fn delete(&self, application_id: &str, attachment_id: &str, expected: Option<i64>) -> Result<i64, Status> {
        let request = DeleteAttachmentRequest {
            application_id: application_id.into(),
            attachment_id: attachment_id.into(),
            expected_version: expected,
        };
        let answer = self.client.clone().delete_attachment(authed(request, &self.token).expect("request")).await?;
        Ok(answer.into_inner().version)
    }
}

fn ids(list: &ListAttachmentsResponse) -> Vec<&str> {
    list.attachments.iter().map(|a| a.id.as_str()).collect()
}

/// Where the scenario finds the files' bytes behind the API.
fn blob_key(application_id: &str, attachment_id: &str) -> String {
    format!("{ORG}/attachments/{application_id}/{attachment_id}")
}

/// The whole scenario against one deployment; returns the application's id.
async fn scenario(identity_url: &str, applications_url: &str, people: &People, blobs: &dyn BlobStore) -> String {
    let channel = Channel::from_shared(applications_url.to_owned()).expect("url").connect().await.expect("connect");
    let as_person = |token: String| Caller { client: AttachmentsServiceClient::new(channel.clone()), token };
    let student = sign_in(identity_url, ORG, &people.student).await.expect("student");
    let me = as_person(student.clone());
    let other = as_person(sign_in(identity_url, ORG, &people.other_student).await.expect("other student"));
    let dean = as_person(sign_in(identity_url, ORG, &people.dean).await.expect("dean"));
    let librarian = as_person(sign_in(identity_url, ORG, &people.librarian).await.expect("librarian"));
    let admin = as_person(sign_in(identity_url, ORG, &people.admin).await.expect("admin"));

    let mut applications = ApplicationsServiceClient::new(channel.clone());
    let create = CreateApplicationRequest {
        service_code: SERVICE.into(),
        email: "att-student@example.kz".into(),
        ..Default::default()
    };
    let application = applications
        .create_application(authed(create.clone(), &student).expect("request"))
        .await
        .expect("a draft")
        .into_inner()
        .application
        .expect("application");
    let app = application.id.as_str();

    // Without the required scan, submitting names it among the missing fields; the draft stays as it was.
    let submit =
        |id: &str| SubmitApplicationRequest { application_id: id.into(), agreed_to_terms: true, ..Default::default() };
    let refused = applications
        .submit_application(authed(submit(app), &student).expect("request"))
        .await
        .expect_err("the scan is missing");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(bad_fields(&refused).contains(&"required_documents".to_owned()), "{refused:?}");

    // A deleted draft takes its files with it.
    let doomed = applications
        .create_application(authed(create.clone(), &student).expect("request"))
        .await
        .expect("another draft")
        .into_inner()
        .application
        .expect("application");
    let doomed_file = me.upload(Upload::new(&doomed.id, "scan.pdf", &pdf("doomed"))).await.expect("uploaded");
    let doomed_key = blob_key(&doomed.id, &doomed_file.attachment.expect("attachment").id);
    assert!(blobs.get(&doomed_key).await.expect("blob").is_some());
    applications
        .delete_draft(
            authed(DeleteDraftRequest { application_id: doomed.id.clone(), expected_version: None }, &student)
                .expect("request"),
        )
        .await
        .expect("deleted");
    assert_eq!(blobs.get(&doomed_key).await.expect("blob"), None, "the draft's file is removed with it");
    let gone = applications
        .get_application(
            authed(GetApplicationRequest { application_id: doomed.id.clone(), ..Default::default() }, &student)
                .expect("request"),
        )
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(me.list(&doomed.id).await.expect("listed").attachments.len(), 0);

    // Real files are accepted; the stored type is the content's, whatever the name says.
    let report = pdf("page one");
    let uploaded = me.upload(Upload::new(app, "C:\\Scans\\Financial report.pdf", &report)).await.expect("a PDF");
    let first = uploaded.attachment.expect("attachment");
    assert_eq!(uploaded.version, 1);
    assert_eq!(
        (first.content_type.as_str(), first.file_name.as_str(), first.size_bytes, first.required_document),
        ("application/pdf", "Financial report.pdf", report.len() as i64, 0)
    );
    assert_eq!(first.sha256, sha256_hex(&report));
    let photo = me.upload(Upload::new(app, "photo.exe", PNG)).await.expect("a PNG named .exe").attachment.expect("a");
    assert_eq!(photo.content_type, "image/png", "the content decides, not the name");

    // Files whose name lies about their type are refused, naming the field that carries the content.
    for (liar, content) in [("an ELF executable", elf()), ("an HTML page", HTML.to_vec())] {
        let refused = me.upload(Upload::new(app, "scan.pdf", &content)).await.expect_err(liar);
        assert_eq!(refused.code(), Code::InvalidArgument, "{liar}: {refused:?}");
        assert_eq!(bad_fields(&refused), ["chunk"], "{liar}");
        assert!(refused.message().contains("application/pdf, image/jpeg, image/png"), "{}", refused.message());
    }
    // Too big: refused by the limit, however it is named.
    let mut big = pdf("big");
    big.resize(MAX_BYTES + 1, b' ');
    let refused = me.upload(Upload::new(app, "scan.pdf", &big)).await.expect_err("too big");
    assert_eq!((refused.code(), bad_fields(&refused)), (Code::InvalidArgument, vec!["chunk".to_owned()]));
    assert!(refused.message().contains("10 MiB"), "{}", refused.message());
    let refused = me.upload(Upload::new(app, "empty.pdf", &[])).await.expect_err("empty");
    assert_eq!(bad_fields(&refused), ["chunk"]);
    let refused = me.upload(Upload { required_document: 1, ..Upload::new(app, "x.pdf", &report) }).await;
    assert_eq!(bad_fields(&refused.expect_err("no second required document")), ["required_document"]);
    let refused = me.upload(Upload::new("not-a-uuid", "", &report)).await.expect_err("bad metadata");
    assert_eq!(bad_fields(&refused), ["application_id", "file_name"]);

    // Nothing refused was kept.
    let listed = me.list(app).await.expect("list");
    assert_eq!(ids(&listed), [first.id.as_str(), photo.id.as_str()]);
    assert_eq!(listed.version, 2);

    // Download gives back exactly the bytes, and the blob store holds them under the documented key.
    let (described, content) = me.download(app, &first.id).await.expect("download");
    assert_eq!(content, report);
    assert_eq!(described, first);
    pdf_info(&content);
    assert_eq!(blobs.get(&blob_key(app, &first.id)).await.expect("blob").as_deref(), Some(report.as_slice()));

    // Replace: the new file takes the old one's place; the old one is gone, with its blob.
    let corrected = pdf("page one, corrected");
    let replacement = me
        .upload(Upload {
            replaces: &first.id,
            expected_version: Some(2),
            ..Upload::new(app, "Financial report v2.pdf", &corrected)
        })
        .await
        .expect("replaced");
    assert_eq!(replacement.version, 3);
    let second = replacement.attachment.expect("attachment");
    let listed = me.list(app).await.expect("list");
    assert_eq!(ids(&listed), [second.id.as_str(), photo.id.as_str()]);
    assert_eq!(me.download(app, &second.id).await.expect("download").1, corrected);
    assert_eq!(me.download(app, &first.id).await.expect_err("replaced").code(), Code::NotFound);
    assert_eq!(blobs.get(&blob_key(app, &first.id)).await.expect("blob"), None, "the replaced blob is removed");

    // A change decided on an old version is refused, and nothing is lost.
    let stale = me.upload(Upload { expected_version: Some(2), ..Upload::new(app, "late.pdf", &report) }).await;
    assert_eq!(stale.expect_err("stale").code(), Code::Aborted);
    assert_eq!(me.delete(app, &photo.id, Some(2)).await.expect_err("stale").code(), Code::Aborted);
    // Two uploads racing on the same version: one wins, the other is told to retry.
    let (one, two) = (pdf("racer one"), pdf("racer two"));
    let (a, b) = tokio::join!(
        me.upload(Upload { expected_version: Some(3), ..Upload::new(app, "one.pdf", &one) }),
        me.upload(Upload { expected_version: Some(3), ..Upload::new(app, "two.pdf", &two) }),
    );
    let codes = [&a, &b].map(|r| r.as_ref().err().map_or(Code::Ok, |s| s.code()));
    assert!(codes.contains(&Code::Ok) && codes.contains(&Code::Aborted), "{codes:?}");
    let winner = [a, b].into_iter().find_map(Result::ok).expect("a winner").attachment.expect("attachment");
    let listed = me.list(app).await.expect("list");
    assert_eq!(ids(&listed), [second.id.as_str(), photo.id.as_str(), winner.id.as_str()]);
    assert_eq!(listed.version, 4);
    for attachment in &listed.attachments {
        let (_, content) = me.download(app, &attachment.id).await.expect("every listed file downloads");
        assert_eq!(sha256_hex(&content), attachment.sha256);
    }

    // Up to the required document's limit of files.
    let receipt = me.upload(Upload::new(app, "receipt.png", &jpeg())).await.expect("a JPEG").attachment.expect("a");
    assert_eq!(receipt.content_type, "image/jpeg", "the content decides, not the name");
    for n in listed.attachments.len() + 1..MAX_FILES {
        me.upload(Upload::new(app, &format!("page {n}.pdf"), &pdf(&format!("page {n}")))).await.expect("room left");
    }
    let full = me.upload(Upload::new(app, "one too many.pdf", &report)).await.expect_err("full");
    assert_eq!(full.code(), Code::FailedPrecondition, "{full:?}");
    assert!(full.message().contains("at most 5 files"), "{}", full.message());

    // Only the applicant changes the files; whoever reads the application reads them.
    for (who, caller) in [("another applicant", &other), ("an approver off the route", &librarian)] {
        assert_eq!(caller.list(app).await.expect_err(who).code(), Code::PermissionDenied, "{who}");
        assert_eq!(caller.download(app, &second.id).await.expect_err(who).code(), Code::PermissionDenied, "{who}");
    }
    let refused = other.upload(Upload::new(app, "mine.pdf", &report)).await.expect_err("not the applicant");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(
        other.delete(app, &second.id, None).await.expect_err("not the applicant").code(),
        Code::PermissionDenied
    );
    assert_eq!(dean.delete(app, &second.id, None).await.expect_err("an approver").code(), Code::PermissionDenied);
    assert_eq!(dean.list(app).await.expect("an approver on the route reads").attachments.len(), MAX_FILES);
    assert_eq!(admin.download(app, &photo.id).await.expect("staff read").1, PNG);

    // Delete: the file and its blob are gone, the slot has room again.
    let version = me.list(app).await.expect("list").version;
    let after = me.delete(app, &photo.id, Some(version)).await.expect("deleted");
    assert_eq!(after, version + 1);
    assert_eq!(me.download(app, &photo.id).await.expect_err("deleted").code(), Code::NotFound);
    assert_eq!(blobs.get(&blob_key(app, &photo.id)).await.expect("blob"), None, "the deleted blob is removed");
    assert_eq!(me.delete(app, &photo.id, None).await.expect_err("deleted twice").code(), Code::NotFound);
    assert_eq!(me.list(app).await.expect("list").attachments.len(), MAX_FILES - 1);

    // Once submitted, the files no longer change.
    applications
        .submit_application(
            authed(
                SubmitApplicationRequest { application_id: app.into(), agreed_to_terms: true, ..Default::default() },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect("submitted");
    let refused = me.upload(Upload::new(app, "after.pdf", &report)).await.expect_err("submitted");
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    // The submission sealed the files in the same commit.
    assert!(refused.message().contains("submitted: its attachments are final"), "{}", refused.message());
    assert_eq!(me.delete(app, &second.id, None).await.expect_err("submitted").code(), Code::FailedPrecondition);
    let listed = me.list(app).await.expect("still readable");
    assert_eq!(listed.attachments.len(), MAX_FILES - 1);
    assert_eq!(me.download(app, &second.id).await.expect("still downloads").1, corrected);

    // The applicant withdraws it; the files stay readable with the application.
    let withdrawn = applications
        .withdraw_application(
            authed(
                WithdrawApplicationRequest {
                    application_id: app.into(),
                    expected_version: None,
                    reason: "the exchange was cancelled".into(),
                },
                &student,
            )
            .expect("request"),
        )
        .await
        .expect("withdrawn")
        .into_inner()
        .application
        .expect("application");
    assert_eq!(withdrawn.status(), ApplicationStatus::Withdrawn);
    assert_eq!(me.list(app).await.expect("still readable").attachments.len(), MAX_FILES - 1);
    application.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_of_a_draft_in_the_embedded_mode() {
    let system = EmbeddedSystem::start().await;
    let identity = onewindow_eventlog::open(&format!("sqlite:{}", system.data_dir.join("identity.db").display()))
        .await
        .expect("identity's log");
    let people = register_people(identity.as_ref()).await;
    let files_dir = system.data_dir.join("attachments");
    let blobs = FsBlobStore::new(&files_dir);
    let application = scenario(&system.url, &system.url, &people, &blobs).await;

    // Another organisation's student finds nothing there.
    let stranger = sign_in(&system.url, "kaznmu", &system.cast("kaznmu").student).await.expect("kaznmu's student");
    let channel = Channel::from_shared(system.url.clone()).expect("url").connect().await.expect("connect");
    let stranger = Caller { client: AttachmentsServiceClient::new(channel), token: stranger };
    assert_eq!(stranger.list(&application).await.expect_err("another organisation").code(), Code::NotFound);

    // Exactly the listed files are on disk: refused, replaced, deleted and lost-race uploads left nothing.
    let on_disk = std::fs::read_dir(files_dir.join(ORG).join("attachments").join(&application))
        .expect("the application's folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .count();
    assert_eq!(on_disk, MAX_FILES - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_of_a_draft_over_postgres_and_a_nats_object_store() {
    onewindow_tests::init_test_logging();
    let nats = NatsServer::start().await.expect("a current nats-server is required");
    let identity_db = fresh_postgres_database().await.expect("PostgreSQL is required");
    let catalog_db = fresh_postgres_database().await.expect("PostgreSQL");
    let applications_db = fresh_postgres_database().await.expect("PostgreSQL");
    let identity_log = onewindow_eventlog::open(&identity_db).await.expect("identity database");
    let people = register_people(identity_log.as_ref()).await;
    let catalog_log = onewindow_eventlog::open(&catalog_db).await.expect("catalog database");
    onewindow_catalog::seed_catalog(catalog_log.as_ref(), &OrgId::parse(ORG).expect("org")).await.expect("catalog");

    let database = |url: &str| ("ONEWINDOW_DATABASE_URL", url.to_owned());
    let mut identity = ServiceProcess::spawn("onewindow-identity", &[database(&identity_db)]).expect("identity");
    identity.wait_serving("onewindow.identity.v1.IdentityService").await.expect("identity serving");
    let shared = |db: &str| {
        vec![database(db), ("ONEWINDOW_NATS_URL", nats.url.clone()), ("ONEWINDOW_IDENTITY_URL", identity.url.clone())]
    };
    let mut catalog = ServiceProcess::spawn("onewindow-catalog", &shared(&catalog_db)).expect("catalog");
    catalog.wait_serving("onewindow.catalog.v1.CatalogService").await.expect("catalog serving");
    let mut env = shared(&applications_db);
    env.push(("ONEWINDOW_CATALOG_URL", catalog.url.clone()));
    env.push(("ONEWINDOW_BLOB_STORE", "nats".into()));
    let mut applications = ServiceProcess::spawn("onewindow-applications", &env).expect("applications");
    applications.wait_serving("onewindow.applications.v1.AttachmentsService").await.expect("attachments serving");

    let jetstream = async_nats::jetstream::new(async_nats::connect(nats.url.as_str()).await.expect("nats"));
    let bucket = Bucket { name: "onewindow-attachments".into(), description: String::new(), replicas: 1 };
    let blobs: Arc<dyn BlobStore> = Arc::new(NatsObjectStore::open(&jetstream, &bucket).await.expect("the bucket"));
    let run = tokio::spawn({
        let (identity_url, applications_url) = (identity.url.clone(), applications.url.clone());
        let blobs = blobs.clone();
        async move { scenario(&identity_url, &applications_url, &people, blobs.as_ref()).await }
    });
    let application = match run.await {
        Ok(application) => application,
        Err(panic) => {
            for p in [&identity, &catalog, &applications] {
                eprintln!("--- {} ---\n{}", p.name, std::fs::read_to_string(&p.log).unwrap_or_default());
            }
            std::panic::resume_unwind(panic.into_panic());
        }
    };

    // The bucket holds exactly the listed files, and the events are in the applications log (PostgreSQL).
    let store = jetstream.get_object_store("onewindow-attachments").await.expect("bucket");
    let mut names = Vec::new();
    let mut list = store.list().await.expect("list");
    use futures::StreamExt;
    while let Some(info) = list.next().await {
        let info = info.expect("object info");
        if !info.deleted && info.name.contains(&application) {
            names.push(info.name);
        }
    }
    assert_eq!(names.len(), MAX_FILES - 1, "{names:?}");
    let log = onewindow_eventlog::open(&applications_db).await.expect("applications database");
    let org = OrgId::parse(ORG).expect("org");
    let events = log
        .read_stream(&onewindow_eventlog::StreamRef::new(&org, "attachment", application.clone()))
        .await
        .expect("the attachments' stream");
    let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.iter().filter(|t| **t == "attachment.replaced").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "attachment.deleted").count(), 1, "{types:?}");
    assert_eq!(types.iter().filter(|t| **t == "attachment.uploaded").count(), MAX_FILES, "{types:?}");
}
