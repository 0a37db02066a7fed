//! Lead scoring: the tenant's rules (`leads.rules` in its config), each a signal and the
//! points it gives, over facts about the lead. The result lists every rule that fired, so a
//! score can always be explained.

use super::store::Lead;
use crate::conversations::model::Channel;
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something a lead can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The lead has the rule's `field` (`email`, `phone`, `company` or `name`).
    Field,
    /// The person's own words showed buying intent (prices, quotes, ordering).
    Intent,
    /// The AI provider's analysis of one of the person's messages said `purchase`.
    AiIntent,
    /// The person wrote at least the rule's `at_least` messages (all their conversations).
    Messages,
    /// The lead came in on the rule's `channel`.
    Channel,
}

/// One scoring rule: a signal, what it needs, and the points it gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRule {
    pub signal: Signal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Points when the signal holds (negative to count against).
    pub points: i32,
}

impl ScoreRule {
    fn new(signal: Signal, points: i32) -> ScoreRule {
        ScoreRule {
            signal,
            field: None,
            at_least: None,
            channel: None,
            points,
        }
    }

    /// What the signal needs is there (`field` for `field`, …); the error names what is missing.
    pub fn check(&self) -> Result<(), &'static str> {
        match self.signal {
            Signal::Field if !self.field.as_deref().is_some_and(|f| FIELDS.contains(&f)) => {
                Err("field: one of name, email, phone, company")
            }
            Signal::Messages if self.at_least.is_none() => Err("at_least: a number of messages"),
            Signal::Channel if self.channel.is_none() => Err("channel: the channel it needs"),
            _ => Ok(()),
        }
    }

    fn label(&self) -> String {
        match self.signal {
            Signal::Field => format!("has {}", self.field.as_deref().unwrap_or("?")),
            Signal::Intent => "buying intent in their words".into(),
            Signal::AiIntent => "AI analysis: purchase intent".into(),
            Signal::Messages => format!("wrote {}+ messages", self.at_least.unwrap_or(0)),
            Signal::Channel => format!(
                "came in on {}",
                self.channel.map(|c| c.as_str()).unwrap_or("?")
            ),
        }
    }
}

/// A rule that fired, as the lead shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScoreReason {
    pub rule: String,
    pub points: i32,
}

pub const FIELDS: &[&str] = &["name", "email", "phone", "company"];

/// The rules a tenant starts with.
pub fn default_rules() -> Vec<ScoreRule> {
    let field = |f: &str, points| ScoreRule {
        field: Some(f.into()),
        ..ScoreRule::new(Signal::Field, points)
    };
    vec![
        field("email", 20),
        field("phone", 15),
        field("company", 10),
        ScoreRule::new(Signal::Intent, 25),
        ScoreRule::new(Signal::AiIntent, 25),
        ScoreRule {
            at_least: Some(3),
            ..ScoreRule::new(Signal::Messages, 10)
        },
    ]
}

/// What the rules look at.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub fields: Vec<&'static str>,
    pub intent: bool,
    pub ai_intent: bool,
    pub messages: i64,
    pub channel: Option<Channel>,
}

pub async fn facts(p: &Platform, tenant_id: &str, lead: &Lead) -> ApiResult<Facts> {
    let db = p.db()?;
    let rows = db
        .query(
            "SELECT
               (SELECT COUNT(*) FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE c.tenant_id = ?1 AND c.customer_id = ?2 AND m.author_type = 'customer') AS messages,
               (SELECT COUNT(*) FROM message_analysis a JOIN conversations c ON c.id = a.conversation_id
                 WHERE c.tenant_id = ?1 AND c.customer_id = ?2 AND a.intent = 'purchase' AND a.source = 'model') AS ai",
            &params![tenant_id, lead.customer_id.as_str()],
        )
        .await?;
    let row = rows.first();
    let mut fields = Vec::new();
    for (name, v) in [
        ("name", &lead.name),
        ("email", &lead.email),
        ("phone", &lead.phone),
        ("company", &lead.company),
    ] {
        if v.as_deref().is_some_and(|s| !s.is_empty()) {
            fields.push(name);
        }
    }
    Ok(Facts {
        fields,
        intent: lead.intent.as_deref() == Some("purchase"),
        ai_intent: row.and_then(|r| r.int("ai")).unwrap_or(0) > 0,
        messages: row.and_then(|r| r.int("messages")).unwrap_or(0),
        channel: lead.channel,
    })
}

/// The score and the rules that gave it.
pub fn score(rules: &[ScoreRule], f: &Facts) -> (i64, Vec<ScoreReason>) {
    let mut total = 0i64;
    let mut reasons = Vec::new();
    for r in rules {
        let holds = match r.signal {
            Signal::Field => r.field.as_deref().is_some_and(|x| f.fields.contains(&x)),
            Signal::Intent => f.intent,
            Signal::AiIntent => f.ai_intent,
            Signal::Messages => r.at_least.is_some_and(|n| f.messages >= i64::from(n)),
            Signal::Channel => r.channel.is_some() && f.channel == r.channel,
        };
        if holds {
            total += i64::from(r.points);
            reasons.push(ScoreReason {
                rule: r.label(),
                points: r.points,
            });
        }
    }
    (total, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_is_explained() {
        let f = Facts {
            fields: vec!["email", "company"],
            intent: true,
            ai_intent: false,
            messages: 4,
            channel: Some(Channel::Sms),
        };
        let mut rules = default_rules();
        rules.push(ScoreRule {
            channel: Some(Channel::Sms),
            ..ScoreRule::new(Signal::Channel, -5)
        });
        let (total, reasons) = score(&rules, &f);
        assert_eq!(total, 20 + 10 + 25 + 10 - 5);
        assert_eq!(
            reasons.iter().map(|r| i64::from(r.points)).sum::<i64>(),
            total
        );
        assert!(reasons.iter().any(|r| r.rule == "has email"));
        assert!(!reasons.iter().any(|r| r.rule == "has phone"));
    }
}
