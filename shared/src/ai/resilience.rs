//! Calling one provider robustly: a timeout on the first token and on the whole answer,
//! retries with backoff on 429/5xx (honouring the server's requested delay) as long as nothing
//! has been shown to the customer yet, and the circuit breaker's bookkeeping.

use super::breaker;
use super::config::Resolved;
use super::providers::{
    gemini::Gemini, openai::OpenAi, ChatEvent, ChatRequest, EventStream, Finish, ProviderError,
    Usage,
};
use crate::egress::within;
use crate::platform::Platform;
use futures::StreamExt;
use serde_json::Value;

/// Retries per provider before falling back to the next one.
pub const MAX_RETRIES: u32 = 2;
/// Longest wait for a retry; a server asking for more is treated as down for now.
pub const MAX_RETRY_WAIT_MS: i64 = 5_000;

/// What one provider produced.
pub struct Run {
    pub text: String,
    pub finish: Finish,
    pub usage: Usage,
    pub model: String,
    pub tool_call: Option<(String, Value)>,
    /// The stream broke after text was shown: what was sent is kept, marked incomplete.
    pub cut: bool,
}

pub enum Failure {
    /// Nothing reached the customer: the next provider may answer instead.
    BeforeAnswer(ProviderError),
    /// The breaker is open: skipped without a call.
    Skipped,
}

async fn open(p: &Platform, r: &Resolved, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    let http = p
        .http
        .clone()
        .ok_or_else(|| ProviderError::fatal("no outbound HTTP on this runtime"))?;
    match r.kind {
        super::providers::ProviderKind::Gemini => {
            Gemini {
                http,
                base_url: r.base_url.clone(),
                api_key: r.api_key.clone(),
                model: r.model.clone(),
            }
            .stream(req)
            .await
        }
        super::providers::ProviderKind::Openai => {
            OpenAi {
                http,
                base_url: r.base_url.clone(),
                api_key: r.api_key.clone(),
                model: r.model.clone(),
            }
            .stream(req)
            .await
        }
        super::providers::ProviderKind::Offline => {
            Err(ProviderError::fatal("offline is not a remote provider"))
        }
    }
}

/// Streams one answer from `r`, calling `on_delta` for each piece of text as it arrives.
pub async fn run(
    p: &Platform,
    r: &Resolved,
    req: &ChatRequest,
    first_token_ms: i64,
    total_ms: i64,
    on_delta: &mut dyn FnMut(&str),
) -> Result<Run, Failure> {
    let key = r.key();
    if !breaker::with(|b| b.allows(&key, p.now_ms())) {
        return Err(Failure::Skipped);
    }
    let mut attempt = 0;
    loop {
        let started = p.now_ms();
        let result = attempt_once(p, r, req, first_token_ms, total_ms, on_delta, started).await;
        match result {
            Ok(run) => {
                breaker::with(|b| b.success(&key));
                return Ok(run);
            }
            Err(e) => {
                breaker::with(|b| b.failure(&key, p.now_ms()));
                let wait = e.retry_after_ms.unwrap_or(300 * (1 << attempt));
                if !e.retryable || attempt >= MAX_RETRIES || wait > MAX_RETRY_WAIT_MS {
                    return Err(Failure::BeforeAnswer(e));
                }
                attempt += 1;
                p.timer.sleep(wait as u64).await;
            }
        }
    }
}

async fn attempt_once(
    p: &Platform,
    r: &Resolved,
    req: &ChatRequest,
    first_token_ms: i64,
    total_ms: i64,
    on_delta: &mut dyn FnMut(&str),
    started: i64,
) -> Result<Run, ProviderError> {
    let mut stream = within(p, first_token_ms, open(p, r, req))
        .await
        .ok_or_else(|| ProviderError::transient("timed out connecting", None))??;
    let mut run = Run {
        text: String::new(),
        finish: Finish::Stop,
        usage: Usage::default(),
        model: r.model.clone(),
        tool_call: None,
        cut: false,
    };
    loop {
        let budget = if run.text.is_empty() && run.tool_call.is_none() {
            first_token_ms - (p.now_ms() - started)
        } else {
            total_ms - (p.now_ms() - started)
        };
        let next = within(p, budget, stream.next()).await;
        let event = match next {
            None if run.text.is_empty() => {
                return Err(ProviderError::transient(
                    "timed out waiting for the first token",
                    None,
                ))
            }
            None => {
                run.cut = true;
                return Ok(run);
            }
            Some(None) if run.text.is_empty() && run.tool_call.is_none() => {
                return Err(ProviderError::transient("empty stream", None))
            }
            Some(None) => {
                run.cut = true;
                return Ok(run);
            }
            Some(Some(e)) => e,
        };
        match event {
            Ok(ChatEvent::Delta(t)) => {
                on_delta(&t);
                run.text.push_str(&t);
            }
            Ok(ChatEvent::ToolCall { name, args }) => run.tool_call = Some((name, args)),
            Ok(ChatEvent::Done {
                finish,
                usage,
                model,
            }) => {
                run.finish = finish;
                run.usage = usage;
                if !model.is_empty() {
                    run.model = model;
                }
                return Ok(run);
            }
            Err(e) if run.text.is_empty() && run.tool_call.is_none() => return Err(e),
            Err(_) => {
                run.cut = true;
                return Ok(run);
            }
        }
    }
}
