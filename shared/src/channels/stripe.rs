//! Billing through Stripe: subscription events set the tenant's tier, which changes its rate
//! limits and features on its next request. The tenant is named in the subscription's metadata
//! (`tenant_id`, set when the checkout session is created); the tier in its metadata (`tier`) or
//! its price's `lookup_key`. Each subscription's state is kept on its own (events arrive out of
//! order: one older than the last seen for that subscription is ignored), and the tenant's tier
//! is the best any of its subscriptions entitles it to.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::tenancy::Tier;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, PartialEq)]
pub struct Change {
    pub tenant_id: String,
    pub subscription_id: String,
    pub tier: Tier,
    pub status: String,
    pub created: i64,
}

/// The parts of a Stripe event this module reads (`customer.subscription.*`).
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Subscription,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Subscription {
    id: String,
    status: String,
    metadata: BTreeMap<String, String>,
    items: Items,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Items {
    data: Vec<Item>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Item {
    price: Price,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Price {
    lookup_key: Option<String>,
    metadata: BTreeMap<String, String>,
}

/// What a subscription event means for the tenant, or `None` for events that change nothing
/// (or that are not subscription events as Stripe documents them).
pub fn interpret(event: &Value) -> Option<Change> {
    if !event
        .get("type")?
        .as_str()?
        .starts_with("customer.subscription.")
    {
        return None;
    }
    let event: Event = serde_json::from_value(event.clone()).ok()?;
    let sub = event.data.object;
    let tenant_id = sub.metadata.get("tenant_id")?.clone();
    let price = sub.items.data.first().map(|i| &i.price);
    let paid_tier = sub
        .metadata
        .get("tier")
        .or_else(|| price.and_then(|p| p.lookup_key.as_ref()))
        .or_else(|| price.and_then(|p| p.metadata.get("tier")))
        .and_then(|t| Tier::parse(t).ok())
        .unwrap_or(Tier::Pro);
    let tier = if event.kind == "customer.subscription.deleted" {
        Tier::Free
    } else {
        match sub.status.as_str() {
            "active" | "trialing" => paid_tier,
            "canceled" | "unpaid" | "incomplete_expired" => Tier::Free,
            // past_due, incomplete, paused: keep the current tier until Stripe decides.
            _ => return None,
        }
    };
    Some(Change {
        tenant_id,
        subscription_id: sub.id,
        tier,
        status: sub.status,
        created: event.created,
    })
}

/// Records a subscription's state if it is newer than the last one seen for that subscription,
/// then sets the tenant's tier to the best of its subscriptions; returns whether the tier
/// changed.
pub async fn apply(p: &Platform, c: &Change) -> ApiResult<bool> {
    let db = p.db()?;
    let Some(mut t) = crate::tenancy::store::get(db, &c.tenant_id).await? else {
        return Ok(false);
    };
    let newer = db
        .execute(
            "INSERT INTO billing_subscriptions (subscription_id, tenant_id, status, tier, event_created, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (subscription_id) DO UPDATE SET status = excluded.status, tier = excluded.tier,
               event_created = excluded.event_created, updated_at = excluded.updated_at
             WHERE excluded.event_created >= billing_subscriptions.event_created
               AND billing_subscriptions.tenant_id = excluded.tenant_id",
            &params![c.subscription_id.as_str(), c.tenant_id.as_str(), c.status.as_str(), c.tier.as_str(), c.created, p.now_ms()],
        )
        .await?;
    if newer == 0 {
        return Ok(false);
    }
    let rows = db
        .query(
            "SELECT tier FROM billing_subscriptions WHERE tenant_id = ?1",
            &params![c.tenant_id.as_str()],
        )
        .await?;
    let tier = rows
        .iter()
        .filter_map(|r| r.text("tier").and_then(|t| Tier::parse(&t).ok()))
        .max()
        .unwrap_or(Tier::Free);
    if t.tier == tier {
        return Ok(false);
    }
    t.tier = tier;
    let updated = crate::tenancy::store::update(db, &t, p.now_ms()).await?;
    crate::objects::gate::call_observe(p, &updated.id, updated.version).await?;
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, status: &str, meta: Value) -> Value {
        json!({"id": "evt_1", "type": kind, "created": 1_700_000_000, "data": {"object": {"id": "sub_1", "status": status, "metadata": meta, "items": {"data": [{"price": {"lookup_key": "enterprise"}}]}}}})
    }

    #[test]
    fn subscription_events_map_to_tiers() {
        let c = interpret(&event(
            "customer.subscription.created",
            "active",
            json!({"tenant_id": "ten_1", "tier": "pro"}),
        ))
        .unwrap();
        assert_eq!((c.tenant_id.as_str(), c.tier), ("ten_1", Tier::Pro));
        let c = interpret(&event(
            "customer.subscription.updated",
            "trialing",
            json!({"tenant_id": "ten_1"}),
        ))
        .unwrap();
        assert_eq!(
            c.tier,
            Tier::Enterprise,
            "the price's lookup key names the tier"
        );
        let c = interpret(&event(
            "customer.subscription.deleted",
            "canceled",
            json!({"tenant_id": "ten_1"}),
        ))
        .unwrap();
        assert_eq!(c.tier, Tier::Free);
        assert!(interpret(&event(
            "customer.subscription.updated",
            "past_due",
            json!({"tenant_id": "ten_1"})
        ))
        .is_none());
        assert!(
            interpret(&event("customer.subscription.created", "active", json!({}))).is_none(),
            "no tenant named"
        );
        assert!(interpret(&event(
            "invoice.paid",
            "active",
            json!({"tenant_id": "ten_1"})
        ))
        .is_none());
    }
}
