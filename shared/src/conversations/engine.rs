//! The conversation object: the single writer of one conversation. It answers the internal API
//! the edge calls (create, post, history, status, assignment, notes, read) and the live socket
//! events, always in one atomic storage step per change, then fans frames out to the connected
//! clients. Mirror writes are queued in the same step and applied by [`flush`].

use super::model::{validate_tags, Author, Meta, Participant, Status, CHANNELS, PRIORITIES};
use super::protocol::{self, Ack, ClientFrame, MessageView, NoteView, ServerFrame};
use super::{mirror, store};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request, Response};
use crate::ids::new_id;
use crate::input::parse_json;
use crate::ports::{Clock, LiveHub, Objects, Random, SqlDatabase};
use crate::ratelimit::{gcra, Bucket, Limit};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Live connections per conversation (customers, agents and their tabs together).
pub const MAX_CONNECTIONS: usize = 100;
/// Messages per connection: a burst of 10, then 5 per second.
pub const CONNECTION_RATE: Limit = Limit {
    count: 10,
    period_ms: 2_000,
};
/// Refused frames in a row before a flooding connection is closed (1008, policy violation).
pub const MAX_STRIKES: i64 = 20;

/// What one call into the object runs against.
pub struct ObjectEnv<'a> {
    /// The object's name (`tenant_id:conversation_id`).
    pub name: &'a str,
    pub store: &'a dyn SqlDatabase,
    pub hub: &'a dyn LiveHub,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
    /// Set once this object instance has created its tables (see `ObjectContext`).
    pub schema_ready: Option<&'a std::cell::Cell<bool>>,
}

impl ObjectEnv<'_> {
    /// Creates the object's tables. Only creating a conversation does this: an object reached
    /// with an id the platform never issued stores nothing, so invented ids leave no trace.
    async fn create_schema(&self) -> ApiResult<()> {
        crate::objects::ensure_tables(self.store, store::SCHEMA, self.schema_ready).await
    }

    /// Whether this object was ever created (its tables exist); a read, never a write.
    pub async fn exists(&self) -> ApiResult<bool> {
        if self.schema_ready.is_some_and(std::cell::Cell::get) {
            return Ok(true);
        }
        let rows = self
            .store
            .query(
                "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'conv_meta'",
                &[],
            )
            .await?;
        let exists = !rows.is_empty();
        if let (true, Some(flag)) = (exists, self.schema_ready) {
            flag.set(true);
        }
        Ok(exists)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn meta(&self) -> ApiResult<Meta> {
        store::load_meta(self.store, self.name)
            .await?
            .ok_or_else(|| ApiError::not_found("conversation"))
    }

    fn send(&self, conn: &str, frame: &ServerFrame) {
        self.hub.send(conn, &frame.to_text());
    }

    /// Sends a frame to every connection whose participant passes `filter`.
    fn fan_out(&self, frame: &ServerFrame, filter: impl Fn(&Participant) -> bool) {
        let text = frame.to_text();
        self.hub.send_where(&text, &|a| {
            attachment_participant(a).is_some_and(|p| filter(&p))
        });
    }
}

fn attachment_participant(a: &Value) -> Option<Participant> {
    Participant::deserialize(a.get("p")?).ok()
}

// ---------------------------------------------------------------------------------------------
// Internal HTTP API

