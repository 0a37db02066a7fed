//! Spoken replies: text to speech in the tenant's ElevenLabs voice, for voice channels and the
//! widget's read-aloud option. Synthesis is cached by content hash (see `channels::tts`).

use crate::channels::tts;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Body, Request, Response};
use crate::input;
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeechRequest {
    /// What to say (1 to 2,000 characters).
    pub text: String,
}

pub async fn speech(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: SpeechRequest = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, tenant_id).await?;
    let tts_cfg = cfg.channels.voice.and_then(|v| v.tts).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Conflict,
            "text to speech is not configured for this tenant (channels.voice.tts)",
        )
    })?;
    let speech = tts::speak(&cx.platform, tenant_id, &tts_cfg, &body.text).await?;
    let mut resp = Response::new(200)
        .with_header("content-type", "audio/mpeg")
        .with_header("x-audio-hash", speech.hash)
        .with_header("x-cache", if speech.cached { "hit" } else { "miss" })
        .with_header("cache-control", "private, max-age=86400");
    resp.body = Body::Bytes(speech.audio);
    Ok(resp)
}
