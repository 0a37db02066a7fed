//! Who gets a qualified lead: the owner of the first territory that matches the lead (a phone
//! prefix such as `+44`, or an email ending such as `.de` or `@bigco.example`), else the
//! active sales agent (skill `sales`) holding the fewest open leads — round-robin by load, so
//! a new agent catches up and an absent one is not buried. The owner is told by email.

use super::store::Lead;
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Territory {
    /// `+44` (phone prefix) or `.de`, `@bigco.example` (email ending).
    #[serde(rename = "match")]
    pub pattern: String,
    pub owner_id: String,
}

impl Territory {
    fn matches(&self, lead: &Lead) -> bool {
        let p = self.pattern.to_ascii_lowercase();
        if p.starts_with('+') {
            lead.phone.as_deref().is_some_and(|ph| ph.starts_with(&p))
        } else {
            lead.email
                .as_deref()
                .is_some_and(|e| e.to_ascii_lowercase().ends_with(&p))
        }
    }
}

/// The skill that makes an agent a sales agent.
pub const SALES_SKILL: &str = "sales";

pub async fn route(p: &Platform, tenant_id: &str, lead: &Lead) -> ApiResult<Option<String>> {
    let db = p.db()?;
    let (cfg, _) = crate::tenancy::store::config(db, tenant_id).await?;
    for t in &cfg.leads.territories {
        if t.matches(lead) {
            let active = db
                .query(
                    "SELECT id FROM users WHERE tenant_id = ?1 AND id = ?2 AND status = 'active'",
                    &params![tenant_id, t.owner_id.as_str()],
                )
                .await?;
            if !active.is_empty() {
                return Ok(Some(t.owner_id.clone()));
            }
        }
    }
    let rows = db
        .query(
            "SELECT u.id, (SELECT COUNT(*) FROM leads l WHERE l.tenant_id = u.tenant_id AND l.owner_id = u.id
                             AND l.stage IN ('qualified', 'contacted')) AS load
             FROM users u, json_each(u.skills) s
             WHERE u.tenant_id = ?1 AND u.status = 'active' AND u.role != 'viewer' AND s.value = ?2
             ORDER BY load, u.id LIMIT 1",
            &params![tenant_id, SALES_SKILL],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.text("id")))
}

/// Tells the new owner by email (best effort: the lead is theirs whether or not mail goes out).
pub async fn notify(p: &Platform, tenant_id: &str, owner_id: &str, lead: &Lead) {
    let result = async {
        let user = crate::users::store::get(p.db()?, tenant_id, owner_id).await?;
        let who = lead
            .name
            .clone()
            .or(lead.email.clone())
            .or(lead.phone.clone())
            .unwrap_or_else(|| "A new lead".into());
        let console = match p.config.get("public_base_url") {
            Some(base) => format!("{}/console", base.trim_end_matches('/')),
            None => "the console".into(),
        };
        let text = format!(
            "{who} is yours (score {}).\n\nEmail: {}\nPhone: {}\nCompany: {}\n\nFollow up from {console}.\n",
            lead.score,
            lead.email.as_deref().unwrap_or("-"),
            lead.phone.as_deref().unwrap_or("-"),
            lead.company.as_deref().unwrap_or("-"),
        );
        crate::mail::send(
            p,
            tenant_id,
            &crate::mail::Letter {
                to: &user.email,
                subject: &format!("New lead for you: {who}"),
                text: &text,
                idempotency_key: &format!("lead-owner-{}-{owner_id}", lead.id),
            },
        )
        .await
    }
    .await;
    if let Err(e) = result {
        p.log.log(
            &json!({"level": "warn", "msg": "lead owner not notified", "lead": lead.id, "error": e.message})
                .to_string(),
        );
    }
}