#[derive(Serialize, Deserialize)]
pub struct InitRequest {
    pub tenant_id: String,
    pub conversation_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub channel: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub struct PostRequest {
    pub participant: Participant,
    pub client_msg_id: String,
    pub text: String,
    #[serde(default)]
    pub meta: Option<Value>,
}

#[derive(Serialize, Deserialize)]
pub struct StatusRequest {
    pub participant: Participant,
    pub status: Status,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct AssignRequest {
    pub participant: Participant,
    /// `None` unassigns.
    pub assignee: Option<Author>,
}

#[derive(Serialize, Deserialize)]
pub struct UpdateRequest {
    pub participant: Participant,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub priority: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct NoteRequest {
    pub participant: Participant,
    pub text: String,
}

#[derive(Serialize, Deserialize)]
pub struct ReadRequest {
    pub participant: Participant,
    pub up_to_seq: i64,
}

/// A page of the log as one participant may see it.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct History {
    pub messages: Vec<MessageView>,
    /// Internal notes (staff only; absent for customers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<NoteView>>,
    pub last_seq: i64,
    pub status: Status,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct Posted {
    pub ack: Ack,
    pub message: MessageView,
    /// The conversation after the message (status may have changed, e.g. a resolved one reopened).
    pub status: Status,
}

pub async fn handle(env: &ObjectEnv<'_>, req: Request) -> ApiResult<Response> {
    if (req.method, req.path.as_str()) == (Method::Post, "/init") {
        let body = parse_json(&req.body)?;
        env.create_schema().await?;
        return Ok(Response::json(200, &init(env, body).await?));
    }
    if !env.exists().await? {
        return Err(ApiError::not_found("conversation"));
    }
    match (req.method, req.path.as_str()) {
        (Method::Get, "/meta") => Ok(Response::json(200, &env.meta().await?)),
        (Method::Post, "/messages") => {
            let body: PostRequest = parse_json(&req.body)?;
            protocol::validate_message(&body.client_msg_id, &body.text).map_err(frame_to_error)?;
            Ok(Response::json(
                200,
                &post(
                    env,
                    &body.participant,
                    &body.client_msg_id,
                    &body.text,
                    body.meta,
                )
                .await?,
            ))
        }
        (Method::Get, "/messages") => {
            let q = |n: &str| req.query_param(n).and_then(|v| v.parse::<i64>().ok());
            let limit = q("limit").unwrap_or(50).clamp(1, 200) as u32;
            let staff = req.query_param("staff").as_deref() == Some("1");
            Ok(Response::json(
                200,
                &history(env, q("after_seq"), q("before_seq"), limit, staff).await?,
            ))
        }
        (Method::Post, "/status") => {
            let body: StatusRequest = parse_json(&req.body)?;
            Ok(Response::json(
                200,
                &set_status(env, &body.participant, body.status, body.reason).await?,
            ))
        }
        (Method::Post, "/assign") => {
            let body: AssignRequest = parse_json(&req.body)?;
            Ok(Response::json(
                200,
                &assign(env, &body.participant, body.assignee).await?,
            ))
        }
        (Method::Post, "/update") => {
            let body: UpdateRequest = parse_json(&req.body)?;
            Ok(Response::json(200, &update(env, body).await?))
        }
        (Method::Post, "/notes") => {
            let body: NoteRequest = parse_json(&req.body)?;
            Ok(Response::json(
                200,
                &note(env, &body.participant, &body.text).await?,
            ))
        }
        (Method::Post, "/read") => {
            let body: ReadRequest = parse_json(&req.body)?;
            read(env, &body.participant, body.up_to_seq).await?;
            Ok(Response::new(204))
        }
        _ => Err(ApiError::not_found("conversation object route")),
    }
}

fn frame_to_error(f: protocol::FrameError) -> ApiError {
    ApiError::validation("text", f.message)
}

fn preview(text: &str) -> String {
    let p: String = text.chars().take(140).collect();
    p
}

/// Creates the conversation (idempotent: a second init returns the existing state).
pub async fn init(env: &ObjectEnv<'_>, r: InitRequest) -> ApiResult<Meta> {
    if let Some(m) = store::load_meta(env.store, env.name).await? {
        return Ok(m);
    }
    if !CHANNELS.contains(&r.channel.as_str()) {
        return Err(ApiError::validation("channel", "unknown channel"));
    }
    validate_tags(&r.tags)?;
    let now = env.now();
    let meta = Meta {
        tenant_id: r.tenant_id,
        conversation_id: r.conversation_id,
        customer_id: r.customer_id,
        customer_name: r.customer_name,
        channel: r.channel,
        status: Status::Open,
        assignee_id: None,
        assignee_name: None,
        priority: "normal".into(),
        tags: r.tags,
        subject: r.subject,
        handoff_reason: None,
        last_seq: 0,
        last_message_at: None,
        last_message_preview: None,
        read_customer: 0,
        read_agent: 0,
        unread_agent: 0,
        unread_customer: 0,
        ai_turns: 0,
        created_at: now,
        updated_at: now,
    };
    let ops = vec![
        mirror::op_conversation(&meta),
        mirror::op_event(
            "conversation.created",
            &meta,
            json!({ "channel": meta.channel, "customer": meta.customer_name }),
        ),
    ];
    let mut batch = vec![store::save_meta(env.name, &meta)];
    batch.extend(store::outbox_push(env.store, env.name, &ops).await?);
    env.store.batch(batch).await?;
    Ok(meta)
}

/// Appends a message (idempotent per author and client message id) and fans it out.
pub async fn post(
    env: &ObjectEnv<'_>,
    who: &Participant,
    client_msg_id: &str,
    text: &str,
    extra: Option<Value>,
) -> ApiResult<Posted> {
    let mut meta = env.meta().await?;
    let author = who.author();
    if let Some(existing) =
        store::by_client_id(env.store, env.name, &author.id, client_msg_id).await?
    {
        return Ok(Posted {
            ack: Ack {
                client_msg_id: client_msg_id.into(),
                seq: existing.seq,
                ts: existing.ts,
                duplicate: true,
            },
            message: existing,
            status: meta.status,
        });
    }
    if meta.status == Status::Closed {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this conversation is closed",
        ));
    }
    let now = env.now();
    let before = meta.status;
    let seq = meta.last_seq + 1;
    let message = MessageView {
        seq,
        id: new_id(env.random, "msg"),
        client_msg_id: Some(client_msg_id.to_string()),
        author: author.clone(),
        text: text.to_string(),
        ts: now,
        meta: extra,
    };
    meta.last_seq = seq;
    meta.last_message_at = Some(now);
    meta.last_message_preview = Some(preview(text));
    meta.updated_at = now;
    match who {
        Participant::Customer { .. } => {
            meta.unread_agent += 1;
            meta.read_customer = seq;
            meta.unread_customer = 0;
            if meta.status == Status::Resolved {
                // A customer writing again reopens the conversation.
                meta.status = Status::Open;
                meta.ai_turns = 0;
            }
        }
        Participant::Agent { .. } => {
            meta.unread_customer += 1;
            meta.read_agent = seq;
            meta.unread_agent = 0;
            meta.ai_turns = 0;
        }
        Participant::Ai => {
            meta.unread_customer += 1;
            meta.ai_turns += 1;
        }
        Participant::System { .. } => meta.unread_customer += 1,
    }
    let mut ops = vec![
        mirror::op_message(&meta, &message),
        mirror::op_conversation(&meta),
    ];
    ops.push(mirror::op_event(
        "message.created",
        &meta,
        json!({ "seq": seq, "author": author, "preview": preview(text) }),
    ));
    if before != meta.status {
        ops.push(mirror::op_event(
            "conversation.status",
            &meta,
            json!({ "status": meta.status }),
        ));
    }
    let mut batch = vec![
        store::insert_message(env.name, &message, Some(client_msg_id)),
        store::save_meta(env.name, &meta),
    ];
    batch.extend(store::outbox_push(env.store, env.name, &ops).await?);
    env.store.batch(batch).await?;
    env.fan_out(&ServerFrame::Message(message.clone()), |_| true);
    if before != meta.status {
        broadcast_status(env, &meta);
    }
    Ok(Posted {
        ack: Ack {
            client_msg_id: client_msg_id.into(),
            seq,
            ts: now,
            duplicate: false,
        },
        message,
        status: meta.status,
    })
}

pub async fn history(
    env: &ObjectEnv<'_>,
    after: Option<i64>,
    before: Option<i64>,
    limit: u32,
    staff: bool,
) -> ApiResult<History> {
    let meta = env.meta().await?;
    let messages = match (after, before) {
        (Some(a), _) => store::messages_after(env.store, env.name, a, limit).await?,
        (None, Some(b)) => store::messages_before(env.store, env.name, b, limit).await?,
        (None, None) => store::messages_before(env.store, env.name, i64::MAX, limit).await?,
    };
    let notes = if staff {
        Some(store::notes(env.store, env.name).await?)
    } else {
        None
    };
    Ok(History {
        messages,
        notes,
        last_seq: meta.last_seq,
        status: meta.status,
    })
}

fn broadcast_status(env: &ObjectEnv<'_>, meta: &Meta) {
    let assignee = meta.assignee_id.as_ref().map(|id| Author {
        kind: super::model::AuthorKind::Agent,
        id: id.clone(),
        name: meta.assignee_name.clone().unwrap_or_default(),
    });
    env.fan_out(
        &ServerFrame::Status {
            status: meta.status,
            assignee,
            reason: meta.handoff_reason.clone(),
        },
        |_| true,
    );
}

async fn save_with_ops(env: &ObjectEnv<'_>, meta: &Meta, ops: Vec<Value>) -> ApiResult<()> {
    let mut batch = vec![store::save_meta(env.name, meta)];
    batch.extend(store::outbox_push(env.store, env.name, &ops).await?);
    env.store.batch(batch).await?;
    Ok(())
}

/// Moves the status (the handoff, resolve and reopen paths all come through here).
pub async fn set_status(
    env: &ObjectEnv<'_>,
    who: &Participant,
    status: Status,
    reason: Option<String>,
) -> ApiResult<Meta> {
    let mut meta = env.meta().await?;
    if let Participant::Customer { .. } = who {
        // Customers may only ask for a human.
        if status != Status::PendingHuman {
            return Err(ApiError::forbidden("customers can only request a human"));
        }
    }
    meta.status.check_transition(status)?;
    if meta.status == status {
        return Ok(meta);
    }
    meta.status = status;
    meta.updated_at = env.now();
    match status {
        Status::PendingHuman => meta.handoff_reason = reason.or(Some("requested".into())),
        Status::Open => {
            meta.handoff_reason = None;
            meta.ai_turns = 0;
        }
        Status::Resolved | Status::Closed => {}
    }
    let ops = vec![
        mirror::op_conversation(&meta),
        mirror::op_event(
            "conversation.status",
            &meta,
            json!({ "status": status, "reason": meta.handoff_reason, "by": who.author() }),
        ),
    ];
    save_with_ops(env, &meta, ops).await?;
    broadcast_status(env, &meta);
    Ok(meta)
}

pub async fn assign(
    env: &ObjectEnv<'_>,
    who: &Participant,
    assignee: Option<Author>,
) -> ApiResult<Meta> {
    let mut meta = env.meta().await?;
    if !who.is_staff() {
        return Err(ApiError::forbidden("only agents assign conversations"));
    }
    if meta.status == Status::Closed {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this conversation is closed",
        ));
    }
    meta.assignee_id = assignee.as_ref().map(|a| a.id.clone());
    meta.assignee_name = assignee.as_ref().map(|a| a.name.clone());
    meta.updated_at = env.now();
    let ops = vec![
        mirror::op_conversation(&meta),
        mirror::op_event(
            "conversation.assigned",
            &meta,
            json!({ "assignee": assignee, "by": who.author() }),
        ),
    ];
    save_with_ops(env, &meta, ops).await?;
    broadcast_status(env, &meta);
    Ok(meta)
}

