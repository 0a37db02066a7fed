//! Knowledge-base storage: documents, chunks (text, heading, int8 vector) and the full-text
//! index, all tenant-scoped; plus the per-tenant version and index model.

use super::vectors::Index;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Row, SqlDatabase, Statement};
use crate::records::{self, FromRow, Listed, Listing};
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Document {
    pub id: String,
    pub title: String,
    pub source_url: Option<String>,
    pub tags: Vec<String>,
    /// `text`, `markdown` or `html`.
    pub format: String,
    /// `pending`, `indexing`, `ready` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub chunk_count: i64,
    /// The embedding model its chunks were indexed with.
    pub model: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

const COLUMNS: &str = "id, title, source_url, tags, format, status, error, chunk_count, model, created_at, updated_at";

/// `content` is read only when the query selected it (one document, not a list).
impl FromRow for Document {
    fn from_row(r: &Row) -> ApiResult<Document> {
        Ok(Document {
            id: r.text("id").unwrap_or_default(),
            title: r.text("title").unwrap_or_default(),
            source_url: r.text("source_url"),
            tags: r
                .text("tags")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            format: r.text("format").unwrap_or_default(),
            status: r.text("status").unwrap_or_default(),
            error: r.text("error"),
            chunk_count: r.int("chunk_count").unwrap_or(0),
            model: r.text("model"),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
            content: r.text("content"),
        })
    }
}

impl Listed for Document {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

pub async fn get(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
    with_content: bool,
) -> ApiResult<Document> {
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS}{} FROM kb_documents WHERE tenant_id = ?1 AND id = ?2",
                if with_content { ", content" } else { "" }
            ),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("document"))
}

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<Document>> {
    let listing = Listing {
        table: "kb_documents",
        columns: COLUMNS,
    };
    records::page(db, &listing, Some(tenant_id), page).await
}

pub struct NewDocument<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub title: &'a str,
    pub source_url: Option<&'a str>,
    pub tags: &'a [String],
    pub format: &'a str,
    pub content: &'a str,
    pub now: i64,
}

/// Inserts or replaces a document's metadata and content (status back to `pending`).
pub async fn upsert(db: &dyn SqlDatabase, d: &NewDocument<'_>) -> ApiResult<()> {
    db.execute(
        "INSERT INTO kb_documents (id, tenant_id, title, source_url, tags, format, content, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, source_url = excluded.source_url, tags = excluded.tags,
           format = excluded.format, content = excluded.content, status = 'pending', error = NULL,
           updated_at = excluded.updated_at
         WHERE kb_documents.tenant_id = excluded.tenant_id",
        &params![
            d.id, d.tenant_id, d.title, d.source_url, serde_json::to_string(d.tags).unwrap_or_else(|_| "[]".into()),
            d.format, d.content, d.now
        ],
    )
    .await?;
    Ok(())
}

pub async fn set_status(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "UPDATE kb_documents SET status = ?3, error = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
        &params![tenant_id, id, status, error, now],
    )
    .await?;
    Ok(())
}

/// Statements removing a document's chunks and their full-text rows.
pub fn delete_chunks(tenant_id: &str, document_id: &str) -> Vec<Statement> {
    vec![
        Statement::new(
            "DELETE FROM kb_fts WHERE tenant_id = ?1 AND chunk_id IN (SELECT id FROM kb_chunks WHERE tenant_id = ?1 AND document_id = ?2)",
            params![tenant_id, document_id],
        ),
        Statement::new("DELETE FROM kb_chunks WHERE tenant_id = ?1 AND document_id = ?2", params![tenant_id, document_id]),
    ]
}

pub struct ChunkRow {
    pub ord: i64,
    pub heading: String,
    pub text: String,
    pub vector: Vec<u8>,
}

/// Statements inserting a document's chunks (and their full-text rows) for `model`.
pub fn insert_chunks(
    tenant_id: &str,
    document_id: &str,
    model: &str,
    chunks: &[ChunkRow],
) -> Vec<Statement> {
    let mut out = Vec::with_capacity(chunks.len() * 2);
    for c in chunks {
        out.push(Statement::new(
            "INSERT INTO kb_chunks (tenant_id, document_id, ord, heading, text, model, vector) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![tenant_id, document_id, c.ord, c.heading.as_str(), c.text.as_str(), model, c.vector.clone()],
        ));
        out.push(Statement::new(
            "INSERT INTO kb_fts (rowid, text, heading, tenant_id, chunk_id)
             SELECT id, text, heading, tenant_id, id FROM kb_chunks WHERE tenant_id = ?1 AND document_id = ?2 AND ord = ?3",
            params![tenant_id, document_id, c.ord],
        ));
    }
    out
}

/// Chunks indexed for a tenant, leaving out one document (the one being replaced).
pub async fn chunk_total(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    except: Option<&str>,
) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COALESCE(SUM(chunk_count), 0) AS n FROM kb_documents WHERE tenant_id = ?1 AND id != ?2",
            &params![tenant_id, except.unwrap_or("")],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}

