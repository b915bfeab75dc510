//! Attachments: the files (scans) an applicant attaches to a draft, per required document of the service.
//!
//! Each application's files are an aggregate of their own (`attachment/<application_id>` in the applications
//! log); the bytes live in a blob store (a directory in the embedded mode, a NATS object store in the distributed
//! mode) under `<org>/attachments/<application_id>/<attachment_id>`. Files change only while the application is
//! a draft, only by its applicant; their type is sniffed from the content and their size limited.
//!
//! For the application's life cycle: [`attachments_of`] (what is attached, e.g. to check the required documents
//! on submission), [`seal_append`] (freeze the files in the submission's commit) and [`delete_all`] (deleting a
//! draft removes its files).
//!
//! # Layout
//! - `domain`: the aggregate, its events and decisions; pure
//! - `content`: the accepted types and the size limit, checked on the bytes; the file name as a label
//! - `service`: the gRPC API (`AttachmentsService`)

mod content;
mod domain;
pub mod samples;
mod service;

use std::sync::Arc;

use onewindow_blobs::BlobStore;
use onewindow_commands::{Command, run_command};
use onewindow_eventlog::{EventMetadata, EventStore, Loaded, OrgId, StoreError, StreamAppend, StreamRef, encode, load};
use onewindow_proto::applications::v1::attachments_service_server::{AttachmentsServiceServer, SERVICE_NAME};
use onewindow_server::{ClusterSettings, Grpc, ServiceContext};
use tonic::Status;
use uuid::Uuid;

pub use content::{DEFAULT_MAX_BYTES, DEFAULT_TYPES, Limits};
pub use domain::{ATTACHMENT, Attachment, AttachmentEvent, Attachments, Uploaded};

/// The NATS object store bucket of the distributed mode, unless `ONEWINDOW_ATTACHMENTS_BUCKET` names another.
pub const DEFAULT_BUCKET: &str = "onewindow-attachments";

/// Adds `AttachmentsService` to `grpc`, checking every file against `limits`.
pub fn register(ctx: &ServiceContext, grpc: &mut Grpc, blobs: Arc<dyn BlobStore>, limits: Limits) {
    tracing::info!(max_bytes = limits.max_bytes, accepted = ?limits.accepted, "attachment limits");
    let api = service::AttachmentsApi { store: ctx.store.clone(), blobs, auth: ctx.auth.clone(), limits };
    grpc.routes.add_service(AttachmentsServiceServer::new(api));
    grpc.names.push(SERVICE_NAME);
}

/// The blob store of a distributed applications process: the bucket `bucket` on the service's NATS, or a directory.
pub async fn open_blob_store(
    spec: &onewindow_blobs::StoreSpec,
    bucket: &str,
    cluster: &ClusterSettings,
) -> anyhow::Result<Arc<dyn BlobStore>> {
    let bucket = onewindow_blobs::Bucket {
        name: bucket.to_owned(),
        description: "onewindow attachments of applications".into(),
        replicas: cluster.stream_replicas(),
    };
    onewindow_blobs::open(spec, &cluster.nats_url, bucket, "onewindow-applications-blobs").await
}

fn stream(org: &OrgId, application_id: Uuid) -> StreamRef {
    StreamRef::new(org, ATTACHMENT, application_id.to_string())
}

fn encode_all(
    events: &[AttachmentEvent],
    metadata: &EventMetadata,
) -> Result<Vec<onewindow_eventlog::NewEvent>, StoreError> {
    events.iter().map(|e| encode(e, metadata).map_err(StoreError::from)).collect()
}

/// The files of one application (none for an unknown one), with the version of their stream: pass it to
/// [`seal_append`], or compare counts per required document with [`Attachments::count`] and
/// [`Attachments::missing_required`].
pub async fn attachments_of(
    store: &dyn EventStore,
    org: &OrgId,
    application_id: Uuid,
) -> Result<(Attachments, i64), StoreError> {
    let loaded = load::<Attachments>(store, &stream(org, application_id)).await?;
    Ok((loaded.state, loaded.version))
}

/// The append that freezes the files, to commit together with `application.submitted` (its `expected_version`
/// is the version [`attachments_of`] returned): an upload or deletion decided before the submission then fails
/// with a concurrency error instead of changing a submitted application, and after it every change is refused.
/// `None` when the files are sealed already.
pub fn seal_append(
    org: &OrgId,
    application_id: Uuid,
    attachments: &Attachments,
    version: i64,
    metadata: &EventMetadata,
) -> Result<Option<StreamAppend>, StoreError> {
    let events = domain::seal(attachments, application_id);
    if events.is_empty() {
        return Ok(None);
    }
    Ok(Some(StreamAppend {
        stream: stream(org, application_id),
        expected_version: version,
        events: encode_all(&events, metadata)?,
    }))
}

