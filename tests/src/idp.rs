//! A local OpenID Connect provider for the browser tests, speaking the standard wire format:
//! discovery (`/.well-known/openid-configuration`), the authorization endpoint (it signs in
//! whoever the test chose, at once, and redirects back with a code), the token endpoint
//! (client_secret_basic, PKCE S256 checked, RS256 ID token with the request's nonce) and the
//! key set (`/jwks`). One per test binary, like the other fakes.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub const CLIENT_ID: &str = "prism-console-e2e";
pub const CLIENT_SECRET: &str = "e2e-idp-client-secret-0123456789";

struct Grant {
    challenge: String,
    nonce: String,
    email: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Inner {
    /// Who the provider considers signed in (the next authorization is for them).
    signed_in: Option<String>,
    codes: HashMap<String, Grant>,
    next: u64,
    issuer: String,
}

#[derive(Clone)]
pub struct Idp {
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key"))
}

impl Idp {
    pub fn shared() -> &'static Idp {
        static I: OnceLock<Idp> = OnceLock::new();
        I.get_or_init(|| {
            key();
            let inner = Arc::new(Mutex::new(Inner::default()));
            let app = Router::new()
                .route("/.well-known/openid-configuration", get(discovery))
                .route("/authorize", get(authorize))
                .route("/token", post(token))
                .route("/jwks", get(jwks))
                .with_state(inner.clone());
            let issuer = crate::fake_server::spawn(app);
            inner.lock().unwrap().issuer = issuer.clone();
            Idp { issuer, inner }
        })
    }

    /// The person the provider signs in next.
    pub fn sign_in_as(&self, email: &str) {
        self.inner.lock().unwrap().signed_in = Some(email.to_string());
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

async fn discovery(State(s): Shared) -> Json<Value> {
    let issuer = s.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    }))
}

async fn authorize(State(s): Shared, RawQuery(raw): RawQuery) -> Response {
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let field = |k: &str| q.get(k).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID
        || field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || field("code_challenge").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "invalid_request").into_response();
    }
    let mut inner = s.lock().unwrap();
    let Some(email) = inner.signed_in.clone() else {
        return Redirect::to(&format!(
            "{}?error=access_denied&state={}",
            field("redirect_uri"),
            field("state")
        ))
        .into_response();
    };
    inner.next += 1;
    let code = format!("code-{}", inner.next);
    inner.codes.insert(
        code.clone(),
        Grant {
            challenge: field("code_challenge"),
            nonce: field("nonce"),
            email,
            redirect_uri: field("redirect_uri"),
        },
    );
    let mut back = url::Url::parse(&field("redirect_uri")).expect("redirect_uri");
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &field("state"));
    Redirect::to(back.as_str()).into_response()
}

async fn token(State(s): Shared, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == basic);
    let invalid = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response();
    if !authorised {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let mut inner = s.lock().unwrap();
    let Some(grant) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
        return invalid("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge
        || form.get("redirect_uri") != Some(&grant.redirect_uri)
    {
        return invalid("invalid_grant");
    }
    let claims = Claims::new(json!({
        "iss": inner.issuer, "sub": format!("sub-{}", grant.email), "aud": CLIENT_ID,
        "nonce": grant.nonce, "email": grant.email, "email_verified": true,
        "name": grant.email.split('@').next().unwrap_or("someone"),
    }))
    .set_duration_and_issuance(
        &TimeOptions::new(chrono::Duration::seconds(0), chrono::Utc::now),
        chrono::Duration::minutes(5),
    );
    let id_token = Rsa::rs256()
        .token(&Header::empty().with_key_id("e2e-1"), &claims, key())
        .expect("sign");
    Json(json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))
        .into_response()
}

async fn jwks() -> Json<Value> {
    let public = RsaPublicKey::from(key());
    let mut jwk = serde_json::to_value(JsonWebKey::from(&public)).expect("jwk");
    jwk["kid"] = json!("e2e-1");
    jwk["use"] = json!("sig");
    jwk["alg"] = json!("RS256");
    Json(json!({"keys": [jwk]}))
}
