//! Conversions between workers-rs types and the core's HTTP model.

use futures::StreamExt;
use prism_core::app::BodyRead;
use prism_core::http::{Body, Method, Request};
use worker::web_sys;
use worker::{Headers, Response, Result};

/// Method, URL and headers; the callers read the body as suits where the request came from.
fn head(req: &worker::Request) -> Result<Request> {
    let url = req.url()?;
    let mut out = Request::new(Method::parse(req.method().as_ref()), url.as_str());
    for (name, value) in req.headers().entries() {
        out.headers.append(&name, value);
    }
    Ok(out)
}

/// The worker's own requests, read straight from the runtime's object rather than through
/// workers-rs's `Request`: its conversion reads `request.cf`, which the runtime builds anew
/// from JSON on every read (7 % of a `GET /v1/tenant`'s CPU in the profile of 2026-12-04)
/// and which nothing here uses, and parses the URL that the core splits itself.
pub async fn request_from_runtime(req: web_sys::Request) -> Result<Request> {
    let mut out = Request::new(Method::parse(&req.method()), &req.url());
    for (name, value) in Headers(req.headers()).entries() {
        out.headers.append(&name, value);
    }
    out.body = match prism_core::app::body_read(&out) {
        BodyRead::Skip => Vec::new(),
        // One read, no stream reader (the reader's per-chunk promises were a visible cost on
        // every Durable Object call).
        BodyRead::Whole { .. } => array_buffer(req.array_buffer()).await,
        // Rare (no length, or a transfer coding): workers-rs's stream reader, capped.
        BodyRead::Stream { cap } => read_capped(&mut worker::Request::from(req), cap).await,
    };
    Ok(out)
}

/// The bytes of a body promise (`arrayBuffer()`); none when the runtime refuses.
async fn array_buffer(
    promise: std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>,
) -> Vec<u8> {
    match promise {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .map(|b| js_sys::Uint8Array::new(&b).to_vec())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// A request from this worker's own code to one of its Durable Objects (objects are not
/// reachable from outside): its body is one the core built, so it is read in one call rather
/// than through a capped stream reader (whose per-chunk promises showed in every gate check).
pub async fn internal_request_from_worker(mut req: worker::Request) -> Result<Request> {
    let mut out = head(&req)?;
    if !matches!(out.method, Method::Get | Method::Head) {
        out.body = req.bytes().await.unwrap_or_default();
    }
    Ok(out)
}

/// The body, but never more than `cap` bytes of it: the core refuses a body at its cap, so
/// reading further would only fill the isolate's memory for a request that fails anyway.
async fn read_capped(req: &mut worker::Request, cap: usize) -> Vec<u8> {
    let Ok(mut stream) = req.stream() else {
        return Vec::new();
    };
    let mut body = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
        if body.len() >= cap {
            break;
        }
    }
    body
}

pub fn headers_to_worker(headers: &prism_core::http::Headers) -> Headers {
    let h = Headers::new();
    for (n, v) in headers.iter() {
        // Names and values come from the core, which only produces valid ones.
        let _ = h.append(n, v);
    }
    h
}

pub fn response_to_worker(r: prism_core::http::Response) -> Result<Response> {
    let headers = headers_to_worker(&r.headers);
    let resp = match r.body {
        Body::Empty => Response::empty()?,
        Body::Bytes(b) => Response::from_bytes(b)?,
        Body::Stream(s) => Response::from_stream(s.map(Ok::<Vec<u8>, worker::Error>))?,
    };
    Ok(resp.with_status(r.status).with_headers(headers))
}

/// The worker's own responses, built straight as the runtime's object: workers-rs's
/// `Response` is a second copy of status, headers and body, converted again on the way out,
/// and that conversion panics where the runtime refuses (here it is an error). Streams keep
/// workers-rs's adapter from a Rust stream to a `ReadableStream`.
pub fn response_to_runtime(r: prism_core::http::Response) -> Result<web_sys::Response> {
    let headers = headers_to_worker(&r.headers);
    let body = match r.body {
        // No body object at all for an empty one: the runtime refuses any body, even an empty
        // one, on 204 and 304.
        Body::Empty => None,
        Body::Bytes(b) if b.is_empty() => None,
        Body::Bytes(b) => {
            let array = js_sys::Uint8Array::new_with_length(b.len() as u32);
            array.copy_from(&b);
            Some(array)
        }
        Body::Stream(s) => {
            return Ok(Response::from_stream(s.map(Ok::<Vec<u8>, worker::Error>))?
                .with_status(r.status)
                .with_headers(headers)
                .into())
        }
    };
    let init = web_sys::ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&headers.0);
    Ok(web_sys::Response::new_with_opt_buffer_source_and_init(
        body.as_ref().map(|a| a.as_ref()),
        &init,
    )?)
}

/// Converts a core request into a workers-rs request (for Durable Object calls and outbound
/// fetches).
pub fn request_to_worker(req: &Request) -> Result<worker::Request> {
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::from(req.method.as_str().to_string()))
        .with_headers(headers_to_worker(&req.headers));
    if !req.body.is_empty() {
        let arr = js_sys::Uint8Array::from(req.body.as_slice());
        init.with_body(Some(arr.into()));
    }
    worker::Request::new_with_init(&req.url(), &init)
}

/// Buffers a workers-rs response into the core model. The body is taken with one
/// `arrayBuffer()` rather than workers-rs's stream reader, whose per-chunk promises showed in
/// every Durable Object call (a gate check per request and per customer message).
pub async fn response_from_worker(resp: Response) -> Result<prism_core::http::Response> {
    let mut out = prism_core::http::Response::new(resp.status_code());
    for (n, v) in resp.headers().entries() {
        out.headers.append(&n, v);
    }
    let js: worker::web_sys::Response = resp.into();
    let body = array_buffer(js.array_buffer()).await;
    out.body = Body::from(body);
    Ok(out)
}
