//! Provider webhooks. Each handler verifies the signature on the raw body before parsing
//! anything (failure: 401 `invalid_signature`, nothing stored), records the event once in the
//! ledger, processes it, and marks it processed — so a retried webhook is acknowledged without
//! being processed twice, and one whose processing failed is processed again on retry.

use crate::channels::config::{self as channel_config, public_base};
use crate::channels::events::{self, Admission, Scope};
use crate::channels::signatures::{self, Verdict};
use crate::channels::{outbound, resend, stripe, twilio, vapi};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::router::Ctx;
use crate::tenancy::TenantConfig;
use serde_json::{json, Value};

const TWIML_EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
/// Ledger copies of bodies are capped (the full event was already verified and processed).
const LEDGER_BODY_MAX: usize = 64 * 1024;

fn invalid(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidSignature, msg)
}

fn not_configured(what: &str) -> ApiError {
    ApiError::forbidden(format!("{what} is not configured for this tenant"))
}

fn verdict(v: Verdict) -> ApiResult<()> {
    match v {
        Verdict::Valid => Ok(()),
        Verdict::Stale => Err(invalid(
            "the signed timestamp is outside the 5-minute tolerance",
        )),
        Verdict::Invalid => Err(invalid("the signature does not match")),
    }
}

fn ledger_body(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    s.chars().take(LEDGER_BODY_MAX).collect()
}

/// What verifying and handling a tenant's webhook needs, read in one query and kept in isolate
/// memory for a minute: a flood of forged webhooks then costs no database reads. A failed
/// verification re-reads it (at most every few seconds), so a rotated secret applies at once.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct HookTenant {
    name: String,
    version: i64,
    config: TenantConfig,
    /// The provider secret as stored (sealed); `None` when the tenant has not set it.
    secret: Option<String>,
    read_at: i64,
}

const HOOK_MEMO_MS: i64 = 60_000;
const HOOK_REREAD_MS: i64 = 5_000;

async fn hook_tenant(
    cx: &Ctx,
    tenant_id: &str,
    secret_name: &str,
    fresh: bool,
) -> ApiResult<Option<HookTenant>> {
    let key = format!("hook:{tenant_id}:{secret_name}");
    let now = cx.now();
    if let Some(cached) = cx.platform.memo.get_json::<Option<HookTenant>>(&key, now) {
        let young = cached
            .as_ref()
            .is_none_or(|h| now - h.read_at < HOOK_REREAD_MS);
        if !fresh || young {
            return Ok(cached);
        }
    }
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT t.name, t.version, c.config, s.value FROM tenants t
             JOIN tenant_configs c ON c.tenant_id = t.id
             LEFT JOIN tenant_secrets s ON s.tenant_id = t.id AND s.name = ?2
             WHERE t.id = ?1 AND t.status = 'active'",
            &crate::params![tenant_id, secret_name],
        )
        .await?;
    let hook = rows.first().map(|r| HookTenant {
        name: r.text("name").unwrap_or_default(),
        version: r.int("version").unwrap_or(0),
        config: r
            .text("config")
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        secret: r.text("value"),
        read_at: now,
    });
    cx.platform.memo.put_json(&key, &hook, HOOK_MEMO_MS, now);
    Ok(hook)
}

/// Verifies a tenant webhook with `check(config, secret)` before anything else is read, then
/// charges the tenant's webhook budget for the provider. Unknown, suspended and unconfigured
/// tenants are refused alike (`what` is not configured), revealing nothing.
async fn verified(
    cx: &Ctx,
    tenant_id: &str,
    provider: &str,
    secret_name: &str,
    what: &str,
    check: impl Fn(&TenantConfig, &str) -> Verdict,
) -> ApiResult<HookTenant> {
    let mut fresh = false;
    loop {
        let hook = hook_tenant(cx, tenant_id, secret_name, fresh)
            .await?
            .ok_or_else(|| not_configured(what))?;
        let sealed = hook.secret.as_deref().ok_or_else(|| not_configured(what))?;
        let secret = crate::tenancy::secrets::sealer(&cx.platform)?.open(
            &crate::tenancy::secrets::secret_aad(tenant_id, secret_name),
            sealed,
        )?;
        match check(&hook.config, &secret) {
            Verdict::Valid => {
                charge_webhook(cx, tenant_id, hook.version, provider).await?;
                return Ok(hook);
            }
            v if fresh => return verdict(v).map(|_| hook),
            _ => fresh = true,
        }
    }
}

