//! Invitations: an admin invites a person by email; the emailed link carries a one-time token
//! (only its hash is stored) that the invitee redeems within seven days to become a user.

use super::store::{normalise_email, Role, User, UserStatus};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Random, Row, SqlDatabase};
use crate::records::{self, FromRow, Listed, Listing};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const TTL_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    /// When an admin withdrew the invitation; its link no longer works.
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

impl FromRow for Invitation {
    fn from_row(r: &Row) -> ApiResult<Invitation> {
        let bad = || ApiError::internal("corrupt invitation row");
        Ok(Invitation {
            id: r.text("id").ok_or_else(bad)?,
            email: r.text("email").ok_or_else(bad)?,
            name: r.text("name").ok_or_else(bad)?,
            role: r
                .text("role")
                .and_then(|s| Role::parse(&s))
                .ok_or_else(bad)?,
            expires_at: r.int("expires_at").ok_or_else(bad)?,
            accepted_at: r.int("accepted_at"),
            revoked_at: r.int("revoked_at"),
            created_at: r.int("created_at").ok_or_else(bad)?,
        })
    }
}

impl Listed for Invitation {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who is invited, as what, by whom.
pub struct NewInvitation<'a> {
    pub tenant_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub created_by: &'a str,
}

/// Creates an invitation; returns it and the one-time token (shown once, never stored).
pub async fn create(
    db: &dyn SqlDatabase,
    random: &dyn Random,
    new: NewInvitation<'_>,
    now: i64,
) -> ApiResult<(Invitation, String)> {
    let NewInvitation {
        tenant_id,
        email,
        name,
        role,
        created_by,
    } = new;
    let email = normalise_email(email);
    if super::store::get_by_email(db, tenant_id, &email)
        .await?
        .is_some()
    {
        return Err(
            ApiError::new(ErrorCode::Conflict, "a user with this email already exists")
                .with_field("email"),
        );
    }
    let token = format!("inv_{}", URL_SAFE_NO_PAD.encode(random.bytes::<32>()));
    let inv = Invitation {
        id: new_id(random, "inv"),
        email,
        name: name.to_string(),
        role,
        expires_at: now + TTL_MS,
        accepted_at: None,
        revoked_at: None,
        created_at: now,
    };
    db.execute(
        "INSERT INTO invitations (id, tenant_id, email, name, role, token_hash, expires_at, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &params![
            inv.id.as_str(), tenant_id, inv.email.as_str(), inv.name.as_str(), role.as_str(),
            hash_token(&token), inv.expires_at, created_by, now
        ],
    )
    .await?;
    Ok((inv, token))
}

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<Invitation>> {
    let listing = Listing {
        table: "invitations",
        columns: "id, email, name, role, expires_at, accepted_at, revoked_at, created_at",
    };
    records::page(db, &listing, Some(tenant_id), page).await
}

/// Redeems a token: creates the user and marks the invitation accepted, atomically. Unknown,
/// expired and used tokens all get the same 404, so tokens cannot be probed.
pub async fn accept(
    db: &dyn SqlDatabase,
    random: &dyn Random,
    token: &str,
    now: i64,
) -> ApiResult<User> {
    let gone = || ApiError::not_found("invitation");
    if !token.starts_with("inv_") || token.len() > 100 {
        return Err(gone());
    }
    let rows = db
        .query(
            "SELECT id, tenant_id, email, name, role, expires_at, accepted_at, revoked_at FROM invitations WHERE token_hash = ?1",
            &params![hash_token(token)],
        )
        .await?;
    let r = rows.first().ok_or_else(gone)?;
    if r.int("accepted_at").is_some()
        || r.int("revoked_at").is_some()
        || r.int("expires_at").unwrap_or(0) <= now
    {
        return Err(gone());
    }
    let tenant_id = r.text("tenant_id").ok_or_else(gone)?;
    let email = r.text("email").ok_or_else(gone)?;
    if super::store::get_by_email(db, &tenant_id, &email)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a user with this email already exists",
        ));
    }
    let user = User {
        id: new_id(random, "usr"),
        tenant_id: tenant_id.clone(),
        email,
        name: r.text("name").unwrap_or_default(),
        role: r
            .text("role")
            .and_then(|s| Role::parse(&s))
            .unwrap_or(Role::Agent),
        skills: Vec::new(),
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let mark = crate::ports::Statement::new(
        "UPDATE invitations SET accepted_at = ?2 WHERE id = ?1 AND accepted_at IS NULL AND revoked_at IS NULL",
        params![r.text("id").unwrap_or_default(), now],
    );
    db.batch(vec![mark, user.insert_statement()]).await?;
    Ok(user)
}

const OPEN_COLUMNS: &str = "id, email, name, role, expires_at, accepted_at, revoked_at, created_at";

/// An invitation of this tenant that can still be accepted (not accepted, not revoked).
pub async fn open_invitation(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
) -> ApiResult<Invitation> {
    let rows = db
        .query(
            &format!("SELECT {OPEN_COLUMNS} FROM invitations WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    let inv: Invitation =
        records::first(&rows)?.ok_or_else(|| ApiError::not_found("invitation"))?;
    if inv.accepted_at.is_some() || inv.revoked_at.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this invitation was already accepted or revoked",
        ));
    }
    Ok(inv)
}

/// A new token and a new lifetime for an invitation that was not used: the old link stops
/// working (its hash is replaced).
pub async fn renew(
    db: &dyn SqlDatabase,
    random: &dyn Random,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> ApiResult<(Invitation, String)> {
    let mut inv = open_invitation(db, tenant_id, id).await?;
    let token = format!("inv_{}", URL_SAFE_NO_PAD.encode(random.bytes::<32>()));
    inv.expires_at = now + TTL_MS;
    db.execute(
        "UPDATE invitations SET token_hash = ?1, expires_at = ?2 WHERE tenant_id = ?3 AND id = ?4 AND accepted_at IS NULL AND revoked_at IS NULL",
        &params![hash_token(&token), inv.expires_at, tenant_id, id],
    )
    .await?;
    Ok((inv, token))
}

/// Withdraws an invitation that was not used.
pub async fn revoke(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> ApiResult<Invitation> {
    let mut inv = open_invitation(db, tenant_id, id).await?;
    db.execute(
        "UPDATE invitations SET revoked_at = ?1 WHERE tenant_id = ?2 AND id = ?3 AND accepted_at IS NULL",
        &params![now, tenant_id, id],
    )
    .await?;
    inv.revoked_at = Some(now);
    Ok(inv)
}
