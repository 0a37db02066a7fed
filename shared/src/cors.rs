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
    let subject = match (req.query_param("key"), conversation_id) {
        (Some(key), _) => {
            match api_keys::parse(&key).filter(|k| k.kind == api_keys::KeyKind::Public) {
                Some(parsed) => Subject::Key(parsed.prefix.to_string()),
                None => return Err(denied()),
            }
        }
        (None, Some(id)) => match conversation_tenant_id(p, id).await? {
            Some(tenant_id) => Subject::Tenant(tenant_id),
            None => return Err(denied()),
        },
        (None, None) => return Err(denied()),
    };
    if !origin_allowed(p, &subject, origin).await? {
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

/// Whose allowed origins a preflight is checked against.
enum Subject {
    /// A public widget key (by prefix): its tenant, while the key is live.
    Key(String),
    Tenant(String),
}

/// How long after a database read a refused preflight is answered from cache alone.
const RECHECK_AFTER_MS: i64 = 2_000;

/// Whether `origin` is allowed. Credentials are cached, so a refusal is confirmed against the
/// database (an origin the tenant just added must work at once); public keys are public, so
/// such re-reads happen at most once per subject every couple of seconds per isolate.
///
/// The marker is set only once a re-read has finished (and refreshed the cache): a widget fires
/// its first preflights together, and one that found the cache stale while another's re-read
/// was still in flight would otherwise be refused on the stale record. Within the window a
/// refusal is judged on the cache as it is now, which that finished re-read refreshed.
async fn origin_allowed(p: &Platform, subject: &Subject, origin: &str) -> ApiResult<bool> {
    let read = |fresh| async move {
        ApiResult::Ok(match subject {
            Subject::Key(prefix) => credentials::key_record(p, prefix, fresh)
                .await?
                .filter(|rec| rec.key.revoked_at.is_none())
                .map(|rec| rec.tenant),
            Subject::Tenant(id) => credentials::tenant_record(p, id, fresh).await?,
        })
    };
    let allows = |t: Option<TenantAuth>| t.is_some_and(|t| t.allows_origin(origin));
    if allows(read(false).await?) {
        return Ok(true);
    }
    let marker = match subject {
        Subject::Key(prefix) => format!("cors-recheck:k:{prefix}"),
        Subject::Tenant(id) => format!("cors-recheck:t:{id}"),
    };
    if p.memo.get(&marker, p.now_ms()).is_some() {
        return Ok(allows(read(false).await?));
    }
    let allowed = allows(read(true).await?);
    p.memo
        .put(&marker, Vec::new(), RECHECK_AFTER_MS, p.now_ms());
    Ok(allowed)
}

/// How long a conversation's tenant is remembered in isolate memory: it never changes.
const CONVERSATION_TENANT_TTL_MS: i64 = 3_600_000;

/// The tenant a conversation belongs to, from the mirror (remembered: preflights repeat for
/// every path the widget calls). Unknown ids are simply refused.
async fn conversation_tenant_id(p: &Platform, conversation_id: &str) -> ApiResult<Option<String>> {
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
    Ok(Some(tenant_id))
}

/// Headers for an actual widget response to an origin the gateway already verified.
pub fn allow_origin_headers(origin: &str) -> [(&'static str, String); 3] {
    [
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-expose-headers", EXPOSE_HEADERS.to_string()),
        ("vary", "Origin".to_string()),
    ]
}
