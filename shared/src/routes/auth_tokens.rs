//! Token exchange: a tenant's server (secret key with `auth:token`) obtains a short-lived JWT
//! for one of its agents, who then uses the console and the agent APIs with it. Also the
//! redemption of invitations, which needs no credential but the invitation's own token.

use crate::audit;
use crate::auth::jwt::{self, JwtKeys};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input;
use crate::router::Ctx;
use crate::users::{invitations, store as users, User, UserStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The user to issue for; give this or `email`.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub user: User,
}

pub async fn issue(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: TokenRequest = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let db = cx.platform.db()?;
    let user = match (&body.user_id, &body.email) {
        (Some(id), None) => users::get(db, tenant_id, id).await?,
        (None, Some(email)) => users::get_by_email(db, tenant_id, email)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?,
        _ => {
            return Err(ApiError::validation(
                "user_id",
                "give exactly one of user_id or email",
            ))
        }
    };
    if user.status != UserStatus::Active {
        return Err(ApiError::forbidden("this user is deactivated"));
    }
    // A key may only mint tokens for users whose role it holds itself: `auth:token` alone
    // cannot become an owner's JWT.
    if cx.principal()?.role_ceiling().is_none_or(|c| user.role > c) {
        return Err(ApiError::forbidden(format!(
            "this credential cannot issue tokens for the {} role",
            user.role.as_str()
        )));
    }
    let keys = JwtKeys::from_config(cx.platform.config.get("jwt_signing_keys"))?;
    let token = keys.issue(&user.id, tenant_id, user.role, cx.now())?;
    audit::record(
        cx,
        tenant_id,
        "auth.token_issued",
        ("user", &user.id),
        None,
        Some(json!({"role": user.role})),
    )
    .await?;
    Ok(Response::json(
        200,
        &TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: jwt::TTL_SECS,
            user,
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
}

pub async fn accept_invitation(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: AcceptInvitation = input::json(&req)?;
    let user = join(cx, &body.token).await?;
    Ok(Response::json(201, &user))
}

/// Accepts an invitation token and records the new user joining (both ways of accepting: a
/// server with the token, or the invited person in the console).
pub(super) async fn join(cx: &Ctx, token: &str) -> ApiResult<User> {
    let p = &cx.platform;
    let user = invitations::accept(p.db()?, &*p.random, token, cx.now()).await?;
    audit::record(
        cx,
        &user.tenant_id,
        "user.join",
        ("user", &user.id),
        None,
        Some(json!({"email": user.email, "role": user.role})),
    )
    .await?;
    Ok(user)
}

/// A fresh token for the calling agent (the console refreshes before expiry). Only agent tokens
/// qualify, and only while the user is active: deactivation stops refreshes too.
pub async fn refresh(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let principal = cx.principal()?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| ApiError::forbidden("only agent tokens can be refreshed"))?;
    let user = users::get(cx.platform.db()?, principal.tenant_id(), user_id).await?;
    let keys = JwtKeys::from_config(cx.platform.config.get("jwt_signing_keys"))?;
    let token = keys.issue(&user.id, principal.tenant_id(), user.role, cx.now())?;
    Ok(Response::json(
        200,
        &TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: jwt::TTL_SECS,
            user,
        },
    ))
}
