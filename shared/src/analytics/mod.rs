//! Analytics: the numbers a support lead runs the team on. Every metric is defined once in
//! `docs/metrics.md`; this module is its implementation.
//!
//! - `facts.rs`: what each conversation object records about itself as things happen;
//! - `rollup.rs`: quarter-hour counters written in the same D1 batch as the mirror rows, and
//!   the recompute for history;
//! - `report.rs`: the overview (volume, speed, AI, quality, by day, busiest hours);
//! - `agents.rs`: the leaderboard, goals and the live board;
//! - `presence.rs`: agents' time online (inbox sockets' sessions);
//! - `sla.rs`: SLA policies, business-hours clocks, breaches and the at-risk list;
//! - `export.rs`: every report as CSV.
//!
//! Reports read the rollups (a few rows per quarter hour) and, for medians and SLA clocks, the
//! mirrored `conversations` rows of the period through an index — never the message table.

pub mod agents;
pub mod export;
pub mod facts;
pub mod presence;
pub mod report;
pub mod rollup;
pub mod sla;

use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult};
use crate::ports::SqlValue;
use crate::time::DAY_MS;
use chrono::{Datelike, NaiveDate};

/// The period and slice a report covers. `from`/`to` are tenant-local midnights (Unix ms), so
/// every day in the report is a whole day in the tenant's time zone.
#[derive(Clone, Debug)]
pub struct Filter {
    pub from: i64,
    pub to: i64,
    /// The tenant's offset from UTC in minutes (`business_hours.utc_offset_minutes`).
    pub offset_min: i32,
    pub channel: Option<Channel>,
    /// Only this agent's conversations (the assignee) and messages.
    pub agent_id: Option<String>,
    /// Only agents with this skill (the team).
    pub skill: Option<String>,
}

/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;

impl Filter {
    /// `from`/`to` (`YYYY-MM-DD`, tenant dates, both included) or `days` ending today; 30 days
    /// by default.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        days: Option<i64>,
        now: i64,
        offset_min: i32,
    ) -> ApiResult<Self> {
        let offset = i64::from(offset_min) * 60_000;
        let today = now.saturating_add(offset).div_euclid(DAY_MS);
        let days = days.map(|d| d.clamp(1, MAX_DAYS));
        let date = |name: &'static str, v: &str| -> ApiResult<i64> {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| ApiError::validation(name, "a date, YYYY-MM-DD"))?;
            Ok(i64::from(d.num_days_from_ce()) - 719_163)
        };
        let (first, last) = match (from, to) {
            (Some(f), Some(t)) => (date("from", f)?, date("to", t)?),
            (Some(f), None) => (date("from", f)?, today),
            (None, Some(t)) => {
                let t = date("to", t)?;
                (t - days.unwrap_or(30) + 1, t)
            }
            (None, None) => (today - days.unwrap_or(30) + 1, today),
        };
        if last < first {
            return Err(ApiError::validation("to", "on or after `from`"));
        }
        if last - first + 1 > MAX_DAYS {
            return Err(ApiError::validation("from", "at most 366 days before `to`"));
        }
        Ok(Filter {
            from: first * DAY_MS - offset,
            to: (last + 1) * DAY_MS - offset,
            offset_min,
            channel: None,
            agent_id: None,
            skill: None,
        })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from) / DAY_MS
    }

    /// The same period and slice for the survey results (`surveys/results.rs`).
    pub fn surveys(&self) -> crate::surveys::results::Filter {
        crate::surveys::results::Filter {
            from: self.from,
            to: self.to,
            channel: self.channel,
            agent_id: self.agent_id.clone(),
            utc_offset_minutes: self.offset_min,
        }
    }

    /// The tenant-local date of a Unix-ms instant.
    pub fn local_day(&self, ms: i64) -> String {
        crate::time::utc_day(ms + i64::from(self.offset_min) * 60_000)
    }

    /// The conditions for the rollup tables (alias-free columns `bucket`, `channel`,
    /// `agent_id`) with their parameters appended to `p`.
    fn buckets_where(&self, tenant_id: &str, p: &mut Vec<SqlValue>) -> String {
        p.push(tenant_id.into());
        let t = p.len();
        p.push(self.from.div_euclid(rollup::BUCKET_MS).into());
        p.push(self.to.div_euclid(rollup::BUCKET_MS).into());
        let mut w = format!(
            "tenant_id = ?{t} AND bucket >= ?{} AND bucket < ?{}",
            t + 1,
            t + 2
        );
        w.push_str(&self.slice("channel", "agent_id", t, p));
        w
    }

    /// The conditions on `conversations` rows whose `time` column falls in the period.
    fn conversations_where(&self, time: &str, tenant_id: &str, p: &mut Vec<SqlValue>) -> String {
        p.push(tenant_id.into());
        let t = p.len();
        p.push(self.from.into());
        p.push(self.to.into());
        let mut w = format!(
            "tenant_id = ?{t} AND {time} >= ?{} AND {time} < ?{}",
            t + 1,
            t + 2
        );
        w.push_str(&self.slice("channel", "assignee_id", t, p));
        w
    }

    /// Channel, agent and skill conditions; `t` is the tenant parameter's index.
    fn slice(&self, channel: &str, agent: &str, t: usize, p: &mut Vec<SqlValue>) -> String {
        let mut w = String::new();
        if let Some(c) = self.channel {
            p.push(c.as_str().into());
            w.push_str(&format!(" AND {channel} = ?{}", p.len()));
        }
        if let Some(a) = &self.agent_id {
            p.push(a.as_str().into());
            w.push_str(&format!(" AND {agent} = ?{}", p.len()));
        }
        if let Some(s) = &self.skill {
            p.push(s.as_str().into());
            w.push_str(&format!(
                " AND {agent} IN (SELECT u.id FROM users u, json_each(u.skills) k WHERE u.tenant_id = ?{t} AND k.value = ?{})",
                p.len()
            ));
        }
        w
    }
}

/// `part / whole` in percent, one decimal; `None` when there is nothing to divide.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_tenant_days() {
        // 2026-12-02 00:30 UTC is still 2026-12-01 in New York (−300 min).
        let now = 1_796_171_400_000;
        let f = Filter::parse(None, None, Some(1), now, -300).unwrap();
        assert_eq!(f.local_day(f.from), "2026-12-01");
        assert_eq!(f.to - f.from, DAY_MS);
        assert_eq!(f.from, 1_796_101_200_000); // 2026-12-01 05:00 UTC
        let f = Filter::parse(Some("2026-11-01"), Some("2026-11-30"), None, now, 60).unwrap();
        assert_eq!(f.days(), 30);
        assert_eq!(f.local_day(f.to - 1), "2026-11-30");
        assert!(Filter::parse(Some("2026-11-31"), None, None, now, 0).is_err());
        assert!(Filter::parse(Some("2026-12-01"), Some("2026-11-01"), None, now, 0).is_err());
        assert!(Filter::parse(Some("2020-01-01"), Some("2026-11-01"), None, now, 0).is_err());
    }
}
