//! Where files are kept beside the event log: a small port, with a directory and a NATS object store behind it.
//!
//! The event log keeps only a file's key, size and hash; the bytes live here. Documents keeps its issued PDFs
//! here (keys name the PDF's hash, written once), applications its attachments (a key per attachment, written
//! once, deleted when the attachment is). A store therefore needs no locking: nobody writes one key twice at once.
//!
//! # Layout
//! - [`BlobStore`]: the port (`put`, `get`, `delete`), and [`check_key`], the keys every store accepts
//! - `fs`: [`FsBlobStore`], files under one directory (the embedded mode, tests)
//! - `nats`: [`NatsObjectStore`], a NATS JetStream object store bucket (the distributed mode)
//! - [`open`]: the store an `ONEWINDOW_BLOB_STORE`-style setting names

mod fs;
mod nats;

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;

pub use fs::FsBlobStore;
pub use nats::NatsObjectStore;

/// Files are put and got whole: the services that use this bound each file's size (documents' PDFs are a few
/// hundred KiB, attachments at most their configured limit), so a file in memory is bounded too.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing what was there. Done only once the whole blob is stored.
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()>;
    /// The blob under `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>>;
    /// Removes the blob under `key`; removing a blob that is not there is no error (a retried delete).
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid blob key {0:?}: '/'-separated parts of a-z, A-Z, 0-9, '.', '_', '-', none of them '.' or '..'")]
pub struct InvalidKey(pub String);

/// A key both stores accept and that cannot leave a directory: relative, no empty, `.` or `..` parts.
pub fn check_key(key: &str) -> Result<(), InvalidKey> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    if key.len() <= 512 && key.split('/').all(part_ok) && !key.contains("..") {
        Ok(())
    } else {
        Err(InvalidKey(key.to_owned()))
    }
}

/// A NATS object store bucket a service keeps its files in.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    /// Shown by `nats object ls`, for operators.
    pub description: String,
    /// Copies of each file in a cluster (the service's `ONEWINDOW_NATS_STREAM_REPLICAS`).
    pub replicas: usize,
}

/// Where a distributed service keeps its files: `nats` (a JetStream object store bucket) or `fs:<directory>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    Nats,
    Directory(std::path::PathBuf),
}

impl std::str::FromStr for StoreSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        if spec == "nats" {
            Ok(Self::Nats)
        } else if let Some(dir) = spec.strip_prefix("fs:").filter(|d| !d.is_empty()) {
            Ok(Self::Directory(dir.into()))
        } else {
            Err(format!("{spec:?} is not a blob store: use \"nats\" or \"fs:<directory>\""))
        }
    }
}

/// A bucket name NATS accepts: letters, digits, `-` and `_`.
pub fn bucket_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| name.to_owned()).ok_or_else(|| format!("{name:?} is not a bucket name: letters, digits, - and _"))
}

/// Opens the store `spec` names: the bucket on the NATS server at `nats_url` (created on first use) or a
/// directory. `client_name` names the NATS connection in the server's monitoring.
pub async fn open(
    spec: &StoreSpec,
    nats_url: &str,
    bucket: Bucket,
    client_name: &str,
) -> anyhow::Result<Arc<dyn BlobStore>> {
    match spec {
        StoreSpec::Nats => {
            let client = async_nats::ConnectOptions::new()
                .name(client_name)
                .retry_on_initial_connect()
                .connect(nats_url)
                .await
                .context("connecting to NATS for the blob store")?;
            let jetstream = async_nats::jetstream::new(client);
            Ok(Arc::new(NatsObjectStore::open(&jetstream, &bucket).await?))
        }
        StoreSpec::Directory(dir) => Ok(Arc::new(FsBlobStore::new(dir.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_store() {
        assert!(check_key("kaznu/0193/ab12.pdf").is_ok());
        assert!(check_key("kaznu/attachments/0193-ab/0194-cd").is_ok());
        for bad in ["", "/etc/passwd", "kaznu/../x.pdf", "..", "kaznu//x", "kaznu/./x", "a/b/", "a\\b", "a b", "x..pdf"]
        {
            assert_eq!(check_key(bad), Err(InvalidKey(bad.to_owned())), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn only_known_specs_open() {
        let dir = std::env::temp_dir().join(format!("onewindow-blobs-open-{}", uuid::Uuid::now_v7()));
        let bucket = Bucket { name: "unused".into(), description: String::new(), replicas: 1 };
        let spec: StoreSpec = format!("fs:{}", dir.display()).parse().expect("a directory spec");
        let store = open(&spec, "nats://127.0.0.1:1", bucket, "test").await.expect("a directory store");
        store.put("kaznu/a", Bytes::from_static(b"x")).await.expect("put");
        assert_eq!(store.get("kaznu/a").await.expect("get"), Some(Bytes::from_static(b"x")));
        assert_eq!("nats".parse::<StoreSpec>(), Ok(StoreSpec::Nats));
        for bad in ["", "fs:", "s3://bucket", "NATS"] {
            assert!(bad.parse::<StoreSpec>().is_err(), "{bad:?}");
        }
        assert!(bucket_name("onewindow-documents_2").is_ok());
        for bad in ["", "a.b", "a b", "%%"] {
            assert!(bucket_name(bad).is_err(), "{bad:?}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