/// Documents a tenant holds.
pub async fn document_count(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COUNT(*) AS n FROM kb_documents WHERE tenant_id = ?1",
            &params![tenant_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}

pub async fn delete_document(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<()> {
    let mut stmts = delete_chunks(tenant_id, id);
    stmts.push(Statement::new(
        "DELETE FROM kb_documents WHERE tenant_id = ?1 AND id = ?2",
        params![tenant_id, id],
    ));
    db.batch(stmts).await?;
    Ok(())
}

/// The tenant's knowledge-base version and index model (`None` before the first document).
pub async fn state(db: &dyn SqlDatabase, tenant_id: &str) -> ApiResult<Option<(i64, String)>> {
    let rows = db
        .query(
            "SELECT version, model FROM kb_state WHERE tenant_id = ?1",
            &params![tenant_id],
        )
        .await?;
    Ok(rows.first().map(|r| {
        (
            r.int("version").unwrap_or(0),
            r.text("model").unwrap_or_default(),
        )
    }))
}

/// Statement bumping the version (and recording the index model).
pub fn bump(tenant_id: &str, model: &str, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO kb_state (tenant_id, version, model, updated_at) VALUES (?1, 1, ?2, ?3)
         ON CONFLICT (tenant_id) DO UPDATE SET version = kb_state.version + 1, model = excluded.model, updated_at = excluded.updated_at",
        params![tenant_id, model, now],
    )
}

/// Loads the tenant's vectors for `model` into a searchable index.
pub async fn load_index(db: &dyn SqlDatabase, tenant_id: &str, model: &str) -> ApiResult<Index> {
    let rows = db
        .query(
            "SELECT id, vector FROM kb_chunks WHERE tenant_id = ?1 AND model = ?2 ORDER BY id",
            &params![tenant_id, model],
        )
        .await?;
    let mut index = Index::default();
    for r in rows {
        if let (Some(id), Some(v)) = (r.int("id"), r.blob("vector")) {
            index.push(id, &v);
        }
    }
    if index.len() <= super::vocab::MAX_PASSAGES {
        let rows = db
            .query(
                "SELECT c.id, c.heading, c.text, d.title FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
                 WHERE c.tenant_id = ?1 AND c.model = ?2 ORDER BY c.id",
                &params![tenant_id, model],
            )
            .await?;
        for r in rows {
            let heading = r.text("heading").unwrap_or_default();
            let text = r.text("text").unwrap_or_default();
            index.vocab.add_passage(&format!(
                "{} {heading} {text}",
                r.text("title").unwrap_or_default(),
            ));
            if let Some(id) = r.int("id") {
                index.keywords.add(id, &heading, &text);
            }
        }
    }
    Ok(index)
}

/// A chunk with its document's title and URL, for answers and citations.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Passage {
    pub chunk_id: i64,
    pub document_id: String,
    pub title: String,
    pub source_url: Option<String>,
    pub heading: String,
    pub text: String,
}

/// What a [`Passage`] is read from: a chunk with its document's title and address.
const PASSAGE_COLUMNS: &str =
    "SELECT c.id, c.document_id, c.heading, c.text, d.title, d.source_url FROM kb_chunks c
     JOIN kb_documents d ON d.id = c.document_id";

fn passage(r: &Row) -> Passage {
    Passage {
        chunk_id: r.int("id").unwrap_or(0),
        document_id: r.text("document_id").unwrap_or_default(),
        title: r.text("title").unwrap_or_default(),
        source_url: r.text("source_url"),
        heading: r.text("heading").unwrap_or_default(),
        text: r.text("text").unwrap_or_default(),
    }
}

pub async fn passages(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    ids: &[i64],
) -> ApiResult<Vec<Passage>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    // Ids are integers we produced; formatting them into IN () is safe (no user text).
    let rows = db
        .query(
            &format!("{PASSAGE_COLUMNS} WHERE c.tenant_id = ?1 AND c.id IN ({list})"),
            &params![tenant_id],
        )
        .await?;
    let mut out: Vec<Passage> = rows.iter().map(passage).collect();
    out.sort_by_key(|p| {
        ids.iter()
            .position(|i| *i == p.chunk_id)
            .unwrap_or(usize::MAX)
    });
    Ok(out)
}

/// The first `limit` passages of one document, in reading order: the built-in responder reads
/// the best document's other sections too (its answer may sit in a section retrieval ranked
/// below another document's, or below the document's own introduction).
pub async fn document_passages(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    document_id: &str,
    limit: u32,
) -> ApiResult<Vec<Passage>> {
    let rows = db
        .query(
            &format!(
                "{PASSAGE_COLUMNS} WHERE c.tenant_id = ?1 AND c.document_id = ?2 ORDER BY c.id LIMIT ?3"
            ),
            &params![tenant_id, document_id, limit as i64],
        )
        .await?;
    Ok(rows.iter().map(passage).collect())
}

/// Full-text matches (BM25, best first) for already-sanitised FTS5 query syntax.
pub async fn keyword_search(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    fts_query: &str,
    limit: u32,
) -> ApiResult<Vec<i64>> {
    if fts_query.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            "SELECT chunk_id, bm25(kb_fts) AS score FROM kb_fts WHERE kb_fts MATCH ?1 AND tenant_id = ?2 ORDER BY score LIMIT ?3",
            &params![fts_query, tenant_id, limit],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| r.int("chunk_id")).collect())
}

/// Documents of a tenant indexed with a model other than `model` (to re-index on model change).
pub async fn stale_documents(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    model: &str,
) -> ApiResult<Vec<String>> {
    let rows = db
        .query(
            "SELECT id FROM kb_documents WHERE tenant_id = ?1 AND (model IS NULL OR model != ?2) ORDER BY created_at",
            &params![tenant_id, model],
        )
        .await?;
    Ok(rows.iter().filter_map(|r| r.text("id")).collect())
}
