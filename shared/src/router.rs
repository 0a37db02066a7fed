//! The route table and its matcher. One table serves every runtime; the OpenAPI document and the
//! route-walking tests are generated from it, so a route cannot exist undocumented or untested.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::auth::{Access, Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::platform::Platform;
use crate::ports::ObjectRef;
use futures::future::LocalBoxFuture;
use percent_encoding::percent_decode_str;
use std::collections::HashMap;
use std::rc::Rc;

/// What a handler produces: a response, or an instruction to hand the original request (a
/// WebSocket upgrade) to a live object. The core decides *whether* and *where*; the adapter
/// performs the hand-off because only it holds the runtime's socket.
pub enum Outcome {
    Response(Response),
    Upgrade(Upgrade),
}

impl From<Response> for Outcome {
    fn from(r: Response) -> Self {
        Outcome::Response(r)
    }
}

/// A WebSocket hand-off to a live object.
#[derive(Clone, Debug)]
pub struct Upgrade {
    pub target: ObjectRef,
    /// The object-internal path the upgrade is delivered to.
    pub path: String,
    /// Headers the core adds for the object (e.g. the authenticated participant); any
    /// incoming header of the same name is dropped first, so clients cannot forge them.
    pub headers: Vec<(String, String)>,
}

impl Upgrade {
    /// The request the adapter hands to the object: the client's method and headers (so the
    /// WebSocket handshake survives) minus every internal `x-prism-*` header and every header
    /// the core sets, plus the core's own. Only the core decides who the object believes is
    /// connecting.
    pub fn object_request(&self, original: &crate::http::Request) -> crate::http::Request {
        let mut req =
            crate::http::Request::new(original.method, &format!("https://object{}", self.path));
        req.headers
            .set(crate::objects::NAME_HEADER, self.target.name.clone());
        for (n, v) in original.headers.iter() {
            let internal = n.to_ascii_lowercase().starts_with("x-prism-");
            let overridden = self
                .headers
                .iter()
                .any(|(un, _)| un.eq_ignore_ascii_case(n));
            if !internal && !overridden {
                req.headers.append(n, v);
            }
        }
        for (n, v) in &self.headers {
            req.headers.append(n, v.clone());
        }
        req
    }
}

/// Per-request context handed to handlers.
pub struct Ctx {
    pub platform: Rc<Platform>,
    pub request_id: String,
    /// The tenant-scoped caller, set by the gateway for `Access::Tenant` routes.
    pub principal: Option<Principal>,
    /// True when the platform admin secret authenticated the request.
    pub platform_admin: bool,
}

impl Ctx {
    /// The authenticated tenant caller. Only fails if a route's access policy and its handler
    /// disagree, which the route-table tests rule out.
    pub fn principal(&self) -> ApiResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| ApiError::internal("route has no tenant principal"))
    }

    pub fn tenant_id(&self) -> ApiResult<&str> {
        Ok(self.principal()?.tenant_id())
    }

    pub fn now(&self) -> i64 {
        self.platform.now_ms()
    }
}

pub type HandlerFuture<'a> = LocalBoxFuture<'a, ApiResult<Outcome>>;
pub type Handler = for<'a> fn(&'a Ctx, Request) -> HandlerFuture<'a>;

/// Wraps an `async fn(&Ctx, Request) -> ApiResult<impl Into<Outcome>>` as a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn wrapped<'a>(
            cx: &'a $crate::router::Ctx,
            req: $crate::http::Request,
        ) -> $crate::router::HandlerFuture<'a> {
            Box::pin(async move { $f(cx, req).await.map(Into::into) })
        }
        wrapped as $crate::router::Handler
    }};
}

/// Produces a JSON Schema (usually a `$ref` into the document's components) for the OpenAPI
/// document.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// What values a query parameter takes. The pipeline checks every declared parameter before the
/// handler runs (422 naming the parameter), and the OpenAPI document is generated from the same
/// declaration, so the two cannot disagree.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    Int { min: i64, max: i64 },
    Text { max: usize },
    OneOf(&'static [&'static str]),
}

/// One query parameter a route reads.
#[derive(Clone, Copy, Debug)]
pub struct QueryParam {
    pub name: &'static str,
    pub kind: ParamKind,
    pub doc: &'static str,
}

