//! The mirror outbox: queued in the same storage step as each change, applied here to the
//! tenant-wide tables (and the tenant's inbox feed and delivery queue) afterwards.

use super::ObjectEnv;
use crate::conversations::{mirror, store};
use crate::error::ApiResult;
use crate::ports::{Objects, SqlDatabase};

/// Entries applied per mirror batch.
const BATCH: u32 = 50;

/// Applies queued mirror writes to the tenant-wide tables and publishes inbox events. Returns
/// the delay before a retry when something failed (the caller schedules it: an alarm on
/// Cloudflare), [`MORE_QUEUED`] when entries were queued while it ran, or `None` when the
/// outbox is empty.
///
/// It takes the entries queued when it started (a full batch at a time while a backlog lasts)
/// and leaves what live frames queue meanwhile to the next window, and in a busy conversation
/// it lets those frames in before each batch and before the inbox call: mirroring is
/// background work, and a live frame must not wait behind it. Locally D1 and the inbox run on
/// the conversation's own thread with no I/O wait between them, so without the yields a
/// window's whole flush ran as one block; without the bound, the frames let in would each have
/// made another batch.
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
        let entries = env.queued(BATCH).await?;
        let Some(last) = entries.last().map(|e| e.id) else {
            return Ok(None);
        };
        // A window with more than one entry is a busy conversation's, whose next frames may
        // be waiting already; a quiet one's flush (one entry) does not pay for the yields.
        let busy = entries.len() > 1;
        if busy {
            yield_to_live(platform).await;
        }
        let result = async {
            let known = env.mirrored.and_then(|m| m.get());
            let mut applied = match mirror::apply(mirror_db, &entries, known.as_ref()).await {
                Ok(applied) => applied,
                Err(e) => {
                    // The batch may have committed all the same: the row is unknown now.
                    if let Some(m) = env.mirrored {
                        m.forget();
                    }
                    return Err(e);
                }
            };
            if let (Some(m), Some(fields)) = (env.mirrored, applied.rolled.take()) {
                m.committed(fields);
            }
            // A handoff's notification carries the conversation's summary, written now.
            if let Some(p) = platform {
                summarise(p, &mut applied.events).await;
            }
            if busy {
                yield_to_live(platform).await;
            }
            if let (Some(objects), false) = (objects, applied.events.is_empty()) {
                crate::objects::inbox::publish(objects, &applied.events).await?;
            }
            if let (Some(p), false) = (platform, applied.outbound.is_empty()) {
                crate::channels::outbound::enqueue(p, &applied.outbound).await;
            }
            // Outgoing webhooks: recorded here, with the change, so a retry of this batch
            // records them (idempotently) if anything after the mirror write failed.
            // Only a tenant with an active endpoint gets event payloads built.
            let tenant = entries
                .iter()
                .flat_map(|e| &e.ops)
                .find_map(|op| match op {
                    mirror::OutboxOp::Event { event } => Some(event.tenant_id.as_str()),
                    _ => None,
                });
            let events = match tenant {
                Some(t) if crate::outgoing::delivery::subscribed(mirror_db, platform, t, env.now()).await? => {
                    crate::outgoing::events::from_outbox(&entries)?
                }
                _ => Vec::new(),
            };
            if !events.is_empty() {
                let ids =
                    crate::outgoing::delivery::record(mirror_db, platform, &events, env.now())
                        .await?;
                if let (Some(p), false) = (platform, ids.is_empty()) {
                    crate::outgoing::delivery::dispatch(p, &ids).await;
                }
            }
            // Leads from contact details or buying intent in customer messages; resolved
            // conversations' transcripts to the connected CRMs and their satisfaction surveys.
            if let Some(p) = platform {
                crate::leads::capture::from_outbox(p, &entries).await?;
                for op in entries.iter().flat_map(|e| &e.ops) {
                    if let mirror::OutboxOp::Event { event } = op {
                        if event.kind == mirror::EventKind::ConversationStatus
                            && event.status == crate::conversations::model::Status::Resolved
                        {
                            crate::crm::jobs::enqueue(
                                p,
                                &event.tenant_id,
                                "transcript",
                                &event.conversation_id,
                            )
                            .await?;
                            if let Err(e) = crate::quality::ai_review::on_resolved(
                                p,
                                &event.tenant_id,
                                &event.conversation_id,
                            )
                            .await
                            {
                                p.log.log(
                                    &serde_json::json!({"level": "error", "msg": "automatic review not started", "conversation": event.conversation_id, "error": e.message})
                                        .to_string(),
                                );
                            }
                            // A survey that cannot be created is logged, not retried: it
                            // must not hold back the conversation's mirror.
                            if let Err(e) = crate::surveys::trigger::on_resolved(
                                p,
                                &event.tenant_id,
                                &event.conversation_id,
                            )
                            .await
                            {
                                p.log.log(
                                    &serde_json::json!({"level": "error", "msg": "survey not created", "conversation": event.conversation_id, "error": e.message})
                                        .to_string(),
                                );
                            }
                        }
                    }
                }
            }
            ApiResult::Ok(())
        }
        .await;
        // The state row follows the newest flushed entry's state (`store::load_meta`).
        let newest = entries.iter().rev().find_map(|e| e.state.as_ref());
        match result {
            Ok(()) => match store::outbox_done(env.store, env.name, last, newest).await {
                Ok(()) => {
                    if let Some(o) = env.outbox {
                        o.flushed(last);
                    }
                    if (entries.len() as u32) < BATCH {
                        let more = !env.queued(1).await?.is_empty();
                        return Ok(more.then_some(MORE_QUEUED));
                    }
                }
                Err(e) => {
                    if let Some(o) = env.outbox {
                        o.forget();
                    }
                    return Err(e);
                }
            },
            Err(_) => {
                // The entries' failure count changes in storage; the copy is read again.
                if let Some(o) = env.outbox {
                    o.forget();
                }
                let attempts = store::outbox_failed(env.store, env.name, last).await?;
                // Exponential backoff, capped at a minute.
                return Ok(Some((1_000i64 << attempts.clamp(0, 6)).min(60_000)));
            }
        }
    }
}

/// What [`flush`] returns when live frames queued entries while it ran: flush again when the
/// current window ends.
pub const MORE_QUEUED: i64 = 0;

/// Lets the events already waiting (live frames) run first: a zero-length timer, which the
/// runtime fires only after it has looked for I/O.
async fn yield_to_live(platform: Option<&crate::platform::Platform>) {
    if let Some(p) = platform {
        p.timer.sleep(0).await;
    }
}

/// Writes the summary of each conversation handed over or resolved in this batch and puts it
/// in the handoff's inbox event. A summary that cannot be made is logged: it must not hold
/// back the mirror.
async fn summarise(p: &crate::platform::Platform, events: &mut [mirror::InboxEventDraft]) {
    use crate::conversations::model::Status;
    for event in events.iter_mut() {
        if event.kind != mirror::EventKind::ConversationStatus {
            continue;
        }
        let reason = match event.status {
            Status::PendingHuman => "handoff",
            Status::Resolved => "resolved",
            _ => continue,
        };
        match crate::summaries::on_status(p, &event.tenant_id, &event.conversation_id, reason).await {
            Ok(text) if reason == "handoff" => {
                if let Some(data) = event.data.as_object_mut() {
                    data.insert("summary".into(), serde_json::Value::String(text));
                }
            }
            Ok(_) => {}
            Err(e) => p.log.log(
                &serde_json::json!({"level": "error", "msg": "summary not made", "conversation": event.conversation_id, "error": e.message})
                    .to_string(),
            ),
        }
    }
}
