//! OpenAI-compatible servers (OpenAI itself, and self-hosted models behind the same API):
//! streaming `POST /v1/chat/completions` (`data:` chunks ending with `data: [DONE]`), tool calls
//! assembled from their streamed fragments, and `POST /v1/embeddings`.

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

pub const DEFAULT_BASE: &str = "https://api.openai.com";
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";

pub struct OpenAi {
    pub http: Rc<dyn HttpClient>,
    pub base_url: String,
    pub api_key: String,
    pub model: String,
}

pub fn request_body(req: &ChatRequest, model: &str) -> Value {
    let mut messages = vec![json!({ "role": "system", "content": req.system })];
    for m in &req.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({ "role": role, "content": m.text }));
    }
    if let Some((name, args, result)) = &req.tool_result {
        messages.push(json!({ "role": "assistant", "content": null, "tool_calls": [{
            "id": "call_0", "type": "function", "function": { "name": name, "arguments": args.to_string() } }] }));
        messages.push(
            json!({ "role": "tool", "tool_call_id": "call_0", "content": result.to_string() }),
        );
    }
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
        "temperature": req.temperature,
        "max_tokens": req.max_output_tokens,
    });
    if let Value::Object(b) = &mut body {
        if req.json {
            b.insert("response_format".into(), json!({ "type": "json_object" }));
        }
        if !req.tools.is_empty() {
            b.insert(
                "tools".into(),
                Value::Array(
                    req.tools
                        .iter()
                        .map(|t| json!({ "type": "function", "function": { "name": t.name, "description": t.description, "parameters": t.parameters } }))
                        .collect(),
                ),
            );
        }
    }
    body
}

#[derive(Default)]
pub struct ParseState {
    pub finish: Option<Finish>,
    pub usage: Usage,
    pub model: String,
    /// Tool call being assembled: name and argument fragments.
    pub tool: Option<(String, String)>,
    pub done: bool,
}

/// OpenAI's stream: chunks until `[DONE]`; closing before it is a cut.
impl sse_parse::Decoder for ParseState {
    fn payload(&mut self, data: &str) -> Result<Vec<ChatEvent>, ProviderError> {
        parse_chunk(data, self)
    }

    fn done(&self) -> Option<ChatEvent> {
        self.done.then(|| ChatEvent::Done {
            finish: self.finish.clone().unwrap_or(Finish::Stop),
            usage: self.usage.clone(),
            model: self.model.clone(),
        })
    }

    fn end(&mut self, rest: Vec<String>) -> Vec<Result<ChatEvent, ProviderError>> {
        let mut out = Vec::new();
        for p in rest {
            match parse_chunk(&p, self) {
                Ok(evs) => out.extend(evs.into_iter().map(Ok)),
                Err(e) => return vec![Err(e)],
            }
        }
        match self.done() {
            Some(done) => out.push(Ok(done)),
            None => out.push(Err(ProviderError::transient(
                "stream ended before [DONE]",
                None,
            ))),
        }
        out
    }
}

pub fn parse_chunk(data: &str, st: &mut ParseState) -> Result<Vec<ChatEvent>, ProviderError> {
    if data.trim() == "[DONE]" {
        st.done = true;
        let mut out = Vec::new();
        if let Some((name, args)) = st.tool.take() {
            let args = serde_json::from_str(&args).unwrap_or(Value::Null);
            out.push(ChatEvent::ToolCall { name, args });
            st.finish = Some(Finish::ToolCall);
        }
        return Ok(out);
    }
    let v: Value = serde_json::from_str(data)
        .map_err(|_| ProviderError::transient("malformed stream chunk", None))?;
    if let Some(e) = v.get("error") {
        return Err(ProviderError::transient(format!("error chunk: {e}"), None));
    }
    if let Some(m) = v.get("model").and_then(Value::as_str) {
        st.model = m.to_string();
    }
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        st.usage = Usage {
            input_tokens: u["prompt_tokens"].as_u64().unwrap_or(0),
            output_tokens: u["completion_tokens"].as_u64().unwrap_or(0),
        };
    }
    let mut out = Vec::new();
    if let Some(choice) = v.pointer("/choices/0") {
        let delta = &choice["delta"];
        if let Some(t) = delta["content"].as_str() {
            if !t.is_empty() {
                out.push(ChatEvent::Delta(t.to_string()));
            }
        }
        if let Some(calls) = delta["tool_calls"].as_array() {
            for c in calls {
                let f = &c["function"];
                let entry = st
                    .tool
                    .get_or_insert_with(|| (String::new(), String::new()));
                if let Some(n) = f["name"].as_str() {
                    entry.0.push_str(n);
                }
                if let Some(a) = f["arguments"].as_str() {
                    entry.1.push_str(a);
                }
            }
        }
        if let Some(r) = choice["finish_reason"].as_str() {
            st.finish = Some(match r {
                "stop" => Finish::Stop,
                "length" => Finish::MaxTokens,
                "content_filter" => Finish::Safety,
                "tool_calls" | "function_call" => Finish::ToolCall,
                other => Finish::Other(other.to_string()),
            });
        }
    }
    Ok(out)
}

