//! Background work the runtime hands over: queue messages (a reply to send on a messaging
//! channel, a webhook delivery to attempt) and the periodic sweep that re-dispatches anything
//! due whose queue message was lost. The adapters call these two and nothing else.

use crate::platform::Platform;
use serde_json::{json, Value};

/// One queue message: `{"webhook": id}` is an outgoing webhook delivery, `{"id": id}` an
/// outbound channel reply.
pub async fn consume(p: &Platform, body: &Value) {
    match body["webhook"].as_str() {
        Some(id) => crate::outgoing::delivery::consume(p, id).await,
        None => crate::channels::outbound::consume(p, body).await,
    }
}

/// Re-dispatches due channel replies and webhook deliveries; returns how many of each.
pub async fn sweep(p: &Platform, limit: i64) -> (usize, usize) {
    let replies = crate::channels::outbound::sweep(p, limit)
        .await
        .unwrap_or_else(|e| {
            p.log.log(
                &json!({"level": "error", "msg": "outbound sweep failed", "error": e.message})
                    .to_string(),
            );
            0
        });
    let webhooks = crate::outgoing::delivery::sweep(p, limit)
        .await
        .unwrap_or_else(|e| {
            p.log.log(
                &json!({"level": "error", "msg": "webhook sweep failed", "error": e.message})
                    .to_string(),
            );
            0
        });
    (replies, webhooks)
}
