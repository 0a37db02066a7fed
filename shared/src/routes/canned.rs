//! Canned responses CRUD (agents read, admins write).

use crate::audit;
use crate::conversations::canned::{self, CannedInput};
use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::input;
use crate::pagination::PageRequest;
use crate::router::Ctx;
use serde_json::json;

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &canned::list(cx.platform.db()?, cx.tenant_id()?, &page).await?,
    ))
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &canned::get(cx.platform.db()?, cx.tenant_id()?, req.param("canned_id")).await?,
    ))
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: CannedInput = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let c = canned::create(
        cx.platform.db()?,
        &*cx.platform.random,
        tenant_id,
        &body,
        cx.now(),
    )
    .await?;
    audit::record(
        cx,
        tenant_id,
        "canned.create",
        ("canned_response", &c.id),
        None,
        Some(json!({"shortcut": c.shortcut})),
    )
    .await?;
    Ok(Response::json(201, &c))
}

pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: CannedInput = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let c = canned::update(
        cx.platform.db()?,
        tenant_id,
        req.param("canned_id"),
        &body,
        cx.now(),
    )
    .await?;
    audit::record(
        cx,
        tenant_id,
        "canned.update",
        ("canned_response", &c.id),
        None,
        Some(json!({"shortcut": c.shortcut})),
    )
    .await?;
    Ok(Response::json(200, &c))
}

pub async fn delete(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let c = canned::delete(cx.platform.db()?, tenant_id, req.param("canned_id")).await?;
    audit::record(
        cx,
        tenant_id,
        "canned.delete",
        ("canned_response", &c.id),
        Some(json!({"shortcut": c.shortcut})),
        None,
    )
    .await?;
    Ok(Response::json(200, &c))
}