pub async fn update(env: &ObjectEnv<'_>, r: UpdateRequest) -> ApiResult<Meta> {
    let mut meta = env.meta().await?;
    if !r.participant.is_staff() {
        return Err(ApiError::forbidden("only agents change tags and priority"));
    }
    if let Some(tags) = r.tags {
        validate_tags(&tags)?;
        meta.tags = tags;
    }
    if let Some(p) = r.priority {
        if !PRIORITIES.contains(&p.as_str()) {
            return Err(ApiError::validation(
                "priority",
                "must be low, normal, high or urgent",
            ));
        }
        meta.priority = p;
    }
    meta.updated_at = env.now();
    let ops = vec![
        mirror::op_conversation(&meta),
        mirror::op_event(
            "conversation.updated",
            &meta,
            json!({ "tags": meta.tags, "priority": meta.priority }),
        ),
    ];
    save_with_ops(env, &meta, ops).await?;
    Ok(meta)
}

/// An internal note: visible to agents only, in its own sequence so customers' message
/// numbering has no gaps.
pub async fn note(env: &ObjectEnv<'_>, who: &Participant, text: &str) -> ApiResult<NoteView> {
    env.meta().await?;
    if !who.is_staff() {
        return Err(ApiError::forbidden("only agents write internal notes"));
    }
    protocol::validate_message("note", text).map_err(frame_to_error)?;
    let n = NoteView {
        seq: store::next_note_seq(env.store, env.name).await?,
        id: new_id(env.random, "note"),
        author: who.author(),
        text: text.to_string(),
        ts: env.now(),
    };
    env.store
        .execute(
            &store::insert_note(env.name, &n).sql,
            &store::insert_note(env.name, &n).params,
        )
        .await?;
    env.fan_out(&ServerFrame::Note(n.clone()), Participant::is_staff);
    Ok(n)
}

