//! Diagnostics: the smallest possible round trips through the key-value store and the SQL
//! database, so the end-to-end suite proves each binding works in the real runtime. Off unless
//! the `diagnostics` variable is on (local dev and tests); when off they answer 404 like any
//! unknown path, so production reveals nothing.

use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::params;
use crate::router::Ctx;
use serde::Deserialize;
use serde_json::json;

const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 16 * 1024;

fn enabled(cx: &Ctx) -> ApiResult<()> {
    if cx.platform.config.flag("diagnostics") {
        Ok(())
    } else {
        Err(ApiError::not_found("route"))
    }
}

fn kv_key(req: &Request) -> ApiResult<String> {
    let key = req.param("key");
    if key.len() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "key",
            "keys are 1-128 printable characters",
        ));
    }
    Ok(format!("diag:{key}"))
}

pub async fn kv_put(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let key = kv_key(&req)?;
    if req.body.len() > MAX_VALUE {
        return Err(ApiError::new(
            crate::error::ErrorCode::PayloadTooLarge,
            "values are at most 16 KiB",
        ));
    }
    cx.platform.kv()?.put(&key, &req.body, Some(3600)).await?;
    Ok(Response::new(204))
}

pub async fn kv_get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let key = kv_key(&req)?;
    match cx.platform.kv()?.get(&key).await? {
        Some(v) => Ok(Response::text(200, "application/octet-stream", v)),
        None => Err(ApiError::not_found("key")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    text: String,
}

pub async fn note_create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let note: NewNote = serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::new(
            crate::error::ErrorCode::InvalidJson,
            format!("invalid JSON: {e}"),
        )
    })?;
    if note.text.is_empty() || note.text.len() > 1000 {
        return Err(ApiError::validation("text", "text is 1-1000 bytes"));
    }
    let id = crate::request_id::new_uuid(&*cx.platform.random);
    let now = cx.platform.now_ms();
    cx.platform
        .db()?
        .execute(
            "INSERT INTO diag_notes (id, text, created_at) VALUES (?1, ?2, ?3)",
            &params![id.as_str(), note.text.as_str(), now],
        )
        .await?;
    Ok(Response::json(
        201,
        &json!({ "id": id, "text": note.text, "created_at": now }),
    ))
}

pub async fn note_get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT id, text, created_at FROM diag_notes WHERE id = ?1",
            &params![req.param("id")],
        )
        .await?;
    let row = rows.first().ok_or_else(|| ApiError::not_found("note"))?;
    Ok(Response::json(
        200,
        &json!({
            "id": row.text("id"),
            "text": row.text("text"),
            "created_at": row.int("created_at"),
        }),
    ))
}
