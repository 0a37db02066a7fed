//! Recording an answer, exactly once: one conditional update moves a survey from `sent` to
//! `responded` with every answer, so a retried request, a double click or a second device finds
//! it answered and gets the first answer back (`duplicate`). SMS and WhatsApp replies that
//! start with a number answer the customer's open survey on that channel.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::{State, Survey};
use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::outgoing::events::{EventType, SurveyEventData};
use crate::params;
use crate::platform::Platform;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Recorded {
    #[serde(flatten)]
    pub survey: super::CustomerView,
    /// The survey had already been answered: this is the first answer, nothing changed.
    pub duplicate: bool,
}

/// Why an answer cannot be taken (the API's 409, the page's message).
fn closed(s: &Survey) -> ApiError {
    let why = match s.status {
        State::Expired => "this survey has expired",
        State::Cancelled => "this survey was withdrawn",
        _ => "this survey has not been sent yet",
    };
    ApiError::new(ErrorCode::Conflict, why)
}

/// Records `answers` (question id → value) for a survey; `source` says where they came from.
pub async fn record(
    p: &Platform,
    tenant_id: &str,
    survey_id: &str,
    answers: &BTreeMap<String, Value>,
    source: &str,
) -> ApiResult<(Survey, bool)> {
    let survey = super::get(p, tenant_id, survey_id).await?;
    if survey.status == State::Responded {
        return Ok((survey, true));
    }
    if survey.status != State::Sent {
        return Err(closed(&survey));
    }
    let template = survey.template();
    let checked = template.check_answers(answers)?;
    let score = template
        .scored()
        .and_then(|q| checked.get(&q.id))
        .and_then(Value::as_i64);
    let comment = template
        .questions
        .iter()
        .filter(|q| q.kind == super::template::Kind::Text)
        .find_map(|q| checked.get(&q.id).and_then(Value::as_str))
        .map(str::to_string);
    let now = p.now_ms();
    let changed = p
        .db()?
        .execute(
            "UPDATE surveys SET status = 'responded', responded_at = ?3, response_source = ?4, score = ?5, comment = ?6,
               answers = ?7, updated_at = ?3
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'sent' AND expires_at > ?3",
            &params![
                tenant_id, survey_id, now, source, score, comment.as_deref(),
                serde_json::to_string(&checked).unwrap_or_else(|_| "{}".into())
            ],
        )
        .await?;
    let survey = super::get(p, tenant_id, survey_id).await?;
    if changed == 0 {
        // Someone else's answer won the race, or the survey closed meanwhile.
        return if survey.status == State::Responded {
            Ok((survey, true))
        } else {
            Err(closed(&survey))
        };
    }
    announce(p, &survey).await;
    Ok((survey, false))
}

/// `survey.responded` to the tenant's webhook endpoints, once (the event id is the survey's).
async fn announce(p: &Platform, s: &Survey) {
    let data = SurveyEventData { survey: s.clone() };
    let id = format!("evt_{}", s.id);
    crate::outgoing::delivery::announce(p, &s.tenant_id, EventType::SurveyResponded, &id, data)
        .await;
}

/// Reads an SMS reply as a survey answer: a whole number at the start (within `lo..=hi`),
/// anything after it a comment. `"4"`, `"4 - quick and kind"`, `"10/10!"` are answers;
/// `"4 items missing from my order"`-style replies are too, which is why only a customer with
/// an open survey on the channel has replies read this way.
pub fn parse_reply(text: &str, lo: i64, hi: i64) -> Option<(i64, Option<String>)> {
    let t = text.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).take(4).collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    if !(lo..=hi).contains(&n) {
        return None;
    }
    let rest: String = t.chars().skip(digits.len()).collect();
    let rest = rest.trim_start_matches(|c: char| {
        c.is_whitespace()
            || matches!(c, '/' | '-' | ',' | '.' | ':' | '!' | ')')
            || c.is_ascii_digit()
    });
    let rest = rest.trim();
    Some((
        n,
        (!rest.is_empty()).then(|| rest.chars().take(2000).collect()),
    ))
}

/// A customer's SMS/WhatsApp message: when they have an open survey on this channel and the
/// message answers it, records the answer, thanks them, and returns `true` (the message is not
/// a new conversation).
pub async fn from_message(
    p: &Platform,
    tenant_id: &str,
    channel: Channel,
    address: &str,
    text: &str,
) -> ApiResult<bool> {
    let db = p.db()?;
    let rows = db
        .query(
            "SELECT s.id FROM surveys s JOIN customers c ON c.id = s.customer_id AND c.tenant_id = s.tenant_id
             WHERE s.tenant_id = ?1 AND s.channel = ?2 AND c.external_id = ?3 AND s.status = 'sent' AND s.expires_at > ?4
             ORDER BY s.sent_at DESC LIMIT 1",
            &params![tenant_id, channel.as_str(), address, p.now_ms()],
        )
        .await?;
    let Some(id) = rows.first().and_then(|r| r.text("id")) else {
        return Ok(false);
    };
    let survey = super::get(p, tenant_id, &id).await?;
    let template = survey.template();
    let Some(q) = template.scored() else {
        return Ok(false);
    };
    let (lo, hi) = q.range().unwrap_or((0, 0));
    let Some((score, comment)) = parse_reply(text, lo, hi) else {
        return Ok(false);
    };
    let mut answers = BTreeMap::new();
    answers.insert(q.id.clone(), Value::from(score));
    if let (Some(c), Some(cq)) = (comment, template.comment()) {
        answers.insert(cq.id.clone(), Value::String(c));
    }
    let (survey, duplicate) = record(p, tenant_id, &id, &answers, channel.as_str()).await?;
    if !duplicate {
        thank(p, &survey).await?;
    }
    Ok(true)
}

/// The thank-you text after an SMS answer (one per survey).
async fn thank(p: &Platform, s: &Survey) -> ApiResult<()> {
    let out = format!("{}_thanks", super::trigger::outbound_id(&s.conversation_id));
    let text = s.template().localised(&s.language).thanks;
    let now = p.now_ms();
    let added = p
        .db()?
        .execute(
            "INSERT INTO outbound_messages (id, tenant_id, conversation_id, seq, channel, to_address, text, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT ?1, ?2, ?3, 0, ?4, c.external_id, ?5, 'queued', 0, ?6, ?6, ?6 FROM customers c WHERE c.id = ?7 AND c.tenant_id = ?2
             ON CONFLICT (id) DO NOTHING",
            &params![out.as_str(), s.tenant_id.as_str(), s.conversation_id.as_str(), s.channel.as_str(), text.as_str(), now, s.customer_id.as_str()],
        )
        .await?;
    if added > 0 {
        if p.queue.is_some() {
            crate::channels::outbound::enqueue(p, std::slice::from_ref(&out)).await;
        } else {
            let _ = crate::channels::outbound::deliver(p, &out).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_as_answers() {
        assert_eq!(parse_reply("5", 1, 5), Some((5, None)));
        assert_eq!(
            parse_reply(" 4 - quick and kind ", 1, 5),
            Some((4, Some("quick and kind".into())))
        );
        assert_eq!(parse_reply("10/10!", 0, 10), Some((10, None)));
        assert_eq!(
            parse_reply("9, great", 0, 10),
            Some((9, Some("great".into())))
        );
        assert_eq!(parse_reply("6", 1, 5), None);
        assert_eq!(parse_reply("hello", 1, 5), None);
        assert_eq!(parse_reply("", 1, 5), None);
        assert_eq!(parse_reply("12345", 0, 10), None);
        assert_eq!(parse_reply("٣", 1, 5), None, "only ASCII digits");
    }
}
