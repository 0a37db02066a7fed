//! The gateway: authenticates the caller, authorises the route, and charges the tenant's rate
//! limits, all before a handler runs. One place, driven by each route's [`Access`], so no
//! handler can forget a check.

use super::api_keys::{self, KeyKind};
use super::credentials::{self, KeyRecord, UserRecord};
use super::jwt::{self, JwtKeys};
use super::{Access, Actor, Permission, Principal, TenantAuth};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::Request;
use crate::objects::gate::{self, BucketSpec, CheckRequest, CheckResponse};
use crate::platform::Platform;
use subtle::ConstantTimeEq;

/// What the gateway established about a request.
#[derive(Debug, Default)]
pub struct Admission {
    pub principal: Option<Principal>,
    pub platform_admin: bool,
    /// The rate-limit budget to report on the response.
    pub rate: Option<RateInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: i64,
}

impl RateInfo {
    fn from_check(c: &CheckResponse) -> RateInfo {
        RateInfo {
            limit: c.limit,
            remaining: c.remaining,
            reset_secs: ceil_secs(c.reset_ms),
        }
    }

    /// `RateLimit-*` headers (IETF draft names, as the spec asks).
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset_secs.to_string()),
        ]
    }
}

fn ceil_secs(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

enum Credential<'a> {
    Key(&'a str),
    Jwt(&'a str),
}

fn bearer(req: &Request) -> Option<&str> {
    let h = req.header("authorization")?;
    let (scheme, value) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, msg).with_header("www-authenticate", "Bearer")
}

fn invalid_credentials() -> ApiError {
    // One message for unknown, revoked and mismatched keys: nothing to probe.
    ApiError::new(ErrorCode::InvalidToken, "invalid or revoked credentials")
        .with_header("www-authenticate", "Bearer")
}

/// Runs the access policy for one request.
pub async fn admit(p: &Platform, access: Access, req: &Request) -> ApiResult<Admission> {
    match access {
        Access::Public | Access::SelfAuthenticated => Ok(Admission::default()),
        Access::Platform => {
            let expected = p.config.get("platform_admin_secret").ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BindingMissing,
                    "the platform admin secret is not configured",
                )
            })?;
            let presented =
                bearer(req).ok_or_else(|| unauthorized("missing platform admin credentials"))?;
            if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
                Ok(Admission {
                    platform_admin: true,
                    ..Admission::default()
                })
            } else {
                Err(invalid_credentials())
            }
        }
        Access::Tenant(perm) => admit_tenant(p, perm, req, None)
            .await
            .map_err(www_authenticate),
        Access::Conversation(perm) => admit_conversation(p, perm, req)
            .await
            .map_err(www_authenticate),
    }
}

/// Every 401 names the scheme (RFC 9110), whichever check produced it.
fn www_authenticate(e: ApiError) -> ApiError {
    if e.status() == 401 && !e.headers.iter().any(|(n, _)| n == "www-authenticate") {
        e.with_header("www-authenticate", "Bearer")
    } else {
        e
    }
}

/// The credential of a live route: a bearer header, or (browsers cannot set headers on
/// WebSocket/EventSource) the `token` query parameter or a `bearer.<token>` WebSocket subprotocol.
fn live_credential(req: &Request) -> Option<String> {
    if let Some(b) = bearer(req) {
        return Some(b.to_string());
    }
    if let Some(t) = req.query_param("token") {
        return Some(t);
    }
    req.header("sec-websocket-protocol")?
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("bearer."))
        .map(String::from)
}

async fn admit_conversation(p: &Platform, perm: Permission, req: &Request) -> ApiResult<Admission> {
    let cred = live_credential(req).ok_or_else(|| {
        unauthorized("missing credentials: a conversation token or an agent credential")
    })?;
    if cred.starts_with("pk_") || cred.starts_with("sk_") {
        if cred.starts_with("sk_") && bearer(req).is_none() {
            return Err(unauthorized(
                "secret keys must be sent in the Authorization header",
            ));
        }
        return admit_tenant(p, perm, req, Some(&cred)).await;
    }
    let keys = JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
    let now = p.now_ms();
    let claims = match crate::conversations::tokens::verify(&keys, &cred, now) {
        Ok(c) => c,
        // Not a conversation token: an agent token, checked as one.
        Err(e) if e.code == ErrorCode::InvalidToken => {
            return admit_tenant(p, perm, req, Some(&cred)).await
        }
        Err(e) => return Err(e),
    };
    if req.param("conversation_id") != claims.cid {
        // A token for conversation A cannot even learn whether B exists.
        return Err(ApiError::not_found("conversation"));
    }
    let mut tenant = credentials::tenant_record(p, &claims.tid, false)
        .await?
        .ok_or_else(invalid_credentials)?;
    if check_tenant(&tenant).is_err() {
        tenant = credentials::tenant_record(p, &claims.tid, true)
            .await?
            .ok_or_else(invalid_credentials)?;
        check_tenant(&tenant)?;
    }
    let bucket = format!("cust:{}", claims.sub);
    let mut check = charge_customer(p, &tenant, &bucket).await?;
    if check.stale {
        tenant = credentials::tenant_record(p, &claims.tid, true)
            .await?
            .ok_or_else(invalid_credentials)?;
        check_tenant(&tenant)?;
        check = charge_customer(p, &tenant, &bucket).await?;
    }
    let principal = Principal {
        tenant,
        actor: Actor::Customer {
            customer_id: claims.sub,
            name: claims.name,
            conversation_id: claims.cid,
        },
    };
    finish(principal, &check, req)
}

