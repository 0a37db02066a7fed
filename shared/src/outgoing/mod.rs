//! Outgoing webhooks: tenants subscribe HTTPS endpoints to conversation events and receive them
//! signed in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), delivered at least once through the queue with retries, every attempt
//! logged, replayable.
//!
//! Flow: a conversation object's change → its mirror outbox → `events::from_outbox` (events
//! with stable ids) → `delivery::record` (one row per subscribed endpoint, in the flush that
//! applies the change, retried with it) → queue → `delivery::deliver`.

pub mod delivery;
pub mod endpoints;
pub mod events;

use crate::platform::Platform;

fn memo_key(tenant_id: &str) -> String {
    format!("webhook-endpoints:{tenant_id}")
}

/// Forgets the isolate's list of a tenant's endpoints (after a change to them).
fn memo_forget(p: &Platform, tenant_id: &str) {
    p.memo.forget(&memo_key(tenant_id));
}