impl QueryParam {
    pub const fn int(name: &'static str, min: i64, max: i64, doc: &'static str) -> QueryParam {
        QueryParam {
            name,
            kind: ParamKind::Int { min, max },
            doc,
        }
    }
    pub const fn text(name: &'static str, max: usize, doc: &'static str) -> QueryParam {
        QueryParam {
            name,
            kind: ParamKind::Text { max },
            doc,
        }
    }
    pub const fn one_of(
        name: &'static str,
        values: &'static [&'static str],
        doc: &'static str,
    ) -> QueryParam {
        QueryParam {
            name,
            kind: ParamKind::OneOf(values),
            doc,
        }
    }

    /// Checks a value the request carries for this parameter.
    pub fn check(&self, value: &str) -> ApiResult<()> {
        let ok = match self.kind {
            ParamKind::Int { min, max } => {
                value.parse::<i64>().is_ok_and(|n| (min..=max).contains(&n))
            }
            ParamKind::Text { max } => value.chars().count() <= max,
            ParamKind::OneOf(values) => values.contains(&value),
        };
        if ok {
            return Ok(());
        }
        let what = match self.kind {
            ParamKind::Int { min, max } => format!("must be an integer from {min} to {max}"),
            ParamKind::Text { max } => format!("must be at most {max} characters"),
            ParamKind::OneOf(values) => format!("must be one of {}", values.join(", ")),
        };
        Err(ApiError::validation(self.name, what))
    }

    /// The parameter's JSON Schema.
    pub fn schema(&self) -> serde_json::Value {
        match self.kind {
            ParamKind::Int { min, max } => {
                serde_json::json!({ "type": "integer", "minimum": min, "maximum": max })
            }
            ParamKind::Text { max } => {
                serde_json::json!({ "type": "string", "maxLength": max })
            }
            ParamKind::OneOf(values) => serde_json::json!({ "type": "string", "enum": values }),
        }
    }
}

/// The query parameters of every paged list.
pub const PAGED: &[QueryParam] = &[
    QueryParam::int(
        "limit",
        1,
        crate::pagination::MAX_LIMIT as i64,
        "Items per page",
    ),
    QueryParam::text("cursor", 200, "The previous page's next_cursor"),
];

/// One entry of the route table: everything the gateway and the OpenAPI document need to know.
pub struct Route {
    pub method: Method,
    /// Path template with `{name}` segments, e.g. `/v1/echo/{room}`. Also the route's name in logs.
    pub template: &'static str,
    pub handler: Handler,
    pub access: Access,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
    /// OpenAPI tag (the resource).
    pub tag: &'static str,
    /// Largest accepted body in bytes.
    pub body_limit: usize,
    pub request: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
    /// Status of a successful response.
    pub success: u16,
    /// The query parameters it reads (checked before the handler runs).
    pub query: &'static [QueryParam],
    /// Second query-parameter list (a paged list's own filters beside [`PAGED`]).
    pub more_query: &'static [QueryParam],
    /// Error codes the handler itself can answer with, beyond those its shape implies (see
    /// `routes::openapi::error_codes`).
    pub errors: &'static [crate::error::ErrorCode],
}

impl Route {
    pub const fn new(method: Method, template: &'static str, handler: Handler) -> Route {
        Route {
            method,
            template,
            handler,
            access: Access::Public,
            summary: "",
            tag: "platform",
            body_limit: crate::input::DEFAULT_BODY_LIMIT,
            request: None,
            response: None,
            success: 200,
            query: &[],
            more_query: &[],
            errors: &[],
        }
    }
    pub const fn query(mut self, params: &'static [QueryParam]) -> Route {
        self.query = params;
        self
    }
    /// A paged list: `limit` and `cursor`, plus its own filters.
    pub const fn paged(mut self, filters: &'static [QueryParam]) -> Route {
        self.query = PAGED;
        self.more_query = filters;
        self
    }
    pub const fn errors(mut self, codes: &'static [crate::error::ErrorCode]) -> Route {
        self.errors = codes;
        self
    }
    /// Every query parameter the route reads.
    pub fn query_params(&self) -> impl Iterator<Item = &QueryParam> {
        self.query.iter().chain(self.more_query.iter())
    }
    pub const fn access(mut self, access: Access) -> Route {
        self.access = access;
        self
    }
    pub const fn tenant(self, perm: Permission) -> Route {
        self.access(Access::Tenant(perm))
    }
    pub const fn summary(mut self, tag: &'static str, summary: &'static str) -> Route {
        self.tag = tag;
        self.summary = summary;
        self
    }
    pub const fn body_limit(mut self, bytes: usize) -> Route {
        self.body_limit = bytes;
        self
    }
    pub const fn request<T: schemars::JsonSchema>(mut self) -> Route {
        self.request = Some(schemars::SchemaGenerator::subschema_for::<T>);
        self
    }
    pub const fn response<T: schemars::JsonSchema>(mut self) -> Route {
        self.response = Some(schemars::SchemaGenerator::subschema_for::<T>);
        self
    }
    pub const fn success(mut self, status: u16) -> Route {
        self.success = status;
        self
    }
    /// Widget routes (public key or conversation token) answer CORS for the tenant's allowed
    /// origins.
    pub fn is_widget(&self) -> bool {
        match self.access {
            Access::Tenant(p) => p.allowed_for_public_key(),
            Access::Conversation(_) | Access::Customer => true,
            _ => false,
        }
    }
}

