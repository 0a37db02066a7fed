//! The tenant's retention period (`privacy.retention_days`): the cron sweep deletes
//! conversations whose last activity is older, everything recorded with them, and customers
//! left with no conversation, a bounded batch per run so one sweep stays inside a worker's
//! limits. Deletions are recorded in the audit log as counts.

use crate::conversations::client::Conversation;
use crate::error::{ApiResult, ErrorCode};
use crate::params;
use crate::platform::Platform;
use crate::ports::Statement;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// Tenants looked at per sweep (those with a retention period set).
const MAX_TENANTS: i64 = 500;

/// Customers without conversations deleted per tenant and sweep.
const CUSTOMER_BATCH: i64 = 200;

/// What one sweep deleted.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    pub conversations: usize,
    pub customers: usize,
}

/// Deletes up to `budget` expired conversations across tenants, oldest first per tenant.
pub async fn sweep(p: &Platform, budget: usize) -> ApiResult<Swept> {
    let db = p.db()?;
    let now = p.now_ms();
    let tenants = db
        .query(
            "SELECT tenant_id, CAST(json_extract(config, '$.privacy.retention_days') AS INTEGER) AS days
             FROM tenant_configs WHERE CAST(json_extract(config, '$.privacy.retention_days') AS INTEGER) > 0
             ORDER BY tenant_id LIMIT ?1",
            &params![MAX_TENANTS],
        )
        .await?;
    let mut swept = Swept::default();
    for t in &tenants {
        let (Some(tenant_id), Some(days)) = (t.text("tenant_id"), t.int("days")) else {
            continue;
        };
        let left = budget.saturating_sub(swept.conversations);
        let cutoff = now - days.clamp(1, 3650) * DAY_MS;
        let rows = db
            .query(
                "SELECT id FROM conversations WHERE tenant_id = ?1 AND COALESCE(last_message_at, created_at) < ?2
                 ORDER BY COALESCE(last_message_at, created_at), id LIMIT ?3",
                &params![tenant_id.as_str(), cutoff, left as i64],
            )
            .await?;
        let mut deleted = 0;
        for id in rows.iter().filter_map(|r| r.text("id")) {
            delete_conversation(p, &tenant_id, &id).await?;
            deleted += 1;
        }
        let customers = db
            .execute(
                "DELETE FROM customers WHERE tenant_id = ?1 AND id IN (
                   SELECT cu.id FROM customers cu WHERE cu.tenant_id = ?1 AND cu.updated_at < ?2
                   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = ?1 AND c.customer_id = cu.id)
                   AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.tenant_id = ?1 AND l.customer_id = cu.id)
                   LIMIT ?3)",
                &params![tenant_id.as_str(), cutoff, CUSTOMER_BATCH],
            )
            .await? as usize;
        db.execute(
            "DELETE FROM webhook_events WHERE rowid IN (
               SELECT rowid FROM webhook_events WHERE tenant_id = ?1 AND received_at < ?2 LIMIT ?3)",
            &params![tenant_id.as_str(), cutoff, CUSTOMER_BATCH],
        )
        .await?;
        if deleted + customers > 0 {
            crate::audit::record_system(
                p,
                &tenant_id,
                ("platform", "scheduler"),
                "-",
                "retention.deleted",
                ("tenant", &tenant_id),
                Some(json!({ "retention_days": days, "conversations": deleted, "customers": customers })),
            )
            .await?;
        }
        swept.conversations += deleted;
        swept.customers += customers;
        if swept.conversations >= budget {
            break;
        }
    }
    Ok(swept)
}

/// Deletes one conversation everywhere: its object first (so nothing it still holds can be
/// mirrored back), then every tenant-wide row recorded with it.
pub async fn delete_conversation(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<()> {
    if p.objects.is_some() {
        match Conversation::new(p, tenant_id, conversation_id)
            .purge()
            .await
        {
            Ok(()) => {}
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let (t, c) = (tenant_id, conversation_id);
    // Files: bytes then rows (a failure here is retried by the next sweep).
    crate::files::store::delete_conversations(p, t, &[c.to_string()]).await?;
    let prefix = super::event_prefix(c);
    let mut stmts = Vec::new();
    for table in [
        "conversation_messages",
        "message_analysis",
        "message_ratings",
        "surveys",
        "conversation_summaries",
        "reviews",
        "outbound_messages",
        "email_threads",
        "voice_calls",
    ] {
        stmts.push(Statement::new(
            format!("DELETE FROM {table} WHERE tenant_id = ?1 AND conversation_id = ?2"),
            params![t, c],
        ));
    }
    stmts.push(Statement::new(
        "DELETE FROM webhook_attempts WHERE tenant_id = ?1 AND delivery_id IN (
           SELECT id FROM webhook_deliveries WHERE tenant_id = ?1 AND substr(event_id, 1, length(?2)) = ?2)",
        params![t, prefix.as_str()],
    ));
    stmts.push(Statement::new(
        "DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND substr(event_id, 1, length(?2)) = ?2",
        params![t, prefix.as_str()],
    ));
    stmts.push(Statement::new(
        "DELETE FROM conversations WHERE tenant_id = ?1 AND id = ?2",
        params![t, c],
    ));
    p.db()?.batch(stmts).await?;
    Ok(())
}
