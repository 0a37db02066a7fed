//! Local fake providers that speak the documented wire formats byte for byte, scripted per test:
//! Google Gemini (`:streamGenerateContent?alt=sse`, `x-goog-api-key`) and OpenAI-compatible chat
//! completions (`data:` chunks ending with `[DONE]`). Each test selects its script by the API
//! key its tenant is configured with, so tests sharing one fake never interfere. Every request
//! is recorded for assertions.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One scripted reply.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Stream these `data:` payloads, waiting `first_delay` before the first and `gap` between.
    Stream {
        frames: Vec<String>,
        first_delay: Duration,
        gap: Duration,
    },
    /// Stream these, then drop the connection without finishing.
    Cut { frames: Vec<String> },
    /// An error status with a body and optional `Retry-After` (seconds).
    Status {
        code: u16,
        body: Value,
        retry_after: Option<u32>,
    },
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub api_key: Option<String>,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    scripts: HashMap<String, Vec<Reply>>,
    calls: HashMap<String, usize>,
    recorded: Vec<Recorded>,
    /// When each scripted stream sent its first frame (for relay-latency measurements).
    first_frame_at: HashMap<String, Vec<Instant>>,
}

#[derive(Clone)]
pub struct Fakes {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Fakes {
    /// One fake server per test binary, on a free port, serving on its own runtime thread.
    pub fn shared() -> &'static Fakes {
        static F: OnceLock<Fakes> = OnceLock::new();
        F.get_or_init(|| {
            let inner = Arc::new(Mutex::new(Inner::default()));
            let app = Router::new()
                .route("/v1beta/models/{rest}", post(gemini))
                .route("/v1/chat/completions", post(openai))
                .with_state(inner.clone());
            Fakes {
                base: crate::fake_server::spawn(app),
                inner,
            }
        })
    }

    /// Replies for the requests made with `api_key`, in order (the last one repeats).
    pub fn script(&self, api_key: &str, replies: Vec<Reply>) {
        self.inner
            .lock()
            .unwrap()
            .scripts
            .insert(api_key.to_string(), replies);
    }

    pub fn requests(&self, api_key: &str) -> Vec<Recorded> {
        self.inner
            .lock()
            .unwrap()
            .recorded
            .iter()
            .filter(|r| r.api_key.as_deref() == Some(api_key))
            .cloned()
            .collect()
    }

    pub fn first_frames(&self, api_key: &str) -> Vec<Instant> {
        self.inner
            .lock()
            .unwrap()
            .first_frame_at
            .get(api_key)
            .cloned()
            .unwrap_or_default()
    }
}

/// A Gemini GenerateContentResponse frame with text (and a finish reason and usage when given).
pub fn gemini_frame(text: &str, finish: Option<&str>) -> String {
    let mut v = json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}], "modelVersion": "gemini-2.5-flash"});
    if let Some(f) = finish {
        v["candidates"][0]["finishReason"] = json!(f);
        v["usageMetadata"] =
            json!({"promptTokenCount": 210, "candidatesTokenCount": 14, "totalTokenCount": 224});
    }
    v.to_string()
}

fn next_reply(state: &Arc<Mutex<Inner>>, key: &str, path: &str, body: Value) -> Option<Reply> {
    let mut s = state.lock().unwrap();
    s.recorded.push(Recorded {
        path: path.into(),
        api_key: Some(key.into()),
        body,
        at: Instant::now(),
    });
    let n = *s.calls.get(key).unwrap_or(&0);
    s.calls.insert(key.into(), n + 1);
    let replies = s.scripts.get(key)?;
    replies.get(n).or(replies.last()).cloned()
}

fn sse(
    state: Arc<Mutex<Inner>>,
    key: String,
    frames: Vec<String>,
    first_delay: Duration,
    gap: Duration,
    cut: bool,
) -> Response {
    let stream = async_stream(state, key, frames, first_delay, gap, cut);
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn async_stream(
    state: Arc<Mutex<Inner>>,
    key: String,
    frames: Vec<String>,
    first_delay: Duration,
    gap: Duration,
    cut: bool,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold((0usize, frames), move |(i, frames)| {
        let (state, key) = (state.clone(), key.clone());
        async move {
            if i > frames.len() {
                return None;
            }
            if i == frames.len() {
                // A cut stream ends with an error instead of a clean close.
                return if cut {
                    Some((Err(std::io::Error::other("cut")), (i + 1, frames)))
                } else {
                    None
                };
            }
            tokio::time::sleep(if i == 0 { first_delay } else { gap }).await;
            if i == 0 {
                state
                    .lock()
                    .unwrap()
                    .first_frame_at
                    .entry(key)
                    .or_default()
                    .push(Instant::now());
            }
            Some((
                Ok(format!("data: {}\n\n", frames[i]).into_bytes()),
                (i + 1, frames),
            ))
        }
    })
}

fn reply(state: Arc<Mutex<Inner>>, key: String, r: Option<Reply>) -> Response {
    match r {
        None => Response::builder().status(401).body(Body::from(r#"{"error":{"code":401,"message":"API key not valid","status":"UNAUTHENTICATED"}}"#)).unwrap(),
        Some(Reply::Stream { frames, first_delay, gap }) => sse(state, key, frames, first_delay, gap, false),
        Some(Reply::Cut { frames }) => sse(state, key, frames, Duration::ZERO, Duration::from_millis(20), true),
        Some(Reply::Status { code, body, retry_after }) => {
            let mut b = Response::builder().status(StatusCode::from_u16(code).unwrap()).header("content-type", "application/json");
            if let Some(s) = retry_after {
                b = b.header("retry-after", s.to_string());
            }
            b.body(Body::from(body.to_string())).unwrap()
        }
    }
}

async fn gemini(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let r = next_reply(&state, &key, &format!("/v1beta/models/{rest}"), body);
    reply(state, key, r)
}

async fn openai(
    State(state): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let r = next_reply(&state, &key, "/v1/chat/completions", body);
    reply(state, key, r)
}