impl OpenAi {
    pub async fn stream(&self, req: &ChatRequest) -> Result<EventStream, ProviderError> {
        let url = format!(
            "{}/v1/chat/completions",
            self.base_url.trim_end_matches('/')
        );
        let http_req = Request::new(Method::Post, &url)
            .with_header("authorization", &format!("Bearer {}", self.api_key))
            .with_header("content-type", "application/json")
            .with_body(serde_json::to_vec(&request_body(req, &self.model)).unwrap_or_default());
        let chunks = sse_parse::open(&*self.http, http_req).await?;
        Ok(sse_parse::events(
            chunks,
            ParseState {
                model: self.model.clone(),
                ..Default::default()
            },
        ))
    }
}

pub struct OpenAiEmbedder {
    pub http: Rc<dyn HttpClient>,
    pub timer: Rc<dyn crate::ports::Timer>,
    pub base_url: String,
    pub api_key: String,
    pub model: String,
}

#[async_trait(?Send)]
impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> String {
        format!("{}@{DIM}", self.model)
    }

    async fn embed(&self, texts: &[String], _purpose: Purpose) -> ApiResult<Vec<Vec<f32>>> {
        let url = format!("{}/v1/embeddings", self.base_url.trim_end_matches('/'));
        let req = Request::new(Method::Post, &url)
            .with_header("authorization", &format!("Bearer {}", self.api_key))
            .with_header("content-type", "application/json")
            .with_body(
                serde_json::to_vec(
                    &json!({ "model": self.model, "input": texts, "dimensions": DIM }),
                )
                .unwrap_or_default(),
            );
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
        let mut data: Vec<(usize, Vec<f32>)> = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::new(ErrorCode::UpstreamError, "no embeddings"))?
            .iter()
            .map(|d| {
                let vals: Vec<f32> = d["embedding"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_f64())
                            .map(|x| x as f32)
                            .collect()
                    })
                    .unwrap_or_default();
                (d["index"].as_u64().unwrap_or(0) as usize, vals)
            })
            .collect();
        data.sort_by_key(|d| d.0);
        if data.len() != texts.len() || data.iter().any(|d| d.1.len() != DIM) {
            return Err(ApiError::new(
                ErrorCode::UpstreamError,
                "embedding shape mismatch",
            ));
        }
        Ok(data
            .into_iter()
            .map(|(_, mut v)| {
                normalise(&mut v);
                v
            })
            .collect())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn chunks_become_deltas_and_tool_calls_are_assembled() {
        let mut st = ParseState::default();
        let d = parse_chunk(r#"{"model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#, &mut st).unwrap();
        assert_eq!(d, vec![ChatEvent::Delta("Hi".into())]);
        parse_chunk(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"handoff_to_human","arguments":"{\"rea"}}]}}]}"#, &mut st).unwrap();
        parse_chunk(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"son\":\"x\"}"}}]},"finish_reason":"tool_calls"}]}"#, &mut st).unwrap();
        parse_chunk(
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            &mut st,
        )
        .unwrap();
        let last = parse_chunk("[DONE]", &mut st).unwrap();
        assert_eq!(
            last,
            vec![ChatEvent::ToolCall {
                name: "handoff_to_human".into(),
                args: json!({"reason": "x"})
            }]
        );
        assert_eq!(
            st.usage,
            Usage {
                input_tokens: 5,
                output_tokens: 2
            }
        );
        assert!(parse_chunk("{oops", &mut ParseState::default()).is_err());
    }
}
