//! When the AI hands a conversation to a person, and how: the status moves, the customer is
//! told, and the tenant's inbox routes it to the best online agent.

use super::analysis::{Analysis, Intent};
use crate::conversations::engine::{self, ObjectEnv};
use crate::conversations::model::{Author, AuthorKind, Meta, Participant, Status};
use crate::error::ApiResult;
use crate::knowledge::search::Hit;
use crate::params;
use crate::platform::Platform;
use crate::tenancy::{store as tenants, TenantConfig};
use serde_json::json;

/// Why the AI handed over to a human (recorded on the conversation as `handoff_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoffReason {
    /// The customer asked for a person (intent or an escalation keyword).
    CustomerRequest,
    /// Nothing in the knowledge base answers confidently.
    LowConfidence,
    /// Several negative messages in a row.
    NegativeSentiment,
    /// The model called `handoff_to_human`.
    ModelRequest,
    /// The AI answered as many turns in a row as the tenant allows.
    MaxTurns,
    /// The provider blocked the prompt or the answer.
    Safety,
    /// The answer could not be produced (storage or internal failure): a person takes over.
    AiError,
}

impl HandoffReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::CustomerRequest => "customer_request",
            HandoffReason::LowConfidence => "low_confidence",
            HandoffReason::NegativeSentiment => "negative_sentiment",
            HandoffReason::ModelRequest => "model_request",
            HandoffReason::MaxTurns => "max_turns",
            HandoffReason::Safety => "safety_block",
            HandoffReason::AiError => "ai_error",
        }
    }
}

/// Pre-answer escalation rules (the model can still call `handoff_to_human` later).
pub async fn escalation(
    p: &Platform,
    cfg: &TenantConfig,
    meta: &Meta,
    text: &str,
    a: &Analysis,
) -> ApiResult<Option<HandoffReason>> {
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
    if a.intent == Intent::HumanRequest || keyword {
        return Ok(Some(HandoffReason::CustomerRequest));
    }
    if cfg.escalation.max_ai_turns > 0 && meta.ai_turns >= cfg.escalation.max_ai_turns as i64 {
        return Ok(Some(HandoffReason::MaxTurns));
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
            return Ok(Some(HandoffReason::NegativeSentiment));
        }
    }
    Ok(None)
}

/// After an answer failed for a reason other than the providers (which fall back on their
/// own): hand the conversation to a human rather than leave the customer unanswered. Does
/// nothing when the conversation no longer waits for the AI.
pub async fn hand_off_after_failure(env: &ObjectEnv<'_>, p: &Platform) -> ApiResult<()> {
    let Some(meta) = env.try_meta().await? else {
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
    let lang = super::phrases::language(meta.language.as_deref(), None, &cfg.language);
    handoff(env, p, &meta, &cfg, HandoffReason::AiError, lang, None).await
}

/// Hands the conversation to a human: status, a notice to the customer, and routing.
pub async fn handoff(
    env: &ObjectEnv<'_>,
    p: &Platform,
    meta: &Meta,
    cfg: &TenantConfig,
    why: HandoffReason,
    lang: &str,
    related: Option<(&Hit, &str)>,
) -> ApiResult<()> {
    use super::phrases::{say, Phrase};
    let team = crate::tenancy::flags::enabled(p, &meta.tenant_id, "human_handoff").await?;
    let ai = Participant::System { id: "ai".into() };
    if team {
        engine::set_status(env, &ai, Status::PendingHuman, Some(why.as_str().into())).await?;
    }
    let mut notice = if !team {
        // No team to hand to: the conversation stays with the assistant, which says so.
        say(Phrase::NoTeam, lang)
    } else if cfg.is_open_at(p.now_ms()) {
        say(Phrase::HandoffOpen, lang)
    } else {
        say(Phrase::HandoffClosed, lang)
    }
    .to_string();
    let mut note = if team {
        json!({ "handoff": why.as_str() })
    } else {
        json!({ "unanswered": why.as_str() })
    };
    // Something to read while a person takes over: the help page the responder was not sure
    // enough to answer with, and its sentences nearest the question (the customer may find the
    // answer there before anyone replies; said as possibly related, never as the answer).
    if let Some((h, quote)) = related {
        let section = h.passage.heading.rsplit(" > ").next().unwrap_or("");
        let place = if section.is_empty() || section == h.passage.title {
            h.passage.title.clone()
        } else {
            format!("{} › {section}", h.passage.title)
        };
        notice = format!("{notice}\n\n{} {place}", say(Phrase::MaybeRelated, lang));
        if !quote.is_empty() {
            notice = format!("{notice}\n\n{quote}");
        }
        note["citations"] = super::answer::citation_list(std::slice::from_ref(h));
    }
    engine::post(
        env,
        &Participant::Ai,
        &format!("handoff:{}", meta.last_seq),
        &notice,
        Some(note),
    )
    .await?;
    if !team {
        return Ok(());
    }
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
