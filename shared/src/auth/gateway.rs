//! The gateway: authenticates the caller, authorises the route, and charges the tenant's rate
//! limits, all before a handler runs. One place, driven by each route's [`Access`], so no
//! handler can forget a check.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

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

enum Credential {
    Key(String),
    Jwt(String),
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
        Access::Platform => admit_platform(p, req).map(|()| Admission {
            platform_admin: true,
            ..Admission::default()
        }),
        Access::Tenant(perm) => admit_tenant(p, perm, req, None)
            .await
            .map_err(www_authenticate),
        Access::Conversation(perm) => admit_conversation(p, perm, req)
            .await
            .map_err(www_authenticate),
        Access::Customer => {
            let admission = admit_conversation(p, Permission::ConversationsWrite, req)
                .await
                .map_err(www_authenticate)?;
            match &admission.principal {
                Some(Principal {
                    actor: Actor::Customer { .. },
                    ..
                }) => Ok(admission),
                _ => Err(ApiError::forbidden(
                    "only the conversation's customer (its conversation token) may do this",
                )),
            }
        }
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

/// Where a live route's credential came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Header,
    /// `?token=`: only customers' conversation tokens may travel in URLs (they are scoped to
    /// one conversation); URLs end up in logs and histories, so agent tokens and keys never.
    Query,
    /// `Sec-WebSocket-Protocol: bearer.<token>` (browsers cannot set headers on WebSockets).
    Subprotocol,
}

/// The credential of a live route: a bearer header, the `token` query parameter, or a
/// `bearer.<token>` WebSocket subprotocol.
fn live_credential(req: &Request) -> Option<(String, Carrier)> {
    if let Some(b) = bearer(req) {
        return Some((b.to_string(), Carrier::Header));
    }
    if let Some(t) = req.query_param("token") {
        return Some((t, Carrier::Query));
    }
    req.header("sec-websocket-protocol")?
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("bearer."))
        .map(|t| (t.to_string(), Carrier::Subprotocol))
}

fn not_in_urls() -> ApiError {
    unauthorized(
        "agent tokens and API keys never travel in URLs: send Authorization: Bearer, or the bearer.<token> WebSocket subprotocol",
    )
}

