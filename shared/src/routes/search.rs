//! `GET /v1/search`: the console's search box, across every conversation's messages and the
//! tenant's customers.

use crate::conversations::search;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input::check;
use crate::router::Ctx;

pub async fn search(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let q = req.query_param("q").unwrap_or_default();
    check::text("q", &q, 1, 200)?;
    if search::match_query(&q).is_empty() && q.trim().chars().count() < 2 {
        return Err(ApiError::validation("q", "give at least one word"));
    }
    let limit = match req.query_param("limit") {
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=50).contains(l))
            .ok_or_else(|| ApiError::validation("limit", "must be 1-50"))?,
        None => 20,
    };
    let results = search::search(cx.platform.db()?, cx.tenant_id()?, &q, limit).await?;
    Ok(Response::json(200, &results))
}
