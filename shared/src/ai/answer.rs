//! The answer pipeline, run inside the conversation object after a customer message. Its steps,
//! in order, each a function below:
//!
//! 1. `Turn::load`: the question, the conversation so far and the tenant's settings (nothing
//!    to do when AI answers are off, the question is gone or already answered);
//! 2. analysis, then the escalation rules ([`super::handoff::escalation`]);
//! 3. providers within the daily quota, and retrieval (hand off when nothing answers);
//! 4. the answer cache, for prompts it may serve ([`super::answer_cache`]);
//! 5. the provider chain, streaming `ai.delta` frames (`Turn::ask_providers`);
//! 6. the offline responder (`Turn::answer_offline`).
//!
//! The customer's message is already persisted before any of this runs; whatever the providers
//! do, the customer gets an answer or a handoff notice.

use super::analysis::{self, Analysis, Intent};
use super::answer_cache::{self, AnswerKey, CachedAnswer};
use super::config::{self, Resolved};
use super::handoff::{escalation, handoff, HandoffReason};
use super::phrases::{say, Phrase};
use super::providers::{assistant_tools, offline, ChatRequest, Finish, ProviderKind, Role, Usage};
use super::retrieval::retrieve;
use super::{prompt, resilience, usage};
use crate::conversations::engine::{self, ObjectEnv};
use crate::conversations::model::{AuthorKind, Meta, Participant};
use crate::conversations::protocol::{MessageView, ServerFrame};
use crate::conversations::store;
use crate::error::ApiResult;
use crate::knowledge::search::{Hit, SearchResult};
use crate::params;
use crate::platform::Platform;
use crate::ports::Statement;
use crate::tenancy::quotas::Quotas;
use crate::tenancy::{flags, store as tenants, Tenant, TenantConfig};
use serde_json::{json, Value};

/// Answers customer message `reply_to` (idempotent: a second run for the same message does
/// nothing).
pub async fn answer(env: &ObjectEnv<'_>, p: &Platform, reply_to: i64) -> ApiResult<()> {
    let Some(turn) = Turn::load(env, p, reply_to).await? else {
        return Ok(());
    };
    let local = turn.analyse().await?;
    if let Some(why) = escalation(p, &turn.cfg, &turn.meta, &turn.question.text, &local).await? {
        return turn.hand_off(why).await;
    }
    let providers = turn.providers().await?;
    // A photo with a question goes to a model that sees it; the knowledge base's confidence
    // cannot judge an image, and a cached answer to the same words would be about another one.
    let images = if providers.iter().any(|r| r.kind == ProviderKind::Gemini) {
        super::images::of_question(p, &turn.meta.tenant_id, &turn.question).await
    } else {
        Vec::new()
    };
    let small_talk = local.intent.is_small_talk() && images.is_empty();
    // With the knowledge base switched off, providers answer from the persona and instructions
    // alone (no confidence to gate on); the built-in responder has nothing to say and hands over.
    let grounded = flags::enabled(p, &turn.meta.tenant_id, "knowledge_base").await?;
    let retrieval = if grounded {
        retrieve(p, &turn.meta.tenant_id, &turn.cfg.ai, &turn.question.text).await?
    } else {
        crate::knowledge::search::SearchResult::empty()
    };
    if !small_talk
        && images.is_empty()
        && (grounded || providers.is_empty())
        && retrieval.confidence < turn.cfg.escalation.min_confidence as f32
    {
        return turn.hand_off(HandoffReason::LowConfidence).await;
    }
    let cache_key = (!small_talk
        && images.is_empty()
        && answer_cache::prompt_is_question_alone(&turn.history, reply_to))
    .then(|| turn.cache_key(&retrieval, providers.first()));
    if let Some(key) = &cache_key {
        if let Some(hit) = answer_cache::cached(p, key).await {
            return turn.reply_from_cache(hit).await;
        }
    }
    match turn
        .ask_providers(&providers, &retrieval, cache_key.as_deref(), &images)
        .await?
    {
        Asked::Answered => Ok(()),
        Asked::HandOff(why) => turn.hand_off(why).await,
        Asked::NoAnswer => {
            // Analytics counts offline answers given because a configured provider failed.
            let fallback = providers.iter().any(|r| r.kind != ProviderKind::Offline);
            turn.answer_offline(
                &retrieval,
                &local,
                small_talk,
                cache_key.as_deref(),
                fallback,
            )
            .await
        }
    }
}

/// What the provider chain came to.
enum Asked {
    Answered,
    HandOff(HandoffReason),
    /// No provider answered (none configured, all failed, or empty answers).
    NoAnswer,
}

