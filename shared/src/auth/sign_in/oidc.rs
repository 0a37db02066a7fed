//! Single sign-on with a tenant's OpenID Connect provider (authorization code flow).
//!
//! What makes it safe, step by step: the provider is found by discovery from the configured
//! issuer, and every URL it names passes the egress guard; the request carries PKCE (S256), a
//! state bound to this browser by a cookie, and a nonce; the code is redeemed with the client
//! secret; the ID token must be RS256-signed by a key the provider publishes (2048 bits or
//! more), name the configured issuer, list our client id as audience (and as `azp` when there
//! are several), be unexpired, carry our nonce, and name an email the provider has not marked
//! unverified. The person is matched by that email, or joins when the tenant lets their domain.
//! JWT parsing is `jwt-compact`'s (with its RSA backend): nothing cryptographic is hand-written.

use super::OidcConfig;
use crate::egress::{self, Limits};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::params;
use crate::platform::Platform;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use jwt_compact::alg::{Rsa, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How long a sign-in may take at the provider.
pub const REQUEST_TTL_MS: i64 = 10 * 60_000;
/// The cookie binding an authorization request to the browser that started it.
pub const STATE_COOKIE: &str = "prism_oidc";
pub const STATE_COOKIE_PATH: &str = "/v1/auth/oidc";
const METADATA_TTL_MS: i64 = 3_600_000;
const LEEWAY_SECS: i64 = 60;

/// The provider's endpoints, from `/.well-known/openid-configuration`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

fn refused(why: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::UpstreamError, why)
}

fn hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

async fn get_json(p: &Platform, url: &str) -> ApiResult<Value> {
    egress::check_url(url, egress::allow_local(p))
        .map_err(|e| refused(format!("identity provider URL refused: {e:?}")))?;
    let resp = egress::fetch(p, Request::new(Method::Get, url), Limits::API)
        .await
        .map_err(|e| refused(format!("identity provider unreachable: {e}")))?;
    if resp.status != 200 {
        return Err(refused(format!(
            "identity provider answered {}",
            resp.status
        )));
    }
    serde_json::from_slice(&resp.body).map_err(|_| refused("identity provider sent invalid JSON"))
}

/// Discovery for an issuer (kept an hour in isolate memory).
pub async fn discover(p: &Platform, issuer: &str) -> ApiResult<Discovery> {
    let memo_key = format!("oidc-discovery:{issuer}");
    let now = p.now_ms();
    if let Some(d) = p.memo.get_json::<Discovery>(&memo_key, now) {
        return Ok(d);
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let d: Discovery = serde_json::from_value(get_json(p, &url).await?)
        .map_err(|_| refused("identity provider metadata lacks required endpoints"))?;
    // The metadata must be the issuer's own (OpenID Connect Discovery §4.3).
    if d.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(refused("identity provider metadata names another issuer"));
    }
    for u in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
        egress::check_url(u, egress::allow_local(p))
            .map_err(|e| refused(format!("identity provider endpoint refused: {e:?}")))?;
    }
    p.memo.put_json(&memo_key, &d, METADATA_TTL_MS, now);
    Ok(d)
}

/// A started sign-in: where to send the browser, and the state for its cookie.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
}

