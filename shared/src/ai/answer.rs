//! The answer pipeline, run inside the conversation object after a customer message: analyse,
//! decide whether a human is needed, retrieve, answer from cache or the provider chain
//! (streaming `ai.delta` frames as tokens arrive), persist one final assistant message with its
//! citations, model, usage and latency, and meter usage. The customer's message is already
//! persisted before any of this runs; whatever the providers do, the customer gets an answer
//! or a handoff notice.

use super::analysis::{self, Analysis};
use super::config::{self, AiConfig, Resolved};
use super::providers::{assistant_tools, offline, ChatRequest, Finish, ProviderKind, Usage};
use super::{prompt, resilience, usage};
use crate::conversations::engine::{self, ObjectEnv};
use crate::conversations::model::{Author, AuthorKind, Meta, Participant, Status};
use crate::conversations::protocol::{MessageView, ServerFrame};
use crate::conversations::store;
use crate::error::ApiResult;
use crate::knowledge::embed::{Embedder, LocalEmbedder, LOCAL_MODEL};
use crate::knowledge::search::{self, Hit, SearchResult};
use crate::params;
use crate::platform::Platform;
use crate::tenancy::quotas::Quotas;
use crate::tenancy::{flags, store as tenants, TenantConfig};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Why the AI handed over to a human (recorded on the conversation).
pub mod reason {
    pub const CUSTOMER_REQUEST: &str = "customer_request";
    pub const LOW_CONFIDENCE: &str = "low_confidence";
    pub const NEGATIVE_SENTIMENT: &str = "negative_sentiment";
    pub const MODEL_REQUEST: &str = "model_request";
    pub const MAX_TURNS: &str = "max_turns";
    pub const SAFETY: &str = "safety_block";
    /// The answer could not be produced (storage or internal failure): a person takes over.
    pub const AI_ERROR: &str = "ai_error";
}

const CACHE_TTL_SECS: u64 = 86_400;

