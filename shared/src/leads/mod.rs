//! Leads: the people a tenant might sell to, found in its conversations. A lead is one person
//! (a customer and the same email or phone on other channels), captured by the API, by the
//! widget's pre-chat form, or from what a customer writes (an email address, a phone number,
//! buying intent); scored by the tenant's rules with every point explained; moved through
//! stages with a history; qualified leads routed to a sales agent and announced.
//!
//! - [`store`]: the lead record, stages and their history, the one merge rule.
//! - [`capture`]: what in a customer's message makes a lead (patterns, intent).
//! - [`scoring`]: the tenant's rules and the facts they look at.
//! - [`routing`]: who gets a qualified lead (territory, then the least-loaded sales agent).
//! - [`csv`]: the export.

pub mod capture;
pub mod csv;
pub mod routing;
pub mod scoring;
pub mod store;

pub use store::{Lead, Stage};

use crate::error::ApiResult;
use crate::platform::Platform;

/// Leads work only while the tenant's `leads` flag is on (API, capture, console).
pub async fn enabled(p: &Platform, tenant_id: &str) -> ApiResult<bool> {
    crate::tenancy::flags::enabled(p, tenant_id, "leads").await
}

pub async fn require_enabled(p: &Platform, tenant_id: &str) -> ApiResult<()> {
    crate::tenancy::flags::require(p, tenant_id, "leads").await
}
