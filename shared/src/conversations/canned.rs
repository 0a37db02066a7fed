//! Canned responses: a tenant's saved replies, inserted by agents with `/shortcut`.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::input::check;
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Random, Row, SqlDatabase};
use crate::records::{self, FromRow, Listed, Listing};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Canned {
    pub id: String,
    /// Typed as `/shortcut` in a reply.
    pub shortcut: String,
    pub title: String,
    pub text: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    pub shortcut: String,
    pub title: String,
    pub text: String,
}

impl CannedInput {
    pub fn validate(&self) -> ApiResult<()> {
        let ok = (1..=32).contains(&self.shortcut.len())
            && self
                .shortcut
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(ApiError::validation(
                "shortcut",
                "shortcuts are 1-32 lower-case letters, digits, '-' or '_' (without the slash)",
            ));
        }
        check::text("title", &self.title, 1, 100)?;
        check::text("text", &self.text, 1, 4000)
    }
}

impl FromRow for Canned {
    fn from_row(r: &Row) -> ApiResult<Canned> {
        Ok(Canned {
            id: r.text("id").unwrap_or_default(),
            shortcut: r.text("shortcut").unwrap_or_default(),
            title: r.text("title").unwrap_or_default(),
            text: r.text("text").unwrap_or_default(),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
    }
}

impl Listed for Canned {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

const COLUMNS: &str = "id, shortcut, title, text, created_at, updated_at";

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<Canned>> {
    let listing = Listing {
        table: "canned_responses",
        columns: COLUMNS,
    };
    records::page(db, &listing, Some(tenant_id), page).await
}

pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<Canned> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM canned_responses WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("canned response"))
}

fn conflict() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "a canned response with this shortcut exists",
    )
    .with_field("shortcut")
}

async fn shortcut_taken(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    shortcut: &str,
    except: &str,
) -> ApiResult<bool> {
    let rows = db
        .query(
            "SELECT id FROM canned_responses WHERE tenant_id = ?1 AND shortcut = ?2 AND id != ?3",
            &params![tenant_id, shortcut, except],
        )
        .await?;
    Ok(!rows.is_empty())
}

pub async fn create(
    db: &dyn SqlDatabase,
    random: &dyn Random,
    tenant_id: &str,
    input: &CannedInput,
    now: i64,
) -> ApiResult<Canned> {
    input.validate()?;
    if shortcut_taken(db, tenant_id, &input.shortcut, "").await? {
        return Err(conflict());
    }
    let id = new_id(random, "can");
    db.execute(
        "INSERT INTO canned_responses (id, tenant_id, shortcut, title, text, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        &params![id.as_str(), tenant_id, input.shortcut.as_str(), input.title.as_str(), input.text.as_str(), now],
    )
    .await?;
    get(db, tenant_id, &id).await
}

pub async fn update(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
    input: &CannedInput,
    now: i64,
) -> ApiResult<Canned> {
    input.validate()?;
    get(db, tenant_id, id).await?;
    if shortcut_taken(db, tenant_id, &input.shortcut, id).await? {
        return Err(conflict());
    }
    db.execute(
        "UPDATE canned_responses SET shortcut = ?3, title = ?4, text = ?5, updated_at = ?6 WHERE tenant_id = ?1 AND id = ?2",
        &params![tenant_id, id, input.shortcut.as_str(), input.title.as_str(), input.text.as_str(), now],
    )
    .await?;
    get(db, tenant_id, id).await
}

pub async fn delete(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<Canned> {
    let c = get(db, tenant_id, id).await?;
    db.execute(
        "DELETE FROM canned_responses WHERE tenant_id = ?1 AND id = ?2",
        &params![tenant_id, id],
    )
    .await?;
    Ok(c)
}

/// Expands a leading `/shortcut` in an agent's reply into its canned text (the rest of the reply
/// is kept after it). Unknown shortcuts are left as typed.
pub async fn expand(db: &dyn SqlDatabase, tenant_id: &str, text: &str) -> ApiResult<String> {
    let Some(rest) = text.strip_prefix('/') else {
        return Ok(text.to_string());
    };
    let (shortcut, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let rows = db
        .query(
            "SELECT text FROM canned_responses WHERE tenant_id = ?1 AND shortcut = ?2",
            &params![tenant_id, shortcut],
        )
        .await?;
    Ok(match rows.first().and_then(|r| r.text("text")) {
        Some(t) if tail.trim().is_empty() => t,
        Some(t) => format!("{t} {}", tail.trim()),
        None => text.to_string(),
    })
}
