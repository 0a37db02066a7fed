//! Deliveries: one row per event and subscribed endpoint, written when the change that raised
//! the event is applied (so an event is never lost), keyed by endpoint and event (so it is never
//! recorded twice), POSTed with Standard Webhooks signatures through the queue (inline where
//! there is none), retried on the Standard Webhooks schedule, every attempt logged.
//!
//! An endpoint whose deliveries keep using every attempt is disabled with a reason, recorded in
//! the audit log; re-enabling it and replaying the failed deliveries sends them again (the same
//! `webhook-id`, so receivers that already processed one can skip it).

use super::endpoints::{self, Endpoint};
use super::events::Outgoing;
use crate::channels::signatures::svix_sign;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::platform::Platform;
use crate::ports::{Row, SqlDatabase, Statement};
use crate::records::{self, FromRow, Listed};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

/// Attempts per delivery (the first and seven retries).
pub const MAX_ATTEMPTS: i64 = 8;
/// Delays before each retry (Standard Webhooks' suggested schedule): 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h.
const SCHEDULE_MS: [i64; 7] = [
    5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];
/// Deliveries in a row that used every attempt before the endpoint is disabled.
pub const DISABLE_AFTER: i64 = 5;
/// How long a claimed attempt may take before another worker may try again.
const LEASE_MS: i64 = 60_000;
/// What an endpoint's answer may be read up to (kept in the log).
const RESPONSE_BYTES: usize = 16 * 1024;
const TIMEOUT_MS: i64 = 15_000;
/// How long the isolate trusts its list of a tenant's active endpoints.
const ENDPOINTS_MEMO_MS: i64 = 10_000;

/// One delivery, as the API shows it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    /// The event's id (the `webhook-id` header; the same on every attempt).
    pub event_id: String,
    pub event_type: String,
    /// `queued`, `sending`, `delivered` or `failed` (every attempt used, or the endpoint was
    /// disabled or deleted).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One attempt, as the log keeps it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Attempt {
    pub n: i64,
    pub at: i64,
    /// The endpoint's HTTP status (none when the request did not complete).
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery with its payload and every attempt.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub payload: Value,
    pub attempts_log: Vec<Attempt>,
}

impl FromRow for Delivery {
    fn from_row(r: &Row) -> ApiResult<Delivery> {
        Ok(Delivery {
            id: r.text("id").unwrap_or_default(),
            endpoint_id: r.text("endpoint_id").unwrap_or_default(),
            event_id: r.text("event_id").unwrap_or_default(),
            event_type: r.text("event_type").unwrap_or_default(),
            status: r.text("status").unwrap_or_default(),
            attempts: r.int("attempts").unwrap_or(0) - r.int("replay_base").unwrap_or(0),
            next_attempt_at: r.int("next_attempt_at").unwrap_or(0),
            last_status: r.int("last_status"),
            last_error: r.text("last_error"),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
    }
}

impl Listed for Delivery {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

const COLUMNS: &str = "id, tenant_id, endpoint_id, event_id, event_type, status, attempts, replay_base, next_attempt_at, last_status, last_error, created_at, updated_at";

fn delivery_id(endpoint_id: &str, event_id: &str) -> String {
    format!("whd_{endpoint_id}_{event_id}")
}

/// A tenant's active endpoints and what each subscribes to (remembered briefly per isolate:
/// a new endpoint starts receiving within seconds).
async fn subscribers(
    db: &dyn SqlDatabase,
    p: Option<&Platform>,
    tenant_id: &str,
    now: i64,
) -> ApiResult<Vec<(String, Vec<String>)>> {
    let key = super::memo_key(tenant_id);
    if let Some(cached) = p.and_then(|p| p.memo.get_json(&key, now)) {
        return Ok(cached);
    }
    let rows = db
        .query(
            "SELECT id, events FROM webhook_endpoints WHERE tenant_id = ?1 AND status = 'active'",
            &params![tenant_id],
        )
        .await?;
    let list: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.text("id").unwrap_or_default(),
                r.text("events")
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
            )
        })
        .collect();
    if let Some(p) = p {
        p.memo.put_json(&key, &list, ENDPOINTS_MEMO_MS, now);
    }
    Ok(list)
}

