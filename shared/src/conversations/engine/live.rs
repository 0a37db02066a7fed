//! Live connections: a socket joins (admitted with its participant), sends frames (flood
//! control, parsing, then the same commands as HTTP), and leaves.

use super::commands::{post, read};
use super::{attachment_participant, ObjectEnv};
use crate::conversations::model::Participant;
use crate::conversations::protocol::{self, ClientFrame, ServerFrame};
use crate::conversations::store;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ratelimit::{gcra, Bucket, Limit};
use serde_json::{json, Value};

pub const MAX_CONNECTIONS: usize = 100;
/// Messages per connection: a burst of 10, then 5 per second.
pub const CONNECTION_RATE: Limit = Limit {
    count: 10,
    period_ms: 2_000,
};
/// Refused frames in a row before a flooding connection is closed (1008, policy violation).
pub const MAX_STRIKES: i64 = 20;

/// What one call into the object runs against.
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
        announce_presence(env, conn, &who, protocol::PresenceState::Joined);
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
    // Flood control per connection, state kept in the socket's attachment, in memory only:
    // after hibernation (10 s without events) a reset bucket is what the idle time would have
    // refilled anyway, and every customer message is still charged at the tenant's gate.
    let now = env.now();
    let mut seen: Option<(Participant, gcra::Decision, i64)> = None;
    env.hub.update_volatile(conn, &mut |a| {
        let Some(who) = attachment_participant(a) else {
            return;
        };
        let tat = a["tat"].as_i64().unwrap_or(0);
        let strikes = a["strikes"].as_i64().unwrap_or(0);
        let d = gcra::check(Bucket { tat }, CONNECTION_RATE, now, 1);
        if d.allowed {
            a["tat"] = json!(d.next.tat);
            a["strikes"] = json!(0);
        } else {
            a["strikes"] = json!(strikes + 1);
        }
        seen = Some((who, d, strikes + 1));
    });
    let Some((who, d, strikes)) = seen else {
        return Ok(None);
    };
    if !d.allowed {
        if strikes >= MAX_STRIKES {
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
        ClientFrame::Typing { typing } => self::typing(env, who, typing),
        ClientFrame::Read { up_to_seq } => read(env, who, up_to_seq).await?,
    }
    Ok(None)
}

/// Tells everyone else in the conversation that `who` is typing (or stopped). Ephemeral: never
/// stored, so a missed frame costs nothing.
pub fn typing(env: &ObjectEnv<'_>, who: &Participant, typing: bool) {
    let author = who.author();
    env.fan_out(
        &ServerFrame::Typing {
            author: author.clone(),
            typing,
        },
        |p| p.id() != author.id,
    );
}

/// A connection closed: announce an agent's departure when it was their last connection.
pub async fn on_close(env: &ObjectEnv<'_>, conn: &str, attachment: &Value) -> ApiResult<()> {
    let Some(who @ Participant::Agent { .. }) = attachment_participant(attachment) else {
        return Ok(());
    };
    announce_presence(env, conn, &who, protocol::PresenceState::Left);
    Ok(())
}

/// Tells everyone else an agent joined or left, unless the agent has another connection here
/// (a second tab neither joins nor leaves).
fn announce_presence(
    env: &ObjectEnv<'_>,
    conn: &str,
    who: &Participant,
    state: protocol::PresenceState,
) {
    let elsewhere = env
        .hub
        .connections()
        .iter()
        .filter(|c| c.id != conn)
        .filter_map(|c| attachment_participant(&c.attachment))
        .any(|p| p.id() == who.id());
    if !elsewhere {
        env.fan_out(
            &ServerFrame::Presence {
                agent: who.author(),
                state,
            },
            |p| p.id() != who.id(),
        );
    }
}
