//! The lead record. One lead per person: a new capture for a customer, or for anyone with the
//! same email or phone, merges into the existing lead instead of adding a second.

use super::scoring::{self, ScoreReason};
use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::outgoing::events::EventType;
use crate::params;
use crate::platform::Platform;
use crate::ports::Row;
use crate::records::{self, FromRow, Listed};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Where a lead is in the sales process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    Qualified,
    Contacted,
    Won,
    Lost,
}

impl Stage {
    pub const NAMES: &'static [&'static str] = &["new", "qualified", "contacted", "won", "lost"];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Qualified => "qualified",
            Stage::Contacted => "contacted",
            Stage::Won => "won",
            Stage::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        [
            Stage::New,
            Stage::Qualified,
            Stage::Contacted,
            Stage::Won,
            Stage::Lost,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The consent the person gave in the pre-chat form, with the tenant's wording at the time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Consent {
    pub text: String,
    pub at: i64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Lead {
    pub id: String,
    pub customer_id: String,
    /// The conversation the lead was first captured in.
    pub conversation_id: Option<String>,
    /// The channel it came from.
    pub channel: Option<Channel>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// `purchase` once the person showed buying intent.
    pub intent: Option<String>,
    /// `form`, `conversation` or `api`.
    pub source: String,
    pub stage: Stage,
    pub score: i64,
    /// Which rules gave which points.
    pub score_reasons: Vec<ScoreReason>,
    /// The sales agent it is routed to.
    pub owner_id: Option<String>,
    pub consent: Option<Consent>,
    /// Details the AI read in the person's messages, waiting for an agent to accept them
    /// (`PATCH … {"accept": ["name"]}`) or reject them.
    pub proposed: std::collections::BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, customer_id, conversation_id, channel, name, email, phone, company, intent, source, stage,
  score, score_reasons, owner_id, consent_text, consent_at, proposed, created_at, updated_at";

impl FromRow for Lead {
    fn from_row(r: &Row) -> ApiResult<Lead> {
        Ok(Lead {
            id: r
                .text("id")
                .ok_or_else(|| ApiError::internal("corrupt lead row"))?,
            customer_id: r.text("customer_id").unwrap_or_default(),
            conversation_id: r.text("conversation_id"),
            channel: r.text("channel").as_deref().and_then(Channel::parse),
            name: r.text("name"),
            email: r.text("email"),
            phone: r.text("phone"),
            company: r.text("company"),
            intent: r.text("intent"),
            source: r.text("source").unwrap_or_default(),
            stage: Stage::parse(&r.text("stage").unwrap_or_default()).unwrap_or(Stage::New),
            score: r.int("score").unwrap_or(0),
            score_reasons: r
                .text("score_reasons")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            owner_id: r.text("owner_id"),
            consent: match (r.text("consent_text"), r.int("consent_at")) {
                (Some(text), Some(at)) => Some(Consent { text, at }),
                _ => None,
            },
            proposed: r
                .text("proposed")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
    }
}

impl Listed for Lead {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

/// One stage change, as the lead's history shows it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StageChange {
    pub from: Option<Stage>,
    pub to: Stage,
    /// `user:<id>`, `key:<id>` or `system` (automatic qualification).
    pub by: String,
    pub at: i64,
}

/// A lead with its stage history, oldest first.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: Lead,
    pub history: Vec<StageChange>,
}

/// What a capture knows about the person (absent fields are left as they are).
#[derive(Clone, Debug, Default)]
pub struct Capture {
    pub customer_id: String,
    pub conversation_id: Option<String>,
    pub channel: Option<Channel>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub intent: Option<String>,
    pub source: &'static str,
    pub consent: Option<Consent>,
    /// Given values replace the lead's (an agent's or the API's edit) instead of only filling
    /// what is missing (what a message revealed).
    pub overwrite: bool,
}

pub async fn get(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Lead> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS} FROM leads WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("lead"))
}

pub async fn detail(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<LeadDetail> {
    let lead = get(p, tenant_id, id).await?;
    let rows = p
        .db()?
        .query(
            "SELECT from_stage, to_stage, actor, at FROM lead_stage_history WHERE tenant_id = ?1 AND lead_id = ?2 ORDER BY at, rowid",
            &params![tenant_id, id],
        )
        .await?;
    let history = rows
        .iter()
        .map(|r| StageChange {
            from: r.text("from_stage").as_deref().and_then(Stage::parse),
            to: Stage::parse(&r.text("to_stage").unwrap_or_default()).unwrap_or(Stage::New),
            by: r.text("actor").unwrap_or_default(),
            at: r.int("at").unwrap_or(0),
        })
        .collect();
    Ok(LeadDetail { lead, history })
}

/// The person's lead: by customer, else by the same email or phone.
async fn find_for(p: &Platform, tenant_id: &str, c: &Capture) -> ApiResult<Option<Lead>> {
    let rows = p
        .db()?
        .query(
            &format!(
                "SELECT {COLUMNS} FROM leads WHERE tenant_id = ?1
                   AND (customer_id = ?2 OR (?3 IS NOT NULL AND email = ?3) OR (?4 IS NOT NULL AND phone = ?4))
                 ORDER BY CASE WHEN customer_id = ?2 THEN 0 ELSE 1 END, created_at LIMIT 1"
            ),
            &params![tenant_id, c.customer_id.as_str(), c.email.as_deref(), c.phone.as_deref()],
        )
        .await?;
    records::first(&rows)
}

/// Creates the person's lead or merges what is new into it, rescores it, qualifies and routes
/// it when the score reaches the tenant's threshold, and announces it. Returns the lead and
/// whether it was created.
pub async fn capture(p: &Platform, tenant_id: &str, c: Capture) -> ApiResult<(Lead, bool)> {
    let db = p.db()?;
    let now = p.now_ms();
    let existing = find_for(p, tenant_id, &c).await?;
    let created = existing.is_none();
    let id = match existing {
        Some(l) => {
            let pick = |new: &Option<String>, old: &Option<String>| {
                if c.overwrite {
                    new.clone().or(old.clone())
                } else {
                    old.clone().or(new.clone())
                }
            };
            let consent = c.consent.clone().or(l.consent.clone());
            db.execute(
                "UPDATE leads SET name = ?3, email = ?4, phone = ?5, company = ?6, intent = COALESCE(?7, intent),
                   consent_text = ?8, consent_at = ?9, updated_at = ?10
                 WHERE tenant_id = ?1 AND id = ?2",
                &params![
                    tenant_id, l.id.as_str(), pick(&c.name, &l.name), pick(&c.email, &l.email),
                    pick(&c.phone, &l.phone), pick(&c.company, &l.company), c.intent.as_deref(),
                    consent.as_ref().map(|x| x.text.as_str()), consent.as_ref().map(|x| x.at), now
                ],
            )
            .await?;
            l.id
        }
        None => {
            let id = new_id(&*p.random, "lead");
            // The customer's uniqueness settles a race between two captures of one person.
            db.execute(
                "INSERT INTO leads (id, tenant_id, customer_id, conversation_id, channel, name, email, phone, company, intent,
                   source, stage, score, score_reasons, consent_text, consent_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'new', 0, '[]', ?12, ?13, ?14, ?14)
                 ON CONFLICT (tenant_id, customer_id) DO NOTHING",
                &params![
                    id.as_str(), tenant_id, c.customer_id.as_str(), c.conversation_id.as_deref(),
                    c.channel.map(|ch| ch.as_str()), c.name.as_deref(), c.email.as_deref(), c.phone.as_deref(),
                    c.company.as_deref(), c.intent.as_deref(), c.source,
                    c.consent.as_ref().map(|x| x.text.as_str()), c.consent.as_ref().map(|x| x.at), now
                ],
            )
            .await?;
            match find_for(p, tenant_id, &c).await? {
                Some(l) => l.id,
                None => return Err(ApiError::internal("lead vanished")),
            }
        }
    };
    let lead = rescore(p, tenant_id, &id).await?;
    if created {
        record_history(p, tenant_id, &lead.id, None, Stage::New, "system", now).await?;
        announce(
            p,
            tenant_id,
            EventType::LeadCreated,
            &lead,
            None,
            &format!("evt_{}_created", lead.id),
        )
        .await;
    }
    let lead = qualify_if_due(p, tenant_id, lead).await?;
    crate::crm::jobs::enqueue_logged(p, tenant_id, "lead", &lead.id).await;
    Ok((lead, created))
}

/// Recomputes the score from the tenant's rules and stores it with its reasons.
pub async fn rescore(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Lead> {
    let lead = get(p, tenant_id, id).await?;
    let (cfg, _) = crate::tenancy::store::config(p.db()?, tenant_id).await?;
    let facts = scoring::facts(p, tenant_id, &lead).await?;
    let (score, reasons) = scoring::score(&cfg.leads.rules, &facts);
    p.db()?
        .execute(
            "UPDATE leads SET score = ?3, score_reasons = ?4 WHERE tenant_id = ?1 AND id = ?2",
            &params![
                tenant_id,
                id,
                score,
                serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into())
            ],
        )
        .await?;
    get(p, tenant_id, id).await
}

/// A new lead whose score reached the tenant's `leads.qualify_at` becomes qualified (and routed).
async fn qualify_if_due(p: &Platform, tenant_id: &str, lead: Lead) -> ApiResult<Lead> {
    let (cfg, _) = crate::tenancy::store::config(p.db()?, tenant_id).await?;
    let at = cfg.leads.qualify_at;
    if lead.stage == Stage::New && at > 0 && lead.score >= at as i64 {
        return set_stage(p, tenant_id, &lead.id, Stage::Qualified, "system").await;
    }
    Ok(lead)
}

/// Moves a lead to `to` (recorded in its history, announced as `lead.stage_changed`); a lead
/// that becomes qualified without an owner is routed.
pub async fn set_stage(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    to: Stage,
    actor: &str,
) -> ApiResult<Lead> {
    let lead = get(p, tenant_id, id).await?;
    if lead.stage == to {
        return Ok(lead);
    }
    let now = p.now_ms();
    let n = p
        .db()?
        .execute(
            "UPDATE leads SET stage = ?3, updated_at = ?5 WHERE tenant_id = ?1 AND id = ?2 AND stage = ?4",
            &params![tenant_id, id, to.as_str(), lead.stage.as_str(), now],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the lead changed meanwhile; read it and try again",
        ));
    }
    let from = lead.stage;
    let history_id = record_history(p, tenant_id, id, Some(from), to, actor, now).await?;
    let mut lead = get(p, tenant_id, id).await?;
    if to == Stage::Qualified && lead.owner_id.is_none() {
        if let Some(owner) = super::routing::route(p, tenant_id, &lead).await? {
            set_owner(p, tenant_id, id, Some(&owner)).await?;
            lead = get(p, tenant_id, id).await?;
        }
    }
    announce(
        p,
        tenant_id,
        EventType::LeadStageChanged,
        &lead,
        Some(json!({ "from": from, "to": to })),
        &format!("evt_{id}_{history_id}"),
    )
    .await;
    crate::crm::jobs::enqueue_logged(p, tenant_id, "lead", id).await;
    Ok(lead)
}

