//! Download links: `GET /v1/files/{id}?token=…` with a token signed by the platform's JWT keys
//! for its own audience, naming the tenant, the conversation and the file, and expiring soon.
//! Only a conversation's participants are handed one (the link route checks their access), so
//! a link is as good as their access for its lifetime and no longer; the download route checks
//! the file still belongs to the named conversation, so a token for one file opens no other.

use crate::auth::jwt::JwtKeys;
use crate::error::{ApiError, ApiResult, ErrorCode};
use chrono::{TimeZone, Utc};
use jwt_compact::alg::Hs256;
use jwt_compact::prelude::*;
use serde::{Deserialize, Serialize};

pub const AUDIENCE: &str = "prismai-file";

/// How long a link handed to a browser works: long enough to render and click, short enough
/// that a copied link dies with the page.
pub const BROWSER_TTL_MS: i64 = 10 * 60 * 1000;
/// How long a link handed to a provider works (Twilio fetches MMS media when it sends, and
/// again if the carrier retries).
pub const CHANNEL_TTL_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileClaims {
    pub aud: String,
    pub tid: String,
    pub cid: String,
    pub fid: String,
}

fn at(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn keys(config: &crate::platform::Config) -> ApiResult<JwtKeys> {
    JwtKeys::from_config(config.get("jwt_signing_keys"))
}

/// A token for one file, valid until `expires_at`.
pub fn issue(
    config: &crate::platform::Config,
    tenant_id: &str,
    conversation_id: &str,
    file_id: &str,
    now: i64,
    expires_at: i64,
) -> ApiResult<String> {
    let keys = keys(config)?;
    let (kid, key) = keys.signing_key()?;
    let mut claims = Claims::new(FileClaims {
        aud: AUDIENCE.into(),
        tid: tenant_id.into(),
        cid: conversation_id.into(),
        fid: file_id.into(),
    });
    claims.issued_at = Some(at(now));
    claims.expiration = Some(at(expires_at));
    Hs256
        .token(&Header::empty().with_key_id(kid), &claims, key)
        .map_err(|e| ApiError::internal(format!("token creation failed: {e}")))
}

/// The file a token names, if its signature holds and it has not expired.
pub fn verify(config: &crate::platform::Config, token: &str, now: i64) -> ApiResult<FileClaims> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "invalid file link");
    let keys = keys(config).map_err(|_| invalid())?;
    let untrusted = UntrustedToken::new(token).map_err(|_| invalid())?;
    let kid = untrusted.header().key_id.as_deref().ok_or_else(invalid)?;
    let key = keys.verifying_key(kid).ok_or_else(invalid)?;
    let token: Token<FileClaims> = Hs256
        .validator(key)
        .validate(&untrusted)
        .map_err(|_| invalid())?;
    let claims = token.claims();
    claims.expiration.ok_or_else(invalid)?;
    let opts = TimeOptions::new(chrono::Duration::seconds(0), move || at(now));
    claims.validate_expiration(&opts).map_err(|_| {
        ApiError::new(
            ErrorCode::TokenExpired,
            "this file link has expired; open the conversation again for a fresh one",
        )
    })?;
    if claims.custom.aud != AUDIENCE {
        return Err(invalid());
    }
    Ok(claims.custom.clone())
}

/// The download URL for a token under `base` (the origin the caller reached us on, or the
/// deployment's public base URL for providers).
pub fn url(base: &str, file_id: &str, token: &str) -> String {
    format!(
        "{}/v1/files/{file_id}?token={token}",
        base.trim_end_matches('/')
    )
}
