//! Visitors rate the answers they get (thumbs up or down, optional comment), and the tenant
//! reads the result. A rating belongs to one message of the customer's own conversation, and
//! only answers (the AI's or an agent's) can be rated; rating again replaces the rating.

use super::conversations::conversation;
use crate::auth::Actor;
use crate::conversations::model::AuthorKind;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input::{self, check};
use crate::router::Ctx;
use crate::time::DAY_MS;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Thumb {
    Up,
    Down,
}

impl Thumb {
    fn as_str(self) -> &'static str {
        match self {
            Thumb::Up => "up",
            Thumb::Down => "down",
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateMessage {
    pub rating: Thumb,
    /// What was wrong or right, in the visitor's words (up to 1,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Rating {
    pub conversation_id: String,
    pub seq: i64,
    /// Whose answer was rated: `ai` or `agent`.
    pub author_type: AuthorKind,
    pub rating: Thumb,
    pub comment: Option<String>,
    pub updated_at: i64,
}

/// `PUT /v1/conversations/{id}/messages/{seq}/rating`, by the conversation's customer.
pub async fn rate(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: RateMessage = input::json(&req)?;
    let comment = body
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(c) = &comment {
        check::text("comment", c, 1, 1000)?;
    }
    let principal = cx.principal()?;
    // The gateway admits only customers here (`Access::Customer`).
    let Actor::Customer { customer_id, .. } = &principal.actor else {
        return Err(ApiError::forbidden(
            "only the conversation's customer rates its answers",
        ));
    };
    let seq: i64 = req
        .param("seq")
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| ApiError::not_found("message"))?;
    let conversation_id = req.param("conversation_id").to_string();
    let conv = conversation(cx, &req)?;
    let page = conv.history(Some(seq - 1), None, 1, false).await?;
    let message = page
        .messages
        .into_iter()
        .find(|m| m.seq == seq)
        .ok_or_else(|| ApiError::not_found("message"))?;
    if !matches!(message.author.kind, AuthorKind::Ai | AuthorKind::Agent) {
        return Err(ApiError::validation(
            "seq",
            "only answers (from the assistant or an agent) can be rated",
        ));
    }
    let now = cx.now();
    cx.platform
        .db()?
        .execute(
            "INSERT INTO message_ratings (tenant_id, conversation_id, seq, author_type, rating, comment, customer_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (conversation_id, seq) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at",
            &crate::params![
                principal.tenant_id(), conversation_id.as_str(), seq, message.author.kind.as_str(),
                body.rating.as_str(), comment.clone(), customer_id.as_str(), now
            ],
        )
        .await?;
    Ok(Response::json(
        200,
        &Rating {
            conversation_id,
            seq,
            author_type: message.author.kind,
            rating: body.rating,
            comment,
            updated_at: now,
        },
    ))
}

#[derive(Serialize, JsonSchema, Default)]
pub struct Tally {
    pub up: i64,
    pub down: i64,
    /// Share of thumbs up (0..1); absent with no ratings.
    pub satisfaction: Option<f64>,
}

impl Tally {
    fn add(&mut self, rating: &str, n: i64) {
        match rating {
            "up" => self.up += n,
            "down" => self.down += n,
            _ => {}
        }
        let total = self.up + self.down;
        self.satisfaction = (total > 0).then(|| self.up as f64 / total as f64);
    }
}

#[derive(Serialize, JsonSchema)]
pub struct RatingSummary {
    pub days: i64,
    pub all: Tally,
    pub ai: Tally,
    pub agent: Tally,
    /// The latest ratings that came with a comment, newest first (at most 20).
    pub comments: Vec<Rating>,
}

/// `GET /v1/ratings?days=`: how visitors rated answers over the last days.
pub async fn summary(cx: &Ctx, req: Request) -> ApiResult<Response> {
    crate::tenancy::flags::require(&cx.platform, cx.tenant_id()?, "analytics").await?;
    let days = match req.query_param("days") {
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| ApiError::validation("days", "must be 1-365"))?,
        None => 30,
    };
    let tenant_id = cx.tenant_id()?;
    let since = cx.now() - days * DAY_MS;
    let db = cx.platform.db()?;
    let counts = db
        .query(
            "SELECT author_type, rating, COUNT(*) AS n FROM message_ratings
             WHERE tenant_id = ?1 AND updated_at >= ?2 GROUP BY author_type, rating",
            &crate::params![tenant_id, since],
        )
        .await?;
    let mut out = RatingSummary {
        days,
        all: Tally::default(),
        ai: Tally::default(),
        agent: Tally::default(),
        comments: Vec::new(),
    };
    for r in &counts {
        let (rating, n) = (
            r.text("rating").unwrap_or_default(),
            r.int("n").unwrap_or(0),
        );
        out.all.add(&rating, n);
        match r.text("author_type").as_deref() {
            Some("ai") => out.ai.add(&rating, n),
            Some("agent") => out.agent.add(&rating, n),
            _ => {}
        }
    }
    let rows = db
        .query(
            "SELECT conversation_id, seq, author_type, rating, comment, updated_at FROM message_ratings
             WHERE tenant_id = ?1 AND updated_at >= ?2 AND comment IS NOT NULL
             ORDER BY updated_at DESC LIMIT 20",
            &crate::params![tenant_id, since],
        )
        .await?;
    out.comments = rows
        .iter()
        .map(|r| Rating {
            conversation_id: r.text("conversation_id").unwrap_or_default(),
            seq: r.int("seq").unwrap_or(0),
            author_type: if r.text("author_type").as_deref() == Some("agent") {
                AuthorKind::Agent
            } else {
                AuthorKind::Ai
            },
            rating: if r.text("rating").as_deref() == Some("up") {
                Thumb::Up
            } else {
                Thumb::Down
            },
            comment: r.text("comment"),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
        .collect();
    Ok(Response::json(200, &out))
}
