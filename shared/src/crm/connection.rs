//! A tenant's connection to its CRM: the OAuth 2.0 authorization-code flow (a single-use
//! `state` bound to the tenant, stored hashed, ten minutes; PKCE where the provider supports
//! it), the tokens sealed in the tenant's secrets, refreshed before they expire or when the
//! CRM refuses one. The platform holds one OAuth app per provider (`HUBSPOT_CLIENT_ID`, …);
//! tenants only ever authorise it.

use super::Provider;
use crate::egress::{self, Limits};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::params;
use crate::platform::Platform;
use crate::tenancy::secrets;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a started connection may take to come back.
const STATE_TTL_MS: i64 = 600_000;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Connection {
    pub provider: Provider,
    /// `connected`, or `error` when the CRM stopped accepting the tokens (connect again).
    pub status: String,
    /// Salesforce: the org's API host.
    pub instance_url: Option<String>,
    pub last_error: Option<String>,
    pub last_sync_at: Option<i64>,
    pub connected_at: i64,
}

/// The provider's OAuth endpoints and the platform's app.
struct App {
    client_id: String,
    client_secret: String,
    authorize_url: String,
    token_url: String,
    scope: &'static str,
    pkce: bool,
}

fn app(p: &Platform, provider: Provider) -> ApiResult<App> {
    let missing = || {
        ApiError::new(
            ErrorCode::Conflict,
            format!(
                "this platform has no {} app configured ({}_CLIENT_ID and {}_CLIENT_SECRET)",
                provider.as_str(),
                provider.as_str().to_uppercase(),
                provider.as_str().to_uppercase()
            ),
        )
    };
    let get = |k: &str| {
        p.config
            .get(&format!("{}_{k}", provider.as_str()))
            .map(str::to_string)
    };
    let (client_id, client_secret) = (
        get("client_id").ok_or_else(missing)?,
        get("client_secret").ok_or_else(missing)?,
    );
    Ok(match provider {
        Provider::Hubspot => App {
            client_id,
            client_secret,
            authorize_url: format!(
                "{}/oauth/authorize",
                get("auth_url").unwrap_or_else(|| "https://app.hubspot.com".into())
            ),
            token_url: format!("{}/oauth/v1/token", super::hubspot::api_base(p)),
            scope: "crm.objects.contacts.read crm.objects.contacts.write",
            pkce: false,
        },
        Provider::Salesforce => {
            let login = get("login_url").unwrap_or_else(|| "https://login.salesforce.com".into());
            App {
                client_id,
                client_secret,
                authorize_url: format!("{login}/services/oauth2/authorize"),
                token_url: format!("{login}/services/oauth2/token"),
                scope: "api refresh_token",
                pkce: true,
            }
        }
    })
}

fn redirect_uri(base: &str, provider: Provider) -> String {
    format!(
        "{}/v1/crm/{}/callback",
        base.trim_end_matches('/'),
        provider.as_str()
    )
}

fn hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_token(p: &Platform) -> String {
    let mut b = [0u8; 32];
    p.random.fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Starts connecting: the URL to send the admin's browser to.
pub async fn start(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    base: &str,
) -> ApiResult<String> {
    let app = app(p, provider)?;
    let state = random_token(p);
    let verifier = random_token(p);
    let now = p.now_ms();
    p.db()?
        .execute(
            "INSERT INTO crm_oauth_states (state_hash, tenant_id, provider, verifier, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            &params![hash(&state), tenant_id, provider.as_str(), verifier.as_str(), now + STATE_TTL_MS],
        )
        .await?;
    let mut url = url::Url::parse(&app.authorize_url)
        .map_err(|_| ApiError::internal("bad CRM authorize URL"))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", &redirect_uri(base, provider))
            .append_pair("scope", app.scope)
            .append_pair("state", &state);
        if app.pkce {
            q.append_pair(
                "code_challenge",
                &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            )
            .append_pair("code_challenge_method", "S256");
        }
    }
    Ok(url.to_string())
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    instance_url: Option<String>,
}

