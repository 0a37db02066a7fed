//! Files in conversations: what a customer, an agent or a channel (MMS, WhatsApp, email) sends
//! besides text.
//!
//! An upload is checked before anything is stored — size against the route's cap and the
//! tenant's tier ([`limits`]), type by its magic bytes against an allow-list ([`sniff`]), name
//! sanitised ([`name`]) — then the bytes go to object storage (the [`BlobStore`] port: R2, or
//! [`KvBlobs`] over a key-value store), the row to `files`, and only then is an attachment
//! message posted through the conversation object, idempotent like text ([`upload`]).
//! Downloads go through short-lived signed links naming the tenant, conversation and file
//! ([`link`]), handed only to the conversation's participants.
//!
//! [`BlobStore`]: crate::ports::BlobStore

mod kv_blobs;
pub mod limits;
pub mod link;
pub mod name;
pub mod sniff;
pub mod store;
pub mod upload;

pub use kv_blobs::KvBlobs;
pub use store::FileRecord;
