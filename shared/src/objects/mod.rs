//! Live, single-writer objects. Each object class is core logic over a SQL store that only
//! that object writes: on Cloudflare a Durable Object (its own SQLite, single-threaded, so every
//! decision is serialised); elsewhere [`in_process::InProcessObjects`] runs the same logic over a
//! shared SQLite inside a transaction. Tables carry an `object` column so both layouts work.

pub mod gate;
pub mod in_process;
pub mod inbox;

use crate::auth::live::{self, Grant, Verdict};
use crate::conversations::engine::{self, ObjectEnv};
use crate::conversations::protocol::{ClientFrame, ServerFrame};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ports::{Clock, LiveHub, ObjectClass, ObjectRef, Objects, Random, SqlDatabase};
use serde_json::Value;

/// The header carrying the object's name on internal calls (set by the `Objects` port).
pub const NAME_HEADER: &str = "x-prism-object";
/// The header carrying the authenticated participant of a live connection (set by the edge).
pub const PARTICIPANT_HEADER: &str = "x-prism-participant";
/// The header carrying what admitted a live connection ([`Grant`], set by the edge), so the
/// object can re-check it while the socket stays open.
pub const GRANT_HEADER: &str = "x-prism-grant";

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
    /// publish to the inbox) the same outbox entries several times. A skipped flush loses
    /// nothing: what was queued while the running one worked is left to the alarm it asks for
    /// (`engine::MORE_QUEUED`). `None` where calls cannot overlap (in-process objects run each
    /// call in one transaction).
    pub flushing: Option<&'a std::cell::Cell<bool>>,
    /// Set once this object instance has created its tables, so later events skip the DDL
    /// (the gate sits on every authenticated request). `None`: create them on every call.
    pub schema_ready: Option<&'a std::cell::Cell<bool>>,
    /// What this instance remembers between events to skip per-message work (see [`Pace`]).
    /// `None`: every event does that work (in-process objects, tests).
    pub pace: Option<&'a Pace>,
}

/// Per-instance memory that lets a busy conversation skip work per message: when the
/// earliest socket grant is due for a re-check (so a message does not decode every member's
/// grant), when the mirror was last flushed (so mirror and inbox work is batched over
/// [`FLUSH_EVERY_MS`] instead of done per message), and the conversation's state and mirror
/// outbox as last stored (so neither a message nor a flush reads and decodes them from storage).
#[derive(Default)]
pub struct Pace {
    /// The conversation's state; only a host whose instance is its one writer keeps a `Pace`.
    kept: crate::conversations::engine::kept_meta::KeptMeta,
    /// What the last flush wrote to the mirror row's rollup fields.
    mirrored: crate::conversations::engine::mirrored::Mirrored,
    /// The mirror outbox, so a flush does not read it back from storage.
    outbox: crate::conversations::engine::kept_outbox::KeptOutbox,
    /// The earliest time a socket's grant is due; `None` when unknown (sockets joined or left).
    recheck_at: std::cell::Cell<Option<i64>>,
    /// When the last live-frame flush started (ms since the epoch).
    flushed_at: std::cell::Cell<i64>,
    /// Each socket's frames in arrival order; one gate call per lease at a time.
    turns: crate::live::turns::Turns,
    /// The customers' message leases.
    leases: live::Leases,
    /// An inbox's last event sequence (inbox objects only).
    inbox_seq: inbox::KeptSeq,
}

impl Pace {
    /// Membership changed: the next event computes the earliest re-check afresh.
    pub fn sockets_changed(&self) {
        self.recheck_at.set(None);
    }
}

/// The most a live message waits for its mirror write and inbox event: messages arriving
/// within this window of a flush are mirrored together by the next one (an alarm), so a busy
/// conversation makes one D1 batch and one inbox call per window rather than per message.
/// The outbox is written in the same storage step as the message, so nothing waits unsafely.
pub const FLUSH_EVERY_MS: i64 = 100;

