//! Conversions between workers-rs types and the core's HTTP model.

use futures::StreamExt;
use prism_core::http::{Body, Method, Request};
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

pub async fn request_from_worker(mut req: worker::Request) -> Result<Request> {
    let mut out = head(&req)?;
    if !matches!(out.method, Method::Get | Method::Head) {
        out.body = read_capped(
            &mut req,
            prism_core::app::body_read_cap(out.method, &out.path),
        )
        .await;
    }
    Ok(out)
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
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    // With a transfer coding the length header does not frame the body (RFC 9112 §6.3): read
    // it as a stream, capped.
    let framed = req
        .headers()
        .get("transfer-encoding")
        .ok()
        .flatten()
        .is_none();
    match declared {
        // Not read at all: the core refuses it by its declared length.
        Some(n) if n >= cap => return Vec::new(),
        // The runtime delivers exactly the declared length: one read, no stream reader (the
        // reader's per-chunk promises were a visible cost on every Durable Object call).
        Some(_) if framed => return req.bytes().await.unwrap_or_default(),
        _ => {}
    }
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
    let body = match js.array_buffer() {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map(|b| js_sys::Uint8Array::new(&b).to_vec())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    out.body = Body::from(body);
    Ok(out)
}
