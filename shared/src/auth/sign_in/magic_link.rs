//! One-time sign-in links by email. Asking for a link never tells whether the address belongs
//! to anyone (the answer is the same either way); a link works once, for 15 minutes, and only
//! its SHA-256 is stored. Requests are rate-limited per address and per client address on the
//! tenant's gate, so the endpoint cannot be used to flood someone's inbox.

use super::SignInConfig;
use crate::auth::gateway::charge_bucket;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::objects::gate::BucketSpec;
use crate::params;
use crate::platform::Platform;
use crate::tenancy::Tenant;
use crate::users::{store as users, store::normalise_email, User, UserStatus};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const TTL_MS: i64 = 15 * 60_000;
/// Links per address per hour, and link requests per client address per hour.
const PER_EMAIL_HOUR: u32 = 5;
const PER_IP_HOUR: u32 = 30;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Emails a sign-in link to `email` if it belongs to an active user of the tenant, or to
/// someone whose domain may join. Returns `Ok` either way.
pub async fn request(
    p: &Platform,
    tenant: &Tenant,
    cfg: &SignInConfig,
    email: &str,
    client_ip: &str,
    link_base: &str,
) -> ApiResult<()> {
    let email = normalise_email(email);
    for (name, count) in [
        (
            format!("signin-email:{}", &hash(&email)[..16]),
            PER_EMAIL_HOUR,
        ),
        (format!("signin-ip:{client_ip}"), PER_IP_HOUR),
    ] {
        let spec = BucketSpec {
            name,
            count,
            period_ms: 3_600_000,
        };
        let r = charge_bucket(p, &tenant.id, tenant.version, spec).await?;
        if !r.allowed {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many sign-in links requested; try again later",
            )
            .with_header(
                "retry-after",
                ((r.retry_after_ms + 999) / 1000).max(1).to_string(),
            ));
        }
    }
    let db = p.db()?;
    let eligible = match users::get_by_email(db, &tenant.id, &email).await? {
        Some(u) => u.status == UserStatus::Active,
        None => cfg.may_join(&email),
    };
    if !eligible {
        return Ok(());
    }
    let token = URL_SAFE_NO_PAD.encode(p.random.bytes::<32>());
    let now = p.now_ms();
    db.execute(
        "INSERT INTO sign_in_links (token_hash, tenant_id, email, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &params![hash(&token), tenant.id.as_str(), email.as_str(), now + TTL_MS, now],
    )
    .await?;
    let link = format!("{}/console#signin={token}", link_base.trim_end_matches('/'));
    let text = format!(
        "Sign in to {} on PrismAI Edge:\n\n{link}\n\nThe link works once, for 15 minutes. If you did not ask for it, ignore this email.",
        tenant.name
    );
    crate::mail::send(
        p,
        &tenant.id,
        &crate::mail::Letter {
            to: &email,
            subject: &format!("Your sign-in link for {}", tenant.name),
            text: &text,
            idempotency_key: &format!("signin-{}", &hash(&token)[..32]),
        },
    )
    .await
}

fn unusable() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "this sign-in link is invalid, used or expired; ask for a new one",
    )
}

/// Redeems a link: the user it signs in (created, for someone joining by domain).
pub async fn redeem(p: &Platform, token: &str) -> ApiResult<User> {
    if token.len() != 43 {
        return Err(unusable());
    }
    let db = p.db()?;
    let now = p.now_ms();
    let h = hash(token);
    let rows = db
        .query(
            "SELECT tenant_id, email FROM sign_in_links WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            &params![h.as_str(), now],
        )
        .await?;
    let row = rows.first().ok_or_else(unusable)?;
    let (tenant_id, email) = (
        row.text("tenant_id").unwrap_or_default(),
        row.text("email").unwrap_or_default(),
    );
    // Used once: the update that marks it wins; a concurrent second use finds nothing to mark.
    let marked = db
        .execute(
            "UPDATE sign_in_links SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL",
            &params![now, h.as_str()],
        )
        .await?;
    if marked != 1 {
        return Err(unusable());
    }
    let user = match users::get_by_email(db, &tenant_id, &email).await? {
        Some(u) => u,
        None => {
            let (cfg, _) = crate::tenancy::store::config(db, &tenant_id).await?;
            if !cfg.sign_in.may_join(&email) {
                return Err(unusable());
            }
            join(p, &tenant_id, &email, cfg.sign_in.join_role).await?
        }
    };
    if user.status != UserStatus::Active {
        return Err(ApiError::forbidden("this user is deactivated"));
    }
    Ok(user)
}

/// Creates the user for someone whose email domain the tenant lets join.
pub async fn join(
    p: &Platform,
    tenant_id: &str,
    email: &str,
    role: crate::users::Role,
) -> ApiResult<User> {
    let now = p.now_ms();
    let name = email.split('@').next().unwrap_or(email).to_string();
    let user = User {
        id: new_id(&*p.random, "usr"),
        tenant_id: tenant_id.into(),
        email: email.into(),
        name,
        role,
        skills: Vec::new(),
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    users::insert(p.db()?, &user).await?;
    Ok(user)
}
