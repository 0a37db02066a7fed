//! The tenant's users (agents, admins) and invitations.

use crate::audit;
use crate::auth::credentials;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::input::{self, check};
use crate::pagination::PageRequest;
use crate::router::Ctx;
use crate::users::invitations::{self, Invitation};
use crate::users::{store as users, Role, UserStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &users::list(cx.platform.db()?, cx.tenant_id()?, &page).await?,
    ))
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &users::get(cx.platform.db()?, cx.tenant_id()?, req.param("user_id")).await?,
    ))
}

/// Refuses to grant, change or invite a role above what the caller itself holds (a scoped key
/// or an admin can never make or touch an owner).
fn within_ceiling(cx: &Ctx, role: Role, what: &str) -> ApiResult<()> {
    match cx.principal()?.role_ceiling() {
        Some(ceiling) if role <= ceiling => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "this credential cannot {what} a user with the {} role",
            role.as_str()
        ))),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// `deactivated` signs the user out everywhere on their next request.
    #[serde(default)]
    pub status: Option<UserStatus>,
}

pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: UpdateUser = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let db = cx.platform.db()?;
    let before = users::get(db, tenant_id, req.param("user_id")).await?;
    within_ceiling(cx, before.role, "change")?;
    if let Some(r) = body.role {
        within_ceiling(cx, r, "grant")?;
    }
    let mut u = before.clone();
    if let Some(n) = body.name {
        check::text("name", &n, 1, 100)?;
        u.name = n;
    }
    if let Some(r) = body.role {
        u.role = r;
    }
    if let Some(s) = body.skills {
        users::validate_skills(&s)?;
        u.skills = s;
    }
    if let Some(s) = body.status {
        u.status = s;
    }
    let loses_owner = before.role == Role::Owner
        && before.status == UserStatus::Active
        && (u.role != Role::Owner || u.status != UserStatus::Active);
    if loses_owner && users::active_owner_count(db, tenant_id).await? <= 1 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a tenant must keep at least one active owner",
        ));
    }
    u.updated_at = cx.now();
    users::update(db, &u).await?;
    if u.role != before.role || u.status != before.status {
        credentials::forget(&cx.platform, &credentials::user_cache_key(&u.id)).await;
        credentials::tenant_changed(&cx.platform, tenant_id).await?;
    }
    if u.status == UserStatus::Deactivated && before.status != UserStatus::Deactivated {
        // Deactivation ends every console session: reactivation means signing in again.
        crate::auth::sign_in::sessions::revoke_all(&cx.platform, tenant_id, &u.id).await?;
    }
    audit::record(
        cx,
        tenant_id,
        "user.update",
        ("user", &u.id),
        Some(json!({"name": before.name, "role": before.role, "skills": before.skills, "status": before.status})),
        Some(json!({"name": u.name, "role": u.role, "skills": u.skills, "status": u.status})),
    )
    .await?;
    Ok(Response::json(200, &u))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Serialize, JsonSchema)]
pub struct InvitationCreated {
    pub invitation: Invitation,
    /// One-time token for the invitee (send it in the invitation link). Shown once.
    pub token: String,
    /// Whether the invitation email went out (the tenant or the platform can send email).
    pub email_sent: bool,
}

pub async fn invite(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Invite = input::json(&req)?;
    check::email("email", &body.email)?;
    check::text("name", &body.name, 1, 100)?;
    within_ceiling(cx, body.role, "invite")?;
    let tenant_id = cx.tenant_id()?;
    let p = &cx.platform;
    let (_, actor) = cx.principal()?.actor_ref();
    let new = invitations::NewInvitation {
        tenant_id,
        email: &body.email,
        name: &body.name,
        role: body.role,
        created_by: &actor,
    };
    let (invitation, token) = invitations::create(p.db()?, &*p.random, new, cx.now()).await?;
    let email_sent = email_invitation(cx, &req, &invitation, &token).await;
    audit::record(
        cx,
        tenant_id,
        "user.invite",
        ("invitation", &invitation.id),
        None,
        Some(json!({"email": invitation.email, "role": invitation.role, "email_sent": email_sent})),
    )
    .await?;
    Ok(Response::json(
        201,
        &InvitationCreated {
            invitation,
            token,
            email_sent,
        },
    ))
}

/// Emails the invitation link when the tenant (or the platform) can send email. Best effort:
/// the token is in the reply too, so an admin can deliver it another way.
async fn email_invitation(
    cx: &Ctx,
    req: &Request,
    invitation: &invitations::Invitation,
    token: &str,
) -> bool {
    let p = &cx.platform;
    let Ok(tenant_id) = cx.tenant_id() else {
        return false;
    };
    let Ok(Some(tenant)) = crate::tenancy::store::get(
        match p.db() {
            Ok(db) => db,
            Err(_) => return false,
        },
        tenant_id,
    )
    .await
    else {
        return false;
    };
    let link = format!(
        "{}/console#invite={token}",
        super::sign_in::link_base(p, req).trim_end_matches('/')
    );
    let text = format!(
        "Hi {},\n\nYou are invited to join {} on PrismAI Edge as {}.\n\nAccept the invitation: {link}\n\nThe link works once and expires in 7 days.",
        invitation.name,
        tenant.name,
        invitation.role.as_str()
    );
    crate::mail::send(
        p,
        tenant_id,
        &crate::mail::Letter {
            to: &invitation.email,
            subject: &format!("You are invited to {}", tenant.name),
            text: &text,
            idempotency_key: &format!("invite-{}-{}", invitation.id, invitation.expires_at),
        },
    )
    .await
    .is_ok()
}

/// A new link for an invitation (emailed again); the previous link stops working.
pub async fn resend_invitation(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let p = &cx.platform;
    // The token comes back in the reply: only someone who could invite this role may renew it.
    let current =
        invitations::open_invitation(p.db()?, tenant_id, req.param("invitation_id")).await?;
    within_ceiling(cx, current.role, "invite")?;
    let (invitation, token) = invitations::renew(
        p.db()?,
        &*p.random,
        tenant_id,
        req.param("invitation_id"),
        cx.now(),
    )
    .await?;
    let email_sent = email_invitation(cx, &req, &invitation, &token).await;
    audit::record(
        cx,
        tenant_id,
        "user.invite_resent",
        ("invitation", &invitation.id),
        None,
        Some(json!({"email_sent": email_sent})),
    )
    .await?;
    Ok(Response::json(
        200,
        &InvitationCreated {
            invitation,
            token,
            email_sent,
        },
    ))
}

pub async fn revoke_invitation(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let current =
        invitations::open_invitation(cx.platform.db()?, tenant_id, req.param("invitation_id"))
            .await?;
    within_ceiling(cx, current.role, "revoke")?;
    let invitation = invitations::revoke(
        cx.platform.db()?,
        tenant_id,
        req.param("invitation_id"),
        cx.now(),
    )
    .await?;
    audit::record(
        cx,
        tenant_id,
        "user.invite_revoked",
        ("invitation", &invitation.id),
        None,
        None,
    )
    .await?;
    Ok(Response::json(200, &invitation))
}

pub async fn list_invitations(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &invitations::list(cx.platform.db()?, cx.tenant_id()?, &page).await?,
    ))
}
