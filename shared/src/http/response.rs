use super::{Body, Headers};
use serde::Serialize;

/// An outgoing response. Handlers build these; the pipeline in [`crate::app`] adds the headers
/// every response carries (request id, security headers, rate-limit budget).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Headers::new(),
            body: Body::Empty,
        }
    }

    /// A JSON response. Serialising our own types cannot fail; if it ever did, the client gets a
    /// 500 envelope rather than a panic.
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                let mut r = Response::new(status);
                r.headers
                    .set("content-type", "application/json; charset=utf-8");
                r.body = Body::Bytes(bytes);
                r
            }
            Err(_) => Response::new(500),
        }
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
        let mut r = Response::new(status);
        r.headers.set("content-type", content_type);
        r.body = body.into();
        r
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.set(name, value);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Parses a buffered JSON body; `None` for streams or invalid JSON. Used by callers of live
    /// objects and by tests.
    pub fn json_body<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(self.body.as_bytes()).ok()
    }
}
