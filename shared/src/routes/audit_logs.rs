use crate::audit;
use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::pagination::PageRequest;
use crate::router::Ctx;

/// The tenant's audit log, oldest first (stable cursor order).
pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &audit::list(cx, cx.tenant_id()?, &page).await?,
    ))
}
