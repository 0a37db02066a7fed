//! A tenant's channel settings (part of its configuration document). Secrets (Twilio auth
//! token, Resend keys, VAPI secret) are tenant secrets, referenced here by fixed names.

use crate::error::{ApiError, ApiResult};
use crate::input::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tenant secret names the channels read.
pub const TWILIO_AUTH_TOKEN: &str = "twilio_auth_token";
pub const RESEND_API_KEY: &str = "resend_api_key";
pub const RESEND_WEBHOOK_SECRET: &str = "resend_webhook_secret";
pub const VAPI_SECRET: &str = "vapi_secret";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    pub twilio: Option<TwilioConfig>,
    pub email: Option<EmailConfig>,
    pub voice: Option<VoiceConfig>,
    /// The public base URL webhooks are configured with (e.g. `https://support.example.com`),
    /// used to verify URL-covering signatures when the edge sees a rewritten host.
    pub public_base_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    pub account_sid: String,
    /// Sender for SMS (`+15550100`).
    #[serde(default)]
    pub sms_from: Option<String>,
    /// Sender for WhatsApp (`whatsapp:+15550100`).
    #[serde(default)]
    pub whatsapp_from: Option<String>,
    /// Approved template (Content SID) for WhatsApp messages outside the 24-hour window.
    #[serde(default)]
    pub whatsapp_template_sid: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `support@shop.example`
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceConfig {
    /// First sentence the assistant says on a call.
    pub first_message: String,
    /// VAPI voice settings passed through (`{"provider": "11labs", "voiceId": "…"}`).
    #[serde(default)]
    pub voice: Option<serde_json::Value>,
    /// ElevenLabs text-to-speech for spoken replies (`POST /v1/voice/speech`).
    #[serde(default)]
    pub tts: Option<TtsConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TtsConfig {
    /// ElevenLabs voice id.
    pub voice_id: String,
    /// ElevenLabs model (default `eleven_flash_v2_5`, their low-latency model).
    #[serde(default)]
    pub model_id: Option<String>,
}

impl ChannelsConfig {
    pub fn validate(&self) -> ApiResult<()> {
        if let Some(t) = &self.twilio {
            let ok = t.account_sid.starts_with("AC")
                && t.account_sid.len() == 34
                && t.account_sid.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ok {
                return Err(ApiError::validation(
                    "channels.twilio.account_sid",
                    "a Twilio account SID (AC + 32 characters)",
                ));
            }
        }
        if let Some(e) = &self.email {
            check::email("channels.email.from_address", &e.from_address)?;
        }
        if let Some(v) = &self.voice {
            check::text("channels.voice.first_message", &v.first_message, 1, 300)?;
            if let Some(t) = &v.tts {
                if !(1..=64).contains(&t.voice_id.len())
                    || !t.voice_id.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(ApiError::validation(
                        "channels.voice.tts.voice_id",
                        "an ElevenLabs voice id",
                    ));
                }
            }
        }
        if let Some(u) = &self.public_base_url {
            if !url::Url::parse(u).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http") {
                return Err(ApiError::validation(
                    "channels.public_base_url",
                    "an http(s) URL",
                ));
            }
        }
        Ok(())
    }
}

/// The public base URL webhooks are configured with: the tenant's own, else the platform's.
pub fn public_base<'a>(p: &'a crate::platform::Platform, c: &'a ChannelsConfig) -> Option<&'a str> {
    c.public_base_url
        .as_deref()
        .or_else(|| p.config.get("public_base_url"))
}
