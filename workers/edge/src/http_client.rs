//! Outbound HTTP over the Workers `fetch`, with the response body streamed (AI tokens are
//! relayed as they arrive, not after the whole answer).

use crate::convert;
use async_trait::async_trait;
use futures::StreamExt;
use prism_core::http::{Body, Request, Response};
use prism_core::ports::{HttpClient, PortError};

pub struct FetchClient;

#[async_trait(?Send)]
impl HttpClient for FetchClient {
    async fn send(&self, req: Request) -> Result<Response, PortError> {
        let fail = |e: worker::Error| PortError::new(format!("fetch: {e}"));
        let wreq = convert::request_to_worker(&req).map_err(fail)?;
        let mut resp = worker::Fetch::Request(wreq).send().await.map_err(fail)?;
        let mut out = Response::new(resp.status_code());
        for (n, v) in resp.headers().entries() {
            out.headers.append(&n, v);
        }
        // No body at all (204, or an error status answered without one) is an empty body.
        let Ok(stream) = resp.stream() else {
            out.body = Body::from(Vec::new());
            return Ok(out);
        };
        // A read error ends the stream; the caller sees a truncated body and treats it as a cut.
        out.body = Body::Stream(Box::pin(
            stream
                .take_while(|r| futures::future::ready(r.is_ok()))
                .filter_map(|r| async move { r.ok() }),
        ));
        Ok(out)
    }
}
