use crate::error::{ApiError, ApiResult, ErrorCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a conversation stands. The AI answers only while it is `open`; `pending_human` means a
/// person owns it until they release it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    PendingHuman,
    Resolved,
    Closed,
}

impl Status {
    /// Every status's wire name (query filters, documents).
    pub const NAMES: &'static [&'static str] = &["open", "pending_human", "resolved", "closed"];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::PendingHuman => "pending_human",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "pending_human" => Some(Status::PendingHuman),
            "resolved" => Some(Status::Resolved),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }

    /// The status machine: which moves are allowed. Closed is final.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        match (self, next) {
            (a, b) if a == b => true,
            (Closed, _) => false,
            (Open, PendingHuman | Resolved | Closed) => true,
            (PendingHuman, Open | Resolved | Closed) => true,
            (Resolved, Open | PendingHuman | Closed) => true,
            _ => false,
        }
    }

    pub fn check_transition(self, next: Status) -> ApiResult<()> {
        if self.can_become(next) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "a {} conversation cannot become {}",
                    self.as_str(),
                    next.as_str()
                ),
            ))
        }
    }

    /// Whether the AI may answer customer messages.
    pub fn ai_answers(self) -> bool {
        self == Status::Open
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Customer,
    Ai,
    Agent,
    System,
}

impl AuthorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Customer => "customer",
            AuthorKind::Ai => "ai",
            AuthorKind::Agent => "agent",
            AuthorKind::System => "system",
        }
    }
    pub fn parse(s: &str) -> AuthorKind {
        match s {
            "customer" => AuthorKind::Customer,
            "ai" => AuthorKind::Ai,
            "agent" => AuthorKind::Agent,
            _ => AuthorKind::System,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Author {
    #[serde(rename = "type")]
    pub kind: AuthorKind,
    pub id: String,
    pub name: String,
}

/// Who is on the other end of a connection or request, as the gateway authenticated them. It
/// travels to the object in a header the edge sets (clients cannot forge it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Participant {
    Customer {
        id: String,
        name: String,
    },
    Agent {
        id: String,
        name: String,
    },
    /// The assistant, acting from inside the platform.
    Ai,
    /// The platform itself (status changes by API keys, automations).
    System {
        id: String,
    },
}

impl Participant {
    pub fn author(&self) -> Author {
        match self {
            Participant::Customer { id, name } => Author {
                kind: AuthorKind::Customer,
                id: id.clone(),
                name: name.clone(),
            },
            Participant::Agent { id, name } => Author {
                kind: AuthorKind::Agent,
                id: id.clone(),
                name: name.clone(),
            },
            Participant::Ai => Author {
                kind: AuthorKind::Ai,
                id: "ai".into(),
                name: "Assistant".into(),
            },
            Participant::System { id } => Author {
                kind: AuthorKind::System,
                id: id.clone(),
                name: "System".into(),
            },
        }
    }

    /// Agents (and the system) see internal notes; customers never do.
    pub fn is_staff(&self) -> bool {
        !matches!(self, Participant::Customer { .. })
    }

    pub fn id(&self) -> &str {
        match self {
            Participant::Customer { id, .. }
            | Participant::Agent { id, .. }
            | Participant::System { id } => id,
            Participant::Ai => "ai",
        }
    }
}

/// A conversation's state, owned by its object and mirrored to the inbox tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Meta {
    pub tenant_id: String,
    pub conversation_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub channel: Channel,
    pub status: Status,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub subject: Option<String>,
    pub handoff_reason: Option<String>,
    /// Sequence number of the newest message (0 when empty).
    pub last_seq: i64,
    pub last_message_at: Option<i64>,
    pub last_message_preview: Option<String>,
    /// Highest seq each side has read.
    pub read_customer: i64,
    pub read_agent: i64,
    /// Customer messages the agents have not read, and the reverse.
    pub unread_agent: i64,
    pub unread_customer: i64,
    /// Consecutive AI turns since a human last spoke or the conversation opened.
    pub ai_turns: i64,
    /// The customer's language (BCP 47, e.g. `es`, `pt-BR`) when known: the widget sends its
    /// own; agents translate into it.
    #[serde(default)]
    pub language: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// What analytics needs, kept by the object as things happen.
    #[serde(default)]
    pub facts: crate::analytics::facts::Facts,
}

/// Where a conversation happens. Its wire name (`sms`, `email`, …) is stored and sent as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Sms,
    Whatsapp,
    Email,
    Voice,
    Api,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Web,
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Email,
        Channel::Voice,
        Channel::Api,
    ];
    /// Every channel's wire name (query filters, documents).
    pub const NAMES: &'static [&'static str] = &["web", "sms", "whatsapp", "email", "voice", "api"];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
            Channel::Voice => "voice",
            Channel::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Replies on this channel leave through a provider (voice replies are spoken by the voice
    /// provider itself; web and API clients read them live).
    pub fn delivers_replies(self) -> bool {
        matches!(self, Channel::Sms | Channel::Whatsapp | Channel::Email)
    }
}

/// How urgent a conversation is for the team.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// Tags are short labels (`billing`, `vip`); they also route handoffs by agent skill.
pub fn validate_tags(tags: &[String]) -> ApiResult<()> {
    if tags.len() > 20 {
        return Err(ApiError::validation("tags", "at most 20 tags"));
    }
    for (i, t) in tags.iter().enumerate() {
        if t.is_empty()
            || t.len() > 32
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ApiError::validation(
                format!("tags[{i}]"),
                "tags are 1-32 letters, digits, '-' or '_'",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine() {
        use Status::*;
        assert!(Open.can_become(PendingHuman));
        assert!(PendingHuman.can_become(Open));
        assert!(Resolved.can_become(Open));
        assert!(!Closed.can_become(Open));
        assert!(Closed.can_become(Closed));
        assert!(Open.ai_answers() && !PendingHuman.ai_answers() && !Resolved.ai_answers());
    }
}