async fn admit_conversation(p: &Platform, perm: Permission, req: &Request) -> ApiResult<Admission> {
    let (cred, carrier) = live_credential(req).ok_or_else(|| {
        unauthorized("missing credentials: a conversation token or an agent credential")
    })?;
    if cred.starts_with("pk_") || cred.starts_with("sk_") {
        if cred.starts_with("sk_") && carrier != Carrier::Header {
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
        // Not a conversation token: an agent token, checked as one (never from a URL).
        Err(e) if e.code == ErrorCode::InvalidToken => {
            if carrier == Carrier::Query {
                return Err(not_in_urls());
            }
            return admit_tenant(p, perm, req, Some(&cred)).await;
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
    let ip = client_ip(p, req);
    let caller = Caller::Customer {
        customer_id: &claims.sub,
        ip: &ip,
    };
    let mut check = charge(p, &tenant, &caller).await?;
    if check.stale {
        tenant = credentials::tenant_record(p, &claims.tid, true)
            .await?
            .ok_or_else(invalid_credentials)?;
        check_tenant(&tenant)?;
        check = charge(p, &tenant, &caller).await?;
    }
    // A browser page presenting a customer's token must be one the tenant embeds the widget
    // on; callers without an Origin (servers, same-origin GETs) are judged by the token alone.
    // Checked after the charge: the gate has just confirmed `tenant` is current (an origin
    // added a moment ago counts), and refused pages still pay for their requests.
    if let Some(origin) = req.header("origin") {
        if !tenant.allows_origin(origin) {
            return Err(ApiError::forbidden(
                "this origin is not allowed to use the widget",
            ));
        }
    }
    let principal = Principal {
        tenant,
        actor: Actor::Customer {
            customer_id: claims.sub.clone(),
            name: claims.name,
            conversation_id: claims.cid,
        },
        expires_at: Some(claims.exp_ms),
        session_id: None,
    };
    finish(principal, &check, req)
}

async fn admit_tenant(
    p: &Platform,
    perm: Permission,
    req: &Request,
    given: Option<&str>,
) -> ApiResult<Admission> {
    match tenant_credential(perm, req, given)? {
        Credential::Key(key) => admit_key(p, perm, req, &key).await,
        Credential::Jwt(token) => admit_jwt(p, perm, req, &token).await,
    }
}

/// Which credential a tenant route was called with, and from where (header, subprotocol, or
/// a widget's public key in the query).
fn tenant_credential(
    perm: Permission,
    req: &Request,
    given: Option<&str>,
) -> ApiResult<Credential> {
    let query_key = req.query_param("key");
    // Live routes (WebSocket, SSE) cannot carry headers from a browser: an agent's short-lived
    // JWT may come in a `bearer.<token>` subprotocol on GET requests, never in the URL.
    let live_jwt = match (req.method == crate::http::Method::Get && bearer(req).is_none())
        .then(|| live_credential(req))
        .flatten()
    {
        Some((t, Carrier::Query)) if jwt::looks_like_jwt(&t) => return Err(not_in_urls()),
        Some((t, _)) => Some(t).filter(|t| jwt::looks_like_jwt(t)),
        None => None,
    };
    let cred = match (
        given.or_else(|| bearer(req)).or(live_jwt.as_deref()),
        query_key.as_deref(),
    ) {
        (Some(b), _) if b.starts_with("pk_") || b.starts_with("sk_") => Credential::Key(b.into()),
        (Some(b), _) if jwt::looks_like_jwt(b) => Credential::Jwt(b.into()),
        (Some(_), _) => return Err(invalid_credentials()),
        // Browsers cannot set headers on EventSource/WebSocket, so widget routes also take the
        // public key from the query. Secret keys never: URLs end up in logs.
        (None, Some(k)) if k.starts_with("pk_") && perm.allowed_for_public_key() => {
            Credential::Key(k.into())
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
    Ok(cred)
}

/// An API key (public widget key or secret key).
async fn admit_key(
    p: &Platform,
    perm: Permission,
    req: &Request,
    key: &str,
) -> ApiResult<Admission> {
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
    let ip = client_ip(p, req);
    let caller = match parsed.kind {
        KeyKind::Public => Caller::Widget {
            key_id: &rec.key.id,
            ip: &ip,
        },
        KeyKind::Secret => Caller::Credential(&rec.key.id),
    };
    let mut check = charge(p, &rec.tenant, &caller).await?;
    let mut principal = principal;
    if check.stale {
        // Cached credentials predate a change: re-read, re-verify, charge with fresh limits.
        let fresh = credentials::key_record(p, &prefix, true)
            .await?
            .ok_or_else(invalid_credentials)?;
        principal = key_principal(&fresh, key, perm, req)?;
        check = charge(p, &fresh.tenant, &caller).await?;
    }
    finish(principal, &check, req)
}

/// An agent's JWT.
async fn admit_jwt(
    p: &Platform,
    perm: Permission,
    req: &Request,
    token: &str,
) -> ApiResult<Admission> {
    let keys = JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
    let claims = keys.verify(token, p.now_ms())?;
    let expires_at = Some(claims.exp_ms);
    let sid = claims.sid.as_deref();
    let mut rec = credentials::user_record(p, &claims.tid, &claims.sub, false)
        .await?
        .ok_or_else(invalid_credentials)?;
    let principal = match user_principal(&rec, perm, sid) {
        Ok(principal) => principal,
        Err(_) => {
            rec = credentials::user_record(p, &claims.tid, &claims.sub, true)
                .await?
                .ok_or_else(invalid_credentials)?;
            user_principal(&rec, perm, sid)?
        }
    };
    let caller = Caller::Credential(&rec.user_id);
    let mut check = charge(p, &rec.tenant, &caller).await?;
    let mut principal = principal;
    if check.stale {
        let fresh = credentials::user_record(p, &claims.tid, &claims.sub, true)
            .await?
            .ok_or_else(invalid_credentials)?;
        principal = user_principal(&fresh, perm, sid)?;
        check = charge(p, &fresh.tenant, &caller).await?;
    }
    principal.expires_at = expires_at;
    principal.session_id = claims.sid.clone();
    finish(principal, &check, req)
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
        );
        e.caller = Some(Box::new((
            principal.tenant_id().to_string(),
            principal.log_id(),
        )));
        let mut e = e.with_header(
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
            if !rec.tenant.allows_origin(origin) {
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
        expires_at: None,
        session_id: None,
    })
}

fn user_principal(rec: &UserRecord, perm: Permission, sid: Option<&str>) -> ApiResult<Principal> {
    if rec.status != crate::users::UserStatus::Active {
        return Err(invalid_credentials());
    }
    if sid.is_some_and(|sid| rec.revoked_sessions.iter().any(|r| r == sid)) {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "this session was signed out; sign in again",
        ));
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
        expires_at: None,
        session_id: None,
    })
}

/// The caller's address as the edge saw it, from the one header the runtime itself sets:
/// Cloudflare's `cf-connecting-ip` (its edge replaces any client value) or Spin's
/// `spin-client-addr` (set from the TCP peer, replacing any client value). A header a client
/// can choose (`x-forwarded-for`, or Cloudflare's header on Spin) is never trusted: it would
/// give every request its own visitor budget. Native tests emulate Cloudflare.
pub fn client_ip(p: &Platform, req: &Request) -> String {
    client_ip_on(p.runtime, req)
}

/// [`client_ip`] for a given runtime.
pub fn client_ip_on(runtime: crate::platform::RuntimeKind, req: &Request) -> String {
    use crate::platform::RuntimeKind;
    let addr = match runtime {
        RuntimeKind::Cloudflare | RuntimeKind::Native => req.header("cf-connecting-ip"),
        RuntimeKind::Spin => req
            .header("spin-client-addr")
            .map(|a| a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a)),
    };
    addr.map(|a| a.trim().trim_start_matches('[').trim_end_matches(']'))
        .filter(|a| !a.is_empty() && a.len() <= 64)
        .unwrap_or("unknown")
        .to_string()
}

