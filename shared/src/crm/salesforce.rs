//! Salesforce's REST API: Leads found by email (SOQL) before one is created, updated by id
//! afterwards, and a completed Task on the Lead for each transcript.

use super::{classify, PushError};
use crate::egress::{self, Limits};
use crate::http::{Method, Request};
use crate::platform::Platform;
use serde_json::{json, Map, Value};

pub const API_VERSION: &str = "v60.0";

async fn call(
    p: &Platform,
    instance: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), PushError> {
    let url = format!(
        "{}/services/data/{API_VERSION}{path}",
        instance.trim_end_matches('/')
    );
    let mut req = Request::new(method, &url)
        .with_header("authorization", &format!("Bearer {token}"))
        .with_header("accept", "application/json");
    if let Some(b) = body {
        req = req.with_header("content-type", "application/json");
        req.body = serde_json::to_vec(b).unwrap_or_default();
    }
    let got = egress::fetch(p, req, Limits::API)
        .await
        .map_err(|e| PushError::Retry(format!("Salesforce: {e}")))?;
    let value = serde_json::from_slice(&got.body).unwrap_or(Value::Null);
    match got.status {
        200..=299 | 404 => Ok((got.status, value)),
        s => Err(classify(s, &got.text())),
    }
}

/// A string literal for SOQL: backslashes and quotes escaped, as Salesforce documents.
pub fn soql_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Updates the linked Lead, else the Lead with the same email, else creates one; returns its id.
pub async fn upsert_lead(
    p: &Platform,
    instance: &str,
    token: &str,
    linked: Option<&str>,
    fields: &Map<String, Value>,
) -> Result<String, PushError> {
    let body = Value::Object(fields.clone());
    let mut target = linked.map(str::to_string);
    if target.is_none() {
        if let Some(email) = fields.get("Email").and_then(Value::as_str) {
            let q = format!(
                "SELECT Id FROM Lead WHERE Email = {} LIMIT 1",
                soql_quote(email)
            );
            let path = format!(
                "/query?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let (_, found) = call(p, instance, token, Method::Get, &path, None).await?;
            target = found["records"]
                .get(0)
                .and_then(|r| r["Id"].as_str())
                .map(str::to_string);
        }
    }
    if let Some(id) = target {
        let (status, _) = call(
            p,
            instance,
            token,
            Method::Patch,
            &format!("/sobjects/Lead/{id}"),
            Some(&body),
        )
        .await?;
        if status != 404 {
            return Ok(id);
        }
    }
    let (status, v) = call(
        p,
        instance,
        token,
        Method::Post,
        "/sobjects/Lead",
        Some(&body),
    )
    .await?;
    if status == 404 {
        return Err(PushError::Refused(
            "Salesforce: Lead object not found".into(),
        ));
    }
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| PushError::Retry("Salesforce answered without an id".into()))
}

/// Logs the transcript as a completed Task on the Lead; returns the Task's id.
pub async fn add_task(
    p: &Platform,
    instance: &str,
    token: &str,
    lead_id: &str,
    subject: &str,
    text: &str,
    at: i64,
) -> Result<String, PushError> {
    let date: String = crate::time::rfc3339(at).chars().take(10).collect();
    let body = json!({
        "WhoId": lead_id, "Subject": subject, "Description": text, "Status": "Completed",
        "ActivityDate": date, "TaskSubtype": "Task"
    });
    let (status, v) = call(
        p,
        instance,
        token,
        Method::Post,
        "/sobjects/Task",
        Some(&body),
    )
    .await?;
    if status >= 300 {
        return Err(PushError::Refused(format!("Salesforce tasks: {status}")));
    }
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| PushError::Retry("Salesforce answered without an id".into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn soql_literals_cannot_break_out() {
        assert_eq!(super::soql_quote("a@b.example"), "'a@b.example'");
        assert_eq!(
            super::soql_quote("x' OR Name != '"),
            "'x\\' OR Name != \\''"
        );
        assert_eq!(super::soql_quote("back\\slash"), "'back\\\\slash'");
    }
}