/// Verified webhooks are still budgeted per tenant and provider: a leaked provider secret, or a
/// provider gone haywire, cannot flood the tenant's conversations.
async fn charge_webhook(cx: &Ctx, tenant_id: &str, version: i64, provider: &str) -> ApiResult<()> {
    let limit = crate::ratelimit::limits::WEBHOOKS;
    let check = crate::auth::gateway::charge_bucket(
        &cx.platform,
        tenant_id,
        version,
        crate::objects::gate::BucketSpec {
            name: format!("hook:{provider}"),
            count: limit.count,
            period_ms: limit.period_ms,
        },
    )
    .await?;
    if check.allowed {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many webhooks for this tenant; retry later",
        )
        .with_header(
            "retry-after",
            ((check.retry_after_ms + 999) / 1000).max(1).to_string(),
        ))
    }
}

/// Runs `work` once per event id within `scope`; its error marks the event failed (processed
/// again on retry).
async fn once<F>(
    cx: &Ctx,
    provider: &str,
    scope: Scope<'_>,
    event_id: &str,
    tenant_id: Option<&str>,
    body: &[u8],
    work: F,
) -> ApiResult<bool>
where
    F: std::future::Future<Output = ApiResult<()>>,
{
    let db = cx.platform.db()?;
    let id: String = event_id.chars().take(200).collect();
    if events::admit(
        db,
        provider,
        scope,
        &id,
        tenant_id,
        &ledger_body(body),
        cx.now(),
    )
    .await?
        == Admission::Duplicate
    {
        return Ok(false);
    }
    let result = work.await;
    events::finish(
        db,
        provider,
        scope,
        &id,
        result.as_ref().err().map(|e| e.message.as_str()),
        cx.now(),
    )
    .await?;
    result.map(|_| true)
}

fn twiml() -> Response {
    Response::text(200, "text/xml; charset=utf-8", TWIML_EMPTY)
}

// ---------------------------------------------------------------------------------------------
// Twilio

pub async fn twilio(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = req.param("tenant_id").to_string();
    let params = twilio::form(&req.body)?;
    let signature = req.header("x-twilio-signature").unwrap_or("");
    verified(
        cx,
        &tenant_id,
        "twilio",
        channel_config::TWILIO_AUTH_TOKEN,
        "Twilio",
        |cfg, token| {
            let url = twilio::signed_url(&req, public_base(&cx.platform, &cfg.channels));
            if cfg.channels.twilio.is_some()
                && signatures::twilio_verify(token, &url, &params, signature)
            {
                Verdict::Valid
            } else {
                Verdict::Invalid
            }
        },
    )
    .await
    .map_err(|e| match e.code {
        ErrorCode::InvalidSignature => invalid("X-Twilio-Signature does not match"),
        _ => e,
    })?;
    let hook = twilio::Webhook::read(&params)?;
    let p = cx.platform.clone();
    once(
        cx,
        "twilio",
        Scope::Tenant(&tenant_id),
        &hook.event_id(),
        Some(&tenant_id),
        &req.body,
        twilio::process(&p, &tenant_id, &hook),
    )
    .await?;
    Ok(twiml())
}

// ---------------------------------------------------------------------------------------------
// Resend

pub async fn resend(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = req.param("tenant_id").to_string();
    let h = |n: &str| req.header(n).unwrap_or("").to_string();
    let (id, ts, sigs) = (h("svix-id"), h("svix-timestamp"), h("svix-signature"));
    if id.is_empty() {
        return Err(invalid("missing svix-id"));
    }
    let now_secs = cx.now() / 1000;
    verified(
        cx,
        &tenant_id,
        "resend",
        channel_config::RESEND_WEBHOOK_SECRET,
        "Email",
        |cfg, secret| match cfg.channels.email {
            Some(_) => signatures::svix_verify(secret, &id, &ts, &sigs, &req.body, now_secs),
            None => Verdict::Invalid,
        },
    )
    .await?;
    let event: resend::Event = crate::input::parse_json(&req.body)?;
    let p = cx.platform.clone();
    once(
        cx,
        "resend",
        Scope::Tenant(&tenant_id),
        &id,
        Some(&tenant_id),
        &req.body,
        resend::process(&p, &tenant_id, &event),
    )
    .await?;
    Ok(Response::json(200, &json!({ "received": true })))
}

// ---------------------------------------------------------------------------------------------
// VAPI