/// Everything one answer is worked out from.
struct Turn<'a, 'e> {
    env: &'a ObjectEnv<'e>,
    p: &'a Platform,
    meta: Meta,
    reply_to: i64,
    question: MessageView,
    /// The conversation up to the question, as the model sees it.
    history: Vec<MessageView>,
    cfg: TenantConfig,
    config_version: i64,
    tenant: Tenant,
    started: i64,
    day: String,
}

impl<'a, 'e> Turn<'a, 'e> {
    /// `None` when there is nothing to answer.
    async fn load(
        env: &'a ObjectEnv<'e>,
        p: &'a Platform,
        reply_to: i64,
    ) -> ApiResult<Option<Turn<'a, 'e>>> {
        let Some(meta) = env.try_meta().await? else {
            return Ok(None);
        };
        if !meta.status.ai_answers() {
            return Ok(None);
        }
        // The switch first: it is in memory, and a tenant with AI answers off pays nothing more
        // per customer message.
        let features = flags::effective_cached(p, &meta.tenant_id).await?;
        if !features.get("ai_answers").copied().unwrap_or(false) {
            return Ok(None);
        }
        let recent = store::messages_before(env.store, env.name, i64::MAX, 40).await?;
        let Some(question) = recent
            .iter()
            .find(|m| m.seq == reply_to && m.author.kind == AuthorKind::Customer)
            .cloned()
        else {
            return Ok(None);
        };
        // A later customer message gets its own answer; an already answered one gets none.
        let superseded = recent
            .iter()
            .any(|m| m.seq > reply_to && m.author.kind == AuthorKind::Customer);
        if superseded
            || store::by_client_id(env.store, env.name, "ai", &client_id(reply_to))
                .await?
                .is_some()
        {
            return Ok(None);
        }
        let db = p.db()?;
        let (cfg, config_version) = tenants::config(db, &meta.tenant_id).await?;
        let tenant = tenants::get_required(db, &meta.tenant_id).await?;
        let history = recent.into_iter().filter(|m| m.seq <= reply_to).collect();
        Ok(Some(Turn {
            env,
            p,
            meta,
            reply_to,
            question,
            history,
            cfg,
            config_version,
            tenant,
            started: p.now_ms(),
            day: crate::time::utc_day(p.now_ms()),
        }))
    }

    /// The local analysis, stored for analytics (a model's JSON mode refines it later).
    async fn analyse(&self) -> ApiResult<Analysis> {
        let local = analysis::local(&self.question.text, &self.cfg.language);
        store_analysis(self.p, &self.meta, self.reply_to, &local, "local").await?;
        Ok(local)
    }

    async fn hand_off(&self, why: HandoffReason) -> ApiResult<()> {
        self.hand_off_suggesting(why, None).await
    }

    /// Hands off, offering a help page that may be related meanwhile (with its sentences nearest
    /// the question).
    async fn hand_off_suggesting(
        &self,
        why: HandoffReason,
        related: Option<(&Hit, &str)>,
    ) -> ApiResult<()> {
        handoff(
            self.env,
            self.p,
            &self.meta,
            &self.cfg,
            why,
            self.language(),
            related,
        )
        .await
    }

