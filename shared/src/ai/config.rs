//! A tenant's AI settings (part of its configuration document) and their resolution into
//! concrete providers with keys: the tenant's own keys (stored write-only as tenant secrets) or
//! the platform's. The offline responder always closes the chain, so there is always an answer
//! or a handoff.

use super::providers::ProviderKind;
use crate::error::{ApiError, ApiResult};
use crate::input::check;
use crate::platform::Platform;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    /// Providers to try in order (the offline responder is always tried last). Empty: the
    /// platform's configured providers.
    pub providers: Vec<ProviderConfig>,
    /// Which provider embeds the knowledge base (`offline` = the built-in embedder). Empty: the
    /// first remote provider with a key, else the built-in one.
    pub embedding: Option<ProviderKind>,
    pub temperature: f32,
    pub max_output_tokens: u32,
    /// Give up on a provider that has not produced its first token within this time.
    pub first_token_timeout_ms: u32,
    /// Cut an answer that is still streaming after this time (what was sent is kept).
    pub total_timeout_ms: u32,
    /// Analyse messages with the model's JSON mode (the local classifier otherwise).
    pub model_analysis: bool,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            providers: Vec::new(),
            embedding: None,
            temperature: 0.2,
            max_output_tokens: 600,
            first_token_timeout_ms: 8_000,
            total_timeout_ms: 30_000,
            model_analysis: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    #[serde(default)]
    pub model: Option<String>,
    /// For OpenAI-compatible servers (self-hosted models) or a Gemini proxy.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Name of the tenant secret holding the API key (`PUT /v1/tenant/secrets/{name}`); the
    /// platform's key is used when absent.
    #[serde(default)]
    pub api_key_secret: Option<String>,
}

impl AiConfig {
    pub fn validate(&self) -> ApiResult<()> {
        if self.providers.len() > 4 {
            return Err(ApiError::validation("ai.providers", "at most 4 providers"));
        }
        for (i, p) in self.providers.iter().enumerate() {
            if let Some(m) = &p.model {
                check::text(&format!("ai.providers[{i}].model"), m, 1, 100)?;
            }
            if let Some(u) = &p.base_url {
                let ok = url::Url::parse(u).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                });
                if !ok {
                    return Err(ApiError::validation(
                        format!("ai.providers[{i}].base_url"),
                        "must be an http(s) URL",
                    ));
                }
                // The platform's keys only ever go to the platform's endpoints.
                if p.api_key_secret.is_none() {
                    return Err(ApiError::validation(
                        format!("ai.providers[{i}].api_key_secret"),
                        "a custom base_url needs the tenant's own key (api_key_secret)",
                    ));
                }
            }
            if let Some(s) = &p.api_key_secret {
                check_secret_name(&format!("ai.providers[{i}].api_key_secret"), s)?;
            }
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(ApiError::validation(
                "ai.temperature",
                "must be between 0 and 2",
            ));
        }
        check::range("ai.max_output_tokens", self.max_output_tokens, 16, 8192)?;
        check::range(
            "ai.first_token_timeout_ms",
            self.first_token_timeout_ms,
            500,
            60_000,
        )?;
        check::range("ai.total_timeout_ms", self.total_timeout_ms, 1_000, 120_000)
    }
}

pub fn check_secret_name(field: &str, s: &str) -> ApiResult<()> {
    if (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        Ok(())
    } else {
        Err(ApiError::validation(
            field,
            "secret names are 1-32 lower-case letters, digits, '_' or '-'",
        ))
    }
}

/// A provider ready to call.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub kind: ProviderKind,
    pub model: String,
    pub base_url: String,
    pub api_key: String,
}

impl Resolved {
    /// Identifies the endpoint and credential for the circuit breaker: one tenant's bad key or
    /// exhausted quota must not switch the provider off for tenants with their own keys.
    pub fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        let who = hex::encode(&Sha256::digest(self.api_key.as_bytes())[..6]);
        format!(
            "{}|{}|{}|{who}",
            self.kind.as_str(),
            self.base_url,
            self.model
        )
    }
}

fn defaults(p: &Platform, kind: ProviderKind) -> (String, String, Option<String>) {
    let c = &p.config;
    match kind {
        ProviderKind::Gemini => (
            c.get("gemini_base_url")
                .unwrap_or(super::providers::gemini::DEFAULT_BASE)
                .to_string(),
            c.get("gemini_model")
                .unwrap_or(super::providers::gemini::DEFAULT_MODEL)
                .to_string(),
            c.get("gemini_api_key").map(String::from),
        ),
        ProviderKind::Openai => (
            c.get("openai_base_url")
                .unwrap_or(super::providers::openai::DEFAULT_BASE)
                .to_string(),
            c.get("openai_model")
                .unwrap_or(super::providers::openai::DEFAULT_MODEL)
                .to_string(),
            c.get("openai_api_key").map(String::from),
        ),
        ProviderKind::Offline => (String::new(), "offline".into(), Some(String::new())),
    }
}

/// The remote providers to try, in order (those without a key are skipped).
pub async fn resolve(p: &Platform, tenant_id: &str, cfg: &AiConfig) -> ApiResult<Vec<Resolved>> {
    let wanted: Vec<ProviderConfig> = if cfg.providers.is_empty() {
        [ProviderKind::Gemini, ProviderKind::Openai]
            .into_iter()
            .map(|kind| ProviderConfig {
                kind,
                model: None,
                base_url: None,
                api_key_secret: None,
            })
            .collect()
    } else {
        cfg.providers.clone()
    };
    let mut out = Vec::new();
    for w in wanted {
        if w.kind == ProviderKind::Offline {
            continue;
        }
        let (base, model, platform_key) = defaults(p, w.kind);
        let (base_url, key) = match (&w.api_key_secret, w.base_url) {
            // A platform key never leaves for a tenant-chosen URL.
            (None, Some(_)) => continue,
            (None, None) => (base, platform_key),
            (Some(name), url) => {
                // Checked again here: a stored config may predate the egress rules.
                let allowed = url.as_deref().is_none_or(|u| {
                    crate::egress::check_url(u, crate::egress::allow_local(p)).is_ok()
                });
                if !allowed {
                    continue;
                }
                (
                    url.unwrap_or(base),
                    crate::tenancy::secrets::get(p, tenant_id, name).await?,
                )
            }
        };
        if let Some(api_key) = key.filter(|k| !k.is_empty()) {
            out.push(Resolved {
                kind: w.kind,
                model: w.model.unwrap_or(model),
                base_url,
                api_key,
            });
        }
    }
    Ok(out)
}
