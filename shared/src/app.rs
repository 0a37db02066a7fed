//! The request pipeline every runtime calls: resolve the request id, route, run the handler,
//! turn errors into envelopes, add the headers every response carries, and log one line.

use crate::auth::gateway::{self, Admission, RateInfo};
use crate::cors;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Body, Method, Request};
use crate::platform::Platform;
use crate::request_id;
use crate::router::{self, Ctx, Outcome, Route, RouteMatch};
use crate::routes;
use crate::security_headers;
use serde_json::json;
use std::rc::Rc;

/// Serves one request. Never fails: every error becomes a JSON envelope.
pub async fn handle(platform: Rc<Platform>, req: Request) -> Outcome {
    let started = platform.now_ms();
    let request_id = request_id::resolve(req.header("x-request-id"), &*platform.random);
    let method = req.method;
    let mut cx = Ctx {
        platform: platform.clone(),
        request_id,
        principal: None,
        platform_admin: false,
    };
    let mut seen = Seen::default();
    let result = dispatch(&mut cx, &mut seen, req).await;
    let refused_caller = result.as_ref().err().and_then(|e| e.caller.clone());
    let mut outcome = match result {
        Ok(o) => o,
        Err(e) => {
            Outcome::Response(conceal(&platform, e, &cx.request_id).into_response(&cx.request_id))
        }
    };
    let status = finish(&mut outcome, method, &cx.request_id, &seen);
    // A load balancer's probe answered OK is not worth a line: at a probe a second it would
    // be most of the log, and writing a line cost more than answering the probe (measured:
    // half of `/health`'s CPU under `wrangler dev`). Failures and deep probes are logged.
    if !(seen.route == "/health" && status < 400 && !seen.deep_probe) {
        log_request(&cx, method, &seen, status, started, refused_caller);
    }
    outcome
}

/// What the pipeline learned about a request on its way to the handler, needed again when the
/// response is finished and logged.
struct Seen {
    route: &'static str,
    rate: Option<RateInfo>,
    /// The page origin of a widget caller (public key or customer token), which the gateway
    /// checked against the tenant's allowed origins; echoed in allow-origin.
    widget_origin: Option<String>,
    /// `/health?deep=1`: a platform admin's probe of every dependency, always logged.
    deep_probe: bool,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            route: "unmatched",
            rate: None,
            widget_origin: None,
            deep_probe: false,
        }
    }
}

/// Routes the request, admits its caller and runs the handler; every refusal is an `ApiError`.
async fn dispatch(cx: &mut Ctx, seen: &mut Seen, mut req: Request) -> ApiResult<Outcome> {
    let method = req.method;
    match router::find(routes::TABLE, method, &req.path) {
        RouteMatch::Found(route, params) => {
            seen.route = route.template;
            // Only `/health` has a deep mode: no query parsing on other routes' hot path.
            seen.deep_probe = route.template == "/health" && req.query_param("deep").is_some();
            req.params = params;
            let admission = admit(&cx.platform, route, &req).await?;
            seen.rate = admission.rate;
            cx.platform_admin = admission.platform_admin;
            cx.principal = admission.principal;
            if route.is_widget() && cx.principal.as_ref().is_some_and(|p| p.is_widget_caller()) {
                seen.widget_origin = req.header("origin").map(str::to_string);
            }
            check_query(route, &req)?;
            (route.handler)(cx, req).await
        }
        RouteMatch::MethodNotAllowed(allowed) if method == Method::Options => {
            preflight(&cx.platform, &req, &allowed).await
        }
        RouteMatch::MethodNotAllowed(allowed) => {
            let allow = allowed
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Err(ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("method {method} is not allowed here; allowed: {allow}"),
            )
            .with_header("allow", allow))
        }
        RouteMatch::NotFound => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no route for {} {}", method, truncate(&req.path, 200)),
        )),
        RouteMatch::BadPath => Err(ApiError::bad_request(
            "the path is not valid percent-encoded UTF-8",
        )),
    }
}

/// Adds the headers every response carries (request id, security, rate budget, CORS) and
/// returns the status to log.
fn finish(outcome: &mut Outcome, method: Method, request_id: &str, seen: &Seen) -> u16 {
    match outcome {
        Outcome::Response(resp) => {
            resp.headers.set("x-request-id", request_id.to_string());
            security_headers::apply(&mut resp.headers);
            if let Some(r) = seen.rate {
                for (n, v) in r.headers() {
                    resp.headers.set(n, v);
                }
            }
            if let Some(origin) = &seen.widget_origin {
                for (n, v) in cors::allow_origin_headers(origin) {
                    resp.headers.set(n, v);
                }
            }
            if method == Method::Head {
                resp.body = Body::Empty;
            }
            resp.status
        }
        Outcome::Upgrade(up) => {
            up.headers
                .push(("x-request-id".into(), request_id.to_string()));
            101
        }
    }
}

