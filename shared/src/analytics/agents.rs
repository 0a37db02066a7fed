//! Agent performance: the leaderboard for a period (from the rollups, plus each agent's medians,
//! ratings and survey scores), goals with progress, and the live board (who is online now and
//! their load against capacity).

use super::report::{average, percentiles, Duration, Sums, DURATIONS};
use super::{percent, Filter};
use crate::error::{ApiError, ApiResult};
use crate::input::check;
use crate::platform::Platform;
use crate::ports::SqlValue;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tenant's analytics settings (`analytics` in the tenant config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Conversations an agent can carry at once (the live board's load is against this).
    pub agent_capacity: u32,
    /// Targets per agent; a goal without `agent_id` applies to every agent who has none of
    /// their own for that metric.
    pub goals: Vec<Goal>,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            agent_capacity: 5,
            goals: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// `resolved` (at least), `first_response_median_ms` and `handle_median_ms` (at most),
    /// `csat` (average, at least), `positive_rating_percent` (at least).
    pub metric: String,
    pub target: f64,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// Each goal metric and whether more is better.
const GOALS: &[(&str, bool)] = &[
    ("resolved", true),
    ("first_response_median_ms", false),
    ("handle_median_ms", false),
    ("csat", true),
    ("positive_rating_percent", true),
];

