use async_trait::async_trait;
use prism_core::ports::{KvStore, PortError};

/// Workers KV as the core's cache.
pub struct WorkersKv(pub worker::kv::KvStore);

/// Workers KV refuses TTLs below 60 seconds.
const MIN_TTL: u64 = 60;

#[async_trait(?Send)]
impl KvStore for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.0
            .get(key)
            .bytes()
            .await
            .map_err(|e| PortError::new(format!("kv get: {e}")))
    }

    async fn put(&self, key: &str, value: &[u8], ttl_secs: Option<u64>) -> Result<(), PortError> {
        let mut put = self
            .0
            .put_bytes(key, value)
            .map_err(|e| PortError::new(format!("kv put: {e}")))?;
        if let Some(ttl) = ttl_secs {
            put = put.expiration_ttl(ttl.max(MIN_TTL));
        }
        put.execute()
            .await
            .map_err(|e| PortError::new(format!("kv put: {e}")))
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0
            .delete(key)
            .await
            .map_err(|e| PortError::new(format!("kv delete: {e}")))
    }
}