/// The result of matching a request against the table.
pub enum RouteMatch<'r> {
    Found(&'r Route, HashMap<String, String>),
    /// The path exists with other methods; the `Allow` header lists them.
    MethodNotAllowed(Vec<Method>),
    NotFound,
    /// The path had an undecodable segment (bad percent-encoding or not UTF-8).
    BadPath,
}

/// Matches `method path` against `routes`. HEAD is served by a GET route when no HEAD route
/// exists (the pipeline drops the body).
pub fn find<'r>(routes: &'r [Route], method: Method, path: &str) -> RouteMatch<'r> {
    let Some(segments) = decode_segments(path) else {
        return RouteMatch::BadPath;
    };
    let mut allowed = Vec::new();
    let mut get_fallback = None;
    for route in routes {
        let Some(params) = match_template(route.template, &segments) else {
            continue;
        };
        if route.method == method {
            return RouteMatch::Found(route, params);
        }
        if method == Method::Head && route.method == Method::Get {
            get_fallback = Some((route, params));
        }
        if !allowed.contains(&route.method) {
            allowed.push(route.method);
        }
    }
    if let Some((route, params)) = get_fallback {
        return RouteMatch::Found(route, params);
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        if allowed.contains(&Method::Get) && !allowed.contains(&Method::Head) {
            allowed.push(Method::Head);
        }
        allowed.sort();
        RouteMatch::MethodNotAllowed(allowed)
    }
}

/// Splits a raw path into percent-decoded segments. A trailing slash is insignificant; empty
/// segments in the middle (`//`) never match a route.
fn decode_segments(path: &str) -> Option<Vec<String>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Some(Vec::new());
    }
    trimmed
        .split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
        .collect()
}

fn match_template(template: &str, segments: &[String]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut parts = template.split('/').filter(|s| !s.is_empty());
    let mut segs = segments.iter();
    loop {
        match (parts.next(), segs.next()) {
            (None, None) => return Some(params),
            (Some(p), Some(s)) => {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if s.is_empty() {
                        return None;
                    }
                    params.insert(name.to_string(), s.clone());
                } else if p != s {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::error::ApiResult;

    async fn noop(_: &Ctx, _: Request) -> ApiResult<Response> {
        Ok(Response::new(204))
    }

    fn table() -> Vec<Route> {
        vec![
            Route::new(Method::Get, "/v1/things/{id}", crate::handler!(noop)),
            Route::new(Method::Delete, "/v1/things/{id}", crate::handler!(noop)),
            Route::new(Method::Get, "/health", crate::handler!(noop)),
        ]
    }

    #[test]
    fn captures_decoded_params_and_ignores_trailing_slash() {
        let t = table();
        match find(&t, Method::Get, "/v1/things/a%20b/") {
            RouteMatch::Found(r, p) => {
                assert_eq!(r.template, "/v1/things/{id}");
                assert_eq!(p["id"], "a b");
            }
            _ => panic!("expected a match"),
        }
    }

    #[test]
    fn wrong_method_lists_allowed_methods_including_head() {
        let t = table();
        match find(&t, Method::Post, "/v1/things/1") {
            RouteMatch::MethodNotAllowed(m) => {
                assert_eq!(m, vec![Method::Get, Method::Head, Method::Delete])
            }
            _ => panic!("expected 405"),
        }
    }

    #[test]
    fn head_falls_back_to_get_and_unknown_paths_are_not_found() {
        let t = table();
        assert!(matches!(
            find(&t, Method::Head, "/health"),
            RouteMatch::Found(..)
        ));
        assert!(matches!(
            find(&t, Method::Get, "/v1/things"),
            RouteMatch::NotFound
        ));
        assert!(matches!(
            find(&t, Method::Get, "/v1/things//x"),
            RouteMatch::NotFound
        ));
        assert!(matches!(
            find(&t, Method::Get, "/v1/things/%ff"),
            RouteMatch::BadPath
        ));
    }
}
