use super::PortError;
use async_trait::async_trait;

/// Durable storage for files (Cloudflare R2; on Spin, the key-value store in chunks through
/// [`crate::files::KvBlobs`]).
///
/// Whole objects only: uploads are bounded by the route's body limit and the tenant's per-file
/// limit before they reach here, so nothing unbounded is ever held. Keys are chosen by the core
/// (`t/<tenant>/c/<conversation>/<file>`), never by a client.
#[async_trait(?Send)]
pub trait BlobStore {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), PortError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
}