/// Customers are charged the tenant quota and a per-customer bucket at visitor limits.
async fn charge_customer(
    p: &Platform,
    tenant: &TenantAuth,
    bucket: &str,
) -> ApiResult<CheckResponse> {
    let limits = tenant.rate_limits();
    let buckets = vec![
        BucketSpec {
            name: "tenant".into(),
            count: limits.tenant.count,
            period_ms: limits.tenant.period_ms,
        },
        BucketSpec {
            name: bucket.into(),
            count: limits.visitor.count,
            period_ms: limits.visitor.period_ms,
        },
    ];
    let req = CheckRequest {
        version: tenant.version,
        day: crate::time::utc_day(p.now_ms()),
        buckets,
    };
    gate::call_check(p, &tenant.id, &req).await
}

async fn admit_tenant(
    p: &Platform,
    perm: Permission,
    req: &Request,
    given: Option<&str>,
) -> ApiResult<Admission> {
    let query_key = req.query_param("key");
    // Live routes (WebSocket, SSE) cannot carry headers from a browser: an agent's short-lived
    // JWT may come in the `token` query parameter or subprotocol on GET requests.
    let live_jwt = (req.method == crate::http::Method::Get && bearer(req).is_none())
        .then(|| live_credential(req))
        .flatten()
        .filter(|t| jwt::looks_like_jwt(t));
    let cred = match (
        given.or_else(|| bearer(req)).or(live_jwt.as_deref()),
        query_key.as_deref(),
    ) {
        (Some(b), _) if b.starts_with("pk_") || b.starts_with("sk_") => Credential::Key(b),
        (Some(b), _) if jwt::looks_like_jwt(b) => Credential::Jwt(b),
        (Some(_), _) => return Err(invalid_credentials()),
        // Browsers cannot set headers on EventSource/WebSocket, so widget routes also take the
        // public key from the query. Secret keys never: URLs end up in logs.
        (None, Some(k)) if k.starts_with("pk_") && perm.allowed_for_public_key() => {
            Credential::Key(k)
        }
        (None, Some(k)) if k.starts_with("sk_") => {
            return Err(unauthorized(
                "secret keys must be sent in the Authorization header",
            ))
        }
        _ => {
            return Err(unauthorized(
                "missing credentials: send Authorization: Bearer <key or token>",
            ))
        }
    };

    match cred {
        Credential::Key(key) => {
            let parsed = api_keys::parse(key).ok_or_else(invalid_credentials)?;
            let prefix = parsed.prefix.to_string();
            let mut rec = credentials::key_record(p, &prefix, false)
                .await?
                .ok_or_else(invalid_credentials)?;
            // A refusal based on a cached record is confirmed against the database first (the
            // tenant may have been reactivated, the key's scopes widened).
            let principal = match key_principal(&rec, key, perm, req) {
                Ok(principal) => principal,
                Err(_) => {
                    rec = credentials::key_record(p, &prefix, true)
                        .await?
                        .ok_or_else(invalid_credentials)?;
                    key_principal(&rec, key, perm, req)?
                }
            };
            let visitor = (parsed.kind == KeyKind::Public).then(|| client_ip(req));
            let cred_bucket = format!("cred:{}", rec.key.id);
            let mut check = charge(p, &rec.tenant, &cred_bucket, visitor.as_deref()).await?;
            let mut principal = principal;
            if check.stale {
                // Cached credentials predate a change: re-read, re-verify, charge with fresh limits.
                let fresh = credentials::key_record(p, &prefix, true)
                    .await?
                    .ok_or_else(invalid_credentials)?;
                principal = key_principal(&fresh, key, perm, req)?;
                check = charge(p, &fresh.tenant, &cred_bucket, visitor.as_deref()).await?;
            }
            finish(principal, &check, req)
        }
        Credential::Jwt(token) => {
            let keys = JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
            let claims = keys.verify(token, p.now_ms())?;
            let mut rec = credentials::user_record(p, &claims.tid, &claims.sub, false)
                .await?
                .ok_or_else(invalid_credentials)?;
            let principal = match user_principal(&rec, perm) {
                Ok(principal) => principal,
                Err(_) => {
                    rec = credentials::user_record(p, &claims.tid, &claims.sub, true)
                        .await?
                        .ok_or_else(invalid_credentials)?;
                    user_principal(&rec, perm)?
                }
            };
            let cred_bucket = format!("cred:{}", rec.user_id);
            let mut check = charge(p, &rec.tenant, &cred_bucket, None).await?;
            let mut principal = principal;
            if check.stale {
                let fresh = credentials::user_record(p, &claims.tid, &claims.sub, true)
                    .await?
                    .ok_or_else(invalid_credentials)?;
                principal = user_principal(&fresh, perm)?;
                check = charge(p, &fresh.tenant, &cred_bucket, None).await?;
            }
            finish(principal, &check, req)
        }
    }
}

