//! The outbound queue port over a Cloudflare Queues producer binding.

use async_trait::async_trait;
use prism_core::ports::{PortError, Queue};
use worker::MessageBuilder;

pub struct WorkersQueue(pub worker::Queue);

#[async_trait(?Send)]
impl Queue for WorkersQueue {
    async fn send(&self, body: &serde_json::Value, delay_secs: u32) -> Result<(), PortError> {
        // Sent as JSON text: a plain string survives the structured clone unchanged.
        let mut msg = MessageBuilder::new(body.to_string());
        if delay_secs > 0 {
            msg = msg.delay_seconds(delay_secs);
        }
        self.0
            .send(msg.build())
            .await
            .map_err(|e| PortError::new(e.to_string()))
    }
}
