//! HubSpot's CRM API v3: contacts found by email (search) before one is created, updated by id
//! afterwards, and notes associated with a contact (association type 202, note → contact).

use super::{classify, PushError};
use crate::egress::{self, Limits};
use crate::http::{Method, Request};
use crate::platform::Platform;
use serde_json::{json, Map, Value};

pub fn api_base(p: &Platform) -> String {
    p.config
        .get("hubspot_api_url")
        .unwrap_or("https://api.hubapi.com")
        .trim_end_matches('/')
        .to_string()
}

async fn call(
    p: &Platform,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), PushError> {
    let mut req = Request::new(method, &format!("{}{path}", api_base(p)))
        .with_header("authorization", &format!("Bearer {token}"))
        .with_header("content-type", "application/json")
        .with_header("accept", "application/json");
    req.body = serde_json::to_vec(body).unwrap_or_default();
    let got = egress::fetch(p, req, Limits::API)
        .await
        .map_err(|e| PushError::Retry(format!("HubSpot: {e}")))?;
    let value = serde_json::from_slice(&got.body).unwrap_or(Value::Null);
    match got.status {
        200..=299 | 404 | 409 => Ok((got.status, value)),
        s => Err(classify(s, &got.text())),
    }
}

fn id_of(v: &Value) -> Option<String> {
    match &v["id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Updates the linked contact, else the contact with the same email, else creates one;
/// returns its id.
pub async fn upsert_contact(
    p: &Platform,
    token: &str,
    linked: Option<&str>,
    props: &Map<String, Value>,
) -> Result<String, PushError> {
    let body = json!({ "properties": props });
    let mut target = linked.map(str::to_string);
    if target.is_none() {
        if let Some(email) = props.get("email").and_then(Value::as_str) {
            let search = json!({
                "filterGroups": [{ "filters": [{ "propertyName": "email", "operator": "EQ", "value": email }] }],
                "properties": ["email"],
                "limit": 1
            });
            let (_, found) = call(
                p,
                token,
                Method::Post,
                "/crm/v3/objects/contacts/search",
                &search,
            )
            .await?;
            target = found["results"].get(0).and_then(id_of);
        }
    }
    if let Some(id) = target {
        let (status, v) = call(
            p,
            token,
            Method::Patch,
            &format!("/crm/v3/objects/contacts/{id}"),
            &body,
        )
        .await?;
        if status != 404 {
            return id_of(&v)
                .or(Some(id))
                .ok_or_else(|| PushError::Retry("HubSpot answered without an id".into()));
        }
    }
    let (status, v) = call(p, token, Method::Post, "/crm/v3/objects/contacts", &body).await?;
    if status == 409 {
        // "Contact already exists. Existing ID: 123": created meanwhile; update that one.
        let msg = v["message"].as_str().unwrap_or("");
        if let Some(id) = msg
            .rsplit("Existing ID: ")
            .next()
            .filter(|s| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty())
        {
            call(
                p,
                token,
                Method::Patch,
                &format!("/crm/v3/objects/contacts/{id}"),
                &body,
            )
            .await?;
            return Ok(id.to_string());
        }
        return Err(PushError::Refused(format!("HubSpot: {msg}")));
    }
    if status == 404 {
        return Err(PushError::Refused(
            "HubSpot: contacts endpoint not found".into(),
        ));
    }
    id_of(&v).ok_or_else(|| PushError::Retry("HubSpot answered without an id".into()))
}

/// Adds a note to the contact; returns the note's id.
pub async fn add_note(
    p: &Platform,
    token: &str,
    contact_id: &str,
    text: &str,
    at: i64,
) -> Result<String, PushError> {
    let body = json!({
        "properties": { "hs_timestamp": crate::time::rfc3339(at), "hs_note_body": text },
        "associations": [{
            "to": { "id": contact_id },
            "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202 }]
        }]
    });
    let (status, v) = call(p, token, Method::Post, "/crm/v3/objects/notes", &body).await?;
    if status >= 300 {
        return Err(PushError::Refused(format!("HubSpot notes: {status}")));
    }
    id_of(&v).ok_or_else(|| PushError::Retry("HubSpot answered without an id".into()))
}
