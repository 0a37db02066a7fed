//! The answer cache. Only answers whose prompt is fully determined by the key are kept: the
//! question was the whole conversation (no other visitor's, agent's or earlier words shaped
//! it), and the key names the tenant, knowledge-base and configuration versions, the opening
//! hours, the provider and the question.

use super::config::Resolved;
use super::providers::ProviderKind;
use crate::conversations::model::AuthorKind;
use crate::conversations::protocol::MessageView;
use crate::platform::Platform;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

const CACHE_TTL_SECS: u64 = 86_400;

/// True when the only message the model would see is the question itself.
pub fn prompt_is_question_alone(history: &[MessageView], reply_to: i64) -> bool {
    let mut shown = history.iter().filter(|m| {
        matches!(
            m.author.kind,
            AuthorKind::Customer | AuthorKind::Ai | AuthorKind::Agent
        )
    });
    matches!((shown.next(), shown.next()), (Some(q), None) if q.seq == reply_to && !carries_contact_details(&q.text))
}

/// True when the question carries what looks like contact details (an email address, a
/// phone or order number's run of seven digits): such answers are never cached, so the KV
/// store holds no customer's details and an erasure has nothing to chase there (other cached
/// answers expire within a day).
pub fn carries_contact_details(question: &str) -> bool {
    let email = question.split_whitespace().any(|w| {
        w.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
    });
    let mut run = 0;
    let digits = question.chars().any(|c| {
        if c.is_ascii_digit() {
            run += 1;
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '.' | '+') {
            run = 0;
        }
        run >= 7
    });
    email || digits
}

/// Everything a cacheable prompt is made of, hashed into the answer cache key.
pub struct AnswerKey<'a> {
    pub tenant_id: &'a str,
    pub kb_version: i64,
    /// Persona, language, instructions and AI settings all live in the versioned config.
    pub config_version: i64,
    /// The system prompt says when the team is offline.
    pub open_now: bool,
    pub provider: Option<&'a Resolved>,
    pub question: &'a str,
    /// The language the responder speaks to this customer (its own phrases are in it).
    pub language: &'a str,
}

impl std::fmt::Display for AnswerKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Case, spacing and closing punctuation do not change what is asked; every other
        // character does (a normalisation that dropped words could let one visitor's planted
        // instructions answer another visitor's question).
        let lower = self.question.to_lowercase();
        let q = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        let q = q.trim_end_matches(['?', '!', '.', ' ']);
        let provider = self
            .provider
            .map(|r| format!("{}|{}|{}", r.kind.as_str(), r.base_url, r.model))
            .unwrap_or_else(|| "offline".into());
        let mut h = Sha256::new();
        for part in [provider.as_str(), q, self.language] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        write!(
            f,
            "ai:answer:{}:{}:{}:{}:{}",
            self.tenant_id,
            self.kb_version,
            self.config_version,
            u8::from(self.open_now),
            hex::encode(&h.finalize()[..16])
        )
    }
}

/// An answer kept for a cacheable prompt. Entries carry their own expiry: not every key-value
/// store expires keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CachedAnswer {
    pub text: String,
    pub citations: Value,
    pub model: String,
    pub provider: String,
    pub expires_at: i64,
}

pub async fn cached(p: &Platform, key: &str) -> Option<CachedAnswer> {
    let bytes = p.kv.as_ref()?.get(key).await.ok().flatten()?;
    let entry: CachedAnswer = serde_json::from_slice(&bytes).ok()?;
    (entry.expires_at > p.now_ms()).then_some(entry)
}

pub async fn store_cache(
    p: &Platform,
    key: &str,
    text: &str,
    citations: &Value,
    model: &str,
    provider: ProviderKind,
) {
    let Some(kv) = p.kv.as_ref() else { return };
    let entry = CachedAnswer {
        text: text.to_string(),
        citations: citations.clone(),
        model: model.to_string(),
        provider: provider.as_str().to_string(),
        expires_at: p.now_ms() + CACHE_TTL_SECS as i64 * 1000,
    };
    if let Ok(bytes) = serde_json::to_vec(&entry) {
        let _ = kv.put(key, &bytes, Some(CACHE_TTL_SECS)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::carries_contact_details;

    #[test]
    fn questions_with_contact_details_are_not_cached() {
        for q in [
            "my email is ada@example.com, where is my order?",
            "call me on +44 7700 900123",
            "order 12345678 has not arrived",
        ] {
            assert!(carries_contact_details(q), "{q}");
        }
        for q in [
            "how long do returns take?",
            "is it open 9-5 on 24 Dec",
            "@home delivery?",
        ] {
            assert!(!carries_contact_details(q), "{q}");
        }
    }
}
