//! Conversions between Spin's `http` types and the core's HTTP model.

use bytes::Bytes;
use futures::stream::LocalBoxStream;
use futures::StreamExt;
use http_body_util::{Either, Full, StreamBody};
use prism_core::app::BodyRead;
use prism_core::http::{Body, Method, Request, Response};
use spin_sdk::http::body::IncomingBodyExt;
use std::convert::Infallible;

pub async fn request_from_spin(req: spin_sdk::http::Request) -> anyhow::Result<Request> {
    let (parts, body) = req.into_parts();
    let uri = &parts.uri;
    // Spin passes the full URL in `spin-full-url`; plain WASI hosts give an absolute URI or a
    // path plus a Host header.
    let url = if let Some(full) = parts
        .headers
        .get("spin-full-url")
        .and_then(|v| v.to_str().ok())
    {
        full.to_string()
    } else if uri.scheme().is_some() {
        uri.to_string()
    } else {
        let host = parts
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        format!(
            "http://{host}{}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        )
    };
    let mut out = Request::new(Method::parse(parts.method.as_str()), &url);
    for (name, value) in parts.headers.iter() {
        if let Ok(v) = value.to_str() {
            out.headers.append(name.as_str(), v);
        }
    }
    // Never more than the route's cap: a longer body is refused by its length, so reading on
    // would only fill memory.
    if let BodyRead::Whole { cap } | BodyRead::Stream { cap } = prism_core::app::body_read(&out) {
        let mut stream = body.stream();
        while let Some(Ok(chunk)) = stream.next().await {
            let room = cap.saturating_sub(out.body.len());
            out.body
                .extend_from_slice(chunk.get(..room).unwrap_or(&chunk[..]));
            if out.body.len() >= cap {
                break;
            }
        }
    }
    Ok(out)
}

type Frames = LocalBoxStream<'static, Result<http_body::Frame<Bytes>, Infallible>>;
/// A buffered or streamed body. Not `Send` (our streams are local), which `http_body_util`'s
/// boxing helpers would require, hence the explicit `Either`.
pub type SpinBody = Either<Full<Bytes>, StreamBody<Frames>>;

pub fn response_to_spin(r: Response) -> http::Response<SpinBody> {
    let body: SpinBody = match r.body {
        Body::Empty => Either::Left(Full::new(Bytes::new())),
        Body::Bytes(b) => Either::Left(Full::new(Bytes::from(b))),
        Body::Stream(s) => Either::Right(StreamBody::new(
            s.map(|chunk| Ok(http_body::Frame::data(Bytes::from(chunk))))
                .boxed_local(),
        )),
    };
    let mut builder = http::Response::builder().status(r.status);
    for (n, v) in r.headers.iter() {
        builder = builder.header(n, v);
    }
    builder.body(body).unwrap_or_else(|_| {
        let mut fallback = http::Response::new(Either::Left(Full::new(Bytes::new())));
        *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}
