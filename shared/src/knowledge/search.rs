//! Hybrid retrieval: vector similarity (in the worker, over the tenant's cached index) and
//! keyword search (SQLite FTS5 with BM25), fused with reciprocal rank fusion. Tenant-scoped at
//! every step.

use super::embed::{Embedder, Purpose};
use super::query::Query;
use super::store::{self, Passage};
use super::text;
use crate::error::ApiResult;
use crate::platform::Platform;
use schemars::JsonSchema;
use serde::Serialize;
use std::rc::Rc;

/// Reciprocal rank fusion constant. The usual 60 comes from fusing lists of a thousand; over
/// two lists of [`PER_RETRIEVER`] a smaller constant lets a passage both retrievers put near the
/// top lead by more. Tuning half of `scripts/eval/questions.json`: 10–30 the same (one
/// out-of-scope question declined instead of answered with a hub's opening hours), 40–60 not.
const RRF_K: f64 = 20.0;
/// Candidates taken from each retriever before fusion.
const PER_RETRIEVER: usize = 20;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Hit {
    #[serde(flatten)]
    pub passage: Passage,
    /// Fused score (higher is better).
    pub score: f64,
    /// Cosine similarity to the question, when the vector search found it.
    pub similarity: Option<f32>,
    /// Rank in the keyword search (1 = best), when it found it.
    pub keyword_rank: Option<usize>,
}

impl SearchResult {
    /// No passages (the knowledge base is switched off).
    pub fn empty() -> SearchResult {
        SearchResult {
            hits: Vec::new(),
            confidence: 0.0,
            model: None,
            kb_version: 0,
            query: Query::default(),
        }
    }
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    /// How sure retrieval is that the best hit answers the question (0..1): the best hit's
    /// similarity, raised when keyword search agrees.
    pub confidence: f32,
    pub model: Option<String>,
    pub kb_version: i64,
    /// The question as retrieval read it (for the built-in responder).
    #[serde(skip)]
    #[schemars(skip)]
    pub query: Query,
}

/// Turns free text into a safe FTS5 query: quoted terms OR-ed together (no operators from the
/// user reach FTS5 syntax).
pub fn fts_query(q: &str) -> String {
    query_words(q)
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The words keyword search looks for: the question's words but stopwords and single letters,
/// each once, at most 32.
pub fn query_words(q: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for w in text::words(q) {
        if text::STOPWORDS.contains(&w.as_str()) || w.len() < 2 || seen.contains(&w) {
            continue;
        }
        seen.push(w);
        if seen.len() == 32 {
            break;
        }
    }
    seen
}

/// Searches a tenant's knowledge base with an embedder for the index's model.
pub async fn search(
    p: &Platform,
    embedder: &dyn Embedder,
    tenant_id: &str,
    query: &str,
    k: usize,
) -> ApiResult<SearchResult> {
    let db = p.db()?;
    let Some((version, model)) = store::state(db, tenant_id).await? else {
        return Ok(SearchResult {
            hits: Vec::new(),
            confidence: 0.0,
            model: None,
            kb_version: 0,
            query: super::query::understand(query, None),
        });
    };
    // The tenant's index (and with it the vocabulary the question is read against).
    let index = match p.vectors.get(tenant_id, version, &model) {
        Some(i) => i,
        None => {
            let i = Rc::new(store::load_index(db, tenant_id, &model).await?);
            p.vectors.put(tenant_id, version, &model, i.clone());
            i
        }
    };
    // Foreign function words out; English support vocabulary, synonyms and typo corrections in
    // (the built-in embedder and the keyword index only know the knowledge base's words; a
    // provider's embedder gets the customer's own words).
    let understood = super::query::understand(query, Some(&index.vocab).filter(|v| !v.is_empty()));
    let prepared = understood.search_text.clone();
    let for_vectors = if model == super::embed::LOCAL_MODEL {
        prepared.as_str()
    } else {
        query
    };
    // Vector side, only when the embedder matches the index's model (never mix models).
    let mut vector_hits: Vec<(i64, f32)> = Vec::new();
    if embedder.model_id() == model && !index.is_empty() {
        let q = embedder
            .embed(&[for_vectors.to_string()], Purpose::Query)
            .await?;
        if let Some(qv) = q.first() {
            vector_hits = index.search(qv, PER_RETRIEVER);
        }
    }
    // Ranked from the tenant's own statistics when its passages are held in memory (see
    // `keywords`); FTS5's, which are every tenant's together, only for the largest.
    let keyword_hits = if index.keywords.is_empty() {
        store::keyword_search(db, tenant_id, &fts_query(&prepared), PER_RETRIEVER as u32).await?
    } else {
        index
            .keywords
            .search(&query_words(&prepared), PER_RETRIEVER)
    };

    let mut fused: Vec<(i64, f64, Option<f32>, Option<usize>)> = Vec::new();
    for (rank, (id, sim)) in vector_hits.iter().enumerate() {
        fused.push((*id, 1.0 / (RRF_K + rank as f64 + 1.0), Some(*sim), None));
    }
    for (rank, id) in keyword_hits.iter().enumerate() {
        let add = 1.0 / (RRF_K + rank as f64 + 1.0);
        match fused.iter_mut().find(|f| f.0 == *id) {
            Some(f) => {
                f.1 += add;
                f.3 = Some(rank + 1);
            }
            None => fused.push((*id, add, None, Some(rank + 1))),
        }
    }
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused.truncate(k);
    let ids: Vec<i64> = fused.iter().map(|f| f.0).collect();
    let passages = store::passages(db, tenant_id, &ids).await?;
    let hits: Vec<Hit> = fused
        .iter()
        .filter_map(|(id, score, sim, kw)| {
            passages.iter().find(|p| p.chunk_id == *id).map(|p| Hit {
                passage: p.clone(),
                score: *score,
                similarity: *sim,
                keyword_rank: *kw,
            })
        })
        .collect();
    // With the built-in embedder, similarities run low for short questions; how much of the
    // question the best passage holds is the better signal there.
    let coverage = hits.first().map_or(0.0, |h| {
        let terms =
            super::query::PassageTerms::new(&h.passage.title, &h.passage.heading, &h.passage.text);
        understood.coverage(&terms, &terms.body)
    });
    let confidence = confidence(&hits).max(coverage);
    Ok(SearchResult {
        hits,
        confidence,
        model: Some(model),
        kb_version: version,
        query: understood,
    })
}

fn confidence(hits: &[Hit]) -> f32 {
    let Some(best) = hits.first() else { return 0.0 };
    let sim = best.similarity.unwrap_or(0.0).max(0.0);
    let agreement = if best.similarity.is_some() && best.keyword_rank.is_some() {
        0.15
    } else {
        0.0
    };
    let keyword_only = if best.similarity.is_none() && best.keyword_rank == Some(1) {
        0.3
    } else {
        0.0
    };
    (sim + agreement + keyword_only).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_are_quoted_terms_only() {
        assert_eq!(
            fts_query("How do I return \"shoes\" OR NEAR(x)?"),
            "\"return\" OR \"shoes\" OR \"near\""
        );
        assert_eq!(fts_query("the and of"), "");
    }
}
