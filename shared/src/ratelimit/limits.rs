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
}

impl LimitOverrides {
    pub fn validate(&self) -> ApiResult<()> {
        for (name, spec) in [
            ("tenant", self.tenant),
            ("credential", self.credential),
            ("visitor", self.visitor),
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
        Ok(())
    }
}

/// The limits in force for one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub tenant: Limit,
    pub credential: Limit,
    pub visitor: Limit,
}

const HOUR: i64 = 3_600_000;

impl RateLimits {
    /// Defaults by tier: Free 100 requests/hour, Pro 1,000/hour, Enterprise 10,000/hour unless
    /// its contract sets another, plus short burst limits per credential and per visitor.
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
            },
        };
        let Some(o) = overrides else { return base };
        RateLimits {
            tenant: o.tenant.map(Into::into).unwrap_or(base.tenant),
            credential: o.credential.map(Into::into).unwrap_or(base.credential),
            visitor: o.visitor.map(Into::into).unwrap_or(base.visitor),
        }
    }
}
