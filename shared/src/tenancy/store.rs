//! Reading and writing tenants and their configuration.

use super::{TenantConfig, TenantStatus, Tier};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Row, SqlDatabase, Statement};
use crate::ratelimit::{LimitOverrides, RateLimits};
use crate::records::{self, FromRow, Listed, Listing};
use schemars::JsonSchema;
use serde::Serialize;

/// A tenant as the API shows it (never includes the identity secret).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub tier: Tier,
    pub status: TenantStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitOverrides>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Tenant {
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits::for_tier(self.tier, self.limits.as_ref())
    }
}

impl FromRow for Tenant {
    fn from_row(r: &Row) -> ApiResult<Tenant> {
        let bad = || ApiError::internal("corrupt tenant row");
        Ok(Tenant {
            id: r.text("id").ok_or_else(bad)?,
            slug: r.text("slug").ok_or_else(bad)?,
            name: r.text("name").ok_or_else(bad)?,
            tier: Tier::parse(&r.text("tier").ok_or_else(bad)?).map_err(|_| bad())?,
            status: TenantStatus::parse(&r.text("status").ok_or_else(bad)?).map_err(|_| bad())?,
            limits: r.text("limits").and_then(|s| serde_json::from_str(&s).ok()),
            version: r.int("version").ok_or_else(bad)?,
            created_at: r.int("created_at").ok_or_else(bad)?,
            updated_at: r.int("updated_at").ok_or_else(bad)?,
        })
    }
}

impl Listed for Tenant {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

const COLUMNS: &str = "id, slug, name, tier, status, limits, version, created_at, updated_at";

/// Statements that create a tenant with its default configuration (to run in one batch with
/// its first user and keys).
pub fn insert_statements(
    t: &Tenant,
    identity_secret: &str,
    config: &TenantConfig,
) -> ApiResult<Vec<Statement>> {
    let config = serde_json::to_string(config).map_err(|e| ApiError::internal(e.to_string()))?;
    let limits: Option<String> = t
        .limits
        .as_ref()
        .and_then(|l| serde_json::to_string(l).ok());
    Ok(vec![
        Statement::new(
            "INSERT INTO tenants (id, slug, name, tier, status, limits, identity_secret, version, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                t.id.as_str(), t.slug.as_str(), t.name.as_str(), t.tier.as_str(), t.status.as_str(),
                limits, identity_secret, t.version, t.created_at
            ],
        ),
        Statement::new(
            "INSERT INTO tenant_configs (tenant_id, version, config, updated_at) VALUES (?1, 1, ?2, ?3)",
            params![t.id.as_str(), config, t.created_at],
        ),
    ])
}

pub async fn slug_taken(db: &dyn SqlDatabase, slug: &str) -> ApiResult<bool> {
    Ok(!db
        .query("SELECT 1 AS x FROM tenants WHERE slug = ?1", &params![slug])
        .await?
        .is_empty())
}

/// The tenant with this slug (how people name their workspace when they sign in).
pub async fn by_slug(db: &dyn SqlDatabase, slug: &str) -> ApiResult<Option<Tenant>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?1"),
            &crate::params![slug],
        )
        .await?;
    records::first(&rows)
}

pub async fn get(db: &dyn SqlDatabase, id: &str) -> ApiResult<Option<Tenant>> {
    let s = get_query(id);
    get_from(&db.query(&s.sql, &s.params).await?)
}

/// The read behind [`get`], for callers batching it with others.
pub fn get_query(id: &str) -> Statement {
    Statement::new(
        format!("SELECT {COLUMNS} FROM tenants WHERE id = ?1"),
        params![id],
    )
}

pub fn get_from(rows: &[Row]) -> ApiResult<Option<Tenant>> {
    records::first(rows)
}

pub async fn get_required(db: &dyn SqlDatabase, id: &str) -> ApiResult<Tenant> {
    get(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))
}

pub async fn list(db: &dyn SqlDatabase, page: &PageRequest) -> ApiResult<Page<Tenant>> {
    let listing = Listing {
        table: "tenants",
        columns: COLUMNS,
    };
    records::page(db, &listing, None, page).await
}

/// Writes tier, status, name and limits, bumping the version so cached credentials re-check.
pub async fn update(db: &dyn SqlDatabase, t: &Tenant, now: i64) -> ApiResult<Tenant> {
    let limits: Option<String> = t
        .limits
        .as_ref()
        .and_then(|l| serde_json::to_string(l).ok());
    db.execute(
        "UPDATE tenants SET name = ?2, tier = ?3, status = ?4, limits = ?5, version = version + 1, updated_at = ?6 WHERE id = ?1",
        &params![t.id.as_str(), t.name.as_str(), t.tier.as_str(), t.status.as_str(), limits, now],
    )
    .await?;
    get_required(db, &t.id).await
}

/// Bumps the tenant's version (after a change to its keys, users or origins) and returns it.
pub async fn bump_version(db: &dyn SqlDatabase, tenant_id: &str, now: i64) -> ApiResult<i64> {
    db.execute(
        "UPDATE tenants SET version = version + 1, updated_at = ?2 WHERE id = ?1",
        &params![tenant_id, now],
    )
    .await?;
    let rows = db
        .query(
            "SELECT version FROM tenants WHERE id = ?1",
            &params![tenant_id],
        )
        .await?;
    rows.first()
        .and_then(|r| r.int("version"))
        .ok_or_else(|| ApiError::not_found("tenant"))
}

/// The tenant's configuration and its version.
pub async fn config(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<(TenantConfig, i64)> {
    let rows = db
        .query(
            "SELECT config, version FROM tenant_configs WHERE tenant_id = ?1",
            &params![tenant_id],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok((TenantConfig::default(), 0));
    };
    let cfg = r
        .text("config")
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Ok((cfg, r.int("version").unwrap_or(0)))
}

/// Replaces the configuration if its version is still `expected_version`; 409 otherwise.
pub async fn put_config(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    cfg: &TenantConfig,
    expected_version: i64,
    now: i64,
) -> ApiResult<i64> {
    let json = serde_json::to_string(cfg).map_err(|e| ApiError::internal(e.to_string()))?;
    let changed = db
        .execute(
            "UPDATE tenant_configs SET config = ?2, version = version + 1, updated_at = ?3 WHERE tenant_id = ?1 AND version = ?4",
            &params![tenant_id, json, now, expected_version],
        )
        .await?;
    if changed == 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the configuration changed since you read it; fetch it again and retry",
        )
        .with_field("version"));
    }
    Ok(expected_version + 1)
}
