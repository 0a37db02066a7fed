//! Conversations: the ordered message log between a customer, the AI assistant and human
//! agents, its live protocol and its status machine.
//!
//! Each conversation is one live object (a Durable Object on Cloudflare) and that object is the
//! single writer: [`engine`] assigns sequence numbers 1, 2, 3… in its own storage ([`store`]),
//! deduplicates by client message id, fans frames out to connected clients and queues mirror
//! writes in a durable outbox that [`mirror`] applies to the tenant-wide tables.

pub mod canned;
pub mod client;
pub mod customers;
pub mod engine;
pub mod mirror;
pub mod model;
pub mod protocol;
pub mod search;
pub mod sse;
pub mod store;
pub mod tokens;

pub use model::{Author, AuthorKind, Channel, Meta, Participant, Priority, Status};
