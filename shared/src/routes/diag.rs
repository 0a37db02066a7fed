//! Diagnostics: the smallest possible round trips through the key-value store and the SQL
//! database, so the end-to-end suite proves each binding works in the real runtime. Off unless
//! the `diagnostics` variable is on (local dev and tests); when off they answer 404 like any
//! unknown path, so production reveals nothing.

use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::params;
use crate::router::Ctx;
use serde::Deserialize;
use serde_json::json;

const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 16 * 1024;

pub(crate) fn enabled(cx: &Ctx) -> ApiResult<()> {
    if cx.platform.config.flag("diagnostics") {
        Ok(())
    } else {
        Err(ApiError::not_found("route"))
    }
}

fn kv_key(req: &Request) -> ApiResult<String> {
    let key = req.param("key");
    if key.len() > MAX_KEY || key.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "key",
            "keys are 1-128 printable characters",
        ));
    }
    Ok(format!("diag:{key}"))
}

pub async fn kv_put(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let key = kv_key(&req)?;
    if req.body.len() > MAX_VALUE {
        return Err(ApiError::new(
            crate::error::ErrorCode::PayloadTooLarge,
            "values are at most 16 KiB",
        ));
    }
    cx.platform.kv()?.put(&key, &req.body, Some(3600)).await?;
    Ok(Response::new(204))
}

pub async fn kv_get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let key = kv_key(&req)?;
    match cx.platform.kv()?.get(&key).await? {
        Some(v) => Ok(Response::text(200, "application/octet-stream", v)),
        None => Err(ApiError::not_found("key")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    text: String,
}

pub async fn note_create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let note: NewNote = serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::new(
            crate::error::ErrorCode::InvalidJson,
            format!("invalid JSON: {e}"),
        )
    })?;
    if note.text.is_empty() || note.text.len() > 1000 {
        return Err(ApiError::validation("text", "text is 1-1000 bytes"));
    }
    let id = crate::request_id::new_uuid(&*cx.platform.random);
    let now = cx.platform.now_ms();
    cx.platform
        .db()?
        .execute(
            "INSERT INTO diag_notes (id, text, created_at) VALUES (?1, ?2, ?3)",
            &params![id.as_str(), note.text.as_str(), now],
        )
        .await?;
    Ok(Response::json(
        201,
        &json!({ "id": id, "text": note.text, "created_at": now }),
    ))
}

pub async fn note_get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT id, text, created_at FROM diag_notes WHERE id = ?1",
            &params![req.param("id")],
        )
        .await?;
    let row = rows.first().ok_or_else(|| ApiError::not_found("note"))?;
    Ok(Response::json(
        200,
        &json!({
            "id": row.text("id"),
            "text": row.text("text"),
            "created_at": row.int("created_at"),
        }),
    ))
}

/// Benchmark support (diagnostics only): builds an index of `n` pseudo-random unit vectors and
/// runs `searches` top-5 searches inside the runtime. Timing is measured by the caller as the
/// difference between `searches=S` and `searches=0` (workerd freezes clocks during execution).
/// With `recall=1` it also reports recall@5 of the quantised index against exact f32 search.
pub async fn bench_vectors(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    use crate::knowledge::embed::{normalise, DIM};
    use crate::knowledge::vectors::{exact_search, quantise, Index};
    let q = |name: &str, default: usize, max: usize| -> ApiResult<usize> {
        match req.query_param(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| ApiError::validation(name, format!("0-{max}"))),
        }
    };
    let (n, searches, recall) = (
        q("n", 10_000, 100_000)?,
        q("searches", 0, 10_000)?,
        q("recall", 0, 1)? == 1,
    );
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed >> 11) as f64 / (1u64 << 53) as f64) as f32 * 2.0 - 1.0
    };
    let mut docs: Vec<Vec<f32>> = Vec::with_capacity(n);
    let mut index = Index::default();
    for i in 0..n {
        let mut v: Vec<f32> = (0..DIM).map(|_| next()).collect();
        normalise(&mut v);
        index.push(i as i64, &quantise(&v));
        if recall {
            docs.push(v);
        }
    }
    // Queries near a document (as real questions are near their answer) when measuring recall;
    // random otherwise (the search cost does not depend on where the query lies).
    let queries: Vec<Vec<f32>> = (0..searches.max(if recall { 50 } else { 0 }))
        .map(|i| {
            let mut v: Vec<f32> = (0..DIM).map(|_| next()).collect();
            if recall && n > 0 {
                let near = &docs[(i * 7919) % n];
                for (x, d) in v.iter_mut().zip(near) {
                    *x = *x * 0.02 + d;
                }
            }
            normalise(&mut v);
            v
        })
        .collect();
    let mut checksum = 0i64;
    for qv in queries.iter().take(searches) {
        checksum = checksum.wrapping_add(index.search(qv, 5).first().map(|h| h.0).unwrap_or(0));
    }
    let recall_at_5 = if recall && n > 0 {
        let mut hits = 0;
        for qv in queries.iter().take(50) {
            let exact: Vec<i64> = exact_search(&docs, qv, 5)
                .iter()
                .map(|(i, _)| *i as i64)
                .collect();
            let got: Vec<i64> = index.search(qv, 5).iter().map(|(i, _)| *i).collect();
            hits += exact.iter().filter(|e| got.contains(e)).count();
        }
        Some(hits as f64 / 250.0)
    } else {
        None
    };
    Ok(Response::json(
        200,
        &json!({ "n": n, "searches": searches, "checksum": checksum, "recall_at_5": recall_at_5 }),
    ))
}

/// Benchmark support (diagnostics only): `n` sequential checks against a scratch tenant's gate
/// object, so the per-check cost is measured as the difference against `n=0`.
pub async fn bench_gate(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    use crate::objects::gate::{call_check, BucketSpec, CheckRequest};
    let n: usize = req
        .query_param("n")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n <= 10_000)
        .unwrap_or(0);
    let object = format!("bench-{}", req.query_param("shard").unwrap_or_default());
    let mut allowed = 0;
    for i in 0..n {
        let body = CheckRequest {
            version: 0,
            day: crate::time::utc_day(cx.now()),
            buckets: vec![BucketSpec {
                name: format!("b{}", i % 16),
                count: 1_000_000,
                period_ms: 3_600_000,
            }],
        };
        if call_check(&cx.platform, &object, &body).await?.allowed {
            allowed += 1;
        }
    }
    Ok(Response::json(
        200,
        &json!({ "checks": n, "allowed": allowed }),
    ))
}
