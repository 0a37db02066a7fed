//! Files in conversations over HTTP: upload (the bytes are the body), a short-lived link for a
//! participant, and the download the link opens.

use super::conversations::{conversation, follow_up};
use crate::conversations::engine::{PostRequest, Posted};
use crate::conversations::model::Status;
use crate::conversations::protocol;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::store::{self, Attachment};
use crate::files::upload::{self, Incoming};
use crate::files::{link, name};
use crate::http::{Request, Response};
use crate::ids::looks_like;
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

/// `POST /v1/conversations/{id}/files?name=…&caption=…`: the file's bytes are the body. The
/// file is checked and stored, then posted as a message carrying it; retries with the same
/// `Idempotency-Key` return the original message and store nothing twice.
pub async fn upload(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let caption = req
        .query_param("caption")
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let conv = conversation(cx, &req)?;
    let principal = cx.principal()?;
    // A closed conversation takes nothing: refuse before storing bytes.
    if conv.meta().await?.status == Status::Closed {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this conversation is closed",
        ));
    }
    let key = req
        .header("idempotency-key")
        .map(String::from)
        .or_else(|| req.query_param("client_msg_id"))
        .ok_or_else(|| {
            ApiError::validation(
                "client_msg_id",
                "send an Idempotency-Key header or client_msg_id",
            )
        })?;
    protocol::validate_message(&key, caption.as_deref().unwrap_or("-")).map_err(|e| {
        let field = if e.message.contains("client_msg_id") {
            "client_msg_id"
        } else {
            "caption"
        };
        ApiError::validation(field, e.message)
    })?;
    let participant = principal.participant();
    let file = upload::accept(
        &cx.platform,
        principal.tenant.tier,
        principal.tenant_id(),
        req.param("conversation_id"),
        &participant.author(),
        &key,
        Incoming {
            bytes: &req.body,
            name: &req.query_param("name").unwrap_or_default(),
            source: "upload",
        },
    )
    .await?;
    let answer = caption.is_some();
    let text = caption.unwrap_or_else(|| upload::caption_for(std::slice::from_ref(&file)));
    let posted: Posted = conv
        .post(&PostRequest {
            participant,
            client_msg_id: key,
            text,
            meta: Some(json!({ "attachments": [file.attachment()] })),
        })
        .await?;
    // A caption is a question the AI can answer; a bare file waits for a person.
    follow_up(cx, &req, &posted, answer).await?;
    Ok(Response::json(
        if posted.ack.duplicate { 200 } else { 201 },
        &posted,
    ))
}

/// A file and a link to it, for a participant of its conversation.
#[derive(Serialize, JsonSchema)]
pub struct FileLink {
    #[serde(flatten)]
    pub file: Attachment,
    /// Opens the file until `expires_at`; no credential needed (do not share it).
    pub url: String,
    pub expires_at: i64,
    /// True when the file is shown inline (a safe image); everything else downloads.
    pub inline: bool,
}

/// `GET /v1/conversations/{id}/files/{file_id}`: a fresh link to one of the conversation's files.
pub async fn link(cx: &Ctx, req: Request) -> ApiResult<Response> {
    // A customer reaches only their own conversation.
    conversation(cx, &req)?;
    let principal = cx.principal()?;
    let file_id = req.param("file_id");
    let not_found = || ApiError::not_found("file");
    if !looks_like(file_id, "fil") {
        return Err(not_found());
    }
    let file = store::get(cx.platform.db()?, principal.tenant_id(), file_id)
        .await?
        .filter(|f| f.conversation_id == req.param("conversation_id"))
        .ok_or_else(not_found)?;
    let now = cx.now();
    let expires_at = now + link::BROWSER_TTL_MS;
    let token = link::issue(
        &cx.platform.config,
        &file.tenant_id,
        &file.conversation_id,
        &file.id,
        now,
        expires_at,
    )?;
    Ok(Response::json(
        200,
        &FileLink {
            url: link::url(&req.origin, &file.id, &token),
            expires_at,
            inline: file.inline(),
            file: file.attachment(),
        },
    ))
}

/// `GET /v1/files/{file_id}?token=…`: the file a link names. Images a browser can show are
/// served inline; everything else as an attachment, under a policy that runs nothing.
pub async fn download(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let token = req.query_param("token").unwrap_or_default();
    let claims = link::verify(&cx.platform.config, &token, cx.now())?;
    if claims.fid != req.param("file_id") {
        return Err(ApiError::new(ErrorCode::InvalidToken, "invalid file link"));
    }
    let gone = || ApiError::not_found("file");
    let file = store::get(cx.platform.db()?, &claims.tid, &claims.fid)
        .await?
        .filter(|f| f.conversation_id == claims.cid)
        .ok_or_else(gone)?;
    let bytes = cx
        .platform
        .blobs()?
        .get(&file.storage_key)
        .await?
        .ok_or_else(gone)?;
    let disposition = if file.inline() {
        "inline"
    } else {
        "attachment"
    };
    Ok(Response::text(200, &file.content_type, bytes)
        .with_header(
            "content-disposition",
            name::disposition(disposition, &file.name),
        )
        .with_header(
            "content-security-policy",
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
        )
        // The widget shows images on the tenant's own site.
        .with_header("cross-origin-resource-policy", "cross-origin")
        .with_header("cache-control", "private, max-age=600"))
}
