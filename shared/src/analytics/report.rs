//! The overview report: volume, speed, AI, quality signals, a row per day and the busiest
//! hours, for one period and slice. Counters come from the rollups; medians and p90s from the
//! period's `conversations` rows (one window query per duration, through an index).

use super::{percent, Filter};
use crate::error::ApiResult;
use crate::platform::Platform;
use crate::ports::{Row, SqlDatabase, SqlValue};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// One duration metric over the period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct Duration {
    /// Conversations measured.
    pub n: i64,
    pub average_ms: Option<i64>,
    /// The middle value (nearest rank below: the ⌊(n−1)·0.5⌋-th smallest).
    pub median_ms: Option<i64>,
    /// The ⌊(n−1)·0.9⌋-th smallest.
    pub p90_ms: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Messages {
    pub customer: i64,
    pub ai: i64,
    pub agent: i64,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct ChannelVolume {
    pub channel: String,
    pub created: i64,
    pub resolved: i64,
    pub messages: Messages,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Volume {
    pub created: i64,
    pub resolved: i64,
    /// Conversations created in the period that were reopened after a resolution.
    pub reopened: i64,
    pub messages: Messages,
    pub by_channel: Vec<ChannelVolume>,
    /// Right now (not the period): waiting on the AI or an agent, and waiting for a person.
    pub open_now: i64,
    pub pending_human_now: i64,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Speed {
    /// First AI or agent reply after the customer's first message (conversations created in
    /// the period).
    pub first_response: Duration,
    /// First agent reply after the customer's first message.
    pub first_human_response: Duration,
    /// Creation to resolution (conversations resolved in the period).
    pub resolution: Duration,
    /// First agent reply to resolution (resolved in the period, with an agent reply).
    pub handle: Duration,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Count {
    pub key: String,
    pub n: i64,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct ModelUse {
    pub provider: String,
    pub model: String,
    pub answers: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// At the model's list price (`docs/metrics.md`); `None` for a model without one.
    pub cost_usd: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Ratings {
    pub ai_up: i64,
    pub ai_down: i64,
    pub agent_up: i64,
    pub agent_down: i64,
    /// Percent of AI answers' ratings that are thumbs up.
    pub ai_positive_percent: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Ai {
    pub resolved: i64,
    /// Resolved with no agent message and no handoff.
    pub contained: i64,
    pub containment_percent: Option<f64>,
    /// Conversations created in the period that waited for a person at some point.
    pub handed_off: i64,
    pub handoff_percent: Option<f64>,
    pub handoff_reasons: Vec<Count>,
    pub answers: i64,
    pub cited: i64,
    pub uncited: i64,
    /// Offline answers given because every configured provider failed.
    pub fallback: i64,
    pub fallback_percent: Option<f64>,
    pub ratings: Ratings,
    pub by_model: Vec<ModelUse>,
    pub cost_usd: f64,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct IntentCount {
    pub intent: String,
    pub messages: i64,
    /// Messages read as negative (sentiment below −0.25).
    pub negative: i64,
    pub average_sentiment: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Quality {
    /// Average sentiment of customer messages (−1…1).
    pub sentiment: Option<f64>,
    pub negative_percent: Option<f64>,
    pub top_intents: Vec<IntentCount>,
    pub survey_responses: i64,
    pub csat: Option<f64>,
    pub nps: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Day {
    /// `YYYY-MM-DD` in the tenant's time zone.
    pub day: String,
    pub created: i64,
    pub resolved: i64,
    pub contained: i64,
    pub handed_off: i64,
    pub messages_customer: i64,
    pub messages_ai: i64,
    pub messages_agent: i64,
    pub first_response_avg_ms: Option<i64>,
    pub resolution_avg_ms: Option<i64>,
    /// Average sentiment of the day's customer messages.
    pub sentiment: Option<f64>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Overview {
    /// First and last day (tenant dates, both included).
    pub from: String,
    pub to: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub utc_offset_minutes: i32,
    pub volume: Volume,
    pub speed: Speed,
    pub ai: Ai,
    pub quality: Quality,
    /// Every day of the period, empty days included.
    pub by_day: Vec<Day>,
    /// Customer messages by tenant-local weekday (Monday first) × hour (0–23).
    pub busiest_hours: Vec<Vec<i64>>,
}

/// Sums of rollup columns, named as in the table.
pub(crate) const SUMS_SQL: &str = "SUM(created) created, SUM(resolved) resolved, SUM(contained) contained,
  SUM(handed_off) handed_off, SUM(reopened) reopened, SUM(msgs_customer) msgs_customer,
  SUM(msgs_ai) msgs_ai, SUM(msgs_agent) msgs_agent, SUM(first_response_n) first_response_n,
  SUM(first_response_ms) first_response_ms, SUM(first_human_n) first_human_n,
  SUM(first_human_ms) first_human_ms, SUM(resolution_n) resolution_n, SUM(resolution_ms) resolution_ms,
  SUM(handle_n) handle_n, SUM(handle_ms) handle_ms";

/// One row of rollup sums.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sums {
    pub created: i64,
    pub resolved: i64,
    pub contained: i64,
    pub handed_off: i64,
    pub reopened: i64,
    pub msgs: Messages,
    pub first_response: (i64, i64),
    pub first_human: (i64, i64),
    pub resolution: (i64, i64),
    pub handle: (i64, i64),
}

impl Sums {
    pub(crate) fn read(r: &Row) -> Sums {
        let i = |k: &str| r.int(k).unwrap_or(0);
        Sums {
            created: i("created"),
            resolved: i("resolved"),
            contained: i("contained"),
            handed_off: i("handed_off"),
            reopened: i("reopened"),
            msgs: Messages {
                customer: i("msgs_customer"),
                ai: i("msgs_ai"),
                agent: i("msgs_agent"),
            },
            first_response: (i("first_response_n"), i("first_response_ms")),
            first_human: (i("first_human_n"), i("first_human_ms")),
            resolution: (i("resolution_n"), i("resolution_ms")),
            handle: (i("handle_n"), i("handle_ms")),
        }
    }

    fn add(&mut self, o: &Sums) {
        self.created += o.created;
        self.resolved += o.resolved;
        self.contained += o.contained;
        self.handed_off += o.handed_off;
        self.reopened += o.reopened;
        self.msgs.customer += o.msgs.customer;
        self.msgs.ai += o.msgs.ai;
        self.msgs.agent += o.msgs.agent;
        for (a, b) in [
            (&mut self.first_response, o.first_response),
            (&mut self.first_human, o.first_human),
            (&mut self.resolution, o.resolution),
            (&mut self.handle, o.handle),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
    }
}

pub(crate) fn average((n, sum): (i64, i64)) -> Option<i64> {
    (n > 0).then(|| sum / n)
}

/// The four durations' SQL over `conversations` rows: the value and the moment the period
/// filters on.
pub(crate) const DURATIONS: [(&str, &str, &str); 4] = [
    (
        "first_response",
        "first_response_at - first_customer_at",
        "created_at",
    ),
    (
        "first_human",
        "first_human_at - first_customer_at",
        "created_at",
    ),
    ("resolution", "resolved_at - created_at", "resolved_at"),
    ("handle", "resolved_at - first_human_at", "resolved_at"),
];

/// Median and p90 of one duration, per group (`group` is a column or `''`).
pub(crate) async fn percentiles(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    f: &Filter,
    value: &str,
    time: &str,
    group: &str,
) -> ApiResult<BTreeMap<String, (Option<i64>, Option<i64>)>> {
    let mut p: Vec<SqlValue> = Vec::new();
    let w = f.conversations_where(time, tenant_id, &mut p);
    // One window without a partition when nothing is grouped (a third cheaper in SQLite).
    let over = if group == "''" {
        String::new()
    } else {
        format!("PARTITION BY {group} ")
    };
    let sql = format!(
        "SELECT g, v, rn, n FROM (
           SELECT COALESCE({group}, '') g, {value} v,
             ROW_NUMBER() OVER ({over}ORDER BY {value}) - 1 rn,
             COUNT(*) OVER ({over}) n
           FROM conversations WHERE {w} AND {value} IS NOT NULL)
         WHERE rn = (n - 1) / 2 OR rn = (n - 1) * 9 / 10"
    );
    let mut out: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for r in db.query(&sql, &p).await? {
        let (g, v, rn, n) = (
            r.text("g").unwrap_or_default(),
            r.int("v"),
            r.int("rn").unwrap_or(0),
            r.int("n").unwrap_or(0),
        );
        let e = out.entry(g).or_default();
        if rn == (n - 1) / 2 {
            e.0 = v;
        }
        if rn == (n - 1) * 9 / 10 {
            e.1 = v;
        }
    }
    Ok(out)
}

fn duration((n, sum): (i64, i64), pct: Option<&(Option<i64>, Option<i64>)>) -> Duration {
    Duration {
        n,
        average_ms: average((n, sum)),
        median_ms: pct.and_then(|p| p.0),
        p90_ms: pct.and_then(|p| p.1),
    }
}

/// List prices in USD per million tokens (input, output), as published by the providers in
/// 2026; a model not listed has no cost. `docs/metrics.md` says where they come from.
const PRICES: &[(&str, f64, f64)] = &[
    ("gemini-2.5-pro", 1.25, 10.0),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.0-flash-lite", 0.075, 0.30),
    ("gemini-2.0-flash", 0.10, 0.40),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.0),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.0, 8.0),
    ("offline", 0.0, 0.0),
];

/// The cost of tokens at a model's list price (the longest listed prefix of its name).
pub fn cost(model: &str, tokens_in: i64, tokens_out: i64) -> Option<f64> {
    let (_, i, o) = PRICES
        .iter()
        .filter(|(m, _, _)| model.starts_with(m))
        .max_by_key(|(m, _, _)| m.len())?;
    Some(((tokens_in as f64 * i + tokens_out as f64 * o) / 1e4).round() / 100.0)
}

pub async fn overview(p: &Platform, tenant_id: &str, f: &Filter) -> ApiResult<Overview> {
    let db = p.db()?;
    let off = i64::from(f.offset_min);
    // Rollup sums per tenant-local day and channel.
    let mut args: Vec<SqlValue> = vec![off.into()];
    let w = f.buckets_where(tenant_id, &mut args);
    let rows = db
        .query(
            &format!(
                "SELECT (bucket * 15 + CAST(?1 AS INTEGER)) / 1440 AS d, channel, {SUMS_SQL} FROM analytics_buckets WHERE {w} GROUP BY d, channel"
            ),
            &args,
        )
        .await?;
    let mut total = Sums::default();
    let mut by_channel: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_day: BTreeMap<i64, Sums> = BTreeMap::new();
    for r in &rows {
        let s = Sums::read(r);
        total.add(&s);
        by_channel
            .entry(r.text("channel").unwrap_or_default())
            .or_default()
            .add(&s);
        by_day.entry(r.int("d").unwrap_or(0)).or_default().add(&s);
    }
    let mut pct = BTreeMap::new();
    for (name, value, time) in DURATIONS {
        let m = percentiles(db, tenant_id, f, value, time, "''").await?;
        pct.insert(name, m.get("").copied());
    }
    let speed = Speed {
        first_response: duration(total.first_response, pct["first_response"].as_ref()),
        first_human_response: duration(total.first_human, pct["first_human"].as_ref()),
        resolution: duration(total.resolution, pct["resolution"].as_ref()),
        handle: duration(total.handle, pct["handle"].as_ref()),
    };

    let mut q = Vec::new();
    let w = f.conversations_where("created_at", tenant_id, &mut q);
    let handoff_reasons = db
        .query(
            &format!("SELECT COALESCE(first_handoff_reason, 'unknown') k, COUNT(*) n FROM conversations WHERE {w} AND handoff_at IS NOT NULL GROUP BY k ORDER BY n DESC, k"),
            &q,
        )
        .await?
        .iter()
        .map(|r| Count { key: r.text("k").unwrap_or_default(), n: r.int("n").unwrap_or(0) })
        .collect();
    let mut q: Vec<SqlValue> = vec![tenant_id.into()];
    let mut now_sql = String::from(
        "SELECT status, COUNT(*) n FROM conversations WHERE tenant_id = ?1 AND status IN ('open', 'pending_human')",
    );
    now_sql.push_str(&f.slice("channel", "assignee_id", 1, &mut q));
    now_sql.push_str(" GROUP BY status");
    let (mut open_now, mut pending_human_now) = (0, 0);
    for r in db.query(&now_sql, &q).await? {
        match r.text("status").as_deref() {
            Some("open") => open_now = r.int("n").unwrap_or(0),
            _ => pending_human_now = r.int("n").unwrap_or(0),
        }
    }

    let ai = ai(db, tenant_id, f, &total, handoff_reasons).await?;
    let (quality, sentiment_by_day) = quality(p, tenant_id, f).await?;

    let first_day = (f.from + off * 60_000).div_euclid(crate::time::DAY_MS);
    let days = (0..f.days())
        .map(|i| {
            let d = first_day + i;
            let s = by_day.get(&d).cloned().unwrap_or_default();
            Day {
                day: crate::time::utc_day(d * crate::time::DAY_MS),
                created: s.created,
                resolved: s.resolved,
                contained: s.contained,
                handed_off: s.handed_off,
                messages_customer: s.msgs.customer,
                messages_ai: s.msgs.ai,
                messages_agent: s.msgs.agent,
                first_response_avg_ms: average(s.first_response),
                resolution_avg_ms: average(s.resolution),
                sentiment: sentiment_by_day.get(&d).copied().flatten(),
            }
        })
        .collect();

    let mut args: Vec<SqlValue> = vec![off.into()];
    let w = f.buckets_where(tenant_id, &mut args);
    let mut busiest = vec![vec![0i64; 24]; 7];
    for r in db
        .query(
            &format!(
                "SELECT ((bucket * 15 + CAST(?1 AS INTEGER)) / 1440 + 3) % 7 AS wd, ((bucket * 15 + CAST(?1 AS INTEGER)) / 60) % 24 AS h,
                   SUM(msgs_customer) n FROM analytics_buckets WHERE {w} GROUP BY wd, h"
            ),
            &args,
        )
        .await?
    {
        let (wd, h) = (r.int("wd").unwrap_or(0), r.int("h").unwrap_or(0));
        if let Some(cell) = busiest
            .get_mut(wd as usize)
            .and_then(|row| row.get_mut(h as usize))
        {
            *cell = r.int("n").unwrap_or(0);
        }
    }

    Ok(Overview {
        from: f.local_day(f.from),
        to: f.local_day(f.to - 1),
        from_ms: f.from,
        to_ms: f.to,
        utc_offset_minutes: f.offset_min,
        volume: Volume {
            created: total.created,
            resolved: total.resolved,
            reopened: total.reopened,
            messages: total.msgs.clone(),
            by_channel: by_channel
                .into_iter()
                .map(|(channel, s)| ChannelVolume {
                    channel,
                    created: s.created,
                    resolved: s.resolved,
                    messages: s.msgs,
                })
                .collect(),
            open_now,
            pending_human_now,
        },
        speed,
        ai,
        quality,
        by_day: days,
        busiest_hours: busiest,
    })
}

async fn ai(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    f: &Filter,
    total: &Sums,
    handoff_reasons: Vec<Count>,
) -> ApiResult<Ai> {
    // The AI and intent rollups have no agent: an agent or skill filter does not narrow them.
    let unsliced = Filter {
        agent_id: None,
        skill: None,
        ..f.clone()
    };
    let mut args = Vec::new();
    let w = unsliced.buckets_where(tenant_id, &mut args);
    let mut ai = Ai {
        resolved: total.resolved,
        contained: total.contained,
        containment_percent: percent(total.contained, total.resolved),
        handed_off: total.handed_off,
        handoff_percent: percent(total.handed_off, total.created),
        handoff_reasons,
        ..Ai::default()
    };
    for r in db
        .query(
            &format!(
                "SELECT provider, model, SUM(answers) answers, SUM(cited) cited, SUM(fallback) fallback,
                   SUM(tokens_in) tokens_in, SUM(tokens_out) tokens_out
                 FROM analytics_ai WHERE {w} GROUP BY provider, model ORDER BY answers DESC, provider, model"
            ),
            &args,
        )
        .await?
    {
        let i = |k: &str| r.int(k).unwrap_or(0);
        let model = r.text("model").unwrap_or_default();
        let cost = cost(&model, i("tokens_in"), i("tokens_out"));
        ai.answers += i("answers");
        ai.cited += i("cited");
        ai.fallback += i("fallback");
        ai.cost_usd += cost.unwrap_or(0.0);
        ai.by_model.push(ModelUse {
            provider: r.text("provider").unwrap_or_default(),
            model,
            answers: i("answers"),
            tokens_in: i("tokens_in"),
            tokens_out: i("tokens_out"),
            cost_usd: cost,
        });
    }
    ai.cost_usd = (ai.cost_usd * 100.0).round() / 100.0;
    ai.uncited = ai.answers - ai.cited;
    ai.fallback_percent = percent(ai.fallback, ai.answers);

    let mut q: Vec<SqlValue> = vec![tenant_id.into(), f.from.into(), f.to.into()];
    let mut sql = String::from(
        "SELECT r.author_type a, r.rating t, COUNT(*) n FROM message_ratings r JOIN conversations c ON c.id = r.conversation_id
         WHERE r.tenant_id = ?1 AND r.updated_at >= ?2 AND r.updated_at < ?3",
    );
    sql.push_str(&f.slice("c.channel", "c.assignee_id", 1, &mut q));
    sql.push_str(" GROUP BY a, t");
    for r in db.query(&sql, &q).await? {
        let n = r.int("n").unwrap_or(0);
        match (r.text("a").as_deref(), r.text("t").as_deref()) {
            (Some("ai"), Some("up")) => ai.ratings.ai_up = n,
            (Some("ai"), _) => ai.ratings.ai_down = n,
            (_, Some("up")) => ai.ratings.agent_up = n,
            _ => ai.ratings.agent_down = n,
        }
    }
    ai.ratings.ai_positive_percent =
        percent(ai.ratings.ai_up, ai.ratings.ai_up + ai.ratings.ai_down);
    Ok(ai)
}

/// Sentiment and intents from the intent rollup, and the surveys' scores.
async fn quality(
    p: &Platform,
    tenant_id: &str,
    f: &Filter,
) -> ApiResult<(Quality, BTreeMap<i64, Option<f64>>)> {
    let db = p.db()?;
    let unsliced = Filter {
        agent_id: None,
        skill: None,
        ..f.clone()
    };
    let mut args: Vec<SqlValue> = vec![i64::from(f.offset_min).into()];
    let w = unsliced.buckets_where(tenant_id, &mut args);
    let rows = db
        .query(
            &format!(
                "SELECT (bucket * 15 + CAST(?1 AS INTEGER)) / 1440 AS d, intent, SUM(messages) messages, SUM(sentiment_sum) s,
                   SUM(negative) negative FROM analytics_intents WHERE {w} GROUP BY d, intent"
            ),
            &args,
        )
        .await?;
    let mut intents: BTreeMap<String, (i64, f64, i64)> = BTreeMap::new();
    let mut days: BTreeMap<i64, (i64, f64)> = BTreeMap::new();
    let (mut n, mut sum, mut negative) = (0i64, 0f64, 0i64);
    for r in &rows {
        let (m, s, neg) = (
            r.int("messages").unwrap_or(0),
            r.real("s").unwrap_or(0.0),
            r.int("negative").unwrap_or(0),
        );
        let e = intents
            .entry(r.text("intent").unwrap_or_default())
            .or_default();
        e.0 += m;
        e.1 += s;
        e.2 += neg;
        let d = days.entry(r.int("d").unwrap_or(0)).or_default();
        d.0 += m;
        d.1 += s;
        n += m;
        sum += s;
        negative += neg;
    }
    let avg = |m: i64, s: f64| (m > 0).then(|| (s / m as f64 * 100.0).round() / 100.0);
    let mut top: Vec<IntentCount> = intents
        .into_iter()
        .filter(|(_, (m, _, _))| *m > 0)
        .map(|(intent, (m, s, neg))| IntentCount {
            intent,
            messages: m,
            negative: neg,
            average_sentiment: avg(m, s),
        })
        .collect();
    top.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.intent.cmp(&b.intent)));
    top.truncate(10);
    let surveys = crate::surveys::results::results(p, tenant_id, &f.surveys()).await?;
    let score = |kind: &str| surveys.total.scores.iter().find(|s| s.kind == kind);
    Ok((
        Quality {
            sentiment: avg(n, sum),
            negative_percent: percent(negative, n),
            top_intents: top,
            survey_responses: surveys.total.responded,
            csat: score("csat").and_then(|s| s.average),
            nps: score("nps").and_then(|s| s.nps),
        },
        days.into_iter().map(|(d, (m, s))| (d, avg(m, s))).collect(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cost_uses_the_longest_listed_prefix() {
        // 1M in + 1M out on flash-lite, not flash.
        assert_eq!(
            super::cost("gemini-2.5-flash-lite", 1_000_000, 1_000_000),
            Some(0.5)
        );
        assert_eq!(super::cost("gemini-2.5-flash-001", 2_000_000, 0), Some(0.6));
        assert_eq!(super::cost("my-own-model", 10, 10), None);
    }
}