impl<'a> ObjectContext<'a> {
    fn conversation(&self) -> ObjectEnv<'a> {
        ObjectEnv {
            name: &self.target.name,
            store: self.store,
            hub: self.hub,
            clock: self.clock,
            random: self.random,
            schema_ready: self.schema_ready,
            kept: self.pace.map(|p| &p.kept),
            mirrored: self.pace.map(|p| &p.mirrored),
            outbox: self.pace.map(|p| &p.outbox),
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

/// The object-internal path typed calls are posted to (`engine::Call` as the body).
pub const CALL_PATH: &str = "/call";

/// Serves one internal request to an object.
pub async fn handle(cx: &ObjectContext<'_>, req: Request) -> (Response, RetryAfter) {
    let result = match cx.target.class {
        ObjectClass::Gate => {
            gate::handle(&cx.target.name, cx.store, cx.clock, cx.schema_ready, req).await
        }
        ObjectClass::Inbox => {
            // Routing must never pick an agent whose access ended: check every socket against
            // the tenant's current version first (one gate call when nothing changed).
            if req.path == "/route" {
                recheck_sockets(cx, true).await;
            }
            inbox::handle(
                &cx.target.name,
                cx.store,
                cx.schema_ready,
                cx.pace.map(|p| &p.inbox_seq),
                cx.hub,
                cx.clock,
                req,
            )
            .await
        }
        ObjectClass::Conversation => match crate::input::parse_json::<engine::Call>(&req.body) {
            Ok(engine::Call::AiAnswer { reply_to }) => {
                answer(cx, reply_to).await;
                Ok(Response::new(204))
            }
            Ok(call) if req.path == CALL_PATH => engine::handle(&cx.conversation(), call).await,
            Ok(_) => Err(ApiError::not_found("conversation object route")),
            Err(e) => Err(e),
        },
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
        // What frames queued meanwhile goes with the window after the one this flush opened.
        Ok(Some(engine::MORE_QUEUED)) => Some(cx.pace.map_or(0, |p| {
            (FLUSH_EVERY_MS - (cx.clock.now_ms() - p.flushed_at.get())).clamp(0, FLUSH_EVERY_MS)
        })),
        Ok(retry) => retry,
        Err(_) => Some(5_000),
    };
    if let Some(f) = cx.flushing {
        f.set(false);
    }
    retry
}

/// Admits a live connection to an object; returns the socket attachment to store (with the
/// grant that admitted it, re-checked while the socket is open).
pub async fn connect(
    cx: &ObjectContext<'_>,
    participant_header: Option<&str>,
    grant_header: Option<&str>,
    extra: Value,
) -> ApiResult<Value> {
    let participant = participant_header
        .and_then(|h| serde_json::from_str(h).ok())
        .ok_or_else(|| ApiError::unauthorized("no participant"))?;
    let grant: Grant = grant_header
        .and_then(|h| serde_json::from_str(h).ok())
        .ok_or_else(|| ApiError::unauthorized("no grant"))?;
    let mut attachment = match cx.target.class {
        ObjectClass::Conversation => engine::connect(&cx.conversation(), &participant).await?,
        ObjectClass::Inbox => {
            inbox::ensure_schema(cx.store, cx.schema_ready).await?;
            // `since`: the agent's time online is counted from here when the socket closes.
            serde_json::json!({ "p": participant, "skills": extra["skills"], "since": cx.clock.now_ms() })
        }
        ObjectClass::Gate => return Err(ApiError::not_found("live route")),
    };
    attachment["g"] = serde_json::to_value(&grant).unwrap_or_default();
    Ok(attachment)
}

/// After a connection was accepted: greet it, and wake up when its grant is due for a re-check.
pub async fn joined(cx: &ObjectContext<'_>, conn: &str) -> RetryAfter {
    if cx.target.class == ObjectClass::Conversation {
        let _ = engine::joined(&cx.conversation(), conn).await;
    }
    next_recheck(cx)
}

/// A text frame arrived on a connection.
pub async fn on_text(cx: &ObjectContext<'_>, conn: &str, text: &str) -> RetryAfter {
    if cx.target.class != ObjectClass::Conversation {
        // Inbox sockets are receive-only; a frame is still a moment to re-check them.
        recheck_sockets(cx, false).await;
        return None;
    }
    // The socket's earlier frames are stored first (`crate::live::turns`); the turn is held until
    // this frame is stored or refused, not through the answer it may trigger.
    let turn = match cx.pace {
        Some(pace) => Some(pace.turns.wait(conn).await),
        None => None,
    };
    // A frame in a busy conversation skips the scan of every socket's grant while none is
    // due (the alarm re-checks them when one is).
    let not_due = cx
        .pace
        .and_then(|pace| pace.recheck_at.get())
        .is_some_and(|at| cx.clock.now_ms() < at);
    let closed = if not_due {
        Vec::new()
    } else {
        recheck_sockets(cx, false).await
    };
    if !closed.contains(&conn.to_string()) {
        let env = cx.conversation();
        let outcome = async {
            let Some((who, frame)) = engine::receive(&env, conn, text)? else {
                return Ok(None);
            };
            let Some(frame) = admit_frame(cx, conn, &who, frame).await? else {
                return Ok(None);
            };
            engine::on_frame(&env, conn, &who, frame).await
        }
        .await;
        drop(turn);
        top_up_leases(cx).await;
        match outcome {
            Ok(Some(seq)) => {
                // Mirror the customer's message before the (slower) answer.
                let _ = flush_paced(cx).await;
                answer(cx, seq).await;
            }
            Ok(None) => {}
            Err(e) => {
                log_error(cx, "live frame failed", &e);
                cx.hub.send(
                    conn,
                    &ServerFrame::error(
                        crate::conversations::protocol::FrameCode::Internal,
                        "the frame could not be processed; retry",
                    )
                    .to_text(),
                );
            }
        }
    }
    flush_paced(cx).await
}

/// The turn that makes a lease's gate calls one at a time.
fn lease_turn(key: &str) -> String {
    format!("lease\u{0}{key}")
}

/// Runs the lease top-ups frames claimed (`MessageLease::low`): after the claiming frame is
/// stored, so no message waits for it; frames that find the lease empty meanwhile wait for
/// it like for any refill. A refused or stale top-up changes nothing: the next refill
/// handles the limit or the tenant's change.
async fn top_up_leases(cx: &ObjectContext<'_>) {
    let (Some(pace), Some(p)) = (cx.pace, cx.platform) else {
        return;
    };
    while let Some((key, grant)) = pace.leases.next_top_up() {
        let refill = pace.turns.wait(&lease_turn(&key)).await;
        let lease = pace.leases.get(&key);
        let now = cx.clock.now_ms();
        if lease.low(now) {
            match live::charge_message(p, &grant, lease.top_up_request(now), 0, true).await {
                Ok(check) if check.allowed && !check.stale => {
                    // Frames spent units while the call was out: add to what is left now.
                    let now = cx.clock.now_ms();
                    let mut lease = pace.leases.get(&key);
                    lease.topped_up(now, check.granted);
                    pace.leases.put(&key, lease, now);
                }
                Ok(_) => {}
                Err(e) => log_error(cx, "lease top-up failed", &e),
            }
        }
        drop(refill);
        pace.leases.top_up_done(&key);
    }
}

/// [`flush`] for live frames: at most once per [`FLUSH_EVERY_MS`]; within the window it only
/// asks for the alarm that flushes what accumulated, and none when nothing did (the frame
/// that just flushed, in a quiet conversation: each alarm is a storage write, and its firing
/// an event and another, so asking anyway cost every message of a slow conversation two
/// writes and an event that mirrored nothing).
async fn flush_paced(cx: &ObjectContext<'_>) -> RetryAfter {
    let Some(pace) = cx.pace else {
        return flush(cx).await;
    };
    let now = cx.clock.now_ms();
    let since = now - pace.flushed_at.get();
    if (0..FLUSH_EVERY_MS).contains(&since) {
        if pace.outbox.known_empty() {
            return None;
        }
        return Some(FLUSH_EVERY_MS - since);
    }
    pace.flushed_at.set(now);
    flush(cx).await
}

/// What a frame needs beyond flood control before it acts: a customer's message is charged
/// like the HTTP request it replaces (it can trigger an AI answer), and an agent's
/// `/shortcut` is expanded as it is over HTTP. `None`: refused (the sender was told).
async fn admit_frame(
    cx: &ObjectContext<'_>,
    conn: &str,
    who: &crate::conversations::Participant,
    frame: ClientFrame,
) -> ApiResult<Option<ClientFrame>> {
    let ClientFrame::Message {
        client_msg_id,
        text,
    } = frame
    else {
        return Ok(Some(frame));
    };
    let Some(p) = cx.platform else {
        return Ok(Some(ClientFrame::Message {
            client_msg_id,
            text,
        }));
    };
    match who {
        crate::conversations::Participant::Customer { .. } => {
            // Only customers are charged per message (`Leases::key`); an API key or a user
            // holding a customer's socket is not.
            let charged = grant_of(cx, conn).and_then(|g| live::Leases::key(&g).map(|k| (g, k)));
            if let Some((grant, key)) = charged {
                // Without a `Pace` (no instance memory) nothing is kept: a check per message.
                let scratch;
                let leases = match cx.pace {
                    Some(pace) => &pace.leases,
                    None => {
                        scratch = live::Leases::default();
                        &scratch
                    }
                };
                let spend = |now: i64| {
                    let mut lease = leases.get(&key);
                    let taken = lease.take(now);
                    if taken {
                        leases.put(&key, lease, now);
                        // Running low: this frame asks for more once it is stored.
                        if lease.low(now) {
                            leases.claim_top_up(&key, &grant);
                        }
                    }
                    (taken, lease)
                };
                if spend(cx.clock.now_ms()).0 {
                    return Ok(Some(ClientFrame::Message {
                        client_msg_id,
                        text,
                    }));
                }
                // One gate call per lease at a time: sockets sharing it wait for the call in
                // flight and spend what it brought.
                let _refill = match cx.pace {
                    Some(pace) => Some(pace.turns.wait(&lease_turn(&key)).await),
                    None => None,
                };
                let now = cx.clock.now_ms();
                let (taken, mut lease) = spend(now);
                if taken {
                    return Ok(Some(ClientFrame::Message {
                        client_msg_id,
                        text,
                    }));
                }
                let (want, refund) = lease.next_request(now);
                let mut check = live::charge_message(p, &grant, want, refund, false).await?;
                if check.stale {
                    // The tenant changed since the grant was checked: re-check, then charge
                    // (a stale check changed nothing, so the refund is still owed).
                    if recheck_sockets(cx, true).await.contains(&conn.to_string()) {
                        return Ok(None);
                    }
                    if let Some(fresh) = grant_of(cx, conn) {
                        check = live::charge_message(p, &fresh, want, refund, false).await?;
                    }
                }
                lease.granted(now, check.granted);
                leases.put(&key, lease, now);
                if !check.allowed {
                    cx.hub.send(
                        conn,
                        &ServerFrame::error(
                            crate::conversations::protocol::FrameCode::RateLimited,
                            format!(
                                "rate limit exceeded; retry in {} ms",
                                check.retry_after_ms.max(1)
                            ),
                        )
                        .to_text(),
                    );
                    return Ok(None);
                }
            }
            Ok(Some(ClientFrame::Message {
                client_msg_id,
                text,
            }))
        }
        crate::conversations::Participant::Agent { .. } => {
            let tenant_id = cx.target.name.split(':').next().unwrap_or("");
            let text = crate::conversations::canned::expand(p.db()?, tenant_id, &text).await?;
            Ok(Some(ClientFrame::Message {
                client_msg_id,
                text,
            }))
        }
        _ => Ok(Some(ClientFrame::Message {
            client_msg_id,
            text,
        })),
    }
}

fn grant_of(cx: &ObjectContext<'_>, conn: &str) -> Option<Grant> {
    use serde::Deserialize;
    let mut grant = None;
    cx.hub.inspect(conn, &mut |a| {
        grant = a.get("g").and_then(|g| Grant::deserialize(g).ok());
    });
    grant
}

/// Re-checks the grants of this object's sockets that are due (all of them when `force`),
/// closing those whose access ended. Returns the connections it closed.
pub async fn recheck_sockets(cx: &ObjectContext<'_>, force: bool) -> Vec<String> {
    let Some(p) = cx.platform else {
        return Vec::new();
    };
    let now = cx.clock.now_ms();
    let interval = live::recheck_ms(p);
    let mut later = i64::MAX;
    let due: Vec<(String, Value, Grant)> = cx
        .hub
        .connections()
        .into_iter()
        .filter_map(|c| {
            let g: Grant = serde_json::from_value(c.attachment.get("g")?.clone()).ok()?;
            let at = g.due_at(interval);
            if force || at <= now {
                Some((c.id, c.attachment, g))
            } else {
                later = later.min(at);
                None
            }
        })
        .collect();
    // Re-checked grants are due again a full interval from now at the earliest; one that
    // could not be re-checked is tried on the next event.
    let next = if due.is_empty() {
        later
    } else {
        later.min(now + interval)
    };
    if let Some(pace) = cx.pace {
        pace.recheck_at.set(Some(next));
    }
    let Some(tenant_id) = due.first().map(|(_, _, g)| g.tenant_id.clone()) else {
        return Vec::new();
    };
    let current = match live::current_version(p, &tenant_id).await {
        Ok(v) => v,
        Err(e) => {
            // Unknown: try again on the next event rather than closing anyone.
            log_error(cx, "socket re-check failed", &e);
            if let Some(pace) = cx.pace {
                pace.recheck_at.set(None);
            }
            return Vec::new();
        }
    };
    let mut closed = Vec::new();
    for (id, mut attachment, grant) in due {
        match live::recheck(p, &grant, current, now).await {
            Ok(Verdict::Valid(g)) => {
                attachment["g"] = serde_json::to_value(&g).unwrap_or_default();
                cx.hub.set_attachment(&id, &attachment);
            }
            Ok(Verdict::Close(code, reason)) => {
                // Presence and clean-up follow from the runtime's close event, as for any close.
                cx.hub.close(&id, code, reason);
                closed.push(id);
            }
            Err(e) => {
                log_error(cx, "socket re-check failed", &e);
                if let Some(pace) = cx.pace {
                    pace.recheck_at.set(None);
                }
            }
        }
    }
    closed
}

/// How long until the earliest socket grant is due (the alarm that re-checks idle sockets).
pub fn next_recheck(cx: &ObjectContext<'_>) -> RetryAfter {
    let p = cx.platform?;
    let interval = live::recheck_ms(p);
    let now = cx.clock.now_ms();
    cx.hub
        .connections()
        .iter()
        .filter_map(|c| serde_json::from_value::<Grant>(c.attachment.get("g")?.clone()).ok())
        .map(|g| (g.due_at(interval) - now).max(0))
        .min()
}

/// The object's alarm: retry the mirror outbox, re-check idle sockets, and say when to wake
/// next.
pub async fn alarm(cx: &ObjectContext<'_>) -> RetryAfter {
    let retry = match cx.target.class {
        ObjectClass::Conversation => {
            // The alarm's flush starts a new window: a frame just after it waits for the next
            // one. (It flushed again at once: two flushes per window under load, one of them
            // for a single message.)
            // An alarm that finds something to mirror is one of a busy conversation's: it asks
            // for the next window's alarm itself. Otherwise it re-arms the socket re-check and
            // the window's next frame moves the alarm earlier again: two `setAlarm` calls per
            // window where one does; a frame inside the window then finds the alarm already
            // set for the window's end. (Unknown counts as something: one spare alarm.)
            let busy = match cx.pace {
                Some(pace) => {
                    pace.flushed_at.set(cx.clock.now_ms());
                    !pace.outbox.known_empty()
                }
                None => false,
            };
            earliest(flush(cx).await, busy.then_some(FLUSH_EVERY_MS))
        }
        _ => None,
    };
    // Under load the alarm fires once per mirror window: it skips the scan of every socket's
    // grant while the object knows none is due, as frames do.
    let now = cx.clock.now_ms();
    let recheck = match cx.pace.and_then(|pace| pace.recheck_at.get()) {
        Some(at) if now < at => (at != i64::MAX).then(|| at - now),
        _ => {
            recheck_sockets(cx, false).await;
            next_recheck(cx)
        }
    };
    earliest(retry, recheck)
}

/// Whether a `Sec-WebSocket-Protocol` offer list contains `ours` (the only one we may answer).
pub fn offers_subprotocol(offered: Option<&str>, ours: &str) -> bool {
    offered.is_some_and(|o| o.split(',').any(|p| p.trim() == ours))
}

fn earliest(a: RetryAfter, b: RetryAfter) -> RetryAfter {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn log_error(cx: &ObjectContext<'_>, msg: &str, e: &ApiError) {
    if let Some(p) = cx.platform {
        let line = serde_json::json!({"level": "error", "msg": msg, "object": cx.target.name, "error": e.message});
        p.log.log(&line.to_string());
    }
}

/// Runs the AI answer to a customer message. A failure is never a silent drop: the message is
/// already stored, and the conversation is handed to a human (who sees it in the inbox) with
/// the reason `ai_error`.
async fn answer(cx: &ObjectContext<'_>, reply_to: i64) {
    let Some(p) = cx.platform else { return };
    let env = cx.conversation();
    if !env.exists().await.unwrap_or(false) {
        return;
    }
    let Err(e) = crate::ai::answer::answer(&env, p, reply_to).await else {
        return;
    };
    log_error(cx, "ai answer failed", &e);
    if let Err(e) = crate::ai::handoff::hand_off_after_failure(&env, p).await {
        log_error(cx, "handoff after a failed answer failed", &e);
    }
}

/// A connection closed.
pub async fn on_close(cx: &ObjectContext<'_>, conn: &str, attachment: &Value) -> RetryAfter {
    match cx.target.class {
        ObjectClass::Conversation => {
            let _ = engine::on_close(&cx.conversation(), conn, attachment).await;
        }
        ObjectClass::Inbox => record_presence(cx, attachment).await,
        ObjectClass::Gate => {}
    }
    None
}

/// An agent's inbox socket closed: its session counts as time online (lost, and logged, if
/// the write fails: it is a statistic, not a record anyone acts on).
async fn record_presence(cx: &ObjectContext<'_>, attachment: &Value) {
    let (Some(p), Some(since)) = (cx.platform, attachment["since"].as_i64()) else {
        return;
    };
    let Ok(crate::conversations::model::Participant::Agent { id, .. }) =
        serde_json::from_value(attachment["p"].clone())
    else {
        return;
    };
    let Ok(db) = p.db() else { return };
    if let Err(e) =
        crate::analytics::presence::record(db, &cx.target.name, &id, since, cx.clock.now_ms()).await
    {
        log_error(cx, "agent session not recorded", &e);
    }
}