/// Answers customer message `reply_to` (idempotent: a second run for the same message does
/// nothing).
pub async fn answer(env: &ObjectEnv<'_>, p: &Platform, reply_to: i64) -> ApiResult<()> {
    let meta = match store::load_meta(env.store, env.name).await? {
        Some(m) => m,
        None => return Ok(()),
    };
    if !meta.status.ai_answers() {
        return Ok(());
    }
    // The switch first: it is in memory, and a tenant with AI answers off pays nothing more
    // per customer message.
    let tenant_id = meta.tenant_id.clone();
    let features = flags::effective_cached(p, &tenant_id).await?;
    if !features.get("ai_answers").copied().unwrap_or(false) {
        return Ok(());
    }
    let recent = store::messages_before(env.store, env.name, i64::MAX, 40).await?;
    let Some(question) = recent
        .iter()
        .find(|m| m.seq == reply_to && m.author.kind == AuthorKind::Customer)
        .cloned()
    else {
        return Ok(());
    };
    // A later customer message gets its own answer; an already answered one gets none.
    if recent
        .iter()
        .any(|m| m.seq > reply_to && m.author.kind == AuthorKind::Customer)
        || store::by_client_id(env.store, env.name, "ai", &client_id(reply_to))
            .await?
            .is_some()
    {
        return Ok(());
    }
    let db = p.db()?;
    let (cfg, config_version) = tenants::config(db, &tenant_id).await?;
    let tenant = tenants::get_required(db, &tenant_id).await?;
    let started = p.now_ms();

    // 1. Analysis (local now; the model's JSON mode refines it after the answer).
    let local = analysis::local(&question.text, &cfg.language);
    store_analysis(p, &meta, reply_to, &local, "local").await?;

    // 2. Cases that go straight to a human.
    if let Some(why) = escalation(p, &cfg, &meta, &question.text, &local).await? {
        return handoff(env, p, &meta, &cfg, why).await;
    }

    // 3. Providers within quota; retrieval with an embedder for the index's model.
    let mut providers = config::resolve(p, &tenant_id, &cfg.ai).await?;
    let day = crate::time::utc_day(p.now_ms());
    let quota = Quotas::for_tier(tenant.tier, tenant.limits.as_ref()).ai_answers_per_day;
    if usage::get(db, &tenant_id, &day, usage::PROVIDER_ANSWERS).await? >= quota {
        providers.clear();
    }
    let small_talk = matches!(local.intent.as_str(), "greeting" | "thanks");
    let retrieval = retrieve(p, &tenant_id, &cfg.ai, &question.text).await?;
    if !small_talk && retrieval.confidence < cfg.escalation.min_confidence as f32 {
        return handoff(env, p, &meta, &cfg, reason::LOW_CONFIDENCE).await;
    }

    // 4. Answers come from the cache only when the prompt is fully determined by the key: the
    //    question is the whole conversation so far (no earlier customer, agent or AI message can
    //    have shaped it), and the key names the knowledge base, the configuration and the hours.
    let history: Vec<MessageView> = recent
        .iter()
        .filter(|m| m.seq <= reply_to)
        .cloned()
        .collect();
    let open_now = cfg.is_open_at(p.now_ms());
    let cacheable = !small_talk && prompt_is_question_alone(&history, reply_to);
    let cache_key = AnswerKey {
        tenant_id: &tenant_id,
        kb_version: retrieval.kb_version,
        config_version,
        open_now,
        provider: providers.first(),
        question: &question.text,
    }
    .to_string();
    if cacheable {
        if let Some(cached) = cached(p, &cache_key).await {
            let text = cached["text"].as_str().unwrap_or_default().to_string();
            stream_text(env, reply_to, &text);
            let meta_json = json!({ "citations": cached["citations"], "model": cached["model"], "provider": cached["provider"], "cached": true, "latency_ms": p.now_ms() - started });
            finish(env, p, reply_to, &text, meta_json, &tenant_id, &day, None).await?;
            return Ok(());
        }
    }

    // 5. The provider chain, then the offline responder.
    let mut delta_sink = |t: &str| env.fan_out_ai_delta(reply_to, t);
    for r in &providers {
        let mut req = ChatRequest {
            system: prompt::system(&cfg, &tenant.name, open_now),
            messages: prompt::messages(&history, &retrieval.hits),
            tools: assistant_tools(),
            temperature: cfg.ai.temperature,
            max_output_tokens: cfg.ai.max_output_tokens,
            json: false,
            tool_result: None,
        };
        let mut hits = retrieval.hits.clone();
        let mut run = match resilience::run(
            p,
            r,
            &req,
            cfg.ai.first_token_timeout_ms as i64,
            cfg.ai.total_timeout_ms as i64,
            &mut delta_sink,
        )
        .await
        {
            Ok(run) => run,
            Err(f) => {
                log_failure(p, r, &f);
                continue;
            }
        };
        // One round of the knowledge-base tool, then the model answers.
        if let Some((name, args)) = run.tool_call.clone() {
            if name == "handoff_to_human" {
                return handoff(env, p, &meta, &cfg, reason::MODEL_REQUEST).await;
            }
            if name == "search_knowledge_base" && run.text.is_empty() {
                let q = args["query"].as_str().unwrap_or(&question.text).to_string();
                let more = retrieve(p, &tenant_id, &cfg.ai, &q).await?;
                let result = json!({ "passages": more.hits.iter().enumerate().map(|(i, h)| json!({"n": i + 1, "title": h.passage.title, "text": h.passage.text})).collect::<Vec<_>>() });
                req.tool_result = Some((name, args, result));
                req.tools.clear();
                hits = more.hits;
                match resilience::run(
                    p,
                    r,
                    &req,
                    cfg.ai.first_token_timeout_ms as i64,
                    cfg.ai.total_timeout_ms as i64,
                    &mut delta_sink,
                )
                .await
                {
                    Ok(second) => run = second,
                    Err(f) => {
                        log_failure(p, r, &f);
                        continue;
                    }
                }
            }
        }
        if run.text.trim().is_empty() {
            if matches!(run.finish, Finish::Safety | Finish::Recitation) {
                return handoff(env, p, &meta, &cfg, reason::SAFETY).await;
            }
            continue;
        }
        let citations = citations(&run.text, &hits);
        let meta_json = json!({
            "citations": citations,
            "model": run.model,
            "provider": r.kind.as_str(),
            "usage": { "input_tokens": run.usage.input_tokens, "output_tokens": run.usage.output_tokens },
            "latency_ms": p.now_ms() - started,
            "incomplete": run.cut,
            "truncated": run.finish == Finish::MaxTokens,
        });
        if cacheable && !run.cut {
            store_cache(p, &cache_key, &run.text, &citations, &run.model, r.kind).await;
        }
        finish(
            env,
            p,
            reply_to,
            &run.text,
            meta_json,
            &tenant_id,
            &day,
            Some(&run.usage),
        )
        .await?;
        if cfg.ai.model_analysis {
            refine_analysis(p, r, &meta, reply_to, &question.text).await;
        }
        return Ok(());
    }

    // The offline responder: quote the knowledge base, or hand off when it has nothing.
    let offline_answer = if small_talk {
        Some((
            if local.intent == "thanks" {
                "You're welcome! Anything else I can help with?"
            } else {
                "Hi! How can I help you today?"
            }
            .to_string(),
            Vec::new(),
        ))
    } else {
        offline::answer(&question.text, &retrieval.hits)
    };
    let Some((text, used)) = offline_answer else {
        return handoff(env, p, &meta, &cfg, reason::LOW_CONFIDENCE).await;
    };
    stream_text(env, reply_to, &text);
    let used_hits: Vec<Hit> = used
        .iter()
        .filter_map(|i| retrieval.hits.get(*i).cloned())
        .collect();
    let citations = citation_list(&used_hits);
    if cacheable {
        store_cache(
            p,
            &cache_key,
            &text,
            &citations,
            "offline",
            ProviderKind::Offline,
        )
        .await;
    }
    let meta_json = json!({ "citations": citations, "model": "offline", "provider": "offline", "latency_ms": p.now_ms() - started, "confidence": retrieval.confidence });
    finish(env, p, reply_to, &text, meta_json, &tenant_id, &day, None).await
}

