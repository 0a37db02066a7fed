//! The tenant gate: one object per tenant that decides rate limits exactly and knows the
//! tenant's current credential version.
//!
//! Every authenticated request makes one call here, so it is also where a revocation becomes
//! visible everywhere at once: cached credentials carry the tenant version they were read at,
//! and the gate answers with the newest version it has seen; a newer version sends the caller
//! back to the database. All of a request's buckets (tenant quota, credential burst, visitor
//! burst) are checked together and charged only if all allow it.

use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::input::parse_json;
use crate::params;
use crate::ports::{Clock, SqlDatabase, Statement};
use crate::ratelimit::{gcra, Bucket, Limit};
use serde::{Deserialize, Serialize};

const SCHEMA: &[&str] = &[
    // `interval_ms` is the limit the bucket was last charged under: when a tier change alters the
    // limit, its usage is carried over (see `gcra::rescale`) instead of its time debt.
    "CREATE TABLE IF NOT EXISTS gate_tats (object TEXT NOT NULL, bucket TEXT NOT NULL, tat INTEGER NOT NULL, interval_ms INTEGER NOT NULL, PRIMARY KEY (object, bucket))",
    "CREATE TABLE IF NOT EXISTS gate_meta (object TEXT PRIMARY KEY, version INTEGER NOT NULL, checks INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS gate_usage (object TEXT NOT NULL, day TEXT NOT NULL, metric TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (object, day, metric))",
];

