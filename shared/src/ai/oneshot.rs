//! One model call that is not an answer to a customer: translation for agents, conversation
//! summaries, quality reviews. Same providers as answers (failover in the tenant's order, the
//! circuit breaker, timeouts), same daily quota of paid calls, counted under its own usage
//! name; JSON mode, so the caller checks a document rather than prose.

use super::config;
use super::providers::{ChatMessage, ChatRequest, ProviderKind, Role};
use super::resilience::{self, Failure};
use super::usage;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::platform::Platform;
use crate::tenancy::quotas::Quotas;
use crate::tenancy::store as tenants;

/// What a task asks of the model.
pub struct Ask<'a> {
    pub system: String,
    pub user: &'a str,
    pub max_output_tokens: u32,
    /// The usage counter this task adds to (e.g. `ai_translations`).
    pub counter: &'static str,
}

/// The model's reply that the caller's `accept` took, with who produced it.
pub struct Answered<T> {
    pub value: T,
    pub provider: String,
    pub model: String,
}

/// Whether the tenant has a provider other than the built-in responder.
pub async fn has_provider(p: &Platform, tenant_id: &str) -> ApiResult<bool> {
    let (cfg, _) = tenants::config(p.db()?, tenant_id).await?;
    Ok(config::resolve(p, tenant_id, &cfg.ai)
        .await?
        .iter()
        .any(|r| r.kind != ProviderKind::Offline))
}

/// Asks the tenant's providers in order until one returns something `accept` takes. `Conflict`
/// when no provider is configured, `QuotaExceeded` past the day's paid calls, `UpstreamError`
/// when every provider failed or answered unusably.
pub async fn ask<T>(
    p: &Platform,
    tenant_id: &str,
    ask: &Ask<'_>,
    accept: impl Fn(&str) -> Option<T>,
) -> ApiResult<Answered<T>> {
    let db = p.db()?;
    let (cfg, _) = tenants::config(db, tenant_id).await?;
    let providers: Vec<_> = config::resolve(p, tenant_id, &cfg.ai)
        .await?
        .into_iter()
        .filter(|r| r.kind != ProviderKind::Offline)
        .collect();
    if providers.is_empty() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "no AI provider is configured for this workspace; add one in the AI settings",
        ));
    }
    let tenant = tenants::get(db, tenant_id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    let day = crate::time::utc_day(p.now_ms());
    let quota = Quotas::for_tier(tenant.tier, tenant.limits.as_ref()).ai_answers_per_day;
    if usage::get(db, tenant_id, &day, usage::PROVIDER_ANSWERS).await? >= quota {
        return Err(ApiError::new(
            ErrorCode::QuotaExceeded,
            "today's quota of AI calls is used up",
        ));
    }
    let req = ChatRequest {
        system: ask.system.clone(),
        messages: vec![ChatMessage {
            role: Role::User,
            text: ask.user.to_string(),
            images: Vec::new(),
        }],
        tools: Vec::new(),
        temperature: 0.0,
        max_output_tokens: ask.max_output_tokens,
        json: true,
        tool_result: None,
    };
    let mut last = String::from("no provider answered");
    for r in &providers {
        let mut sink = |_: &str| {};
        match resilience::run(p, r, &req, 10_000, 30_000, &mut sink).await {
            Ok(run) => {
                let Some(value) = accept(&run.text) else {
                    last = format!("{} returned nothing usable", r.kind.as_str());
                    continue;
                };
                db.batch(vec![
                    usage::add(tenant_id, &day, usage::PROVIDER_ANSWERS, 1),
                    usage::add(tenant_id, &day, ask.counter, 1),
                    usage::add(
                        tenant_id,
                        &day,
                        "ai_tokens_in",
                        run.usage.input_tokens as i64,
                    ),
                    usage::add(
                        tenant_id,
                        &day,
                        "ai_tokens_out",
                        run.usage.output_tokens as i64,
                    ),
                ])
                .await?;
                return Ok(Answered {
                    value,
                    provider: r.kind.as_str().to_string(),
                    model: run.model,
                });
            }
            Err(Failure::BeforeAnswer(e)) => last = e.message,
            Err(Failure::Skipped) => last = format!("{} is cooling down", r.kind.as_str()),
        }
    }
    Err(ApiError::new(ErrorCode::UpstreamError, last))
}

/// A model's JSON reply without the code fence some models wrap it in.
pub fn unfence(raw: &str) -> &str {
    let t = raw.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .map(|s| s.trim_end().trim_end_matches("```"))
        .unwrap_or(t)
        .trim()
}