/// Gives the lead to a sales agent (`None` takes it back to the pool); the new owner is told
/// by email when the tenant can send one.
pub async fn set_owner(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    owner: Option<&str>,
) -> ApiResult<Lead> {
    let before = get(p, tenant_id, id).await?;
    if let Some(o) = owner {
        let user = crate::users::store::get(p.db()?, tenant_id, o)
            .await
            .map_err(|_| ApiError::validation("owner_id", "no such user in this workspace"))?;
        if user.status != crate::users::UserStatus::Active {
            return Err(ApiError::validation("owner_id", "that user is not active"));
        }
    }
    p.db()?
        .execute(
            "UPDATE leads SET owner_id = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2",
            &params![tenant_id, id, owner, p.now_ms()],
        )
        .await?;
    let lead = get(p, tenant_id, id).await?;
    if let (Some(o), true) = (owner, before.owner_id.as_deref() != owner) {
        super::routing::notify(p, tenant_id, o, &lead).await;
    }
    Ok(lead)
}

async fn record_history(
    p: &Platform,
    tenant_id: &str,
    lead_id: &str,
    from: Option<Stage>,
    to: Stage,
    actor: &str,
    now: i64,
) -> ApiResult<String> {
    let id = new_id(&*p.random, "lsc");
    p.db()?
        .execute(
            "INSERT INTO lead_stage_history (id, tenant_id, lead_id, from_stage, to_stage, actor, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &params![id.as_str(), tenant_id, lead_id, from.map(Stage::as_str), to.as_str(), actor, now],
        )
        .await?;
    Ok(id)
}

