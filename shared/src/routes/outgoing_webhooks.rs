//! Outgoing webhooks: endpoints (CRUD, secret, rotation), their delivery log, replay, and the
//! event catalogue. Admin-only (`config:write`): payloads carry customers' messages.

use crate::audit;
use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::input;
use crate::outgoing::{delivery, endpoints, events};
use crate::pagination::PageRequest;
use crate::router::Ctx;
use serde_json::json;

pub async fn event_types(_cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &json!({ "items": events::catalogue() }),
    ))
}

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &endpoints::list(&cx.platform, cx.tenant_id()?, &page).await?,
    ))
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: endpoints::EndpointInput = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let e = endpoints::create(&cx.platform, tenant_id, &body).await?;
    audit::record(
        cx,
        tenant_id,
        "webhook.endpoint.create",
        ("webhook_endpoint", &e.endpoint.id),
        None,
        Some(json!({"url": e.endpoint.url, "events": e.endpoint.events})),
    )
    .await?;
    Ok(Response::json(201, &e))
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &endpoints::get(&cx.platform, cx.tenant_id()?, req.param("endpoint_id")).await?,
    ))
}

pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: endpoints::EndpointPatch = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let id = req.param("endpoint_id");
    let before = endpoints::get(&cx.platform, tenant_id, id).await?;
    let e = endpoints::update(&cx.platform, tenant_id, id, &body).await?;
    audit::record(
        cx,
        tenant_id,
        "webhook.endpoint.update",
        ("webhook_endpoint", &e.id),
        Some(json!({"url": before.url, "events": before.events, "status": before.status})),
        Some(json!({"url": e.url, "events": e.events, "status": e.status})),
    )
    .await?;
    Ok(Response::json(200, &e))
}

pub async fn delete(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let e = endpoints::delete(&cx.platform, tenant_id, req.param("endpoint_id")).await?;
    audit::record(
        cx,
        tenant_id,
        "webhook.endpoint.delete",
        ("webhook_endpoint", &e.id),
        Some(json!({"url": e.url, "events": e.events})),
        None,
    )
    .await?;
    Ok(Response::json(200, &e))
}

pub async fn secret(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let s = endpoints::secret(&cx.platform, cx.tenant_id()?, req.param("endpoint_id")).await?;
    Ok(Response::json(200, &json!({ "secret": s })))
}

pub async fn rotate(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let e = endpoints::rotate(&cx.platform, tenant_id, req.param("endpoint_id")).await?;
    audit::record(
        cx,
        tenant_id,
        "webhook.endpoint.rotate_secret",
        ("webhook_endpoint", &e.endpoint.id),
        None,
        Some(json!({"previous_secret_until": e.endpoint.previous_secret_until})),
    )
    .await?;
    Ok(Response::json(200, &e))
}

pub async fn deliveries(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    let status = req.query_param("status");
    Ok(Response::json(
        200,
        &delivery::list(
            &cx.platform,
            cx.tenant_id()?,
            req.param("endpoint_id"),
            status.as_deref(),
            &page,
        )
        .await?,
    ))
}

pub async fn delivery(cx: &Ctx, req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &delivery::get(&cx.platform, cx.tenant_id()?, req.param("delivery_id")).await?,
    ))
}

pub async fn replay(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let d = delivery::replay(&cx.platform, tenant_id, req.param("delivery_id")).await?;
    audit::record(
        cx,
        tenant_id,
        "webhook.delivery.replay",
        ("webhook_delivery", &d.id),
        None,
        Some(json!({"event_id": d.event_id})),
    )
    .await?;
    Ok(Response::json(202, &d))
}