pub async fn vapi(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = req.param("tenant_id").to_string();
    let presented = req.header("x-vapi-secret").or_else(|| {
        req.header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
    });
    let hook = verified(
        cx,
        &tenant_id,
        "vapi",
        channel_config::VAPI_SECRET,
        "Voice",
        |cfg, secret| {
            if cfg.channels.voice.is_some() && signatures::secret_header_verify(secret, presented) {
                Verdict::Valid
            } else {
                Verdict::Invalid
            }
        },
    )
    .await
    .map_err(|e| match e.code {
        ErrorCode::InvalidSignature => invalid("the VAPI secret does not match"),
        _ => e,
    })?;
    let (cfg, business) = (hook.config, hook.name);
    let voice = cfg
        .channels
        .voice
        .clone()
        .ok_or_else(|| not_configured("Voice"))?;
    let message = vapi::Message::read(&req.body)?;
    let p = cx.platform.clone();
    let received = || Response::json(200, &json!({ "received": true }));
    match message.kind.as_str() {
        "assistant-request" => {
            let url = public_base(&p, &cfg.channels)
                .map(|b| format!("{}/v1/webhooks/vapi/{tenant_id}", b.trim_end_matches('/')));
            let open = cfg.is_open_at(p.now_ms());
            let assistant = vapi::assistant(&cfg, &voice, &business, url.as_deref(), open);
            Ok(Response::json(200, &assistant))
        }
        "tool-calls" => Ok(Response::json(
            200,
            &vapi::tool_results(&p, &tenant_id, &cfg, &message).await,
        )),
        _ => {
            // Call events are recorded once; other server messages (speech-update, hang,
            // conversation-update, …) need no answer.
            if let Some(event_id) = message.call_event_id() {
                once(
                    cx,
                    "vapi",
                    Scope::Tenant(&tenant_id),
                    &event_id,
                    Some(&tenant_id),
                    &req.body,
                    vapi::call_event(&p, &tenant_id, &message),
                )
                .await?;
            }
            Ok(received())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stripe (platform-wide)

pub async fn stripe(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let secret = cx
        .platform
        .config
        .get("stripe_webhook_secret")
        // Like a tenant channel that is not set up: refused, not a server fault.
        .ok_or_else(|| not_configured("billing (STRIPE_WEBHOOK_SECRET)"))?
        .to_string();
    verdict(signatures::stripe_verify(
        &secret,
        req.header("stripe-signature").unwrap_or(""),
        &req.body,
        cx.now() / 1000,
    ))?;
    let event: Value = crate::input::parse_json(&req.body)?;
    let id = event["id"]
        .as_str()
        .ok_or_else(|| ApiError::validation("id", "missing"))?
        .to_string();
    let change = stripe::interpret(&event);
    let p = cx.platform.clone();
    once(cx, "stripe", Scope::Platform, &id, change.as_ref().map(|c| c.tenant_id.as_str()), &req.body, async {
        if let Some(c) = &change {
            if stripe::apply(&p, c).await? {
                let line = json!({"level": "info", "msg": "tier changed by billing", "tenant_id": c.tenant_id, "tier": c.tier.as_str(), "event": id});
                p.log.log(&line.to_string());
            }
        }
        Ok(())
    })
    .await?;
    Ok(Response::json(200, &json!({ "received": true })))
}

// ---------------------------------------------------------------------------------------------
// Deliveries

pub async fn deliveries(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (db, tenant_id, id) = (
        cx.platform.db()?,
        cx.tenant_id()?,
        req.param("conversation_id"),
    );
    // 404 for another tenant's (or no) conversation, like every conversation route.
    crate::conversations::mirror::get(db, tenant_id, id).await?;
    let list = outbound::list(db, tenant_id, id).await?;
    Ok(Response::json(200, &json!({ "items": list })))
}

/// Re-dispatches due sends (Cloudflare runs this from its cron trigger; elsewhere call it from
/// a scheduler).
pub async fn sweep(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let n = outbound::sweep(&cx.platform, 200).await?;
    let w = crate::outgoing::delivery::sweep(&cx.platform, 200).await?;
    let r = crate::privacy::retention::sweep(&cx.platform, 50).await?;
    let c = crate::crm::jobs::sweep(&cx.platform, 200).await?;
    let s = crate::surveys::trigger::sweep(&cx.platform, 200).await?;
    Ok(Response::json(
        200,
        &json!({ "dispatched": n, "webhooks_dispatched": w, "retention": r, "crm_dispatched": c, "surveys_sent": s }),
    ))
}
