//! The calling tenant's own settings: summary, typed configuration, feature flags and usage.

use crate::audit;
use crate::auth::credentials;
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
    let tenant = tenants::get_required(db, cx.tenant_id()?).await?;
    let features = flags::effective(db, &tenant.id).await?;
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
    #[schemars(with = "Vec<serde_json::Value>")]
    pub days: Vec<crate::objects::gate::UsageDay>,
}

pub async fn usage(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let days = crate::objects::gate::call_usage(&cx.platform, cx.tenant_id()?).await?;
    Ok(Response::json(200, &Usage { days }))
}