    /// The language the responder speaks to this customer (its fixed phrases).
    fn language(&self) -> &'static str {
        let detected = analysis::detect_language(&self.question.text, &self.cfg.language);
        super::phrases::language(
            self.meta.language.as_deref(),
            Some(&detected),
            &self.cfg.language,
        )
    }

    /// The providers to try, none once the day's quota of paid answers is used.
    async fn providers(&self) -> ApiResult<Vec<Resolved>> {
        let providers = config::resolve(self.p, &self.meta.tenant_id, &self.cfg.ai).await?;
        let quota =
            Quotas::for_tier(self.tenant.tier, self.tenant.limits.as_ref()).ai_answers_per_day;
        let used = usage::get(
            self.p.db()?,
            &self.meta.tenant_id,
            &self.day,
            usage::PROVIDER_ANSWERS,
        )
        .await?;
        Ok(if used >= quota { Vec::new() } else { providers })
    }

    fn open_now(&self) -> bool {
        self.cfg.is_open_at(self.p.now_ms())
    }

    fn cache_key(&self, retrieval: &SearchResult, provider: Option<&Resolved>) -> String {
        AnswerKey {
            tenant_id: &self.meta.tenant_id,
            kb_version: retrieval.kb_version,
            config_version: self.config_version,
            open_now: self.open_now(),
            provider,
            question: &self.question.text,
            language: self.language(),
        }
        .to_string()
    }

    async fn reply_from_cache(&self, hit: CachedAnswer) -> ApiResult<()> {
        stream_text(self.env, self.reply_to, &hit.text);
        let meta = json!({ "citations": hit.citations, "model": hit.model, "provider": hit.provider, "cached": true, "latency_ms": self.p.now_ms() - self.started });
        self.finish(&hit.text, meta, None).await
    }

    /// Tries each provider in turn (one round of the knowledge-base tool each).
    async fn ask_providers(
        &self,
        providers: &[Resolved],
        retrieval: &SearchResult,
        cache_key: Option<&str>,
        images: &[super::providers::InlineImage],
    ) -> ApiResult<Asked> {
        let (p, cfg) = (self.p, &self.cfg);
        let mut delta_sink = |t: &str| self.env.fan_out_ai_delta(self.reply_to, t);
        for r in providers {
            let mut req = ChatRequest {
                system: prompt::system(cfg, &self.tenant.name, self.open_now()),
                messages: prompt::messages(&self.history, &retrieval.hits),
                tools: assistant_tools(),
                temperature: cfg.ai.temperature,
                max_output_tokens: cfg.ai.max_output_tokens,
                json: false,
                tool_result: None,
            };
            if r.kind == ProviderKind::Gemini {
                if let Some(last) = req.messages.iter_mut().rev().find(|m| m.role == Role::User) {
                    last.images = images.to_vec();
                }
            }
            let (first_ms, total_ms) = (
                cfg.ai.first_token_timeout_ms as i64,
                cfg.ai.total_timeout_ms as i64,
            );
            let mut hits = retrieval.hits.clone();
            let mut run =
                match resilience::run(p, r, &req, first_ms, total_ms, &mut delta_sink).await {
                    Ok(run) => run,
                    Err(f) => {
                        log_failure(p, r, &f);
                        continue;
                    }
                };
            if let Some((name, args)) = run.tool_call.clone() {
                if name == "handoff_to_human" {
                    return Ok(Asked::HandOff(HandoffReason::ModelRequest));
                }
                if name == "search_knowledge_base" && run.text.is_empty() {
                    let q = args
                        .get("query")
                        .and_then(Value::as_str)
                        .unwrap_or(&self.question.text)
                        .to_string();
                    let more = retrieve(p, &self.meta.tenant_id, &cfg.ai, &q).await?;
                    req.tool_result = Some((name, args, passages(&more.hits)));
                    req.tools.clear();
                    hits = more.hits;
                    match resilience::run(p, r, &req, first_ms, total_ms, &mut delta_sink).await {
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
                    return Ok(Asked::HandOff(HandoffReason::Safety));
                }
                continue;
            }
            let citations = citations(&run.text, &hits);
            let meta = json!({
                "citations": citations,
                "model": run.model,
                "provider": r.kind.as_str(),
                "usage": { "input_tokens": run.usage.input_tokens, "output_tokens": run.usage.output_tokens },
                "latency_ms": p.now_ms() - self.started,
                "incomplete": run.cut,
                "truncated": run.finish == Finish::MaxTokens,
            });
            if let (Some(key), false) = (cache_key, run.cut) {
                answer_cache::store_cache(p, key, &run.text, &citations, &run.model, r.kind).await;
            }
            self.finish(&run.text, meta, Some(&run.usage)).await?;
            if cfg.ai.model_analysis {
                refine_analysis(p, r, &self.meta, self.reply_to, &self.question.text).await;
            }
            return Ok(Asked::Answered);
        }
        Ok(Asked::NoAnswer)
    }

    /// The offline responder: quote the knowledge base, or hand off when it has nothing.
    async fn answer_offline(
        &self,
        retrieval: &SearchResult,
        local: &Analysis,
        small_talk: bool,
        cache_key: Option<&str>,
        fallback: bool,
    ) -> ApiResult<()> {
        let lang = self.language();
        // The customer writes in another language than the tenant's (and its knowledge base's).
        let translated = self.cfg.language.split('-').next() != Some(lang);
        let hits = if small_talk {
            retrieval.hits.clone()
        } else {
            self.with_top_document(&retrieval.hits).await?
        };
        let offline_answer = if small_talk {
            let phrase = if local.intent == Intent::Thanks {
                Phrase::Thanks
            } else {
                Phrase::Greeting
            };
            Some((say(phrase, lang).to_string(), Vec::new()))
        } else {
            match offline::reply(&retrieval.query, &hits, translated) {
                Ok(a) => Some(a),
                Err(related) => {
                    let related = related
                        .as_ref()
                        .and_then(|r| hits.get(r.hit).map(|h| (h, r.quote.as_str())));
                    return self
                        .hand_off_suggesting(HandoffReason::LowConfidence, related)
                        .await;
                }
            }
            .map(|(quoted, used)| {
                // Acknowledge, then the help pages' own words (which may be in the tenant's
                // language rather than the customer's; not when the tenant also wrote the
                // page in the customer's language and that page answered).
                let quote_elsewhere = || {
                    analysis::detect_language(&quoted, &self.cfg.language)
                        .split('-')
                        .next()
                        != Some(lang)
                };
                let lead = if translated && quote_elsewhere() {
                    Phrase::LeadInOtherLanguage
                } else {
                    Phrase::LeadIn
                };
                (format!("{}\n\n{quoted}", say(lead, lang)), used)
            })
        };
        let Some((text, used)) = offline_answer else {
            return self.hand_off(HandoffReason::LowConfidence).await;
        };
        stream_text(self.env, self.reply_to, &text);
        let used_hits: Vec<Hit> = used.iter().filter_map(|i| hits.get(*i).cloned()).collect();
        let citations = citation_list(&used_hits);
        if let Some(key) = cache_key {
            answer_cache::store_cache(
                self.p,
                key,
                &text,
                &citations,
                "offline",
                ProviderKind::Offline,
            )
            .await;
        }
        let meta = json!({ "citations": citations, "model": "offline", "provider": "offline", "latency_ms": self.p.now_ms() - self.started, "confidence": retrieval.confidence, "fallback": fallback });
        self.finish(&text, meta, None).await
    }

    /// `hits` followed by the best hit's document's other passages (the built-in responder
    /// reads them too; see [`crate::knowledge::store::document_passages`]).
    async fn with_top_document(&self, hits: &[Hit]) -> ApiResult<Vec<Hit>> {
        let mut out = hits.to_vec();
        let Some(top) = hits.first() else {
            return Ok(out);
        };
        let more = crate::knowledge::store::document_passages(
            self.p.db()?,
            &self.meta.tenant_id,
            &top.passage.document_id,
            offline::DOCUMENT_PASSAGES,
        )
        .await?;
        for passage in more {
            if out.iter().all(|h| h.passage.chunk_id != passage.chunk_id) {
                out.push(Hit {
                    passage,
                    score: 0.0,
                    similarity: None,
                    keyword_rank: None,
                });
            }
        }
        Ok(out)
    }

    /// Posts the answer and meters it.
    async fn finish(&self, text: &str, meta: Value, used: Option<&Usage>) -> ApiResult<()> {
        engine::post(
            self.env,
            &Participant::Ai,
            &client_id(self.reply_to),
            text,
            Some(meta),
        )
        .await?;
        let (tenant_id, day) = (self.meta.tenant_id.as_str(), self.day.as_str());
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
        self.p.db()?.batch(stmts).await?;
        Ok(())
    }
}

