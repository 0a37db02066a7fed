//! Customers' data rights: everything held about one person as one document ([`export`]),
//! erasure ([`erase`]: every copy redacted, in the conversation objects, the tenant-wide
//! tables, the inbox feed and the webhook ledgers) and the tenant's retention period
//! ([`retention`]: old conversations deleted by the cron sweep, in bounded batches).
//!
//! What a person is: a customer and the tenant's other customers with the same email or phone
//! (`customers::same_person`), as the console's customer panel shows them.

pub mod erase;
pub mod export;
pub mod retention;

/// What an erased message's text becomes (its sequence, author type and time stay, so the
/// tenant's counts and the conversation's order are unchanged).
pub const ERASED_TEXT: &str = "[erased]";

/// What an erased customer is called wherever a name is shown.
pub const ERASED_NAME: &str = "Erased customer";

/// The prefix every outgoing webhook event id of a conversation starts with
/// (`evt_{conversation}_{outbox entry}_{n}`, see `outgoing::events`).
pub(crate) fn event_prefix(conversation_id: &str) -> String {
    format!("evt_{conversation_id}_")
}
