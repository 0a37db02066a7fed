//! Usage metering per tenant and day (AI answers and tokens), with tier quotas on paid model
//! calls: over quota, answers come from the offline responder instead.

use crate::error::ApiResult;
use crate::params;
use crate::ports::{SqlDatabase, Statement};

/// Answers a paid provider produced (the daily quota counts these; cached and offline answers
/// are free).
pub const PROVIDER_ANSWERS: &str = "ai_provider_answers";

pub fn add(tenant_id: &str, day: &str, metric: &str, n: i64) -> Statement {
    Statement::new(
        "INSERT INTO usage_counters (tenant_id, day, metric, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, day, metric) DO UPDATE SET value = value + excluded.value",
        params![tenant_id, day, metric, n],
    )
}

pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, day: &str, metric: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT value FROM usage_counters WHERE tenant_id = ?1 AND day = ?2 AND metric = ?3",
            &params![tenant_id, day, metric],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("value")).unwrap_or(0))
}

/// All counters of a tenant, newest day first.
pub async fn list(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<Vec<(String, String, i64)>> {
    let rows = db
        .query("SELECT day, metric, value FROM usage_counters WHERE tenant_id = ?1 ORDER BY day DESC, metric LIMIT 500", &params![tenant_id])
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.text("day").unwrap_or_default(),
                r.text("metric").unwrap_or_default(),
                r.int("value").unwrap_or(0),
            )
        })
        .collect())
}
