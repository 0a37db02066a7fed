//! The review queue: resolved conversations of the last 30 days no person has reviewed yet,
//! that a reviewer should look at, and why: a low survey score (CSAT at most
//! `quality.low_csat_at`, NPS detractors 0–6, CES 1–3), an escalation (it was handed to a
//! person), or the random sample (`quality.sample_percent`, decided by the conversation id so
//! the queue is stable). Low scores first, then escalations, newest first within each.

use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct QueueItem {
    pub conversation_id: String,
    pub customer_name: Option<String>,
    pub channel: String,
    pub assignee_id: Option<String>,
    /// `low_score`, `escalation`, `sample`.
    pub reasons: Vec<String>,
    pub survey_kind: Option<String>,
    pub survey_score: Option<i64>,
    pub handoff_reason: Option<String>,
    /// The machine review's score, when there is one.
    pub ai_score: Option<f64>,
    pub resolved_at: i64,
}

#[derive(Serialize, JsonSchema)]
pub struct Queue {
    pub items: Vec<QueueItem>,
}

fn low(kind: Option<&str>, score: Option<i64>, csat_at: i64) -> bool {
    match (kind, score) {
        (Some("csat"), Some(s)) => s <= csat_at,
        (Some("nps"), Some(s)) => s <= 6,
        (Some("ces"), Some(s)) => s <= 3,
        _ => false,
    }
}

pub async fn list(p: &Platform, tenant_id: &str, limit: usize) -> ApiResult<Queue> {
    let db = p.db()?;
    let (cfg, _) = crate::tenancy::store::config(db, tenant_id).await?;
    let since = p.now_ms() - 30 * crate::time::DAY_MS;
    let rows = db
        .query(
            "SELECT c.id, c.channel, c.assignee_id, c.handoff_reason, c.updated_at, cu.name AS customer_name,
                    s.kind AS survey_kind, s.score AS survey_score,
                    (SELECT r.score FROM reviews r WHERE r.tenant_id = c.tenant_id AND r.conversation_id = c.id AND r.reviewer_type != 'person' LIMIT 1) AS ai_score
             FROM conversations c
             LEFT JOIN customers cu ON cu.id = c.customer_id AND cu.tenant_id = c.tenant_id
             LEFT JOIN surveys s ON s.tenant_id = c.tenant_id AND s.conversation_id = c.id
             WHERE c.tenant_id = ?1 AND c.status = 'resolved' AND c.updated_at > ?2
               AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.tenant_id = c.tenant_id AND r.conversation_id = c.id AND r.reviewer_type = 'person')
             ORDER BY c.updated_at DESC LIMIT 500",
            &params![tenant_id, since],
        )
        .await?;
    let mut items: Vec<QueueItem> = rows
        .iter()
        .filter_map(|r| {
            let id = r.text("id")?;
            let kind = r.text("survey_kind");
            let score = r.int("survey_score");
            let handoff = r.text("handoff_reason");
            let mut reasons = Vec::new();
            if low(kind.as_deref(), score, i64::from(cfg.quality.low_csat_at)) {
                reasons.push("low_score".to_string());
            }
            if handoff.is_some() {
                reasons.push("escalation".to_string());
            }
            if crate::surveys::trigger::sampled(&format!("review:{id}"), cfg.quality.sample_percent)
            {
                reasons.push("sample".to_string());
            }
            (!reasons.is_empty()).then(|| QueueItem {
                conversation_id: id,
                customer_name: r.text("customer_name"),
                channel: r.text("channel").unwrap_or_default(),
                assignee_id: r.text("assignee_id"),
                reasons,
                survey_kind: kind,
                survey_score: score,
                handoff_reason: handoff,
                ai_score: r.real("ai_score"),
                resolved_at: r.int("updated_at").unwrap_or(0),
            })
        })
        .collect();
    let rank = |i: &QueueItem| match i.reasons.first().map(String::as_str) {
        Some("low_score") => 0,
        Some("escalation") => 1,
        _ => 2,
    };
    items.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.resolved_at.cmp(&a.resolved_at))
    });
    items.truncate(limit);
    Ok(Queue { items })
}
