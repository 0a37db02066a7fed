use super::PortError;
use crate::http::{Request, Response};
use async_trait::async_trait;

/// Kinds of live, single-writer objects. On Cloudflare each is a Durable Object class; on Spin
/// the same core logic runs in-process over Spin's SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectClass {
    /// One per conversation: the ordered message log and the live WebSocket hub.
    Conversation,
    /// One per tenant: exact rate limits and the tenant's current credential version.
    Gate,
    /// One per tenant: the agents' live inbox feed, presence and handoff routing.
    Inbox,
}

impl ObjectClass {
    /// The binding name in `wrangler.toml`.
    pub fn binding(self) -> &'static str {
        match self {
            ObjectClass::Conversation => "CONVERSATIONS",
            ObjectClass::Gate => "GATES",
            ObjectClass::Inbox => "INBOXES",
        }
    }
}

/// One named instance of an object class (e.g. the conversation `t_123:c_456`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub class: ObjectClass,
    pub name: String,
}

impl ObjectRef {
    pub fn new(class: ObjectClass, name: impl Into<String>) -> Self {
        ObjectRef {
            class,
            name: name.into(),
        }
    }
}

/// Calls into a live object with an internal HTTP request, the object's whole API.
#[async_trait(?Send)]
pub trait Objects {
    async fn call(&self, target: &ObjectRef, req: Request) -> Result<Response, PortError>;
}
