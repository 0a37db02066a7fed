//! The knowledge base over HTTP: documents (plain text, Markdown or HTML) with their indexing
//! status, hybrid search, and re-indexing after an embedding-model change.

use crate::ai::retrieval::embedder;
use crate::audit;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids::new_id;
use crate::input::{self, check};
use crate::knowledge::{ingest, search, store};
use crate::pagination::PageRequest;
use crate::router::Ctx;
use crate::tenancy::quotas::{self, Quotas};
use crate::tenancy::store as tenants;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest document accepted (bytes of content).
pub const MAX_DOCUMENT: usize = 1024 * 1024;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    pub title: String,
    pub content: String,
    /// `text` (default), `markdown` or `html`.
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl DocumentInput {
    fn validate(&self) -> ApiResult<&str> {
        check::text("title", &self.title, 1, 200)?;
        if self.content.trim().is_empty() || self.content.len() > MAX_DOCUMENT {
            return Err(ApiError::validation(
                "content",
                "content is 1 byte to 1 MiB",
            ));
        }
        let format = self.format.as_deref().unwrap_or("text");
        if !["text", "markdown", "html"].contains(&format) {
            return Err(ApiError::validation(
                "format",
                "must be text, markdown or html",
            ));
        }
        if let Some(u) = &self.source_url {
            if !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Err(ApiError::validation("source_url", "must be an http(s) URL"));
            }
        }
        crate::conversations::model::validate_tags(&self.tags)?;
        Ok(format)
    }
}

/// Stores a document and indexes it: now for small ones, after the response for large ones
/// (the document's `status` shows progress).
async fn save(cx: &Ctx, id: &str, body: &DocumentInput, created: bool) -> ApiResult<Response> {
    let format = body.validate()?;
    let tenant_id = cx.tenant_id()?.to_string();
    let p = &cx.platform;
    // Refused before anything is stored: the index would outgrow the plan.
    let tenant = tenants::get_required(p.db()?, &tenant_id).await?;
    let quota = Quotas::for_tier(tenant.tier, tenant.limits.as_ref()).kb_chunks;
    let body_text = ingest::plain_text(format, &body.content);
    let chunks =
        crate::knowledge::chunk::chunk(&format!("# {}\n\n{}", body.title, body_text)).len() as i64;
    if store::chunk_total(p.db()?, &tenant_id, Some(id)).await? + chunks > quota {
        return Err(quotas::exceeded("knowledge-base chunks", quota));
    }
    store::upsert(
        p.db()?,
        &store::NewDocument {
            id,
            tenant_id: &tenant_id,
            title: &body.title,
            source_url: body.source_url.as_deref(),
            tags: &body.tags,
            format,
            content: &body.content,
            now: cx.now(),
        },
    )
    .await?;
    let (cfg, _) = tenants::config(p.db()?, &tenant_id).await?;
    if body.content.len() > ingest::BACKGROUND_CHARS {
        let (platform, id2, tenant2) = (p.clone(), id.to_string(), tenant_id.clone());
        p.background
            .run(Box::pin(async move {
                if let Ok(e) = embedder(&platform, &tenant2, &cfg.ai).await {
                    let _ = ingest::index_document(&platform, &*e, &tenant2, &id2).await;
                }
            }))
            .await;
    } else {
        let e = embedder(p, &tenant_id, &cfg.ai).await?;
        ingest::index_document(p, &*e, &tenant_id, id).await?;
    }
    audit::record(
        cx,
        &tenant_id,
        if created {
            "knowledge.create"
        } else {
            "knowledge.update"
        },
        ("document", id),
        None,
        Some(json!({ "title": body.title, "bytes": body.content.len() })),
    )
    .await?;
    let doc = store::get(p.db()?, &tenant_id, id, false).await?;
    Ok(Response::json(if created { 201 } else { 200 }, &doc))
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: DocumentInput = input::json(&req)?;
    add(cx, body).await
}

/// `POST /v1/knowledge/files?title=…`: a PDF or plain-text file (the body is its bytes) added
/// as a document of its text.
pub async fn create_from_file(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let name = req.query_param("name").unwrap_or_default();
    let extracted = crate::knowledge::extract::text_of(&req.body, &name, MAX_DOCUMENT / 4)?;
    let stem = name
        .rsplit(['/', '\\'])
        .next()
        .and_then(|n| n.rsplit_once('.').map(|(s, _)| s).or(Some(n)))
        .unwrap_or_default()
        .trim()
        .to_string();
    let title = req
        .query_param("title")
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(if stem.is_empty() {
            "Uploaded document".into()
        } else {
            stem
        });
    let title: String = title.chars().take(200).collect();
    add(
        cx,
        DocumentInput {
            title,
            content: extracted.text,
            format: Some("text".into()),
            source_url: req.query_param("source_url"),
            tags: Vec::new(),
        },
    )
    .await
}

