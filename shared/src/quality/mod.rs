//! Quality management: conversations scored against the tenant's scorecards by reviewers (the
//! `reviewer` role and above hold `reviews:write`), by the AI provider, or, without one, by a
//! deterministic heuristic (each marked as such); a review queue (random sample, low survey
//! scores, escalations); agents reading, acknowledging or disputing their reviews; calibration
//! (how far several reviewers of one conversation, the AI included, are apart).
//!
//! - `scorecard.rs`: scorecards in the tenant config, the built-in one, scoring;
//! - `ai_review.rs`: the rubric prompt and its checked answer; the heuristic;
//! - `queue.rs`: what to review next and why;
//! - `calibration.rs`: the spread between reviews of one conversation.

pub mod ai_review;
pub mod calibration;
pub mod queue;
pub mod scorecard;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::params;
use crate::platform::Platform;
use crate::ports::Row;
use crate::records::{self, FromRow, Listed};
use schemars::JsonSchema;
use scorecard::Scorecard;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One criterion's answer in a review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub criterion: String,
    /// `"yes"`/`"no"` (or true/false) for yes/no criteria, 1..max for scales, `"na"` where
    /// allowed.
    #[schemars(with = "Value")]
    pub value: Value,
    /// Why (required of the AI reviewers, optional for people).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewerType {
    Person,
    /// The workspace's AI provider.
    Ai,
    /// The built-in heuristic (no provider): signals from the conversation, not a reading of it.
    Heuristic,
}

impl ReviewerType {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewerType::Person => "person",
            ReviewerType::Ai => "ai",
            ReviewerType::Heuristic => "heuristic",
        }
    }
    fn parse(s: &str) -> ReviewerType {
        match s {
            "ai" => ReviewerType::Ai,
            "heuristic" => ReviewerType::Heuristic,
            _ => ReviewerType::Person,
        }
    }
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Review {
    pub id: String,
    pub conversation_id: String,
    pub scorecard_id: String,
    /// The tenant config version the scorecard was read from.
    pub config_version: i64,
    pub reviewer_type: ReviewerType,
    /// The reviewing user (or key); `ai` for the AI and heuristic reviewers.
    pub reviewer_id: String,
    /// The provider and model of an AI review.
    pub model: Option<String>,
    /// The agent whose conversation was reviewed (absent: the assistant alone).
    pub agent_id: Option<String>,
    pub answers: Vec<Answer>,
    /// Weighted score, 0–100 (absent when every criterion was N/A).
    pub score: Option<f64>,
    pub comment: Option<String>,
    /// `submitted`, `acknowledged` or `disputed` (by the reviewed agent).
    pub status: String,
    pub agent_response: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub scorecard: Option<Scorecard>,
}

pub const COLUMNS: &str = "id, conversation_id, scorecard_id, scorecard, config_version, reviewer_type, reviewer_id, model, agent_id, answers, score, comment, status, agent_response, created_at, updated_at";

