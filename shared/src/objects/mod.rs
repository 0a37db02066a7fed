//! Live, single-writer objects. Each object class is core logic over a SQL store that only
//! that object writes: on Cloudflare a Durable Object (its own SQLite, single-threaded, so every
//! decision is serialised); elsewhere [`in_process::InProcessObjects`] runs the same logic over a
//! shared SQLite inside a transaction. Tables carry an `object` column so both layouts work.

pub mod gate;
pub mod in_process;

use crate::error::ApiError;
use crate::http::{Request, Response};
use crate::ports::{Clock, ObjectClass, ObjectRef, SqlDatabase};

/// The header carrying the object's name on internal calls (set by the `Objects` port).
pub const NAME_HEADER: &str = "x-prism-object";

/// Serves one internal request to an object.
pub async fn handle(
    target: &ObjectRef,
    store: &dyn SqlDatabase,
    clock: &dyn Clock,
    req: Request,
) -> Response {
    let result = match target.class {
        ObjectClass::Gate => gate::handle(&target.name, store, clock, req).await,
        ObjectClass::Conversation => Err(ApiError::not_found("object route")),
    };
    result.unwrap_or_else(|e| e.into_response("internal"))
}
