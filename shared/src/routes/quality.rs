//! Quality reviews: scorecards, the review queue, reviews of a conversation (by people with
//! `reviews:write`, by the AI reviewer), calibration, and agents' answers to their reviews.
//! Agents without `reviews:write` see only the reviews of their own conversations.

use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input;
use crate::pagination::PageRequest;
use crate::quality::{self, calibration, scorecard::Scorecard, Answer, Reviewer, ReviewerType};
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, JsonSchema)]
pub struct Scorecards {
    pub items: Vec<Scorecard>,
}

/// `GET /v1/reviews/scorecards`.
pub async fn scorecards(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, cx.tenant_id()?).await?;
    Ok(Response::json(
        200,
        &Scorecards {
            items: cfg.quality.all(),
        },
    ))
}

/// `GET /v1/reviews/queue`.
pub async fn queue(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &quality::queue::list(&cx.platform, cx.tenant_id()?, 100).await?,
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// The scorecard (default: the workspace's first).
    #[serde(default)]
    pub scorecard_id: Option<String>,
    /// One answer per criterion.
    pub answers: Vec<Answer>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiReviewInput {
    #[serde(default)]
    pub scorecard_id: Option<String>,
}

/// The path's conversation, if it is the caller's tenant's.
async fn conversation_id<'a>(cx: &Ctx, req: &'a Request) -> ApiResult<&'a str> {
    let id = req.param("conversation_id");
    if !crate::ids::looks_like(id, "cnv") {
        return Err(ApiError::not_found("conversation"));
    }
    crate::conversations::mirror::get(cx.platform.db()?, cx.tenant_id()?, id).await?;
    Ok(id)
}

/// `POST /v1/conversations/{id}/reviews`: a person's review.
pub async fn submit(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: ReviewInput = input::json(&req)?;
    if body.answers.len() > 30 {
        return Err(ApiError::validation("answers", "at most 30 answers"));
    }
    let id = conversation_id(cx, &req).await?;
    let tenant_id = cx.tenant_id()?;
    let (cfg, version) = crate::tenancy::store::config(cx.platform.db()?, tenant_id).await?;
    let card = cfg.quality.scorecard(body.scorecard_id.as_deref())?;
    let (_, who) = cx.principal()?.actor_ref();
    let reviewer = Reviewer {
        kind: ReviewerType::Person,
        id: who,
        model: None,
    };
    let review = quality::submit(
        &cx.platform,
        tenant_id,
        id,
        &reviewer,
        &card,
        version,
        &body.answers,
        body.comment,
    )
    .await?;
    Ok(Response::json(200, &review))
}

/// `POST /v1/conversations/{id}/reviews/ai`: the AI reviewer (or the heuristic) scores it now.
pub async fn ai(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: AiReviewInput = input::json(&req)?;
    let id = conversation_id(cx, &req).await?;
    let review = quality::ai_review::run(
        &cx.platform,
        cx.tenant_id()?,
        id,
        body.scorecard_id.as_deref(),
    )
    .await?;
    Ok(Response::json(200, &review))
}

#[derive(Serialize, JsonSchema)]
pub struct ConversationReviews {
    pub items: Vec<quality::Review>,
    /// How far the reviewers are apart, per scorecard (reviewers with `reviews:write` only).
    pub calibration: Vec<calibration::Calibration>,
}

/// Whose reviews the caller may read: everyone's with `reviews:write`, else their own.
fn only_agent(cx: &Ctx) -> ApiResult<Option<String>> {
    let p = cx.principal()?;
    if p.holds(Permission::ReviewsWrite) {
        return Ok(None);
    }
    // A user without the permission sees their own; a key without it, none.
    Ok(Some(p.user_id().unwrap_or("-").to_string()))
}

/// `GET /v1/conversations/{id}/reviews`.
pub async fn for_conversation(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let id = conversation_id(cx, &req).await?;
    let only = only_agent(cx)?;
    let items =
        quality::for_conversation(&cx.platform, cx.tenant_id()?, id, only.as_deref()).await?;
    let calibration = if only.is_none() {
        calibration::of(&items)
    } else {
        Vec::new()
    };
    Ok(Response::json(
        200,
        &ConversationReviews { items, calibration },
    ))
}

/// `GET /v1/reviews`.
pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    let agent = match only_agent(cx)? {
        Some(me) => Some(me),
        None => req.query_param("agent_id"),
    };
    Ok(Response::json(
        200,
        &quality::list(&cx.platform, cx.tenant_id()?, agent.as_deref(), &page).await?,
    ))
}

#[derive(Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentAnswer {
    Acknowledged,
    Disputed,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewResponse {
    pub status: AgentAnswer,
    /// The agent's words (required for a dispute).
    #[serde(default)]
    pub response: Option<String>,
}

/// `PATCH /v1/reviews/{review_id}`: the reviewed agent acknowledges or disputes.
pub async fn respond(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: ReviewResponse = input::json(&req)?;
    let id = req.param("review_id");
    if !crate::ids::looks_like(id, "rev") {
        return Err(ApiError::not_found("review"));
    }
    let me = cx.principal()?.user_id().map(str::to_string);
    let status = match body.status {
        AgentAnswer::Acknowledged => "acknowledged",
        AgentAnswer::Disputed => "disputed",
    };
    let review = quality::respond(
        &cx.platform,
        cx.tenant_id()?,
        id,
        me.as_deref(),
        status,
        body.response,
    )
    .await?;
    Ok(Response::json(200, &review))
}
