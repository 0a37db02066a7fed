//! The webhook ledger: every accepted event is recorded once, before it is processed, so a
//! retried webhook is acknowledged without being processed twice, and one whose processing
//! failed is processed again on the provider's retry (nothing is lost).

use crate::error::ApiResult;
use crate::params;
use crate::ports::SqlDatabase;

#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// New (or previously failed): process it.
    Process,
    /// Already processed: acknowledge and do nothing.
    Duplicate,
}

/// Where an event id is unique: per tenant for the per-tenant webhook URLs, platform-wide
/// (`Scope::Platform`) for Stripe, whose one account serves the whole platform.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    Tenant(&'a str),
    Platform,
}

impl Scope<'_> {
    fn key(&self) -> &str {
        match self {
            Scope::Tenant(t) => t,
            Scope::Platform => "",
        }
    }
}

pub async fn admit(
    db: &dyn SqlDatabase,
    provider: &str,
    scope: Scope<'_>,
    event_id: &str,
    tenant_id: Option<&str>,
    body: &str,
    now: i64,
) -> ApiResult<Admission> {
    let inserted = db
        .execute(
            "INSERT INTO webhook_events (provider, scope, event_id, tenant_id, status, body, received_at) VALUES (?1, ?2, ?3, ?4, 'received', ?5, ?6)
             ON CONFLICT (provider, scope, event_id) DO NOTHING",
            &params![provider, scope.key(), event_id, tenant_id, body, now],
        )
        .await?;
    if inserted == 1 {
        return Ok(Admission::Process);
    }
    let rows = db
        .query(
            "SELECT status FROM webhook_events WHERE provider = ?1 AND scope = ?2 AND event_id = ?3",
            &params![provider, scope.key(), event_id],
        )
        .await?;
    Ok(
        match rows.first().and_then(|r| r.text("status")).as_deref() {
            Some("processed") => Admission::Duplicate,
            _ => Admission::Process,
        },
    )
}

pub async fn finish(
    db: &dyn SqlDatabase,
    provider: &str,
    scope: Scope<'_>,
    event_id: &str,
    error: Option<&str>,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "UPDATE webhook_events SET status = ?4, error = ?5, processed_at = ?6 WHERE provider = ?1 AND scope = ?2 AND event_id = ?3",
        &params![provider, scope.key(), event_id, if error.is_some() { "failed" } else { "processed" }, error, now],
    )
    .await?;
    Ok(())
}
