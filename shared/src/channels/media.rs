//! Files that arrive with a channel's message (MMS and WhatsApp media from Twilio, email
//! attachments from Resend): fetched with the provider's authentication, bounded by the
//! tenant's per-file limit, checked and stored like an upload ([`crate::files::upload`]) under
//! a key derived from the provider's message id, so a retried webhook stores nothing twice.

use crate::conversations::model::Author;
use crate::egress::{self, FetchError, Limits};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::limits::FileLimits;
use crate::files::store::{self, FileRecord};
use crate::files::upload::{self, Incoming};
use crate::http::{Method, Request};
use crate::platform::Platform;
use serde_json::{json, Value};

/// Where one inbound file is.
pub enum Remote {
    /// Twilio media: the URL the webhook named (only under Twilio's API base, which gets the
    /// account's credentials), with its declared type.
    Twilio {
        url: String,
        content_type: String,
        authorization: String,
    },
    /// A Resend received-email attachment: its record (with a short-lived download URL) is
    /// fetched with the API key, then the file from that URL.
    Resend {
        api_key: String,
        email_id: String,
        attachment_id: String,
        filename: String,
    },
}

/// What became of a message's files.
#[derive(Default)]
pub struct Taken {
    pub files: Vec<FileRecord>,
    /// Files that could not be taken, with why (`unsupported_media_type`, `payload_too_large`,
    /// `quota_exceeded`, `unavailable`): shown to agents, never silently dropped.
    pub missed: Vec<Value>,
}

