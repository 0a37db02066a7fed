//! CRM sync: a tenant connects its HubSpot or Salesforce account (OAuth 2.0, tokens sealed at
//! rest and refreshed), and its leads are pushed as contacts / leads and its resolved
//! conversations as notes / tasks on them. Every push goes through a job row (`crm_jobs`,
//! drained by the queue and the cron sweep like webhook deliveries) and every created remote
//! record is remembered (`crm_links`), so a retry updates instead of creating a duplicate.
//!
//! - [`connection`]: the per-tenant connection, its OAuth flow and tokens.
//! - [`jobs`]: queuing a lead or transcript push, claiming, retrying.
//! - [`hubspot`], [`salesforce`]: each API's wire format.
//! - [`record`]: what is pushed (a lead's fields, a transcript), mapped per provider.

pub mod connection;
pub mod hubspot;
pub mod jobs;
pub mod record;
pub mod salesforce;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Hubspot,
    Salesforce,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Hubspot, Provider::Salesforce];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Hubspot => "hubspot",
            Provider::Salesforce => "salesforce",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What a push failed with: worth retrying (network, 429, 5xx, an expired token refreshed
/// meanwhile) or not (the CRM refused the record).
#[derive(Debug)]
pub enum PushError {
    Retry(String),
    Refused(String),
    /// The access token was refused: refresh it and try once more.
    Unauthorized,
}

impl PushError {
    pub fn message(&self) -> String {
        match self {
            PushError::Retry(m) | PushError::Refused(m) => m.clone(),
            PushError::Unauthorized => "the CRM refused the access token".into(),
        }
    }
}

/// Maps an HTTP answer to the push outcome.
pub(crate) fn classify(status: u16, body: &str) -> PushError {
    let snippet: String = body.chars().take(300).collect();
    match status {
        401 => PushError::Unauthorized,
        408 | 429 | 500..=599 => PushError::Retry(format!("{status}: {snippet}")),
        _ => PushError::Refused(format!("{status}: {snippet}")),
    }
}
