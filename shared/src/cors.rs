//! CORS for the widget routes only. The public widget key travels in the `key` query parameter
//! (browsers cannot attach headers to EventSource or WebSocket), so even a preflight knows the
//! tenant and answers only for that tenant's allowed origins. No route ever sends
//! `Access-Control-Allow-Credentials`: the widget authenticates with its key, not cookies.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::auth::{api_keys, credentials};
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::platform::Platform;

pub const ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, last-event-id, x-request-id";
pub const EXPOSE_HEADERS: &str =
    "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset";

/// Answers a preflight for a widget path whose routes allow `methods`.
pub async fn preflight(p: &Platform, req: &Request, methods: &[Method]) -> ApiResult<Response> {
    let denied = || ApiError::forbidden("CORS preflight refused for this origin");
    let origin = req.header("origin").ok_or_else(denied)?;
    let wanted = req
        .header("access-control-request-method")
        .map(Method::parse)
        .ok_or_else(denied)?;
    if !methods.contains(&wanted) {
        return Err(denied());
    }
    let key = req.query_param("key").ok_or_else(denied)?;
    let parsed = api_keys::parse(&key)
        .filter(|k| k.kind == api_keys::KeyKind::Public)
        .ok_or_else(denied)?;
    let rec = credentials::key_record(p, parsed.prefix, false)
        .await?
        .ok_or_else(denied)?;
    if rec.key.revoked_at.is_some()
        || !rec
            .tenant
            .allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    {
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

/// Headers for an actual widget response to an origin the gateway already verified.
pub fn allow_origin_headers(origin: &str) -> [(&'static str, String); 3] {
    [
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-expose-headers", EXPOSE_HEADERS.to_string()),
        ("vary", "Origin".to_string()),
    ]
}
