//! Agents and admins sign themselves in to the console: the methods a workspace offers, email
//! links, invitations accepted in the browser, and the session routes that renew and end a
//! console session (its refresh token travels only in an HttpOnly cookie, never in a body).

use crate::audit;
use crate::auth::jwt::{self, JwtKeys};
use crate::auth::sign_in::sessions::{self, Method};
use crate::auth::sign_in::{magic_link, oidc, SignInConfig};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input::{self, check};
use crate::platform::Platform;
use crate::router::Ctx;
use crate::tenancy::{store as tenants, Tenant, TenantStatus};
use crate::users::{store as users, User, UserStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Where links in emails point: the configured public base URL, else the origin the request
/// reached (the console's own).
pub fn link_base(p: &Platform, req: &Request) -> String {
    p.config
        .get("public_base_url")
        .map(String::from)
        .unwrap_or_else(|| req.origin.clone())
}

async fn workspace(p: &Platform, slug: &str) -> ApiResult<(Tenant, SignInConfig)> {
    let none = || ApiError::not_found("workspace");
    check::slug("tenant", slug).map_err(|_| none())?;
    let db = p.db()?;
    let tenant = tenants::by_slug(db, slug).await?.ok_or_else(none)?;
    if tenant.status != TenantStatus::Active {
        return Err(none());
    }
    let (cfg, _) = tenants::config(db, &tenant.id).await?;
    Ok((tenant, cfg.sign_in))
}

#[derive(Serialize, JsonSchema)]
pub struct Methods {
    pub tenant: String,
    pub name: String,
    /// Email sign-in links are on and an email sender is set up.
    pub magic_link: bool,
    /// The single sign-on button's label, when the workspace uses an identity provider.
    pub oidc: Option<String>,
}

/// `GET /v1/auth/methods?tenant=slug`: what the sign-in page offers for a workspace.
pub async fn methods(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let slug = req.query_param("tenant").unwrap_or_default();
    let (tenant, cfg) = workspace(&cx.platform, &slug).await?;
    let magic_link = cfg.magic_link
        && crate::mail::sender(&cx.platform, &tenant.id)
            .await?
            .is_some();
    Ok(Response::json(
        200,
        &Methods {
            tenant: tenant.slug,
            name: tenant.name,
            magic_link,
            oidc: cfg
                .oidc
                .map(|o| o.label.unwrap_or_else(|| "Single sign-on".into())),
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The workspace (tenant slug).
    pub tenant: String,
    pub email: String,
}

#[derive(Serialize, JsonSchema)]
pub struct LinkRequested {
    /// Always the same answer, whether or not the address belongs to anyone.
    pub message: &'static str,
}

/// `POST /v1/auth/magic-link`: emails a one-time sign-in link.
pub async fn request_link(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: LinkRequest = input::json(&req)?;
    check::email("email", &body.email)?;
    let p = &cx.platform;
    let (tenant, cfg) = workspace(p, &body.tenant).await?;
    if !cfg.magic_link {
        return Err(ApiError::forbidden(
            "this workspace does not use email sign-in links",
        ));
    }
    let ip = crate::auth::gateway::client_ip(p, &req);
    magic_link::request(p, &tenant, &cfg, &body.email, &ip, &link_base(p, &req)).await?;
    Ok(Response::json(
        202,
        &LinkRequested {
            message: "if this address may sign in, a link is on its way",
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    pub token: String,
}

#[derive(Serialize, JsonSchema)]
pub struct SignedIn {
    /// A short-lived agent token for the API and the live sockets.
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: User,
}

/// Starts a session for `user` and answers with its first access token and the cookie.
pub async fn signed_in(
    cx: &Ctx,
    req: &Request,
    user: User,
    method: Method,
    status: u16,
) -> ApiResult<Response> {
    if user.status != UserStatus::Active {
        return Err(ApiError::forbidden("this user is deactivated"));
    }
    let p = &cx.platform;
    let (session, refresh) = sessions::open(
        p,
        &user.tenant_id,
        &user.id,
        method,
        req.header("user-agent"),
    )
    .await?;
    audit::record(
        cx,
        &user.tenant_id,
        "auth.sign_in",
        ("user", &user.id),
        None,
        Some(json!({"method": method.as_str(), "session": session.id})),
    )
    .await?;
    let mut resp = access(p, user, &session.id, status)?;
    sessions::set_cookie(&mut resp, Some(&refresh));
    Ok(resp)
}

fn access(p: &Platform, user: User, session_id: &str, status: u16) -> ApiResult<Response> {
    let keys = JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
    let token = keys.issue_with_session(
        &user.id,
        &user.tenant_id,
        user.role,
        Some(session_id),
        p.now_ms(),
    )?;
    Ok(Response::json(
        status,
        &SignedIn {
            access_token: token,
            token_type: "Bearer",
            expires_in: jwt::TTL_SECS,
            user,
        },
    ))
}

/// `POST /v1/auth/magic-link/redeem`: the link's token for a session.
pub async fn redeem_link(cx: &Ctx, req: Request) -> ApiResult<Response> {
    sessions::same_origin(&req)?;
    let body: Redeem = input::json(&req)?;
    let user = magic_link::redeem(&cx.platform, &body.token).await?;
    signed_in(cx, &req, user, Method::MagicLink, 200).await
}

/// `POST /v1/auth/invitation`: accepts an invitation in the browser and signs the new user in.
pub async fn accept_invitation(cx: &Ctx, req: Request) -> ApiResult<Response> {
    sessions::same_origin(&req)?;
    let body: Redeem = input::json(&req)?;
    let user = super::auth_tokens::join(cx, &body.token).await?;
    signed_in(cx, &req, user, Method::Invitation, 201).await
}

/// `POST /v1/auth/session/refresh`: a new access token for the session in the cookie, which
/// is rotated.
pub async fn refresh(cx: &Ctx, req: Request) -> ApiResult<Response> {
    sessions::same_origin(&req)?;
    let p = &cx.platform;
    let presented =
        sessions::from_cookie(&req).ok_or_else(|| ApiError::unauthorized("no session: sign in"))?;
    let (session, next) = match sessions::rotate(p, &presented).await {
        Ok(s) => s,
        Err(e) if e.status() == 401 => {
            let mut resp = e.into_response(&cx.request_id);
            sessions::set_cookie(&mut resp, None);
            return Ok(resp);
        }
        Err(e) => return Err(e),
    };
    let user = users::get(p.db()?, &session.tenant_id, &session.user_id).await?;
    if user.status != UserStatus::Active {
        sessions::revoke_all(p, &session.tenant_id, &user.id).await?;
        return Err(ApiError::unauthorized("this user is deactivated"));
    }
    let mut resp = access(p, user, &session.id, 200)?;
    sessions::set_cookie(&mut resp, Some(&next));
    Ok(resp)
}

/// `POST /v1/auth/session/logout`: ends the session in the cookie (and its access tokens).
pub async fn logout(cx: &Ctx, req: Request) -> ApiResult<Response> {
    sessions::same_origin(&req)?;
    let p = &cx.platform;
    if let Some(token) = sessions::from_cookie(&req) {
        // Rotating proves possession; a token that no longer rotates has nothing left to end.
        if let Ok((session, _)) = sessions::rotate(p, &token).await {
            sessions::revoke(p, &session.tenant_id, &session.id).await?;
        }
    }
    let mut resp = Response::new(204);
    sessions::set_cookie(&mut resp, None);
    Ok(resp)
}

/// `POST /v1/auth/sessions/revoke`: signs the calling user out everywhere.
pub async fn revoke_all(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let principal = cx.principal()?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| ApiError::forbidden("only a signed-in user has sessions"))?;
    let n = sessions::revoke_all(&cx.platform, principal.tenant_id(), user_id).await?;
    audit::record(
        cx,
        principal.tenant_id(),
        "auth.sign_out_everywhere",
        ("user", user_id),
        None,
        Some(json!({"sessions": n})),
    )
    .await?;
    Ok(Response::new(204))
}

/// The callback URL registered at the identity provider.
pub fn oidc_redirect_uri(p: &Platform, req: &Request) -> String {
    format!(
        "{}/v1/auth/oidc/callback",
        link_base(p, req).trim_end_matches('/')
    )
}

fn redirect(location: &str) -> Response {
    let mut r = Response::new(302);
    r.headers.set("location", location);
    r
}

/// `GET /v1/auth/oidc/start?tenant=slug`: sends the browser to the workspace's provider.
pub async fn oidc_start(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let p = &cx.platform;
    let slug = req.query_param("tenant").unwrap_or_default();
    let (tenant, cfg) = workspace(p, &slug).await?;
    let oidc = cfg
        .oidc
        .ok_or_else(|| ApiError::not_found("single sign-on for this workspace"))?;
    let started = oidc::start(p, &tenant.id, &oidc, &oidc_redirect_uri(p, &req)).await?;
    let mut resp = redirect(&started.authorize_url);
    // Lax: the provider sends the browser back with a top-level GET from its own site.
    resp.headers.append(
        "set-cookie",
        format!(
            "{}={}; Path={}; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
            oidc::STATE_COOKIE,
            started.state,
            oidc::STATE_COOKIE_PATH,
            oidc::REQUEST_TTL_MS / 1000
        ),
    );
    Ok(resp)
}

fn state_cookie(req: &Request) -> Option<String> {
    req.header("cookie")?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == oidc::STATE_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// `GET /v1/auth/oidc/callback`: the provider sends the browser back here. Success starts a
/// console session and lands on the console; any failure lands there with a short reason
/// (details go to the log, never to the URL).
pub async fn oidc_callback(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let mut resp = match oidc_complete(cx, &req).await {
        Ok(resp) => resp,
        Err(e) => {
            cx.platform.log.log(
                &json!({"level": "warn", "msg": "single sign-on refused", "request_id": cx.request_id, "code": e.code.as_str(), "reason": e.message})
                    .to_string(),
            );
            redirect(&format!("/console#error={}", e.code.as_str()))
        }
    };
    resp.headers.append(
        "set-cookie",
        format!(
            "{}=; Path={}; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
            oidc::STATE_COOKIE,
            oidc::STATE_COOKIE_PATH
        ),
    );
    Ok(resp)
}

async fn oidc_complete(cx: &Ctx, req: &Request) -> ApiResult<Response> {
    let p = &cx.platform;
    let state = req
        .query_param("state")
        .ok_or_else(|| ApiError::bad_request("no state"))?;
    // The state must be the one this browser started with: a link someone else started
    // cannot sign this browser in (login CSRF).
    let bound = state_cookie(req)
        .is_some_and(|c| subtle::ConstantTimeEq::ct_eq(c.as_bytes(), state.as_bytes()).into());
    if !bound {
        return Err(ApiError::forbidden(
            "this sign-in was started in another browser",
        ));
    }
    let pending = oidc::take(p, &state).await?;
    if let Some(err) = req.query_param("error") {
        return Err(ApiError::forbidden(format!(
            "the identity provider declined: {}",
            err.chars().take(60).collect::<String>()
        )));
    }
    let code = req
        .query_param("code")
        .ok_or_else(|| ApiError::bad_request("no code"))?;
    let db = p.db()?;
    let (cfg, _) = tenants::config(db, &pending.tenant_id).await?;
    let oidc_cfg = cfg
        .sign_in
        .oidc
        .clone()
        .ok_or_else(|| ApiError::forbidden("single sign-on was turned off"))?;
    let secret =
        crate::tenancy::secrets::get(p, &pending.tenant_id, &oidc_cfg.client_secret_secret)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    crate::error::ErrorCode::Conflict,
                    "the workspace's single sign-on client secret is not set",
                )
            })?;
    let who = oidc::finish(p, &oidc_cfg, &secret, &pending, &code).await?;
    let user = match users::get_by_email(db, &pending.tenant_id, &who.email).await? {
        Some(u) => u,
        None if cfg.sign_in.may_join(&who.email) => {
            magic_link::join(p, &pending.tenant_id, &who.email, cfg.sign_in.join_role).await?
        }
        None => {
            return Err(ApiError::forbidden(
                "no account for this email in the workspace; ask an admin for an invitation",
            ))
        }
    };
    let signed = signed_in(cx, req, user, Method::Oidc, 200).await?;
    // The console picks the session up from the cookie; the access token is not put in a URL.
    let mut resp = redirect("/console#signed-in");
    for (n, v) in signed.headers.iter() {
        if n.eq_ignore_ascii_case("set-cookie") {
            resp.headers.append(n, v);
        }
    }
    Ok(resp)
}
