use async_trait::async_trait;
use prism_core::ports::{BlobStore, PortError};

/// An R2 bucket as the core's file store.
pub struct R2(pub worker::Bucket);

fn err(op: &str, e: worker::Error) -> PortError {
    PortError::new(format!("r2 {op}: {e}"))
}

#[async_trait(?Send)]
impl BlobStore for R2 {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), PortError> {
        self.0
            .put(key, bytes.to_vec())
            .http_metadata(worker::HttpMetadata {
                content_type: Some(content_type.to_string()),
                ..Default::default()
            })
            .execute()
            .await
            .map(|_| ())
            .map_err(|e| err("put", e))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let Some(object) = self.0.get(key).execute().await.map_err(|e| err("get", e))? else {
            return Ok(None);
        };
        match object.body() {
            Some(body) => body.bytes().await.map(Some).map_err(|e| err("read", e)),
            None => Ok(None),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0.delete(key).await.map_err(|e| err("delete", e))
    }
}