impl FromRow for Review {
    fn from_row(r: &Row) -> ApiResult<Review> {
        Ok(Review {
            id: r
                .text("id")
                .ok_or_else(|| ApiError::internal("corrupt review row"))?,
            conversation_id: r.text("conversation_id").unwrap_or_default(),
            scorecard_id: r.text("scorecard_id").unwrap_or_default(),
            scorecard: r
                .text("scorecard")
                .and_then(|s| serde_json::from_str(&s).ok()),
            config_version: r.int("config_version").unwrap_or(0),
            reviewer_type: ReviewerType::parse(&r.text("reviewer_type").unwrap_or_default()),
            reviewer_id: r.text("reviewer_id").unwrap_or_default(),
            model: r.text("model"),
            agent_id: r.text("agent_id"),
            answers: r
                .text("answers")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            score: r.real("score"),
            comment: r.text("comment"),
            status: r.text("status").unwrap_or_default(),
            agent_response: r.text("agent_response"),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
    }
}

impl Listed for Review {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

/// Who scores: a person (user or key id) or one of the machine reviewers.
pub struct Reviewer {
    pub kind: ReviewerType,
    pub id: String,
    pub model: Option<String>,
}

/// The agent a conversation's review is about: its assignee, else the last agent who wrote.
pub async fn agent_of(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Option<String>> {
    let db = p.db()?;
    let c = crate::conversations::mirror::get(db, tenant_id, conversation_id).await?;
    if c.assignee_id.is_some() {
        return Ok(c.assignee_id);
    }
    let rows = db
        .query(
            "SELECT author_id FROM conversation_messages WHERE tenant_id = ?1 AND conversation_id = ?2 AND author_type = 'agent' ORDER BY seq DESC LIMIT 1",
            &params![tenant_id, conversation_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.text("author_id")))
}

/// Checks every criterion is answered as its kind allows; returns the answers in scorecard
/// order and the weighted score.
pub fn check(scorecard: &Scorecard, answers: &[Answer]) -> ApiResult<(Vec<Answer>, Option<f64>)> {
    if let Some(a) = answers
        .iter()
        .find(|a| !scorecard.criteria.iter().any(|c| c.id == a.criterion))
    {
        return Err(ApiError::validation(
            format!("answers.{}", a.criterion),
            "no such criterion on this scorecard",
        ));
    }
    let mut ordered = Vec::new();
    let mut parts = Vec::new();
    for c in &scorecard.criteria {
        let a = answers
            .iter()
            .find(|a| a.criterion == c.id)
            .ok_or_else(|| ApiError::validation(format!("answers.{}", c.id), "not answered"))?;
        let s = c
            .read(&a.value)
            .map_err(|m| ApiError::validation(format!("answers.{}", c.id), m))?;
        let note = a
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(1000).collect());
        ordered.push(Answer {
            criterion: c.id.clone(),
            value: a.value.clone(),
            note,
        });
        parts.push((c.id.clone(), s));
    }
    Ok((ordered, scorecard.score(&parts)))
}

/// Records a review (a reviewer's second review of the same conversation and scorecard
/// replaces the first and asks the agent again). People may not review their own
/// conversations.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
    reviewer: &Reviewer,
    scorecard: &Scorecard,
    config_version: i64,
    answers: &[Answer],
    comment: Option<String>,
) -> ApiResult<Review> {
    let agent_id = agent_of(p, tenant_id, conversation_id).await?;
    if reviewer.kind == ReviewerType::Person && agent_id.as_deref() == Some(reviewer.id.as_str()) {
        // A conflict of interest rather than a missing permission: the reviewer may review
        // everyone else's conversations.
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "reviewers do not review their own conversations",
        ));
    }
    let (answers, score) = check(scorecard, answers)?;
    let comment = comment
        .map(|c| c.trim().chars().take(4000).collect::<String>())
        .filter(|c| !c.is_empty());
    let now = p.now_ms();
    let db = p.db()?;
    db.execute(
        "INSERT INTO reviews (id, tenant_id, conversation_id, scorecard_id, scorecard, config_version, reviewer_type, reviewer_id,
           model, agent_id, answers, score, comment, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'submitted', ?14, ?14)
         ON CONFLICT (tenant_id, conversation_id, scorecard_id, reviewer_id) DO UPDATE SET scorecard = excluded.scorecard,
           config_version = excluded.config_version, reviewer_type = excluded.reviewer_type, model = excluded.model,
           agent_id = excluded.agent_id, answers = excluded.answers, score = excluded.score, comment = excluded.comment,
           status = 'submitted', agent_response = NULL, updated_at = excluded.updated_at",
        &params![
            new_id(&*p.random, "rev").as_str(), tenant_id, conversation_id, scorecard.id.as_str(),
            serde_json::to_string(scorecard).unwrap_or_default(), config_version,
            reviewer.kind.as_str(), reviewer.id.as_str(), reviewer.model.clone(), agent_id.clone(),
            serde_json::to_string(&answers).unwrap_or_else(|_| "[]".into()), score, comment, now
        ],
    )
    .await?;
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM reviews WHERE tenant_id = ?1 AND conversation_id = ?2 AND scorecard_id = ?3 AND reviewer_id = ?4"),
            &params![tenant_id, conversation_id, scorecard.id.as_str(), reviewer.id.as_str()],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::internal("review not stored"))
}

/// A conversation's reviews; `only_agent` limits them to one agent's (what agents see).
pub async fn for_conversation(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
    only_agent: Option<&str>,
) -> ApiResult<Vec<Review>> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS} FROM reviews WHERE tenant_id = ?1 AND conversation_id = ?2 AND (?3 = '' OR agent_id = ?3) ORDER BY created_at, id LIMIT 100"),
            &params![tenant_id, conversation_id, only_agent.unwrap_or("")],
        )
        .await?;
    records::all(&rows)
}

pub async fn get(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Review> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS} FROM reviews WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "review not found"))
}

/// Reviews, oldest first, in cursor pages; `agent_id` filters (and is forced to the caller for
/// agents without `reviews:write`).
pub async fn list(
    p: &Platform,
    tenant_id: &str,
    agent_id: Option<&str>,
    page: &crate::pagination::PageRequest,
) -> ApiResult<crate::pagination::Page<Review>> {
    let (after, mut extra) = page.after_clause(3);
    let mut args = params![tenant_id, agent_id.unwrap_or("")].to_vec();
    args.append(&mut extra);
    args.push(((page.limit + 1) as i64).into());
    let limit = args.len();
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS} FROM reviews WHERE tenant_id = ?1 AND (?2 = '' OR agent_id = ?2){after} ORDER BY created_at, id LIMIT ?{limit}"),
            &args,
        )
        .await?;
    let items: Vec<Review> = records::all(&rows)?;
    Ok(crate::pagination::Page::from_rows(items, page.limit, |r| {
        r.sort_key()
    }))
}

/// The reviewed agent acknowledges or disputes a review (with their words).
pub async fn respond(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    agent_id: Option<&str>,
    status: &str,
    response: Option<String>,
) -> ApiResult<Review> {
    let review = get(p, tenant_id, id).await?;
    if agent_id.is_none() || review.agent_id.as_deref() != agent_id {
        return Err(ApiError::forbidden(
            "only the reviewed agent answers a review",
        ));
    }
    let response = response
        .map(|r| r.trim().chars().take(2000).collect::<String>())
        .filter(|r| !r.is_empty());
    if status == "disputed" && response.is_none() {
        return Err(ApiError::validation("response", "say what you dispute"));
    }
    p.db()?
        .execute(
            "UPDATE reviews SET status = ?3, agent_response = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
            &params![tenant_id, id, status, response, p.now_ms()],
        )
        .await?;
    get(p, tenant_id, id).await
}
