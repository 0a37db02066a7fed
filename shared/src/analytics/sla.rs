//! Service-level agreements: first-response and resolution targets per priority, counted in
//! business hours when the tenant asks. The clock starts when a conversation first waits for a
//! person (the handoff): what the AI answers on its own is outside the agreement. Breaches are
//! counted for the period's conversations; the at-risk list is every waiting conversation past
//! `at_risk_percent` of a target, soonest due first.

use super::Filter;
use crate::error::{ApiError, ApiResult};
use crate::input::check;
use crate::platform::Platform;
use crate::ports::{Row, SqlValue};
use crate::tenancy::config::BusinessHours;
use crate::time::DAY_MS;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// Targets per priority; a priority without a policy has no SLA.
    pub policies: Vec<SlaPolicy>,
    /// Count only the tenant's business hours (`business_hours`) on the clocks.
    pub business_hours: bool,
    /// A running clock past this share of its target puts the conversation on the at-risk list.
    pub at_risk_percent: u32,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            policies: Vec::new(),
            business_hours: true,
            at_risk_percent: 75,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// Minutes from the handoff to an agent's first reply.
    #[serde(default)]
    pub first_response_minutes: Option<u32>,
    /// Minutes from the handoff to the resolution.
    #[serde(default)]
    pub resolution_minutes: Option<u32>,
}

impl SlaConfig {
    pub fn validate(&self) -> ApiResult<()> {
        check::range("sla.at_risk_percent", self.at_risk_percent, 1, 100)?;
        for (i, p) in self.policies.iter().enumerate() {
            let field = format!("sla.policies[{i}]");
            if !["low", "normal", "high", "urgent"].contains(&p.priority.as_str()) {
                return Err(ApiError::validation(
                    format!("{field}.priority"),
                    "low, normal, high or urgent",
                ));
            }
            if self.policies[..i].iter().any(|o| o.priority == p.priority) {
                return Err(ApiError::validation(
                    format!("{field}.priority"),
                    "one policy per priority",
                ));
            }
            for (name, v) in [
                ("first_response_minutes", p.first_response_minutes),
                ("resolution_minutes", p.resolution_minutes),
            ] {
                if let Some(v) = v {
                    check::range(&format!("{field}.{name}"), v, 1, 525_600)?;
                }
            }
        }
        Ok(())
    }

    fn policy(&self, priority: &str) -> Option<&SlaPolicy> {
        self.policies.iter().find(|p| p.priority == priority)
    }
}

/// Open intervals of one local day, in minutes from its midnight.
fn open_minutes(hours: &BusinessHours, weekday: usize) -> Vec<(i64, i64)> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let parse = |s: &str| -> Option<i64> {
        let (h, m) = s.split_once(':')?;
        Some(h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
    };
    hours
        .days
        .iter()
        .filter(|d| DAYS.get(weekday) == Some(&d.day.as_str()))
        .filter_map(|d| Some((parse(&d.open)?, parse(&d.close)?)))
        .filter(|(o, c)| o < c)
        .collect()
}

/// Business time between two instants (all of it when no hours are set). Bounded: at most
/// 400 days are walked.
pub fn business_ms(hours: &BusinessHours, start: i64, end: i64) -> i64 {
    if end <= start {
        return 0;
    }
    if hours.days.is_empty() {
        return end - start;
    }
    let off = i64::from(hours.utc_offset_minutes) * 60_000;
    let (ls, le) = (start + off, end + off);
    let mut total = 0;
    let mut day = ls.div_euclid(DAY_MS);
    let last = le.div_euclid(DAY_MS).min(day + 400);
    while day <= last {
        let weekday = (day + 3).rem_euclid(7) as usize;
        for (o, c) in open_minutes(hours, weekday) {
            let (a, b) = (day * DAY_MS + o * 60_000, day * DAY_MS + c * 60_000);
            total += (b.min(le) - a.max(ls)).max(0);
        }
        day += 1;
    }
    total
}

