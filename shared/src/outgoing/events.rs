//! The events tenants can subscribe endpoints to, and the payload each one carries. Worked out
//! from a conversation object's mirror outbox (which already carries every change, in order),
//! so an event exists exactly when the change it reports was stored.

use crate::conversations::mirror::{EventKind, OutboxOp};
use crate::conversations::model::{Meta, Status};
use crate::conversations::protocol::MessageView;
use crate::conversations::store::OutboxEntry;
use crate::error::ApiResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// An event type's wire name and what it means (the catalogue: API, OpenAPI, console).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EventType {
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "conversation.handoff")]
    ConversationHandoff,
    #[serde(rename = "conversation.resolved")]
    ConversationResolved,
    #[serde(rename = "lead.created")]
    LeadCreated,
    #[serde(rename = "lead.stage_changed")]
    LeadStageChanged,
    #[serde(rename = "survey.responded")]
    SurveyResponded,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        EventType::ConversationCreated,
        EventType::MessageCreated,
        EventType::ConversationHandoff,
        EventType::ConversationResolved,
        EventType::LeadCreated,
        EventType::LeadStageChanged,
        EventType::SurveyResponded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ConversationCreated => "conversation.created",
            EventType::MessageCreated => "message.created",
            EventType::ConversationHandoff => "conversation.handoff",
            EventType::ConversationResolved => "conversation.resolved",
            EventType::LeadCreated => "lead.created",
            EventType::LeadStageChanged => "lead.stage_changed",
            EventType::SurveyResponded => "survey.responded",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    pub fn description(self) -> &'static str {
        match self {
            EventType::ConversationCreated => {
                "A conversation started (widget, SMS, WhatsApp, email or voice)."
            }
            EventType::MessageCreated => {
                "A message was posted by the customer, the AI or an agent (not internal notes)."
            }
            EventType::ConversationHandoff => {
                "The conversation was handed to a person (`data.conversation.handoff_reason` says why)."
            }
            EventType::ConversationResolved => "The conversation was marked resolved.",
            EventType::LeadCreated => {
                "A lead was captured (API, pre-chat form, or contact details or buying intent in a customer's message)."
            }
            EventType::LeadStageChanged => {
                "A lead moved between stages (`data.stage.from` → `data.stage.to`), by an agent or automatically on qualification."
            }
            EventType::SurveyResponded => {
                "A customer answered a satisfaction survey (`data.survey`: score, comment, every answer, the agents involved)."
            }
        }
    }

    /// Lead events carry a lead; the others a conversation.
    pub fn is_lead(self) -> bool {
        matches!(self, EventType::LeadCreated | EventType::LeadStageChanged)
    }
}

/// What a survey event's `data` holds.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SurveyEventData {
    pub survey: crate::surveys::Survey,
}

/// What a lead event's `data` holds.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LeadEventData {
    pub lead: crate::leads::Lead,
    /// `{"from", "to"}` (`lead.stage_changed` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Value>,
}

/// The conversation as every event shows it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ConversationRef {
    pub id: String,
    pub channel: crate::conversations::model::Channel,
    pub status: Status,
    pub customer_id: String,
    pub customer_name: String,
    pub assignee_id: Option<String>,
    pub tags: Vec<String>,
    pub handoff_reason: Option<String>,
    pub language: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ConversationRef {
    fn of(m: &Meta) -> Self {
        ConversationRef {
            id: m.conversation_id.clone(),
            channel: m.channel,
            status: m.status,
            customer_id: m.customer_id.clone(),
            customer_name: m.customer_name.clone(),
            assignee_id: m.assignee_id.clone(),
            tags: m.tags.clone(),
            handoff_reason: m.handoff_reason.clone(),
            language: m.language.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// What an event's `data` holds.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct EventData {
    pub conversation: ConversationRef,
    /// The message (`message.created` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageView>,
}

/// The body POSTed to an endpoint (the Standard Webhooks payload shape).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct EventPayload<D = EventData> {
    /// The event's id: the same on every delivery attempt and every endpoint.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the change happened (RFC 3339).
    pub timestamp: String,
    pub data: D,
}

/// One event to deliver to the tenant's subscribed endpoints.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub tenant_id: String,
    pub id: String,
    pub kind: EventType,
    /// The payload, serialised once for every endpoint.
    pub body: String,
    pub at: i64,
}

/// The events in a batch of outbox entries. Ids are derived from the conversation, the entry
/// and the op's place in it, so applying the same entries again yields the same events.
pub fn from_outbox(entries: &[OutboxEntry]) -> ApiResult<Vec<Outgoing>> {
    let mut out = Vec::new();
    for e in entries {
        let has_event = e.ops.iter().any(|op| matches!(op, OutboxOp::Event { .. }));
        // The conversation as the change left it (the state queued with it).
        let Some(state) = e.state.as_ref().filter(|_| has_event) else {
            continue;
        };
        let meta = &state.decode()?;
        for (n, op) in e.ops.iter().enumerate() {
            let OutboxOp::Event { event } = op else {
                continue;
            };
            let kind = match (event.kind, event.status) {
                (EventKind::ConversationCreated, _) => EventType::ConversationCreated,
                (EventKind::MessageCreated, _) => EventType::MessageCreated,
                (EventKind::ConversationStatus, Status::PendingHuman) => {
                    EventType::ConversationHandoff
                }
                (EventKind::ConversationStatus, Status::Resolved) => {
                    EventType::ConversationResolved
                }
                _ => continue,
            };
            let message = if kind == EventType::MessageCreated {
                let seq = event.data["seq"].as_i64();
                let found = e.ops.iter().find_map(|op| match op {
                    OutboxOp::Message { message, .. } if Some(message.seq) == seq => {
                        Some(message.clone())
                    }
                    _ => None,
                });
                // Internal notes raise no message op: they stay inside the team.
                let Some(m) = found else { continue };
                Some(m)
            } else {
                None
            };
            let at = message.as_ref().map_or(meta.updated_at, |m| m.ts);
            let id = format!("evt_{}_{}_{n}", meta.conversation_id, e.id);
            let payload = EventPayload {
                id: id.clone(),
                kind,
                timestamp: crate::time::rfc3339(at),
                data: EventData {
                    conversation: ConversationRef::of(meta),
                    message,
                },
            };
            out.push(Outgoing {
                tenant_id: meta.tenant_id.clone(),
                id,
                kind,
                body: serde_json::to_string(&payload).unwrap_or_default(),
                at,
            });
        }
    }
    Ok(out)
}

/// The catalogue as the API lists it.
pub fn catalogue() -> Value {
    Value::Array(
        EventType::ALL
            .iter()
            .map(|t| json!({ "type": t.as_str(), "description": t.description() }))
            .collect(),
    )
}
