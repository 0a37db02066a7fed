//! Google Gemini over REST v1beta (`x-goog-api-key`): `:streamGenerateContent?alt=sse` for
//! answers (each SSE `data:` is a whole GenerateContentResponse; there is no `[DONE]`; the last
//! frame carries `usageMetadata`), and `:batchEmbedContents` with `gemini-embedding-001` at 768
//! dimensions for the knowledge base.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::{ChatEvent, ChatRequest, EventStream, Finish, ProviderError, Role, Usage};
use crate::ai::sse_parse;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::knowledge::embed::{normalise, Embedder, Purpose, DIM};
use crate::ports::HttpClient;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::rc::Rc;

pub const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";
pub const EMBEDDING_MODEL: &str = "gemini-embedding-001";

pub struct Gemini {
    pub http: Rc<dyn HttpClient>,
    pub base_url: String,
    pub api_key: String,
    pub model: String,
}

/// The request body for `generateContent` / `streamGenerateContent`.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut contents: Vec<Value> = req
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            };
            let mut parts = vec![json!({ "text": m.text })];
            parts.extend(m.images.iter().map(
                |i| json!({ "inline_data": { "mime_type": i.mime_type, "data": i.data_base64 } }),
            ));
            json!({ "role": role, "parts": parts })
        })
        .collect();
    if let Some((name, args, result)) = &req.tool_result {
        contents.push(json!({ "role": "model", "parts": [{ "functionCall": { "name": name, "args": args } }] }));
        contents.push(json!({ "role": "user", "parts": [{ "functionResponse": { "name": name, "response": result } }] }));
    }
    let mut body = json!({
        "contents": contents,
        "systemInstruction": { "parts": [{ "text": req.system }] },
        "generationConfig": { "temperature": req.temperature, "maxOutputTokens": req.max_output_tokens },
        "safetySettings": [
            { "category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_MEDIUM_AND_ABOVE" },
            { "category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_MEDIUM_AND_ABOVE" },
            { "category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "threshold": "BLOCK_MEDIUM_AND_ABOVE" },
            { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_MEDIUM_AND_ABOVE" }
        ],
    });
    if req.json {
        if let Some(Value::Object(g)) = body.get_mut("generationConfig") {
            g.insert("responseMimeType".into(), json!("application/json"));
        }
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "parameters": t.parameters }))
            .collect();
        if let Value::Object(b) = &mut body {
            b.insert("tools".into(), json!([{ "functionDeclarations": decls }]));
        }
    }
    body
}

fn finish_reason(s: &str) -> Finish {
    match s {
        "STOP" => Finish::Stop,
        "MAX_TOKENS" => Finish::MaxTokens,
        "SAFETY" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII" => Finish::Safety,
        "RECITATION" => Finish::Recitation,
        other => Finish::Other(other.to_string()),
    }
}

/// What a Gemini stream has said so far.
pub struct FrameState {
    pub finish: Option<Finish>,
    pub usage: Usage,
    pub model: String,
}

/// Gemini's stream: frames until one carries a finish reason (there is no `[DONE]`); a frame
/// that is not JSON ends it, and closing without a finish reason is a cut.
impl sse_parse::Decoder for FrameState {
    fn payload(&mut self, data: &str) -> Result<Vec<ChatEvent>, ProviderError> {
        let v: Value = serde_json::from_str(data)
            .map_err(|_| ProviderError::transient("malformed stream frame", None))?;
        parse_frame(&v, self)
    }

    fn done(&self) -> Option<ChatEvent> {
        None
    }

    fn end(&mut self, rest: Vec<String>) -> Vec<Result<ChatEvent, ProviderError>> {
        let mut out = Vec::new();
        for p in rest {
            if let Ok(evs) = self.payload(&p) {
                out.extend(evs.into_iter().map(Ok));
            }
        }
        match self.finish.clone() {
            Some(finish) => out.push(Ok(ChatEvent::Done {
                finish,
                usage: self.usage.clone(),
                model: self.model.clone(),
            })),
            None => out.push(Err(ProviderError::transient(
                "stream ended before a finish reason",
                None,
            ))),
        }
        out
    }
}

/// Turns one GenerateContentResponse into events. `state` tracks finish and usage across frames.
pub fn parse_frame(v: &Value, state: &mut FrameState) -> Result<Vec<ChatEvent>, ProviderError> {
    let mut out = Vec::new();
    if let Some(block) = v
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        state.finish = Some(if block == "SAFETY" {
            Finish::Safety
        } else {
            Finish::Other(block.to_string())
        });
    }
    if let Some(model) = v["modelVersion"].as_str() {
        state.model = model.to_string();
    }
    if let Some(u) = v.get("usageMetadata") {
        state.usage = Usage {
            input_tokens: u["promptTokenCount"].as_u64().unwrap_or(0),
            output_tokens: u["candidatesTokenCount"].as_u64().unwrap_or(0),
        };
    }
    if let Some(c) = v["candidates"].get(0) {
        if let Some(parts) = c.pointer("/content/parts").and_then(Value::as_array) {
            for p in parts {
                if let Some(t) = p["text"].as_str() {
                    if !t.is_empty() {
                        out.push(ChatEvent::Delta(t.to_string()));
                    }
                }
                if let Some(fc) = p.get("functionCall") {
                    let name = fc["name"]
                        .as_str()
                        .ok_or_else(|| ProviderError::fatal("function call without a name"))?;
                    out.push(ChatEvent::ToolCall {
                        name: name.to_string(),
                        args: fc["args"].clone(),
                    });
                    state.finish = Some(Finish::ToolCall);
                }
            }
        }
        if let Some(r) = c["finishReason"].as_str() {
            if state.finish != Some(Finish::ToolCall) {
                state.finish = Some(finish_reason(r));
            }
        }
    } else if v.get("error").is_some() {
        return Err(ProviderError::transient(
            format!("error frame: {}", v["error"]),
            None,
        ));
    }
    Ok(out)
}

