use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::router::Ctx;
use crate::version;
use serde_json::json;

/// Liveness plus enough identity to tell which build and which bindings are serving. Reports
/// configuration only: it must stay cheap enough for a load balancer to call every second.
/// `?deep=1` (platform admin) probes every dependency instead (`crate::probes`); `status` says
/// `degraded` when storage is down (200 either way: the body is the report).
pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let p = &cx.platform;
    if req.query_param("deep").as_deref() == Some("1") {
        crate::auth::gateway::admit_platform(p, &req)?;
        return Ok(Response::json(200, &crate::probes::run(p).await));
    }
    Ok(Response::json(
        200,
        &json!({
            "status": "ok",
            "version": version::VERSION,
            "commit": version::git_commit(),
            "runtime": p.runtime.as_str(),
            "bindings": {
                "db": p.db.is_some(),
                "cache": p.kv.is_some(),
                "live_objects": p.objects.is_some(),
                "outbound_http": p.http.is_some(),
            },
        }),
    ))
}
