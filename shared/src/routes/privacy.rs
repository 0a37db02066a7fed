//! `GET /v1/customers/{id}/export` and `POST /v1/customers/{id}/erase`: customers' data
//! rights. Both are audited; the audit rows carry ids and counts, never the data.

use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids::looks_like;
use crate::privacy::{erase as erasure, export as exporter};
use crate::router::Ctx;
use serde_json::json;

fn customer_id(req: &Request) -> ApiResult<&str> {
    let id = req.param("customer_id");
    if !looks_like(id, "cus") {
        return Err(ApiError::not_found("customer"));
    }
    Ok(id)
}

pub async fn export(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = customer_id(&req)?;
    let tenant_id = cx.tenant_id()?;
    let doc = exporter::export(&cx.platform, tenant_id, id).await?;
    crate::audit::record(
        cx,
        tenant_id,
        "customer.exported",
        ("customer", id),
        None,
        Some(
            json!({ "conversations": doc.conversations.len(), "identities": doc.identities.len() }),
        ),
    )
    .await?;
    Ok(Response::json(200, &doc).with_header(
        "content-disposition",
        format!("attachment; filename=\"customer-{id}.json\""),
    ))
}

pub async fn erase(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = customer_id(&req)?;
    let tenant_id = cx.tenant_id()?;
    let done = erasure::erase(&cx.platform, tenant_id, id).await?;
    if !done.already_erased {
        crate::audit::record(
            cx,
            tenant_id,
            if done.complete {
                "customer.erased"
            } else {
                "customer.erasure_progress"
            },
            ("customer", id),
            None,
            Some(json!({ "customers": done.customers, "conversations": done.conversations })),
        )
        .await?;
    }
    Ok(Response::json(200, &done))
}
