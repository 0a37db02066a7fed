//! Live, single-writer objects. Each object class is core logic over a SQL store that only
//! that object writes: on Cloudflare a Durable Object (its own SQLite, single-threaded, so every
//! decision is serialised); elsewhere [`in_process::InProcessObjects`] runs the same logic over a
//! shared SQLite inside a transaction. Tables carry an `object` column so both layouts work.

pub mod gate;
pub mod in_process;
pub mod inbox;

use crate::conversations::engine::{self, ObjectEnv};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ports::{Clock, LiveHub, ObjectClass, ObjectRef, Objects, Random, SqlDatabase};
use serde_json::Value;

/// The header carrying the object's name on internal calls (set by the `Objects` port).
pub const NAME_HEADER: &str = "x-prism-object";
/// The header carrying the authenticated participant of a live connection (set by the edge).
pub const PARTICIPANT_HEADER: &str = "x-prism-participant";

/// What an object runs against, supplied by the runtime hosting it.
pub struct ObjectContext<'a> {
    pub target: &'a ObjectRef,
    /// The object's own storage.
    pub store: &'a dyn SqlDatabase,
    pub hub: &'a dyn LiveHub,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
    /// The tenant-wide database conversation mirrors are written to.
    pub mirror: Option<&'a dyn SqlDatabase>,
    /// Other objects (a conversation publishes to its tenant's inbox).
    pub objects: Option<&'a dyn Objects>,
    /// The edge platform, for work an object does beyond its own storage (AI answers: the
    /// knowledge base, providers, caches).
    pub platform: Option<&'a crate::platform::Platform>,
    /// Set while a mirror flush is running in this object instance. A Durable Object runs
    /// other events while one awaits I/O; without this, concurrent flushes would apply (and
    /// publish to the inbox) the same outbox entries several times. The running flush loops
    /// until the outbox is empty, so a skipped flush loses nothing. `None` where calls cannot
    /// overlap (in-process objects run each call in one transaction).
    pub flushing: Option<&'a std::cell::Cell<bool>>,
    /// Set once this object instance has created its tables, so later events skip the DDL
    /// (the gate sits on every authenticated request). `None`: create them on every call.
    pub schema_ready: Option<&'a std::cell::Cell<bool>>,
}

impl<'a> ObjectContext<'a> {
    fn conversation(&self) -> ObjectEnv<'a> {
        ObjectEnv {
            name: &self.target.name,
            store: self.store,
            hub: self.hub,
            clock: self.clock,
            random: self.random,
            schema_ready: self.schema_ready,
        }
    }
}

/// Creates an object's tables: once per instance where the host keeps `ready`, else every call.
pub async fn ensure_tables(
    db: &dyn SqlDatabase,
    schema: &[&str],
    ready: Option<&std::cell::Cell<bool>>,
) -> ApiResult<()> {
    if ready.is_some_and(std::cell::Cell::get) {
        return Ok(());
    }
    for s in schema {
        db.execute(s, &[]).await?;
    }
    if let Some(r) = ready {
        r.set(true);
    }
    Ok(())
}

/// What the host must do after an event: schedule a retry of the mirror outbox after this many
/// milliseconds (an alarm on Cloudflare).
pub type RetryAfter = Option<i64>;

/// The object-internal path that runs the AI answer to one customer message.
pub const AI_ANSWER_PATH: &str = "/ai/answer";

/// Serves one internal request to an object.
pub async fn handle(cx: &ObjectContext<'_>, req: Request) -> (Response, RetryAfter) {
    let result = match cx.target.class {
        ObjectClass::Gate => {
            gate::handle(&cx.target.name, cx.store, cx.clock, cx.schema_ready, req).await
        }
        ObjectClass::Inbox => inbox::handle(&cx.target.name, cx.store, cx.hub, cx.clock, req).await,
        ObjectClass::Conversation if req.path == AI_ANSWER_PATH => {
            let reply_to = req
                .query_param("reply_to")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            answer(cx, reply_to).await;
            Ok(Response::new(204))
        }
        ObjectClass::Conversation => engine::handle(&cx.conversation(), req).await,
    };
    let retry = match cx.target.class {
        ObjectClass::Conversation => flush(cx).await,
        _ => None,
    };
    (
        result.unwrap_or_else(|e| e.into_response("internal")),
        retry,
    )
}

/// Applies a conversation's mirror outbox (after any change, and from the retry alarm).
pub async fn flush(cx: &ObjectContext<'_>) -> RetryAfter {
    let mirror = cx.mirror?;
    if cx.flushing.is_some_and(|f| f.replace(true)) {
        return None;
    }
    let retry = match engine::flush(&cx.conversation(), mirror, cx.objects, cx.platform).await {
        Ok(retry) => retry,
        Err(_) => Some(5_000),
    };
    if let Some(f) = cx.flushing {
        f.set(false);
    }
    retry
}

/// Admits a live connection to an object; returns the socket attachment to store.
pub async fn connect(
    cx: &ObjectContext<'_>,
    participant_header: Option<&str>,
    extra: Value,
) -> ApiResult<Value> {
    let participant = participant_header
        .and_then(|h| serde_json::from_str(h).ok())
        .ok_or_else(|| ApiError::unauthorized("no participant"))?;
    match cx.target.class {
        ObjectClass::Conversation => engine::connect(&cx.conversation(), &participant).await,
        ObjectClass::Inbox => {
            inbox::ensure_schema(cx.store).await?;
            Ok(serde_json::json!({ "p": participant, "skills": extra["skills"] }))
        }
        ObjectClass::Gate => Err(ApiError::not_found("live route")),
    }
}

/// After a connection was accepted.
pub async fn joined(cx: &ObjectContext<'_>, conn: &str) -> RetryAfter {
    if cx.target.class == ObjectClass::Conversation {
        let _ = engine::joined(&cx.conversation(), conn).await;
    }
    None
}

/// A text frame arrived on a connection.
pub async fn on_text(cx: &ObjectContext<'_>, conn: &str, text: &str) -> RetryAfter {
    match cx.target.class {
        ObjectClass::Conversation => {
            match engine::on_text(&cx.conversation(), conn, text).await {
                Ok(Some(seq)) => {
                    // Mirror the customer's message before the (slower) answer.
                    let _ = flush(cx).await;
                    answer(cx, seq).await;
                }
                Ok(None) => {}
                Err(e) => cx.hub.send(
                    conn,
                    &crate::conversations::protocol::ServerFrame::error("internal", e.message)
                        .to_text(),
                ),
            }
            flush(cx).await
        }
        // Inbox sockets are receive-only.
        _ => None,
    }
}

/// Runs the AI answer to a customer message. Failures never reach the customer as errors:
/// the message is already stored, and an agent sees it in the inbox.
async fn answer(cx: &ObjectContext<'_>, reply_to: i64) {
    let Some(p) = cx.platform else { return };
    let env = cx.conversation();
    if let Err(e) = crate::ai::answer::answer(&env, p, reply_to).await {
        let line = serde_json::json!({"level": "error", "msg": "ai answer failed", "object": cx.target.name, "error": e.message});
        p.log.log(&line.to_string());
    }
}

/// A connection closed.
pub async fn on_close(cx: &ObjectContext<'_>, conn: &str, attachment: &Value) -> RetryAfter {
    if cx.target.class == ObjectClass::Conversation {
        let _ = engine::on_close(&cx.conversation(), conn, attachment).await;
    }
    None
}
