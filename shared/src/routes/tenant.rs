//! The calling tenant's own settings: summary, typed configuration, feature flags and usage.

use crate::audit;
use crate::auth::credentials;
use crate::egress;
use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::input;
use crate::ratelimit::RateLimits;
use crate::router::Ctx;
use crate::tenancy::{flags, store as tenants, Tenant, TenantConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Serialize, JsonSchema)]
pub struct TenantSummary {
    pub tenant: Tenant,
    /// Effective limits: `count` requests per `period_ms`.
    #[schemars(with = "serde_json::Value")]
    pub limits: RateLimits,
    pub features: BTreeMap<String, bool>,
}

pub async fn get(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let db = cx.platform.db()?;
    let id = cx.tenant_id()?;
    // One round trip for both reads.
    let mut rows = db
        .query_batch(vec![tenants::get_query(id), flags::effective_query(id)])
        .await?
        .into_iter();
    let tenant = tenants::get_from(&rows.next().unwrap_or_default())?
        .ok_or_else(|| crate::error::ApiError::not_found("tenant"))?;
    let features = flags::effective_from(rows.next().unwrap_or_default());
    Ok(Response::json(
        200,
        &TenantSummary {
            limits: tenant.rate_limits(),
            tenant,
            features,
        },
    ))
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionedConfig {
    /// The version this configuration was read at; a write must send it back unchanged.
    pub version: i64,
    pub config: TenantConfig,
}

pub async fn get_config(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let (config, version) = tenants::config(cx.platform.db()?, cx.tenant_id()?).await?;
    Ok(Response::json(200, &VersionedConfig { version, config }))
}

pub async fn put_config(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: VersionedConfig = input::json(&req)?;
    body.config.validate()?;
    for (i, provider) in body.config.ai.providers.iter().enumerate() {
        if let Some(u) = &provider.base_url {
            egress::guard(&cx.platform, &format!("ai.providers[{i}].base_url"), u)?;
        }
    }
    if let Some(u) = &body.config.channels.public_base_url {
        egress::guard(&cx.platform, "channels.public_base_url", u)?;
    }
    let tenant_id = cx.tenant_id()?;
    let db = cx.platform.db()?;
    let (before, _) = tenants::config(db, tenant_id).await?;
    let version = tenants::put_config(db, tenant_id, &body.config, body.version, cx.now()).await?;
    if before.allowed_origins != body.config.allowed_origins {
        // Origins are part of cached credentials.
        credentials::tenant_changed(&cx.platform, tenant_id).await?;
    }
    audit::record(
        cx,
        tenant_id,
        "config.update",
        ("tenant_config", tenant_id),
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&body.config).ok(),
    )
    .await?;
    Ok(Response::json(
        200,
        &VersionedConfig {
            version,
            config: body.config,
        },
    ))
}

#[derive(Serialize, JsonSchema)]
pub struct Features {
    pub features: BTreeMap<String, bool>,
}

pub async fn get_features(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let features = flags::effective(cx.platform.db()?, cx.tenant_id()?).await?;
    Ok(Response::json(200, &Features { features }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFeature {
    pub enabled: bool,
}

pub async fn set_feature(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let flag = req.param("flag").to_string();
    flags::check_name(&flag)?;
    let body: SetFeature = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let db = cx.platform.db()?;
    let before = flags::is_enabled(db, tenant_id, &flag).await?;
    flags::set(db, tenant_id, &flag, body.enabled, cx.now()).await?;
    cx.platform.memo.forget(&flags::memo_key(tenant_id));
    audit::record(
        cx,
        tenant_id,
        "feature.set",
        ("feature_flag", &flag),
        Some(json!({ "enabled": before })),
        Some(json!({ "enabled": body.enabled })),
    )
    .await?;
    let features = flags::effective(db, tenant_id).await?;
    Ok(Response::json(200, &Features { features }))
}

#[derive(Serialize, JsonSchema)]
pub struct Usage {
    /// API requests per day (allowed and rate limited), from the tenant's gate.
    #[schemars(with = "Vec<serde_json::Value>")]
    pub days: Vec<crate::objects::gate::UsageDay>,
    /// Metered counters per day: `ai_answers`, `ai_tokens_in`, `ai_tokens_out`, …
    #[schemars(with = "Vec<serde_json::Value>")]
    pub counters: Vec<serde_json::Value>,
}

pub async fn usage(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let days = crate::objects::gate::call_usage(&cx.platform, tenant_id).await?;
    let counters = crate::ai::usage::list(cx.platform.db()?, tenant_id)
        .await?
        .into_iter()
        .map(|(day, metric, value)| json!({ "day": day, "metric": metric, "value": value }))
        .collect();
    Ok(Response::json(200, &Usage { days, counters }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    pub value: String,
}

#[derive(Serialize, JsonSchema)]
pub struct SecretNames {
    /// Names only: secret values are write-only.
    pub names: Vec<String>,
}

/// Stores a tenant secret (a provider API key), referenced by name from the AI configuration.
pub async fn put_secret(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let name = req.param("name").to_string();
    crate::ai::config::check_secret_name("name", &name)?;
    let body: SecretValue = input::json(&req)?;
    crate::input::check::text("value", &body.value, 1, 4096)?;
    let tenant_id = cx.tenant_id()?;
    crate::tenancy::secrets::put(&cx.platform, tenant_id, &name, &body.value, cx.now()).await?;
    audit::record(
        cx,
        tenant_id,
        "secret.set",
        ("tenant_secret", &name),
        None,
        None,
    )
    .await?;
    Ok(Response::new(204))
}

pub async fn delete_secret(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let name = req.param("name").to_string();
    let tenant_id = cx.tenant_id()?;
    let n = cx
        .platform
        .db()?
        .execute(
            "DELETE FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2",
            &crate::params![tenant_id, name.as_str()],
        )
        .await?;
    if n == 0 {
        return Err(crate::error::ApiError::not_found("secret"));
    }
    audit::record(
        cx,
        tenant_id,
        "secret.delete",
        ("tenant_secret", &name),
        None,
        None,
    )
    .await?;
    Ok(Response::new(204))
}

pub async fn list_secrets(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT name FROM tenant_secrets WHERE tenant_id = ?1 ORDER BY name",
            &crate::params![cx.tenant_id()?],
        )
        .await?;
    Ok(Response::json(
        200,
        &SecretNames {
            names: rows.iter().filter_map(|r| r.text("name")).collect(),
        },
    ))
}
