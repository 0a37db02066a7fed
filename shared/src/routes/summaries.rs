//! `/v1/conversations/{id}/summary`: the summary agents see at the top of a conversation, and
//! making one on request (the model's when the workspace has a provider, else extractive).
//! Agents only: a summary is the team's reading of the customer, not the customer's.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::router::Ctx;

/// The path's conversation, if it is the caller's tenant's (404 otherwise, like every
/// conversation route).
async fn conversation_id<'a>(cx: &Ctx, req: &'a Request) -> ApiResult<&'a str> {
    let id = req.param("conversation_id");
    if !crate::ids::looks_like(id, "cnv") {
        return Err(ApiError::not_found("conversation"));
    }
    crate::conversations::mirror::get(cx.platform.db()?, cx.tenant_id()?, id).await?;
    Ok(id)
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = conversation_id(cx, &req).await?;
    match crate::summaries::get(&cx.platform, cx.tenant_id()?, id).await? {
        Some(s) => Ok(Response::json(200, &s)),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            "no summary yet: one is made at handoff and resolution, or ask for one",
        )),
    }
}

pub async fn make(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = conversation_id(cx, &req).await?;
    let tenant_id = cx.tenant_id()?;
    let p = &cx.platform;
    let s = if crate::ai::oneshot::has_provider(p, tenant_id).await? {
        match crate::summaries::generate(p, tenant_id, id, "request").await {
            Ok(s) => s,
            // The provider failed: the extractive summary is still a summary.
            Err(_) => crate::summaries::extract(p, tenant_id, id, "request").await?,
        }
    } else {
        crate::summaries::extract(p, tenant_id, id, "request").await?
    };
    Ok(Response::json(200, &s))
}
