//! The same-work anchor in Rust (issue 16): `tests/bench/samework.js`'s work, route for route,
//! written the way a Rust developer writes a Cloudflare worker with workers-rs and nothing of
//! PrismAI's (no core, no ports, no router). Per `GET /v1/tenant`: the bearer key's record from
//! isolate memory (re-read from KV after a minute, from D1 when KV misses), its SHA-256 compared
//! in constant time, one exact GCRA check of two buckets in the tenant's SQLite Durable Object,
//! one D1 batch of two reads, JSON with the rate-limit headers, one JSON log line. `/` answers
//! constant JSON and `/health` the JS floor's exact `/health` response (`tests/bench/floor.js`).
//!
//! Beside the JS anchor it says what any Rust worker pays on this runtime for the same work
//! (wasm, wasm-bindgen's glue, workers-rs's conversions); beside PrismAI, what PrismAI's own
//! code adds to that. A benchmark fixture, not product code: errors end the request with 500.
//!
//! A WebSocket upgrade on any other path joins the fan-out's room of that name ([`room`]), and
//! `/mirrored` counts the messages its D1 mirror holds.

mod room;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{
    console_log, durable_object, event, wasm_bindgen::JsValue, Context, Date, DurableObject, Env,
    Headers, Method, Request, RequestInit, Response, Result, SqlStorageValue, State,
};

const MEMO_TTL_MS: u64 = 60_000;
const HEALTH_BODY: &str = r#"{"bindings":{"cache":true,"db":true,"live_objects":true,"outbound_http":true},"commit":"000000000000","runtime":"cloudflare","status":"ok","version":"0.1.0"}"#;

#[derive(Clone, Deserialize, Serialize)]
struct KeyRecord {
    id: String,
    hash: String,
    scopes: String,
    revoked_at: Option<f64>,
    tenant_id: String,
    status: String,
    version: f64,
    limit_count: f64,
    limit_period_ms: f64,
}

thread_local! {
    static MEMO: RefCell<HashMap<String, (KeyRecord, u64)>> = RefCell::new(HashMap::new());
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Constant time over equal lengths, as the JS anchor's `sameHex`.
fn same_hex(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |x, (p, q)| x | (p ^ q)) == 0
}

fn error(status: u16, code: &str, message: &str) -> Result<Response> {
    Ok(
        Response::from_json(&json!({"error": {"code": code, "message": message}}))?
            .with_status(status),
    )
}

async fn key_record(env: &Env, prefix: &str) -> Result<Option<KeyRecord>> {
    let now = Date::now().as_millis();
    let kept = MEMO.with(|m| {
        m.borrow()
            .get(prefix)
            .filter(|(_, at)| now.saturating_sub(*at) < MEMO_TTL_MS)
            .map(|(r, _)| r.clone())
    });
    if kept.is_some() {
        return Ok(kept);
    }
    let kv = env.kv("CACHE")?;
    let cache_key = format!("auth:key:{prefix}");
    let mut rec = kv.get(&cache_key).json::<KeyRecord>().await?;
    if rec.is_none() {
        let db = env.d1("DB")?;
        rec = db
            .prepare("SELECT k.id, k.hash, k.scopes, k.revoked_at, t.id AS tenant_id, t.status, t.version, t.limit_count, t.limit_period_ms FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = ?1")
            .bind(&[JsValue::from_str(prefix)])?
            .first::<KeyRecord>(None)
            .await?;
        let Some(found) = &rec else {
            return Ok(None);
        };
        kv.put(&cache_key, serde_json::to_string(found)?)?
            .expiration_ttl(3600)
            .execute()
            .await?;
    }
    if let Some(found) = &rec {
        MEMO.with(|m| {
            m.borrow_mut()
                .insert(prefix.to_string(), (found.clone(), now))
        });
    }
    Ok(rec)
}

#[derive(Deserialize)]
struct Check {
    stale: bool,
    allowed: bool,
    #[serde(default)]
    limit: f64,
    #[serde(default)]
    remaining: f64,
    #[serde(default)]
    reset_ms: f64,
    #[serde(default)]
    retry_after_ms: f64,
}

