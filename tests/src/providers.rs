//! Local fake messaging providers speaking the documented wire formats: Twilio's Messages API
//! (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form body, HTTP basic auth, `201`
//! with a message resource) and Resend (`POST /emails` with bearer auth and `Idempotency-Key`,
//! answering a repeated key with the original result as Resend documents; `GET
//! /emails/receiving/{id}` for inbound content); ElevenLabs text-to-speech (`POST
//! /v1/text-to-speech/{voice_id}` with `xi-api-key`, answering `audio/mpeg` bytes). Failures are scripted per account (Twilio
//! account SID, Resend API key) so tests sharing one fake never interfere; every request is
//! recorded raw for assertions.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// The account the call was for: Twilio account SID or Resend API key.
    pub account: String,
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The status the fake answered with.
    pub status: u16,
}

impl Call {
    /// Form fields of a Twilio request.
    pub fn form(&self, name: &str) -> Option<String> {
        url_decode_pairs(&self.body)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn url_decode_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Inner {
    /// Accepted-sends failures to answer first, per account (500 each).
    fail_first: HashMap<String, usize>,
    failed: HashMap<String, usize>,
    calls: Vec<Call>,
    /// Resend: idempotency key → email id.
    idempotent: HashMap<String, String>,
    /// Resend inbound emails by id.
    received: HashMap<String, Value>,
    /// Files behind a path: content type, bytes, and the Authorization header they need.
    files: HashMap<String, (String, Vec<u8>, Option<String>)>,
    /// Resend received-email attachment records by `{email id}/{attachment id}`.
    attachments: HashMap<String, Value>,
    next: u64,
}

#[derive(Clone)]
pub struct Providers {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Providers {
    pub fn shared() -> &'static Providers {
        static P: OnceLock<Providers> = OnceLock::new();
        P.get_or_init(|| {
            let inner = Arc::new(Mutex::new(Inner::default()));
            let app = Router::new()
                .route(
                    "/2010-04-01/Accounts/{sid}/Messages.json",
                    post(twilio_send),
                )
                .route("/emails", post(resend_send))
                .route("/emails/receiving/{id}", get(resend_received))
                .route(
                    "/emails/receiving/{id}/attachments/{aid}",
                    get(resend_attachment),
                )
                .route(
                    "/2010-04-01/Accounts/{sid}/Messages/{mid}/Media/{media}",
                    get(file),
                )
                .route("/cdn/{email}/{aid}", get(file))
                .route("/v1/text-to-speech/{voice}", post(elevenlabs_tts))
                // Test-only: what was sent for an account (browser tests read emails here).
                .route("/_test/calls/{account}", get(recorded))
                .with_state(inner.clone());
            Providers {
                base: crate::fake_server::spawn(app),
                inner,
            }
        })
    }

    /// The next `n` sends for `account` fail with 500.
    pub fn fail_first(&self, account: &str, n: usize) {
        self.inner
            .lock()
            .unwrap()
            .fail_first
            .insert(account.into(), n);
    }

    pub fn calls(&self, account: &str) -> Vec<Call> {
        self.inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.account == account)
            .cloned()
            .collect()
    }

    /// Sends the provider accepted (2xx) for `account`.
    pub fn accepted(&self, account: &str) -> Vec<Call> {
        self.calls(account)
            .into_iter()
            .filter(|c| c.status < 300 && c.method == "POST")
            .collect()
    }

    /// Serves an MMS's media as Twilio does: only with the account's HTTP Basic credentials.
    /// Returns its URL (what the webhook's `MediaUrl0` names).
    pub fn twilio_media(&self, sid: &str, token: &str, content_type: &str, bytes: &[u8]) -> String {
        use base64::Engine;
        let mut s = self.inner.lock().unwrap();
        s.next += 1;
        let path = format!(
            "/2010-04-01/Accounts/{sid}/Messages/MM{:032x}/Media/ME{:032x}",
            s.next, s.next
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"));
        s.files.insert(
            path.clone(),
            (
                content_type.into(),
                bytes.to_vec(),
                Some(format!("Basic {basic}")),
            ),
        );
        format!("{}{path}", self.base)
    }

    /// Makes a received email's attachment available as Resend does: its record (with the API
    /// key) names a short-lived download URL, which serves the bytes without a credential.
    pub fn email_attachment(
        &self,
        email_id: &str,
        attachment_id: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) {
        let mut s = self.inner.lock().unwrap();
        let cdn = format!("/cdn/{email_id}/{attachment_id}");
        s.files
            .insert(cdn.clone(), (content_type.into(), bytes.to_vec(), None));
        s.attachments.insert(
            format!("{email_id}/{attachment_id}"),
            json!({
                "object": "attachment", "id": attachment_id, "filename": filename, "size": bytes.len(),
                "content_type": content_type, "content_disposition": "attachment", "content_id": null,
                "download_url": format!("{}{cdn}?signature=sig-e2e", self.base),
                "expires_at": "2099-01-01T00:00:00.000Z"
            }),
        );
    }

    /// Makes an inbound email available to `GET /emails/receiving/{id}`.
    pub fn receive_email(&self, id: &str, email: Value) {
        self.inner.lock().unwrap().received.insert(id.into(), email);
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(String::from)
}

fn record(
    state: &Arc<Mutex<Inner>>,
    method: &str,
    path: String,
    account: &str,
    h: &HeaderMap,
    body: &Bytes,
    status: u16,
) {
    state.lock().unwrap().calls.push(Call {
        method: method.into(),
        path,
        account: account.into(),
        authorization: header(h, "authorization"),
        idempotency_key: header(h, "idempotency-key"),
        content_type: header(h, "content-type"),
        body: String::from_utf8_lossy(body).into_owned(),
        status,
    });
}

/// Fails the call if the account still has scripted failures left.
fn should_fail(state: &Arc<Mutex<Inner>>, account: &str) -> bool {
    let mut s = state.lock().unwrap();
    let budget = s.fail_first.get(account).copied().unwrap_or(0);
    let used = s.failed.entry(account.into()).or_insert(0);
    if *used < budget {
        *used += 1;
        true
    } else {
        false
    }
}

async fn twilio_send(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(sid): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    if header(&h, "authorization").is_none() {
        record(&state, "POST", path, &sid, &h, &body, 401);
        return (StatusCode::UNAUTHORIZED, Json(json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}))).into_response();
    }
    if should_fail(&state, &sid) {
        record(&state, "POST", path, &sid, &h, &body, 500);
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}))).into_response();
    }
    let n = {
        let mut s = state.lock().unwrap();
        s.next += 1;
        s.next
    };
    record(&state, "POST", path, &sid, &h, &body, 201);
    let text = String::from_utf8_lossy(&body).into_owned();
    let field = |k: &str| {
        url_decode_pairs(&text)
            .into_iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v)
    };
    (
        StatusCode::CREATED,
        Json(json!({
            "account_sid": sid, "api_version": "2010-04-01", "body": field("Body"), "direction": "outbound-api",
            "from": field("From"), "to": field("To"), "num_segments": "1", "status": "queued",
            "sid": format!("SM{n:032x}"), "uri": format!("/2010-04-01/Accounts/{sid}/Messages/SM{n:032x}.json")
        })),
    )
        .into_response()
}

