//! The `files` rows: what the API, quotas and data-rights sweeps know about each stored file.

use super::sniff::FileKind;
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::ports::{Row, SqlDatabase, Statement};
use crate::records::{self, FromRow};
use serde::{Deserialize, Serialize};

/// A stored file.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRecord {
    pub id: String,
    pub tenant_id: String,
    pub conversation_id: String,
    pub storage_key: String,
    pub name: String,
    pub content_type: String,
    pub kind: FileKind,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub sha256: String,
    pub uploaded_by_type: String,
    pub uploaded_by_id: String,
    pub source: String,
    pub created_at: i64,
}

/// A file as a message carries it (`meta.attachments[]`): enough to show it and ask for a link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub kind: FileKind,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

impl FileRecord {
    pub fn attachment(&self) -> Attachment {
        Attachment {
            id: self.id.clone(),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            kind: self.kind,
            size: self.size,
            width: self.width,
            height: self.height,
        }
    }

    /// Served inline (previewed) rather than as a download: only images a browser shows as
    /// images, never as a document that could run script.
    pub fn inline(&self) -> bool {
        self.kind == FileKind::Image
    }
}

impl FromRow for FileRecord {
    fn from_row(r: &Row) -> ApiResult<FileRecord> {
        let text = |c: &str| r.text(c).unwrap_or_default();
        Ok(FileRecord {
            id: r
                .text("id")
                .ok_or_else(|| ApiError::internal("corrupt file row"))?,
            tenant_id: text("tenant_id"),
            conversation_id: text("conversation_id"),
            storage_key: text("storage_key"),
            name: text("name"),
            content_type: text("content_type"),
            kind: FileKind::parse(&text("kind")),
            size: r.int("size").unwrap_or_default(),
            width: r.int("width"),
            height: r.int("height"),
            sha256: text("sha256"),
            uploaded_by_type: text("uploaded_by_type"),
            uploaded_by_id: text("uploaded_by_id"),
            source: text("source"),
            created_at: r.int("created_at").unwrap_or_default(),
        })
    }
}

const COLUMNS: &str = "id, tenant_id, conversation_id, storage_key, name, content_type, kind, size, width, height, sha256, uploaded_by_type, uploaded_by_id, source, created_at";

/// Where a tenant's file lives in object storage. Built from ids the core made, never from
/// client input, so one tenant's key can never name another's object.
pub fn storage_key(tenant_id: &str, conversation_id: &str, file_id: &str) -> String {
    format!("t/{tenant_id}/c/{conversation_id}/{file_id}")
}

/// Records a file (a retried upload's second insert changes nothing).
pub fn insert(f: &FileRecord) -> Statement {
    Statement::new(
        format!("INSERT OR IGNORE INTO files ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        params![
            f.id.as_str(),
            f.tenant_id.as_str(),
            f.conversation_id.as_str(),
            f.storage_key.as_str(),
            f.name.as_str(),
            f.content_type.as_str(),
            f.kind.as_str(),
            f.size,
            f.width,
            f.height,
            f.sha256.as_str(),
            f.uploaded_by_type.as_str(),
            f.uploaded_by_id.as_str(),
            f.source.as_str(),
            f.created_at
        ],
    )
}

/// One of a tenant's files.
pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<Option<FileRecord>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM files WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)
}

/// A conversation's files, oldest first.
pub async fn of_conversation(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Vec<FileRecord>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM files WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY created_at, id LIMIT 1000"),
            &params![tenant_id, conversation_id],
        )
        .await?;
    records::all(&rows)
}

/// Bytes a tenant stores.
pub async fn usage(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COALESCE(SUM(size), 0) AS n FROM files WHERE tenant_id = ?1",
            &params![tenant_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}

/// Deletes conversations' files, bytes first, then rows: a failure leaves rows that a retry
/// finds again, never bytes nothing points at. Returns how many files went.
pub async fn delete_conversations(
    p: &crate::platform::Platform,
    tenant_id: &str,
    conversation_ids: &[String],
) -> ApiResult<usize> {
    let db = p.db()?;
    let mut gone = 0;
    for cid in conversation_ids {
        let files = of_conversation(db, tenant_id, cid).await?;
        if files.is_empty() {
            continue;
        }
        let blobs = p.blobs()?;
        for f in &files {
            blobs.delete(&f.storage_key).await?;
        }
        db.execute(
            "DELETE FROM files WHERE tenant_id = ?1 AND conversation_id = ?2",
            &params![tenant_id, cid.as_str()],
        )
        .await?;
        gone += files.len();
    }
    Ok(gone)
}
