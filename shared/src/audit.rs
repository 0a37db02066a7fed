//! The audit log: one row for every state-changing admin action (who, what, on which target,
//! in which request, and a before/after summary). Rows are written by the handler that made the
//! change, after the change succeeded; summaries never contain secrets.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::Row;
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

impl AuditEntry {
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

pub async fn list(cx: &Ctx, tenant_id: &str, page: &PageRequest) -> ApiResult<Page<AuditEntry>> {
    let (clause, extra) = page.after_clause(2);
    let mut p = vec![tenant_id.into()];
    p.extend(extra);
    let rows = cx
        .platform
        .db()?
        .query(
            &format!(
                "SELECT id, actor_type, actor_id, action, target_type, target_id, request_id, before, after, created_at
                 FROM audit_logs WHERE tenant_id = ?1{clause} ORDER BY created_at, id LIMIT {}",
                page.limit + 1
            ),
            &p,
        )
        .await?;
    let items = rows
        .iter()
        .map(AuditEntry::from_row)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, |a| {
        (a.created_at, a.id.clone())
    }))
}