async fn resend_send(
    State(state): State<Arc<Mutex<Inner>>>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let key = header(&h, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(String::from))
        .unwrap_or_default();
    if key.is_empty() {
        record(&state, "POST", "/emails".into(), "", &h, &body, 401);
        return (StatusCode::UNAUTHORIZED, Json(json!({"statusCode": 401, "name": "missing_api_key", "message": "Missing API key in the authorization header."}))).into_response();
    }
    if should_fail(&state, &key) {
        record(&state, "POST", "/emails".into(), &key, &h, &body, 500);
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"statusCode": 500, "name": "internal_server_error", "message": "An unexpected error occurred."}))).into_response();
    }
    // A repeated Idempotency-Key returns the original email without sending again.
    if let Some(k) = header(&h, "idempotency-key") {
        let existing = state
            .lock()
            .unwrap()
            .idempotent
            .get(&format!("{key}|{k}"))
            .cloned();
        if let Some(id) = existing {
            record(&state, "REPLAY", "/emails".into(), &key, &h, &body, 200);
            return (StatusCode::OK, Json(json!({"id": id}))).into_response();
        }
    }
    let id = {
        let mut s = state.lock().unwrap();
        s.next += 1;
        let id = format!("4ef9a417-02e9-4d39-ad75-{:012x}", s.next);
        if let Some(k) = header(&h, "idempotency-key") {
            s.idempotent.insert(format!("{key}|{k}"), id.clone());
        }
        id
    };
    record(&state, "POST", "/emails".into(), &key, &h, &body, 200);
    (StatusCode::OK, Json(json!({"id": id}))).into_response()
}

