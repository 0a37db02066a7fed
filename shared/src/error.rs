//! The one error type every handler returns, and the JSON envelope clients see:
//! `{"error":{"code":"not_found","message":"…","request_id":"…","field":"…"}}`.
//!
//! Codes are a closed enum so a client can switch on them and a test can enumerate them; the
//! message is for humans and may change.

use crate::http::Response;
use serde::Serialize;
use std::fmt;

/// Stable, machine-readable error codes. The string form is part of the public API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    ValidationFailed,
    Unauthorized,
    InvalidToken,
    TokenExpired,
    /// A webhook whose signature does not verify, or whose signed timestamp is outside the
    /// replay window.
    InvalidSignature,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// A plan quota (knowledge-base size, AI answers) is used up.
    QuotaExceeded,
    UpgradeRequired,
    NotSupported,
    Internal,
    StorageError,
    BindingMissing,
    UpstreamError,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::BadRequest,
        ErrorCode::InvalidJson,
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidSignature,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::QuotaExceeded,
        ErrorCode::UpgradeRequired,
        ErrorCode::NotSupported,
        ErrorCode::Internal,
        ErrorCode::StorageError,
        ErrorCode::BindingMissing,
        ErrorCode::UpstreamError,
    ];

    /// The code with this string form (for errors relayed from live objects).
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::UpgradeRequired => "upgrade_required",
            ErrorCode::NotSupported => "not_supported",
            ErrorCode::Internal => "internal",
            ErrorCode::StorageError => "storage_error",
            ErrorCode::BindingMissing => "binding_missing",
            ErrorCode::UpstreamError => "upstream_error",
        }
    }

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidJson => 400,
            ErrorCode::Unauthorized
            | ErrorCode::InvalidToken
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidSignature => 401,
            ErrorCode::Forbidden | ErrorCode::QuotaExceeded => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::UpgradeRequired => 426,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::StorageError => 500,
            ErrorCode::NotSupported => 501,
            ErrorCode::UpstreamError => 502,
            ErrorCode::BindingMissing => 503,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error on its way to becoming an envelope. Extra headers (e.g. `Allow`, `Retry-After`)
/// travel with it so the pipeline can render any error uniformly.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// JSON path of the offending input field (`config.language`), for validation errors.
    pub field: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Who was refused (tenant, credential), for the request's log line only: a refusal before
    /// a handler runs has no principal on the context, but operators still need to see whose
    /// requests are being rate limited.
    pub caller: Option<Box<(String, String)>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            headers: Vec::new(),
            caller: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::ValidationFailed, message);
        e.field = Some(field.into());
        e
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// Renders the envelope. The request id is filled in here so every error carries it.
    pub fn into_response(self, request_id: &str) -> Response {
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'static str,
            message: &'a str,
            request_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        let mut r = Response::json(
            self.status(),
            &Envelope {
                error: Inner {
                    code: self.code.as_str(),
                    message: &self.message,
                    request_id,
                    field: self.field.as_deref(),
                },
            },
        );
        for (n, v) in self.headers {
            r.headers.append(&n, v);
        }
        r
    }
}

impl ApiError {
    /// Rebuilds an error from another component's envelope (a live object's answer), keeping its
    /// code, message and field.
    pub fn from_response(r: &Response) -> ApiError {
        let v: serde_json::Value = r.json_body().unwrap_or_default();
        let e = &v["error"];
        let code = e["code"]
            .as_str()
            .and_then(ErrorCode::parse)
            .unwrap_or(ErrorCode::Internal);
        let mut err = ApiError::new(code, e["message"].as_str().unwrap_or("internal error"));
        err.field = e["field"].as_str().map(String::from);
        err
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_code_message_request_id_and_field() {
        let r =
            ApiError::validation("config.language", "unsupported language").into_response("req-1");
        assert_eq!(r.status, 422);
        let v: serde_json::Value = r.json_body().unwrap();
        assert_eq!(v["error"]["code"], "validation_failed");
        assert_eq!(v["error"]["request_id"], "req-1");
        assert_eq!(v["error"]["field"], "config.language");
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(c
                .as_str()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            assert!((400..600).contains(&c.status()));
        }
    }
}