/// Removes every file of an application and records it (`attachment.deleted` each), whatever its status: call
/// it when a draft is deleted, after the deletion is committed. The events are committed first, then the blobs
/// removed; a blob that cannot be removed is logged and left (no event names it any more). A concurrent upload
/// makes the runner read the files again. Returns how many files were removed.
pub async fn delete_all(
    store: &dyn EventStore,
    blobs: &dyn BlobStore,
    org: &OrgId,
    application_id: Uuid,
    metadata: &EventMetadata,
) -> Result<usize, Status> {
    let command = Command::new(stream(org, application_id), metadata.clone());
    let ran = run_command(store, &command, |loaded: &Loaded<Attachments>| {
        Ok::<_, Status>(domain::delete_all(&loaded.state, application_id))
    })
    .await?;
    if !ran.wrote() {
        return Ok(0);
    }
    for key in ran.decided_on.state.blob_keys() {
        if let Err(error) = blobs.delete(&key).await {
            tracing::warn!(blob_key = %key, error = %format!("{error:#}"), "an unreferenced attachment blob stays");
        }
    }
    Ok(ran.events.len())
}

#[cfg(test)]
mod tests {
    use onewindow_blobs::FsBlobStore;
    use onewindow_eventlog::Commit;

    use super::{domain::blob_key, *};

    fn metadata() -> EventMetadata {
        onewindow_server::request_metadata("test".into(), None)
    }

    async fn store() -> Arc<dyn EventStore> {
        let dir = std::env::temp_dir().join(format!("onewindow-attachments-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        onewindow_eventlog::open(&format!("sqlite:{}", dir.join("events.db").display())).await.expect("store")
    }

    async fn upload(store: &dyn EventStore, blobs: &dyn BlobStore, org: &OrgId, application_id: Uuid) -> String {
        let attachment_id = Uuid::now_v7();
        let key = blob_key(org.as_str(), application_id, attachment_id);
        blobs.put(&key, bytes::Bytes::from_static(b"%PDF-1.4")).await.expect("put");
        let (_, version) = attachments_of(store, org, application_id).await.expect("load");
        let event = AttachmentEvent::Uploaded(Uploaded {
            attachment_id,
            application_id,
            required_document: 0,
            file_name: "scan.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 8,
            sha256: String::new(),
            blob_key: key.clone(),
        });
        let events = encode_all(&[event], &metadata()).expect("encode");
        store.commit(Commit::append(stream(org, application_id), version, events)).await.expect("commit");
        key
    }

    #[tokio::test]
    async fn deleting_all_removes_the_files_and_records_it() {
        let store = store().await;
        let dir = std::env::temp_dir().join(format!("onewindow-attachment-blobs-{}", Uuid::now_v7().simple()));
        let blobs = FsBlobStore::new(&dir);
        let org = OrgId::parse("kaznu").expect("org");
        let (application, other) = (Uuid::now_v7(), Uuid::now_v7());
        let keys = [
            upload(store.as_ref(), &blobs, &org, application).await,
            upload(store.as_ref(), &blobs, &org, application).await,
        ];
        let kept = upload(store.as_ref(), &blobs, &org, other).await;

        let removed = delete_all(store.as_ref(), &blobs, &org, application, &metadata()).await.expect("deleted");
        assert_eq!(removed, 2);
        let (left, version) = attachments_of(store.as_ref(), &org, application).await.expect("load");
        assert!(left.files.is_empty());
        assert_eq!(version, 4, "two uploads, two deletions recorded");
        for key in keys {
            assert_eq!(blobs.get(&key).await.expect("get"), None, "{key} removed");
        }
        assert!(blobs.get(&kept).await.expect("get").is_some(), "another application's file stays");
        assert_eq!(delete_all(store.as_ref(), &blobs, &org, application, &metadata()).await.expect("again"), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_sealed_submission_wins_over_an_upload_decided_before_it() {
        let store = store().await;
        let org = OrgId::parse("kaznu").expect("org");
        let application = Uuid::now_v7();
        let (files, version) = attachments_of(store.as_ref(), &org, application).await.expect("load");
        let seal = seal_append(&org, application, &files, version, &metadata()).expect("encode").expect("an append");
        store.commit(Commit { appends: vec![seal], inbox: None }).await.expect("sealed");

        // An upload decided on the version before the seal loses.
        let late = AttachmentEvent::Uploaded(Uploaded {
            attachment_id: Uuid::now_v7(),
            application_id: application,
            required_document: 0,
            file_name: "late.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1,
            sha256: String::new(),
            blob_key: "kaznu/attachments/x/y".into(),
        });
        let commit =
            Commit::append(stream(&org, application), version, encode_all(&[late], &metadata()).expect("encode"));
        assert!(matches!(store.commit(commit).await, Err(StoreError::Concurrency { .. })));
        let (sealed, _) = attachments_of(store.as_ref(), &org, application).await.expect("load");
        assert!(sealed.sealed && sealed.files.is_empty());
        assert!(seal_append(&org, application, &sealed, 1, &metadata()).expect("encode").is_none());
    }
}
