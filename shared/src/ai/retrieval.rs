//! Retrieval for answers: the embedder that matches the tenant's index (so queries and stored
//! vectors come from the same model), and the hybrid search with a keyword-only fallback.

use super::config::{self, AiConfig, Resolved};
use super::providers::ProviderKind;
use crate::error::ApiResult;
use crate::knowledge::embed::{Embedder, LocalEmbedder, LOCAL_MODEL};
use crate::knowledge::search::{self, SearchResult};
use crate::platform::Platform;

/// The embedder for the tenant's index (so queries match the stored vectors' model).
pub async fn embedder(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
) -> ApiResult<Box<dyn Embedder>> {
    let index_model = crate::knowledge::store::state(p.db()?, tenant_id)
        .await?
        .map(|(_, m)| m);
    configured_embedder(p, tenant_id, ai, index_model.as_deref()).await
}

/// The embedder for `index_model` when an index exists, else the one the configuration asks for
/// (its `embedding` provider, or the first remote provider with a key, or the built-in one).
pub async fn configured_embedder(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
    index_model: Option<&str>,
) -> ApiResult<Box<dyn Embedder>> {
    let providers = config::resolve(p, tenant_id, ai).await?;
    let wanted = match (index_model, ai.embedding) {
        (Some(m), _) if m == LOCAL_MODEL => None,
        (Some(m), _) if m.starts_with(super::providers::gemini::EMBEDDING_MODEL) => {
            providers.iter().find(|r| r.kind == ProviderKind::Gemini)
        }
        (Some(_), _) => providers.iter().find(|r| r.kind == ProviderKind::Openai),
        (None, Some(ProviderKind::Offline)) => None,
        (None, Some(kind)) => providers.iter().find(|r| r.kind == kind),
        (None, None) => providers.first(),
    };
    Ok(match (wanted, p.http.clone()) {
        (Some(r), Some(http)) => remote_embedder(r, http, p),
        _ => Box::new(LocalEmbedder),
    })
}

fn remote_embedder(
    r: &Resolved,
    http: std::rc::Rc<dyn crate::ports::HttpClient>,
    p: &Platform,
) -> Box<dyn Embedder> {
    let c = &p.config;
    match r.kind {
        ProviderKind::Gemini => Box::new(super::providers::gemini::GeminiEmbedder {
            http,
            timer: p.timer.clone(),
            base_url: r.base_url.clone(),
            api_key: r.api_key.clone(),
        }),
        _ => Box::new(super::providers::openai::OpenAiEmbedder {
            http,
            timer: p.timer.clone(),
            base_url: r.base_url.clone(),
            api_key: r.api_key.clone(),
            model: c
                .get("openai_embedding_model")
                .unwrap_or(super::providers::openai::DEFAULT_EMBEDDING_MODEL)
                .to_string(),
        }),
    }
}

/// Knowledge retrieval for one question, falling back to keyword search when embedding fails.
pub async fn retrieve(
    p: &Platform,
    tenant_id: &str,
    ai: &AiConfig,
    q: &str,
) -> ApiResult<SearchResult> {
    let e = embedder(p, tenant_id, ai).await?;
    match search::search(p, &*e, tenant_id, q, 5).await {
        Ok(r) => Ok(r),
        // An embedding provider failure must not silence the assistant: keyword search alone.
        Err(_) => search::search(p, &LocalEmbedder, tenant_id, q, 5).await,
    }
}
