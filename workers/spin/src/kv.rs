use async_trait::async_trait;
use prism_core::ports::{KvStore, PortError};
use spin_sdk::key_value::Store;

/// Spin's default key-value store as the core's cache. Spin stores have no TTL; the hint is
/// ignored (the core keeps exact deadlines inside cached values).
pub struct SpinKv(Store);

impl SpinKv {
    pub async fn open() -> Option<SpinKv> {
        Store::open_default().await.ok().map(SpinKv)
    }
}

fn err(op: &str, e: impl std::fmt::Debug) -> PortError {
    PortError::new(format!("spin kv {op}: {e:?}"))
}

#[async_trait(?Send)]
impl KvStore for SpinKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.0.get(key).await.map_err(|e| err("get", e))
    }
    async fn put(&self, key: &str, value: &[u8], _ttl: Option<u64>) -> Result<(), PortError> {
        self.0.set(key, value).await.map_err(|e| err("set", e))
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0.delete(key).await.map_err(|e| err("delete", e))
    }
}
