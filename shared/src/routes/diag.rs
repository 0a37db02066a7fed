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
            ..CheckRequest::default()
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

/// Benchmark support (diagnostics only): the caller's tenant gate's check count, read before and
/// after a load so the benchmark reports gate calls per message (leases should make it well
/// under one).
pub async fn gate_meta(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let meta = crate::objects::gate::call_meta(&cx.platform, cx.tenant_id()?).await?;
    Ok(Response::json(200, &meta))
}

/// Benchmark support (diagnostics only): bulk-seeds `n` conversations (facts set, three
/// messages each, spread over the last 90 days, four channels, seven agents) into the caller's
/// tenant with set-based SQL, then rebuilds its rollups — the dashboard queries are then timed
/// against a tenant of that size. Ids are `cnv_bench…`; a second call adds nothing.
pub async fn bench_analytics(cx: &Ctx, req: Request) -> ApiResult<Response> {
    enabled(cx)?;
    let tenant_id = cx.tenant_id()?;
    let n: i64 = req
        .query_param("n")
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=200_000).contains(n))
        .unwrap_or(1000);
    let db = cx.platform.db()?;
    let now = cx.now();
    let started = now;
    // In slices, so no single statement holds the database for long.
    let mut from = 1;
    while from <= n {
        let to = (from + 24_999).min(n);
        let series = "WITH RECURSIVE s(i) AS (SELECT CAST(?2 AS INTEGER) UNION ALL SELECT i + 1 FROM s WHERE i < CAST(?3 AS INTEGER))";
        let p = params![tenant_id, from, to, now];
        db.batch(vec![
            crate::ports::Statement::new(
                format!(
                    "{series}, c(i, at) AS (SELECT i, CAST(?4 AS INTEGER) - (i * 104729) % 7776000000 FROM s)
                     INSERT OR IGNORE INTO conversations (id, tenant_id, customer_id, channel, status, assignee_id, priority, tags,
                       last_seq, created_at, updated_at, mirror_version, msgs_customer, msgs_ai, msgs_agent, first_customer_at,
                       first_response_at, first_human_at, handoff_at, first_handoff_reason, resolved_at, resolved_by, reopens)
                     SELECT 'cnv_bench' || i, ?1, 'cus_bench' || (i % 5000),
                       CASE i % 4 WHEN 0 THEN 'web' WHEN 1 THEN 'email' WHEN 2 THEN 'sms' ELSE 'whatsapp' END,
                       CASE WHEN i % 50 = 0 THEN 'pending_human' ELSE 'closed' END,
                       CASE WHEN i % 3 = 0 THEN 'usr_bench' || (i % 7) END,
                       CASE WHEN i % 10 = 0 THEN 'high' ELSE 'normal' END, '[]', 3, at, at + 900000, 1,
                       1 + (i % 3 != 0), 1 + (i % 3 != 0), (i % 3 = 0), at, at + 2000 + i % 5000,
                       CASE WHEN i % 3 = 0 THEN at + 60000 + (i * 31) % 3600000 END,
                       CASE WHEN i % 3 = 0 THEN at + 60000 END,
                       CASE WHEN i % 3 = 0 THEN CASE i % 2 WHEN 0 THEN 'low_confidence' ELSE 'customer_request' END END,
                       CASE WHEN i % 50 = 0 THEN NULL ELSE at + 600000 + (i * 17) % 7200000 END,
                       CASE WHEN i % 50 = 0 THEN NULL WHEN i % 3 = 0 THEN 'human' ELSE 'ai' END, (i % 40 = 0)
                     FROM c"
                ),
                p.to_vec(),
            ),
            crate::ports::Statement::new(
                format!(
                    "{series}, m(k) AS (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)
                     INSERT OR IGNORE INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at)
                     SELECT 'cnv_bench' || i, k, ?1, 'msg_bench' || i || '_' || k,
                       CASE k WHEN 1 THEN 'customer' WHEN 2 THEN 'ai' ELSE CASE WHEN i % 3 = 0 THEN 'agent' ELSE 'customer' END END,
                       CASE WHEN k = 3 AND i % 3 = 0 THEN 'usr_bench' || (i % 7) ELSE '' END, '',
                       CASE k WHEN 2 THEN '{{\"provider\":\"gemini\",\"model\":\"gemini-2.5-flash\",\"citations\":[1],\"usage\":{{\"input_tokens\":900,\"output_tokens\":120}}}}' END,
                       CAST(?4 AS INTEGER) - (i * 104729) % 7776000000 + k * 2000
                     FROM s, m"
                ),
                p.to_vec(),
            ),
        ])
        .await?;
        from = to + 1;
    }
    db.batch(crate::analytics::rollup::recompute(tenant_id))
        .await?;
    Ok(Response::json(
        200,
        &json!({ "conversations": n, "seed_ms": cx.platform.now_ms() - started }),
    ))
}
