//! Twilio SMS and WhatsApp: inbound messages (form-encoded, `X-Twilio-Signature`), carrier
//! keywords (STOP/START/HELP), delivery status callbacks, and outbound sends through the
//! Messages API (respecting WhatsApp's 24-hour customer-service window).

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::config::{ChannelsConfig, TwilioConfig};
use super::outbound::SendError;
use crate::conversations::Channel;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::params;
use crate::platform::Platform;
use crate::ports::SqlDatabase;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use std::rc::Rc;

pub const DEFAULT_BASE: &str = "https://api.twilio.com";
const STOP: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
];
const START: &[&str] = &["START", "YES", "UNSTOP", "OPTIN"];
const HELP: &[&str] = &["HELP", "INFO"];
/// WhatsApp allows free-form replies only within this time of the customer's last message.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 3_600_000;

pub enum Keyword {
    Stop,
    Start,
    Help,
}

/// A carrier keyword, when the whole message is one (case-insensitive).
pub fn keyword(body: &str) -> Option<Keyword> {
    let w = body.trim().to_ascii_uppercase();
    if STOP.contains(&w.as_str()) {
        Some(Keyword::Stop)
    } else if START.contains(&w.as_str()) {
        Some(Keyword::Start)
    } else if HELP.contains(&w.as_str()) {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// `whatsapp:+1555…` → (channel, address).
pub fn channel_of(from: &str) -> (Channel, &str) {
    match from.strip_prefix("whatsapp:") {
        Some(n) => (Channel::Whatsapp, n),
        None => (Channel::Sms, from),
    }
}

pub async fn set_optout(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    channel: Channel,
    address: &str,
    out: bool,
    now: i64,
) -> ApiResult<()> {
    if out {
        db.execute(
            "INSERT INTO channel_optouts (tenant_id, channel, address, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            &params![tenant_id, channel.as_str(), address, now],
        )
        .await?;
    } else {
        db.execute(
            "DELETE FROM channel_optouts WHERE tenant_id = ?1 AND channel = ?2 AND address = ?3",
            &params![tenant_id, channel.as_str(), address],
        )
        .await?;
    }
    Ok(())
}

pub async fn opted_out(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    channel: Channel,
    address: &str,
) -> ApiResult<bool> {
    let rows = db
        .query("SELECT 1 AS x FROM channel_optouts WHERE tenant_id = ?1 AND channel = ?2 AND address = ?3", &params![tenant_id, channel.as_str(), address])
        .await?;
    Ok(!rows.is_empty())
}

/// Media attachments of an inbound message (`NumMedia`, `MediaUrlN`, `MediaContentTypeN`).
pub fn attachments(params: &[(String, String)]) -> Vec<Value> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let n: usize = get("NumMedia")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(10);
    (0..n)
        .filter_map(|i| {
            let url = get(&format!("MediaUrl{i}"))?;
            Some(json!({ "url": url, "type": get(&format!("MediaContentType{i}")).unwrap_or_default() }))
        })
        .collect()
}

/// The message's media as files to fetch with the account's credentials (HTTP Basic, account
/// SID and auth token, as Twilio's media URLs require).
async fn media(
    p: &Platform,
    tenant_id: &str,
    attachments: &[Value],
) -> ApiResult<Vec<super::media::Remote>> {
    if attachments.is_empty() {
        return Ok(Vec::new());
    }
    let (cfg, _) = crate::tenancy::store::config(p.db()?, tenant_id).await?;
    let (Some(twilio), Some(token)) = (
        cfg.channels.twilio,
        crate::tenancy::secrets::get(p, tenant_id, super::config::TWILIO_AUTH_TOKEN).await?,
    ) else {
        return Ok(Vec::new());
    };
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{token}", twilio.account_sid));
    Ok(attachments
        .iter()
        .filter_map(|a| {
            Some(super::media::Remote::Twilio {
                url: a.get("url")?.as_str()?.to_string(),
                content_type: a
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                authorization: format!("Basic {basic}"),
            })
        })
        .collect())
}

/// One message for Twilio to send, with what decides its form.
pub struct Outgoing<'a> {
    pub tenant_id: &'a str,
    pub channel: Channel,
    pub to: &'a str,
    pub text: &'a str,
    /// When the customer last wrote: WhatsApp's 24-hour session window starts there.
    pub last_inbound_ms: Option<i64>,
    /// Signed links to the reply's files (`MediaUrl`, one parameter each).
    pub media: &'a [String],
}

