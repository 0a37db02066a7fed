//! Outbound HTTP through Spin (`wasi:http` client), the response body streamed so AI tokens are
//! relayed as they arrive. Spin only lets the component reach hosts listed in `spin.toml`.

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::Full;
use prism_core::http::{Body, Request, Response};
use prism_core::ports::{HttpClient, PortError};
use spin_sdk::http::body::IncomingBodyExt;

pub struct SpinHttp;

#[async_trait(?Send)]
impl HttpClient for SpinHttp {
    async fn send(&self, req: Request) -> Result<Response, PortError> {
        let mut builder = http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url());
        for (n, v) in req.headers.iter() {
            builder = builder.header(n, v);
        }
        let request = builder
            .body(Full::new(Bytes::from(req.body)))
            .map_err(|e| PortError::new(format!("request: {e}")))?;
        let resp = spin_sdk::http::send(request)
            .await
            .map_err(|e| PortError::new(format!("send: {e}")))?;
        let mut out = Response::new(resp.status().as_u16());
        for (n, v) in resp.headers() {
            if let Ok(v) = v.to_str() {
                out.headers.append(n.as_str(), v);
            }
        }
        // A read error ends the stream; the caller treats a short body as a cut.
        let stream = resp.into_body().stream();
        out.body = Body::Stream(Box::pin(
            stream
                .take_while(|r| futures::future::ready(r.is_ok()))
                .filter_map(|r| async move { r.ok().map(|b| b.to_vec()) }),
        ));
        Ok(out)
    }
}
