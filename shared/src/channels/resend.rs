//! Email through Resend: inbound `email.received` webhooks (metadata only; the body and headers
//! come from the Received Emails API), delivery events, threading by Message-ID, and sends
//! through `POST /emails` with an `Idempotency-Key` so a retried send is never delivered twice.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::config::EmailConfig;
use super::outbound::SendError;
use crate::conversations::Channel;
use crate::error::ApiResult;
use crate::http::{Method, Request};
use crate::params;
use crate::platform::Platform;
use crate::ports::SqlDatabase;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::rc::Rc;

pub const DEFAULT_BASE: &str = "https://api.resend.com";

pub(crate) fn base(p: &Platform) -> String {
    p.config
        .get("resend_base_url")
        .unwrap_or(DEFAULT_BASE)
        .trim_end_matches('/')
        .to_string()
}

/// The headers that place a reply in the customer's thread.
#[derive(Debug, Default, PartialEq)]
pub struct Thread {
    pub subject: Option<String>,
    /// The latest inbound Message-ID.
    pub in_reply_to: Option<String>,
    /// Every known Message-ID of the thread, oldest first.
    pub references: Vec<String>,
}

pub async fn remember(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    message_id: &str,
    conversation_id: &str,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "INSERT INTO email_threads (tenant_id, message_id, conversation_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        &params![tenant_id, message_id, conversation_id, now],
    )
    .await?;
    Ok(())
}

