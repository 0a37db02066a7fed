//! Conversation tokens: what a customer's client holds to talk in one conversation. Signed with
//! the platform's JWT keys (same rotation), but for a different audience, so an agent token is
//! never a conversation token or the other way round. Browsers cannot set headers on WebSocket
//! or EventSource, so these travel in the query string or `Sec-WebSocket-Protocol`; they are
//! scoped to one conversation and expire, which bounds what a leaked URL can do.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::auth::jwt::JwtKeys;
use crate::error::{ApiError, ApiResult, ErrorCode};
use chrono::{Duration, TimeZone, Utc};
use jwt_compact::alg::Hs256;
use jwt_compact::prelude::*;
use serde::{Deserialize, Serialize};

pub const AUDIENCE: &str = "prismai-conversation";
pub const TTL_SECS: i64 = 12 * 3600;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationClaims {
    pub aud: String,
    /// Tenant id.
    pub tid: String,
    /// Conversation id.
    pub cid: String,
    /// Customer id.
    pub sub: String,
    /// Customer display name.
    pub name: String,
    /// Expiry (ms since the epoch), filled in by [`verify`]; not a claim of its own.
    #[serde(skip)]
    pub exp_ms: i64,
}

pub fn issue(
    keys: &JwtKeys,
    tenant_id: &str,
    conversation_id: &str,
    customer_id: &str,
    name: &str,
    now_ms: i64,
) -> ApiResult<String> {
    let (kid, key) = keys.signing_key()?;
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_default();
    let opts = TimeOptions::new(Duration::seconds(30), move || now);
    let claims = Claims::new(ConversationClaims {
        aud: AUDIENCE.into(),
        tid: tenant_id.into(),
        cid: conversation_id.into(),
        sub: customer_id.into(),
        name: name.into(),
        exp_ms: 0,
    })
    .set_duration_and_issuance(&opts, Duration::seconds(TTL_SECS));
    Hs256
        .token(&Header::empty().with_key_id(kid), &claims, key)
        .map_err(|e| ApiError::internal(format!("token creation failed: {e}")))
}

pub fn verify(keys: &JwtKeys, token: &str, now_ms: i64) -> ApiResult<ConversationClaims> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "invalid conversation token");
    let untrusted = UntrustedToken::new(token).map_err(|_| invalid())?;
    let kid = untrusted.header().key_id.as_deref().ok_or_else(invalid)?;
    let key = keys.verifying_key(kid).ok_or_else(invalid)?;
    let token: Token<ConversationClaims> = Hs256
        .validator(key)
        .validate(&untrusted)
        .map_err(|_| invalid())?;
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_default();
    let opts = TimeOptions::new(Duration::seconds(30), move || now);
    let claims = token.claims();
    if claims.expiration.is_none() {
        return Err(invalid());
    }
    claims.validate_expiration(&opts).map_err(|_| {
        ApiError::new(
            ErrorCode::TokenExpired,
            "the conversation token has expired",
        )
    })?;
    if claims.custom.aud != AUDIENCE {
        return Err(invalid());
    }
    let mut c = claims.custom.clone();
    c.exp_ms = claims
        .expiration
        .map(|e| e.timestamp_millis())
        .unwrap_or_default();
    Ok(c)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::users::Role;

    #[test]
    fn tokens_are_scoped_and_not_interchangeable_with_agent_tokens() {
        let keys = JwtKeys::from_config(Some("k1:0123456789abcdef0123456789abcdef")).unwrap();
        let t = issue(&keys, "ten_1", "cnv_1", "cus_1", "Ann", 1_000_000).unwrap();
        let c = verify(&keys, &t, 1_000_000).unwrap();
        assert_eq!(
            (c.tid.as_str(), c.cid.as_str(), c.sub.as_str()),
            ("ten_1", "cnv_1", "cus_1")
        );
        assert_eq!(
            verify(&keys, &t, 1_000_000 + (TTL_SECS + 60) * 1000)
                .unwrap_err()
                .code,
            ErrorCode::TokenExpired
        );
        let agent = keys
            .issue("usr_1", "ten_1", Role::Owner, 1_000_000)
            .unwrap();
        assert!(
            verify(&keys, &agent, 1_000_000).is_err(),
            "agent token is not a conversation token"
        );
        assert!(
            keys.verify(&t, 1_000_000).is_err(),
            "conversation token is not an agent token"
        );
    }
}