/// Whether any of the tenant's endpoints is active (from the memo, as [`record`] reads it):
/// without one, a flush builds no event payloads at all.
pub async fn subscribed(
    db: &dyn SqlDatabase,
    p: Option<&Platform>,
    tenant_id: &str,
    now: i64,
) -> ApiResult<bool> {
    Ok(!subscribers(db, p, tenant_id, now).await?.is_empty())
}

/// Records a delivery for each event and subscribed endpoint (idempotent: applying the same
/// events again records nothing new). Returns the ids recorded, to dispatch.
pub async fn record(
    db: &dyn SqlDatabase,
    p: Option<&Platform>,
    events: &[Outgoing],
    now: i64,
) -> ApiResult<Vec<String>> {
    let mut stmts = Vec::new();
    let mut ids = Vec::new();
    let mut tenants: Vec<&str> = events.iter().map(|e| e.tenant_id.as_str()).collect();
    tenants.dedup();
    for tenant_id in tenants {
        let subs = subscribers(db, p, tenant_id, now).await?;
        if subs.is_empty() {
            continue;
        }
        for e in events.iter().filter(|e| e.tenant_id == tenant_id) {
            for (endpoint_id, wanted) in &subs {
                if !wanted.iter().any(|w| w == "*" || w == e.kind.as_str()) {
                    continue;
                }
                let id = delivery_id(endpoint_id, &e.id);
                stmts.push(Statement::new(
                    "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload, status, attempts, replay_base, next_attempt_at, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', 0, 0, ?7, ?7, ?7) ON CONFLICT (id) DO NOTHING",
                    params![id.as_str(), tenant_id, endpoint_id.as_str(), e.id.as_str(), e.kind.as_str(), e.body.as_str(), now],
                ));
                ids.push(id);
            }
        }
    }
    if !stmts.is_empty() {
        db.batch(stmts).await?;
    }
    Ok(ids)
}

/// Hands deliveries to the queue (Cloudflare). Without a queue the request that caused them
/// delivers them ([`deliver_due`]) and the sweep catches the rest.
pub async fn enqueue(p: &Platform, ids: &[String]) {
    crate::jobs::enqueue(p, "webhook", ids, 0).await;
}

/// What one call to [`deliver`] came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Delivered,
    /// Failed; tried again after this long.
    Retry {
        after_ms: i64,
    },
    /// Not due yet, or claimed by another worker.
    Later {
        after_ms: i64,
    },
    /// Already delivered or failed for good, or unknown.
    Done,
    /// Every attempt used, or nowhere to send it.
    Failed,
}

/// Makes one attempt at a delivery that is due.
pub async fn deliver(p: &Platform, id: &str) -> ApiResult<Step> {
    let db = p.db()?;
    let now = p.now_ms();
    let claimed = db
        .execute(
            "UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, next_attempt_at = ?2 + ?3, updated_at = ?2
             WHERE id = ?1 AND status IN ('queued', 'sending') AND next_attempt_at <= ?2",
            &params![id, now, LEASE_MS],
        )
        .await?;
    let rows = db
        .query(
            &format!("SELECT {COLUMNS}, payload FROM webhook_deliveries WHERE id = ?1"),
            &params![id],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Step::Done);
    };
    let d = Delivery::from_row(row)?;
    if claimed == 0 {
        return Ok(if matches!(d.status.as_str(), "queued" | "sending") {
            Step::Later {
                after_ms: d.next_attempt_at - now,
            }
        } else {
            Step::Done
        });
    }
    let tenant_id = row.text("tenant_id").unwrap_or_default();
    let body = row.text("payload").unwrap_or_default();
    let total_attempts = row.int("attempts").unwrap_or(1);
    let endpoint = match endpoints::get(p, &tenant_id, &d.endpoint_id).await {
        Ok(e) if e.status == "active" => e,
        Ok(_) => return give_up(p, &d, "the endpoint is disabled").await,
        Err(_) => return give_up(p, &d, "the endpoint was deleted").await,
    };
    let started = p.now_ms();
    let result = post(p, &tenant_id, &endpoint, &d.event_id, &body).await;
    let ended = p.now_ms();
    let (code, error) = match &result {
        Ok((code, _)) if (200..300).contains(code) => (Some(*code as i64), None),
        Ok((code, text)) => (
            Some(*code as i64),
            Some(format!(
                "HTTP {code}: {}",
                text.chars().take(200).collect::<String>()
            )),
        ),
        Err(e) => (None, Some(e.clone())),
    };
    let mut stmts = vec![Statement::new(
        "INSERT INTO webhook_attempts (delivery_id, n, tenant_id, at, status_code, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (delivery_id, n) DO NOTHING",
        params![id, total_attempts, tenant_id.as_str(), started, code, error.clone(), ended - started],
    )];
    let step = if error.is_none() {
        stmts.push(Statement::new(
            "UPDATE webhook_deliveries SET status = 'delivered', last_status = ?2, last_error = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, code, ended],
        ));
        stmts.push(Statement::new(
            "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?1 AND consecutive_failures > 0",
            params![d.endpoint_id.as_str()],
        ));
        Step::Delivered
    } else if d.attempts >= MAX_ATTEMPTS {
        stmts.push(Statement::new(
            "UPDATE webhook_deliveries SET status = 'failed', last_status = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, code, error.clone(), ended],
        ));
        stmts.push(Statement::new(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, updated_at = ?2 WHERE id = ?1",
            params![d.endpoint_id.as_str(), ended],
        ));
        Step::Failed
    } else {
        let after = SCHEDULE_MS
            .get((d.attempts - 1).max(0) as usize)
            .copied()
            .unwrap_or(SCHEDULE_MS[SCHEDULE_MS.len() - 1]);
        stmts.push(Statement::new(
            "UPDATE webhook_deliveries SET status = 'queued', next_attempt_at = ?2, last_status = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, ended + after, code, error.clone(), ended],
        ));
        Step::Retry { after_ms: after }
    };
    db.batch(stmts).await?;
    if step == Step::Failed {
        disable_if_persistent(p, &tenant_id, &d.endpoint_id).await?;
    }
    Ok(step)
}

