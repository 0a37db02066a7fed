//! Rate limiting: the GCRA algorithm (pure, tested with a hand-moved clock), tier defaults,
//! and the multi-bucket check a tenant's gate object runs atomically.

pub mod gcra;
pub mod limits;

pub use gcra::{Bucket, Decision};
pub use limits::{Limit, LimitOverrides, RateLimits};
