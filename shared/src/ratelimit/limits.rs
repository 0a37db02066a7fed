//! Limits per tier (the product spec's defaults) and per-tenant overrides.

use crate::error::{ApiError, ApiResult};
use crate::tenancy::Tier;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `count` requests per `period_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub count: u32,
    pub period_ms: i64,
}

/// A limit as tenants and admins write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    pub count: u32,
    pub period_secs: u32,
}

impl From<LimitSpec> for Limit {
    fn from(s: LimitSpec) -> Limit {
        Limit {
            count: s.count,
            period_ms: s.period_secs as i64 * 1000,
        }
    }
}

/// Per-tenant overrides set by the platform admin (enterprise contracts, tests).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Tenant-wide request quota (all credentials together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<LimitSpec>,
    /// Burst limit per API key or agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<LimitSpec>,
    /// Burst limit per visitor IP on public widget routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<LimitSpec>,
    /// Tenant-wide quota of anonymous traffic (widget visitors and customers), kept apart from
    /// `tenant` so visitors cannot exhaust the agents' and API's budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<LimitSpec>,
    /// Conversations one visitor address may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_starts: Option<LimitSpec>,
    /// Knowledge-base documents (see `tenancy::quotas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb_documents: Option<i64>,
    /// Knowledge-base chunks, at most `tenancy::quotas::MAX_KB_CHUNKS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb_chunks: Option<i64>,
    /// AI answers from paid providers per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_answers_per_day: Option<i64>,
}

impl LimitOverrides {
    pub fn validate(&self) -> ApiResult<()> {
        for (name, spec) in [
            ("tenant", self.tenant),
            ("credential", self.credential),
            ("visitor", self.visitor),
            ("anonymous", self.anonymous),
            ("conversation_starts", self.conversation_starts),
        ] {
            if let Some(s) = spec {
                if s.count == 0 || s.count > 10_000_000 {
                    return Err(ApiError::validation(
                        format!("limits.{name}.count"),
                        "must be 1-10000000",
                    ));
                }
                if s.period_secs == 0 || s.period_secs > 31 * 86_400 {
                    return Err(ApiError::validation(
                        format!("limits.{name}.period_secs"),
                        "must be 1 second to 31 days",
                    ));
                }
            }
        }
        for (name, v, max) in [
            ("kb_documents", self.kb_documents, 1_000_000),
            (
                "kb_chunks",
                self.kb_chunks,
                crate::tenancy::quotas::MAX_KB_CHUNKS,
            ),
            ("ai_answers_per_day", self.ai_answers_per_day, 10_000_000),
        ] {
            if v.is_some_and(|v| !(0..=max).contains(&v)) {
                return Err(ApiError::validation(
                    format!("limits.{name}"),
                    format!("must be 0-{max}"),
                ));
            }
        }
        Ok(())
    }
}

/// The limits in force for one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Authenticated requests (secret keys, agents), tenant-wide.
    pub tenant: Limit,
    pub credential: Limit,
    pub visitor: Limit,
    /// Anonymous requests (widget visitors, customers' conversation tokens), tenant-wide.
    pub anonymous: Limit,
    /// Conversations started per visitor address.
    pub conversation_starts: Limit,
}

const HOUR: i64 = 3_600_000;

/// Verified webhooks per tenant and provider (any tier): far above what a provider sends for
/// one business, low enough that a leaked provider secret cannot flood its conversations.
pub const WEBHOOKS: Limit = Limit {
    count: 1_200,
    period_ms: 60_000,
};

impl RateLimits {
    /// Defaults by tier: Free 100 requests/hour, Pro 1,000/hour, Enterprise 10,000/hour unless
    /// its contract sets another — once for authenticated and once for anonymous traffic — plus
    /// short burst limits per credential and per visitor, and conversation starts per visitor.
    /// Long on purpose: it is the tier table, one literal per tier, kept in one place so a
    /// reader compares tiers side by side.
    pub fn for_tier(tier: Tier, overrides: Option<&LimitOverrides>) -> RateLimits {
        let base = match tier {
            Tier::Free => RateLimits {
                tenant: Limit {
                    count: 100,
                    period_ms: HOUR,
                },
                credential: Limit {
                    count: 20,
                    period_ms: 10_000,
                },
                visitor: Limit {
                    count: 30,
                    period_ms: 60_000,
                },
                anonymous: Limit {
                    count: 100,
                    period_ms: HOUR,
                },
                conversation_starts: Limit {
                    count: 10,
                    period_ms: HOUR,
                },
            },
            Tier::Pro => RateLimits {
                tenant: Limit {
                    count: 1_000,
                    period_ms: HOUR,
                },
                credential: Limit {
                    count: 50,
                    period_ms: 10_000,
                },
                visitor: Limit {
                    count: 60,
                    period_ms: 60_000,
                },
                anonymous: Limit {
                    count: 1_000,
                    period_ms: HOUR,
                },
                conversation_starts: Limit {
                    count: 30,
                    period_ms: HOUR,
                },
            },
            Tier::Enterprise => RateLimits {
                tenant: Limit {
                    count: 10_000,
                    period_ms: HOUR,
                },
                credential: Limit {
                    count: 200,
                    period_ms: 10_000,
                },
                visitor: Limit {
                    count: 120,
                    period_ms: 60_000,
                },
                anonymous: Limit {
                    count: 10_000,
                    period_ms: HOUR,
                },
                conversation_starts: Limit {
                    count: 60,
                    period_ms: HOUR,
                },
            },
        };
        let Some(o) = overrides else { return base };
        RateLimits {
            tenant: o.tenant.map(Into::into).unwrap_or(base.tenant),
            credential: o.credential.map(Into::into).unwrap_or(base.credential),
            visitor: o.visitor.map(Into::into).unwrap_or(base.visitor),
            anonymous: o.anonymous.map(Into::into).unwrap_or(base.anonymous),
            conversation_starts: o
                .conversation_starts
                .map(Into::into)
                .unwrap_or(base.conversation_starts),
        }
    }
}
