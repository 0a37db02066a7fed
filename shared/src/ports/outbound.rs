use super::PortError;
use crate::http::{Request, Response};
use async_trait::async_trait;

/// Outbound HTTP to providers (Gemini, Twilio, Resend, …). The request's `origin + path + query`
/// is the target URL. The response body may be a stream, so AI tokens can be relayed as they
/// arrive.
#[async_trait(?Send)]
pub trait HttpClient {
    async fn send(&self, req: Request) -> Result<Response, PortError>;
}
