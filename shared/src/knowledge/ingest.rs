//! Ingestion: a document becomes heading-aware chunks, embedded in batches, stored with their
//! full-text rows, all replacing the document's previous chunks in one atomic batch. The
//! document's status moves pending → indexing → ready (or failed, with the error).

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::chunk;
use super::embed::{Embedder, Purpose};
use super::store::{self, ChunkRow};
use super::text;
use super::vectors::quantise;
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::tenancy::quotas::{self, Quotas};

/// Texts per embedding call.
pub const BATCH: usize = 32;
/// Documents larger than this are indexed in the background (the request returns `pending`).
pub const BACKGROUND_CHARS: usize = 40_000;

/// The indexable text of a document in its format.
pub fn plain_text(format: &str, content: &str) -> String {
    match format {
        "html" => text::html_to_text(content),
        _ => text::normalise_space(content),
    }
}

/// Indexes one stored document. Errors mark the document `failed` and are returned.
pub async fn index_document(
    p: &Platform,
    embedder: &dyn Embedder,
    tenant_id: &str,
    document_id: &str,
) -> ApiResult<usize> {
    let db = p.db()?;
    store::set_status(db, tenant_id, document_id, "indexing", None, p.now_ms()).await?;
    let result = async {
        let doc = store::get(db, tenant_id, document_id, true).await?;
        let body = plain_text(&doc.format, doc.content.as_deref().unwrap_or(""));
        let chunks = chunk::chunk(&format!("# {}\n\n{}", doc.title, body));
        // The whole index is held in memory: refuse to grow it past the plan before embedding.
        let tenant = crate::tenancy::store::get_required(db, tenant_id).await?;
        let quota = Quotas::for_tier(tenant.tier, tenant.limits.as_ref()).kb_chunks;
        let others = store::chunk_total(db, tenant_id, Some(document_id)).await?;
        if others + chunks.len() as i64 > quota {
            return Err(quotas::exceeded("knowledge-base chunks", quota));
        }
        let model = embedder.model_id();
        let mut rows = Vec::with_capacity(chunks.len());
        for (b, batch) in chunks.chunks(BATCH).enumerate() {
            // The heading path is embedded with the text: "Returns > Refunds: …" matches
            // questions about refunds even when the paragraph never says "refund".
            let texts: Vec<String> = batch.iter().map(|c| format!("{}\n{}", c.heading, c.text)).collect();
            let vectors = embedder.embed(&texts, Purpose::Document).await?;
            for (i, (c, v)) in batch.iter().zip(vectors).enumerate() {
                rows.push(ChunkRow { ord: (b * BATCH + i) as i64, heading: c.heading.clone(), text: c.text.clone(), vector: quantise(&v) });
            }
        }
        let mut stmts = store::delete_chunks(tenant_id, document_id);
        stmts.extend(store::insert_chunks(tenant_id, document_id, &model, &rows));
        stmts.push(crate::ports::Statement::new(
            "UPDATE kb_documents SET status = 'ready', error = NULL, chunk_count = ?3, model = ?4, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2",
            params![tenant_id, document_id, rows.len() as i64, model.as_str(), p.now_ms()],
        ));
        stmts.push(store::bump(tenant_id, &model, p.now_ms()));
        db.batch(stmts).await?;
        ApiResult::Ok(rows.len())
    }
    .await;
    if let Err(e) = &result {
        let _ = store::set_status(
            db,
            tenant_id,
            document_id,
            "failed",
            Some(&e.message),
            p.now_ms(),
        )
        .await;
    }
    result
}
