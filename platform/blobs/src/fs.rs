//! Blobs as files under one directory (the embedded mode, tests).

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
};

use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::{BlobStore, check_key};

pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    /// Writes a temporary file beside the target, syncs it, then renames it into place: a crash leaves either no
    /// file or the whole file, never half a PDF under the real key.
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().context("a blob key names a file")?.to_owned();
        tokio::fs::create_dir_all(&dir).await.with_context(|| format!("creating {}", dir.display()))?;
        let temporary = dir.join(format!(".{}.tmp", Uuid::now_v7()));
        let written = async {
            let mut file = tokio::fs::File::create(&temporary).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temporary, &path).await
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error).with_context(|| format!("writing {}", path.display()));
        }
        sync_dir(dir).await
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Removes the file, then syncs its directory so the removal survives a power cut too.
    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error).with_context(|| format!("removing {}", path.display())),
        }
        match path.parent() {
            Some(dir) => sync_dir(dir.to_owned()).await,
            None => Ok(()),
        }
    }
}

/// Makes the rename itself durable: on Linux a new directory entry survives a power cut only once the directory
/// is synced.
async fn sync_dir(dir: PathBuf) -> anyhow::Result<()> {
    #[cfg(unix)]
    tokio::task::spawn_blocking(move || std::fs::File::open(Path::new(&dir))?.sync_all())
        .await?
        .context("syncing the blob directory")?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("onewindow-blobs-{}", Uuid::now_v7()))
    }

    #[tokio::test]
    async fn round_trip() {
        let root = temp_dir();
        let store = FsBlobStore::new(&root);
        assert_eq!(store.get("kaznu/doc/abc.pdf").await.expect("get"), None);
        store.put("kaznu/doc/abc.pdf", Bytes::from_static(b"%PDF-1.7 one")).await.expect("put");
        store.put("kaznu/doc/abc.pdf", Bytes::from_static(b"%PDF-1.7 two")).await.expect("put again");
        assert_eq!(store.get("kaznu/doc/abc.pdf").await.expect("get"), Some(Bytes::from_static(b"%PDF-1.7 two")));
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(root.join("kaznu/doc"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["abc.pdf".to_owned()]);
        store.delete("kaznu/doc/abc.pdf").await.expect("delete");
        assert_eq!(store.get("kaznu/doc/abc.pdf").await.expect("get"), None);
        assert!(!root.join("kaznu/doc/abc.pdf").exists());
        store.delete("kaznu/doc/abc.pdf").await.expect("deleting again is no error");
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn keys_that_leave_the_directory_are_refused() {
        let root = temp_dir();
        let store = FsBlobStore::new(root.join("store"));
        assert!(store.put("../escaped.pdf", Bytes::from_static(b"x")).await.is_err());
        assert!(store.put("kaznu/../../escaped.pdf", Bytes::from_static(b"x")).await.is_err());
        assert!(store.get("../escaped.pdf").await.is_err());
        assert!(store.delete("../escaped.pdf").await.is_err());
        assert!(!root.join("escaped.pdf").exists());
        let _ = std::fs::remove_dir_all(root);
    }
}
