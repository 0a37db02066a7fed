use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Row, SqlDatabase, Statement};
use crate::records::{self, FromRow, Listed, Listing};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a user may do; see `auth::permissions` for the table.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Agent,
    /// An agent who also reviews others' conversations against the scorecards.
    Reviewer,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "reviewer" => Some(Role::Reviewer),
            "agent" => Some(Role::Agent),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub skills: Vec<String>,
    pub status: UserStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, email, name, role, skills, status, created_at, updated_at";

impl FromRow for User {
    fn from_row(r: &Row) -> ApiResult<User> {
        let bad = || ApiError::internal("corrupt user row");
        Ok(User {
            id: r.text("id").ok_or_else(bad)?,
            tenant_id: r.text("tenant_id").ok_or_else(bad)?,
            email: r.text("email").ok_or_else(bad)?,
            name: r.text("name").ok_or_else(bad)?,
            role: r
                .text("role")
                .and_then(|s| Role::parse(&s))
                .ok_or_else(bad)?,
            skills: r
                .text("skills")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            status: match r.text("status").as_deref() {
                Some("active") => UserStatus::Active,
                Some("deactivated") => UserStatus::Deactivated,
                _ => return Err(bad()),
            },
            created_at: r.int("created_at").ok_or_else(bad)?,
            updated_at: r.int("updated_at").ok_or_else(bad)?,
        })
    }
}

impl Listed for User {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

impl User {
    pub fn insert_statement(&self) -> Statement {
        Statement::new(
            format!("INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                self.id.as_str(),
                self.tenant_id.as_str(),
                self.email.as_str(),
                self.name.as_str(),
                self.role.as_str(),
                serde_json::to_string(&self.skills).unwrap_or_else(|_| "[]".into()),
                self.status.as_str(),
                self.created_at,
                self.updated_at
            ],
        )
    }
}

/// Normalises an email for storage and comparison (trimmed, lower-case).
pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// Skills are short routing tags (`billing`, `es`, `vip`).
pub fn validate_skills(skills: &[String]) -> ApiResult<()> {
    if skills.len() > 20 {
        return Err(ApiError::validation("skills", "at most 20 skills"));
    }
    for (i, s) in skills.iter().enumerate() {
        if s.is_empty()
            || s.len() > 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ApiError::validation(
                format!("skills[{i}]"),
                "skills are 1-32 letters, digits, '-' or '_'",
            ));
        }
    }
    Ok(())
}

/// A user of this tenant, or 404 (also when it exists in another tenant: no existence leak).
pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<User> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("user"))
}

pub async fn get_by_email(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    email: &str,
) -> ApiResult<Option<User>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND email = ?2"),
            &params![tenant_id, normalise_email(email)],
        )
        .await?;
    records::first(&rows)
}

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<User>> {
    let listing = Listing {
        table: "users",
        columns: COLUMNS,
    };
    records::page(db, &listing, Some(tenant_id), page).await
}

pub async fn insert(db: &dyn SqlDatabase, user: &User) -> ApiResult<()> {
    if get_by_email(db, &user.tenant_id, &user.email)
        .await?
        .is_some()
    {
        return Err(
            ApiError::new(ErrorCode::Conflict, "a user with this email already exists")
                .with_field("email"),
        );
    }
    let s = user.insert_statement();
    db.execute(&s.sql, &s.params).await?;
    Ok(())
}

/// Saves name, role, skills and status.
pub async fn update(db: &dyn SqlDatabase, user: &User) -> ApiResult<()> {
    db.execute(
        "UPDATE users SET name = ?3, role = ?4, skills = ?5, status = ?6, updated_at = ?7 WHERE tenant_id = ?1 AND id = ?2",
        &params![
            user.tenant_id.as_str(), user.id.as_str(), user.name.as_str(), user.role.as_str(),
            serde_json::to_string(&user.skills).unwrap_or_else(|_| "[]".into()),
            user.status.as_str(), user.updated_at
        ],
    )
    .await?;
    Ok(())
}

/// Number of active owners; the last one may not be demoted or deactivated.
pub async fn active_owner_count(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?1 AND role = 'owner' AND status = 'active'",
            &params![tenant_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}