/// Sends one message; returns Twilio's message SID.
pub async fn send(
    p: &Platform,
    cfg: &TwilioConfig,
    channels: &ChannelsConfig,
    auth_token: &str,
    m: &Outgoing<'_>,
) -> Result<String, SendError> {
    let form = message_form(p, cfg, channels, m)?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let base_url = p
        .config
        .get("twilio_base_url")
        .unwrap_or(DEFAULT_BASE)
        .trim_end_matches('/')
        .to_string();
    let req = Request::new(
        Method::Post,
        &format!(
            "{base_url}/2010-04-01/Accounts/{}/Messages.json",
            cfg.account_sid
        ),
    )
    .with_header(
        "authorization",
        &format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{auth_token}", cfg.account_sid))
        ),
    )
    .with_header("content-type", "application/x-www-form-urlencoded")
    .with_body(body.into_bytes());
    message_sid(super::outbound::call_provider(p, req).await?)
}

/// The Messages API form. Outside WhatsApp's 24-hour window only an approved template may be
/// sent, with the text as its variable; the status callback is set when a public base is known.
fn message_form(
    p: &Platform,
    cfg: &TwilioConfig,
    channels: &ChannelsConfig,
    m: &Outgoing<'_>,
) -> Result<Vec<(&'static str, String)>, SendError> {
    let (from, to) = match m.channel {
        Channel::Whatsapp => (cfg.whatsapp_from.clone(), format!("whatsapp:{}", m.to)),
        _ => (cfg.sms_from.clone(), m.to.to_string()),
    };
    let from = from
        .ok_or_else(|| SendError::Fatal(format!("no {} sender configured", m.channel.as_str())))?;
    let mut form: Vec<(&str, String)> = vec![("To", to), ("From", from)];
    let outside_window = m.channel == Channel::Whatsapp
        && m.last_inbound_ms
            .is_none_or(|t| p.now_ms() - t > WHATSAPP_WINDOW_MS);
    if outside_window {
        let template = cfg.whatsapp_template_sid.clone().ok_or_else(|| {
            SendError::Fatal("outside_whatsapp_window: no approved template configured".into())
        })?;
        form.push(("ContentSid", template));
        form.push(("ContentVariables", json!({ "1": m.text }).to_string()));
    } else {
        form.push(("Body", m.text.to_string()));
        for url in m.media.iter().take(10) {
            form.push(("MediaUrl", url.clone()));
        }
    }
    if let Some(b) = super::config::public_base(p, channels) {
        form.push((
            "StatusCallback",
            format!(
                "{}/v1/webhooks/twilio/{}",
                b.trim_end_matches('/'),
                m.tenant_id
            ),
        ));
    }
    Ok(form)
}

/// Twilio's answer: 429 and 5xx are retried (honouring Retry-After), other errors are final.
fn message_sid(reply: super::outbound::ProviderReply) -> Result<String, SendError> {
    let super::outbound::ProviderReply {
        status,
        retry_after_ms,
        text,
    } = reply;
    let detail = || {
        format!(
            "twilio {status}: {}",
            text.chars().take(200).collect::<String>()
        )
    };
    if status == 429 || status >= 500 {
        return Err(SendError::Retry(detail(), retry_after_ms));
    }
    if status >= 400 {
        return Err(SendError::Fatal(detail()));
    }
    #[derive(serde::Deserialize)]
    struct Created {
        sid: String,
    }
    serde_json::from_str::<Created>(&text)
        .map(|c| c.sid)
        .map_err(|_| SendError::Fatal("twilio answered without a sid".into()))
}

/// The URL Twilio signed: the configured public base URL (when the edge sees a rewritten host)
/// plus the path and query the request arrived with, else the URL as received.
pub fn signed_url(req: &Request, public_base: Option<&str>) -> String {
    match public_base {
        Some(b) => {
            let q = if req.query.is_empty() {
                String::new()
            } else {
                format!("?{}", req.query)
            };
            format!("{}{}{q}", b.trim_end_matches('/'), req.path)
        }
        None => req.url(),
    }
}

/// Form fields of a Twilio webhook (UTF-8 checked).
pub fn form(body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    std::str::from_utf8(body)
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "the body is not valid UTF-8"))?;
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

/// A verified Twilio webhook, read from its form.
#[derive(Debug, PartialEq)]
pub enum Webhook {
    /// A delivery status callback for one of our sends (no `Body`).
    Status {
        sid: String,
        status: String,
        error_code: Option<String>,
    },
    /// A message from a customer.
    Message(InboundMessage),
}

#[derive(Debug, PartialEq)]
pub struct InboundMessage {
    pub sid: String,
    /// `+1555…` or `whatsapp:+1555…`.
    pub from: String,
    pub body: String,
    pub profile_name: Option<String>,
    pub attachments: Vec<Value>,
}

