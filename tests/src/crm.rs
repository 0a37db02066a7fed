//! A local fake HubSpot speaking the wire format the CRM connector uses: the OAuth consent
//! (`GET /oauth/authorize`, answered as an approving user would: a redirect back with a code),
//! the token endpoint (`POST /oauth/v1/token`, form body, authorization code and refresh token
//! grants), and CRM v3 contacts (search by email, create, update) and notes with
//! associations. Bearer tokens are checked; everything is recorded for assertions.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub const CLIENT_ID: &str = "e2e-hubspot-client";
pub const CLIENT_SECRET: &str = "e2e-hubspot-secret";

#[derive(Default)]
struct Inner {
    codes: Vec<String>,
    tokens: Vec<String>,
    /// id → properties
    contacts: Vec<(String, Value)>,
    notes: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeHubspot {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

impl FakeHubspot {
    pub fn shared() -> &'static FakeHubspot {
        static F: OnceLock<FakeHubspot> = OnceLock::new();
        F.get_or_init(|| {
            let inner: Shared = Arc::default();
            let app = Router::new()
                .route("/oauth/authorize", get(authorize))
                .route("/oauth/v1/token", post(token))
                .route("/crm/v3/objects/contacts/search", post(search))
                .route("/crm/v3/objects/contacts", post(create))
                .route("/crm/v3/objects/contacts/{id}", patch(update))
                .route("/crm/v3/objects/notes", post(note))
                .with_state(inner.clone());
            FakeHubspot {
                base: crate::fake_server::spawn(app),
                inner,
            }
        })
    }

    /// Contacts with this email.
    pub fn contacts(&self, email: &str) -> Vec<(String, Value)> {
        let g = self.inner.lock().unwrap();
        g.contacts
            .iter()
            .filter(|(_, p)| p["email"] == email)
            .cloned()
            .collect()
    }

    /// Notes associated with this contact id.
    pub fn notes(&self, contact_id: &str) -> Vec<Value> {
        let g = self.inner.lock().unwrap();
        g.notes
            .iter()
            .filter(|n| n["associations"][0]["to"]["id"] == contact_id)
            .cloned()
            .collect()
    }
}

async fn authorize(State(s): State<Shared>, uri: Uri) -> Response {
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let (Some(redirect), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri or state").into_response();
    };
    let mut g = s.lock().unwrap();
    let code = format!("code-{}", g.codes.len() + 1);
    g.codes.push(code.clone());
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

async fn token(State(s): State<Shared>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"status": "BAD_CLIENT_ID"})),
        )
            .into_response();
    }
    let mut g = s.lock().unwrap();
    let ok = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => form.get("code").is_some_and(|c| g.codes.contains(c)),
        Some("refresh_token") => {
            form.get("refresh_token").map(String::as_str) == Some("e2e-refresh")
        }
        _ => false,
    };
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "BAD_AUTH_CODE"})),
        )
            .into_response();
    }
    let t = format!("e2e-access-{}", g.tokens.len() + 1);
    g.tokens.push(t.clone());
    Json(json!({"token_type": "bearer", "access_token": t, "refresh_token": "e2e-refresh", "expires_in": 1800})).into_response()
}

fn authorised(s: &Shared, h: &HeaderMap) -> bool {
    let g = s.lock().unwrap();
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| g.tokens.iter().any(|x| x == t))
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"status": "error", "category": "INVALID_AUTHENTICATION"})),
    )
        .into_response()
}

async fn search(State(s): State<Shared>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if !authorised(&s, &h) {
        return unauthorised();
    }
    let email = b["filterGroups"][0]["filters"][0]["value"].clone();
    let g = s.lock().unwrap();
    let found: Vec<Value> = g
        .contacts
        .iter()
        .filter(|(_, p)| p["email"] == email)
        .map(|(id, _)| json!({"id": id}))
        .collect();
    Json(json!({"total": found.len(), "results": found})).into_response()
}

async fn create(State(s): State<Shared>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if !authorised(&s, &h) {
        return unauthorised();
    }
    let mut g = s.lock().unwrap();
    let id = format!("{}", 1001 + g.contacts.len());
    g.contacts.push((id.clone(), b["properties"].clone()));
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "properties": b["properties"]})),
    )
        .into_response()
}

async fn update(
    State(s): State<Shared>,
    h: HeaderMap,
    Path(id): Path<String>,
    Json(b): Json<Value>,
) -> Response {
    if !authorised(&s, &h) {
        return unauthorised();
    }
    let mut g = s.lock().unwrap();
    match g.contacts.iter_mut().find(|(i, _)| *i == id) {
        Some((_, props)) => {
            if let Some(m) = b["properties"].as_object() {
                for (k, v) in m {
                    props[k] = v.clone();
                }
            }
            Json(json!({"id": id})).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"status": "error", "message": "resource not found"})),
        )
            .into_response(),
    }
}

async fn note(State(s): State<Shared>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    if !authorised(&s, &h) {
        return unauthorised();
    }
    let mut g = s.lock().unwrap();
    g.notes.push(b);
    (
        StatusCode::CREATED,
        Json(json!({"id": format!("{}", 9000 + g.notes.len())})),
    )
        .into_response()
}
