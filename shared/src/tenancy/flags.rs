//! Feature flags per tenant. The set of flags is closed (a typo is a 422, not a new flag) and
//! every flag has a default, so a tenant without rows behaves predictably.

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::platform::Platform;
use crate::ports::{Row, SqlDatabase, Statement};
use std::collections::BTreeMap;

/// Every flag with its default. Each switches a feature off where it is used:
/// - `ai_answers`: the assistant answers customers (off: every message waits for the team);
/// - `human_handoff`: conversations may be handed to the team;
/// - `knowledge_base`: answers are grounded in the knowledge base and it can be searched (off:
///   providers answer from the persona and instructions alone; the built-in responder hands over);
/// - `analytics`: the reports (`/v1/ratings`);
/// - `leads`: lead capture, the leads API and the widget's pre-chat form;
/// - `surveys`: satisfaction surveys after resolution, and their results. Off by default: a
///   tenant decides to ask its customers.
///
/// Channels have no flag: a channel is on when its settings are in the tenant config.
pub const FLAGS: &[(&str, bool)] = &[
    ("ai_answers", true),
    ("human_handoff", true),
    ("knowledge_base", true),
    ("analytics", true),
    ("leads", true),
    ("surveys", false),
];

pub fn check_name(flag: &str) -> ApiResult<()> {
    if FLAGS.iter().any(|(f, _)| *f == flag) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "flag",
            format!("unknown feature flag {flag:?}"),
        ))
    }
}

/// The tenant's effective flags (defaults overlaid with its settings).
pub async fn effective(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<BTreeMap<String, bool>> {
    let s = effective_query(tenant_id);
    Ok(effective_from(db.query(&s.sql, &s.params).await?))
}

/// How long a tenant's flags may be served from isolate memory on hot paths (the AI-answer
/// check runs on every customer message): a change applies everywhere within this time (plus
/// [`crate::memo::REFRESH_GRACE_MS`] while a reload is in flight), and at once in the isolate
/// that made it.
pub const MEMO_TTL_MS: i64 = 5_000;

pub fn memo_key(tenant_id: &str) -> String {
    format!("flags:{tenant_id}")
}

/// [`effective`] through the isolate memo (see [`MEMO_TTL_MS`]).
pub async fn effective_cached(p: &Platform, tenant_id: &str) -> ApiResult<BTreeMap<String, bool>> {
    let key = memo_key(tenant_id);
    let now = p.now_ms();
    if let Some(v) = p.memo.get_json_or_claim(&key, now) {
        return Ok(v);
    }
    let v = effective(p.db()?, tenant_id).await?;
    p.memo.put_json(&key, &v, MEMO_TTL_MS, now);
    Ok(v)
}

/// Whether `flag` is on for the tenant (through the isolate memo).
pub async fn enabled(p: &Platform, tenant_id: &str, flag: &str) -> ApiResult<bool> {
    Ok(effective_cached(p, tenant_id)
        .await?
        .get(flag)
        .copied()
        .unwrap_or(false))
}

/// Refuses (403) when `flag` is off, naming the flag.
pub async fn require(p: &Platform, tenant_id: &str, flag: &str) -> ApiResult<()> {
    if enabled(p, tenant_id, flag).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            crate::error::ErrorCode::Forbidden,
            format!("this feature is off for the workspace (feature flag `{flag}`)"),
        ))
    }
}

/// The read behind [`effective`], for callers batching it with others.
pub fn effective_query(tenant_id: &str) -> Statement {
    Statement::new(
        "SELECT flag, enabled FROM tenant_feature_flags WHERE tenant_id = ?1",
        params![tenant_id],
    )
}

/// Defaults overlaid with the rows of [`effective_query`].
pub fn effective_from(rows: Vec<Row>) -> BTreeMap<String, bool> {
    let mut out: BTreeMap<String, bool> = FLAGS.iter().map(|(f, d)| (f.to_string(), *d)).collect();
    for r in rows {
        if let (Some(f), Some(e)) = (r.text("flag"), r.int("enabled")) {
            if let Some(v) = out.get_mut(&f) {
                *v = e != 0;
            }
        }
    }
    out
}

pub async fn is_enabled(db: &dyn SqlDatabase, tenant_id: &str, flag: &str) -> ApiResult<bool> {
    Ok(effective(db, tenant_id)
        .await?
        .get(flag)
        .copied()
        .unwrap_or(false))
}

pub async fn set(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    flag: &str,
    enabled: bool,
    now: i64,
) -> ApiResult<()> {
    check_name(flag)?;
    db.execute(
        "INSERT INTO tenant_feature_flags (tenant_id, flag, enabled, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, flag) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        &params![tenant_id, flag, enabled, now],
    )
    .await?;
    Ok(())
}
