//! Files in a key-value store, for runtimes without object storage (Spin) and native tests.
//! Values are split into chunks because key-value stores bound a value's size (Spin's cloud
//! store at 1 MiB); a small manifest records the chunk count and is written last, so a reader
//! never sees a half-written file, and removed first on delete.

use crate::ports::{BlobStore, KvStore, PortError};
use async_trait::async_trait;
use std::rc::Rc;

const CHUNK: usize = 512 * 1024;

pub struct KvBlobs {
    kv: Rc<dyn KvStore>,
}

impl KvBlobs {
    pub fn new(kv: Rc<dyn KvStore>) -> KvBlobs {
        KvBlobs { kv }
    }
}

fn manifest(key: &str) -> String {
    format!("blob:{key}")
}

fn chunk(key: &str, i: usize) -> String {
    format!("blob:{key}#{i}")
}

fn count(manifest: &[u8]) -> Result<usize, PortError> {
    std::str::from_utf8(manifest)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| PortError::new("corrupt blob manifest"))
}

#[async_trait(?Send)]
impl BlobStore for KvBlobs {
    async fn put(&self, key: &str, bytes: &[u8], _content_type: &str) -> Result<(), PortError> {
        let mut n = 0;
        for (i, part) in bytes.chunks(CHUNK).enumerate() {
            self.kv.put(&chunk(key, i), part, None).await?;
            n = i + 1;
        }
        self.kv
            .put(&manifest(key), n.to_string().as_bytes(), None)
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let Some(m) = self.kv.get(&manifest(key)).await? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for i in 0..count(&m)? {
            match self.kv.get(&chunk(key, i)).await? {
                Some(part) => out.extend_from_slice(&part),
                None => return Err(PortError::new("missing blob chunk")),
            }
        }
        Ok(Some(out))
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let Some(m) = self.kv.get(&manifest(key)).await? else {
            return Ok(());
        };
        self.kv.delete(&manifest(key)).await?;
        for i in 0..count(&m)? {
            self.kv.delete(&chunk(key, i)).await?;
        }
        Ok(())
    }
}
