//! Blobs in a NATS JetStream object store (the distributed mode): every replica sees the same files.

use anyhow::Context;
use async_nats::jetstream::{
    self,
    object_store::{Config, DeleteErrorKind, GetErrorKind, ObjectStore},
};
use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use crate::{BlobStore, Bucket, check_key};

pub struct NatsObjectStore {
    bucket: ObjectStore,
}

impl NatsObjectStore {
    /// Opens the bucket, creating it (file storage, `replicas` copies) on first use.
    pub async fn open(jetstream: &jetstream::Context, bucket: &Bucket) -> anyhow::Result<Self> {
        let bucket = match jetstream.get_object_store(&bucket.name).await {
            Ok(found) => found,
            Err(_) => jetstream
                .create_object_store(Config {
                    bucket: bucket.name.clone(),
                    description: Some(bucket.description.clone()),
                    num_replicas: bucket.replicas.max(1),
                    ..Default::default()
                })
                .await
                .with_context(|| format!("creating the object store {}", bucket.name))?,
        };
        Ok(Self { bucket })
    }
}

#[async_trait]
impl BlobStore for NatsObjectStore {
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        check_key(key)?;
        let mut reader = bytes.as_ref();
        self.bucket.put(key, &mut reader).await.with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        check_key(key)?;
        let mut object = match self.bucket.get(key).await {
            Ok(object) => object,
            Err(error) if error.kind() == GetErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("fetching {key}")),
        };
        let mut bytes = Vec::with_capacity(object.info().size);
        object.read_to_end(&mut bytes).await.with_context(|| format!("reading {key}"))?;
        Ok(Some(Bytes::from(bytes)))
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        check_key(key)?;
        match self.bucket.delete(key).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == DeleteErrorKind::NotFound => Ok(()),
            Err(error) => Err(error).with_context(|| format!("deleting {key}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ONEWINDOW_TEST_NATS_URL=nats://127.0.0.1:<port> cargo test -p onewindow-blobs -- --ignored nats_round_trip`
    /// against a throwaway nats-server with JetStream (`nats-server -p <port> -js -sd <dir>`).
    #[tokio::test]
    #[ignore = "needs a NATS server with JetStream: set ONEWINDOW_TEST_NATS_URL"]
    async fn nats_round_trip() {
        let url = std::env::var("ONEWINDOW_TEST_NATS_URL").expect("ONEWINDOW_TEST_NATS_URL");
        let client = async_nats::connect(url).await.expect("connect");
        let jetstream = jetstream::new(client);
        let bucket = Bucket { name: "onewindow-test".into(), description: "test".into(), replicas: 1 };
        let store = NatsObjectStore::open(&jetstream, &bucket).await.expect("bucket");
        // Opening again finds the bucket.
        let again = NatsObjectStore::open(&jetstream, &bucket).await.expect("bucket again");
        let key = format!("kaznu/{}/abc.pdf", uuid::Uuid::now_v7());
        assert_eq!(store.get(&key).await.expect("get"), None);
        let pdf = Bytes::from([b"%PDF-1.7\n".as_slice(), &vec![42u8; 300 * 1024]].concat());
        store.put(&key, pdf.clone()).await.expect("put");
        assert_eq!(again.get(&key).await.expect("get"), Some(pdf));
        store.delete(&key).await.expect("delete");
        assert_eq!(again.get(&key).await.expect("get"), None);
        store.delete(&key).await.expect("deleting again is no error");
        assert!(store.put("../x", Bytes::new()).await.is_err());
    }
}