fn day_of(ms: u64) -> String {
    let iso: String = js_date(ms).to_iso_string().into();
    iso.get(..10).unwrap_or_default().to_string()
}

fn js_date(ms: u64) -> worker::js_sys::Date {
    worker::js_sys::Date::new(&JsValue::from_f64(ms as f64))
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = Date::now().as_millis();
    let path = req.path();
    if req.method() == Method::Post && path == "/seed" {
        return seed(&env).await;
    }
    if path == "/" {
        return Response::from_json(&json!({"status": "ok"}));
    }
    if path == "/health" {
        return health();
    }
    if path == "/mirrored" {
        return mirrored(&env).await;
    }
    if path != "/v1/tenant" {
        // Asked only off the gateway's route, so `GET /v1/tenant` pays no header read for it.
        if req.headers().get("upgrade")?.as_deref() == Some("websocket") {
            return env
                .durable_object("ROOM")?
                .id_from_name(&path)?
                .get_stub()?
                .fetch_with_request(req)
                .await;
        }
        return error(404, "not_found", "no route");
    }
    let auth = req.headers().get("authorization")?.unwrap_or_default();
    let key = auth
        .strip_prefix("Bearer ")
        .unwrap_or_default()
        .trim()
        .to_string();
    let parts: Vec<&str> = key.split('_').collect();
    if parts.len() != 3 || parts.first() != Some(&"sk") {
        return error(401, "invalid_token", "invalid or revoked credentials");
    }
    let prefix = parts.get(1).copied().unwrap_or_default();
    let rec = match key_record(&env, prefix).await? {
        Some(r) if r.revoked_at.is_none() && same_hex(&sha256_hex(&key), &r.hash) => r,
        _ => return error(401, "invalid_token", "invalid or revoked credentials"),
    };
    if rec.status != "active" {
        return error(403, "forbidden", "this tenant is suspended");
    }
    let scopes: Vec<String> = serde_json::from_str(&rec.scopes)?;
    if !scopes.iter().any(|s| s == "config:read") {
        return error(403, "forbidden", "missing scope");
    }
    let gate = env
        .durable_object("GATE")?
        .id_from_name(&format!("tenant:{}", rec.tenant_id))?
        .get_stub()?;
    let limit = json!({"count": rec.limit_count, "period_ms": rec.limit_period_ms});
    let body = json!({
        "version": rec.version,
        "day": day_of(started),
        "buckets": [
            {"name": "tenant", "count": rec.limit_count, "period_ms": rec.limit_period_ms},
            {"name": format!("cred:{}", rec.id), "count": rec.limit_count, "period_ms": rec.limit_period_ms},
        ],
    });
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body.to_string())));
    let check: Check = gate
        .fetch_with_request(Request::new_with_init("https://gate/check", &init)?)
        .await?
        .json()
        .await?;
    if check.stale {
        MEMO.with(|m| m.borrow_mut().remove(prefix));
    }
    let headers = Headers::new();
    headers.set("ratelimit-limit", &check.limit.to_string())?;
    headers.set("ratelimit-remaining", &check.remaining.to_string())?;
    headers.set(
        "ratelimit-reset",
        &(check.reset_ms / 1000.0).ceil().to_string(),
    )?;
    headers.set("content-type", "application/json")?;
    if !check.allowed {
        headers.set(
            "retry-after",
            &(check.retry_after_ms / 1000.0).ceil().max(1.0).to_string(),
        )?;
        let body = json!({"error": {"code": "rate_limited", "message": "rate limit exceeded"}});
        return Ok(Response::from_bytes(body.to_string().into_bytes())?
            .with_status(429)
            .with_headers(headers));
    }
    let db = env.d1("DB")?;
    let tid = JsValue::from_str(&rec.tenant_id);
    let results = db
        .batch(vec![
            db.prepare("SELECT id, name, slug, tier, status, version, created_at FROM tenants WHERE id = ?1")
                .bind(std::slice::from_ref(&tid))?,
            db.prepare("SELECT name, enabled FROM flags WHERE tenant_id = ?1")
                .bind(std::slice::from_ref(&tid))?,
        ])
        .await?;
    let tenant = results
        .first()
        .map(|r| r.results::<Value>())
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
        .unwrap_or(Value::Null);
    let mut features = serde_json::Map::new();
    if let Some(r) = results.get(1) {
        for f in r.results::<Value>()? {
            if let Some(name) = f["name"].as_str() {
                features.insert(name.to_string(), json!(f["enabled"].as_f64() == Some(1.0)));
            }
        }
    }
    let body = json!({"tenant": tenant, "features": features, "limits": limit}).to_string();
    console_log!(
        "{}",
        json!({"level": "info", "msg": "request", "method": "GET", "route": "/v1/tenant", "status": 200,
               "duration_ms": Date::now().as_millis().saturating_sub(started), "tenant": rec.tenant_id, "credential": rec.id})
    );
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_bytes(body.into_bytes())?.with_headers(headers))
}