impl Gemini {
    fn url(&self, method: &str) -> String {
        format!(
            "{}/v1beta/models/{}:{method}",
            self.base_url.trim_end_matches('/'),
            self.model
        )
    }

    fn post(&self, url: &str, body: &Value) -> Request {
        Request::new(Method::Post, url)
            .with_header("x-goog-api-key", &self.api_key)
            .with_header("content-type", "application/json")
            .with_body(serde_json::to_vec(body).unwrap_or_default())
    }

    pub async fn stream(&self, req: &ChatRequest) -> Result<EventStream, ProviderError> {
        let url = format!("{}?alt=sse", self.url("streamGenerateContent"));
        let chunks = sse_parse::open(&*self.http, self.post(&url, &request_body(req))).await?;
        Ok(sse_parse::events(
            chunks,
            FrameState {
                finish: None,
                usage: Usage::default(),
                model: self.model.clone(),
            },
        ))
    }
}

/// `gemini-embedding-001` at 768 dimensions, re-normalised (truncated outputs are not unit).
pub struct GeminiEmbedder {
    pub http: Rc<dyn HttpClient>,
    pub timer: Rc<dyn crate::ports::Timer>,
    pub base_url: String,
    pub api_key: String,
}

#[async_trait(?Send)]
impl Embedder for GeminiEmbedder {
    fn model_id(&self) -> String {
        format!("{EMBEDDING_MODEL}@{DIM}")
    }

    async fn embed(&self, texts: &[String], purpose: Purpose) -> ApiResult<Vec<Vec<f32>>> {
        let task = match purpose {
            Purpose::Document => "RETRIEVAL_DOCUMENT",
            Purpose::Query => "RETRIEVAL_QUERY",
        };
        let requests: Vec<Value> = texts
            .iter()
            .map(|t| {
                json!({
                    "model": format!("models/{EMBEDDING_MODEL}"),
                    "content": { "parts": [{ "text": t }] },
                    "taskType": task,
                    "outputDimensionality": DIM,
                })
            })
            .collect();
        let url = format!(
            "{}/v1beta/models/{EMBEDDING_MODEL}:batchEmbedContents",
            self.base_url.trim_end_matches('/')
        );
        let req = Request::new(Method::Post, &url)
            .with_header("x-goog-api-key", &self.api_key)
            .with_header("content-type", "application/json")
            .with_body(serde_json::to_vec(&json!({ "requests": requests })).unwrap_or_default());
        let resp =
            crate::egress::fetch_with(&self.http, &self.timer, req, crate::egress::Limits::API)
                .await
                .map_err(|e| ApiError::new(ErrorCode::UpstreamError, format!("embedding: {e}")))?;
        let status = resp.status;
        let body = resp.text();
        if status >= 400 {
            return Err(ApiError::new(
                ErrorCode::UpstreamError,
                format!("embedding failed ({status})"),
            ));
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|_| ApiError::new(ErrorCode::UpstreamError, "unreadable embedding answer"))?;
        let embs = v
            .get("embeddings")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::new(ErrorCode::UpstreamError, "no embeddings"))?;
        if embs.len() != texts.len() {
            return Err(ApiError::new(
                ErrorCode::UpstreamError,
                "embedding count mismatch",
            ));
        }
        embs.iter()
            .map(|e| {
                let mut v: Vec<f32> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_f64())
                            .map(|x| x as f32)
                            .collect()
                    })
                    .unwrap_or_default();
                if v.len() != DIM {
                    return Err(ApiError::new(
                        ErrorCode::UpstreamError,
                        format!("embedding has {} dimensions, expected {DIM}", v.len()),
                    ));
                }
                normalise(&mut v);
                Ok(v)
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn frames_become_deltas_tool_calls_and_a_finish() {
        let mut st = FrameState {
            finish: None,
            usage: Usage::default(),
            model: String::new(),
        };
        let f1 = json!({"candidates": [{"content": {"parts": [{"text": "Hello"}], "role": "model"}, "index": 0}]});
        assert_eq!(
            parse_frame(&f1, &mut st).unwrap(),
            vec![ChatEvent::Delta("Hello".into())]
        );
        let f2 = json!({"candidates": [{"content": {"parts": [{"text": " there"}]}, "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3}, "modelVersion": "gemini-2.5-flash"});
        parse_frame(&f2, &mut st).unwrap();
        assert_eq!(st.finish, Some(Finish::Stop));
        assert_eq!(
            st.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 3
            }
        );
        let mut st = FrameState {
            finish: None,
            usage: Usage::default(),
            model: String::new(),
        };
        let call = json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "handoff_to_human", "args": {"reason": "angry"}}}]}, "finishReason": "STOP"}]});
        let evs = parse_frame(&call, &mut st).unwrap();
        assert_eq!(
            evs[0],
            ChatEvent::ToolCall {
                name: "handoff_to_human".into(),
                args: json!({"reason": "angry"})
            }
        );
        assert_eq!(st.finish, Some(Finish::ToolCall));
        let mut st = FrameState {
            finish: None,
            usage: Usage::default(),
            model: String::new(),
        };
        parse_frame(
            &json!({"promptFeedback": {"blockReason": "SAFETY"}}),
            &mut st,
        )
        .unwrap();
        assert_eq!(st.finish, Some(Finish::Safety));
    }

    #[test]
    fn retry_delay_comes_from_error_details() {
        let body = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}}"#;
        assert_eq!(crate::ai::sse_parse::retry_delay(body), Some(2000));
    }
}
