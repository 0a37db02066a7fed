//! AI answers grounded in the tenant's knowledge base: providers (Gemini, OpenAI-compatible,
//! the offline responder) behind one streaming interface, resilience (timeouts, retries,
//! circuit breaker, fallback), prompts that treat retrieved passages as data, analysis,
//! escalation, caching and usage metering.

pub mod analysis;
pub mod answer;
pub mod answer_cache;
pub mod breaker;
pub mod config;
pub mod handoff;
pub mod images;
pub mod oneshot;
pub mod phrases;
pub mod prompt;
pub mod providers;
pub mod resilience;
pub mod retrieval;
pub mod sse_parse;
pub mod translate;
pub mod usage;