fn finish(principal: Principal, check: &CheckResponse, req: &Request) -> ApiResult<Admission> {
    if check.stale {
        // Versions moved twice within one request: refuse rather than act on stale data.
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "tenant settings changed during the request; retry",
        ));
    }
    let rate = RateInfo::from_check(check);
    if !check.allowed {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
            "rate limit exceeded; retry after the indicated time",
        )
        .with_header(
            "retry-after",
            ceil_secs(check.retry_after_ms).max(1).to_string(),
        );
        for (n, v) in rate.headers() {
            e = e.with_header(n, v);
        }
        // The widget's origin was verified with its key: let it read the 429.
        if principal.is_public_key() {
            if let Some(origin) = req.header("origin") {
                for (n, v) in crate::cors::allow_origin_headers(origin) {
                    e = e.with_header(n, v);
                }
            }
        }
        return Err(e);
    }
    Ok(Admission {
        principal: Some(principal),
        platform_admin: false,
        rate: Some(rate),
    })
}

fn check_tenant(t: &TenantAuth) -> ApiResult<()> {
    if credentials::tenant_active(t) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "this tenant is suspended",
        ))
    }
}

fn key_principal(
    rec: &KeyRecord,
    presented: &str,
    perm: Permission,
    req: &Request,
) -> ApiResult<Principal> {
    if !api_keys::verify(presented, &rec.hash) || rec.key.revoked_at.is_some() {
        return Err(invalid_credentials());
    }
    check_tenant(&rec.tenant)?;
    match rec.key.kind {
        KeyKind::Public => {
            if !perm.allowed_for_public_key() {
                return Err(ApiError::forbidden(
                    "public widget keys cannot call this endpoint",
                ));
            }
            let origin = req.header("origin").unwrap_or("");
            if !rec
                .tenant
                .allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
            {
                return Err(ApiError::forbidden(
                    "this origin is not allowed to use the widget key",
                ));
            }
        }
        KeyKind::Secret => {
            if !perm.granted_by_scopes(&rec.key.scopes) {
                return Err(ApiError::forbidden(format!(
                    "this key lacks the {:?} scope",
                    perm.scope()
                )));
            }
        }
    }
    Ok(Principal {
        tenant: rec.tenant.clone(),
        actor: Actor::Key {
            key_id: rec.key.id.clone(),
            prefix: rec.key.prefix.clone(),
            kind: rec.key.kind,
            scopes: rec.key.scopes.clone(),
        },
    })
}

fn user_principal(rec: &UserRecord, perm: Permission) -> ApiResult<Principal> {
    if rec.status != crate::users::UserStatus::Active {
        return Err(invalid_credentials());
    }
    check_tenant(&rec.tenant)?;
    if !perm.granted_to_role(rec.role) {
        return Err(ApiError::forbidden(format!(
            "the {} role cannot do this",
            rec.role.as_str()
        )));
    }
    Ok(Principal {
        tenant: rec.tenant.clone(),
        actor: Actor::User {
            user_id: rec.user_id.clone(),
            name: rec.name.clone(),
            role: rec.role,
        },
    })
}

/// The caller's address as the edge saw it (Cloudflare sets `cf-connecting-ip`; Spin sets
/// `spin-client-addr`). Only used to key visitor rate limits.
pub fn client_ip(req: &Request) -> String {
    if let Some(ip) = req.header("cf-connecting-ip") {
        return ip.trim().to_string();
    }
    if let Some(addr) = req.header("spin-client-addr") {
        return addr
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(addr)
            .to_string();
    }
    "unknown".into()
}

/// Charges the tenant quota, the credential's burst bucket and (for widget traffic) the
/// visitor's bucket, atomically, in the tenant's gate.
async fn charge(
    p: &Platform,
    tenant: &TenantAuth,
    credential_bucket: &str,
    visitor: Option<&str>,
) -> ApiResult<CheckResponse> {
    let limits = tenant.rate_limits();
    let mut buckets = vec![
        BucketSpec {
            name: "tenant".into(),
            count: limits.tenant.count,
            period_ms: limits.tenant.period_ms,
        },
        BucketSpec {
            name: credential_bucket.into(),
            count: limits.credential.count,
            period_ms: limits.credential.period_ms,
        },
    ];
    if let Some(ip) = visitor {
        buckets.push(BucketSpec {
            name: format!("ip:{ip}"),
            count: limits.visitor.count,
            period_ms: limits.visitor.period_ms,
        });
    }
    let req = CheckRequest {
        version: tenant.version,
        day: crate::time::utc_day(p.now_ms()),
        buckets,
    };
    gate::call_check(p, &tenant.id, &req).await
}
