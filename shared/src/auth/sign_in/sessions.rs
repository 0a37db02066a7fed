//! Console sessions. A sign-in (email link, single sign-on, accepted invitation) opens a
//! session; the browser holds its refresh token in an HttpOnly, Secure, SameSite=Strict cookie
//! scoped to the session routes, and trades it for 15-minute access tokens. Every trade rotates
//! the refresh token; presenting a replaced one outside a short grace window means it was
//! copied, and ends the session. Sign-out, "sign out everywhere" and deactivation revoke
//! sessions, and the access tokens they issued stop working at once (the gateway checks the
//! token's session against the user's revoked sessions, re-read when the tenant version moves).

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::ids::new_id;
use crate::params;
use crate::platform::Platform;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that carries the refresh token, sent only to the session routes.
pub const COOKIE: &str = "prism_session";
pub const COOKIE_PATH: &str = "/v1/auth/session";
/// A session lives 30 days from sign-in at most, and ends after 7 days unused.
pub const MAX_AGE_MS: i64 = 30 * 24 * 3_600_000;
pub const IDLE_MS: i64 = 7 * 24 * 3_600_000;
/// Two tabs refreshing at once both present the same token; the slower one gets a retryable
/// conflict instead of ending the session, if it comes this soon after the rotation.
pub const GRACE_MS: i64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    MagicLink,
    Oidc,
    Invitation,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::MagicLink => "magic_link",
            Method::Oidc => "oidc",
            Method::Invitation => "invitation",
        }
    }
}

/// A live session as a refresh finds it.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `rt_<session id>.<secret>`: the id finds the row, the secret proves possession.
fn token(session_id: &str, secret: &str) -> String {
    format!("rt_{session_id}.{secret}")
}

fn parse(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix("rt_")?.split_once('.')?;
    (crate::ids::looks_like(id, "ses") && secret.len() == 43).then_some((id, secret))
}

/// Opens a session for a user who just proved who they are; returns it with its refresh token.
pub async fn open(
    p: &Platform,
    tenant_id: &str,
    user_id: &str,
    method: Method,
    user_agent: Option<&str>,
) -> ApiResult<(Session, String)> {
    let id = new_id(&*p.random, "ses");
    let secret = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let now = p.now_ms();
    let agent: Option<String> = user_agent.map(|a| a.chars().take(200).collect());
    p.db()?
        .execute(
            "INSERT INTO sessions (id, tenant_id, user_id, method, refresh_hash, rotated_at, created_at, last_used_at, expires_at, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7, ?8)",
            &params![id.as_str(), tenant_id, user_id, method.as_str(), hash(&secret), now, now + MAX_AGE_MS, agent],
        )
        .await?;
    let session = Session {
        id: id.clone(),
        tenant_id: tenant_id.into(),
        user_id: user_id.into(),
    };
    Ok((session, token(&id, &secret)))
}

fn ended() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "the session has ended; sign in again",
    )
}