/// One structured line per request. A refused request names the tenant and credential it
/// presented, so abuse can be traced without logging the secret.
fn log_request(
    cx: &Ctx,
    method: Method,
    seen: &Seen,
    status: u16,
    started: i64,
    refused_caller: Option<Box<(String, String)>>,
) {
    let (tenant, credential) = match (&cx.principal, refused_caller) {
        (Some(p), _) => (Some(p.tenant_id().to_string()), Some(p.log_id())),
        (None, Some(c)) => {
            let (t, k) = *c;
            (Some(t), Some(k))
        }
        (None, None) => (None, None),
    };
    let line = json!({
        "level": if status >= 500 { "error" } else { "info" },
        "msg": "request",
        "request_id": cx.request_id,
        "method": method.as_str(),
        "route": seen.route,
        "status": status,
        "duration_ms": cx.platform.now_ms() - started,
        "runtime": cx.platform.runtime.as_str(),
        "tenant": tenant,
        "credential": credential,
    });
    cx.platform.log.log(&line.to_string());
}

/// Internal failures are logged in full with the request id and answered with a generic
/// message: their text can name tables, bindings, upstream hosts or other tenants' data.
fn conceal(p: &Platform, e: ApiError, request_id: &str) -> ApiError {
    let generic = match e.code {
        ErrorCode::Internal => "an internal error occurred",
        ErrorCode::StorageError => "a storage operation failed",
        ErrorCode::UpstreamError => "an upstream provider failed",
        _ => return e,
    };
    let line = json!({
        "level": "error",
        "msg": "internal error",
        "request_id": request_id,
        "code": e.code.as_str(),
        "error": e.message,
    });
    p.log.log(&line.to_string());
    ApiError {
        message: format!("{generic}; quote request id {request_id} to support"),
        field: None,
        ..e
    }
}

/// The most body bytes worth reading for `method path`: the matched route's limit plus one (so
/// the pipeline can still tell "too large"), or the default limit when nothing matches.
/// Adapters stop reading a body there ([`body_read`]), so no request makes the isolate buffer
/// more.
fn body_read_cap(method: Method, path: &str) -> usize {
    let limit = match router::find(routes::TABLE, method, path) {
        RouteMatch::Found(route, _) => route.body_limit,
        _ => crate::input::DEFAULT_BODY_LIMIT,
    };
    limit.saturating_add(1)
}

/// How an adapter reads a request's body, decided from its head alone, so both runtimes read
/// the same bytes and neither buffers more than the route can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRead {
    /// Nothing: no body for this method, or its declared length is already over the route's
    /// limit (the pipeline refuses it by that length).
    Skip,
    /// Its declared length, which the runtime delivers exactly (no transfer coding), in one
    /// read where the runtime has one.
    Whole { cap: usize },
    /// A stream stopped at `cap` bytes: without a length, or with a transfer coding (the length
    /// header does not frame such a body, RFC 9112 §6.3), only the bytes tell its size.
    Stream { cap: usize },
}

pub fn body_read(req: &Request) -> BodyRead {
    if matches!(req.method, Method::Get | Method::Head) {
        return BodyRead::Skip;
    }
    let cap = body_read_cap(req.method, &req.path);
    let declared = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok());
    match declared {
        Some(n) if n >= cap => BodyRead::Skip,
        Some(_) if !req.headers.contains("transfer-encoding") => BodyRead::Whole { cap },
        _ => BodyRead::Stream { cap },
    }
}

/// Size limit, then the route's access policy.
async fn admit(p: &Platform, route: &Route, req: &Request) -> ApiResult<Admission> {
    let declared = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if req.body.len().max(declared) > route.body_limit {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the body exceeds this endpoint's limit of {} bytes",
                route.body_limit
            ),
        ));
    }
    gateway::admit(p, route.access, req).await
}

/// Every declared query parameter the request carries is valid (handlers then read them).
fn check_query(route: &Route, req: &Request) -> ApiResult<()> {
    for (name, value) in req.query_pairs() {
        if let Some(p) = route.query_params().find(|p| p.name == name) {
            p.check(&value)?;
        }
    }
    Ok(())
}