/// Provider failures are logged (never shown to the customer, who gets the next provider's answer).
fn log_failure(p: &Platform, r: &Resolved, f: &resilience::Failure) {
    let error = match f {
        resilience::Failure::BeforeAnswer(e) => e.message.clone(),
        resilience::Failure::Skipped => "circuit open".to_string(),
    };
    let line = json!({ "level": "warn", "msg": "ai provider failed", "provider": r.kind.as_str(), "model": r.model, "error": error });
    p.log.log(&line.to_string());
}

fn client_id(reply_to: i64) -> String {
    format!("ai:{reply_to}")
}

/// Pre-answer escalation rules (the model can still call `handoff_to_human` later).
async fn escalation(
    p: &Platform,
    cfg: &TenantConfig,
    meta: &Meta,
    text: &str,
    a: &Analysis,
) -> ApiResult<Option<&'static str>> {
    let lower = text.to_lowercase();
    let words = crate::knowledge::text::words(&lower);
    let keyword = cfg.escalation.keywords.iter().any(|k| {
        let k = k.to_lowercase();
        if k.contains(' ') {
            lower.contains(&k)
        } else {
            words.contains(&k)
        }
    });
    if a.intent == "human_request" || keyword {
        return Ok(Some(reason::CUSTOMER_REQUEST));
    }
    if cfg.escalation.max_ai_turns > 0 && meta.ai_turns >= cfg.escalation.max_ai_turns as i64 {
        return Ok(Some(reason::MAX_TURNS));
    }
    if cfg.escalation.negative_turns > 0 {
        let rows = p
            .db()?
            .query(
                "SELECT sentiment FROM message_analysis WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT ?2",
                &params![meta.conversation_id.as_str(), cfg.escalation.negative_turns],
            )
            .await?;
        let streak = rows.len() as u32 == cfg.escalation.negative_turns
            && rows
                .iter()
                .all(|r| r.real("sentiment").unwrap_or(0.0) <= -0.3);
        if streak {
            return Ok(Some(reason::NEGATIVE_SENTIMENT));
        }
    }
    Ok(None)
}