pub async fn read(env: &ObjectEnv<'_>, who: &Participant, up_to: i64) -> ApiResult<()> {
    let mut meta = env.meta().await?;
    let up_to = up_to.clamp(0, meta.last_seq);
    let changed = match who {
        Participant::Customer { .. } if up_to > meta.read_customer => {
            meta.read_customer = up_to;
            meta.unread_customer = 0;
            true
        }
        Participant::Agent { .. } if up_to > meta.read_agent => {
            meta.read_agent = up_to;
            meta.unread_agent = 0;
            true
        }
        _ => false,
    };
    if changed {
        save_with_ops(env, &meta, vec![mirror::op_conversation(&meta)]).await?;
        let author = who.author();
        env.fan_out(
            &ServerFrame::Read {
                author: author.clone(),
                up_to_seq: up_to,
            },
            |p| p.id() != author.id,
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Live connections

/// Admits a new connection: returns the attachment to store with its socket.
pub async fn connect(env: &ObjectEnv<'_>, who: &Participant) -> ApiResult<Value> {
    if !env.exists().await? {
        return Err(ApiError::not_found("conversation"));
    }
    let meta = env.meta().await?;
    if let Participant::Customer { id, .. } = who {
        if *id != meta.customer_id {
            return Err(ApiError::not_found("conversation"));
        }
    }
    if env.hub.connections().len() >= MAX_CONNECTIONS {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many connections to this conversation",
        ));
    }
    Ok(json!({ "p": who, "tat": 0, "strikes": 0 }))
}

/// After the socket is accepted: greet it and announce agents.
pub async fn joined(env: &ObjectEnv<'_>, conn: &str) -> ApiResult<()> {
    let meta = env.meta().await?;
    let Some(who) = env
        .hub
        .connections()
        .into_iter()
        .find(|c| c.id == conn)
        .and_then(|c| attachment_participant(&c.attachment))
    else {
        return Ok(());
    };
    env.send(
        conn,
        &ServerFrame::Welcome {
            conversation_id: meta.conversation_id.clone(),
            you: who.author(),
            status: meta.status,
            last_seq: meta.last_seq,
        },
    );
    if let Participant::Agent { .. } = &who {
        let others_of_same = env
            .hub
            .connections()
            .iter()
            .filter(|c| c.id != conn)
            .filter_map(|c| attachment_participant(&c.attachment))
            .any(|p| p.id() == who.id());
        if !others_of_same {
            env.fan_out(
                &ServerFrame::Presence {
                    agent: who.author(),
                    state: protocol::PresenceState::Joined,
                },
                |p| p.id() != who.id(),
            );
        }
    }
    Ok(())
}

/// A text frame from a connection. Returns the sequence number of a new customer message that
/// the AI may answer.
pub async fn on_text(env: &ObjectEnv<'_>, conn: &str, text: &str) -> ApiResult<Option<i64>> {
    match receive(env, conn, text)? {
        Some((who, frame)) => on_frame(env, conn, &who, frame).await,
        None => Ok(None),
    }
}

/// Flood control and parsing of a frame from a connection: the sender and its frame, or `None`
/// when the frame was refused (the connection has been told why).
pub fn receive(
    env: &ObjectEnv<'_>,
    conn: &str,
    text: &str,
) -> ApiResult<Option<(Participant, ClientFrame)>> {
    let Some(c) = env.hub.connection(conn) else {
        return Ok(None);
    };
    let Some(who) = attachment_participant(&c.attachment) else {
        return Ok(None);
    };
    // Flood control per connection, state kept in the socket's attachment.
    let mut attachment = c.attachment.clone();
    let tat = attachment["tat"].as_i64().unwrap_or(0);
    let strikes = attachment["strikes"].as_i64().unwrap_or(0);
    let d = gcra::check(Bucket { tat }, CONNECTION_RATE, env.now(), 1);
    if !d.allowed {
        attachment["strikes"] = json!(strikes + 1);
        env.hub.set_attachment(conn, &attachment);
        if strikes + 1 >= MAX_STRIKES {
            env.hub.close(conn, 1008, "flooding");
        } else {
            env.send(
                conn,
                &ServerFrame::error(
                    protocol::FrameCode::RateLimited,
                    format!("slow down: retry in {} ms", d.retry_after_ms),
                ),
            );
        }
        return Ok(None);
    }
    attachment["tat"] = json!(d.next.tat);
    attachment["strikes"] = json!(0);
    env.hub.set_attachment(conn, &attachment);

    match protocol::parse_client_frame(text) {
        Ok(f) => Ok(Some((who, f))),
        Err(e) => {
            env.send(conn, &e.frame());
            Ok(None)
        }
    }
}

/// Acts on one admitted frame. Returns the sequence number of a new customer message that the
/// AI may answer.
pub async fn on_frame(
    env: &ObjectEnv<'_>,
    conn: &str,
    who: &Participant,
    frame: ClientFrame,
) -> ApiResult<Option<i64>> {
    match frame {
        ClientFrame::Ping => env.send(
            conn,
            &ServerFrame::error(
                protocol::FrameCode::UseAutoPing,
                "send exactly {\"type\":\"ping\"}",
            ),
        ),
        ClientFrame::Hello { last_seq } => {
            // Resume: exactly the messages after last_seq, in order, in pages.
            let mut after = last_seq.max(0);
            loop {
                let page = store::messages_after(env.store, env.name, after, 200).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for m in page {
                    env.send(conn, &ServerFrame::Message(m));
                }
            }
            let meta = env.meta().await?;
            env.send(
                conn,
                &ServerFrame::Welcome {
                    conversation_id: meta.conversation_id,
                    you: who.author(),
                    status: meta.status,
                    last_seq: meta.last_seq,
                },
            );
        }
        ClientFrame::Message {
            client_msg_id,
            text,
        } => {
            if let Err(e) = protocol::validate_message(&client_msg_id, &text) {
                env.send(conn, &e.frame());
                return Ok(None);
            }
            match post(env, who, &client_msg_id, &text, None).await {
                Ok(p) => {
                    let fresh = !p.ack.duplicate
                        && matches!(who, Participant::Customer { .. })
                        && p.status.ai_answers();
                    env.send(conn, &ServerFrame::Ack(p.ack));
                    if fresh {
                        return Ok(Some(p.message.seq));
                    }
                }
                Err(e) if e.code == ErrorCode::Conflict => env.send(
                    conn,
                    &ServerFrame::error(protocol::FrameCode::ConversationClosed, e.message),
                ),
                Err(e) => return Err(e),
            }
        }
        ClientFrame::Typing { typing } => {
            let author = who.author();
            env.fan_out(
                &ServerFrame::Typing {
                    author: author.clone(),
                    typing,
                },
                |p| p.id() != author.id,
            );
        }
        ClientFrame::Read { up_to_seq } => read(env, who, up_to_seq).await?,
    }
    Ok(None)
}

/// A connection closed: announce an agent's departure when it was their last connection.
pub async fn on_close(env: &ObjectEnv<'_>, conn: &str, attachment: &Value) -> ApiResult<()> {
    let Some(who @ Participant::Agent { .. }) = attachment_participant(attachment) else {
        return Ok(());
    };
    let still_here = env
        .hub
        .connections()
        .iter()
        .filter(|c| c.id != conn)
        .filter_map(|c| attachment_participant(&c.attachment))
        .any(|p| p.id() == who.id());
    if !still_here {
        env.fan_out(
            &ServerFrame::Presence {
                agent: who.author(),
                state: protocol::PresenceState::Left,
            },
            |p| p.id() != who.id(),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mirror outbox

/// Applies queued mirror writes to the tenant-wide tables and publishes inbox events. Returns
/// the delay before a retry when something failed (the caller schedules it: an alarm on
/// Cloudflare), or `None` when the outbox is empty.
pub async fn flush(
    env: &ObjectEnv<'_>,
    mirror_db: &dyn SqlDatabase,
    objects: Option<&dyn Objects>,
    platform: Option<&crate::platform::Platform>,
) -> ApiResult<Option<i64>> {
    if !env.exists().await? {
        return Ok(None);
    }
    loop {
        let entries = store::outbox(env.store, env.name, 50).await?;
        let Some(last) = entries.last().map(|e| e.id) else {
            return Ok(None);
        };
        let result = async {
            let applied = mirror::apply(mirror_db, &entries).await?;
            if let (Some(objects), false) = (objects, applied.events.is_empty()) {
                crate::objects::inbox::publish(objects, &applied.events).await?;
            }
            if let (Some(p), false) = (platform, applied.outbound.is_empty()) {
                crate::channels::outbound::enqueue(p, &applied.outbound).await;
            }
            ApiResult::Ok(())
        }
        .await;
        match result {
            Ok(()) => store::outbox_done(env.store, env.name, last).await?,
            Err(_) => {
                let attempts = store::outbox_failed(env.store, env.name, last).await?;
                // Exponential backoff, capped at a minute.
                return Ok(Some((1_000i64 << attempts.clamp(0, 6)).min(60_000)));
            }
        }
    }
}
