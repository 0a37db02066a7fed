//! Background work the runtime hands over: queue messages (a reply to send on a messaging
//! channel, a webhook delivery to attempt) and the periodic sweep that re-dispatches anything
//! due whose queue message was lost. The adapters call these two and nothing else.

use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use serde_json::{json, Value};

/// Puts row ids on the queue as `{key: id}`, delivered after `delay_ms` (the queue's delay is
/// whole seconds, at most 12 hours). A failed send is logged and left to the sweep: the row is
/// still due, so nothing is lost.
pub async fn enqueue(p: &Platform, key: &str, ids: &[String], delay_ms: i64) {
    let Some(queue) = &p.queue else { return };
    let secs = (delay_ms.max(0) as u64).div_ceil(1000).min(43_200) as u32;
    for id in ids {
        let mut message = serde_json::Map::new();
        message.insert(key.to_string(), Value::String(id.clone()));
        if let Err(e) = queue.send(&Value::Object(message), secs).await {
            p.log.log(
                &json!({"level": "warn", "msg": "enqueue failed; the sweep will send it", "queue_key": key, "id": id, "error": e.0})
                    .to_string(),
            );
        }
    }
}

/// Ids of `table`'s rows that are due (`queued`, or `sending` past their lease), the longest
/// waiting first. `table` is one of the outbox tables, never outside input.
pub async fn due(p: &Platform, table: &'static str, limit: i64) -> ApiResult<Vec<String>> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT id FROM {table} WHERE status IN ('queued', 'sending') AND next_attempt_at <= ?1 ORDER BY next_attempt_at LIMIT ?2"),
            &params![p.now_ms(), limit],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| r.text("id")).collect())
}

/// Expired conversations deleted per sweep (the cron runs every minute).
const RETENTION_BATCH: usize = 50;

/// One queue message: `{"webhook": id}` is an outgoing webhook delivery, `{"id": id}` an
/// outbound channel reply.
pub async fn consume(p: &Platform, body: &Value) {
    if body.get("probe").is_some() {
        // `/health?deep=1` checking the queue: delivered, nothing to do.
    } else if let Some(id) = body["webhook"].as_str() {
        crate::outgoing::delivery::consume(p, id).await
    } else if let Some(id) = body["crm"].as_str() {
        crate::crm::jobs::consume(p, id).await
    } else if let Some(key) = body["summary"].as_str() {
        crate::summaries::consume(p, key).await
    } else if let Some(key) = body["review"].as_str() {
        crate::quality::ai_review::consume(p, key).await
    } else {
        crate::channels::outbound::consume(p, body).await
    }
}

/// Re-dispatches due channel replies and webhook deliveries (returns how many of each), sends
/// delayed surveys, and deletes conversations past their tenant's retention period.
pub async fn sweep(p: &Platform, limit: i64) -> (usize, usize) {
    if let Err(e) = crate::privacy::retention::sweep(p, RETENTION_BATCH).await {
        p.log.log(
            &json!({"level": "error", "msg": "retention sweep failed", "error": e.message})
                .to_string(),
        );
    }
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
    if let Err(e) = crate::surveys::trigger::sweep(p, limit).await {
        p.log.log(
            &json!({"level": "error", "msg": "survey sweep failed", "error": e.message})
                .to_string(),
        );
    }
    if let Err(e) = crate::crm::jobs::sweep(p, limit).await {
        p.log.log(
            &json!({"level": "error", "msg": "CRM sweep failed", "error": e.message}).to_string(),
        );
    }
    (replies, webhooks)
}
