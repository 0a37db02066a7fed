//! Chat providers behind one streaming interface: Google Gemini (REST v1beta), any
//! OpenAI-compatible server, and the built-in offline responder. Each turns a [`ChatRequest`]
//! into a stream of [`ChatEvent`]s; retries, timeouts, fallback and the circuit breaker live in
//! `crate::ai::resilience`, not here.

pub mod gemini;
pub mod offline;
pub mod openai;

use crate::error::{ApiError, ErrorCode};
use futures::stream::LocalBoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Gemini,
    Openai,
    Offline,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Gemini => "gemini",
            ProviderKind::Openai => "openai",
            ProviderKind::Offline => "offline",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Clone, Debug)]
pub struct ChatMessage {
    pub role: Role,
    pub text: String,
    /// Images the customer sent with this message, for models that see images (Gemini's
    /// `inline_data`); other providers get the text alone, which names the files.
    pub images: Vec<InlineImage>,
}

/// An image as a model reads it: its type and its bytes in base64.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineImage {
    pub mime_type: String,
    pub data_base64: String,
}

/// A tool the model may call.
#[derive(Clone, Debug)]
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

#[derive(Clone, Debug)]
pub struct ChatRequest {
    pub system: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<Tool>,
    pub temperature: f32,
    pub max_output_tokens: u32,
    /// Ask for a JSON object answer (analysis).
    pub json: bool,
    /// A tool result to continue from: (tool name, the model's call args, our result).
    pub tool_result: Option<(String, Value, Value)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Why generation stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum Finish {
    Stop,
    MaxTokens,
    /// Blocked by safety filters (prompt or answer).
    Safety,
    /// Blocked because it would recite training data.
    Recitation,
    ToolCall,
    Other(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    Delta(String),
    ToolCall {
        name: String,
        args: Value,
    },
    Done {
        finish: Finish,
        usage: Usage,
        model: String,
    },
}

/// A provider failure, classified for the resilience layer.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderError {
    pub message: String,
    /// Worth retrying (429, 5xx, network).
    pub retryable: bool,
    /// Server-requested wait before retrying, in ms.
    pub retry_after_ms: Option<i64>,
}

impl ProviderError {
    pub fn fatal(message: impl Into<String>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: false,
            retry_after_ms: None,
        }
    }
    pub fn transient(message: impl Into<String>, retry_after_ms: Option<i64>) -> Self {
        ProviderError {
            message: message.into(),
            retryable: true,
            retry_after_ms,
        }
    }

    /// Classifies an HTTP error status (and a `Retry-After` header in seconds).
    pub fn from_status(status: u16, body: &str, retry_after: Option<&str>) -> Self {
        let retry_after_ms = retry_after
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|s| (s * 1000.0) as i64);
        let message = format!(
            "upstream answered {status}: {}",
            body.chars().take(300).collect::<String>()
        );
        if status == 429 || status == 408 || status >= 500 {
            ProviderError::transient(message, retry_after_ms)
        } else {
            ProviderError::fatal(message)
        }
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        ApiError::new(ErrorCode::UpstreamError, e.message)
    }
}

/// A stream of events, or an error before or during it.
pub type EventStream = LocalBoxStream<'static, Result<ChatEvent, ProviderError>>;

/// The tools every provider offers the model.
pub fn assistant_tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "handoff_to_human",
            description: "Hand the conversation to a human agent when the customer asks for one, is upset, or the knowledge base cannot answer.",
            parameters: serde_json::json!({"type": "object", "properties": {"reason": {"type": "string", "description": "Why a human is needed"}}, "required": ["reason"]}),
        },
        Tool {
            name: "search_knowledge_base",
            description: "Search the business's knowledge base for passages that answer a question.",
            parameters: serde_json::json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
        },
    ]
}

/// The start of an error body (for the message); reading stops at 64 KiB.
pub async fn body_text(body: crate::http::Body) -> String {
    crate::egress::read_prefix(body, 64 * 1024).await
}