/// Trades a refresh token for a new one (the old one stops working).
pub async fn rotate(p: &Platform, presented: &str) -> ApiResult<(Session, String)> {
    let (id, secret) = parse(presented).ok_or_else(ended)?;
    let db = p.db()?;
    let rows = db
        .query(
            "SELECT tenant_id, user_id, refresh_hash, previous_hash, rotated_at, last_used_at, expires_at, revoked_at
             FROM sessions WHERE id = ?1",
            &params![id],
        )
        .await?;
    let row = rows.first().ok_or_else(ended)?;
    let now = p.now_ms();
    let text = |c: &str| row.text(c).unwrap_or_default();
    let int = |c: &str| row.int(c).unwrap_or(0);
    if row.int("revoked_at").is_some()
        || int("expires_at") <= now
        || int("last_used_at") + IDLE_MS <= now
    {
        return Err(ended());
    }
    let presented_hash = hash(secret);
    let current: bool = presented_hash
        .as_bytes()
        .ct_eq(text("refresh_hash").as_bytes())
        .into();
    if !current {
        let previous: bool = row
            .text("previous_hash")
            .is_some_and(|h| presented_hash.as_bytes().ct_eq(h.as_bytes()).into());
        if previous && now - int("rotated_at") <= GRACE_MS {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "the session was just refreshed elsewhere; retry",
            ));
        }
        if previous {
            // A replaced token came back: someone kept a copy. End the session for everyone.
            revoke(p, &text("tenant_id"), id).await?;
        }
        return Err(ended());
    }
    let next = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let changed = db
        .execute(
            "UPDATE sessions SET previous_hash = refresh_hash, refresh_hash = ?1, rotated_at = ?2, last_used_at = ?2
             WHERE id = ?3 AND refresh_hash = ?4 AND revoked_at IS NULL",
            &params![hash(&next), now, id, presented_hash.as_str()],
        )
        .await?;
    if changed != 1 {
        // Another request rotated it between our read and write.
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the session was just refreshed elsewhere; retry",
        ));
    }
    let session = Session {
        id: id.to_string(),
        tenant_id: text("tenant_id"),
        user_id: text("user_id"),
    };
    Ok((session, token(id, &next)))
}

/// Ends one session. Its access tokens stop working once the gateway re-reads the user (the
/// caller bumps the tenant version so that happens on the next request everywhere).
pub async fn revoke(p: &Platform, tenant_id: &str, session_id: &str) -> ApiResult<()> {
    p.db()?
        .execute(
            "UPDATE sessions SET revoked_at = ?1 WHERE id = ?2 AND tenant_id = ?3 AND revoked_at IS NULL",
            &params![p.now_ms(), session_id, tenant_id],
        )
        .await?;
    crate::auth::credentials::tenant_changed(p, tenant_id).await?;
    Ok(())
}

/// Ends every session of a user (sign out everywhere, deactivation).
pub async fn revoke_all(p: &Platform, tenant_id: &str, user_id: &str) -> ApiResult<u64> {
    let n = p
        .db()?
        .execute(
            "UPDATE sessions SET revoked_at = ?1 WHERE tenant_id = ?2 AND user_id = ?3 AND revoked_at IS NULL",
            &params![p.now_ms(), tenant_id, user_id],
        )
        .await?;
    if n > 0 {
        crate::auth::credentials::tenant_changed(p, tenant_id).await?;
    }
    Ok(n)
}

/// Sessions of a user revoked recently enough that access tokens they issued may still be
/// unexpired: the gateway refuses those tokens.
pub async fn recently_revoked(
    db: &dyn crate::ports::SqlDatabase,
    tenant_id: &str,
    user_id: &str,
    now: i64,
) -> ApiResult<Vec<String>> {
    let since = now - (crate::auth::jwt::TTL_SECS + crate::auth::jwt::LEEWAY_SECS) * 1000;
    let rows = db
        .query(
            "SELECT id FROM sessions WHERE tenant_id = ?1 AND user_id = ?2 AND revoked_at IS NOT NULL AND revoked_at >= ?3",
            &params![tenant_id, user_id, since],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| r.text("id")).collect())
}

/// The refresh token from the request's cookies, if any.
pub fn from_cookie(req: &Request) -> Option<String> {
    req.header("cookie")?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Sets (or, with `None`, clears) the session cookie on a response.
pub fn set_cookie(resp: &mut Response, token: Option<&str>) {
    let value = match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path={COOKIE_PATH}; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
            MAX_AGE_MS / 1000
        ),
        None => {
            format!("{COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
        }
    };
    resp.headers.append("set-cookie", value);
}

/// Session routes answer only the console's own pages: a cookie-carrying request from another
/// origin is refused even where a browser would send the cookie.
pub fn same_origin(req: &Request) -> ApiResult<()> {
    match req.header("origin") {
        None => Ok(()),
        Some(o) if o.eq_ignore_ascii_case(&req.origin) => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "session routes accept only the console's own origin",
        )),
    }
}
