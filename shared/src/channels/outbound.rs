//! The outbound outbox: every AI or agent reply in an SMS, WhatsApp or email conversation
//! becomes one `outbound_messages` row, written in the same batch as the message itself (so a
//! reply is never lost), keyed by conversation and sequence number (so it is never sent twice by
//! us). Rows are delivered through the queue on Cloudflare and inline elsewhere; a failed send is
//! retried with exponential backoff until [`MAX_ATTEMPTS`], then kept as a dead letter.
//!
//! A send is claimed with a lease before the provider is called. If the worker dies between the
//! provider accepting a message and the row recording it, the lease expires and the message is
//! sent again: Resend deduplicates that with the `Idempotency-Key`; Twilio has no equivalent, so
//! that (rare) window can double-send an SMS.

use super::config::{self, ChannelsConfig};
use super::{resend, twilio};
use crate::conversations::{AuthorKind, Channel};
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::ports::{Row, SqlDatabase, Statement};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed send may take before another worker may try again.
const LEASE_MS: i64 = 60_000;
const MAX_BACKOFF_MS: i64 = 15 * 60_000;

pub enum SendError {
    /// Worth retrying (network, 429, 5xx), optionally after the provider's `Retry-After` (ms).
    Retry(String, Option<i64>),
    /// The provider refused the message; retrying cannot help.
    Fatal(String),
}

/// A provider's answer to a send.
pub struct ProviderReply {
    pub status: u16,
    /// The provider's `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<i64>,
    pub text: String,
}

/// Sends one request to a provider: no outbound HTTP is fatal, a network failure retryable.
pub async fn call_provider(
    p: &Platform,
    req: crate::http::Request,
) -> Result<ProviderReply, SendError> {
    if p.http.is_none() {
        return Err(SendError::Fatal("no outbound HTTP".into()));
    }
    let resp = crate::egress::fetch(p, req, crate::egress::Limits::API)
        .await
        .map_err(|e| SendError::Retry(e.to_string(), None))?;
    let retry_after_ms = resp
        .header("retry-after")
        .and_then(|v| v.parse::<i64>().ok())
        .map(|s| s * 1000);
    Ok(ProviderReply {
        status: resp.status,
        retry_after_ms,
        text: resp.text(),
    })
}

pub fn outbound_id(conversation_id: &str, seq: i64) -> String {
    format!("out_{conversation_id}_{seq}")
}

/// A message that may need a provider to carry it.
pub struct Reply<'a> {
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub channel: Channel,
    pub customer_id: &'a str,
    pub author: AuthorKind,
    pub seq: i64,
    pub text: &'a str,
}

/// The statement recording a reply for delivery, or `None` when the message needs no send
/// (customer messages, system notices, web conversations). The recipient is the
/// conversation's customer's address on that channel.
pub fn record(r: &Reply<'_>, now: i64) -> Option<(String, Statement)> {
    if !r.channel.delivers_replies() || !matches!(r.author, AuthorKind::Ai | AuthorKind::Agent) {
        return None;
    }
    let id = outbound_id(r.conversation_id, r.seq);
    let stmt = Statement::new(
        "INSERT INTO outbound_messages (id, tenant_id, conversation_id, seq, channel, to_address, text, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5, c.external_id, ?6, 'queued', 0, ?7, ?7, ?7 FROM customers c WHERE c.id = ?8 AND c.tenant_id = ?2
         ON CONFLICT (id) DO NOTHING",
        params![id.as_str(), r.tenant_id, r.conversation_id, r.seq, r.channel.as_str(), r.text, now, r.customer_id],
    );
    Some((id, stmt))
}

/// One delivery, as the API shows it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Delivery {
    pub id: String,
    pub seq: i64,
    pub channel: String,
    pub to: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn delivery(r: &Row) -> Delivery {
    Delivery {
        id: r.text("id").unwrap_or_default(),
        seq: r.int("seq").unwrap_or(0),
        channel: r.text("channel").unwrap_or_default(),
        to: r.text("to_address").unwrap_or_default(),
        status: r.text("status").unwrap_or_default(),
        attempts: r.int("attempts").unwrap_or(0),
        next_attempt_at: r.int("next_attempt_at").unwrap_or(0),
        provider_id: r.text("provider_id"),
        last_error: r.text("last_error"),
        created_at: r.int("created_at").unwrap_or(0),
        updated_at: r.int("updated_at").unwrap_or(0),
    }
}

