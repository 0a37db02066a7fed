//! A customer's data rights inside their conversation's object: erasure (every text redacted,
//! the conversation closed for good, the mirror told to follow) and the retention purge (the
//! object's rows deleted).

use super::kept_outbox::OutboxChange;
use super::ObjectEnv;
use crate::conversations::mirror::{self, EventKind, OutboxOp};
use crate::conversations::model::{AuthorKind, Meta, Status};
use crate::conversations::protocol::ServerFrame;
use crate::conversations::store;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::params;
use crate::ports::Statement;
use crate::privacy::{ERASED_NAME, ERASED_TEXT};
use serde_json::json;

/// Most pending outbox entries an erasure rewrites in one step. The outbox is normally empty
/// (it is applied right after each change); a longer one means the mirror has been failing.
const MAX_PENDING: u32 = 1000;

/// Redacts every message, note and queued mirror write, closes the conversation and queues
/// the mirror's redaction behind everything already queued, in one storage step. Idempotent:
/// erasing an erased conversation only queues the (idempotent) mirror redaction again.
pub async fn erase(env: &ObjectEnv<'_>) -> ApiResult<Meta> {
    let mut meta = env.meta().await?;
    let now = env.now();
    let was = meta.status;
    meta = redact_state(meta);
    meta.status = Status::Closed;
    meta.updated_at = now;
    let pending = store::outbox(env.store, env.name, MAX_PENDING).await?;
    if pending.len() as u32 >= MAX_PENDING {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this conversation's mirror is far behind; try the erasure again shortly",
        ));
    }
    let mut batch = vec![
        Statement::new(
            "UPDATE conv_messages SET text = ?2, meta = NULL,
               author_name = CASE WHEN author_type = ?3 THEN ?4 ELSE author_name END
             WHERE object = ?1",
            params![
                env.name,
                ERASED_TEXT,
                AuthorKind::Customer.as_str(),
                ERASED_NAME
            ],
        ),
        Statement::new(
            "UPDATE conv_notes SET text = ?2 WHERE object = ?1",
            params![env.name, ERASED_TEXT],
        ),
    ];
    for entry in pending {
        let ops: Vec<OutboxOp> = entry.ops.into_iter().map(redact_op).collect();
        let state = match entry.state {
            Some(state) => Some(store::QueuedState::of(&redact_state(state.decode()?))?),
            None => None,
        };
        batch.push(Statement::new(
            "UPDATE conv_outbox SET ops = ?3 WHERE object = ?1 AND id = ?2",
            params![
                env.name,
                entry.id,
                store::encode_entry(state.as_ref(), &ops)?
            ],
        ));
    }
    let mut ops = Vec::new();
    if was != Status::Closed {
        ops.push(mirror::op_event(
            EventKind::ConversationStatus,
            &meta,
            json!({ "status": Status::Closed, "reason": "erased" }),
        ));
    }
    ops.push(OutboxOp::Erase {
        tenant_id: meta.tenant_id.clone(),
        conversation_id: meta.conversation_id.clone(),
        at: now,
    });
    batch.push(store::save_state(env.name, &meta)?);
    batch.extend(store::save_and_queue(env.name, &meta, ops)?.0);
    // The queued entries were rewritten too: the instance's copy is forgotten.
    env.commit(Some(&meta), batch, OutboxChange::Other).await?;
    env.fan_out(
        &ServerFrame::Status {
            status: Status::Closed,
            assignee: None,
            reason: Some("erased".into()),
        },
        |_| true,
    );
    Ok(meta)
}

/// A queued state with the customer's name and words taken out.
fn redact_state(mut meta: Meta) -> Meta {
    meta.customer_name = ERASED_NAME.into();
    meta.subject = None;
    meta.last_message_preview = None;
    meta
}

/// A queued mirror write with the customer's words and name taken out.
fn redact_op(op: OutboxOp) -> OutboxOp {
    match op {
        OutboxOp::Message {
            tenant_id,
            conversation_id,
            channel,
            customer_id,
            mut message,
        } => {
            message.text = ERASED_TEXT.into();
            message.meta = None;
            if message.author.kind == AuthorKind::Customer {
                message.author.name = ERASED_NAME.into();
            }
            OutboxOp::Message {
                tenant_id,
                conversation_id,
                channel,
                customer_id,
                message,
            }
        }
        // Read into the entry's state when it was loaded.
        OutboxOp::Conversation { meta } => OutboxOp::Conversation {
            meta: Box::new(redact_state(*meta)),
        },
        OutboxOp::Event { mut event } => {
            event.data = json!({});
            OutboxOp::Event { event }
        }
        erase @ OutboxOp::Erase { .. } => erase,
    }
}

/// Deletes everything the object holds for its conversation (retention). Afterwards the
/// object answers 404 like one that never existed. Queued mirror writes go too: the caller
/// deletes the tenant-wide rows itself.
pub async fn purge(env: &ObjectEnv<'_>) -> ApiResult<()> {
    let mut batch = Vec::new();
    for table in ["conv_messages", "conv_notes", "conv_outbox", "conv_meta"] {
        batch.push(Statement::new(
            format!("DELETE FROM {table} WHERE object = ?1"),
            params![env.name],
        ));
    }
    env.commit(None, batch, OutboxChange::Other).await?;
    Ok(())
}