/// OPTIONS on a path with no OPTIONS route: a CORS preflight if the path has widget routes.
async fn preflight(p: &Platform, req: &Request, allowed: &[Method]) -> ApiResult<Outcome> {
    let mut widget_methods = Vec::new();
    let mut conversation_id = None;
    for r in routes::TABLE
        .iter()
        .filter(|r| r.is_widget() && allowed.contains(&r.method))
    {
        if let RouteMatch::Found(_, params) =
            router::find(std::slice::from_ref(r), r.method, &req.path)
        {
            widget_methods.push(r.method);
            conversation_id = conversation_id.or_else(|| params.get("conversation_id").cloned());
        }
    }
    if widget_methods.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this path does not accept cross-origin requests",
        ));
    }
    cors::preflight(p, req, &widget_methods, conversation_id.as_deref())
        .await
        .map(Outcome::Response)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;
    use crate::testing::TestRig;
    use futures::executor::block_on;
    use serde_json::Value;

    fn call(rig: &TestRig, req: Request) -> Response {
        match block_on(handle(rig.platform(), req)) {
            Outcome::Response(r) => r,
            Outcome::Upgrade(_) => panic!("unexpected upgrade"),
        }
    }

    fn body(r: &Response) -> Value {
        r.json_body().expect("json body")
    }

    #[test]
    fn a_body_is_read_whole_by_its_length_streamed_without_one_and_skipped_over_the_cap() {
        let post = |headers: &[(&str, &str)]| {
            let mut r = Request::new(Method::Post, "http://x/v1/api-keys");
            for (n, v) in headers {
                r.headers.append(n, *v);
            }
            body_read(&r)
        };
        let cap = body_read_cap(Method::Post, "/v1/api-keys");
        assert_eq!(post(&[("content-length", "12")]), BodyRead::Whole { cap });
        assert_eq!(post(&[]), BodyRead::Stream { cap });
        assert_eq!(post(&[("content-length", "x")]), BodyRead::Stream { cap });
        assert_eq!(
            post(&[("content-length", "12"), ("transfer-encoding", "chunked")]),
            BodyRead::Stream { cap }
        );
        assert_eq!(
            post(&[("content-length", &cap.to_string())]),
            BodyRead::Skip
        );
        assert_eq!(
            body_read(
                &Request::new(Method::Get, "http://x/v1/tenant").with_header("content-length", "5")
            ),
            BodyRead::Skip
        );
    }

    #[test]
    fn unknown_route_is_a_404_envelope_with_the_request_id() {
        let rig = TestRig::new();
        let r = call(&rig, Request::new(Method::Get, "http://x/nope"));
        assert_eq!(r.status, 404);
        let b = body(&r);
        assert_eq!(b["error"]["code"], "not_found");
        assert_eq!(b["error"]["request_id"], r.header("x-request-id").unwrap());
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        let rig = TestRig::new();
        let r = call(&rig, Request::new(Method::Delete, "http://x/health"));
        assert_eq!(r.status, 405);
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        assert_eq!(body(&r)["error"]["code"], "method_not_allowed");
    }

    #[test]
    fn valid_request_ids_are_propagated_and_logged() {
        let rig = TestRig::new();
        let r = call(
            &rig,
            Request::new(Method::Get, "http://x/no-such-page")
                .with_header("X-Request-Id", "trace-42"),
        );
        assert_eq!(r.header("x-request-id"), Some("trace-42"));
        let log = rig.log.0.borrow();
        let line: Value = serde_json::from_str(log.last().unwrap()).unwrap();
        assert_eq!(line["request_id"], "trace-42");
        assert_eq!(line["route"], "unmatched");
        assert_eq!(line["status"], 404);
    }

    #[test]
    fn head_has_no_body() {
        let rig = TestRig::new();
        let r = call(&rig, Request::new(Method::Head, "http://x/health"));
        assert_eq!(r.status, 200);
        assert!(r.body.as_bytes().is_empty());
    }

    #[test]
    fn diagnostics_round_trip_through_kv_and_sql() {
        let rig = TestRig::new();
        let r = call(
            &rig,
            Request::new(Method::Put, "http://x/v1/diag/kv/k1").with_body("v1"),
        );
        assert_eq!(r.status, 204);
        let r = call(&rig, Request::new(Method::Get, "http://x/v1/diag/kv/k1"));
        assert_eq!(r.body.as_bytes(), b"v1");

        let r = call(
            &rig,
            Request::new(Method::Post, "http://x/v1/diag/notes").with_body(r#"{"text":"hello"}"#),
        );
        assert_eq!(r.status, 201);
        let id = body(&r)["id"].as_str().unwrap().to_string();
        let r = call(
            &rig,
            Request::new(Method::Get, &format!("http://x/v1/diag/notes/{id}")),
        );
        assert_eq!(body(&r)["text"], "hello");
    }

    #[test]
    fn diagnostics_are_hidden_when_disabled() {
        let mut rig = TestRig::new();
        rig.config = crate::platform::Config::new();
        let r = call(&rig, Request::new(Method::Get, "http://x/v1/diag/kv/k1"));
        assert_eq!(r.status, 404);
    }

    #[test]
    fn echo_requires_an_upgrade_and_a_valid_room() {
        let rig = TestRig::new();
        let r = call(&rig, Request::new(Method::Get, "http://x/v1/echo/room1"));
        assert_eq!(r.status, 426);
        let r = call(
            &rig,
            Request::new(Method::Get, "http://x/v1/echo/bad%20room")
                .with_header("upgrade", "websocket"),
        );
        assert_eq!(r.status, 422);
    }
}
