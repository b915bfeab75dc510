//! Where issued PDFs are kept: a small port, with a directory and a NATS object store behind it.
//!
//! The event log keeps only a document's blob key and hash; the bytes live here. Keys are written once and never
//! changed (they name the PDF's hash), so a store needs no locking.

mod fs;
mod nats;

use async_trait::async_trait;
use bytes::Bytes;

pub use fs::FsBlobStore;
pub use nats::NatsObjectStore;

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing what was there. Done only once the whole blob is stored.
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()>;
    /// The blob under `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>>;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_store() {
        assert!(check_key("kaznu/0193/ab12.pdf").is_ok());
        for bad in ["", "/etc/passwd", "kaznu/../x.pdf", "..", "kaznu//x", "kaznu/./x", "a/b/", "a\\b", "a b", "x..pdf"]
        {
            assert_eq!(check_key(bad), Err(InvalidKey(bad.to_owned())), "{bad:?}");
        }
    }
}
