//! Outbound calls: where the platform may send a request, how long it waits, and how much of
//! the answer it reads.
//!
//! Tenants choose some URLs (an OpenAI-compatible `base_url`, `public_base_url`, later webhook
//! endpoints). Such a URL may not point into the platform's own network: https only, no
//! loopback, private, link-local, CGNAT or metadata addresses, no credentials in the URL. Local
//! development (fake providers on 127.0.0.1) turns this off with `ALLOW_LOCAL_EGRESS=on`, which
//! no deployment sets. Hostnames are checked by name only: the edge cannot resolve DNS itself,
//! and Cloudflare's `fetch` refuses private addresses on its own.
//!
//! Every non-streaming call goes through [`fetch`]: a deadline on the platform timer and a cap
//! on the bytes read, so a slow or endless upstream cannot hold a request or fill memory.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Headers, Request};
use crate::platform::Platform;
use crate::ports::{HttpClient, Timer};
use futures::future::{select, Either};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

/// Why a URL may not be called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotAUrl,
    NotHttps,
    Credentials,
    InternalHost,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::NotAUrl => "must be an absolute https URL",
            Refusal::NotHttps => "must use https",
            Refusal::Credentials => "must not carry a user name or password",
            Refusal::InternalHost => {
                "must not point to a loopback, private, link-local or internal address"
            }
        }
    }
}

/// Whether tenant-chosen URLs may reach local and private addresses over plain http (local
/// development and tests only).
pub fn allow_local(p: &Platform) -> bool {
    p.config.flag("allow_local_egress")
}

/// Checks a tenant-chosen URL.
pub fn check_url(raw: &str, allow_local: bool) -> Result<url::Url, Refusal> {
    let u = url::Url::parse(raw).map_err(|_| Refusal::NotAUrl)?;
    let host = match u.host() {
        Some(h) => h,
        None => return Err(Refusal::NotAUrl),
    };
    match u.scheme() {
        "https" => {}
        "http" if allow_local => {}
        "http" => return Err(Refusal::NotHttps),
        _ => return Err(Refusal::NotAUrl),
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Refusal::Credentials);
    }
    if allow_local {
        return Ok(u);
    }
    let internal = match host {
        url::Host::Ipv4(ip) => internal_v4(ip),
        url::Host::Ipv6(ip) => internal_v6(ip),
        url::Host::Domain(d) => internal_name(d),
    };
    if internal {
        return Err(Refusal::InternalHost);
    }
    Ok(u)
}

/// A validation error for a tenant-chosen URL in `field`.
pub fn guard(p: &Platform, field: &str, raw: &str) -> ApiResult<()> {
    check_url(raw, allow_local(p))
        .map(|_| ())
        .map_err(|r| ApiError::validation(field, r.message()))
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24 (protocol assignments),
        // 198.18.0.0/15 (benchmarking), 240.0.0.0/4 (reserved).
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64 to anything, v4 included
}

/// Names that resolve inside a network rather than on the internet.
fn internal_name(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = d.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => internal_v4(v4),
            IpAddr::V6(v6) => internal_v6(v6),
        };
    }
    const SUFFIXES: &[&str] = &[
        "localhost",
        "local",
        "localdomain",
        "internal",
        "intranet",
        "lan",
        "home.arpa",
        "corp",
    ];
    !d.contains('.')
        || SUFFIXES
            .iter()
            .any(|s| d == *s || d.ends_with(&format!(".{s}")))
}

/// How long to wait and how much to read.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeout_ms: i64,
    pub max_bytes: usize,
}

impl Limits {
    /// Provider API calls answered with JSON (sends, fetches, embeddings).
    pub const API: Limits = Limits {
        timeout_ms: 15_000,
        max_bytes: 4 * 1024 * 1024,
    };
}

/// A completed outbound call.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// No outbound HTTP on this runtime, or the network failed.
    Network(String),
    Timeout,
    /// The answer was longer than the limit (reading stopped there).
    TooLarge,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Network(e) => write!(f, "network: {e}"),
            FetchError::Timeout => f.write_str("timed out"),
            FetchError::TooLarge => f.write_str("answer too large"),
        }
    }
}

/// Sends `req` and reads the whole answer, within `limits`.
pub async fn fetch(p: &Platform, req: Request, limits: Limits) -> Result<Fetched, FetchError> {
    let http = p
        .http
        .clone()
        .ok_or_else(|| FetchError::Network("no outbound HTTP on this runtime".into()))?;
    fetch_with(&http, &p.timer, req, limits).await
}

