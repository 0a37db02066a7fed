use super::PortError;
use async_trait::async_trait;

/// An eventually consistent key-value cache (Workers KV; Spin's key-value store).
///
/// Only for data that can be rebuilt from the database: KV may serve a stale value for up to a
/// minute on Cloudflare, so nothing whose freshness matters for security is trusted from it
/// without a version check.
#[async_trait(?Send)]
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    /// Stores a value. `ttl_secs` is a hint for garbage collection; callers that need exact
    /// expiry store the deadline inside the value (see `crate::cache`).
    async fn put(&self, key: &str, value: &[u8], ttl_secs: Option<u64>) -> Result<(), PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
}