/// How many messages reached the room's D1 mirror (the benchmark checks the anchor did its
/// work); before the first flush the table does not exist yet: nothing mirrored.
async fn mirrored(env: &Env) -> Result<Response> {
    #[derive(Deserialize)]
    struct Count {
        n: f64,
    }
    let n = env
        .d1("DB")?
        .prepare("SELECT COUNT(*) AS n FROM messages")
        .first::<Count>(None)
        .await
        .ok()
        .flatten()
        .map_or(0.0, |c| c.n);
    Response::from_json(&json!({ "messages": n as u64 }))
}

fn health() -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in [
        ("content-type", "application/json; charset=utf-8"),
        ("cache-control", "no-store"),
        (
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("cross-origin-resource-policy", "same-site"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
    ] {
        headers.set(name, value)?;
    }
    headers.set("x-request-id", &random_hex(16))?;
    Ok(Response::from_bytes(HEALTH_BODY.as_bytes().to_vec())?.with_headers(headers))
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).unwrap_or_default();
    hex::encode(bytes)
}

async fn seed(env: &Env) -> Result<Response> {
    let db = env.d1("DB")?;
    db.batch(vec![
        db.prepare("CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT, slug TEXT, tier TEXT, status TEXT, version INTEGER, limit_count INTEGER, limit_period_ms INTEGER, created_at INTEGER)"),
        db.prepare("CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, prefix TEXT UNIQUE, hash TEXT, tenant_id TEXT, scopes TEXT, revoked_at INTEGER)"),
        db.prepare("CREATE TABLE IF NOT EXISTS flags (tenant_id TEXT, name TEXT, enabled INTEGER, PRIMARY KEY (tenant_id, name))"),
    ])
    .await?;
    let n = random_hex(16);
    let tenant_id = format!("t_{}", &n[..12]);
    let prefix = n[12..20].to_string();
    let key = format!("sk_{prefix}_{}{}", &n[20..], random_hex(16));
    let s = |v: &str| JsValue::from_str(v);
    db.batch(vec![
        db.prepare("INSERT INTO tenants VALUES (?1, 'Bench', ?2, 'enterprise', 'active', 1, 10000000, 10000, ?3)")
            .bind(&[s(&tenant_id), s(&tenant_id), JsValue::from_f64(Date::now().as_millis() as f64)])?,
        db.prepare("INSERT INTO api_keys VALUES (?1, ?2, ?3, ?4, '[\"config:read\"]', NULL)")
            .bind(&[s(&format!("k_{prefix}")), s(&prefix), s(&sha256_hex(&key)), s(&tenant_id)])?,
        db.prepare("INSERT INTO flags VALUES (?1, 'ai_answers', 1), (?1, 'handoff', 1)")
            .bind(&[s(&tenant_id)])?,
    ])
    .await?;
    Response::from_json(&json!({ "key": key }))
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
    count: f64,
    period_ms: f64,
}