impl Webhook {
    pub fn read(params: &[(String, String)]) -> ApiResult<Webhook> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let sid = get("MessageSid")
            .or_else(|| get("SmsSid"))
            .ok_or_else(|| ApiError::validation("MessageSid", "missing"))?;
        if let (Some(status), None) = (get("MessageStatus"), get("Body")) {
            return Ok(Webhook::Status {
                sid,
                status,
                error_code: get("ErrorCode"),
            });
        }
        Ok(Webhook::Message(InboundMessage {
            sid,
            from: get("From").ok_or_else(|| ApiError::validation("From", "missing"))?,
            body: get("Body").unwrap_or_default(),
            profile_name: get("ProfileName"),
            attachments: attachments(params),
        }))
    }

    /// The event's id in the webhook ledger (a status callback per message and status).
    pub fn event_id(&self) -> String {
        match self {
            Webhook::Status { sid, status, .. } => format!("{sid}:{status}"),
            Webhook::Message(m) => m.sid.clone(),
        }
    }
}

/// Acts on a verified webhook for `tenant_id`.
pub async fn process(p: &Rc<Platform>, tenant_id: &str, hook: &Webhook) -> ApiResult<()> {
    match hook {
        Webhook::Status {
            sid,
            status,
            error_code,
        } => {
            let mapped = match status.as_str() {
                "sent" => "sent",
                "delivered" => "delivered",
                "read" => "read",
                "failed" | "undelivered" => "failed",
                // queued, sending, accepted…: nothing to record.
                _ => return Ok(()),
            };
            let error = error_code.as_ref().map(|c| format!("twilio error {c}"));
            super::outbound::provider_status(
                p.db()?,
                tenant_id,
                sid,
                mapped,
                error.as_deref(),
                p.now_ms(),
            )
            .await
            .map(|_| ())
        }
        Webhook::Message(m) => receive(p, tenant_id, m).await,
    }
}

/// A customer's message: STOP/START recorded, then into their conversation on the channel.
async fn receive(p: &Rc<Platform>, tenant_id: &str, m: &InboundMessage) -> ApiResult<()> {
    let db = p.db()?;
    let (channel, address) = channel_of(&m.from);
    let keyword = keyword(&m.body);
    match keyword {
        Some(Keyword::Stop) => {
            set_optout(db, tenant_id, channel, address, true, p.now_ms()).await?
        }
        Some(Keyword::Start) => {
            set_optout(db, tenant_id, channel, address, false, p.now_ms()).await?
        }
        _ => {}
    }
    // A reply with a number answers the customer's open survey on this channel.
    if keyword.is_none()
        && m.attachments.is_empty()
        && crate::surveys::respond::from_message(p, tenant_id, channel, address, &m.body).await?
    {
        return Ok(());
    }
    let files = media(p, tenant_id, &m.attachments).await?;
    super::inbound::receive(
        p,
        super::inbound::Inbound {
            tenant_id,
            channel,
            kind: match channel {
                Channel::Whatsapp => "whatsapp",
                _ => "phone",
            },
            address,
            name: m.profile_name.as_deref(),
            email: None,
            phone: Some(address),
            subject: None,
            message_id: &m.sid,
            text: &m.body,
            meta: None,
            conversation_id: None,
            thread_message_id: None,
            // Carrier keywords are recorded, not answered (the carrier sends its own reply).
            answer: keyword.is_none(),
            files,
        },
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn keywords_and_channels() {
        assert!(matches!(keyword(" stop "), Some(Keyword::Stop)));
        assert!(matches!(keyword("Start"), Some(Keyword::Start)));
        assert!(
            keyword("please stop sending me offers").is_none(),
            "only whole-message keywords"
        );
        assert_eq!(
            channel_of("whatsapp:+15550001"),
            (Channel::Whatsapp, "+15550001")
        );
        assert_eq!(channel_of("+15550001"), (Channel::Sms, "+15550001"));
        let p: Vec<(String, String)> = vec![
            ("NumMedia".into(), "1".into()),
            ("MediaUrl0".into(), "https://api.twilio.com/m/1".into()),
            ("MediaContentType0".into(), "image/jpeg".into()),
        ];
        assert_eq!(attachments(&p)[0]["type"], "image/jpeg");
    }

    #[test]
    fn the_signed_url_uses_the_public_base_when_configured() {
        let req = Request::new(
            Method::Post,
            "http://10.0.0.7:8787/v1/webhooks/twilio/ten_1?x=1",
        );
        assert_eq!(
            signed_url(&req, Some("https://support.example.com/")),
            "https://support.example.com/v1/webhooks/twilio/ten_1?x=1"
        );
        assert_eq!(
            signed_url(&req, None),
            "http://10.0.0.7:8787/v1/webhooks/twilio/ten_1?x=1"
        );
    }
}