const COLUMNS: &str = "id, tenant_id, conversation_id, seq, channel, to_address, text, status, attempts, next_attempt_at, provider_id, last_error, created_at, updated_at";

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Vec<Delivery>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM outbound_messages WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY seq LIMIT 500"),
            &params![tenant_id, conversation_id],
        )
        .await?;
    Ok(rows.iter().map(delivery).collect())
}

/// Hands new outbound rows to the queue (Cloudflare). Without a queue nothing happens here: the
/// request that caused the reply delivers it inline ([`deliver_pending`]).
pub async fn enqueue(p: &Platform, ids: &[String]) {
    crate::jobs::enqueue(p, "id", ids, 0).await;
}

/// On runtimes without a queue: delivers a conversation's due sends now.
pub async fn deliver_pending(p: &Platform, tenant_id: &str, conversation_id: &str) {
    if p.queue.is_some() {
        return;
    }
    let Ok(db) = p.db() else { return };
    let ids = db
        .query(
            "SELECT id FROM outbound_messages WHERE tenant_id = ?1 AND conversation_id = ?2 AND status IN ('queued', 'sending') AND next_attempt_at <= ?3 ORDER BY seq LIMIT 20",
            &params![tenant_id, conversation_id, p.now_ms()],
        )
        .await
        .unwrap_or_default();
    for r in ids {
        if let Some(id) = r.text("id") {
            let _ = deliver(p, &id).await;
        }
    }
}

/// Re-dispatches every due send (the cron trigger on Cloudflare; the sweep route elsewhere).
/// Returns how many were dispatched.
pub async fn sweep(p: &Platform, limit: i64) -> ApiResult<usize> {
    let ids = crate::jobs::due(p, "outbound_messages", limit).await?;
    if p.queue.is_some() {
        enqueue(p, &ids).await;
    } else {
        for id in &ids {
            deliver(p, id).await?;
        }
    }
    Ok(ids.len())
}

