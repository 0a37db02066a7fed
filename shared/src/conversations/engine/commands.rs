//! What each call does to the conversation: one atomic storage step per change (state,
//! message, mirror outbox), then frames to the connected clients.

use super::api::{History, InitRequest, Posted, UpdateRequest};
use super::kept_outbox::OutboxChange;
use super::ObjectEnv;
use crate::conversations::mirror::{self, EventKind, OutboxOp};
use crate::conversations::model::{validate_tags, Author, Meta, Participant, Priority, Status};
use crate::conversations::protocol::{self, Ack, MessageView, NoteView, ServerFrame};
use crate::conversations::store;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use serde_json::{json, Value};

pub(crate) fn frame_to_error(f: protocol::FrameError) -> ApiError {
    ApiError::validation("text", f.message)
}

fn preview(text: &str) -> String {
    let p: String = text.chars().take(140).collect();
    p
}

/// Creates the conversation (idempotent: a second init returns the existing state).
pub async fn init(env: &ObjectEnv<'_>, r: InitRequest) -> ApiResult<Meta> {
    if let Some(m) = env.try_meta().await? {
        return Ok(m);
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
        priority: Priority::Normal,
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
        language: r.language,
        created_at: now,
        updated_at: now,
        facts: Default::default(),
    };
    let ops = vec![mirror::op_event(
        EventKind::ConversationCreated,
        &meta,
        json!({ "channel": meta.channel, "customer": meta.customer_name }),
    )];
    let (batch, queued) = store::save_and_queue(env.name, &meta, ops)?;
    env.commit(Some(&meta), batch, OutboxChange::Queued(queued))
        .await?;
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
    if meta.status == Status::Closed {
        // A retry of a message sent before the close still gets its acknowledgement.
        if let Some(existing) =
            store::by_client_id(env.store, env.name, &author.id, client_msg_id).await?
        {
            return Ok(posted(client_msg_id, existing, meta.status, true));
        }
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this conversation is closed",
        ));
    }
    let now = env.now();
    let before = meta.status;
    let message = MessageView {
        seq: meta.last_seq + 1,
        id: new_id(env.random, "msg"),
        client_msg_id: Some(client_msg_id.to_string()),
        author,
        text: text.to_string(),
        ts: now,
        meta: extra,
    };
    count_message(&mut meta, who, &message);
    let ops = message_ops(&meta, &message, before);
    // The insert goes first: a retry (same author, same client id) is refused by the unique
    // index there, before anything else in the step runs, so no lookup precedes every message.
    let mut batch = vec![store::insert_message(
        env.name,
        &message,
        Some(client_msg_id),
    )];
    let (queue, queued) = store::save_and_queue(env.name, &meta, ops)?;
    batch.extend(queue);
    if let Err(e) = env
        .try_commit(Some(&meta), batch, OutboxChange::Queued(queued))
        .await
    {
        if !store::is_duplicate_client_id(&e) {
            return Err(e.into());
        }
        let existing = store::by_client_id(env.store, env.name, &message.author.id, client_msg_id)
            .await?
            .ok_or_else(|| ApiError::from(e))?;
        return Ok(posted(client_msg_id, existing, before, true));
    }
    env.broadcast(&ServerFrame::Message(message.clone()));
    if before != meta.status {
        broadcast_status(env, &meta);
    }
    Ok(posted(client_msg_id, message, meta.status, false))
}

fn posted(client_msg_id: &str, message: MessageView, status: Status, duplicate: bool) -> Posted {
    Posted {
        ack: Ack {
            client_msg_id: client_msg_id.into(),
            seq: message.seq,
            ts: message.ts,
            duplicate,
        },
        message,
        status,
    }
}

/// Moves the sequence, preview, read and unread counters a new message changes. A customer
/// writing to a resolved conversation reopens it; anyone but the AI resets the AI's turn count.
fn count_message(meta: &mut Meta, who: &Participant, message: &MessageView) {
    let seq = message.seq;
    meta.last_seq = seq;
    meta.last_message_at = Some(message.ts);
    meta.last_message_preview = Some(preview(&message.text));
    meta.updated_at = message.ts;
    meta.facts.on_message(who, message.ts);
    match who {
        Participant::Customer { .. } => {
            meta.unread_agent += 1;
            meta.read_customer = seq;
            meta.unread_customer = 0;
            if meta.status == Status::Resolved {
                meta.status = Status::Open;
                meta.ai_turns = 0;
                meta.facts
                    .on_status(Status::Resolved, Status::Open, None, message.ts);
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
}

/// The mirror outbox ops for a new message (the conversation's state goes with them): the
/// message, the event, and a status event when the message reopened the conversation.
fn message_ops(meta: &Meta, message: &MessageView, before: Status) -> Vec<OutboxOp> {
    let mut ops = vec![
        mirror::op_message(meta, message),
        mirror::op_event(
            EventKind::MessageCreated,
            meta,
            json!({ "seq": message.seq, "author": message.author, "preview": preview(&message.text) }),
        ),
    ];
    if before != meta.status {
        ops.push(mirror::op_event(
            EventKind::ConversationStatus,
            meta,
            json!({ "status": meta.status }),
        ));
    }
    ops
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
        kind: crate::conversations::model::AuthorKind::Agent,
        id: id.clone(),
        name: meta.assignee_name.clone().unwrap_or_default(),
    });
    env.broadcast(&ServerFrame::Status {
        status: meta.status,
        assignee,
        reason: meta.handoff_reason.clone(),
    });
}

async fn save_with_ops(env: &ObjectEnv<'_>, meta: &Meta, ops: Vec<OutboxOp>) -> ApiResult<()> {
    let (batch, queued) = store::save_and_queue(env.name, meta, ops)?;
    env.commit(Some(meta), batch, OutboxChange::Queued(queued))
        .await?;
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
    meta.facts
        .on_status(meta.status, status, reason.as_deref(), env.now());
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
    let ops = vec![mirror::op_event(
        EventKind::ConversationStatus,
        &meta,
        json!({ "status": status, "reason": meta.handoff_reason, "by": who.author() }),
    )];
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
    let ops = vec![mirror::op_event(
        EventKind::ConversationAssigned,
        &meta,
        json!({ "assignee": assignee, "by": who.author() }),
    )];
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
        meta.priority = p;
    }
    meta.updated_at = env.now();
    let ops = vec![mirror::op_event(
        EventKind::ConversationUpdated,
        &meta,
        json!({ "tags": meta.tags, "priority": meta.priority }),
    )];
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
        save_with_ops(env, &meta, Vec::new()).await?;
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
