//! The calls the edge makes into a conversation object, one typed enum: a misspelt call is a
//! compile error, and every call is dispatched by one exhaustive `match`.

use super::commands::{self, frame_to_error};
use super::ObjectEnv;
use crate::conversations::model::{Author, Channel, Participant, Priority, Status};
use crate::conversations::protocol::{self, Ack, MessageView, NoteView};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One call into the object (`POST /call` with this as the body).
#[derive(Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    Init(InitRequest),
    Meta,
    Post(PostRequest),
    History {
        after_seq: Option<i64>,
        before_seq: Option<i64>,
        limit: u32,
        /// Include internal notes (staff callers).
        staff: bool,
    },
    Status(StatusRequest),
    Assign(AssignRequest),
    Update(UpdateRequest),
    Note(NoteRequest),
    Read(ReadRequest),
    /// A participant without a socket (SSE + POST) is typing, or stopped.
    Typing(TypingRequest),
    /// Answer customer message `reply_to` with the AI (handled by `objects`, which holds the
    /// platform the answer needs).
    AiAnswer {
        reply_to: i64,
    },
    /// The customer exercised the right to erasure: redact everything and close.
    Erase,
    /// Retention: delete everything the object holds.
    Purge,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct InitRequest {
    pub tenant_id: String,
    pub conversation_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub channel: Channel,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct PostRequest {
    pub participant: Participant,
    pub client_msg_id: String,
    pub text: String,
    #[serde(default)]
    pub meta: Option<Value>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct StatusRequest {
    pub participant: Participant,
    pub status: Status,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct AssignRequest {
    pub participant: Participant,
    /// `None` unassigns.
    pub assignee: Option<Author>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UpdateRequest {
    pub participant: Participant,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct NoteRequest {
    pub participant: Participant,
    pub text: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ReadRequest {
    pub participant: Participant,
    pub up_to_seq: i64,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct TypingRequest {
    pub participant: Participant,
    pub typing: bool,
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

/// Runs one call (creating the object's storage only for `Init`).
pub async fn handle(env: &ObjectEnv<'_>, call: Call) -> ApiResult<Response> {
    if let Call::Init(r) = call {
        env.create_schema().await?;
        return Ok(Response::json(200, &commands::init(env, r).await?));
    }
    if !env.exists().await? {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(match call {
        Call::Init(_) => return Err(ApiError::internal("init handled above")),
        Call::Meta => Response::json(200, &env.meta().await?),
        Call::Post(body) => {
            protocol::validate_message(&body.client_msg_id, &body.text).map_err(frame_to_error)?;
            let posted = commands::post(
                env,
                &body.participant,
                &body.client_msg_id,
                &body.text,
                body.meta,
            )
            .await?;
            Response::json(200, &posted)
        }
        Call::History {
            after_seq,
            before_seq,
            limit,
            staff,
        } => {
            let limit = limit.clamp(1, 200);
            Response::json(
                200,
                &commands::history(env, after_seq, before_seq, limit, staff).await?,
            )
        }
        Call::Status(body) => Response::json(
            200,
            &commands::set_status(env, &body.participant, body.status, body.reason).await?,
        ),
        Call::Assign(body) => Response::json(
            200,
            &commands::assign(env, &body.participant, body.assignee).await?,
        ),
        Call::Update(body) => Response::json(200, &commands::update(env, body).await?),
        Call::Note(body) => Response::json(
            200,
            &commands::note(env, &body.participant, &body.text).await?,
        ),
        Call::Read(body) => {
            commands::read(env, &body.participant, body.up_to_seq).await?;
            Response::new(204)
        }
        Call::Typing(body) => {
            env.meta().await?;
            super::live::typing(env, &body.participant, body.typing);
            Response::new(204)
        }
        Call::Erase => Response::json(200, &super::privacy::erase(env).await?),
        Call::Purge => {
            super::privacy::purge(env).await?;
            Response::new(204)
        }
        Call::AiAnswer { .. } => {
            return Err(ApiError::internal("AI answers are run by the object host"))
        }
    })
}
