//! What a push carries: a lead's fields under the CRM's property names (defaults per
//! provider, overridden or extended by the tenant's `crm` config), and a transcript.

use super::Provider;
use crate::leads::{Lead, Stage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Our side of a mapping.
pub const SOURCES: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "stage",
    "score",
    "source",
];

/// The tenant's field mappings: our field → the CRM property it goes to (added to, or
/// replacing, the defaults; an empty property name drops a default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CrmConfig {
    pub hubspot_fields: BTreeMap<String, String>,
    pub salesforce_fields: BTreeMap<String, String>,
}

impl CrmConfig {
    pub fn validate(&self) -> crate::error::ApiResult<()> {
        for (name, map) in [
            ("crm.hubspot_fields", &self.hubspot_fields),
            ("crm.salesforce_fields", &self.salesforce_fields),
        ] {
            for (from, to) in map {
                let ok_to =
                    to.len() <= 100 && to.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !SOURCES.contains(&from.as_str()) || !ok_to {
                    return Err(crate::error::ApiError::validation(
                        name,
                        "keys: first_name, last_name, email, phone, company, stage, score, source; values: property names (letters, digits, _)",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn defaults(provider: Provider) -> BTreeMap<&'static str, &'static str> {
    match provider {
        Provider::Hubspot => BTreeMap::from([
            ("first_name", "firstname"),
            ("last_name", "lastname"),
            ("email", "email"),
            ("phone", "phone"),
            ("company", "company"),
            ("stage", "hs_lead_status"),
        ]),
        Provider::Salesforce => BTreeMap::from([
            ("first_name", "FirstName"),
            ("last_name", "LastName"),
            ("email", "Email"),
            ("phone", "Phone"),
            ("company", "Company"),
            ("stage", "Status"),
            ("source", "LeadSource"),
        ]),
    }
}

/// A stage in each CRM's standard picklist.
fn stage_value(provider: Provider, s: Stage) -> &'static str {
    match (provider, s) {
        (Provider::Hubspot, Stage::New) => "NEW",
        (Provider::Hubspot, Stage::Qualified) => "OPEN",
        (Provider::Hubspot, Stage::Contacted) => "CONNECTED",
        (Provider::Hubspot, Stage::Won) => "OPEN_DEAL",
        (Provider::Hubspot, Stage::Lost) => "UNQUALIFIED",
        (Provider::Salesforce, Stage::New | Stage::Qualified) => "Open - Not Contacted",
        (Provider::Salesforce, Stage::Contacted) => "Working - Contacted",
        (Provider::Salesforce, Stage::Won) => "Closed - Converted",
        (Provider::Salesforce, Stage::Lost) => "Closed - Not Converted",
    }
}

/// "Ada King Lovelace" → ("Ada King", "Lovelace"); one word is a last name.
pub fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (Some(first.trim().to_string()), Some(last.to_string())),
        None if name.is_empty() => (None, None),
        None => (None, Some(name.to_string())),
    }
}

/// The lead's properties for `provider`.
pub fn properties(provider: Provider, cfg: &CrmConfig, lead: &Lead) -> Map<String, Value> {
    let mut map: BTreeMap<String, String> = defaults(provider)
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let custom = match provider {
        Provider::Hubspot => &cfg.hubspot_fields,
        Provider::Salesforce => &cfg.salesforce_fields,
    };
    map.extend(custom.clone());
    let (first, last) = lead.name.as_deref().map(split_name).unwrap_or((None, None));
    let mut out = Map::new();
    for (from, to) in map {
        if to.is_empty() {
            continue;
        }
        let value: Option<Value> = match from.as_str() {
            "first_name" => first.clone().map(Value::from),
            "last_name" => last.clone().map(Value::from),
            "email" => lead.email.clone().map(Value::from),
            "phone" => lead.phone.clone().map(Value::from),
            "company" => lead.company.clone().map(Value::from),
            "stage" => Some(stage_value(provider, lead.stage).into()),
            "score" => Some(lead.score.into()),
            "source" => Some("PrismAI chat".into()),
            _ => None,
        };
        if let Some(v) = value {
            out.insert(to, v);
        }
    }
    if provider == Provider::Salesforce {
        // Salesforce requires both on a Lead.
        out.entry("LastName").or_insert_with(|| {
            lead.email
                .clone()
                .or(lead.phone.clone())
                .unwrap_or_else(|| "Unknown".into())
                .into()
        });
        out.entry("Company")
            .or_insert_with(|| "[not provided]".into());
    }
    out
}

/// A conversation as one note: who said what, oldest first, within `max` characters.
pub fn transcript(title: &str, lines: &[(String, String)], max: usize) -> String {
    let mut out = format!("{title}\n\n");
    for (who, text) in lines {
        let line = format!("{who}: {text}\n");
        if out.len() + line.len() > max {
            out.push_str("…\n");
            break;
        }
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_and_salesforce_gets_its_required_fields() {
        assert_eq!(
            split_name("Ada King Lovelace"),
            (Some("Ada King".into()), Some("Lovelace".into()))
        );
        assert_eq!(split_name("Cher"), (None, Some("Cher".into())));
        assert_eq!(split_name("  "), (None, None));
        assert!(CrmConfig {
            hubspot_fields: BTreeMap::from([("score".into(), "prism_score".into())]),
            ..Default::default()
        }
        .validate()
        .is_ok());
        assert!(CrmConfig {
            hubspot_fields: BTreeMap::from([("score".into(), "x; drop".into())]),
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(CrmConfig {
            salesforce_fields: BTreeMap::from([("password".into(), "X".into())]),
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