/// Fetches and stores a message's files for `conversation_id`. A provider that retries its
/// webhook (Resend) gets an error for a failed fetch, so the retry fetches again; one that does
/// not (Twilio) gets the message stored with the file marked `unavailable`.
pub async fn take(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
    sender: &Author,
    message_id: &str,
    remotes: &[Remote],
) -> ApiResult<Taken> {
    let mut taken = Taken::default();
    if remotes.is_empty() {
        return Ok(taken);
    }
    let db = p.db()?;
    let tier = crate::tenancy::store::get_required(db, tenant_id)
        .await?
        .tier;
    let limits = FileLimits::for_tier(tier);
    for (i, remote) in remotes.iter().enumerate().take(10) {
        let key = format!("{message_id}#{i}");
        let id = upload::file_id(tenant_id, conversation_id, &sender.id, &key);
        if let Some(done) = store::get(db, tenant_id, &id).await? {
            taken.files.push(done);
            continue;
        }
        let (name, source) = match remote {
            Remote::Twilio { content_type, .. } => (
                if content_type.starts_with("image/") {
                    format!("photo-{}", i + 1)
                } else {
                    format!("file-{}", i + 1)
                },
                "twilio",
            ),
            Remote::Resend { filename, .. } => (filename.clone(), "resend"),
        };
        let bytes = match fetch(p, remote, limits.file_bytes as usize).await {
            Ok(b) => b,
            Err(Missed::Refused(code)) => {
                taken.missed.push(json!({ "name": name, "reason": code }));
                continue;
            }
            Err(Missed::Failed(e)) => match remote {
                Remote::Resend { .. } => return Err(e),
                Remote::Twilio { .. } => {
                    taken
                        .missed
                        .push(json!({ "name": name, "reason": "unavailable" }));
                    continue;
                }
            },
        };
        let incoming = Incoming {
            bytes: &bytes,
            name: &name,
            source,
        };
        match upload::accept(p, tier, tenant_id, conversation_id, sender, &key, incoming).await {
            Ok(f) => taken.files.push(f),
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::UnsupportedMediaType
                        | ErrorCode::PayloadTooLarge
                        | ErrorCode::QuotaExceeded
                        | ErrorCode::ValidationFailed
                ) =>
            {
                taken
                    .missed
                    .push(json!({ "name": name, "reason": e.code.as_str() }));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(taken)
}

enum Missed {
    /// The file itself is refused (too large): retrying changes nothing.
    Refused(&'static str),
    /// The provider or network failed.
    Failed(ApiError),
}

fn upstream(what: String) -> Missed {
    Missed::Failed(ApiError::new(ErrorCode::UpstreamError, what))
}

async fn fetch(p: &Platform, remote: &Remote, max_bytes: usize) -> Result<Vec<u8>, Missed> {
    let limits = Limits {
        timeout_ms: 20_000,
        max_bytes,
    };
    let url = match remote {
        Remote::Twilio {
            url, authorization, ..
        } => {
            // The account's credentials go only to Twilio's own API.
            let base = p
                .config
                .get("twilio_base_url")
                .unwrap_or(super::twilio::DEFAULT_BASE)
                .trim_end_matches('/');
            if !url.starts_with(&format!("{base}/")) {
                return Err(Missed::Refused("unavailable"));
            }
            return get(
                p,
                Request::new(Method::Get, url).with_header("authorization", authorization),
                limits,
            )
            .await;
        }
        Remote::Resend {
            api_key,
            email_id,
            attachment_id,
            ..
        } => {
            let clean = |s: &str| -> String {
                s.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect()
            };
            let meta_url = format!(
                "{}/emails/receiving/{}/attachments/{}",
                super::resend::base(p),
                clean(email_id),
                clean(attachment_id)
            );
            let req = Request::new(Method::Get, &meta_url)
                .with_header("authorization", &format!("Bearer {api_key}"));
            let record = get(p, req, Limits::API).await?;
            let v: Value = serde_json::from_slice(&record).unwrap_or_default();
            v.get("download_url")
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| upstream("resend: attachment without a download_url".into()))?
        }
    };
    // The download URL is Resend's (signed, no credential); still only to a public address.
    egress::check_url(&url, egress::allow_local(p))
        .map_err(|r| upstream(format!("resend download URL refused: {}", r.message())))?;
    get(p, Request::new(Method::Get, &url), limits).await
}

async fn get(p: &Platform, req: Request, limits: Limits) -> Result<Vec<u8>, Missed> {
    match egress::fetch(p, req, limits).await {
        Ok(f) if f.status == 200 => Ok(f.body),
        Ok(f) => Err(upstream(format!("media fetch answered {}", f.status))),
        Err(FetchError::TooLarge) => Err(Missed::Refused("payload_too_large")),
        Err(e) => Err(upstream(format!("media fetch: {e}"))),
    }
}

/// The files a reply carries (its message's `meta.attachments`), read back from the store for
/// the conversation that holds them.
pub async fn of_reply(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
    seq: i64,
) -> ApiResult<Vec<FileRecord>> {
    let db = p.db()?;
    let rows = db
        .query(
            "SELECT meta FROM conversation_messages WHERE tenant_id = ?1 AND conversation_id = ?2 AND seq = ?3",
            &crate::params![tenant_id, conversation_id, seq],
        )
        .await?;
    let meta: Value = rows
        .first()
        .and_then(|r| r.text("meta"))
        .and_then(|m| serde_json::from_str(&m).ok())
        .unwrap_or_default();
    let mut files = Vec::new();
    for a in meta
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(10)
    {
        let Some(id) = a.get("id").and_then(Value::as_str) else {
            continue;
        };
        if let Some(f) = store::get(db, tenant_id, id).await? {
            if f.conversation_id == conversation_id {
                files.push(f);
            }
        }
    }
    Ok(files)
}

/// Links Twilio fetches the reply's media from (signed, for a day). None without a public base
/// URL (Twilio could not reach us); the text names the files either way.
pub fn media_urls(p: &Platform, base: Option<&str>, files: &[FileRecord]) -> Vec<String> {
    let Some(base) = base else {
        return Vec::new();
    };
    let now = p.now_ms();
    files
        .iter()
        .filter_map(|f| {
            let token = crate::files::link::issue(
                &p.config,
                &f.tenant_id,
                &f.conversation_id,
                &f.id,
                now,
                now + crate::files::link::CHANNEL_TTL_MS,
            )
            .ok()?;
            Some(crate::files::link::url(base, &f.id, &token))
        })
        .collect()
}

/// Most bytes attached to one email (Resend accepts 40 MB after encoding; mail servers often
/// less). Files beyond it are left out; the text still names them.
const EMAIL_ATTACHMENT_BYTES: i64 = 10 * 1024 * 1024;

/// The reply's files as Resend attachments (`filename` + base64 `content`).
pub async fn email_attachments(p: &Platform, files: &[FileRecord]) -> ApiResult<Vec<Value>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut total = 0;
    for f in files {
        if total + f.size > EMAIL_ATTACHMENT_BYTES {
            continue;
        }
        if let Some(bytes) = p.blobs()?.get(&f.storage_key).await? {
            total += f.size;
            out.push(json!({
                "filename": f.name,
                "content": base64::engine::general_purpose::STANDARD.encode(bytes),
            }));
        }
    }
    Ok(out)
}
