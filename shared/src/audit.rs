//! The audit log: one row for every state-changing admin action (who, what, on which target,
//! in which request, and a before/after summary). Rows are written by the handler that made the
//! change, after the change succeeded; summaries never contain secrets.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::Row;
use crate::records::{self, FromRow, Listed, Listing};
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AuditEntry {
    pub id: String,
    pub actor_type: String,
    pub actor_id: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub request_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: i64,
}

impl FromRow for AuditEntry {
    fn from_row(r: &Row) -> ApiResult<AuditEntry> {
        let bad = || ApiError::internal("corrupt audit row");
        let json = |c: &str| r.text(c).and_then(|s| serde_json::from_str(&s).ok());
        Ok(AuditEntry {
            id: r.text("id").ok_or_else(bad)?,
            actor_type: r.text("actor_type").ok_or_else(bad)?,
            actor_id: r.text("actor_id").ok_or_else(bad)?,
            action: r.text("action").ok_or_else(bad)?,
            target_type: r.text("target_type").ok_or_else(bad)?,
            target_id: r.text("target_id").ok_or_else(bad)?,
            request_id: r.text("request_id").ok_or_else(bad)?,
            before: json("before"),
            after: json("after"),
            created_at: r.int("created_at").ok_or_else(bad)?,
        })
    }
}

impl Listed for AuditEntry {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

/// Records an action in `tenant_id`'s log, attributed to the request's caller.
pub async fn record(
    cx: &Ctx,
    tenant_id: &str,
    action: &str,
    target: (&str, &str),
    before: Option<Value>,
    after: Option<Value>,
) -> ApiResult<()> {
    let (actor_type, actor_id) = match &cx.principal {
        Some(p) => p.actor_ref(),
        None if cx.platform_admin => ("platform", "platform-admin".to_string()),
        None => ("anonymous", "-".to_string()),
    };
    let p = &cx.platform;
    p.db()?
        .execute(
            "INSERT INTO audit_logs (id, tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, before, after, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            &params![
                new_id(&*p.random, "aud"), tenant_id, actor_type, actor_id, action, target.0, target.1,
                cx.request_id.as_str(), before.map(|v| v.to_string()), after.map(|v| v.to_string()), cx.now()
            ],
        )
        .await?;
    Ok(())
}

/// Records an action no tenant credential made: the platform's own (the cron sweep, automatic
/// disabling) or a third party's (an OAuth redirect), named by `actor` (type, id).
pub async fn record_system(
    p: &crate::platform::Platform,
    tenant_id: &str,
    actor: (&str, &str),
    request_id: &str,
    action: &str,
    target: (&str, &str),
    after: Option<Value>,
) -> ApiResult<()> {
    p.db()?
        .execute(
            "INSERT INTO audit_logs (id, tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, before, after, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10)",
            &params![
                new_id(&*p.random, "aud"), tenant_id, actor.0, actor.1, action, target.0, target.1,
                request_id, after.map(|v| v.to_string()), p.now_ms()
            ],
        )
        .await?;
    Ok(())
}

pub async fn list(cx: &Ctx, tenant_id: &str, page: &PageRequest) -> ApiResult<Page<AuditEntry>> {
    let listing = Listing {
        table: "audit_logs",
        columns: "id, actor_type, actor_id, action, target_type, target_id, request_id, before, after, created_at",
    };
    records::page(cx.platform.db()?, &listing, Some(tenant_id), page).await
}