/// The instant at which `target` business milliseconds will have passed since `start`
/// (`None` when the hours leave no open time within 400 days).
pub fn due_at(hours: &BusinessHours, start: i64, target: i64) -> Option<i64> {
    if hours.days.is_empty() {
        return Some(start + target);
    }
    let off = i64::from(hours.utc_offset_minutes) * 60_000;
    let ls = start + off;
    let mut left = target;
    let first = ls.div_euclid(DAY_MS);
    for day in first..first + 400 {
        let weekday = (day + 3).rem_euclid(7) as usize;
        for (o, c) in open_minutes(hours, weekday) {
            let a = (day * DAY_MS + o * 60_000).max(ls);
            let b = day * DAY_MS + c * 60_000;
            if b <= a {
                continue;
            }
            if b - a >= left {
                return Some(a + left - off);
            }
            left -= b - a;
        }
    }
    None
}

#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
pub struct Compliance {
    /// Conversations with this target whose clock has stopped or run out.
    pub measured: i64,
    pub breached: i64,
    /// Percent of measured conversations within target.
    pub met_percent: Option<f64>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PriorityCompliance {
    pub priority: String,
    pub first_response: Compliance,
    pub resolution: Compliance,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AtRisk {
    pub conversation_id: String,
    pub priority: String,
    pub status: String,
    pub assignee_id: Option<String>,
    pub subject: Option<String>,
    /// `first_response` or `resolution`: the clock that is running out.
    pub clock: String,
    /// Business time elapsed and allowed.
    pub elapsed_ms: i64,
    pub target_ms: i64,
    pub due_at: Option<i64>,
    pub breached: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SlaReport {
    pub from: String,
    pub to: String,
    pub policies: Vec<SlaPolicy>,
    pub business_hours: bool,
    pub first_response: Compliance,
    pub resolution: Compliance,
    pub by_priority: Vec<PriorityCompliance>,
    /// Waiting conversations near or past a target, soonest due first.
    pub at_risk: Vec<AtRisk>,
}

/// One conversation's clocks: `(clock, elapsed, target, stopped)` for each target it has.
fn clocks(
    cfg: &SlaConfig,
    hours: &BusinessHours,
    r: &Row,
    now: i64,
) -> Vec<(&'static str, i64, i64, bool)> {
    let Some(policy) = cfg.policy(&r.text("priority").unwrap_or_default()) else {
        return Vec::new();
    };
    let Some(start) = r.int("handoff_at") else {
        return Vec::new();
    };
    let none = BusinessHours::default();
    let hours = if cfg.business_hours { hours } else { &none };
    let mut out = Vec::new();
    for (clock, minutes, stop) in [
        (
            "first_response",
            policy.first_response_minutes,
            r.int("first_human_at"),
        ),
        (
            "resolution",
            policy.resolution_minutes,
            r.int("resolved_at"),
        ),
    ] {
        let Some(m) = minutes else { continue };
        let end = stop.unwrap_or(now).max(start);
        out.push((
            clock,
            business_ms(hours, start, end),
            i64::from(m) * 60_000,
            stop.is_some(),
        ));
    }
    out
}

pub async fn report(
    p: &Platform,
    tenant_id: &str,
    f: &Filter,
    cfg: &SlaConfig,
    hours: &BusinessHours,
) -> ApiResult<SlaReport> {
    let db = p.db()?;
    let now = p.now_ms();
    let mut args: Vec<SqlValue> = Vec::new();
    let w = f.conversations_where("created_at", tenant_id, &mut args);
    let mut total = [Compliance::default(), Compliance::default()];
    let mut by: Vec<PriorityCompliance> = cfg
        .policies
        .iter()
        .map(|p| PriorityCompliance {
            priority: p.priority.clone(),
            first_response: Compliance::default(),
            resolution: Compliance::default(),
        })
        .collect();
    if !cfg.policies.is_empty() {
        let rows = db
            .query(
                &format!("SELECT priority, handoff_at, first_human_at, resolved_at FROM conversations WHERE {w} AND handoff_at IS NOT NULL"),
                &args,
            )
            .await?;
        for r in &rows {
            let priority = r.text("priority").unwrap_or_default();
            for (clock, elapsed, target, stopped) in clocks(cfg, hours, r, now) {
                let breached = elapsed > target;
                if !stopped && !breached {
                    continue; // still running, within target: not measured yet
                }
                let i = usize::from(clock == "resolution");
                let slot = by.iter_mut().find(|b| b.priority == priority);
                for c in [
                    Some(&mut total[i]),
                    slot.map(|b| {
                        if i == 0 {
                            &mut b.first_response
                        } else {
                            &mut b.resolution
                        }
                    }),
                ]
                .into_iter()
                .flatten()
                {
                    c.measured += 1;
                    c.breached += i64::from(breached);
                }
            }
        }
    }
    let met =
        |c: &mut Compliance| c.met_percent = super::percent(c.measured - c.breached, c.measured);
    total.iter_mut().for_each(met);
    for b in by.iter_mut() {
        met(&mut b.first_response);
        met(&mut b.resolution);
    }
    let at_risk = at_risk(p, tenant_id, cfg, hours).await?;
    let [first_response, resolution] = total;
    Ok(SlaReport {
        from: f.local_day(f.from),
        to: f.local_day(f.to - 1),
        policies: cfg.policies.clone(),
        business_hours: cfg.business_hours,
        first_response,
        resolution,
        by_priority: by,
        at_risk,
    })
}

/// Waiting conversations past `at_risk_percent` of a running clock (or past it), soonest due
/// first; at most 200.
pub async fn at_risk(
    p: &Platform,
    tenant_id: &str,
    cfg: &SlaConfig,
    hours: &BusinessHours,
) -> ApiResult<Vec<AtRisk>> {
    if cfg.policies.is_empty() {
        return Ok(Vec::new());
    }
    let now = p.now_ms();
    let rows = p
        .db()?
        .query(
            "SELECT id, priority, status, assignee_id, subject, handoff_at, first_human_at, resolved_at FROM conversations
             WHERE tenant_id = ?1 AND status IN ('open', 'pending_human') AND handoff_at IS NOT NULL LIMIT 2000",
            &crate::params![tenant_id],
        )
        .await?;
    let none = BusinessHours::default();
    let effective = if cfg.business_hours { hours } else { &none };
    let mut out = Vec::new();
    for r in &rows {
        for (clock, elapsed, target, stopped) in clocks(cfg, hours, r, now) {
            if stopped || elapsed * 100 < target * i64::from(cfg.at_risk_percent) {
                continue;
            }
            let start = r.int("handoff_at").unwrap_or(now);
            out.push(AtRisk {
                conversation_id: r.text("id").unwrap_or_default(),
                priority: r.text("priority").unwrap_or_default(),
                status: r.text("status").unwrap_or_default(),
                assignee_id: r.text("assignee_id"),
                subject: r.text("subject"),
                clock: clock.into(),
                elapsed_ms: elapsed,
                target_ms: target,
                due_at: due_at(effective, start, target),
                breached: elapsed > target,
            });
        }
    }
    out.sort_by_key(|a| (a.due_at.unwrap_or(i64::MAX), a.conversation_id.clone()));
    out.truncate(200);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::config::DayHours;

    fn weekdays_9_to_17(offset: i32) -> BusinessHours {
        BusinessHours {
            utc_offset_minutes: offset,
            days: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .map(|d| DayHours {
                    day: d.to_string(),
                    open: "09:00".into(),
                    close: "17:00".into(),
                })
                .collect(),
        }
    }

    // 2026-11-27 is a Friday; 00:00 UTC.
    const FRI: i64 = 1_795_737_600_000;
    const H: i64 = 3_600_000;

    #[test]
    fn business_time_skips_nights_and_weekends() {
        let h = weekdays_9_to_17(0);
        // Friday 16:00 → Monday 10:00 is two business hours.
        assert_eq!(
            business_ms(&h, FRI + 16 * H, FRI + 3 * 24 * H + 10 * H),
            2 * H
        );
        assert_eq!(
            due_at(&h, FRI + 16 * H, 2 * H),
            Some(FRI + 3 * 24 * H + 10 * H)
        );
        // Without hours the clock is the wall clock.
        assert_eq!(business_ms(&BusinessHours::default(), 0, 5 * H), 5 * H);
        // The offset moves the opening: 09:00 at UTC+2 is 07:00 UTC.
        let h = weekdays_9_to_17(120);
        assert_eq!(business_ms(&h, FRI + 6 * H, FRI + 8 * H), H);
    }

    #[test]
    fn policies_are_checked() {
        let mut c = SlaConfig::default();
        c.policies.push(SlaPolicy {
            priority: "rush".into(),
            first_response_minutes: Some(5),
            resolution_minutes: None,
        });
        assert!(c.validate().is_err());
        c.policies[0].priority = "urgent".into();
        assert!(c.validate().is_ok());
        c.policies.push(c.policies[0].clone());
        assert!(c.validate().is_err());
    }
}
