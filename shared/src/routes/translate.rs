//! `POST /v1/conversations/{conversation_id}/translate`: an agent reads a customer's message in
//! their own language, or turns a reply into the customer's.

use crate::ai::translate;
use crate::conversations::mirror;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids::looks_like;
use crate::input::{self, check};
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    /// What to translate (up to 4,000 characters).
    pub text: String,
    /// The language to translate into (BCP 47). Absent: the conversation's customer language,
    /// for a reply.
    #[serde(default)]
    pub to: Option<String>,
}

pub async fn translate(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: TranslateRequest = input::json(&req)?;
    check::text("text", &body.text, 1, 4000)?;
    let id = req.param("conversation_id");
    if !looks_like(id, "cnv") {
        return Err(ApiError::not_found("conversation"));
    }
    let tenant_id = cx.tenant_id()?;
    let conversation = mirror::get(cx.platform.db()?, tenant_id, id).await?;
    let to = match body.to {
        Some(to) => to,
        None => conversation.language.ok_or_else(|| {
            ApiError::validation(
                "to",
                "the customer's language is not known yet; say which language to translate into",
            )
        })?,
    };
    check::language("to", &to)?;
    let t = translate::translate(&cx.platform, tenant_id, &body.text, &to).await?;
    Ok(Response::json(200, &t))
}
