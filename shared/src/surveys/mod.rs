//! Customer satisfaction surveys (CSAT, NPS, CES and custom questions), sent when a conversation
//! is resolved, where the customer is: a card in the widget, a text on SMS/WhatsApp (answered by
//! replying with a number), an email with a signed, expiring link to a page the edge serves.
//!
//! One survey per conversation (`srv_<conversation id>`), created by the mirror flush that
//! applies the resolution, so a retried flush creates nothing twice. An answer is recorded
//! exactly once: the update that records it only matches a survey still waiting for one.
//!
//! - `template.rs`: templates, the trigger, localisation, answer checks;
//! - `trigger.rs`: who gets a survey (flag, channel, sampling, cool-down) and sending it;
//! - `respond.rs`: recording an answer (widget, page, SMS reply), `survey.responded`;
//! - `link.rs`: the email link's signed token and the survey page;
//! - `results.rs`: response rates and scores by channel, agent and day; the responses list.

pub mod link;
pub mod respond;
pub mod results;
pub mod template;
pub mod trigger;

use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::params;
use crate::platform::Platform;
use crate::ports::Row;
use crate::records::{self, FromRow, Listed};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use template::Template;

pub async fn enabled(p: &Platform, tenant_id: &str) -> ApiResult<bool> {
    crate::tenancy::flags::enabled(p, tenant_id, "surveys").await
}

pub async fn require_enabled(p: &Platform, tenant_id: &str) -> ApiResult<()> {
    crate::tenancy::flags::require(p, tenant_id, "surveys").await
}

/// The survey id for a conversation: one survey per conversation, whoever creates it first.
pub fn survey_id(conversation_id: &str) -> String {
    format!("srv_{conversation_id}")
}

/// Where a survey is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for its delay.
    Scheduled,
    /// Sent (or shown in the widget); waiting for an answer.
    Sent,
    Responded,
    /// Past its answer window without an answer.
    Expired,
    /// Not sent: the conversation was reopened first, or the channel could not carry it.
    Cancelled,
}

impl State {
    fn parse(s: &str, expires_at: i64, now: i64) -> State {
        match s {
            "responded" => State::Responded,
            "cancelled" => State::Cancelled,
            _ if now >= expires_at => State::Expired,
            "scheduled" => State::Scheduled,
            _ => State::Sent,
        }
    }
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Survey {
    pub id: String,
    pub conversation_id: String,
    pub customer_id: String,
    pub channel: Channel,
    /// The language the survey was asked in.
    pub language: String,
    pub template_id: String,
    /// `csat`, `nps` or `ces`: the survey's score question (absent for custom-only templates).
    pub kind: Option<String>,
    pub status: State,
    /// Agents who took part in the conversation (its assignee and every agent who wrote).
    pub agent_ids: Vec<String>,
    pub send_at: i64,
    pub sent_at: Option<i64>,
    pub expires_at: i64,
    pub responded_at: Option<i64>,
    /// Where the answer came from: `widget`, `sms`, `whatsapp`, `email` or `api`.
    pub response_source: Option<String>,
    /// The score question's answer.
    pub score: Option<i64>,
    /// The first free-text answer.
    pub comment: Option<String>,
    /// Every answer by question id.
    #[schemars(with = "BTreeMap<String, Value>")]
    pub answers: BTreeMap<String, Value>,
    pub created_at: i64,
    #[serde(skip)]
    pub template: Option<Template>,
    #[serde(skip)]
    pub tenant_id: String,
}

pub const COLUMNS: &str = "id, tenant_id, conversation_id, customer_id, channel, language, template_id, template, kind, status, agent_ids, send_at, sent_at, expires_at, responded_at, response_source, score, comment, answers, created_at";

/// `FromRow` needs the time to tell an expired survey from a waiting one; rows carry it as
/// the `now` column every survey query selects (`?n AS now`).
impl FromRow for Survey {
    fn from_row(r: &Row) -> ApiResult<Survey> {
        let id = r
            .text("id")
            .ok_or_else(|| ApiError::internal("corrupt survey row"))?;
        let expires_at = r.int("expires_at").unwrap_or(0);
        Ok(Survey {
            id,
            tenant_id: r.text("tenant_id").unwrap_or_default(),
            conversation_id: r.text("conversation_id").unwrap_or_default(),
            customer_id: r.text("customer_id").unwrap_or_default(),
            channel: r
                .text("channel")
                .as_deref()
                .and_then(Channel::parse)
                .unwrap_or(Channel::Web),
            language: r.text("language").unwrap_or_else(|| "en".into()),
            template_id: r.text("template_id").unwrap_or_default(),
            template: r
                .text("template")
                .and_then(|s| serde_json::from_str(&s).ok()),
            kind: r.text("kind"),
            status: State::parse(
                &r.text("status").unwrap_or_default(),
                expires_at,
                r.int("now").unwrap_or(0),
            ),
            agent_ids: r
                .text("agent_ids")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            send_at: r.int("send_at").unwrap_or(0),
            sent_at: r.int("sent_at"),
            expires_at,
            responded_at: r.int("responded_at"),
            response_source: r.text("response_source"),
            score: r.int("score"),
            comment: r.text("comment"),
            answers: r
                .text("answers")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            created_at: r.int("created_at").unwrap_or(0),
        })
    }
}

impl Listed for Survey {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

/// The conversation's survey, if it has one.
pub async fn for_conversation(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Option<Survey>> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS}, ?3 AS now FROM surveys WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, survey_id(conversation_id).as_str(), p.now_ms()],
        )
        .await?;
    records::first(&rows)
}

/// A survey by id, for its tenant (404 otherwise).
pub async fn get(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Survey> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS}, ?3 AS now FROM surveys WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id, p.now_ms()],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "survey not found"))
}

/// What the customer is shown: the survey in their language, and its state.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CustomerView {
    pub id: String,
    pub status: State,
    pub expires_at: i64,
    #[serde(flatten)]
    pub survey: template::Localised,
    /// The answers already given (after a response).
    #[schemars(with = "BTreeMap<String, Value>")]
    pub answers: BTreeMap<String, Value>,
}

impl Survey {
    /// The template it was sent with (the built-in one if the row's copy cannot be read).
    pub fn template(&self) -> Template {
        self.template.clone().unwrap_or_else(template::builtin)
    }

    pub fn customer_view(&self) -> CustomerView {
        CustomerView {
            id: self.id.clone(),
            status: self.status,
            expires_at: self.expires_at,
            survey: self.template().localised(&self.language),
            answers: self.answers.clone(),
        }
    }
}