/// Announces a lead event (`outgoing::delivery::announce`).
async fn announce(
    p: &Platform,
    tenant_id: &str,
    kind: EventType,
    lead: &Lead,
    stage: Option<serde_json::Value>,
    event_id: &str,
) {
    let data = crate::outgoing::events::LeadEventData {
        lead: lead.clone(),
        stage,
    };
    crate::outgoing::delivery::announce(p, tenant_id, kind, event_id, data).await;
}

/// Adds the AI's proposals to the lead (a value equal to the lead's own is not a proposal).
pub async fn propose(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    fields: &std::collections::BTreeMap<String, String>,
) -> ApiResult<()> {
    let lead = get(p, tenant_id, id).await?;
    let mut proposed = lead.proposed.clone();
    for (k, v) in fields {
        let current = match k.as_str() {
            "name" => &lead.name,
            "email" => &lead.email,
            "phone" => &lead.phone,
            "company" => &lead.company,
            _ => continue,
        };
        if current.as_deref() != Some(v.as_str()) {
            proposed.insert(k.clone(), v.clone());
        }
    }
    if proposed != lead.proposed {
        p.db()?
            .execute(
                "UPDATE leads SET proposed = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2",
                &params![
                    tenant_id,
                    id,
                    serde_json::to_string(&proposed).unwrap_or_else(|_| "{}".into()),
                    p.now_ms()
                ],
            )
            .await?;
    }
    Ok(())
}