async fn resend_received(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> Response {
    let key = header(&h, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(String::from))
        .unwrap_or_default();
    let email = state.lock().unwrap().received.get(&id).cloned();
    record(
        &state,
        "GET",
        format!("/emails/receiving/{id}"),
        &key,
        &h,
        &Bytes::new(),
        if email.is_some() { 200 } else { 404 },
    );
    match email {
        Some(e) => (StatusCode::OK, Json(e)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"statusCode": 404, "name": "not_found", "message": "Email not found"})),
        )
            .into_response(),
    }
}

async fn resend_attachment(
    State(state): State<Arc<Mutex<Inner>>>,
    Path((id, aid)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    let key = header(&h, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(String::from))
        .unwrap_or_default();
    let found = state
        .lock()
        .unwrap()
        .attachments
        .get(&format!("{id}/{aid}"))
        .cloned();
    let path = format!("/emails/receiving/{id}/attachments/{aid}");
    match found {
        Some(a) if !key.is_empty() => {
            record(&state, "GET", path, &key, &h, &Bytes::new(), 200);
            (StatusCode::OK, Json(a)).into_response()
        }
        _ => {
            record(&state, "GET", path, &key, &h, &Bytes::new(), 404);
            (
                StatusCode::NOT_FOUND,
                Json(json!({"statusCode": 404, "name": "not_found", "message": "Attachment not found"})),
            )
                .into_response()
        }
    }
}

/// A stored file: Twilio media (with Basic credentials) or a Resend download URL.
async fn file(
    State(state): State<Arc<Mutex<Inner>>>,
    uri: axum::http::Uri,
    h: HeaderMap,
) -> Response {
    let found = state.lock().unwrap().files.get(uri.path()).cloned();
    let auth = header(&h, "authorization");
    record(
        &state,
        "GET",
        uri.path().to_string(),
        "media",
        &h,
        &Bytes::new(),
        200,
    );
    match found {
        Some((_, _, Some(need))) if auth.as_deref() != Some(need.as_str()) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        )
            .into_response(),
        Some((ct, bytes, _)) => ([("content-type", ct)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn elevenlabs_tts(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(voice): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let key = header(&h, "xi-api-key").unwrap_or_default();
    let path = format!("/v1/text-to-speech/{voice}");
    if key.is_empty() {
        record(&state, "POST", path, "", &h, &body, 401);
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}})),
        )
            .into_response();
    }
    record(&state, "POST", path, &key, &h, &body, 200);
    let text = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["text"].as_str().map(String::from))
        .unwrap_or_default();
    // An MP3 frame header followed by the text, so tests can tell the audio of two texts apart.
    let mut audio = vec![0xFF, 0xFB, 0x90, 0x64];
    audio.extend_from_slice(text.as_bytes());
    ([(axum::http::header::CONTENT_TYPE, "audio/mpeg")], audio).into_response()
}

async fn recorded(State(state): State<Arc<Mutex<Inner>>>, Path(account): Path<String>) -> Response {
    let calls: Vec<Value> = state
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.account == account && c.status < 300)
        .map(|c| json!({"method": c.method, "path": c.path, "body": c.json()}))
        .collect();
    Json(json!({ "calls": calls })).into_response()
}
