//! The web widget, the agent console and the demo page, embedded in the worker (so every
//! runtime serves the same bytes, with no asset binding to configure). Cached by ETag.

use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::router::Ctx;
use sha2::{Digest, Sha256};

struct Asset {
    body: &'static str,
    content_type: &'static str,
    /// Content-Security-Policy for pages (scripts and styles get the API default).
    csp: Option<&'static str>,
    max_age: u32,
}

const PAGE_CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// The demo page styles itself inline (it plays a tenant's site with hostile CSS).
const DEMO_CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn asset(name: &str) -> Option<Asset> {
    Some(match name {
        "widget.js" => Asset {
            body: include_str!("../../assets/widget.js"),
            content_type: "text/javascript; charset=utf-8",
            csp: None,
            max_age: 300,
        },
        "console" => Asset {
            body: include_str!("../../assets/console.html"),
            content_type: "text/html; charset=utf-8",
            csp: Some(PAGE_CSP),
            max_age: 60,
        },
        "console.js" => Asset {
            body: include_str!("../../assets/console.js"),
            content_type: "text/javascript; charset=utf-8",
            csp: None,
            max_age: 60,
        },
        "console.css" => Asset {
            body: include_str!("../../assets/console.css"),
            content_type: "text/css; charset=utf-8",
            csp: None,
            max_age: 60,
        },
        "demo" => Asset {
            body: include_str!("../../assets/demo.html"),
            content_type: "text/html; charset=utf-8",
            csp: Some(DEMO_CSP),
            max_age: 60,
        },
        "demo.js" => Asset {
            body: include_str!("../../assets/demo.js"),
            content_type: "text/javascript; charset=utf-8",
            csp: None,
            max_age: 60,
        },
        _ => return None,
    })
}

fn serve(name: &str, req: &Request) -> ApiResult<Response> {
    let a = asset(name).ok_or_else(|| crate::error::ApiError::not_found("asset"))?;
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(a.body.as_bytes())[..12])
    );
    let mut r = if req.header("if-none-match") == Some(etag.as_str()) {
        Response::new(304)
    } else {
        Response::text(200, a.content_type, a.body)
    };
    r.headers.set("etag", etag);
    r.headers
        .set("cache-control", format!("public, max-age={}", a.max_age));
    if let Some(csp) = a.csp {
        r.headers.set("content-security-policy", csp);
    }
    // The widget script is loaded cross-origin by tenants' sites.
    if name == "widget.js" {
        r.headers
            .set("cross-origin-resource-policy", "cross-origin");
        r.headers.set("access-control-allow-origin", "*");
    }
    Ok(r)
}

pub async fn widget(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("widget.js", &req)
}
pub async fn console(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("console", &req)
}
pub async fn console_js(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("console.js", &req)
}
pub async fn console_css(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("console.css", &req)
}
pub async fn demo(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("demo", &req)
}
pub async fn demo_js(_cx: &Ctx, req: Request) -> ApiResult<Response> {
    serve("demo.js", &req)
}
