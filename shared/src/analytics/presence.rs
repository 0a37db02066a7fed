//! Agents' time online: each inbox socket is a session from connect to close, recorded when it
//! closes. An agent with two tabs open has overlapping sessions, so reports take the union of
//! an agent's intervals within the period. A socket still open is not counted until it closes
//! (the live board shows who is online now).

use crate::error::ApiResult;
use crate::params;
use crate::ports::SqlDatabase;
use std::collections::BTreeMap;

/// The longest one session may count: a socket kept open over a long weekend is not a shift.
const MAX_SESSION_MS: i64 = 24 * 3_600_000;

/// Records a closed inbox socket's session.
pub async fn record(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    user_id: &str,
    started_at: i64,
    ended_at: i64,
) -> ApiResult<()> {
    if ended_at <= started_at {
        return Ok(());
    }
    let started_at = started_at.max(ended_at - MAX_SESSION_MS);
    db.execute(
        "INSERT INTO agent_sessions (tenant_id, user_id, started_at, ended_at) VALUES (?1, ?2, ?3, ?4)",
        &params![tenant_id, user_id, started_at, ended_at],
    )
    .await?;
    Ok(())
}

/// Milliseconds each agent was online within `[from, to)`.
pub async fn online_ms(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    from: i64,
    to: i64,
) -> ApiResult<BTreeMap<String, i64>> {
    let rows = db
        .query(
            "SELECT user_id, started_at, ended_at FROM agent_sessions
             WHERE tenant_id = ?1 AND ended_at > ?2 AND started_at < ?3 ORDER BY user_id, started_at LIMIT 50000",
            &params![tenant_id, from, to],
        )
        .await?;
    let mut by_agent: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for r in &rows {
        let (Some(s), Some(e)) = (r.int("started_at"), r.int("ended_at")) else {
            continue;
        };
        by_agent
            .entry(r.text("user_id").unwrap_or_default())
            .or_default()
            .push((s.max(from), e.min(to)));
    }
    Ok(by_agent
        .into_iter()
        .map(|(agent, spans)| (agent, union_ms(spans)))
        .collect())
}

/// The length of the union of intervals.
fn union_ms(mut spans: Vec<(i64, i64)>) -> i64 {
    spans.sort_unstable();
    let mut total = 0;
    let mut current: Option<(i64, i64)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    total + current.map(|(s, e)| e - s).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn overlapping_tabs_count_once() {
        assert_eq!(super::union_ms(vec![(0, 10), (5, 15), (20, 30)]), 25);
        assert_eq!(super::union_ms(vec![(20, 30), (0, 40)]), 40);
        assert_eq!(super::union_ms(vec![]), 0);
    }
}
