//! Cursor pagination with a stable order: `(created_at, id)` ascending. The cursor is opaque to
//! clients (base64url of the last row's sort key) and is only ever used as a bound in a
//! parameterised query, so a forged cursor can skip rows but never reach another tenant's.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Parsed `limit` and `cursor` query parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRequest {
    pub limit: u32,
    /// Exclusive lower bound: rows strictly after `(created_at, id)`.
    pub after: Option<(i64, String)>,
}

impl PageRequest {
    pub fn from_request(req: &Request) -> ApiResult<PageRequest> {
        let limit = match req.query_param("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ApiError::validation("limit", format!("must be 1-{MAX_LIMIT}")))?,
        };
        let after = match req.query_param("cursor") {
            None => None,
            Some(c) if c.is_empty() => None,
            Some(c) => {
                Some(decode(&c).ok_or_else(|| ApiError::validation("cursor", "invalid cursor"))?)
            }
        };
        Ok(PageRequest { limit, after })
    }

    /// SQL fragment and parameters for the bound, to splice after `WHERE tenant_id = ?1`:
    /// returns (`" AND (created_at, id) > (?2, ?3)"`, params) or empty.
    pub fn after_clause(&self, first_param: usize) -> (String, Vec<crate::ports::SqlValue>) {
        match &self.after {
            Some((ts, id)) => (
                format!(
                    " AND (created_at, id) > (?{}, ?{})",
                    first_param,
                    first_param + 1
                ),
                vec![(*ts).into(), id.clone().into()],
            ),
            None => (String::new(), Vec::new()),
        }
    }
}

/// One page of results.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Page<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only signals that a next
    /// page exists. `key` extracts a row's `(created_at, id)`.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> (i64, String)) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(&key(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

fn encode((ts, id): &(i64, String)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{ts}:{id}"))
}

fn decode(s: &str) -> Option<(i64, String)> {
    let raw = URL_SAFE_NO_PAD.decode(s).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (ts, id) = text.split_once(':')?;
    if id.is_empty() || id.len() > 64 {
        return None;
    }
    Some((ts.parse().ok()?, id.to_string()))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::http::Method;

    #[test]
    fn parses_limit_and_round_trips_cursor() {
        let r = Request::new(Method::Get, "http://x/?limit=5");
        assert_eq!(PageRequest::from_request(&r).unwrap().limit, 5);
        for bad in ["0", "101", "x", "-1"] {
            let r = Request::new(Method::Get, &format!("http://x/?limit={bad}"));
            assert!(PageRequest::from_request(&r).is_err(), "{bad}");
        }
        let page = Page::from_rows(
            vec![(1i64, "a".to_string()), (2, "b".into()), (3, "c".into())],
            2,
            |r| r.clone(),
        );
        assert_eq!(page.items.len(), 2);
        let c = page.next_cursor.unwrap();
        let r = Request::new(Method::Get, &format!("http://x/?cursor={c}"));
        assert_eq!(
            PageRequest::from_request(&r).unwrap().after,
            Some((2, "b".into()))
        );
        let r = Request::new(Method::Get, "http://x/?cursor=%%%");
        assert!(PageRequest::from_request(&r).is_err());
    }
}
