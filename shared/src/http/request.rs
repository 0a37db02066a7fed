// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]
use super::{Headers, Method};
use std::collections::HashMap;

/// An incoming request with its body already buffered.
///
/// Bodies are buffered because every API body is small and bounded (the gateway enforces the
/// limit) and because webhook signatures must be verified over the exact raw bytes.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    /// Scheme, host and port as the runtime saw them (e.g. `http://127.0.0.1:8787`). Webhook
    /// signatures that cover the URL (Twilio) need it; a configured public base URL overrides it.
    pub origin: String,
    /// The raw (still percent-encoded) path, always starting with `/`.
    pub path: String,
    /// The raw query string without `?`; empty when absent.
    pub query: String,
    pub headers: Headers,
    pub body: Vec<u8>,
    /// Path parameters captured by the router (`{id}` → value, percent-decoded).
    pub params: HashMap<String, String>,
}

impl Request {
    /// Builds a request from a full URL. Used by adapters and tests alike.
    pub fn new(method: Method, url: &str) -> Request {
        let (origin, rest) = split_origin(url);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let path = if path.is_empty() { "/" } else { path };
        // A fragment never reaches a server, but be strict anyway.
        let query = query.split('#').next().unwrap_or("");
        Request {
            method,
            origin: origin.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Headers::new(),
            body: Vec::new(),
            params: HashMap::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(name, value);
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// A path parameter captured by the router. Handlers only ask for names their template has.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    /// Decoded query parameters in order (`a=1&b=%20` → `[("a","1"),("b"," ")]`).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The first value of one query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The full URL as the runtime saw it.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            format!("{}{}", self.origin, self.path)
        } else {
            format!("{}{}?{}", self.origin, self.path, self.query)
        }
    }

    /// True for a WebSocket upgrade handshake.
    pub fn is_websocket_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
}

fn split_origin(url: &str) -> (&str, &str) {
    if let Some(scheme_end) = url.find("://") {
        let after = scheme_end + 3;
        match url[after..].find('/') {
            Some(slash) => url.split_at(after + slash),
            None => match url[after..].find('?') {
                Some(q) => url.split_at(after + q),
                None => (url, ""),
            },
        }
    } else {
        ("", url)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn splits_origin_path_and_query() {
        let r = Request::new(
            Method::Get,
            "https://a.example:8443/v1/x%20y?q=1&r=a+b#frag",
        );
        assert_eq!(r.origin, "https://a.example:8443");
        assert_eq!(r.path, "/v1/x%20y");
        assert_eq!(r.query, "q=1&r=a+b");
        assert_eq!(r.query_param("r").as_deref(), Some("a b"));
        assert_eq!(r.url(), "https://a.example:8443/v1/x%20y?q=1&r=a+b");
    }

    #[test]
    fn bare_origin_gets_root_path() {
        let r = Request::new(Method::Get, "http://h");
        assert_eq!(r.path, "/");
        let r = Request::new(Method::Get, "http://h?x=1");
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/", "x=1"));
        let r = Request::new(Method::Get, "/only/path");
        assert_eq!((r.origin.as_str(), r.path.as_str()), ("", "/only/path"));
    }
}
