//! `GET /v1/customers/{customer_id}`: the console's customer panel.

use crate::conversations::customers;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids::looks_like;
use crate::router::Ctx;

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = req.param("customer_id");
    if !looks_like(id, "cus") {
        return Err(ApiError::not_found("customer"));
    }
    let profile = customers::profile(cx.platform.db()?, cx.tenant_id()?, id).await?;
    Ok(Response::json(200, &profile))
}
