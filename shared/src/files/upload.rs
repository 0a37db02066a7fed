//! Storing one incoming file: checked, stored, recorded — in that order, and idempotent, so a
//! retried upload (same conversation, uploader and key) finds the file it stored before.

use super::limits::FileLimits;
use super::sniff::sniff;
use super::store::{self, FileRecord};
use super::{name, sniff::FileKind};
use crate::conversations::model::Author;
use crate::error::ApiResult;
use crate::ids::base32;
use crate::platform::Platform;
use crate::tenancy::Tier;
use sha2::{Digest, Sha256};

/// What arrived, from where.
pub struct Incoming<'a> {
    pub bytes: &'a [u8],
    /// The name the sender gave (sanitised here).
    pub name: &'a str,
    /// `upload` (widget, console, API), `twilio` or `resend`.
    pub source: &'a str,
}

/// The id of the file one uploader sends under one idempotency key in one conversation.
pub fn file_id(tenant_id: &str, conversation_id: &str, uploader_id: &str, key: &str) -> String {
    let mut h = Sha256::new();
    for part in [tenant_id, conversation_id, uploader_id, key] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    format!("fil_{}", base32(digest.get(..16).unwrap_or_default()))
}

/// Checks and stores a file for a conversation. The caller has established that `uploader`
/// may write to it.
pub async fn accept(
    p: &Platform,
    tier: Tier,
    tenant_id: &str,
    conversation_id: &str,
    uploader: &Author,
    key: &str,
    incoming: Incoming<'_>,
) -> ApiResult<FileRecord> {
    let db = p.db()?;
    let id = file_id(tenant_id, conversation_id, &uploader.id, key);
    if let Some(existing) = store::get(db, tenant_id, &id).await? {
        return Ok(existing);
    }
    let limits = FileLimits::for_tier(tier);
    let size = incoming.bytes.len() as i64;
    // The cheap refusal first: no sniffing or summing for a file the plan cannot take.
    limits.check(size, 0)?;
    let sniffed = sniff(incoming.bytes, incoming.name)?;
    limits.check(size, store::usage(db, tenant_id).await?)?;
    let record = FileRecord {
        storage_key: store::storage_key(tenant_id, conversation_id, &id),
        id,
        tenant_id: tenant_id.to_string(),
        conversation_id: conversation_id.to_string(),
        name: name::sanitise(incoming.name, sniffed.extension),
        content_type: sniffed.content_type.to_string(),
        kind: sniffed.kind,
        size,
        width: sniffed.dimensions.map(|d| i64::from(d.0)),
        height: sniffed.dimensions.map(|d| i64::from(d.1)),
        sha256: hex::encode(Sha256::digest(incoming.bytes)),
        uploaded_by_type: uploader.kind.as_str().to_string(),
        uploaded_by_id: uploader.id.clone(),
        source: incoming.source.to_string(),
        created_at: p.now_ms(),
    };
    p.blobs()?
        .put(&record.storage_key, incoming.bytes, &record.content_type)
        .await?;
    db.batch(vec![store::insert(&record)]).await?;
    Ok(record)
}

/// Text for a message that carries only files: their names, so previews, transcripts, search
/// and channels without media still say what was sent.
pub fn caption_for(files: &[FileRecord]) -> String {
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let icon = if files.iter().all(|f| f.kind == FileKind::Image) {
        "🖼"
    } else {
        "📎"
    };
    format!("{icon} {}", names.join(", "))
}