/// The knowledge-base tool's result for the model.
fn passages(hits: &[Hit]) -> Value {
    json!({ "passages": hits.iter().enumerate().map(|(i, h)| json!({"n": i + 1, "title": h.passage.title, "text": h.passage.text})).collect::<Vec<_>>() })
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

/// Sends a prepared answer as a few deltas, so clients render it like a streamed one.
fn stream_text(env: &ObjectEnv<'_>, reply_to: i64, text: &str) {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    for chunk in words.chunks(4) {
        env.fan_out_ai_delta(reply_to, &chunk.concat());
    }
}

pub(super) fn citation_list(hits: &[Hit]) -> Value {
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

async fn store_analysis(
    p: &Platform,
    meta: &Meta,
    seq: i64,
    a: &Analysis,
    source: &str,
) -> ApiResult<()> {
    // The intent rollup loses the row's old reading and gains the new one in the same batch.
    let (c, rollup) = (
        meta.conversation_id.as_str(),
        crate::analytics::rollup::analysis,
    );
    p.db()?
        .batch(vec![
            rollup(c, seq, meta.channel.as_str(), -1),
            Statement::new(
                "INSERT INTO message_analysis (tenant_id, conversation_id, seq, sentiment, intent, topics, language, source, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (conversation_id, seq) DO UPDATE SET sentiment = excluded.sentiment, intent = excluded.intent,
                   topics = excluded.topics, language = excluded.language, source = excluded.source",
                params![
                    meta.tenant_id.as_str(), c, seq, a.sentiment as f64, a.intent.as_str(),
                    serde_json::to_string(&a.topics).unwrap_or_else(|_| "[]".into()), a.language.as_str(), source, p.now_ms()
                ],
            ),
            rollup(c, seq, meta.channel.as_str(), 1),
        ])
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
            images: Vec::new(),
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
            if let Some(lead) = &a.lead {
                crate::leads::capture::from_ai(p, meta, text, lead).await;
            }
        }
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
