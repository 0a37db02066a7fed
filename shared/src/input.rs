//! Strict request-body parsing: content type, size, UTF-8, nesting depth, then typed
//! deserialisation that reports the failing field's path. Request types use
//! `#[serde(deny_unknown_fields)]`, so a misspelt field is an error rather than silently ignored.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::Request;
use serde::de::DeserializeOwned;

/// Default maximum body for JSON API routes; routes that take documents set their own.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// JSON nested deeper than this is refused before parsing (no legitimate payload needs it, and
/// it bounds the parser's recursion).
pub const MAX_DEPTH: usize = 32;

/// Parses a JSON body into `T`.
pub fn json<T: DeserializeOwned>(req: &Request) -> ApiResult<T> {
    require_json_content_type(req)?;
    parse_json(&req.body)
}

/// Parses JSON bytes into `T` (no content-type check; for webhooks and internal calls).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "the request body is empty; send a JSON object",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "the body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    check_depth(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            ApiError::validation(
                if path == "." { "$".to_string() } else { path },
                inner.to_string(),
            )
        } else {
            ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?;
    Ok(value)
}

pub fn require_json_content_type(req: &Request) -> ApiResult<()> {
    let ct = req.header("content-type").unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "expected Content-Type application/json, got {:?}",
                truncate(ct, 80)
            ),
        ))
    }
}

fn check_depth(text: &str) -> ApiResult<()> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ApiError::new(
                        ErrorCode::InvalidJson,
                        format!("JSON nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Deserialises a field that distinguishes "absent" (`None`) from "null" (`Some(None)`), for
/// PATCH bodies where null clears a value. Use with `#[serde(default, deserialize_with = …)]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// Field validators returning errors that name the field.
pub mod check {
    use crate::error::{ApiError, ApiResult};

    /// A string of `min..=max` characters with no control characters.
    pub fn text(field: &str, s: &str, min: usize, max: usize) -> ApiResult<()> {
        let n = s.chars().count();
        if n < min || n > max {
            return Err(ApiError::validation(
                field,
                format!("must be {min}-{max} characters"),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(ApiError::validation(
                field,
                "must not contain control characters",
            ));
        }
        Ok(())
    }

    /// A lower-case slug: letters, digits and single dashes, 2-48 characters.
    pub fn slug(field: &str, s: &str) -> ApiResult<()> {
        let ok = (2..=48).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(())
        } else {
            Err(ApiError::validation(
                field,
                "must be 2-48 lower-case letters, digits and single dashes",
            ))
        }
    }

    /// A plausible email address (one `@`, a dot in the domain, no spaces), at most 254 bytes.
    pub fn email(field: &str, s: &str) -> ApiResult<()> {
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if ok {
            Ok(())
        } else {
            Err(ApiError::validation(field, "must be a valid email address"))
        }
    }

    /// A language tag in the BCP 47 shape browsers send (`es`, `pt-BR`, `zh-Hant-TW`): a 2-3
    /// letter language, then up to three 2-8 character subtags. Hand-written because only the
    /// shape matters here (it names a language to a model, nothing parses it further).
    pub fn language(field: &str, s: &str) -> ApiResult<()> {
        let mut parts = s.split('-');
        let primary = parts.next().unwrap_or("");
        let ok = s.len() <= 35
            && (2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_alphabetic())
            && parts.clone().count() <= 3
            && parts.all(|p| {
                (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if ok {
            Ok(())
        } else {
            Err(ApiError::validation(
                field,
                "must be a language tag such as en, es or pt-BR",
            ))
        }
    }

    /// An origin such as `https://shop.example` (scheme, host and optional port; nothing else).
    pub fn origin(field: &str, s: &str) -> ApiResult<()> {
        let parsed = url::Url::parse(s).ok();
        let ok = parsed.as_ref().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty()
                && !s.ends_with('/')
        });
        if ok {
            Ok(())
        } else {
            Err(ApiError::validation(
                field,
                "must be an origin like https://shop.example",
            ))
        }
    }

    pub fn range<T: PartialOrd + std::fmt::Display>(
        field: &str,
        v: T,
        min: T,
        max: T,
    ) -> ApiResult<()> {
        if v < min || v > max {
            Err(ApiError::validation(
                field,
                format!("must be between {min} and {max}"),
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::http::Method;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn req(ct: &str, body: &[u8]) -> Request {
        Request::new(Method::Post, "http://x/")
            .with_header("content-type", ct)
            .with_body(body.to_vec())
    }

    #[test]
    fn reports_the_failing_field_path() {
        let e = json::<Thing>(&req(
            "application/json",
            br#"{"name":"a","inner":{"count":-1}}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert_eq!(e.field.as_deref(), Some("inner.count"));
        let e = json::<Thing>(&req(
            "application/json",
            br#"{"name":"a","inner":{"count":1},"x":1}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert!(e.message.contains("unknown field"));
        let e = json::<Thing>(&req(
            "application/json",
            br#"{"name":"a","inner":{"count":99999999999999999999}}"#,
        ))
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.count"));
    }

    #[test]
    fn rejects_wrong_content_type_bad_utf8_deep_nesting_and_trailing_garbage() {
        assert_eq!(
            json::<Thing>(&req("text/plain", b"{}")).unwrap_err().code,
            ErrorCode::UnsupportedMediaType
        );
        assert_eq!(
            json::<Thing>(&req("application/json", b"{\"name\":\"\xff\"}"))
                .unwrap_err()
                .code,
            ErrorCode::BadRequest
        );
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(
            parse_json::<serde_json::Value>(deep.as_bytes())
                .unwrap_err()
                .code,
            ErrorCode::InvalidJson
        );
        assert_eq!(
            parse_json::<serde_json::Value>(b"{} {}").unwrap_err().code,
            ErrorCode::InvalidJson
        );
        assert_eq!(
            parse_json::<serde_json::Value>(b"").unwrap_err().code,
            ErrorCode::InvalidJson
        );
        // Brackets inside strings do not count as nesting.
        let s = format!("{{\"a\":\"{}\"}}", "[".repeat(100));
        assert!(parse_json::<serde_json::Value>(s.as_bytes()).is_ok());
    }

    #[test]
    fn validators() {
        assert!(check::slug("s", "acme-shop").is_ok());
        assert!(check::slug("s", "Acme").is_err());
        assert!(check::slug("s", "a--b").is_err());
        assert!(check::email("e", "ann@example.com").is_ok());
        assert!(check::email("e", "ann@localhost").is_err());
        assert!(check::origin("o", "https://shop.example:8443").is_ok());
        assert!(check::origin("o", "https://shop.example/path").is_err());
        assert!(check::origin("o", "*").is_err());
        assert!(check::text("t", "ok", 1, 5).is_ok());
        assert!(check::text("t", "a\u{0}b", 1, 5).is_err());
    }
}
