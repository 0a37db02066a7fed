//! Leads from what customers write: an email address or phone number in a message (found by
//! pattern, so without any AI provider), or buying intent. Run by the conversation's mirror
//! flush for each stored customer message, so a capture is retried with the flush and never
//! missed; a capture of a known person merges into their lead.

// Sees customers' words: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::store::{self, Capture};
use crate::conversations::mirror::OutboxOp;
use crate::conversations::model::AuthorKind;
use crate::conversations::store::OutboxEntry;
use crate::error::ApiResult;
use crate::platform::Platform;

/// What one message reveals.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub purchase: bool,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.phone.is_none() && !self.purchase
    }
}

/// Words that mean someone wants to buy (en, es, de, fr, pt), matched as whole words or
/// phrases in lower case.
const BUYING: &[&str] = &[
    "pricing",
    "price list",
    "quote",
    "quotation",
    "how much",
    "bulk order",
    "wholesale",
    "buy",
    "purchase",
    "order for my company",
    "demo",
    "enterprise plan",
    "volume discount",
    "cotización",
    "presupuesto",
    "comprar",
    "angebot",
    "kaufen",
    "preisliste",
    "devis",
    "acheter",
    "tarif",
    "orçamento",
    "cotação",
];

pub fn find(text: &str) -> Found {
    let lower = text.to_lowercase();
    let email = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')' | '"'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?' | '\'')))
        .find(|w| looks_like_email(w))
        .map(str::to_lowercase);
    Found {
        email,
        phone: find_phone(text),
        purchase: BUYING.iter().any(|b| contains_phrase(&lower, b)),
    }
}

fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    haystack.match_indices(phrase).any(|(i, _)| {
        let before = haystack.get(..i).and_then(|s| s.chars().next_back());
        let after = haystack
            .get(i + phrase.len()..)
            .and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn looks_like_email(w: &str) -> bool {
    let Some((user, host)) = w.split_once('@') else {
        return false;
    };
    let tld = host.rsplit('.').next().unwrap_or("");
    !user.is_empty()
        && user.len() <= 64
        && host.len() <= 253
        && host.contains('.')
        && !host.starts_with('.')
        && !host.contains("..")
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
}

/// An international number (`+` and 8–15 digits, spaces, dots, dashes and brackets between)
/// in E.164 form. Numbers without `+` are not taken: order numbers look the same.
fn find_phone(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '+' {
            continue;
        }
        let mut digits = String::new();
        for d in chars.iter().skip(i + 1) {
            if d.is_ascii_digit() {
                digits.push(*d);
            } else if !matches!(d, ' ' | '-' | '.' | '(' | ')') || digits.len() >= 15 {
                break;
            }
        }
        if (8..=15).contains(&digits.len()) {
            return Some(format!("+{digits}"));
        }
    }
    None
}

/// Captures leads from the customer messages in a flushed batch (leads flag on only).
pub async fn from_outbox(p: &Platform, entries: &[OutboxEntry]) -> ApiResult<()> {
    for e in entries {
        for op in &e.ops {
            let OutboxOp::Message {
                tenant_id,
                conversation_id,
                channel,
                customer_id,
                message,
            } = op
            else {
                continue;
            };
            if message.author.kind != AuthorKind::Customer {
                continue;
            }
            let found = find(&message.text);
            if found.is_empty() || !super::enabled(p, tenant_id).await? {
                continue;
            }
            let customer =
                crate::conversations::customers::get(p.db()?, tenant_id, customer_id).await?;
            store::capture(
                p,
                tenant_id,
                Capture {
                    customer_id: customer_id.clone(),
                    conversation_id: Some(conversation_id.clone()),
                    channel: Some(*channel),
                    name: customer.name,
                    email: found.email.or(customer.email),
                    phone: found.phone.or(customer.phone),
                    intent: found.purchase.then(|| "purchase".to_string()),
                    source: "conversation",
                    ..Capture::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Leads from a model's reading of a customer message: an email or phone is taken only when
/// the message itself contains it (the rule that confirms it); name, company and anything the
/// message does not show are stored as proposals an agent accepts or rejects. Best effort: a
/// failure is logged (the pattern capture in the flush has already run).
pub async fn from_ai(
    p: &Platform,
    meta: &crate::conversations::model::Meta,
    text: &str,
    ai: &crate::ai::analysis::LeadDetails,
) {
    let result = async {
        if !super::enabled(p, &meta.tenant_id).await? {
            return Ok(());
        }
        let seen = find(text);
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let email = ai.email.as_ref().map(|e| e.to_lowercase());
        let email_ok = email.is_some() && email == seen.email;
        let phone_ok = match (&ai.phone, &seen.phone) {
            (Some(a), Some(s)) => digits(a) == digits(s),
            _ => false,
        };
        let mut proposed = std::collections::BTreeMap::new();
        for (field, value, confirmed) in [
            ("name", &ai.name, false),
            ("company", &ai.company, false),
            ("email", &email, email_ok),
            ("phone", &ai.phone, phone_ok),
        ] {
            if let (Some(v), false) = (value, confirmed) {
                proposed.insert(field.to_string(), v.clone());
            }
        }
        let customer =
            crate::conversations::customers::get(p.db()?, &meta.tenant_id, &meta.customer_id)
                .await?;
        let (lead, _) = store::capture(
            p,
            &meta.tenant_id,
            Capture {
                customer_id: meta.customer_id.clone(),
                conversation_id: Some(meta.conversation_id.clone()),
                channel: Some(meta.channel),
                name: customer.name,
                email: if email_ok {
                    seen.email.clone()
                } else {
                    customer.email
                },
                phone: if phone_ok {
                    seen.phone.clone()
                } else {
                    customer.phone
                },
                intent: ai.buying_intent.then(|| "purchase".to_string()),
                source: "conversation",
                ..Capture::default()
            },
        )
        .await?;
        store::propose(p, &meta.tenant_id, &lead.id, &proposed).await
    }
    .await;
    if let Err(e) = result {
        p.log.log(
            &serde_json::json!({"level": "warn", "msg": "AI lead details not stored", "conversation": meta.conversation_id, "error": e.message})
                .to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_details_and_intent_are_found_by_pattern() {
        let f = find(
            "Hi, could I get a quote? Reach me at Ada.L@Engine.example or +44 (0)20 7946-0958.",
        );
        assert_eq!(f.email.as_deref(), Some("ada.l@engine.example"));
        assert_eq!(f.phone.as_deref(), Some("+4402079460958"));
        assert!(f.purchase);
        let none = find("My order 12345678 is late; email me at the address on file. @support");
        assert_eq!(none, Found::default());
        assert!(
            !find("I bought it in a buyout").purchase,
            "whole words only"
        );
        assert!(find("¿Me pueden enviar un presupuesto?").purchase);
        for odd in [
            "a@b",
            "@x.com",
            "x@.com",
            "x@y..com",
            "+12",
            "++++",
            "\u{0}@\u{0}.\u{0}",
        ] {
            let f = find(odd);
            assert!(f.email.is_none() && f.phone.is_none(), "{odd}");
        }
    }
}