/// Buckets are swept of expired rows every this many checks.
const SWEEP_EVERY: i64 = 256;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BucketSpec {
    pub name: String,
    pub count: u32,
    pub period_ms: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CheckRequest {
    /// The tenant version the caller's credentials were read at.
    pub version: i64,
    pub day: String,
    pub buckets: Vec<BucketSpec>,
    /// Units wanted at once (0 or 1: one). A live conversation leases several customer
    /// messages in one check; the gate grants as many as every bucket allows now (at least
    /// one, or the check is refused), charging them all before any is used, so no limit is
    /// ever exceeded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lease: u32,
    /// Units of an earlier lease that were not used: given back to every bucket before this
    /// check decides (never below an empty bucket).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refund: u32,
    /// Asked ahead of need (a live lease topped up before it runs out): a refusal refused no
    /// one's message, so the tenant's usage does not count it as denied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ahead: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The most units one check may lease.
pub const MAX_LEASE: u32 = 16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResponse {
    /// The caller's credentials are older than the newest version: nothing was charged; reload
    /// them (their limits may have changed too) and check again.
    #[serde(default)]
    pub stale: bool,
    pub allowed: bool,
    /// The newest tenant version the gate knows.
    pub version: i64,
    pub limit: u32,
    pub remaining: u32,
    pub reset_ms: i64,
    pub retry_after_ms: i64,
    /// Units charged by this check: 1 for a plain check, up to `lease` for a lease, 0 when
    /// refused.
    #[serde(default)]
    pub granted: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObserveRequest {
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UsageDay {
    pub day: String,
    pub requests: i64,
    pub denied: i64,
}

pub async fn handle(
    name: &str,
    db: &dyn SqlDatabase,
    clock: &dyn Clock,
    schema_ready: Option<&std::cell::Cell<bool>>,
    req: Request,
) -> ApiResult<Response> {
    super::ensure_tables(db, SCHEMA, schema_ready).await?;
    match (req.method, req.path.as_str()) {
        (Method::Post, "/check") => {
            let body: CheckRequest = parse_json(&req.body)?;
            Ok(Response::json(
                200,
                &check(name, db, clock.now_ms(), &body).await?,
            ))
        }
        (Method::Post, "/observe") => {
            let body: ObserveRequest = parse_json(&req.body)?;
            let v = observe(name, db, body.version).await?;
            Ok(Response::json(200, &serde_json::json!({ "version": v })))
        }
        (Method::Get, "/usage") => Ok(Response::json(200, &usage(name, db).await?)),
        (Method::Get, "/meta") => {
            let (version, checks) = meta(name, db).await?;
            Ok(Response::json(
                200,
                &serde_json::json!({ "version": version, "checks": checks }),
            ))
        }
        _ => Err(ApiError::not_found("gate route")),
    }
}

async fn meta(name: &str, db: &dyn SqlDatabase) -> ApiResult<(i64, i64)> {
    let rows = db
        .query(
            "SELECT version, checks FROM gate_meta WHERE object = ?1",
            &params![name],
        )
        .await?;
    Ok(rows
        .first()
        .map(|r| (r.int("version").unwrap_or(0), r.int("checks").unwrap_or(0)))
        .unwrap_or((0, 0)))
}

/// Records that `version` exists; returns the newest known.
pub async fn observe(name: &str, db: &dyn SqlDatabase, version: i64) -> ApiResult<i64> {
    db.execute(
        "INSERT INTO gate_meta (object, version) VALUES (?1, ?2)
         ON CONFLICT (object) DO UPDATE SET version = MAX(version, excluded.version)",
        &params![name, version],
    )
    .await?;
    Ok(meta(name, db).await?.0)
}

pub async fn check(
    name: &str,
    db: &dyn SqlDatabase,
    now: i64,
    req: &CheckRequest,
) -> ApiResult<CheckResponse> {
    let ((known, checks), states) = check_state(name, db, &req.buckets).await?;
    if req.version < known {
        return Ok(CheckResponse {
            stale: true,
            allowed: false,
            version: known,
            limit: 0,
            remaining: 0,
            reset_ms: 0,
            retry_after_ms: 0,
            granted: 0,
        });
    }
    // The most units every bucket allows now, from the lease wanted down to one.
    let mut cost = req.lease.clamp(1, MAX_LEASE);
    let decisions: Vec<BucketDecision> = loop {
        let d: Vec<BucketDecision> = req
            .buckets
            .iter()
            .map(|b| {
                let stored = states.iter().find(|(n, ..)| *n == b.name);
                decide(b, stored, now, cost, req.refund)
            })
            .collect();
        if cost == 1 || d.iter().all(|d| d.decision.allowed) {
            break d;
        }
        cost -= 1;
    };
    let allowed = decisions.iter().all(|d| d.decision.allowed);
    // Admitted: every bucket advances. Refused: nothing is charged, but a bucket carried over
    // to a new limit keeps its new state, so the carry-over happens once.
    let mut writes: Vec<Statement> = decisions
        .iter()
        .filter_map(|d| match (allowed, d.rescaled) {
            (true, _) => Some(d.store(name, d.decision.next.tat)),
            (false, Some(tat)) => Some(d.store(name, tat)),
            (false, None) => None,
        })
        .collect();
    writes.push(Statement::new(
        "INSERT INTO gate_meta (object, version, checks) VALUES (?1, ?2, 1)
         ON CONFLICT (object) DO UPDATE SET version = MAX(version, excluded.version), checks = checks + 1",
        params![name, req.version],
    ));
    // Usage counts what was used: every unit of a lease (one check can admit sixteen live
    // messages), less the units an earlier lease gives back unused; a refusal counts once,
    // unless nothing was waiting for it (`ahead`).
    if allowed || !req.ahead {
        writes.push(Statement::new(
            "INSERT INTO gate_usage (object, day, metric, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (object, day, metric) DO UPDATE SET value = value + excluded.value",
            params![
                name,
                req.day.as_str(),
                if allowed { "requests" } else { "denied" },
                if allowed { i64::from(cost) } else { 1 }
            ],
        ));
    }
    if req.refund > 0 {
        writes.push(Statement::new(
            "UPDATE gate_usage SET value = MAX(value - ?3, 0)
             WHERE object = ?1 AND day = ?2 AND metric = 'requests'",
            params![name, req.day.as_str(), i64::from(req.refund)],
        ));
    }
    if checks % SWEEP_EVERY == SWEEP_EVERY - 1 {
        writes.push(Statement::new(
            "DELETE FROM gate_tats WHERE object = ?1 AND tat < ?2",
            params![name, now],
        ));
    }
    db.batch(writes).await?;

    // Report the most constraining bucket: the first denial, or the one with least headroom.
    let pick = if allowed {
        decisions.iter().min_by_key(|d| d.decision.remaining)
    } else {
        decisions
            .iter()
            .filter(|d| !d.decision.allowed)
            .max_by_key(|d| d.decision.retry_after_ms)
    };
    let (limit, remaining, reset_ms, retry_after_ms) = pick
        .map(|d| {
            let d = &d.decision;
            (d.limit, d.remaining, d.reset_ms, d.retry_after_ms)
        })
        .unwrap_or((0, 0, 0, 0));
    Ok(CheckResponse {
        stale: false,
        allowed,
        version: req.version,
        limit,
        remaining,
        reset_ms,
        retry_after_ms,
        granted: if allowed { cost } else { 0 },
    })
}

/// One bucket's decision for this request.
struct BucketDecision<'a> {
    bucket: &'a BucketSpec,
    interval: i64,
    decision: gcra::Decision,
    /// The bucket's state before this check when it differs from what is stored: carried over
    /// from another limit (see `gcra::rescale`) or given back by a refund. Stored even when
    /// the check is refused, so either happens once.
    rescaled: Option<i64>,
}

impl BucketDecision<'_> {
    fn store(&self, name: &str, tat: i64) -> Statement {
        Statement::new(
            "INSERT INTO gate_tats (object, bucket, tat, interval_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (object, bucket) DO UPDATE SET tat = excluded.tat, interval_ms = excluded.interval_ms",
            params![name, self.bucket.name.as_str(), tat, self.interval],
        )
    }
}

/// What a check reads, in one query (a check sits on every authenticated request and every
/// customer message, and each query is a crossing into the object's SQLite): the gate's
/// `(version, checks)` and the stored state of every bucket, `(bucket, tat, interval_ms)`.
async fn check_state(
    name: &str,
    db: &dyn SqlDatabase,
    buckets: &[BucketSpec],
) -> ApiResult<((i64, i64), Vec<(String, i64, i64)>)> {
    // Placeholders only: the bucket names are bound as parameters.
    let placeholders = (2..buckets.len() + 2)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params = vec![crate::ports::SqlValue::from(name)];
    params.extend(
        buckets
            .iter()
            .map(|b| crate::ports::SqlValue::from(b.name.as_str())),
    );
    // The meta row is the one with `is_meta = 1`; its version and count ride in the `tat` and
    // `interval_ms` columns.
    let rows = db
        .query(
            &format!(
                "SELECT 1 AS is_meta, NULL AS bucket, version AS tat, checks AS interval_ms
                 FROM gate_meta WHERE object = ?1
                 UNION ALL
                 SELECT 0, bucket, tat, interval_ms FROM gate_tats
                 WHERE object = ?1 AND bucket IN ({placeholders})"
            ),
            &params,
        )
        .await?;
    let mut meta = (0, 0);
    let mut states = Vec::new();
    for r in &rows {
        let (a, b) = (r.int("tat").unwrap_or(0), r.int("interval_ms").unwrap_or(0));
        if r.int("is_meta") == Some(1) {
            meta = (a, b);
        } else if let Some(bucket) = r.text("bucket") {
            states.push((bucket, a, b));
        }
    }
    Ok((meta, states))
}

fn decide<'a>(
    b: &'a BucketSpec,
    stored: Option<&(String, i64, i64)>,
    now: i64,
    cost: u32,
    refund: u32,
) -> BucketDecision<'a> {
    let limit = Limit {
        count: b.count,
        period_ms: b.period_ms,
    };
    let interval = gcra::interval(limit);
    let mut state = Bucket {
        tat: stored.map(|(_, tat, _)| *tat).unwrap_or(0),
    };
    let charged_under = stored.map(|(.., i)| *i).unwrap_or(0);
    let mut rescaled = None;
    if charged_under != interval {
        state = gcra::rescale(state, charged_under, limit, now);
        rescaled = Some(state.tat);
    }
    if refund > 0 && state.tat > now {
        state.tat = (state.tat - interval.saturating_mul(refund as i64)).max(now);
        rescaled = Some(state.tat);
    }
    BucketDecision {
        bucket: b,
        interval,
        decision: gcra::check(state, limit, now, cost),
        rescaled,
    }
}