/// The embedder for the tenant's index (so queries match the stored vectors' model).
pub async fn embedder(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
) -> ApiResult<Box<dyn Embedder>> {
    let index_model = crate::knowledge::store::state(p.db()?, tenant_id)
        .await?
        .map(|(_, m)| m);
    configured_embedder(p, tenant_id, ai, index_model.as_deref()).await
}

/// The embedder for `index_model` when an index exists, else the one the configuration asks for
/// (its `embedding` provider, or the first remote provider with a key, or the built-in one).
pub async fn configured_embedder(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
    index_model: Option<&str>,
) -> ApiResult<Box<dyn Embedder>> {
    let providers = config::resolve(p, tenant_id, ai).await?;
    let wanted = match (index_model, ai.embedding) {
        (Some(m), _) if m == LOCAL_MODEL => None,
        (Some(m), _) if m.starts_with(super::providers::gemini::EMBEDDING_MODEL) => {
            providers.iter().find(|r| r.kind == ProviderKind::Gemini)
        }
        (Some(_), _) => providers.iter().find(|r| r.kind == ProviderKind::Openai),
        (None, Some(ProviderKind::Offline)) => None,
        (None, Some(kind)) => providers.iter().find(|r| r.kind == kind),
        (None, None) => providers.first(),
    };
    Ok(match (wanted, p.http.clone()) {
        (Some(r), Some(http)) => remote_embedder(r, http, p),
        _ => Box::new(LocalEmbedder),
    })
}

fn remote_embedder(
    r: &Resolved,
    http: std::rc::Rc<dyn crate::ports::HttpClient>,
    p: &Platform,
) -> Box<dyn Embedder> {
    let c = &p.config;
    match r.kind {
        ProviderKind::Gemini => Box::new(super::providers::gemini::GeminiEmbedder {
            http,
            timer: p.timer.clone(),
            base_url: r.base_url.clone(),
            api_key: r.api_key.clone(),
        }),
        _ => Box::new(super::providers::openai::OpenAiEmbedder {
            http,
            timer: p.timer.clone(),
            base_url: r.base_url.clone(),
            api_key: r.api_key.clone(),
            model: c
                .get("openai_embedding_model")
                .unwrap_or(super::providers::openai::DEFAULT_EMBEDDING_MODEL)
                .to_string(),
        }),
    }
}

/// Knowledge retrieval for one question, falling back to keyword search when embedding fails.
pub async fn retrieve(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
    q: &str,
) -> ApiResult<SearchResult> {
    let e = embedder(p, tenant_id, ai).await?;
    match search::search(p, &*e, tenant_id, q, 5).await {
        Ok(r) => Ok(r),
        // An embedding provider failure must not silence the assistant: keyword search alone.
        Err(_) => search::search(p, &LocalEmbedder, tenant_id, q, 5).await,
    }
}

/// Sends a prepared answer as a few deltas, so clients render it like a streamed one.
fn stream_text(env: &ObjectEnv<'_>, reply_to: i64, text: &str) {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    for chunk in words.chunks(4) {
        env.fan_out_ai_delta(reply_to, &chunk.concat());
    }
}

fn citation_list(hits: &[Hit]) -> Value {
    Value::Array(
        hits.iter()
            .enumerate()
            .map(|(i, h)| json!({ "n": i + 1, "document_id": h.passage.document_id, "chunk_id": h.passage.chunk_id, "title": h.passage.title, "url": h.passage.source_url }))
            .collect(),
    )
}