async fn token_call(p: &Platform, app: &App, form: &[(&str, &str)]) -> ApiResult<TokenAnswer> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .append_pair("client_id", &app.client_id)
        .append_pair("client_secret", &app.client_secret)
        .finish();
    let mut req = Request::new(Method::Post, &app.token_url)
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("accept", "application/json");
    req.body = body.into_bytes();
    let got = egress::fetch(p, req, Limits::API)
        .await
        .map_err(|e| ApiError::new(ErrorCode::UpstreamError, format!("CRM token call: {e}")))?;
    if got.status != 200 {
        return Err(ApiError::new(
            ErrorCode::UpstreamError,
            format!("the CRM refused the token request ({})", got.status),
        ));
    }
    serde_json::from_slice(&got.body).map_err(|_| {
        ApiError::new(
            ErrorCode::UpstreamError,
            "the CRM's token answer is unreadable",
        )
    })
}

fn secret_name(provider: Provider, which: &str) -> String {
    format!("crm:{}:{which}", provider.as_str())
}

async fn store_tokens(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    t: &TokenAnswer,
) -> ApiResult<()> {
    let now = p.now_ms();
    secrets::put(
        p,
        tenant_id,
        &secret_name(provider, "access"),
        &t.access_token,
        now,
    )
    .await?;
    if let Some(r) = &t.refresh_token {
        secrets::put(p, tenant_id, &secret_name(provider, "refresh"), r, now).await?;
    }
    // Salesforce sessions have no fixed lifetime: its tokens are refreshed when refused.
    let expires_at = t.expires_in.map(|s| now + s * 1000 - 60_000);
    if let Some(u) = &t.instance_url {
        egress::check_url(u, egress::allow_local(p)).map_err(|r| {
            ApiError::new(
                ErrorCode::UpstreamError,
                format!("the CRM's instance URL {}", r.message()),
            )
        })?;
    }
    p.db()?
        .execute(
            "INSERT INTO crm_connections (tenant_id, provider, status, instance_url, expires_at, last_error, connected_at, updated_at)
             VALUES (?1, ?2, 'connected', ?3, ?4, NULL, ?5, ?5)
             ON CONFLICT (tenant_id, provider) DO UPDATE SET status = 'connected', last_error = NULL,
               instance_url = COALESCE(excluded.instance_url, crm_connections.instance_url),
               expires_at = excluded.expires_at, updated_at = excluded.updated_at",
            &params![tenant_id, provider.as_str(), t.instance_url.as_deref(), expires_at, now],
        )
        .await?;
    Ok(())
}

/// Finishes connecting (the provider redirected back with `code` and `state`); returns the
/// tenant that started it. The state works once.
pub async fn finish(
    p: &Platform,
    provider: Provider,
    code: &str,
    state: &str,
    base: &str,
) -> ApiResult<String> {
    let db = p.db()?;
    let rows = db
        .query(
            "SELECT tenant_id, provider, verifier, expires_at FROM crm_oauth_states WHERE state_hash = ?1",
            &params![hash(state)],
        )
        .await?;
    db.execute(
        "DELETE FROM crm_oauth_states WHERE state_hash = ?1 OR expires_at < ?2",
        &params![hash(state), p.now_ms()],
    )
    .await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "unknown or used state"))?;
    if row.text("provider").as_deref() != Some(provider.as_str())
        || row.int("expires_at").unwrap_or(0) < p.now_ms()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidToken,
            "expired or mismatched state",
        ));
    }
    let tenant_id = row.text("tenant_id").unwrap_or_default();
    let verifier = row.text("verifier").unwrap_or_default();
    let app = app(p, provider)?;
    let redirect = redirect_uri(base, provider);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
    ];
    if app.pkce {
        form.push(("code_verifier", verifier.as_str()));
    }
    let t = token_call(p, &app, &form).await?;
    store_tokens(p, &tenant_id, provider, &t).await?;
    Ok(tenant_id)
}

