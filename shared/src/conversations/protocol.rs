//! The live conversation protocol: JSON frames with a `type`, the same over WebSocket and (as
//! SSE `data:`) over the HTTP fallback.
//!
//! Client → server: `hello {last_seq}` (resume), `message {client_msg_id, text}`,
//! `typing {typing}`, `read {up_to_seq}`, `ping` (answered by the runtime without waking the
//! object: send exactly `{"type":"ping"}`).
//!
//! Server → client: `welcome`, `ack {client_msg_id, seq, ts, duplicate}`,
//! `message {seq, id, author, text, ts, meta}`, `note` (agents only), `typing`, `read`,
//! `presence {agent, state}`, `status {status, assignee, reason}`, `ai.delta`, `error {code,
//! message}`, `pong`.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::model::{Author, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The exact ping frame the runtime answers by itself (Durable Object auto-response).
pub const PING: &str = r#"{"type":"ping"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;

/// Largest frame a client may send, and largest message text (characters).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_CLIENT_MSG_ID: usize = 64;

/// Why a frame was refused or a request failed, in an `error` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameCode {
    /// Not a JSON object with a `type`, or a field of the wrong shape.
    InvalidFrame,
    UnknownType,
    FrameTooLarge,
    MessageTooLarge,
    /// Slow down (per-connection flood control, or the customer's request budget).
    RateLimited,
    /// The conversation is closed: no more messages.
    ConversationClosed,
    /// `ping` must be exactly `{"type":"ping"}` (the runtime answers it without waking the
    /// conversation).
    UseAutoPing,
    /// Only text frames are accepted.
    BinaryUnsupported,
    /// The server could not process the frame; retry.
    Internal,
    /// (SSE) the stream broke; reconnect with Last-Event-ID.
    Unavailable,
}

/// An agent joining or leaving a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Joined,
    Left,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Hello {
        #[serde(default)]
        last_seq: i64,
    },
    Message {
        client_msg_id: String,
        text: String,
    },
    Typing {
        #[serde(default = "yes")]
        typing: bool,
    },
    Read {
        up_to_seq: i64,
    },
    Ping,
}

fn yes() -> bool {
    true
}

/// One message as clients see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MessageView {
    pub seq: i64,
    pub id: String,
    /// The sender's id for the message (lets a client match its own pending message; AI
    /// answers carry `ai:<seq of the question>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    pub author: Author,
    pub text: String,
    pub ts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoteView {
    pub seq: i64,
    pub id: String,
    pub author: Author,
    pub text: String,
    pub ts: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ack {
    pub client_msg_id: String,
    pub seq: i64,
    pub ts: i64,
    /// True when this repeats an earlier ack (the message was already stored).
    pub duplicate: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome {
        conversation_id: String,
        you: Author,
        status: Status,
        last_seq: i64,
    },
    Ack(Ack),
    Message(MessageView),
    Note(NoteView),
    Typing {
        author: Author,
        typing: bool,
    },
    Read {
        author: Author,
        up_to_seq: i64,
    },
    Presence {
        agent: Author,
        state: PresenceState,
    },
    Status {
        status: Status,
        assignee: Option<Author>,
        reason: Option<String>,
    },
    #[serde(rename = "ai.delta")]
    AiDelta {
        reply_to: i64,
        text: String,
    },
    Error {
        code: FrameCode,
        message: String,
    },
    /// The runtime's answer to `{"type":"ping"}`.
    Pong,
}

/// A refused client frame: the code and message of the `error` frame sent back.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameError {
    pub code: FrameCode,
    pub message: String,
}

impl FrameError {
    fn new(code: FrameCode, message: impl Into<String>) -> FrameError {
        FrameError {
            code,
            message: message.into(),
        }
    }

    pub fn frame(&self) -> ServerFrame {
        ServerFrame::error(self.code, self.message.clone())
    }
}

impl ServerFrame {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"unserialisable frame"}"#.into()
        })
    }

    pub fn error(code: FrameCode, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code,
            message: message.into(),
        }
    }
}

/// Parses a client frame, mapping failures to the error frame to send back.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::new(
            FrameCode::FrameTooLarge,
            format!("frames are at most {MAX_FRAME_BYTES} bytes"),
        ));
    }
    let v: Value = serde_json::from_str(text).map_err(|_| {
        FrameError::new(
            FrameCode::InvalidFrame,
            "frames are JSON objects with a type",
        )
    })?;
    if !v.is_object() {
        return Err(FrameError::new(
            FrameCode::InvalidFrame,
            "frames are JSON objects with a type",
        ));
    }
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !matches!(
        ty.as_str(),
        "hello" | "message" | "typing" | "read" | "ping"
    ) {
        return Err(FrameError::new(
            FrameCode::UnknownType,
            format!("unknown frame type {:?}", truncate(&ty, 40)),
        ));
    }
    serde_json::from_value(v)
        .map_err(|e| FrameError::new(FrameCode::InvalidFrame, format!("invalid {ty} frame: {e}")))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Checks message text and client message id.
pub fn validate_message(client_msg_id: &str, text: &str) -> Result<(), FrameError> {
    if client_msg_id.is_empty()
        || client_msg_id.len() > MAX_CLIENT_MSG_ID
        || !client_msg_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(FrameError::new(
            FrameCode::InvalidFrame,
            "client_msg_id is 1-64 printable ASCII characters",
        ));
    }
    let n = text.chars().count();
    if text.trim().is_empty() {
        return Err(FrameError::new(FrameCode::InvalidFrame, "text is empty"));
    }
    if n > MAX_TEXT_CHARS {
        return Err(FrameError::new(
            FrameCode::MessageTooLarge,
            format!("messages are at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn parses_frames_and_names_errors() {
        assert_eq!(
            parse_client_frame(r#"{"type":"hello","last_seq":3}"#).unwrap(),
            ClientFrame::Hello { last_seq: 3 }
        );
        assert_eq!(parse_client_frame(PING).unwrap(), ClientFrame::Ping);
        let code = |t: &str| serde_json::to_value(parse_client_frame(t).unwrap_err().code).unwrap();
        assert_eq!(code("not json"), "invalid_frame");
        assert_eq!(code(r#"{"type":"explode"}"#), "unknown_type");
        assert_eq!(code(r#"{"type":"message","text":"x"}"#), "invalid_frame");
        assert_eq!(
            code(r#"{"type":"hello","last_seq":1,"x":2}"#),
            "invalid_frame"
        );
        assert_eq!(code(&"x".repeat(MAX_FRAME_BYTES + 1)), "frame_too_large");
        assert!(validate_message("m1", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(validate_message("m1", &"é".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(validate_message("has space", "hi").is_err());
    }

    #[test]
    fn frames_serialise_with_their_type() {
        let f = ServerFrame::AiDelta {
            reply_to: 3,
            text: "Hi".into(),
        };
        assert_eq!(
            f.to_text(),
            r#"{"type":"ai.delta","reply_to":3,"text":"Hi"}"#
        );
        let f = ServerFrame::Ack(Ack {
            client_msg_id: "c".into(),
            seq: 1,
            ts: 2,
            duplicate: false,
        });
        assert!(f
            .to_text()
            .starts_with(r#"{"type":"ack","client_msg_id":"c""#));
    }
}
