//! Spoken replies through ElevenLabs text-to-speech, cached by content hash: the same sentence
//! in the same voice is synthesised once per tenant (greetings and common answers repeat a lot,
//! and synthesis is both slow and billed per character).

use super::config::TtsConfig;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::platform::Platform;
use sha2::{Digest, Sha256};

pub const DEFAULT_BASE: &str = "https://api.elevenlabs.io";
pub const DEFAULT_MODEL: &str = "eleven_flash_v2_5";
/// Tenant secret holding the ElevenLabs API key.
pub const API_KEY_SECRET: &str = "elevenlabs_api_key";
const OUTPUT_FORMAT: &str = "mp3_44100_128";
const CACHE_TTL_SECS: u64 = 30 * 24 * 3600;
pub const MAX_CHARS: usize = 2_000;
/// 2,000 characters of speech at 128 kbit/s is about 3 MB; anything far beyond is not audio.
const AUDIO_LIMITS: crate::egress::Limits = crate::egress::Limits {
    timeout_ms: 30_000,
    max_bytes: 8 * 1024 * 1024,
};

/// Content hash of what would be spoken: voice, model, format and text.
pub fn content_hash(cfg: &TtsConfig, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        cfg.voice_id.as_str(),
        cfg.model_id.as_deref().unwrap_or(DEFAULT_MODEL),
        OUTPUT_FORMAT,
        text,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

fn cache_key(tenant_id: &str, hash: &str) -> String {
    format!("tts:{tenant_id}:{hash}")
}

pub struct Speech {
    pub hash: String,
    pub audio: Vec<u8>,
    pub cached: bool,
}

/// MP3 audio of `text` in the tenant's configured voice.
pub async fn speak(
    p: &Platform,
    tenant_id: &str,
    cfg: &TtsConfig,
    text: &str,
) -> ApiResult<Speech> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_CHARS {
        return Err(ApiError::validation(
            "text",
            format!("1 to {MAX_CHARS} characters"),
        ));
    }
    let hash = content_hash(cfg, text);
    let kv = p.kv()?;
    if let Ok(Some(audio)) = kv.get(&cache_key(tenant_id, &hash)).await {
        return Ok(Speech {
            hash,
            audio,
            cached: true,
        });
    }
    let key = crate::tenancy::secrets::get(p, tenant_id, API_KEY_SECRET)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::BindingMissing,
                "the elevenlabs_api_key secret is not set",
            )
        })?;
    let base = p
        .config
        .get("elevenlabs_base_url")
        .unwrap_or(DEFAULT_BASE)
        .trim_end_matches('/')
        .to_string();
    let voice: String = cfg
        .voice_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let body = serde_json::json!({ "text": text, "model_id": cfg.model_id.as_deref().unwrap_or(DEFAULT_MODEL) });
    let req = Request::new(
        Method::Post,
        &format!("{base}/v1/text-to-speech/{voice}?output_format={OUTPUT_FORMAT}"),
    )
    .with_header("xi-api-key", &key)
    .with_header("content-type", "application/json")
    .with_header("accept", "audio/mpeg")
    .with_body(body.to_string().into_bytes());
    p.http()?;
    let resp = crate::egress::fetch(p, req, AUDIO_LIMITS)
        .await
        .map_err(|e| ApiError::new(ErrorCode::UpstreamError, format!("elevenlabs: {e}")))?;
    let status = resp.status;
    let audio = resp.body;
    if status != 200 || audio.is_empty() {
        let detail: String =
            String::from_utf8_lossy(audio.get(..300).unwrap_or(&audio)).into_owned();
        return Err(ApiError::new(
            ErrorCode::UpstreamError,
            format!("elevenlabs answered {status}: {detail}"),
        ));
    }
    // A cache write failure only costs a later re-synthesis.
    let _ = kv
        .put(&cache_key(tenant_id, &hash), &audio, Some(CACHE_TTL_SECS))
        .await;
    Ok(Speech {
        hash,
        audio,
        cached: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_voice_model_and_text() {
        let a = TtsConfig {
            voice_id: "v1".into(),
            model_id: None,
        };
        let b = TtsConfig {
            voice_id: "v2".into(),
            model_id: None,
        };
        assert_eq!(content_hash(&a, "Hello"), content_hash(&a, "Hello"));
        assert_ne!(content_hash(&a, "Hello"), content_hash(&b, "Hello"));
        assert_ne!(content_hash(&a, "Hello"), content_hash(&a, "Hello!"));
        // Length-prefixed parts: moving text between fields changes the hash.
        let c = TtsConfig {
            voice_id: "v1Hel".into(),
            model_id: None,
        };
        assert_ne!(content_hash(&a, "Hello"), content_hash(&c, "lo"));
    }
}
