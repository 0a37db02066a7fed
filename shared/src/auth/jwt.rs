//! Short-lived JWTs for agents and admins (HS256 via `jwt-compact`, whose clock is injected so
//! the platform's clock port decides time). Signing keys come from configuration as
//! `kid:secret,kid:secret`: the first signs, every listed key verifies, so a rotation is "add the
//! new key first, wait one token lifetime, drop the old one".

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::users::Role;
use chrono::{DateTime, Duration, TimeZone, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::prelude::*;
use jwt_compact::ValidationError;
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "prismai-edge";
pub const AUDIENCE: &str = "prismai-api";
/// Token lifetime: short, so deactivation and role changes bite quickly even offline.
pub const TTL_SECS: i64 = 15 * 60;
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;
const MIN_SECRET_LEN: usize = 32;

/// Our claims besides `exp`/`nbf`/`iat`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The tenant id: a token is only ever valid for its own tenant.
    pub tid: String,
    pub role: Role,
    /// The console session that issued the token (sign-in), if any: revoking the session ends
    /// the token too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Expiry (ms since the epoch), filled in by [`JwtKeys::verify`]; not a claim of its own.
    #[serde(skip)]
    pub exp_ms: i64,
}

/// The configured signing keys.
pub struct JwtKeys {
    keys: Vec<(String, Hs256Key)>,
}

impl JwtKeys {
    /// Parses `kid:secret[,kid:secret…]`. Secrets shorter than 32 bytes are refused: HS256 is
    /// only as strong as its key.
    pub fn from_config(value: Option<&str>) -> ApiResult<JwtKeys> {
        let missing = || {
            ApiError::new(
                ErrorCode::BindingMissing,
                "agent tokens are not configured (JWT_SIGNING_KEYS)",
            )
        };
        let value = value.ok_or_else(missing)?;
        let mut keys = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, secret) = part.split_once(':').ok_or_else(missing)?;
            if kid.is_empty() || secret.len() < MIN_SECRET_LEN {
                return Err(missing());
            }
            keys.push((kid.to_string(), Hs256Key::new(secret.as_bytes())));
        }
        if keys.is_empty() {
            return Err(missing());
        }
        Ok(JwtKeys { keys })
    }

    /// The key that signs new tokens, with its id (`from_config` refuses an empty list).
    pub fn signing_key(&self) -> ApiResult<(String, &Hs256Key)> {
        self.keys
            .first()
            .map(|(kid, key)| (kid.clone(), key))
            .ok_or_else(|| ApiError::internal("no signing key"))
    }

    /// The key a token names, if it is one of ours.
    pub fn verifying_key(&self, kid: &str) -> Option<&Hs256Key> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key)
    }

    /// Issues a token for one user of one tenant.
    pub fn issue(
        &self,
        user_id: &str,
        tenant_id: &str,
        role: Role,
        now_ms: i64,
    ) -> ApiResult<String> {
        self.issue_with_session(user_id, tenant_id, role, None, now_ms)
    }

    /// Issues a token that belongs to a console session.
    pub fn issue_with_session(
        &self,
        user_id: &str,
        tenant_id: &str,
        role: Role,
        sid: Option<&str>,
        now_ms: i64,
    ) -> ApiResult<String> {
        let (kid, key) = self.signing_key()?;
        let now = to_datetime(now_ms);
        let opts = TimeOptions::new(Duration::seconds(LEEWAY_SECS), move || now);
        let claims = Claims::new(AgentClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            tid: tenant_id.into(),
            role,
            sid: sid.map(String::from),
            exp_ms: 0,
        })
        .set_duration_and_issuance(&opts, Duration::seconds(TTL_SECS))
        .set_not_before(now);
        Hs256
            .token(&Header::empty().with_key_id(kid.clone()), &claims, key)
            .map_err(|e| ApiError::internal(format!("token creation failed: {e}")))
    }

    /// Verifies signature (by `kid`), expiry and not-before (with leeway), issuer and audience.
    pub fn verify(&self, token: &str, now_ms: i64) -> ApiResult<AgentClaims> {
        let invalid =
            |why: &str| ApiError::new(ErrorCode::InvalidToken, format!("invalid token: {why}"));
        let untrusted = UntrustedToken::new(token).map_err(|_| invalid("malformed"))?;
        let kid = untrusted
            .header()
            .key_id
            .as_deref()
            .ok_or_else(|| invalid("no key id"))?;
        let key = self
            .verifying_key(kid)
            .ok_or_else(|| invalid("unknown key id"))?;
        let token: Token<AgentClaims> = Hs256
            .validator(key)
            .validate(&untrusted)
            .map_err(|_| invalid("bad signature or algorithm"))?;
        let now = to_datetime(now_ms);
        let opts = TimeOptions::new(Duration::seconds(LEEWAY_SECS), move || now);
        let claims = token.claims();
        if claims.expiration.is_none() {
            return Err(invalid("no expiry"));
        }
        claims.validate_expiration(&opts).map_err(|e| match e {
            ValidationError::Expired => {
                ApiError::new(ErrorCode::TokenExpired, "the token has expired")
            }
            _ => invalid("expiry"),
        })?;
        if claims.not_before.is_some() {
            claims
                .validate_maturity(&opts)
                .map_err(|_| invalid("not yet valid"))?;
        }
        let c = &claims.custom;
        if c.iss != ISSUER {
            return Err(invalid("wrong issuer"));
        }
        if c.aud != AUDIENCE {
            return Err(invalid("wrong audience"));
        }
        let mut c = c.clone();
        c.exp_ms = claims
            .expiration
            .map(|e| e.timestamp_millis())
            .unwrap_or_default();
        Ok(c)
    }
}