/// The passages an answer cites by `[n]`; the best one when it cites none.
fn citations(text: &str, hits: &[Hit]) -> Value {
    let mut used: Vec<Hit> = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        if text.contains(&format!("[{}]", i + 1)) {
            used.push(h.clone());
        }
    }
    if used.is_empty() {
        used.extend(hits.first().cloned());
    }
    citation_list(&used)
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    env: &ObjectEnv<'_>,
    p: &Platform,
    reply_to: i64,
    text: &str,
    meta: Value,
    tenant_id: &str,
    day: &str,
    used: Option<&Usage>,
) -> ApiResult<()> {
    engine::post(
        env,
        &Participant::Ai,
        &client_id(reply_to),
        text,
        Some(meta),
    )
    .await?;
    let mut stmts = vec![usage::add(tenant_id, day, "ai_answers", 1)];
    if let Some(u) = used {
        stmts.push(usage::add(tenant_id, day, usage::PROVIDER_ANSWERS, 1));
        stmts.push(usage::add(
            tenant_id,
            day,
            "ai_tokens_in",
            u.input_tokens as i64,
        ));
        stmts.push(usage::add(
            tenant_id,
            day,
            "ai_tokens_out",
            u.output_tokens as i64,
        ));
    }
    p.db()?.batch(stmts).await?;
    Ok(())
}

/// After an answer failed for a reason other than the providers (which fall back on their
/// own): hand the conversation to a human rather than leave the customer unanswered. Does
/// nothing when the conversation no longer waits for the AI.
pub async fn hand_off_after_failure(env: &ObjectEnv<'_>, p: &Platform) -> ApiResult<()> {
    let Some(meta) = store::load_meta(env.store, env.name).await? else {
        return Ok(());
    };
    if !meta.status.ai_answers() {
        return Ok(());
    }
    let cfg = match p.db() {
        Ok(db) => tenants::config(db, &meta.tenant_id)
            .await
            .map(|(c, _)| c)
            .unwrap_or_default(),
        Err(_) => TenantConfig::default(),
    };
    handoff(env, p, &meta, &cfg, reason::AI_ERROR).await
}

/// Hands the conversation to a human: status, a notice to the customer, and routing.
pub async fn handoff(
    env: &ObjectEnv<'_>,
    p: &Platform,
    meta: &Meta,
    cfg: &TenantConfig,
    why: &'static str,
) -> ApiResult<()> {
    let ai = Participant::System { id: "ai".into() };
    engine::set_status(env, &ai, Status::PendingHuman, Some(why.into())).await?;
    let notice = if cfg.is_open_at(p.now_ms()) {
        "I'm connecting you with a member of our team — they'll reply right here shortly."
    } else {
        "Our team is offline right now, but they'll reply right here as soon as they're back."
    };
    engine::post(
        env,
        &Participant::Ai,
        &format!("handoff:{}", meta.last_seq),
        notice,
        Some(json!({ "handoff": why })),
    )
    .await?;
    if let Some(objects) = p.objects.as_deref() {
        let route = crate::objects::inbox::RouteRequest {
            conversation_id: meta.conversation_id.clone(),
            skills: meta.tags.clone(),
        };
        let mut req = crate::http::Request::new(crate::http::Method::Post, "https://inbox/route");
        req.body = serde_json::to_vec(&route).unwrap_or_default();
        if let Ok(resp) = objects
            .call(
                &crate::conversations::client::inbox_ref(&meta.tenant_id),
                req,
            )
            .await
        {
            let routed: Option<crate::objects::inbox::RouteResponse> = resp.json_body();
            if let Some(agent) = routed.and_then(|r| r.assignee) {
                engine::assign(
                    env,
                    &Participant::System {
                        id: "router".into(),
                    },
                    Some(Author {
                        kind: AuthorKind::Agent,
                        ..agent
                    }),
                )
                .await?;
            }
        }
    }
    Ok(())
}

async fn store_analysis(
    p: &Platform,
    meta: &Meta,
    seq: i64,
    a: &Analysis,
    source: &str,
) -> ApiResult<()> {
    p.db()?
        .execute(
            "INSERT INTO message_analysis (tenant_id, conversation_id, seq, sentiment, intent, topics, language, source, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (conversation_id, seq) DO UPDATE SET sentiment = excluded.sentiment, intent = excluded.intent,
               topics = excluded.topics, language = excluded.language, source = excluded.source",
            &params![
                meta.tenant_id.as_str(), meta.conversation_id.as_str(), seq, a.sentiment as f64, a.intent.as_str(),
                serde_json::to_string(&a.topics).unwrap_or_else(|_| "[]".into()), a.language.as_str(), source, p.now_ms()
            ],
        )
        .await?;
    Ok(())
}

