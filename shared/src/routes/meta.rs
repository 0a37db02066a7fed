use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::router::Ctx;
use crate::version;
use serde_json::json;

/// What a client needs to know before talking to the API: its version and the runtime's
/// capabilities (a Spin deployment has no WebSockets, so widgets go straight to SSE).
pub async fn get(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let runtime = cx.platform.runtime;
    Ok(Response::json(
        200,
        &json!({
            "api_version": version::API_VERSION,
            "version": version::VERSION,
            "runtime": runtime.as_str(),
            "capabilities": { "websockets": runtime.supports_websockets(), "sse": true },
        }),
    ))
}
