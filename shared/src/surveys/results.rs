//! What the surveys say: response rates and scores over a period, by channel, agent and day,
//! and the answers themselves. Computed by SQL aggregates over the tenant's surveys sent in
//! the period (an index on `(tenant_id, sent_at)`), never over messages.
//!
//! Definitions (per score kind):
//! - response rate: surveys answered ÷ surveys sent (expired ones count as sent, unanswered);
//! - CSAT: average of 1–5; *positive* = 4 or 5 ("satisfied"), *negative* = 1 or 2;
//! - NPS: positive = promoters (9–10), negative = detractors (0–6); NPS = % promoters − %
//!   detractors (−100…100);
//! - CES: average of 1–7 (7 = very easy); positive = 5–7, negative = 1–3.

use crate::conversations::model::Channel;
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::ports::{Row, SqlValue};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

pub struct Filter {
    pub from: i64,
    pub to: i64,
    pub channel: Option<Channel>,
    pub agent_id: Option<String>,
    /// The tenant's UTC offset, in minutes: days start at its midnight.
    pub utc_offset_minutes: i32,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Score {
    /// `csat`, `nps` or `ces`.
    pub kind: String,
    pub responses: i64,
    pub average: Option<f64>,
    /// Share of responses that are positive (see the definitions), in percent.
    pub positive_percent: Option<f64>,
    pub negative_percent: Option<f64>,
    /// NPS only: % promoters − % detractors.
    pub nps: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Group {
    /// The channel, the agent's user id, or the day (`YYYY-MM-DD`, tenant time).
    pub key: String,
    pub sent: i64,
    pub responded: i64,
    /// Percent of sent surveys answered.
    pub response_rate: Option<f64>,
    pub scores: Vec<Score>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Results {
    pub from: i64,
    pub to: i64,
    #[serde(flatten)]
    pub total: Group,
    pub by_channel: Vec<Group>,
    pub by_agent: Vec<Group>,
    pub by_day: Vec<Group>,
}

#[derive(Default, Clone)]
struct Tally {
    sent: i64,
    responded: i64,
    /// kind → (scored, total, positive, negative)
    kinds: BTreeMap<String, (i64, i64, i64, i64)>,
}

impl Tally {
    fn add(&mut self, r: &Row) {
        self.sent += r.int("sent").unwrap_or(0);
        self.responded += r.int("responded").unwrap_or(0);
        if let Some(kind) = r.text("kind") {
            let e = self.kinds.entry(kind).or_default();
            e.0 += r.int("scored").unwrap_or(0);
            e.1 += r.int("total").unwrap_or(0);
            e.2 += r.int("positive").unwrap_or(0);
            e.3 += r.int("negative").unwrap_or(0);
        }
    }

    fn group(&self, key: String) -> Group {
        let pct = |n: i64, d: i64| (d > 0).then(|| round1(n as f64 * 100.0 / d as f64));
        Group {
            key,
            sent: self.sent,
            responded: self.responded,
            response_rate: pct(self.responded, self.sent),
            scores: self
                .kinds
                .iter()
                .filter(|(_, v)| v.0 > 0)
                .map(|(kind, &(n, total, pos, neg))| Score {
                    kind: kind.clone(),
                    responses: n,
                    average: Some(((total as f64 / n as f64) * 100.0).round() / 100.0),
                    positive_percent: pct(pos, n),
                    negative_percent: pct(neg, n),
                    nps: (kind == "nps").then(|| round1((pos - neg) as f64 * 100.0 / n as f64)),
                })
                .collect(),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

const TALLY: &str = "s.kind AS kind, COUNT(*) AS sent,
  SUM(CASE WHEN s.status = 'responded' THEN 1 ELSE 0 END) AS responded,
  SUM(CASE WHEN s.score IS NOT NULL THEN 1 ELSE 0 END) AS scored,
  SUM(COALESCE(s.score, 0)) AS total,
  SUM(CASE WHEN (s.kind = 'csat' AND s.score >= 4) OR (s.kind = 'nps' AND s.score >= 9) OR (s.kind = 'ces' AND s.score >= 5) THEN 1 ELSE 0 END) AS positive,
  SUM(CASE WHEN (s.kind = 'csat' AND s.score <= 2) OR (s.kind = 'nps' AND s.score <= 6) OR (s.kind = 'ces' AND s.score <= 3) THEN 1 ELSE 0 END) AS negative";

const WHERE: &str =
    "s.tenant_id = ?1 AND s.sent_at IS NOT NULL AND s.sent_at >= ?2 AND s.sent_at < ?3
  AND (?4 = '' OR s.channel = ?4)
  AND (?5 = '' OR EXISTS (SELECT 1 FROM json_each(s.agent_ids) a WHERE a.value = ?5))";

/// Runs the tally grouped by `key` (a code constant: a column or expression over `s`, or
/// `j.value` with the agents joined), merging score kinds per key.
async fn grouped(
    p: &Platform,
    tenant_id: &str,
    f: &Filter,
    key: &'static str,
    join: &'static str,
) -> ApiResult<Vec<(String, Tally)>> {
    let mut args: Vec<SqlValue> = params![
        tenant_id,
        f.from,
        f.to,
        f.channel.map(Channel::as_str).unwrap_or(""),
        f.agent_id.as_deref().unwrap_or("")
    ]
    .to_vec();
    // The day key reads the tenant's offset as ?6; other keys bind no sixth parameter.
    if key.contains("?6") {
        args.push((i64::from(f.utc_offset_minutes) * 60_000).into());
    }
    let rows = p
        .db()?
        .query(
            &format!("SELECT {key} AS k, {TALLY} FROM surveys s{join} WHERE {WHERE} GROUP BY k, s.kind ORDER BY k"),
            &args,
        )
        .await?;
    let mut out: Vec<(String, Tally)> = Vec::new();
    for r in &rows {
        let k = r.text("k").unwrap_or_default();
        match out.last_mut() {
            Some((last, t)) if *last == k => t.add(r),
            _ => {
                let mut t = Tally::default();
                t.add(r);
                out.push((k, t));
            }
        }
    }
    Ok(out)
}

pub async fn results(p: &Platform, tenant_id: &str, f: &Filter) -> ApiResult<Results> {
    let by_channel = grouped(p, tenant_id, f, "s.channel", "").await?;
    let mut total = Tally::default();
    for (_, t) in &by_channel {
        total.sent += t.sent;
        total.responded += t.responded;
        for (k, v) in &t.kinds {
            let e = total.kinds.entry(k.clone()).or_default();
            e.0 += v.0;
            e.1 += v.1;
            e.2 += v.2;
            e.3 += v.3;
        }
    }
    let by_agent = grouped(p, tenant_id, f, "j.value", ", json_each(s.agent_ids) j").await?;
    let by_day = grouped(
        p,
        tenant_id,
        f,
        "strftime('%Y-%m-%d', (s.sent_at + ?6) / 1000, 'unixepoch')",
        "",
    )
    .await?;
    let groups = |v: Vec<(String, Tally)>| v.into_iter().map(|(k, t)| t.group(k)).collect();
    Ok(Results {
        from: f.from,
        to: f.to,
        total: total.group("all".into()),
        by_channel: groups(by_channel),
        by_agent: groups(by_agent),
        by_day: groups(by_day),
    })
}

pub struct ListFilter {
    pub channel: Option<Channel>,
    pub agent_id: Option<String>,
    pub kind: Option<String>,
    pub conversation_id: Option<String>,
}

/// Answered surveys, oldest first, in cursor pages.
pub async fn responses(
    p: &Platform,
    tenant_id: &str,
    f: &ListFilter,
    page: &crate::pagination::PageRequest,
) -> ApiResult<crate::pagination::Page<super::Survey>> {
    let (after, mut extra) = page.after_clause(7);
    let mut args = params![
        tenant_id,
        f.channel.map(Channel::as_str).unwrap_or(""),
        f.agent_id.as_deref().unwrap_or(""),
        f.kind.as_deref().unwrap_or(""),
        f.conversation_id.as_deref().unwrap_or(""),
        p.now_ms()
    ]
    .to_vec();
    args.append(&mut extra);
    args.push(((page.limit + 1) as i64).into());
    let limit = args.len();
    let rows = p
        .db()?
        .query(
            &format!(
                "SELECT {}, ?6 AS now FROM surveys s WHERE tenant_id = ?1 AND status = 'responded'
                   AND (?2 = '' OR channel = ?2)
                   AND (?3 = '' OR EXISTS (SELECT 1 FROM json_each(s.agent_ids) a WHERE a.value = ?3))
                   AND (?4 = '' OR kind = ?4) AND (?5 = '' OR conversation_id = ?5){after}
                 ORDER BY created_at, id LIMIT ?{limit}",
                super::COLUMNS
            ),
            &args,
        )
        .await?;
    let items: Vec<super::Survey> = crate::records::all(&rows)?;
    Ok(crate::pagination::Page::from_rows(items, page.limit, |s| {
        crate::records::Listed::sort_key(s)
    }))
}

pub const CSV_HEADER: &str =
    "id,conversation_id,customer_id,channel,kind,score,comment,agent_ids,language,response_source,sent_at,responded_at,answers";

pub fn csv_row(s: &super::Survey) -> String {
    use crate::leads::csv::cell;
    let cells = [
        s.id.clone(),
        s.conversation_id.clone(),
        s.customer_id.clone(),
        s.channel.as_str().to_string(),
        s.kind.clone().unwrap_or_default(),
        s.score.map(|n| n.to_string()).unwrap_or_default(),
        s.comment.clone().unwrap_or_default(),
        s.agent_ids.join(" "),
        s.language.clone(),
        s.response_source.clone().unwrap_or_default(),
        s.sent_at.map(crate::time::rfc3339).unwrap_or_default(),
        s.responded_at.map(crate::time::rfc3339).unwrap_or_default(),
        serde_json::to_string(&s.answers).unwrap_or_default(),
    ];
    cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",")
}
