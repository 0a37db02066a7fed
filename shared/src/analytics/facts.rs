//! What a conversation's own object records about itself for analytics, as things happen: the
//! first response, the handoff, the resolution, reopenings and message counts. The object is
//! the conversation's single writer, so these are exact (no re-derivation from messages), and
//! they ride the mirror's conversation row, which only moves forward — the rollups built from
//! them (`rollup.rs`) are therefore replay-safe. Definitions: `docs/metrics.md`.

use crate::conversations::model::{Participant, Status};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Facts {
    pub msgs_customer: i64,
    pub msgs_ai: i64,
    pub msgs_agent: i64,
    /// The first customer message (the clock every response time starts from).
    pub first_customer_at: Option<i64>,
    /// The first AI or agent message after the first customer message.
    pub first_response_at: Option<i64>,
    /// The first agent message after the first customer message.
    pub first_human_at: Option<i64>,
    /// When the conversation first waited for a person, and why.
    pub handoff_at: Option<i64>,
    pub handoff_reason: Option<String>,
    /// The latest resolution (`None` while open again after a reopen).
    pub resolved_at: Option<i64>,
    /// `ai` when nobody but the assistant had written to the customer and the conversation was
    /// never handed to a person when it was resolved; otherwise `human`.
    pub resolved_by: Option<String>,
    pub reopens: i64,
}

impl Facts {
    /// A message was appended at `ts`.
    pub fn on_message(&mut self, who: &Participant, ts: i64) {
        match who {
            Participant::Customer { .. } => {
                self.msgs_customer += 1;
                self.first_customer_at.get_or_insert(ts);
            }
            Participant::Ai => {
                self.msgs_ai += 1;
                if self.first_customer_at.is_some() {
                    self.first_response_at.get_or_insert(ts);
                }
            }
            Participant::Agent { .. } => {
                self.msgs_agent += 1;
                if self.first_customer_at.is_some() {
                    self.first_response_at.get_or_insert(ts);
                    self.first_human_at.get_or_insert(ts);
                }
            }
            Participant::System { .. } => {}
        }
    }

    /// The status moved from `from` to `to` at `ts`.
    pub fn on_status(&mut self, from: Status, to: Status, reason: Option<&str>, ts: i64) {
        match to {
            Status::PendingHuman if self.handoff_at.is_none() => {
                self.handoff_at = Some(ts);
                self.handoff_reason = reason.map(str::to_string);
            }
            Status::Resolved | Status::Closed if from != Status::Resolved => {
                self.resolved_at = Some(ts);
                self.resolved_by = Some(if self.contained() { "ai" } else { "human" }.into());
            }
            Status::Open | Status::PendingHuman if from == Status::Resolved => {
                self.reopens += 1;
                self.resolved_at = None;
                self.resolved_by = None;
            }
            _ => {}
        }
    }

    /// Resolved without a person: no agent message and never handed off.
    pub fn contained(&self) -> bool {
        self.msgs_agent == 0 && self.handoff_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> Participant {
        Participant::Customer {
            id: "c".into(),
            name: "C".into(),
        }
    }
    fn agent() -> Participant {
        Participant::Agent {
            id: "a".into(),
            name: "A".into(),
        }
    }

    #[test]
    fn responses_count_only_after_the_customer_spoke() {
        let mut f = Facts::default();
        f.on_message(&Participant::Ai, 1); // a greeting is not a response
        f.on_message(&customer(), 10);
        f.on_message(&Participant::Ai, 15);
        f.on_message(&agent(), 40);
        f.on_message(&agent(), 50);
        assert_eq!(f.first_customer_at, Some(10));
        assert_eq!(f.first_response_at, Some(15));
        assert_eq!(f.first_human_at, Some(40));
        assert_eq!((f.msgs_customer, f.msgs_ai, f.msgs_agent), (1, 2, 2));
    }

    #[test]
    fn reopening_clears_the_resolution_and_counts() {
        let mut f = Facts::default();
        f.on_message(&customer(), 1);
        f.on_message(&Participant::Ai, 2);
        f.on_status(Status::Open, Status::Resolved, None, 3);
        assert_eq!(f.resolved_by.as_deref(), Some("ai"));
        f.on_status(Status::Resolved, Status::Open, None, 4);
        assert_eq!((f.resolved_at, f.reopens), (None, 1));
        f.on_status(Status::Open, Status::PendingHuman, Some("requested"), 5);
        f.on_status(Status::PendingHuman, Status::Resolved, None, 9);
        assert_eq!(f.resolved_at, Some(9));
        assert_eq!(f.resolved_by.as_deref(), Some("human"));
        assert_eq!(f.handoff_reason.as_deref(), Some("requested"));
        // Closing a resolved conversation keeps its resolution time.
        f.on_status(Status::Resolved, Status::Closed, None, 20);
        assert_eq!(f.resolved_at, Some(9));
    }
}