/// A queue message arrived (Cloudflare consumer): deliver, and schedule the retry if needed.
pub async fn consume(p: &Platform, body: &Value) {
    let Some(id) = body["id"].as_str() else {
        p.log.log(
            &json!({"level": "warn", "msg": "queue message without an outbound id"}).to_string(),
        );
        return;
    };
    match deliver(p, id).await {
        Ok(Outcome::Retry { after_ms }) | Ok(Outcome::Later { after_ms }) => {
            crate::jobs::enqueue(p, "id", &[id.to_string()], after_ms).await;
        }
        Ok(_) => {}
        Err(e) => p.log.log(&json!({"level": "error", "msg": "delivery failed", "outbound": id, "error": e.message}).to_string()),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Failed; tried again after this long.
    Retry {
        after_ms: i64,
    },
    /// Not due yet (or claimed by another worker).
    Later {
        after_ms: i64,
    },
    /// Already sent, failed for good, or unknown.
    Done,
    Dead,
    Failed,
    Suppressed,
}

fn backoff_ms(attempts: i64) -> i64 {
    (1_000i64 << (attempts - 1).clamp(0, 20)).min(MAX_BACKOFF_MS)
}

/// Sends one outbound row, at most once at a time (a leased claim).
pub async fn deliver(p: &Platform, id: &str) -> ApiResult<Outcome> {
    let db = p.db()?;
    let now = p.now_ms();
    let claimed = db
        .execute(
            "UPDATE outbound_messages SET status = 'sending', attempts = attempts + 1, next_attempt_at = ?2 + ?3, updated_at = ?2
             WHERE id = ?1 AND status IN ('queued', 'sending') AND next_attempt_at <= ?2",
            &params![id, now, LEASE_MS],
        )
        .await?;
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM outbound_messages WHERE id = ?1"),
            &params![id],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Outcome::Done);
    };
    if claimed == 0 {
        let status = row.text("status").unwrap_or_default();
        return Ok(if matches!(status.as_str(), "queued" | "sending") {
            Outcome::Later {
                after_ms: row.int("next_attempt_at").unwrap_or(now) - now,
            }
        } else {
            Outcome::Done
        });
    }
    let d = delivery(row);
    let tenant_id = row.text("tenant_id").unwrap_or_default();
    let conversation_id = row.text("conversation_id").unwrap_or_default();
    let text = row.text("text").unwrap_or_default();
    let result = send(p, db, &tenant_id, &conversation_id, &d, &text).await;
    let now = p.now_ms();
    let (status, outcome, next, error, provider_id) = match result {
        Ok(Sent::Provider(pid)) => ("sent", Outcome::Sent, now, None, Some(pid)),
        Ok(Sent::Suppressed) => (
            "suppressed",
            Outcome::Suppressed,
            now,
            Some("recipient opted out".to_string()),
            None,
        ),
        Err(SendError::Fatal(e)) => ("failed", Outcome::Failed, now, Some(e), None),
        Err(SendError::Retry(e, after)) if d.attempts >= MAX_ATTEMPTS => {
            let _ = after;
            (
                "dead",
                Outcome::Dead,
                now,
                Some(format!("gave up after {} attempts: {e}", d.attempts)),
                None,
            )
        }
        Err(SendError::Retry(e, after)) => {
            let wait = after
                .unwrap_or_else(|| backoff_ms(d.attempts))
                .clamp(0, MAX_BACKOFF_MS);
            (
                "queued",
                Outcome::Retry { after_ms: wait },
                now + wait,
                Some(e),
                None,
            )
        }
    };
    db.execute(
        "UPDATE outbound_messages SET status = ?2, next_attempt_at = ?3, last_error = ?4, provider_id = COALESCE(?5, provider_id), updated_at = ?6 WHERE id = ?1",
        &params![id, status, next, error.as_deref(), provider_id.as_deref(), now],
    )
    .await?;
    if matches!(outcome, Outcome::Dead | Outcome::Failed) {
        p.log.log(&json!({"level": "warn", "msg": "outbound message not delivered", "outbound": id, "status": status, "error": error}).to_string());
    }
    Ok(outcome)
}

enum Sent {
    Provider(String),
    Suppressed,
}

async fn send(
    p: &Platform,
    db: &dyn SqlDatabase,
    tenant_id: &str,
    conversation_id: &str,
    d: &Delivery,
    text: &str,
) -> Result<Sent, SendError> {
    let store_err = |e: crate::error::ApiError| SendError::Retry(e.message, None);
    let (tenant_cfg, _) = crate::tenancy::store::config(db, tenant_id)
        .await
        .map_err(store_err)?;
    let channels: ChannelsConfig = tenant_cfg.channels;
    let channel = Channel::parse(&d.channel)
        .ok_or_else(|| SendError::Fatal(format!("unknown channel {}", d.channel)))?;
    match channel {
        Channel::Sms | Channel::Whatsapp => {
            if twilio::opted_out(db, tenant_id, channel, &d.to)
                .await
                .map_err(store_err)?
            {
                return Ok(Sent::Suppressed);
            }
            let cfg = channels
                .twilio
                .clone()
                .ok_or_else(|| SendError::Fatal("twilio is not configured".into()))?;
            let token = crate::tenancy::secrets::get(p, tenant_id, config::TWILIO_AUTH_TOKEN)
                .await
                .map_err(store_err)?
                .ok_or_else(|| {
                    SendError::Fatal("the twilio_auth_token secret is not set".into())
                })?;
            let last_inbound = last_customer_message_at(db, conversation_id)
                .await
                .map_err(store_err)?;
            let files = super::media::of_reply(p, tenant_id, conversation_id, d.seq)
                .await
                .map_err(store_err)?;
            let mut media =
                super::media::media_urls(p, super::config::public_base(p, &channels), &files);
            // WhatsApp carries one media item per message.
            if channel == Channel::Whatsapp {
                media.truncate(1);
            }
            let outgoing = twilio::Outgoing {
                tenant_id,
                channel,
                to: &d.to,
                text,
                last_inbound_ms: last_inbound,
                media: &media,
            };
            twilio::send(p, &cfg, &channels, &token, &outgoing)
                .await
                .map(Sent::Provider)
        }
        Channel::Email => {
            let cfg = channels
                .email
                .clone()
                .ok_or_else(|| SendError::Fatal("email is not configured".into()))?;
            let key = crate::tenancy::secrets::get(p, tenant_id, config::RESEND_API_KEY)
                .await
                .map_err(store_err)?
                .ok_or_else(|| SendError::Fatal("the resend_api_key secret is not set".into()))?;
            let thread = resend::thread_for(db, tenant_id, conversation_id)
                .await
                .map_err(store_err)?;
            let files = super::media::of_reply(p, tenant_id, conversation_id, d.seq)
                .await
                .map_err(store_err)?;
            let attachments = super::media::email_attachments(p, &files)
                .await
                .map_err(store_err)?;
            resend::send(p, &cfg, &key, &d.id, &d.to, text, &thread, &attachments)
                .await
                .map(Sent::Provider)
        }
        other => Err(SendError::Fatal(format!(
            "no outbound provider for channel {}",
            other.as_str()
        ))),
    }
}

