//! The tenant's knowledge base: documents, heading-aware chunking, embeddings (a built-in
//! deterministic embedder, or a provider's), an in-worker quantised vector index, keyword
//! search and hybrid retrieval.

pub mod cache;
pub mod chunk;
pub mod embed;
pub mod extract;
pub mod generic;
pub mod ingest;
pub mod keywords;
pub mod lexicon;
pub mod query;
pub mod search;
pub mod store;
pub mod text;
pub mod thesaurus;
pub mod vectors;
pub mod vocab;