/// An agent's verdict on proposals: accepted ones become the lead's values, rejected ones go.
pub async fn settle_proposals(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    accept: &[String],
    reject: &[String],
) -> ApiResult<()> {
    let lead = get(p, tenant_id, id).await?;
    let mut proposed = lead.proposed.clone();
    let mut take = |f: &str| -> Option<String> {
        if accept.iter().any(|a| a == f) {
            proposed.remove(f)
        } else {
            None
        }
    };
    let (name, email, phone, company) =
        (take("name"), take("email"), take("phone"), take("company"));
    for r in reject {
        proposed.remove(r);
    }
    for f in accept.iter().chain(reject) {
        if !super::scoring::FIELDS.contains(&f.as_str()) {
            return Err(ApiError::validation(
                "accept",
                "name, email, phone or company",
            ));
        }
    }
    p.db()?
        .execute(
            "UPDATE leads SET proposed = ?3 WHERE tenant_id = ?1 AND id = ?2",
            &params![
                tenant_id,
                id,
                serde_json::to_string(&proposed).unwrap_or_else(|_| "{}".into())
            ],
        )
        .await?;
    if name.is_some() || email.is_some() || phone.is_some() || company.is_some() {
        capture(
            p,
            tenant_id,
            Capture {
                customer_id: lead.customer_id,
                name,
                email,
                phone,
                company,
                source: "api",
                overwrite: true,
                ..Capture::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Filters for the list and the export.
#[derive(Default)]
pub struct Filter {
    pub stage: Option<Stage>,
    pub owner_id: Option<String>,
    pub min_score: Option<i64>,
}

pub async fn list(
    p: &Platform,
    tenant_id: &str,
    f: &Filter,
    page: &crate::pagination::PageRequest,
) -> ApiResult<crate::pagination::Page<Lead>> {
    let (after, mut extra) = page.after_clause(5);
    let mut args = params![
        tenant_id,
        f.stage.map(Stage::as_str).unwrap_or(""),
        f.owner_id.as_deref().unwrap_or(""),
        f.min_score.unwrap_or(i64::MIN)
    ]
    .to_vec();
    args.append(&mut extra);
    args.push(((page.limit + 1) as i64).into());
    let limit_param = args.len();
    let rows = p
        .db()?
        .query(
            &format!(
                "SELECT {COLUMNS} FROM leads WHERE tenant_id = ?1 AND (?2 = '' OR stage = ?2)
                   AND (?3 = '' OR owner_id = ?3) AND score >= ?4{after}
                 ORDER BY created_at, id LIMIT ?{limit_param}"
            ),
            &args,
        )
        .await?;
    let items: Vec<Lead> = records::all(&rows)?;
    Ok(crate::pagination::Page::from_rows(items, page.limit, |l| {
        l.sort_key()
    }))
}

/// Every lead of these customers (a person's export, erasure).
pub async fn for_customers(
    p: &Platform,
    tenant_id: &str,
    customer_ids: &[String],
) -> ApiResult<Vec<Lead>> {
    let mut out = Vec::new();
    for c in customer_ids {
        let rows = p
            .db()?
            .query(
                &format!("SELECT {COLUMNS} FROM leads WHERE tenant_id = ?1 AND customer_id = ?2"),
                &params![tenant_id, c.as_str()],
            )
            .await?;
        out.extend(records::all::<Lead>(&rows)?);
    }
    Ok(out)
}