/// The conversation an email belongs to, from its In-Reply-To and References headers.
pub async fn find_thread(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    ids: &[String],
) -> ApiResult<Option<String>> {
    for id in ids.iter().rev().take(20) {
        let rows = db
            .query("SELECT conversation_id FROM email_threads WHERE tenant_id = ?1 AND message_id = ?2", &params![tenant_id, id.as_str()])
            .await?;
        if let Some(c) = rows.first().and_then(|r| r.text("conversation_id")) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

pub async fn thread_for(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Thread> {
    let rows = db
        .query(
            "SELECT message_id FROM email_threads WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY created_at LIMIT 50",
            &params![tenant_id, conversation_id],
        )
        .await?;
    let references: Vec<String> = rows.iter().filter_map(|r| r.text("message_id")).collect();
    let subject = db
        .query(
            "SELECT subject FROM conversations WHERE id = ?1 AND tenant_id = ?2",
            &params![conversation_id, tenant_id],
        )
        .await?
        .first()
        .and_then(|r| r.text("subject"));
    Ok(Thread {
        subject,
        in_reply_to: references.last().cloned(),
        references,
    })
}

/// `"Ana Lima" <ana@example.com>` → (`ana@example.com`, `Ana Lima`).
pub fn parse_address(s: &str) -> Option<(String, Option<String>)> {
    let s = s.trim();
    let (addr, name) = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => {
            let name = s[..a].trim().trim_matches('"').trim();
            (&s[a + 1..b], (!name.is_empty()).then(|| name.to_string()))
        }
        _ => (s, None),
    };
    let addr = addr.trim().to_ascii_lowercase();
    let valid = addr.len() <= 254
        && addr
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !addr.contains(char::is_whitespace);
    valid.then_some((addr, name))
}

/// Message-IDs in a header value (`<a@x> <b@y>`), with their angle brackets.
pub fn message_ids(header: &str) -> Vec<String> {
    header
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(str::trim)
        .filter(|t| t.len() > 2 && t.len() <= 250 && t.starts_with('<') && t.ends_with('>'))
        .map(String::from)
        .collect()
}

/// The new part of a reply: drops quoted lines and everything from the "On … wrote:" line on.
pub fn reply_text(body: &str) -> String {
    let mut out = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with('>') {
            continue;
        }
        if (t.starts_with("On ") && t.ends_with("wrote:"))
            || t == "-----Original Message-----"
            || t.starts_with("________________")
        {
            break;
        }
        out.push(line);
    }
    let text = out.join("\n").trim().to_string();
    if text.is_empty() {
        body.trim().to_string()
    } else {
        text
    }
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    match headers {
        Value::Object(m) => m
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str()),
        Value::Array(a) => a
            .iter()
            .find(|h| {
                h["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|h| h["value"].as_str()),
        _ => None,
    }
}

/// A received email's content.
pub struct Received {
    pub text: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
}

/// Fetches a received email's body and headers (`GET /emails/receiving/{id}`).
pub async fn fetch_received(p: &Platform, api_key: &str, email_id: &str) -> ApiResult<Received> {
    let id: String = email_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let req = Request::new(Method::Get, &format!("{}/emails/receiving/{id}", base(p)))
        .with_header("authorization", &format!("Bearer {api_key}"));
    p.http()?;
    let resp = crate::egress::fetch(p, req, crate::egress::Limits::API)
        .await
        .map_err(|e| {
            crate::error::ApiError::new(
                crate::error::ErrorCode::UpstreamError,
                format!("resend: {e}"),
            )
        })?;
    let status = resp.status;
    let body = resp.text();
    if status != 200 {
        return Err(crate::error::ApiError::new(
            crate::error::ErrorCode::UpstreamError,
            format!("resend answered {status} fetching a received email"),
        ));
    }
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    let field = |name: &str| v.get(name).and_then(Value::as_str);
    let raw = match field("text").filter(|t| !t.trim().is_empty()) {
        Some(t) => t.to_string(),
        None => crate::knowledge::text::html_to_text(field("html").unwrap_or("")),
    };
    let headers = v.get("headers").unwrap_or(&Value::Null);
    Ok(Received {
        text: reply_text(&raw),
        in_reply_to: header(headers, "in-reply-to")
            .map(message_ids)
            .unwrap_or_default(),
        references: header(headers, "references")
            .map(message_ids)
            .unwrap_or_default(),
    })
}

/// Sends one email; returns Resend's email id. The outbound row id is the idempotency key, so a
/// retry after a lost response is not delivered twice.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    p: &Platform,
    cfg: &EmailConfig,
    api_key: &str,
    outbound_id: &str,
    to: &str,
    text: &str,
    thread: &Thread,
    attachments: &[Value],
) -> Result<String, SendError> {
    let from = match &cfg.from_name {
        Some(n) => format!("{} <{}>", n.replace(['"', '<', '>'], ""), cfg.from_address),
        None => cfg.from_address.clone(),
    };
    let subject = match thread.subject.as_deref().filter(|s| !s.is_empty()) {
        Some(s) if s.to_ascii_lowercase().starts_with("re:") => s.to_string(),
        Some(s) => format!("Re: {s}"),
        None => "Re: your message".to_string(),
    };
    let mut body = json!({ "from": from, "to": [to], "subject": subject, "text": text });
    if let (false, Value::Object(b)) = (attachments.is_empty(), &mut body) {
        b.insert("attachments".into(), Value::Array(attachments.to_vec()));
    }
    if let (Some(irt), Value::Object(b)) = (&thread.in_reply_to, &mut body) {
        b.insert(
            "headers".into(),
            json!({ "In-Reply-To": irt, "References": thread.references.join(" ") }),
        );
    }
    let req = Request::new(Method::Post, &format!("{}/emails", base(p)))
        .with_header("authorization", &format!("Bearer {api_key}"))
        .with_header("content-type", "application/json")
        .with_header("idempotency-key", outbound_id)
        .with_body(body.to_string().into_bytes());
    let super::outbound::ProviderReply {
        status,
        retry_after_ms: retry_after,
        text,
    } = super::outbound::call_provider(p, req).await?;
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    let field = |name: &str| v.get(name).and_then(Value::as_str);
    let detail = || {
        format!(
            "resend {status}: {}",
            field("message")
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        )
    };
    match status {
        200 | 201 => field("id")
            .map(String::from)
            .ok_or_else(|| SendError::Fatal("resend answered without an id".into())),
        // A concurrent request with the same key is still in flight: try again shortly.
        409 if field("name") == Some("concurrent_idempotent_requests") => {
            Err(SendError::Retry(detail(), Some(2_000)))
        }
        429 | 500..=599 => Err(SendError::Retry(detail(), retry_after)),
        _ => Err(SendError::Fatal(detail())),
    }
}

/// Maps a Resend event type to a delivery status.
pub fn event_status(kind: &str) -> Option<&'static str> {
    match kind {
        "email.sent" => Some("sent"),
        "email.delivered" => Some("delivered"),
        "email.opened" | "email.clicked" => Some("read"),
        "email.bounced" | "email.complained" | "email.failed" => Some("failed"),
        _ => None,
    }
}

/// A Resend webhook event (the parts read here).
#[derive(Debug, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: EventData,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventData {
    pub email_id: Option<String>,
    pub from: Option<String>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    pub bounce: Option<Reason>,
    pub failed: Option<Reason>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AttachmentInfo {
    pub id: Option<String>,
    pub filename: Option<String>,
    #[serde(rename(serialize = "type"))]
    pub content_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Reason {
    pub message: Option<String>,
    pub reason: Option<String>,
}

/// Acts on a verified event for `tenant_id`: an inbound email, or a delivery report.
pub async fn process(p: &Rc<Platform>, tenant_id: &str, event: &Event) -> ApiResult<()> {
    if event.kind == "email.received" {
        return receive_email(p, tenant_id, &event.data).await;
    }
    let d = &event.data;
    if let (Some(status), Some(email_id)) = (event_status(&event.kind), d.email_id.as_deref()) {
        let error = d
            .bounce
            .as_ref()
            .and_then(|b| b.message.as_deref())
            .or_else(|| d.failed.as_ref().and_then(|f| f.reason.as_deref()));
        super::outbound::provider_status(p.db()?, tenant_id, email_id, status, error, p.now_ms())
            .await?;
    }
    Ok(())
}

/// An inbound email: its body and thread headers fetched from Resend (the webhook is metadata
/// only; a fetch failure fails the event, so Resend's retry refetches), then into the sender's
/// conversation.
async fn receive_email(p: &Rc<Platform>, tenant_id: &str, data: &EventData) -> ApiResult<()> {
    let db = p.db()?;
    let (address, name) = data
        .from
        .as_deref()
        .and_then(parse_address)
        .ok_or_else(|| crate::error::ApiError::validation("data.from", "an email address"))?;
    let email_id = data
        .email_id
        .as_deref()
        .ok_or_else(|| crate::error::ApiError::validation("data.email_id", "missing"))?;
    let key = crate::tenancy::secrets::get(p, tenant_id, super::config::RESEND_API_KEY)
        .await?
        .ok_or_else(|| {
            crate::error::ApiError::forbidden(
                "Email (resend_api_key) is not configured for this tenant",
            )
        })?;
    let received = fetch_received(p, &key, email_id).await?;
    let message_id = data
        .message_id
        .clone()
        .unwrap_or_else(|| format!("<{email_id}@resend>"));
    let mut refs = received.references.clone();
    refs.extend(received.in_reply_to.iter().cloned());
    let conversation_id = find_thread(db, tenant_id, &refs).await?;
    let files = data
        .attachments
        .iter()
        .take(10)
        .filter_map(|a| {
            Some(super::media::Remote::Resend {
                api_key: key.clone(),
                email_id: email_id.to_string(),
                attachment_id: a.id.clone()?,
                filename: a.filename.clone().unwrap_or_default(),
            })
        })
        .collect();
    super::inbound::receive(
        p,
        super::inbound::Inbound {
            tenant_id,
            channel: Channel::Email,
            kind: "email",
            address: &address,
            name: name.as_deref(),
            email: Some(&address),
            phone: None,
            subject: data.subject.as_deref(),
            message_id: &message_id,
            text: &received.text,
            meta: None,
            conversation_id,
            thread_message_id: Some(&message_id),
            answer: true,
            files,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn addresses_and_message_ids_parse() {
        assert_eq!(
            parse_address("\"Ana Lima\" <Ana@Example.com>"),
            Some(("ana@example.com".into(), Some("Ana Lima".into())))
        );
        assert_eq!(
            parse_address("bob@example.org"),
            Some(("bob@example.org".into(), None))
        );
        assert_eq!(parse_address("not an address"), None);
        assert_eq!(
            message_ids("<a@x.io> <b@y.io>\r\n <c@z.io>"),
            vec!["<a@x.io>", "<b@y.io>", "<c@z.io>"]
        );
    }

    #[test]
    fn replies_drop_the_quoted_history() {
        let body = "Thanks, that worked!\n\nOn Tue, 3 Nov 2026, Support <support@shop.example> wrote:\n> Try restarting it.";
        assert_eq!(reply_text(body), "Thanks, that worked!");
        assert_eq!(reply_text("> only quoted"), "> only quoted");
        assert_eq!(
            crate::knowledge::text::html_to_text("<p>Hello&nbsp;<b>there</b></p>"),
            "Hello there"
        );
    }
}