/// Who is being charged, which decides the buckets: authenticated callers (secret keys,
/// agents) share the tenant's quota; anonymous ones (widget visitors, customers) share a
/// separate one, so a visitor can never lock the tenant's agents and API out, and are each
/// charged per address too, so opening conversations does not multiply an address's allowance.
pub enum Caller<'a> {
    Credential(&'a str),
    Widget { key_id: &'a str, ip: &'a str },
    Customer { customer_id: &'a str, ip: &'a str },
}

/// The buckets one request of `caller` is charged to.
pub fn buckets(limits: &crate::ratelimit::RateLimits, caller: &Caller<'_>) -> Vec<BucketSpec> {
    let spec = |name: String, l: crate::ratelimit::Limit| BucketSpec {
        name,
        count: l.count,
        period_ms: l.period_ms,
    };
    match caller {
        Caller::Credential(id) => vec![
            spec("tenant".into(), limits.tenant),
            spec(format!("cred:{id}"), limits.credential),
        ],
        Caller::Widget { key_id, ip } => vec![
            spec("anon".into(), limits.anonymous),
            spec(format!("cred:{key_id}"), limits.credential),
            spec(format!("ip:{ip}"), limits.visitor),
        ],
        Caller::Customer { customer_id, ip } => vec![
            spec("anon".into(), limits.anonymous),
            spec(format!("cust:{customer_id}"), limits.visitor),
            spec(format!("ip:{ip}"), limits.visitor),
        ],
    }
}

/// Charges one extra bucket in the tenant's gate (conversation starts, webhooks) at the tenant
/// version the caller knows; a stale version only means the limits are re-read, so the charge is
/// retried at the gate's newest version.
pub async fn charge_bucket(
    p: &Platform,
    tenant_id: &str,
    version: i64,
    bucket: BucketSpec,
) -> ApiResult<CheckResponse> {
    let mut req = CheckRequest {
        version,
        day: crate::time::utc_day(p.now_ms()),
        buckets: vec![bucket],
        ..CheckRequest::default()
    };
    let first = gate::call_check(p, tenant_id, &req).await?;
    if !first.stale {
        return Ok(first);
    }
    req.version = first.version;
    gate::call_check(p, tenant_id, &req).await
}

/// Charges one request of `caller` to the tenant's gate, atomically across its buckets.
pub async fn charge(
    p: &Platform,
    tenant: &TenantAuth,
    caller: &Caller<'_>,
) -> ApiResult<CheckResponse> {
    let req = CheckRequest {
        version: tenant.version,
        day: crate::time::utc_day(p.now_ms()),
        buckets: buckets(&tenant.rate_limits(), caller),
        ..CheckRequest::default()
    };
    gate::call_check(p, &tenant.id, &req).await
}

/// Checks the platform admin secret (constant time). Routes declare `Access::Platform`; a public
/// route with an admin-only mode (`/health?deep=1`) calls this itself.
pub fn admit_platform(p: &Platform, req: &Request) -> ApiResult<()> {
    let expected = p.config.get("platform_admin_secret").ok_or_else(|| {
        ApiError::new(
            ErrorCode::BindingMissing,
            "the platform admin secret is not configured",
        )
    })?;
    let presented =
        bearer(req).ok_or_else(|| unauthorized("missing platform admin credentials"))?;
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(invalid_credentials())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::http::Method;
    use crate::platform::RuntimeKind;

    #[test]
    fn only_the_runtime_s_own_address_header_is_trusted() {
        let spoofed = Request::new(Method::Get, "http://x/")
            .with_header("cf-connecting-ip", "203.0.113.9")
            .with_header("x-forwarded-for", "198.51.100.7")
            .with_header("spin-client-addr", "192.0.2.44:51234");
        assert_eq!(client_ip_on(RuntimeKind::Spin, &spoofed), "192.0.2.44");
        assert_eq!(
            client_ip_on(RuntimeKind::Cloudflare, &spoofed),
            "203.0.113.9"
        );
        let v6 = Request::new(Method::Get, "http://x/")
            .with_header("spin-client-addr", "[2001:db8::1]:443");
        assert_eq!(client_ip_on(RuntimeKind::Spin, &v6), "2001:db8::1");
        let none =
            Request::new(Method::Get, "http://x/").with_header("cf-connecting-ip", "203.0.113.9");
        assert_eq!(client_ip_on(RuntimeKind::Spin, &none), "unknown");
    }
}