/// The model's JSON-mode analysis replaces the local one when it is valid.
async fn refine_analysis(p: &Platform, r: &Resolved, meta: &Meta, seq: i64, text: &str) {
    let req = ChatRequest {
        system: analysis::model_prompt(),
        messages: vec![super::providers::ChatMessage {
            role: super::providers::Role::User,
            text: text.to_string(),
        }],
        tools: Vec::new(),
        temperature: 0.0,
        max_output_tokens: 200,
        json: true,
        tool_result: None,
    };
    let mut sink = |_: &str| {};
    if let Ok(run) = resilience::run(p, r, &req, 8_000, 15_000, &mut sink).await {
        if let Some(a) = analysis::from_model_json(&run.text) {
            let _ = store_analysis(p, meta, seq, &a, "model").await;
        }
    }
}

/// True when the only message the model would see is the question itself.
fn prompt_is_question_alone(history: &[MessageView], reply_to: i64) -> bool {
    let mut shown = history.iter().filter(|m| {
        matches!(
            m.author.kind,
            AuthorKind::Customer | AuthorKind::Ai | AuthorKind::Agent
        )
    });
    matches!((shown.next(), shown.next()), (Some(q), None) if q.seq == reply_to)
}

/// Everything a cacheable prompt is made of, hashed into the answer cache key.
struct AnswerKey<'a> {
    tenant_id: &'a str,
    kb_version: i64,
    /// Persona, language, instructions and AI settings all live in the versioned config.
    config_version: i64,
    /// The system prompt says when the team is offline.
    open_now: bool,
    provider: Option<&'a Resolved>,
    question: &'a str,
}

impl std::fmt::Display for AnswerKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Case, spacing and closing punctuation do not change what is asked; every other
        // character does (a normalisation that dropped words could let one visitor's planted
        // instructions answer another visitor's question).
        let lower = self.question.to_lowercase();
        let q = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        let q = q.trim_end_matches(['?', '!', '.', ' ']);
        let provider = self
            .provider
            .map(|r| format!("{}|{}|{}", r.kind.as_str(), r.base_url, r.model))
            .unwrap_or_else(|| "offline".into());
        let mut h = Sha256::new();
        for part in [provider.as_str(), q] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        write!(
            f,
            "ai:answer:{}:{}:{}:{}:{}",
            self.tenant_id,
            self.kb_version,
            self.config_version,
            u8::from(self.open_now),
            hex::encode(&h.finalize()[..16])
        )
    }
}

async fn cached(p: &Platform, key: &str) -> Option<Value> {
    let bytes = p.kv.as_ref()?.get(key).await.ok().flatten()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    // Entries carry their own expiry: not every key-value store expires keys.
    (v["expires_at"].as_i64().unwrap_or(0) > p.now_ms()).then_some(v)
}

async fn store_cache(
    p: &Platform,
    key: &str,
    text: &str,
    citations: &Value,
    model: &str,
    provider: ProviderKind,
) {
    if let Some(kv) = p.kv.as_ref() {
        let v = json!({ "text": text, "citations": citations, "model": model, "provider": provider.as_str(), "expires_at": p.now_ms() + CACHE_TTL_SECS as i64 * 1000 });
        let _ = kv
            .put(key, v.to_string().as_bytes(), Some(CACHE_TTL_SECS))
            .await;
    }
}

impl ObjectEnv<'_> {
    /// Streams a piece of an AI answer to every connection (and keeps the draft for SSE).
    pub fn fan_out_ai_delta(&self, reply_to: i64, text: &str) {
        let frame = ServerFrame::AiDelta {
            reply_to,
            text: text.to_string(),
        }
        .to_text();
        for c in self.hub.connections() {
            self.hub.send(&c.id, &frame);
        }
    }
}