async fn last_customer_message_at(
    db: &dyn SqlDatabase,
    conversation_id: &str,
) -> ApiResult<Option<i64>> {
    let rows = db
        .query(
            "SELECT MAX(created_at) AS t FROM conversation_messages WHERE conversation_id = ?1 AND author_type = 'customer'",
            &params![conversation_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("t")))
}

/// A provider's delivery report, for a send of the tenant whose webhook URL it came to (a
/// tenant's signed callback can only ever name its own sends). Statuses only move forward (`sent` never overwrites
/// `delivered`, a late `sent` callback after `read` is ignored).
pub async fn provider_status(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    provider_id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> ApiResult<bool> {
    fn rank(s: &str) -> i32 {
        match s {
            "queued" | "sending" => 0,
            "sent" => 1,
            "delivered" => 2,
            "read" => 3,
            "failed" => 4,
            _ => -1,
        }
    }
    let rows = db
        .query(
            "SELECT id, status FROM outbound_messages WHERE tenant_id = ?1 AND provider_id = ?2",
            &params![tenant_id, provider_id],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    let current = row.text("status").unwrap_or_default();
    if rank(status) <= rank(&current) || rank(status) < 0 {
        return Ok(false);
    }
    db.execute(
        "UPDATE outbound_messages SET status = ?3, last_error = COALESCE(?4, last_error), updated_at = ?5 WHERE tenant_id = ?1 AND provider_id = ?2",
        &params![tenant_id, provider_id, status, error, now],
    )
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(2), 2_000);
        assert_eq!(backoff_ms(4), 8_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }

    #[test]
    fn only_replies_on_messaging_channels_are_recorded() {
        let reply = |channel: Channel, author: AuthorKind, seq: i64| {
            record(
                &Reply {
                    tenant_id: "ten_1",
                    conversation_id: "cnv_1",
                    channel,
                    customer_id: "cus_1",
                    author,
                    seq,
                    text: "hi",
                },
                0,
            )
        };
        assert!(reply(Channel::Sms, AuthorKind::Ai, 2).is_some());
        assert!(reply(Channel::Sms, AuthorKind::Agent, 2).is_some());
        assert!(reply(Channel::Sms, AuthorKind::Customer, 2).is_none());
        assert!(reply(Channel::Sms, AuthorKind::System, 2).is_none());
        assert!(reply(Channel::Web, AuthorKind::Ai, 2).is_none());
        assert_eq!(
            reply(Channel::Sms, AuthorKind::Ai, 7)
                .map(|r| r.0)
                .as_deref(),
            Some("out_cnv_1_7")
        );
    }
}
