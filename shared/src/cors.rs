//! CORS for the widget routes only: the widget runs on the tenant's own site, another origin
//! than the edge. A preflight carries no credentials, so it names its tenant another way: the
//! public widget key in the `key` query parameter (calls made before a conversation exists),
//! or the conversation in the path (calls made with a customer's conversation token, whose
//! tenant is looked up). Either way only that tenant's allowed origins get a yes. No route ever
//! sends `Access-Control-Allow-Credentials`: the widget authenticates with its key and token,
//! not cookies.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::auth::{api_keys, credentials, TenantAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::ids::looks_like;
use crate::platform::Platform;

pub const ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, last-event-id, x-request-id";
pub const EXPOSE_HEADERS: &str =
    "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset";

/// Answers a preflight for a widget path whose routes allow `methods`. `conversation_id` is the
/// path's conversation, when it has one.
pub async fn preflight(
    p: &Platform,
    req: &Request,
    methods: &[Method],
    conversation_id: Option<&str>,
) -> ApiResult<Response> {
    let denied = || ApiError::forbidden("CORS preflight refused for this origin");
    let origin = req.header("origin").ok_or_else(denied)?;
    let wanted = req
        .header("access-control-request-method")
        .map(Method::parse)
        .ok_or_else(denied)?;
    if !methods.contains(&wanted) {
        return Err(denied());
    }
    let tenant = match (req.query_param("key"), conversation_id) {
        (Some(key), _) => key_tenant(p, &key).await?,
        (None, Some(id)) => conversation_tenant(p, id).await?,
        (None, None) => None,
    };
    if !tenant.is_some_and(|t| t.allows_origin(origin)) {
        return Err(denied());
    }
    let allow = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = Response::new(204);
    r.headers.set("access-control-allow-origin", origin);
    r.headers.set("access-control-allow-methods", allow);
    r.headers.set("access-control-allow-headers", ALLOW_HEADERS);
    r.headers.set("access-control-max-age", "600");
    r.headers.set("vary", "Origin");
    Ok(r)
}

/// The tenant of a live public widget key.
async fn key_tenant(p: &Platform, key: &str) -> ApiResult<Option<TenantAuth>> {
    let Some(parsed) = api_keys::parse(key).filter(|k| k.kind == api_keys::KeyKind::Public) else {
        return Ok(None);
    };
    Ok(credentials::key_record(p, parsed.prefix, false)
        .await?
        .filter(|rec| rec.key.revoked_at.is_none())
        .map(|rec| rec.tenant))
}

/// How long a conversation's tenant is remembered in isolate memory: it never changes.
const CONVERSATION_TENANT_TTL_MS: i64 = 3_600_000;

/// The tenant a conversation belongs to, from the mirror (remembered: preflights repeat for
/// every path the widget calls). Unknown ids are simply refused.
async fn conversation_tenant(p: &Platform, conversation_id: &str) -> ApiResult<Option<TenantAuth>> {
    if !looks_like(conversation_id, "cnv") {
        return Ok(None);
    }
    let memo_key = format!("cnv-tenant:{conversation_id}");
    let now = p.now_ms();
    let tenant_id = match p.memo.get_json::<String>(&memo_key, now) {
        Some(t) => t,
        None => {
            let rows = p
                .db()?
                .query(
                    "SELECT tenant_id FROM conversations WHERE id = ?1",
                    &crate::params![conversation_id],
                )
                .await?;
            let Some(t) = rows.first().and_then(|r| r.text("tenant_id")) else {
                return Ok(None);
            };
            p.memo
                .put_json(&memo_key, &t, CONVERSATION_TENANT_TTL_MS, now);
            t
        }
    };
    credentials::tenant_record(p, &tenant_id, false).await
}

/// Headers for an actual widget response to an origin the gateway already verified.
pub fn allow_origin_headers(origin: &str) -> [(&'static str, String); 3] {
    [
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-expose-headers", EXPOSE_HEADERS.to_string()),
        ("vary", "Origin".to_string()),
    ]
}