pub async fn usage(name: &str, db: &dyn SqlDatabase) -> ApiResult<Vec<UsageDay>> {
    let rows = db
        .query(
            "SELECT day, metric, value FROM gate_usage WHERE object = ?1 ORDER BY day DESC LIMIT 200",
            &params![name],
        )
        .await?;
    let mut days: Vec<UsageDay> = Vec::new();
    for r in rows {
        let day = r.text("day").unwrap_or_default();
        let idx = match days.iter().position(|d| d.day == day) {
            Some(i) => i,
            None => {
                days.push(UsageDay {
                    day: day.clone(),
                    requests: 0,
                    denied: 0,
                });
                days.len() - 1
            }
        };
        let v = r.int("value").unwrap_or(0);
        match r.text("metric").as_deref() {
            Some("requests") => days[idx].requests = v,
            Some("denied") => days[idx].denied = v,
            _ => {}
        }
    }
    Ok(days)
}

/// Calls a tenant's gate to charge buckets (from the gateway).
pub async fn call_check(
    p: &crate::platform::Platform,
    tenant_id: &str,
    body: &CheckRequest,
) -> ApiResult<CheckResponse> {
    let resp = call(p, tenant_id, Method::Post, "/check", Some(body)).await?;
    resp.json_body()
        .ok_or_else(|| ApiError::internal("gate returned an unreadable answer"))
}