/// Starts a sign-in for a tenant: stores the PKCE verifier and nonce under the state.
pub async fn start(
    p: &Platform,
    tenant_id: &str,
    cfg: &OidcConfig,
    redirect_uri: &str,
) -> ApiResult<Started> {
    let d = discover(p, &cfg.issuer).await?;
    let state = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let nonce = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let verifier = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let now = p.now_ms();
    let db = p.db()?;
    db.execute(
        "DELETE FROM oidc_requests WHERE expires_at < ?1",
        &params![now],
    )
    .await?;
    db.execute(
        "INSERT INTO oidc_requests (state_hash, tenant_id, verifier, nonce, redirect_uri, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &params![hash(&state), tenant_id, verifier.as_str(), nonce.as_str(), redirect_uri, now + REQUEST_TTL_MS],
    )
    .await?;
    let mut url = url::Url::parse(&d.authorization_endpoint)
        .map_err(|_| refused("identity provider authorization endpoint is not a URL"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(Started {
        authorize_url: url.into(),
        state,
    })
}

/// The authorization request a callback answers, consumed (a state works once).
pub struct Pending {
    pub tenant_id: String,
    verifier: String,
    nonce: String,
    redirect_uri: String,
}

/// Finds and deletes the request for `state`, if it is live.
pub async fn take(p: &Platform, state: &str) -> ApiResult<Pending> {
    let gone = || {
        ApiError::new(
            ErrorCode::InvalidToken,
            "this sign-in attempt is unknown or expired; start again",
        )
    };
    let db = p.db()?;
    let h = hash(state);
    let rows = db
        .query(
            "SELECT tenant_id, verifier, nonce, redirect_uri, expires_at FROM oidc_requests WHERE state_hash = ?1",
            &params![h.as_str()],
        )
        .await?;
    let row = rows.first().ok_or_else(gone)?;
    let deleted = db
        .execute(
            "DELETE FROM oidc_requests WHERE state_hash = ?1",
            &params![h.as_str()],
        )
        .await?;
    if deleted != 1 || row.int("expires_at").unwrap_or(0) <= p.now_ms() {
        return Err(gone());
    }
    Ok(Pending {
        tenant_id: row.text("tenant_id").unwrap_or_default(),
        verifier: row.text("verifier").unwrap_or_default(),
        nonce: row.text("nonce").unwrap_or_default(),
        redirect_uri: row.text("redirect_uri").unwrap_or_default(),
    })
}

/// Who the provider says signed in.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    pub subject: String,
    /// Normalised (lower-case) address.
    pub email: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    id_token: String,
}

/// Redeems the code and verifies the ID token it comes with.
pub async fn finish(
    p: &Platform,
    cfg: &OidcConfig,
    client_secret: &str,
    pending: &Pending,
    code: &str,
) -> ApiResult<Identity> {
    let d = discover(p, &cfg.issuer).await?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &pending.redirect_uri)
        .append_pair("code_verifier", &pending.verifier)
        .finish();
    // client_secret_basic (RFC 6749 §2.3.1): both parts form-urlencoded, then base64.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = STANDARD.encode(format!("{}:{}", enc(&cfg.client_id), enc(client_secret)));
    let req = Request::new(Method::Post, &d.token_endpoint)
        .with_header("authorization", &format!("Basic {basic}"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("accept", "application/json")
        .with_body(form.into_bytes());
    let resp = egress::fetch(p, req, Limits::API)
        .await
        .map_err(|e| refused(format!("identity provider unreachable: {e}")))?;
    if resp.status != 200 {
        return Err(refused(format!(
            "identity provider refused the code ({})",
            resp.status
        )));
    }
    let reply: TokenReply = serde_json::from_slice(&resp.body)
        .map_err(|_| refused("identity provider answered without an ID token"))?;
    verify_id_token(p, cfg, &d, &reply.id_token, &pending.nonce).await
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    name: Option<String>,
}

/// The provider's signing keys by key id (kept an hour; re-read when a token names an unknown
/// key, which is how providers roll keys, at most once a minute).
async fn signing_key(p: &Platform, d: &Discovery, kid: Option<&str>) -> ApiResult<RsaPublicKey> {
    let memo_key = format!("oidc-jwks:{}", d.jwks_uri);
    let fetched_key = format!("oidc-jwks-fetched:{}", d.jwks_uri);
    let now = p.now_ms();
    let mut jwks = p.memo.get_json::<Value>(&memo_key, now);
    for attempt in 0..2 {
        if let Some(set) = &jwks {
            if let Some(k) = pick(set, kid) {
                return k;
            }
        }
        if attempt == 1 || p.memo.get(&fetched_key, now).is_some() && jwks.is_some() {
            break;
        }
        let set = get_json(p, &d.jwks_uri).await?;
        p.memo.put_json(&memo_key, &set, METADATA_TTL_MS, now);
        p.memo.put(&fetched_key, Vec::new(), 60_000, now);
        jwks = Some(set);
    }
    Err(refused(
        "the ID token is signed with a key the provider does not publish",
    ))
}

fn pick(set: &Value, kid: Option<&str>) -> Option<ApiResult<RsaPublicKey>> {
    let keys = set.get("keys")?.as_array()?;
    let rsa: Vec<&Value> = keys
        .iter()
        .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .collect();
    let key = match kid {
        Some(kid) => rsa
            .into_iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))?,
        None if rsa.len() == 1 => rsa.into_iter().next()?,
        None => return None,
    };
    let jwk: JsonWebKey<'_> = match serde_json::from_value(serde_json::json!({
        "kty": "RSA", "n": key.get("n")?, "e": key.get("e")?
    })) {
        Ok(j) => j,
        Err(_) => return Some(Err(refused("the provider published a malformed key"))),
    };
    if let JsonWebKey::Rsa { modulus, .. } = &jwk {
        if modulus.len() < 256 {
            return Some(Err(refused("the provider's key is shorter than 2048 bits")));
        }
    }
    Some(
        RsaPublicKey::try_from(&jwk).map_err(|_| refused("the provider published an unusable key")),
    )
}

