use super::PortError;
use async_trait::async_trait;

/// A durable work queue (Cloudflare Queues). The core only enqueues ids of rows it has already
/// written (the outbox is the source of truth), so a lost or repeated queue message can delay a
/// send but never lose or duplicate one. Runtimes without a queue deliver inline and rely on the
/// outbox sweep for retries.
#[async_trait(?Send)]
pub trait Queue {
    async fn send(&self, body: &serde_json::Value, delay_secs: u32) -> Result<(), PortError>;
}