/// Tells a tenant's gate that its version moved (after a change to credentials, users, tier or
/// origins), so cached credentials everywhere are re-read on their next use.
/// Returns the newest version the gate knows (observing 0 only reads it).
pub async fn call_observe(
    p: &crate::platform::Platform,
    tenant_id: &str,
    version: i64,
) -> ApiResult<i64> {
    let resp = call(
        p,
        tenant_id,
        Method::Post,
        "/observe",
        Some(&ObserveRequest { version }),
    )
    .await?;
    resp.json_body::<serde_json::Value>()
        .and_then(|v| v["version"].as_i64())
        .ok_or_else(|| ApiError::internal("gate returned an unreadable answer"))
}

/// The tenant's daily request counts.
pub async fn call_usage(
    p: &crate::platform::Platform,
    tenant_id: &str,
) -> ApiResult<Vec<UsageDay>> {
    let resp = call::<()>(p, tenant_id, Method::Get, "/usage", None).await?;
    resp.json_body()
        .ok_or_else(|| ApiError::internal("gate returned an unreadable answer"))
}

/// The gate's version and how many checks it has answered (diagnostics: a benchmark counts the
/// gate calls a workload makes, which the lease model predicts).
pub async fn call_meta(
    p: &crate::platform::Platform,
    tenant_id: &str,
) -> ApiResult<serde_json::Value> {
    let resp = call::<()>(p, tenant_id, Method::Get, "/meta", None).await?;
    resp.json_body()
        .ok_or_else(|| ApiError::internal("gate returned an unreadable answer"))
}

