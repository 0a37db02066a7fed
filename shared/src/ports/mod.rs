//! What a runtime provides to the core. Each port is a small trait; the Cloudflare worker and
//! the Spin component implement them over their bindings, and `crate::testing` implements them
//! natively (in memory, or over a real SQLite) for fast tests.
//!
//! All ports are `?Send`: both edge runtimes run one request on one thread, and requiring `Send`
//! would rule out holding JS handles.

mod blobs;
mod clock;
mod kv;
mod live;
mod log;
mod objects;
mod outbound;
mod queue;
mod random;
mod sql;

pub use blobs::BlobStore;
pub use clock::{Background, Clock, Inline, Timer};
pub use kv::KvStore;
pub use live::{Connection, ConnectionId, LiveHub, NoHub};
pub use log::Logger;
pub use objects::{ObjectClass, ObjectRef, Objects};
pub use outbound::HttpClient;
pub use queue::Queue;
pub use random::Random;
pub use sql::{Row, SqlDatabase, SqlValue, Statement};

use std::fmt;

/// A failure inside a port (storage unreachable, binding error, network error). The message is
/// for logs; clients only ever see a generic `storage_error` / `upstream_error`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortError(pub String);

impl PortError {
    pub fn new(msg: impl Into<String>) -> Self {
        PortError(msg.into())
    }
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PortError {}

impl From<PortError> for crate::error::ApiError {
    fn from(e: PortError) -> Self {
        crate::error::ApiError::new(
            crate::error::ErrorCode::StorageError,
            format!("storage operation failed: {}", e.0),
        )
    }
}
