//! What a tenant may hold and spend beyond its request rate: knowledge-base size and AI answers
//! per day. The knowledge base is bounded because its vector index is loaded into isolate memory
//! (shared with every other tenant served by that isolate); the answer quota bounds what one
//! tenant's traffic can cost in provider calls. Enterprise contracts raise them through the
//! tenant's limit overrides, within [`MAX_KB_CHUNKS`].

use crate::error::{ApiError, ErrorCode};
use crate::ratelimit::LimitOverrides;
use crate::tenancy::Tier;

/// The most chunks any tenant's index may hold (about 44 MB of vectors in memory).
pub const MAX_KB_CHUNKS: i64 = 50_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub kb_documents: i64,
    pub kb_chunks: i64,
    /// Answers from paid providers per UTC day; beyond it the offline responder answers.
    pub ai_answers_per_day: i64,
}

impl Quotas {
    pub fn for_tier(tier: Tier, overrides: Option<&LimitOverrides>) -> Quotas {
        let base = match tier {
            Tier::Free => Quotas {
                kb_documents: 50,
                kb_chunks: 1_000,
                ai_answers_per_day: 200,
            },
            Tier::Pro => Quotas {
                kb_documents: 1_000,
                kb_chunks: 10_000,
                ai_answers_per_day: 5_000,
            },
            Tier::Enterprise => Quotas {
                kb_documents: 10_000,
                kb_chunks: MAX_KB_CHUNKS,
                ai_answers_per_day: 50_000,
            },
        };
        let Some(o) = overrides else { return base };
        Quotas {
            kb_documents: o.kb_documents.unwrap_or(base.kb_documents),
            kb_chunks: o.kb_chunks.unwrap_or(base.kb_chunks).min(MAX_KB_CHUNKS),
            ai_answers_per_day: o.ai_answers_per_day.unwrap_or(base.ai_answers_per_day),
        }
    }
}

/// The error a caller gets at a quota: stable code, what was exceeded, how to get more.
pub fn exceeded(what: &str, limit: i64) -> ApiError {
    ApiError::new(
        ErrorCode::QuotaExceeded,
        format!("this tenant's plan allows {limit} {what}; delete some or upgrade the plan"),
    )
}