pub async fn get(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
) -> ApiResult<Option<Connection>> {
    let rows = p
        .db()?
        .query(
            "SELECT provider, status, instance_url, last_error, last_sync_at, connected_at FROM crm_connections WHERE tenant_id = ?1 AND provider = ?2",
            &params![tenant_id, provider.as_str()],
        )
        .await?;
    Ok(rows.first().map(|r| Connection {
        provider,
        status: r.text("status").unwrap_or_default(),
        instance_url: r.text("instance_url"),
        last_error: r.text("last_error"),
        last_sync_at: r.int("last_sync_at"),
        connected_at: r.int("connected_at").unwrap_or(0),
    }))
}

pub async fn list(p: &Platform, tenant_id: &str) -> ApiResult<Vec<Connection>> {
    let mut out = Vec::new();
    for provider in Provider::ALL {
        out.extend(get(p, tenant_id, provider).await?);
    }
    Ok(out)
}

/// Providers the tenant is connected to (pushes are queued only for these).
pub async fn connected(p: &Platform, tenant_id: &str) -> ApiResult<Vec<Provider>> {
    let rows = p
        .db()?
        .query(
            "SELECT provider FROM crm_connections WHERE tenant_id = ?1 AND status = 'connected'",
            &params![tenant_id],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.text("provider").as_deref().and_then(Provider::parse))
        .collect())
}

/// A usable access token (refreshed first when it expired, or when `refresh` asks because the
/// CRM refused the last one), and the API host.
pub async fn access(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    refresh: bool,
) -> ApiResult<(String, Option<String>)> {
    let rows = p
        .db()?
        .query(
            "SELECT status, instance_url, expires_at FROM crm_connections WHERE tenant_id = ?1 AND provider = ?2",
            &params![tenant_id, provider.as_str()],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::not_found("CRM connection"))?;
    if row.text("status").as_deref() != Some("connected") {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the CRM connection needs to be connected again",
        ));
    }
    let instance = row.text("instance_url");
    let expired = row.int("expires_at").is_some_and(|e| e <= p.now_ms());
    if !refresh && !expired {
        if let Some(t) = secrets::get(p, tenant_id, &secret_name(provider, "access")).await? {
            return Ok((t, instance));
        }
    }
    let refresh_token = secrets::get(p, tenant_id, &secret_name(provider, "refresh"))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "no refresh token: connect the CRM again",
            )
        })?;
    let app = app(p, provider)?;
    match token_call(
        p,
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
        ],
    )
    .await
    {
        Ok(t) => {
            store_tokens(p, tenant_id, provider, &t).await?;
            Ok((t.access_token, t.instance_url.or(instance)))
        }
        Err(e) => {
            mark_error(
                p,
                tenant_id,
                provider,
                &format!("token refresh failed: {}", e.message),
            )
            .await?;
            Err(e)
        }
    }
}

pub async fn mark_error(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    error: &str,
) -> ApiResult<()> {
    p.db()?
        .execute(
            "UPDATE crm_connections SET status = 'error', last_error = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND provider = ?2",
            &params![tenant_id, provider.as_str(), error, p.now_ms()],
        )
        .await?;
    Ok(())
}

/// Forgets the connection: tokens, links to remote records, queued pushes.
pub async fn disconnect(p: &Platform, tenant_id: &str, provider: Provider) -> ApiResult<bool> {
    let db = p.db()?;
    let (t, pv) = (tenant_id, provider.as_str());
    let n = db
        .batch(vec![
            crate::ports::Statement::new(
                "DELETE FROM crm_connections WHERE tenant_id = ?1 AND provider = ?2",
                params![t, pv],
            ),
            crate::ports::Statement::new(
                "DELETE FROM crm_links WHERE tenant_id = ?1 AND provider = ?2",
                params![t, pv],
            ),
            crate::ports::Statement::new(
                "DELETE FROM crm_jobs WHERE tenant_id = ?1 AND provider = ?2",
                params![t, pv],
            ),
            crate::ports::Statement::new(
                "DELETE FROM tenant_secrets WHERE tenant_id = ?1 AND name IN (?2, ?3)",
                params![
                    t,
                    secret_name(provider, "access"),
                    secret_name(provider, "refresh")
                ],
            ),
        ])
        .await?;
    Ok(n.first().copied().unwrap_or(0) > 0)
}