async fn verify_id_token(
    p: &Platform,
    cfg: &OidcConfig,
    d: &Discovery,
    id_token: &str,
    nonce: &str,
) -> ApiResult<Identity> {
    let bad =
        |why: &str| ApiError::new(ErrorCode::InvalidToken, format!("ID token refused: {why}"));
    let untrusted = UntrustedToken::new(id_token).map_err(|_| bad("malformed"))?;
    if untrusted.algorithm() != "RS256" {
        return Err(bad("only RS256 is accepted"));
    }
    let key = signing_key(p, d, untrusted.header().key_id.as_deref()).await?;
    let token: Token<IdClaims> = Rsa::rs256()
        .validator(&key)
        .validate(&untrusted)
        .map_err(|_| bad("signature"))?;
    let claims = token.claims();
    let now = Utc
        .timestamp_millis_opt(p.now_ms())
        .single()
        .unwrap_or_default();
    let opts = TimeOptions::new(Duration::seconds(LEEWAY_SECS), move || now);
    if claims.expiration.is_none() || claims.issued_at.is_none() {
        return Err(bad("no expiry or issue time"));
    }
    claims
        .validate_expiration(&opts)
        .map_err(|_| bad("expired"))?;
    let c = &claims.custom;
    if c.iss.trim_end_matches('/') != cfg.issuer.trim_end_matches('/') {
        return Err(bad("issuer"));
    }
    let audiences: Vec<&str> = match &c.aud {
        Audience::One(a) => vec![a.as_str()],
        Audience::Many(a) => a.iter().map(String::as_str).collect(),
    };
    if !audiences.contains(&cfg.client_id.as_str()) {
        return Err(bad("audience"));
    }
    if audiences.len() > 1 && c.azp.as_deref() != Some(cfg.client_id.as_str()) {
        return Err(bad("authorized party"));
    }
    let nonce_ok = c
        .nonce
        .as_deref()
        .is_some_and(|n| subtle::ConstantTimeEq::ct_eq(n.as_bytes(), nonce.as_bytes()).into());
    if !nonce_ok {
        return Err(bad("nonce"));
    }
    let email = c
        .email
        .as_deref()
        .map(crate::users::store::normalise_email)
        .filter(|e| crate::input::check::email("email", e).is_ok())
        .ok_or_else(|| bad("no email address (ask for the email scope)"))?;
    if c.email_verified == Some(false) {
        return Err(bad("the provider has not verified this email address"));
    }
    Ok(Identity {
        subject: c.sub.clone(),
        email,
        name: c.name.clone(),
    })
}