/// Marks a delivery failed without an attempt (nowhere to send it; replayable later).
async fn give_up(p: &Platform, d: &Delivery, why: &str) -> ApiResult<Step> {
    p.db()?
        .execute(
            "UPDATE webhook_deliveries SET status = 'failed', attempts = attempts - 1, last_error = ?2, updated_at = ?3 WHERE id = ?1",
            &params![d.id.as_str(), why, p.now_ms()],
        )
        .await?;
    Ok(Step::Failed)
}

/// POSTs the payload, signed with every current secret. Returns the status and the start of
/// the answer, or why no answer came.
async fn post(
    p: &Platform,
    tenant_id: &str,
    e: &Endpoint,
    event_id: &str,
    body: &str,
) -> Result<(u16, String), String> {
    if p.http.is_none() {
        return Err("no outbound HTTP on this runtime".into());
    }
    crate::egress::check_url(&e.url, crate::egress::allow_local(p))
        .map_err(|r| format!("refused: {}", r.message()))?;
    let secrets = endpoints::signing_secrets(p, tenant_id, e)
        .await
        .map_err(|e| e.message)?;
    let ts = p.now_ms() / 1000;
    let signature = secrets
        .iter()
        .filter_map(|s| svix_sign(s, event_id, ts, body.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut req = crate::http::Request::new(crate::http::Method::Post, &e.url);
    req.headers.set("content-type", "application/json");
    req.headers.set("user-agent", "PrismAI-Webhooks/1");
    req.headers.set("webhook-id", event_id);
    req.headers.set("webhook-timestamp", ts.to_string());
    req.headers.set("webhook-signature", &signature);
    req.body = body.as_bytes().to_vec();
    let limits = crate::egress::Limits {
        timeout_ms: TIMEOUT_MS,
        max_bytes: RESPONSE_BYTES,
    };
    match crate::egress::fetch(p, req, limits).await {
        Ok(r) => Ok((r.status, r.text())),
        Err(e) => Err(e.to_string()),
    }
}

/// Disables an endpoint whose last [`DISABLE_AFTER`] deliveries used every attempt, and says
/// so in the audit log.
async fn disable_if_persistent(p: &Platform, tenant_id: &str, endpoint_id: &str) -> ApiResult<()> {
    let db = p.db()?;
    let reason =
        format!("disabled automatically: {DISABLE_AFTER} deliveries in a row failed every attempt");
    let now = p.now_ms();
    let changed = db
        .execute(
            "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?3, updated_at = ?4
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'active' AND consecutive_failures >= ?5",
            &params![tenant_id, endpoint_id, reason.as_str(), now, DISABLE_AFTER],
        )
        .await?;
    if changed > 0 {
        super::memo_forget(p, tenant_id);
        crate::audit::record_system(
            p,
            tenant_id,
            ("system", "webhooks"),
            "-",
            "webhook.endpoint.disabled",
            ("webhook_endpoint", endpoint_id),
            Some(json!({"status": "disabled", "reason": reason})),
        )
        .await?;
        p.log.log(
            &json!({"level": "warn", "msg": "webhook endpoint disabled", "tenant": tenant_id, "endpoint": endpoint_id})
                .to_string(),
        );
        notify_disabled(p, tenant_id, endpoint_id, now).await;
    }
    Ok(())
}

/// Tells the tenant's owners and admins by email that an endpoint was disabled (best effort:
/// the audit entry and the console say so either way).
async fn notify_disabled(p: &Platform, tenant_id: &str, endpoint_id: &str, now: i64) {
    let result = async {
        let db = p.db()?;
        let url = db
            .query(
                "SELECT url FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2",
                &params![tenant_id, endpoint_id],
            )
            .await?
            .first()
            .and_then(|r| r.text("url"))
            .unwrap_or_default();
        let admins = db
            .query(
                "SELECT email FROM users WHERE tenant_id = ?1 AND status = 'active' AND role IN ('owner', 'admin')
                 ORDER BY role DESC, created_at LIMIT 10",
                &params![tenant_id],
            )
            .await?;
        let text = format!(
            "Your webhook endpoint {url} ({endpoint_id}) was disabled: its last {DISABLE_AFTER} deliveries \
             failed every attempt.\n\nFix the receiver, then enable it again in the console (Webhooks) or \
             with PATCH /v1/webhooks/endpoints/{endpoint_id} {{\"enabled\": true}}; replay the failed \
             deliveries from its delivery log.\n"
        );
        for r in &admins {
            let Some(to) = r.text("email") else { continue };
            crate::mail::send(
                p,
                tenant_id,
                &crate::mail::Letter {
                    to: &to,
                    subject: "A webhook endpoint was disabled",
                    text: &text,
                    idempotency_key: &format!("webhook-disabled-{endpoint_id}-{now}-{to}"),
                },
            )
            .await?;
        }
        ApiResult::Ok(())
    }
    .await;
    if let Err(e) = result {
        p.log.log(
            &json!({"level": "warn", "msg": "webhook disable notice not sent", "endpoint": endpoint_id, "error": e.message})
                .to_string(),
        );
    }
}

/// The queue consumer's part: one attempt, and the next one scheduled on the queue.
pub async fn consume(p: &Platform, id: &str) {
    match deliver(p, id).await {
        Ok(Step::Retry { after_ms }) | Ok(Step::Later { after_ms }) => {
            crate::jobs::enqueue(p, "webhook", &[id.to_string()], after_ms).await;
        }
        Ok(_) => {}
        Err(e) => p.log.log(
            &json!({"level": "error", "msg": "webhook delivery failed", "delivery": id, "error": e.message})
                .to_string(),
        ),
    }
}

/// On runtimes without a queue: delivers a tenant's due deliveries now (a few at a time).
pub async fn deliver_due(p: &Platform, tenant_id: &str) {
    if p.queue.is_some() {
        return;
    }
    let Ok(db) = p.db() else { return };
    let rows = db
        .query(
            "SELECT id FROM webhook_deliveries WHERE tenant_id = ?1 AND status IN ('queued', 'sending') AND next_attempt_at <= ?2 ORDER BY next_attempt_at LIMIT 20",
            &params![tenant_id, p.now_ms()],
        )
        .await
        .unwrap_or_default();
    for r in rows {
        if let Some(id) = r.text("id") {
            let _ = deliver(p, &id).await;
        }
    }
}

/// Re-dispatches every due delivery (the cron trigger; the sweep route elsewhere).
pub async fn sweep(p: &Platform, limit: i64) -> ApiResult<usize> {
    let ids = crate::jobs::due(p, "webhook_deliveries", limit).await?;
    if p.queue.is_some() {
        enqueue(p, &ids).await;
    } else {
        for id in &ids {
            deliver(p, id).await?;
        }
    }
    Ok(ids.len())
}

/// An endpoint's deliveries, oldest first (cursor-paged), optionally by status.
pub async fn list(
    p: &Platform,
    tenant_id: &str,
    endpoint_id: &str,
    status: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<Delivery>> {
    endpoints::get(p, tenant_id, endpoint_id).await?;
    let (after, mut extra) = page.after_clause(4);
    let mut args = params![tenant_id, endpoint_id, status.unwrap_or("")].to_vec();
    args.append(&mut extra);
    args.push(((page.limit + 1) as i64).into());
    let limit_param = args.len();
    let rows = p
        .db()?
        .query(
            &format!(
                "SELECT {COLUMNS} FROM webhook_deliveries WHERE tenant_id = ?1 AND endpoint_id = ?2 AND (?3 = '' OR status = ?3){after}
                 ORDER BY created_at, id LIMIT ?{limit_param}"
            ),
            &args,
        )
        .await?;
    let items: Vec<Delivery> = records::all(&rows)?;
    Ok(Page::from_rows(items, page.limit, |d| d.sort_key()))
}

pub async fn get(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<DeliveryDetail> {
    let db = p.db()?;
    let rows = db
        .query(
            &format!("SELECT {COLUMNS}, payload FROM webhook_deliveries WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::not_found("webhook delivery"))?;
    let delivery = Delivery::from_row(row)?;
    let payload = row
        .text("payload")
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let attempts = db
        .query(
            "SELECT n, at, status_code, error, duration_ms FROM webhook_attempts WHERE tenant_id = ?1 AND delivery_id = ?2 ORDER BY n LIMIT 100",
            &params![tenant_id, id],
        )
        .await?
        .iter()
        .map(|r| Attempt {
            n: r.int("n").unwrap_or(0),
            at: r.int("at").unwrap_or(0),
            status_code: r.int("status_code"),
            error: r.text("error"),
            duration_ms: r.int("duration_ms").unwrap_or(0),
        })
        .collect();
    Ok(DeliveryDetail {
        delivery,
        payload,
        attempts_log: attempts,
    })
}

/// Sends a delivery again from its first attempt (failed ones, or delivered ones a receiver
/// lost); its log keeps every earlier attempt.
pub async fn replay(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Delivery> {
    let now = p.now_ms();
    let changed = p
        .db()?
        .execute(
            "UPDATE webhook_deliveries SET status = 'queued', replay_base = attempts, next_attempt_at = ?3, updated_at = ?3
             WHERE tenant_id = ?1 AND id = ?2 AND status IN ('failed', 'delivered')",
            &params![tenant_id, id, now],
        )
        .await?;
    let d = get(p, tenant_id, id).await?.delivery;
    if changed == 0 {
        return Err(ApiError::new(
            crate::error::ErrorCode::Conflict,
            "only delivered or failed deliveries can be replayed (this one is still being sent)",
        ));
    }
    enqueue(p, std::slice::from_ref(&d.id)).await;
    deliver_due(p, tenant_id).await;
    get(p, tenant_id, id).await.map(|x| x.delivery)
}

/// Sends newly recorded deliveries on their way: to the queue, or now where there is none.
pub async fn dispatch(p: &Platform, ids: &[String]) {
    if p.queue.is_some() {
        enqueue(p, ids).await;
        return;
    }
    for id in ids {
        let _ = deliver(p, id).await;
    }
}

/// Records one event that does not come from a conversation's outbox (leads, surveys) for the
/// tenant's endpoints and sends it. The event id is fixed by the change it reports, so
/// repeating the change records nothing twice; a failure to record is logged and does not undo
/// the change (the lead or the answer is the record).
pub async fn announce<D: Serialize>(
    p: &Platform,
    tenant_id: &str,
    kind: super::events::EventType,
    event_id: &str,
    data: D,
) {
    let now = p.now_ms();
    let payload = super::events::EventPayload {
        id: event_id.to_string(),
        kind,
        timestamp: crate::time::rfc3339(now),
        data,
    };
    let event = Outgoing {
        tenant_id: tenant_id.to_string(),
        id: event_id.to_string(),
        kind,
        body: serde_json::to_string(&payload).unwrap_or_default(),
        at: now,
    };
    let result = async {
        let ids = record(p.db()?, Some(p), &[event], now).await?;
        dispatch(p, &ids).await;
        ApiResult::Ok(())
    }
    .await;
    if let Err(e) = result {
        p.log.log(
            &json!({"level": "error", "msg": "event not recorded", "event": event_id, "type": kind.as_str(), "error": e.message})
                .to_string(),
        );
    }
}