fn to_datetime(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// True when a bearer credential has the shape of a JWT (three base64url parts).
pub fn looks_like_jwt(s: &str) -> bool {
    s.split('.').count() == 3
        && s.len() < 4096
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    const K1: &str = "k1:0123456789abcdef0123456789abcdef";
    const K2: &str = "k2:fedcba9876543210fedcba9876543210";
    const NOW: i64 = 1_750_000_000_000;

    #[test]
    fn issues_and_verifies_across_a_rotation() {
        let old = JwtKeys::from_config(Some(K1)).unwrap();
        let rotating = JwtKeys::from_config(Some(&format!("{K2},{K1}"))).unwrap();
        let t = old.issue("usr_1", "ten_1", Role::Agent, NOW).unwrap();
        let c = rotating.verify(&t, NOW + 1000).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.tid.as_str(), c.role),
            ("usr_1", "ten_1", Role::Agent)
        );
        let t2 = rotating.issue("usr_1", "ten_1", Role::Agent, NOW).unwrap();
        assert!(
            old.verify(&t2, NOW).is_err(),
            "new key unknown to the old set"
        );
    }

    #[test]
    fn rejects_expired_premature_tampered_and_foreign_tokens() {
        let keys = JwtKeys::from_config(Some(K1)).unwrap();
        let t = keys.issue("usr_1", "ten_1", Role::Admin, NOW).unwrap();
        let expired = keys
            .verify(&t, NOW + (TTL_SECS + LEEWAY_SECS + 1) * 1000)
            .unwrap_err();
        assert_eq!(expired.code, ErrorCode::TokenExpired);
        assert!(
            keys.verify(&t, NOW + (TTL_SECS + LEEWAY_SECS - 1) * 1000)
                .is_ok(),
            "within leeway"
        );
        assert_eq!(
            keys.verify(&t, NOW - (LEEWAY_SECS + 5) * 1000)
                .unwrap_err()
                .code,
            ErrorCode::InvalidToken
        );
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        assert!(keys.verify(&parts.join("."), NOW).is_err());
        let other = JwtKeys::from_config(Some("k1:ffffffffffffffffffffffffffffffff")).unwrap();
        assert!(other.verify(&t, NOW).is_err(), "same kid, different secret");
        assert!(keys.verify("a.b.c", NOW).is_err());
    }

    #[test]
    fn weak_or_missing_keys_are_refused() {
        assert!(JwtKeys::from_config(None).is_err());
        assert!(JwtKeys::from_config(Some("k1:short")).is_err());
        assert!(JwtKeys::from_config(Some("nocolon")).is_err());
    }
}