async fn add(cx: &Ctx, body: DocumentInput) -> ApiResult<Response> {
    body.validate()?;
    let db = cx.platform.db()?;
    let tenant = tenants::get_required(db, cx.tenant_id()?).await?;
    let quota = Quotas::for_tier(tenant.tier, tenant.limits.as_ref()).kb_documents;
    if store::document_count(db, &tenant.id).await? >= quota {
        return Err(quotas::exceeded("knowledge-base documents", quota));
    }
    let id = new_id(&*cx.platform.random, "doc");
    save(cx, &id, &body, true).await
}

pub async fn replace(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: DocumentInput = input::json(&req)?;
    let id = req.param("document_id").to_string();
    store::get(cx.platform.db()?, cx.tenant_id()?, &id, false).await?;
    save(cx, &id, &body, false).await
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let with_content = req.query_param("content").as_deref() == Some("1");
    Ok(Response::json(
        200,
        &store::get(
            cx.platform.db()?,
            cx.tenant_id()?,
            req.param("document_id"),
            with_content,
        )
        .await?,
    ))
}

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &store::list(cx.platform.db()?, cx.tenant_id()?, &page).await?,
    ))
}

pub async fn delete(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let db = cx.platform.db()?;
    let doc = store::get(db, tenant_id, req.param("document_id"), false).await?;
    store::delete_document(db, tenant_id, &doc.id).await?;
    let model = doc.model.clone().unwrap_or_default();
    db.execute(
        &store::bump(tenant_id, &model, cx.now()).sql,
        &store::bump(tenant_id, &model, cx.now()).params,
    )
    .await?;
    audit::record(
        cx,
        tenant_id,
        "knowledge.delete",
        ("document", &doc.id),
        Some(json!({ "title": doc.title })),
        None,
    )
    .await?;
    Ok(Response::json(200, &doc))
}

#[derive(Serialize, JsonSchema)]
pub struct SearchResponse {
    #[serde(flatten)]
    pub result: search::SearchResult,
}

pub async fn search(cx: &Ctx, req: Request) -> ApiResult<Response> {
    crate::tenancy::flags::require(&cx.platform, cx.tenant_id()?, "knowledge_base").await?;
    let q = req.query_param("q").unwrap_or_default();
    check::text("q", &q, 1, 500)?;
    let k = match req.query_param("k") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=20).contains(k))
            .ok_or_else(|| ApiError::validation("k", "must be 1-20"))?,
        None => 5,
    };
    let tenant_id = cx.tenant_id()?;
    let (cfg, _) = tenants::config(cx.platform.db()?, tenant_id).await?;
    let e = embedder(&cx.platform, tenant_id, &cfg.ai).await?;
    let result = search::search(&cx.platform, &*e, tenant_id, &q, k).await?;
    Ok(Response::json(200, &SearchResponse { result }))
}

#[derive(Serialize, JsonSchema)]
pub struct Reindexed {
    pub model: String,
    pub documents: usize,
}

/// Re-indexes every document not indexed with the tenant's current embedding model (after a
/// provider change), so an index never mixes models.
pub async fn reindex(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?.to_string();
    let p = &cx.platform;
    let (cfg, _) = tenants::config(p.db()?, &tenant_id).await?;
    // The model the tenant's configuration asks for, whatever the current index uses.
    let target = crate::ai::retrieval::configured_embedder(p, &tenant_id, &cfg.ai, None).await?;
    let model = target.model_id();
    let ids = store::stale_documents(p.db()?, &tenant_id, &model).await?;
    for id in &ids {
        ingest::index_document(p, &*target, &tenant_id, id).await?;
    }
    // Chunks of other models are gone now; drop any leftovers and record the index model.
    p.db()?
        .batch(vec![
            crate::ports::Statement::new("DELETE FROM kb_fts WHERE tenant_id = ?1 AND chunk_id IN (SELECT id FROM kb_chunks WHERE tenant_id = ?1 AND model != ?2)", crate::params![tenant_id.as_str(), model.as_str()]),
            crate::ports::Statement::new("DELETE FROM kb_chunks WHERE tenant_id = ?1 AND model != ?2", crate::params![tenant_id.as_str(), model.as_str()]),
            store::bump(&tenant_id, &model, cx.now()),
        ])
        .await?;
    audit::record(
        cx,
        &tenant_id,
        "knowledge.reindex",
        ("knowledge_base", &tenant_id),
        None,
        Some(json!({ "model": model, "documents": ids.len() })),
    )
    .await?;
    Ok(Response::json(
        200,
        &Reindexed {
            model,
            documents: ids.len(),
        },
    ))
}