impl AnalyticsConfig {
    pub fn validate(&self) -> ApiResult<()> {
        check::range("analytics.agent_capacity", self.agent_capacity, 1, 1000)?;
        if self.goals.len() > 200 {
            return Err(ApiError::validation("analytics.goals", "at most 200 goals"));
        }
        for (i, g) in self.goals.iter().enumerate() {
            if !GOALS.iter().any(|(m, _)| *m == g.metric) {
                return Err(ApiError::validation(
                    format!("analytics.goals[{i}].metric"),
                    "resolved, first_response_median_ms, handle_median_ms, csat or positive_rating_percent",
                ));
            }
            if !g.target.is_finite() || g.target < 0.0 {
                return Err(ApiError::validation(
                    format!("analytics.goals[{i}].target"),
                    "a number of at least 0",
                ));
            }
            if let Some(a) = &g.agent_id {
                check::text(&format!("analytics.goals[{i}].agent_id"), a, 1, 64)?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct GoalProgress {
    pub metric: String,
    pub target: f64,
    pub value: Option<f64>,
    pub met: bool,
    /// How far along, 0–100 (for "at most" goals: 100 while under the target).
    pub progress_percent: f64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AgentRow {
    pub agent_id: String,
    pub name: Option<String>,
    /// Conversations created in the period that are assigned to the agent.
    pub assigned: i64,
    /// Conversations resolved in the period while assigned to the agent.
    pub resolved: i64,
    /// `resolved ÷ assigned`, percent.
    pub resolution_percent: Option<f64>,
    /// Messages the agent wrote in the period.
    pub messages: i64,
    pub first_response: Duration,
    pub handle: Duration,
    pub rating_up: i64,
    pub rating_down: i64,
    pub positive_rating_percent: Option<f64>,
    pub csat: Option<f64>,
    pub survey_responses: i64,
    /// Time with the console's live inbox open in the period (sessions that have ended).
    pub online_ms: i64,
    pub goals: Vec<GoalProgress>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Leaderboard {
    pub from: String,
    pub to: String,
    /// Most resolved first.
    pub agents: Vec<AgentRow>,
}

pub async fn leaderboard(
    p: &Platform,
    tenant_id: &str,
    f: &Filter,
    cfg: &AnalyticsConfig,
) -> ApiResult<Leaderboard> {
    let db = p.db()?;
    let mut args = Vec::new();
    let w = f.buckets_where(tenant_id, &mut args);
    let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
    for r in db
        .query(
            &format!(
                "SELECT agent_id, {} FROM analytics_buckets WHERE {w} AND agent_id != '' GROUP BY agent_id",
                super::report::SUMS_SQL
            ),
            &args,
        )
        .await?
    {
        sums.insert(r.text("agent_id").unwrap_or_default(), Sums::read(&r));
    }
    // Agents (and above) of the tenant appear even with nothing in the period.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut q: Vec<SqlValue> = vec![tenant_id.into()];
    let mut sql = String::from(
        "SELECT id, name FROM users WHERE tenant_id = ?1 AND status = 'active' AND role IN ('agent', 'reviewer', 'admin', 'owner')",
    );
    if let Some(a) = &f.agent_id {
        q.push(a.as_str().into());
        sql.push_str(" AND id = ?2");
    }
    if let Some(s) = &f.skill {
        q.push(s.as_str().into());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM json_each(users.skills) k WHERE k.value = ?{})",
            q.len()
        ));
    }
    sql.push_str(" LIMIT 500");
    for r in db.query(&sql, &q).await? {
        let id = r.text("id").unwrap_or_default();
        sums.entry(id.clone()).or_default();
        names.insert(id, r.text("name").unwrap_or_default());
    }
    let (_, fr, fr_time) = DURATIONS[1];
    let first = percentiles(db, tenant_id, f, fr, fr_time, "assignee_id").await?;
    let (_, hv, hv_time) = DURATIONS[3];
    let handle = percentiles(db, tenant_id, f, hv, hv_time, "assignee_id").await?;

    let mut ratings: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in db
        .query(
            "SELECT m.author_id a, r.rating t, COUNT(*) n FROM message_ratings r
               JOIN conversation_messages m ON m.conversation_id = r.conversation_id AND m.seq = r.seq
             WHERE r.tenant_id = ?1 AND r.author_type = 'agent' AND r.updated_at >= ?2 AND r.updated_at < ?3
             GROUP BY a, t",
            &crate::params![tenant_id, f.from, f.to],
        )
        .await?
    {
        let e = ratings.entry(r.text("a").unwrap_or_default()).or_default();
        if r.text("t").as_deref() == Some("up") {
            e.0 += r.int("n").unwrap_or(0);
        } else {
            e.1 += r.int("n").unwrap_or(0);
        }
    }
    let surveys = crate::surveys::results::results(p, tenant_id, &f.surveys()).await?;
    let online = super::presence::online_ms(db, tenant_id, f.from, f.to).await?;

    let mut agents: Vec<AgentRow> = sums
        .into_iter()
        .map(|(id, s)| {
            let (up, down) = ratings.get(&id).copied().unwrap_or_default();
            let survey = surveys.by_agent.iter().find(|g| g.key == id);
            let csat = survey
                .and_then(|g| g.scores.iter().find(|s| s.kind == "csat"))
                .and_then(|s| s.average);
            let fr = first.get(&id).copied().unwrap_or_default();
            let hd = handle.get(&id).copied().unwrap_or_default();
            let mut row = AgentRow {
                name: names.get(&id).cloned(),
                assigned: s.created,
                resolved: s.resolved,
                resolution_percent: percent(s.resolved, s.created),
                messages: s.msgs.agent,
                first_response: Duration {
                    n: s.first_human.0,
                    average_ms: average(s.first_human),
                    median_ms: fr.0,
                    p90_ms: fr.1,
                },
                handle: Duration {
                    n: s.handle.0,
                    average_ms: average(s.handle),
                    median_ms: hd.0,
                    p90_ms: hd.1,
                },
                rating_up: up,
                rating_down: down,
                positive_rating_percent: percent(up, up + down),
                csat,
                survey_responses: survey.map(|g| g.responded).unwrap_or(0),
                online_ms: online.get(&id).copied().unwrap_or(0),
                goals: Vec::new(),
                agent_id: id,
            };
            row.goals = goals(cfg, &row);
            row
        })
        .collect();
    agents.sort_by(|a, b| {
        b.resolved
            .cmp(&a.resolved)
            .then(a.agent_id.cmp(&b.agent_id))
    });
    Ok(Leaderboard {
        from: f.local_day(f.from),
        to: f.local_day(f.to - 1),
        agents,
    })
}

/// The goals that apply to one agent, with progress.
fn goals(cfg: &AnalyticsConfig, row: &AgentRow) -> Vec<GoalProgress> {
    GOALS
        .iter()
        .filter_map(|(metric, more_is_better)| {
            let own = cfg
                .goals
                .iter()
                .find(|g| g.metric == *metric && g.agent_id.as_deref() == Some(&row.agent_id));
            let goal = own.or_else(|| {
                cfg.goals
                    .iter()
                    .find(|g| g.metric == *metric && g.agent_id.is_none())
            })?;
            let value = match *metric {
                "resolved" => Some(row.resolved as f64),
                "first_response_median_ms" => row.first_response.median_ms.map(|v| v as f64),
                "handle_median_ms" => row.handle.median_ms.map(|v| v as f64),
                "csat" => row.csat,
                _ => row.positive_rating_percent,
            };
            let (met, progress) = match value {
                None => (false, 0.0),
                Some(v) if *more_is_better => (
                    v >= goal.target,
                    if goal.target > 0.0 {
                        (v / goal.target * 100.0).min(100.0)
                    } else {
                        100.0
                    },
                ),
                Some(v) => (
                    v <= goal.target,
                    if v > 0.0 {
                        (goal.target / v * 100.0).min(100.0)
                    } else {
                        100.0
                    },
                ),
            };
            Some(GoalProgress {
                metric: metric.to_string(),
                target: goal.target,
                value,
                met,
                progress_percent: (progress * 10.0).round() / 10.0,
            })
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LiveAgent {
    pub agent_id: String,
    pub name: String,
    pub online: bool,
    /// Open or waiting conversations assigned now.
    pub load: i64,
    pub capacity: u32,
    /// `online` and below capacity, `busy` at or over it, `offline`.
    pub status: String,
    pub skills: Vec<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LiveBoard {
    pub agents: Vec<LiveAgent>,
    /// Conversations waiting for a person with nobody assigned.
    pub unassigned_waiting: i64,
}

/// Who is online (the tenant inbox's live sockets) and their load now.
pub async fn live(p: &Platform, tenant_id: &str, cfg: &AnalyticsConfig) -> ApiResult<LiveBoard> {
    let db = p.db()?;
    let online = crate::conversations::client::inbox_online(p, tenant_id).await?;
    let online: BTreeMap<String, Vec<String>> = online["agents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let id = e.get(0)?.get("id")?.as_str()?.to_string();
                    let skills = e
                        .get(1)
                        .and_then(|s| s.as_array())
                        .map(|s| {
                            s.iter()
                                .filter_map(|v| v.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((id, skills))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut load: BTreeMap<String, i64> = BTreeMap::new();
    let mut unassigned_waiting = 0;
    for r in db
        .query(
            "SELECT COALESCE(assignee_id, '') a, status, COUNT(*) n FROM conversations
             WHERE tenant_id = ?1 AND status IN ('open', 'pending_human') GROUP BY a, status",
            &crate::params![tenant_id],
        )
        .await?
    {
        let (a, n) = (r.text("a").unwrap_or_default(), r.int("n").unwrap_or(0));
        if a.is_empty() {
            if r.text("status").as_deref() == Some("pending_human") {
                unassigned_waiting += n;
            }
        } else {
            *load.entry(a).or_default() += n;
        }
    }
    let mut agents = Vec::new();
    for r in db
        .query(
            "SELECT id, name, skills FROM users WHERE tenant_id = ?1 AND status = 'active'
             AND role IN ('agent', 'reviewer', 'admin', 'owner') ORDER BY name, id LIMIT 500",
            &crate::params![tenant_id],
        )
        .await?
    {
        let id = r.text("id").unwrap_or_default();
        let n = load.get(&id).copied().unwrap_or(0);
        let is_online = online.contains_key(&id);
        agents.push(LiveAgent {
            name: r.text("name").unwrap_or_default(),
            online: is_online,
            load: n,
            capacity: cfg.agent_capacity,
            status: match (is_online, n >= i64::from(cfg.agent_capacity)) {
                (false, _) => "offline",
                (true, true) => "busy",
                (true, false) => "online",
            }
            .into(),
            skills: r
                .text("skills")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            agent_id: id,
        });
    }
    // Online first, then by load.
    agents.sort_by(|a, b| b.online.cmp(&a.online).then(b.load.cmp(&a.load)));
    Ok(LiveBoard {
        agents,
        unassigned_waiting,
    })
}