/// [`fetch`] over explicit ports (embedders hold these rather than the platform).
pub async fn fetch_with(
    http: &Rc<dyn HttpClient>,
    timer: &Rc<dyn Timer>,
    req: Request,
    limits: Limits,
) -> Result<Fetched, FetchError> {
    let http = http.clone();
    let call = async move {
        let resp = http.send(req).await.map_err(|e| FetchError::Network(e.0))?;
        let body = read_limited(resp.body, limits.max_bytes)
            .await
            .ok_or(FetchError::TooLarge)?;
        Ok(Fetched {
            status: resp.status,
            headers: resp.headers,
            body,
        })
    };
    within_timer(timer, limits.timeout_ms, call)
        .await
        .unwrap_or(Err(FetchError::Timeout))
}

/// Reads a body up to `max` bytes; `None` as soon as it is longer (the rest is never read).
pub async fn read_limited(body: Body, max: usize) -> Option<Vec<u8>> {
    use futures::StreamExt;
    match body {
        Body::Empty => Some(Vec::new()),
        Body::Bytes(b) => (b.len() <= max).then_some(b),
        Body::Stream(mut s) => {
            let mut out = Vec::new();
            while let Some(chunk) = s.next().await {
                if out.len() + chunk.len() > max {
                    return None;
                }
                out.extend_from_slice(&chunk);
            }
            Some(out)
        }
    }
}

/// Reads at most `max` bytes of a body as text (error bodies, for logs); stops reading there.
pub async fn read_prefix(body: Body, max: usize) -> String {
    use futures::StreamExt;
    let bytes = match body {
        Body::Empty => Vec::new(),
        Body::Bytes(b) => b,
        Body::Stream(mut s) => {
            let mut out = Vec::new();
            while let Some(chunk) = s.next().await {
                out.extend_from_slice(&chunk);
                if out.len() >= max {
                    break;
                }
            }
            out
        }
    };
    String::from_utf8_lossy(bytes.get(..max).unwrap_or(&bytes)).into_owned()
}

/// Waits for `fut` at most `ms` on the platform's timer; `None` on timeout.
pub async fn within<T>(
    p: &Platform,
    ms: i64,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    within_timer(&p.timer, ms, fut).await
}

/// [`within`] for callers that hold only a timer (embedders).
pub async fn within_timer<T>(
    timer: &Rc<dyn Timer>,
    ms: i64,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    let fut = std::pin::pin!(fut);
    let timer = timer.clone();
    let sleep = std::pin::pin!(async move { timer.sleep(ms.max(0) as u64).await });
    match select(fut, sleep).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn internal_and_insecure_urls_are_refused() {
        for bad in [
            "http://api.example.com/v1",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.1.2.3",
            "https://172.16.0.1",
            "https://192.168.1.1:8443",
            "https://100.64.0.1",
            "https://[fd00::1]",
            "https://[fe80::1]",
            "https://localhost:8080",
            "https://api.localhost",
            "https://metadata.google.internal/computeMetadata/v1",
            "https://printer.local",
            "https://intranet",
            "https://user:pw@api.example.com",
            "ftp://api.example.com",
            "not a url",
            "https://0.0.0.0",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad} should be refused");
        }
        for good in [
            "https://api.openai.com",
            "https://llm.tenant.example:8443/v1",
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
        ] {
            assert!(check_url(good, false).is_ok(), "{good} should pass");
        }
        assert!(check_url("http://127.0.0.1:9999", true).is_ok());
        assert!(check_url("https://user:pw@127.0.0.1", true).is_err());
    }

    #[test]
    fn reading_stops_at_the_limit() {
        use futures::executor::block_on;
        let endless = Body::Stream(Box::pin(futures::stream::repeat(vec![b'x'; 1024])));
        assert_eq!(block_on(read_limited(endless, 10_000)), None);
        let endless = Body::Stream(Box::pin(futures::stream::repeat(vec![b'x'; 1024])));
        assert_eq!(block_on(read_prefix(endless, 2000)).len(), 2000);
        assert_eq!(
            block_on(read_limited(Body::Bytes(b"ok".to_vec()), 2)),
            Some(b"ok".to_vec())
        );
    }
}