#[derive(Deserialize)]
struct CheckRequest {
    version: f64,
    day: String,
    buckets: Vec<Bucket>,
}

#[derive(Deserialize)]
struct Row {
    #[serde(default)]
    version: f64,
    #[serde(default)]
    tat: f64,
}

struct Decision<'a> {
    bucket: &'a Bucket,
    interval: f64,
    next: f64,
    allowed: bool,
    remaining: f64,
    reset_ms: f64,
    retry_after_ms: f64,
}

/// Exact GCRA over the object's SQLite storage, as the JS anchor's `Gate`: both buckets are
/// charged only if both allow, and the tenant's settings version is the newest seen.
#[durable_object]
pub struct Gate {
    state: State,
}

impl DurableObject for Gate {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, checks INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS tats (bucket TEXT PRIMARY KEY, tat INTEGER NOT NULL, interval_ms INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS usage (day TEXT, metric TEXT, value INTEGER NOT NULL, PRIMARY KEY (day, metric))",
        ] {
            let _ = sql.exec(ddl, None);
        }
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let r: CheckRequest = req.json().await?;
        let sql = self.state.storage().sql();
        let now = Date::now().as_millis() as f64;
        let meta: Vec<Row> = sql
            .exec("SELECT version FROM meta WHERE id = 1", None)?
            .to_array()?;
        if let Some(m) = meta.first() {
            if r.version < m.version {
                return Response::from_json(
                    &json!({"stale": true, "allowed": false, "version": m.version}),
                );
            }
        }
        let mut decisions = Vec::with_capacity(r.buckets.len());
        for b in &r.buckets {
            let interval = b.period_ms / b.count;
            let row: Vec<Row> = sql
                .exec(
                    "SELECT tat FROM tats WHERE bucket = ?",
                    vec![SqlStorageValue::from(b.name.as_str())],
                )?
                .to_array()?;
            let tat = row.first().map_or(0.0, |r| r.tat).max(now);
            let next = tat + interval;
            let allow_at = next - b.period_ms;
            let allowed = allow_at <= now;
            decisions.push(Decision {
                bucket: b,
                interval,
                next,
                allowed,
                remaining: ((now - allow_at) / interval).floor().max(0.0),
                reset_ms: next - now,
                retry_after_ms: if allowed { 0.0 } else { allow_at - now },
            });
        }
        let allowed = decisions.iter().all(|d| d.allowed);
        if allowed {
            for d in &decisions {
                sql.exec(
                    "INSERT INTO tats VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET tat = excluded.tat, interval_ms = excluded.interval_ms",
                    vec![
                        SqlStorageValue::from(d.bucket.name.as_str()),
                        SqlStorageValue::Float(d.next),
                        SqlStorageValue::Float(d.interval),
                    ],
                )?;
            }
        }
        sql.exec(
            "INSERT INTO meta VALUES (1, ?, 1) ON CONFLICT (id) DO UPDATE SET version = MAX(version, excluded.version), checks = checks + 1",
            vec![SqlStorageValue::Float(r.version)],
        )?;
        sql.exec(
            "INSERT INTO usage VALUES (?, ?, 1) ON CONFLICT (day, metric) DO UPDATE SET value = value + 1",
            vec![
                SqlStorageValue::from(r.day.as_str()),
                SqlStorageValue::from(if allowed { "requests" } else { "denied" }),
            ],
        )?;
        let pick = if allowed {
            decisions
                .iter()
                .min_by(|a, b| a.remaining.total_cmp(&b.remaining))
        } else {
            decisions
                .iter()
                .filter(|d| !d.allowed)
                .max_by(|a, b| a.retry_after_ms.total_cmp(&b.retry_after_ms))
        };
        let Some(pick) = pick else {
            return Response::error("no buckets", 400);
        };
        Response::from_json(&json!({
            "stale": false,
            "allowed": allowed,
            "version": r.version,
            "limit": pick.bucket.count,
            "remaining": pick.remaining,
            "reset_ms": pick.reset_ms,
            "retry_after_ms": pick.retry_after_ms,
        }))
    }
}
