//! Credential lookups with a key-value cache in front of the database.
//!
//! Cached records carry the tenant version they were read at. The tenant's gate object (on the
//! request path anyway, for rate limiting) answers with the newest version; when it is newer the
//! gateway reloads from the database. That is what makes a revocation, a deactivation or a tier
//! change take effect on the next request everywhere, although KV itself may serve stale data
//! for up to a minute.

use super::api_keys::{self, ApiKey};
use super::TenantAuth;
use crate::error::ApiResult;
use crate::platform::Platform;
use crate::ports::SqlDatabase;
use crate::tenancy::{store as tenants, TenantStatus};
use crate::users::{store as users, Role, UserStatus};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Cached records live this long at most (the version check keeps them honest meanwhile).
const TTL_SECS: u64 = 3600;
/// Records in isolate memory are re-read from KV at least this often (bounds what idle
/// credentials hold; correctness comes from the version check, as for KV).
const MEMO_TTL_MS: i64 = 60_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: ApiKey,
    /// Stored separately because `ApiKey` never serialises its hash to API clients.
    pub hash: String,
    pub tenant: TenantAuth,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub user_id: String,
    #[serde(default)]
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub tenant: TenantAuth,
    /// The user's console sessions revoked within the last token lifetime: access tokens
    /// naming one of them are refused.
    #[serde(default)]
    pub revoked_sessions: Vec<String>,
}

pub fn key_cache_key(prefix: &str) -> String {
    format!("auth:key:{prefix}")
}

pub fn user_cache_key(user_id: &str) -> String {
    format!("auth:user:{user_id}")
}

pub fn tenant_cache_key(tenant_id: &str) -> String {
    format!("auth:tenant:{tenant_id}")
}

/// The tenant's gateway record (for callers that carry only a tenant id, like customers'
/// conversation tokens); `fresh` bypasses the cache.
pub async fn tenant_record(
    p: &Platform,
    tenant_id: &str,
    fresh: bool,
) -> ApiResult<Option<TenantAuth>> {
    let ck = tenant_cache_key(tenant_id);
    if !fresh {
        if let Some(t) = cached::<TenantAuth>(p, &ck).await {
            return Ok(Some(t));
        }
    }
    let Some(t) = load_tenant(p.db()?, tenant_id).await? else {
        return Ok(None);
    };
    store(p, &ck, &t).await;
    Ok(Some(t))
}

/// The gateway's view of a tenant, read from the database.
pub async fn load_tenant(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<Option<TenantAuth>> {
    let Some(t) = tenants::get(db, tenant_id).await? else {
        return Ok(None);
    };
    let (cfg, _) = tenants::config(db, tenant_id).await?;
    Ok(Some(TenantAuth {
        id: t.id,
        slug: t.slug,
        tier: t.tier,
        status: t.status,
        limits: t.limits,
        version: t.version,
        allowed_origins: cfg.allowed_origins,
    }))
}

async fn cached<T: DeserializeOwned>(p: &Platform, key: &str) -> Option<T> {
    let now = p.now_ms();
    if let Some(v) = p.memo.get_json_or_claim(key, now) {
        return Some(v);
    }
    let kv = p.kv.as_ref()?;
    // A cache failure is a miss, never an error: the database is the source of truth.
    let bytes = kv.get(key).await.ok().flatten()?;
    let value = serde_json::from_slice(&bytes).ok()?;
    p.memo.put(key, bytes, MEMO_TTL_MS, now);
    Some(value)
}

async fn store<T: Serialize>(p: &Platform, key: &str, value: &T) {
    let Ok(bytes) = serde_json::to_vec(value) else {
        return;
    };
    if let Some(kv) = p.kv.as_ref() {
        let _ = kv.put(key, &bytes, Some(TTL_SECS)).await;
    }
    p.memo.put(key, bytes, MEMO_TTL_MS, p.now_ms());
}

/// Drops a cached record (after a change made here, so this edge sees it at once).
pub async fn forget(p: &Platform, key: &str) {
    p.memo.forget(key);
    if let Some(kv) = p.kv.as_ref() {
        let _ = kv.delete(key).await;
    }
}

/// The key record for a key prefix; `fresh` bypasses the cache.
pub async fn key_record(p: &Platform, prefix: &str, fresh: bool) -> ApiResult<Option<KeyRecord>> {
    let ck = key_cache_key(prefix);
    if !fresh {
        if let Some(r) = cached::<KeyRecord>(p, &ck).await {
            return Ok(Some(r));
        }
    }
    let db = p.db()?;
    let Some(key) = api_keys::by_prefix(db, prefix).await? else {
        return Ok(None);
    };
    let Some(tenant) = load_tenant(db, &key.tenant_id).await? else {
        return Ok(None);
    };
    let rec = KeyRecord {
        hash: key.hash.clone(),
        key,
        tenant,
    };
    store(p, &ck, &rec).await;
    Ok(Some(rec))
}

/// The user record for an agent token's subject; `fresh` bypasses the cache.
pub async fn user_record(
    p: &Platform,
    tenant_id: &str,
    user_id: &str,
    fresh: bool,
) -> ApiResult<Option<UserRecord>> {
    let ck = user_cache_key(user_id);
    if !fresh {
        if let Some(r) = cached::<UserRecord>(p, &ck).await {
            if r.tenant.id == tenant_id {
                return Ok(Some(r));
            }
        }
    }
    let db = p.db()?;
    let user = match users::get(db, tenant_id, user_id).await {
        Ok(u) => u,
        Err(e) if e.code == crate::error::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(tenant) = load_tenant(db, tenant_id).await? else {
        return Ok(None);
    };
    let revoked_sessions =
        crate::auth::sign_in::sessions::recently_revoked(db, tenant_id, &user.id, p.now_ms())
            .await?;
    let rec = UserRecord {
        user_id: user.id,
        name: user.name,
        role: user.role,
        status: user.status,
        tenant,
        revoked_sessions,
    };
    store(p, &ck, &rec).await;
    Ok(Some(rec))
}

/// True when the tenant may be served at all.
pub fn tenant_active(t: &TenantAuth) -> bool {
    t.status == TenantStatus::Active
}

/// After a change to a tenant's credentials, users, tier, status or origins: bump its version
/// in the database, then tell its gate, so every cached credential of that tenant is re-read on
/// its next use, on every edge. If the gate cannot be told, the change still stands in the
/// database and reaches the edges when their cache entries expire; the caller reports the error.
pub async fn tenant_changed(p: &Platform, tenant_id: &str) -> ApiResult<i64> {
    let version = tenants::bump_version(p.db()?, tenant_id, p.now_ms()).await?;
    crate::objects::gate::call_observe(p, tenant_id, version).await?;
    Ok(version)
}