async fn call<T: Serialize>(
    p: &crate::platform::Platform,
    tenant_id: &str,
    method: Method,
    path: &str,
    body: Option<&T>,
) -> ApiResult<Response> {
    let target = crate::ports::ObjectRef::new(crate::ports::ObjectClass::Gate, tenant_id);
    let mut req = Request::new(method, &format!("https://gate{path}"));
    if let Some(b) = body {
        req.body = serde_json::to_vec(b).map_err(|e| ApiError::internal(e.to_string()))?;
        req.headers.set("content-type", "application/json");
    }
    let resp = p.objects()?.call(&target, req).await?;
    if resp.status >= 400 {
        return Err(ApiError::internal(format!("gate answered {}", resp.status)));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SqliteDb;
    use futures::executor::block_on;

    fn req(version: i64, buckets: &[(&str, u32, i64)]) -> CheckRequest {
        CheckRequest {
            version,
            day: "2026-01-01".into(),
            buckets: buckets
                .iter()
                .map(|(n, c, p)| BucketSpec {
                    name: n.to_string(),
                    count: *c,
                    period_ms: *p,
                })
                .collect(),
            ..CheckRequest::default()
        }
    }

    #[test]
    fn a_lease_takes_what_every_bucket_allows_and_a_refund_gives_back_the_rest() {
        let db = SqliteDb::open_in_memory();
        block_on(async {
            for s in SCHEMA {
                db.execute(s, &[]).await.unwrap();
            }
            let buckets = [("anon", 100, 60_000), ("cust:a", 5, 60_000)];
            let lease = |n: u32, refund: u32| CheckRequest {
                lease: n,
                refund,
                ..req(1, &buckets)
            };
            let first = check("t", &db, 0, &lease(3, 0)).await.unwrap();
            assert_eq!((first.allowed, first.granted), (true, 3));
            // Only two are left for this customer: a lease of four gets two, not a refusal.
            let second = check("t", &db, 0, &lease(4, 0)).await.unwrap();
            assert_eq!((second.allowed, second.granted), (true, 2));
            let none = check("t", &db, 0, &lease(4, 0)).await.unwrap();
            assert_eq!((none.allowed, none.granted), (false, 0));
            // Two of the second lease went unused: given back, they are there again, and only
            // they (the limit of five in the period is never exceeded).
            let back = check("t", &db, 0, &lease(4, 2)).await.unwrap();
            assert_eq!((back.allowed, back.granted), (true, 2));
            let refused = check("t", &db, 0, &lease(1, 0)).await.unwrap();
            assert!(!refused.allowed);
            // A refund makes room in the same check.
            let refund_only = check("t", &db, 0, &lease(16, 1)).await.unwrap();
            assert_eq!((refund_only.allowed, refund_only.granted), (true, 1));
            // The tenant-wide bucket was charged exactly what was granted: 3 + 2 - 2 + 2 - 1 + 1.
            let big = CheckRequest {
                lease: 100,
                ..req(1, &[("anon", 100, 60_000)])
            };
            let tenant_wide = check("t", &db, 0, &big).await.unwrap();
            assert_eq!(tenant_wide.granted, MAX_LEASE, "a lease is capped");
            let left = check("t", &db, 0, &big).await.unwrap();
            assert_eq!(left.remaining, 100 - 5 - 2 * MAX_LEASE);
        });
    }

    #[test]
    fn usage_counts_the_units_used_not_the_checks() {
        let db = SqliteDb::open_in_memory();
        block_on(async {
            for s in SCHEMA {
                db.execute(s, &[]).await.unwrap();
            }
            let lease = |n: u32, refund: u32| CheckRequest {
                lease: n,
                refund,
                ..req(1, &[("tenant", 4, 60_000)])
            };
            assert_eq!(check("t", &db, 0, &lease(4, 0)).await.unwrap().granted, 4);
            let u = usage("t", &db).await.unwrap();
            assert_eq!(u[0].requests, 4, "every unit of a lease counts");
            // Three of those were never used: given back with the next lease of one.
            assert_eq!(check("t", &db, 0, &lease(1, 3)).await.unwrap().granted, 1);
            let u = usage("t", &db).await.unwrap();
            assert_eq!(u[0].requests, 2, "4 granted - 3 given back + 1 granted");
            // Two are left: a lease of four takes them; then a refusal counts once, whatever
            // it asked for.
            assert_eq!(check("t", &db, 0, &lease(4, 0)).await.unwrap().granted, 2);
            assert!(!check("t", &db, 0, &lease(4, 0)).await.unwrap().allowed);
            let u = usage("t", &db).await.unwrap();
            assert_eq!((u[0].requests, u[0].denied), (4, 1));
            // A top-up asked ahead of need is refused without a refused message to count.
            let ahead = CheckRequest {
                ahead: true,
                ..lease(8, 0)
            };
            assert!(!check("t", &db, 0, &ahead).await.unwrap().allowed);
            let u = usage("t", &db).await.unwrap();
            assert_eq!(
                (u[0].requests, u[0].denied),
                (4, 1),
                "a refused top-up is no denial"
            );
        });
    }

    #[test]
    fn buckets_are_charged_only_when_all_allow() {
        let db = SqliteDb::open_in_memory();
        block_on(async {
            for s in SCHEMA {
                db.execute(s, &[]).await.unwrap();
            }
            let r = req(1, &[("tenant", 10, 60_000), ("cred:a", 2, 60_000)]);
            assert!(check("t", &db, 0, &r).await.unwrap().allowed);
            assert!(check("t", &db, 0, &r).await.unwrap().allowed);
            let denied = check("t", &db, 0, &r).await.unwrap();
            assert!(!denied.allowed);
            assert_eq!(denied.limit, 2, "reports the denying bucket");
            // The tenant bucket was not charged for the denied request: 8 left for another key.
            let other = req(1, &[("tenant", 10, 60_000), ("cred:b", 100, 60_000)]);
            let mut ok = 0;
            for _ in 0..20 {
                if check("t", &db, 0, &other).await.unwrap().allowed {
                    ok += 1;
                }
            }
            assert_eq!(ok, 8);
            let u = usage("t", &db).await.unwrap();
            assert_eq!((u[0].requests, u[0].denied), (10, 13));
        });
    }

    #[test]
    fn version_is_the_newest_seen() {
        let db = SqliteDb::open_in_memory();
        block_on(async {
            for s in SCHEMA {
                db.execute(s, &[]).await.unwrap();
            }
            assert_eq!(observe("t", &db, 5).await.unwrap(), 5);
            let stale = check("t", &db, 0, &req(3, &[("tenant", 1, 1000)]))
                .await
                .unwrap();
            assert!(stale.stale && stale.version == 5);
            // A stale check charged nothing: the single token is still there.
            assert!(
                check("t", &db, 0, &req(5, &[("tenant", 1, 1000)]))
                    .await
                    .unwrap()
                    .allowed
            );
            assert_eq!(check("t", &db, 0, &req(7, &[])).await.unwrap().version, 7);
            assert_eq!(observe("t", &db, 6).await.unwrap(), 7);
        });
    }
}
