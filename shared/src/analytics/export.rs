//! Every report as CSV (RFC 4180; cells that a spreadsheet would run as a formula are defused
//! by `leads::csv::cell`). One table per `report` name, from the same structs the JSON routes
//! return, so the two cannot disagree.

use super::agents::Leaderboard;
use super::report::Overview;
use super::sla::SlaReport;
use crate::leads::csv::cell;

/// The report names `GET /v1/analytics/export?report=` accepts.
pub const REPORTS: &[&str] = &[
    "summary",
    "by_day",
    "channels",
    "busiest_hours",
    "handoff_reasons",
    "models",
    "intents",
    "agents",
    "sla",
    "at_risk",
];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn overview(report: &str, o: &Overview) -> String {
    match report {
        "by_day" => table(
            &[
                "day",
                "created",
                "resolved",
                "contained",
                "handed_off",
                "messages_customer",
                "messages_ai",
                "messages_agent",
                "first_response_avg_ms",
                "resolution_avg_ms",
                "sentiment",
            ],
            o.by_day
                .iter()
                .map(|d| {
                    vec![
                        d.day.clone(),
                        d.created.to_string(),
                        d.resolved.to_string(),
                        d.contained.to_string(),
                        d.handed_off.to_string(),
                        d.messages_customer.to_string(),
                        d.messages_ai.to_string(),
                        d.messages_agent.to_string(),
                        opt(d.first_response_avg_ms),
                        opt(d.resolution_avg_ms),
                        opt(d.sentiment),
                    ]
                })
                .collect(),
        ),
        "channels" => table(
            &[
                "channel",
                "created",
                "resolved",
                "messages_customer",
                "messages_ai",
                "messages_agent",
            ],
            o.volume
                .by_channel
                .iter()
                .map(|c| {
                    vec![
                        c.channel.clone(),
                        c.created.to_string(),
                        c.resolved.to_string(),
                        c.messages.customer.to_string(),
                        c.messages.ai.to_string(),
                        c.messages.agent.to_string(),
                    ]
                })
                .collect(),
        ),
        "busiest_hours" => {
            const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            let mut rows = Vec::new();
            for (d, hours) in o.busiest_hours.iter().enumerate() {
                for (h, n) in hours.iter().enumerate() {
                    rows.push(vec![
                        DAYS.get(d).copied().unwrap_or("").to_string(),
                        h.to_string(),
                        n.to_string(),
                    ]);
                }
            }
            table(&["weekday", "hour", "customer_messages"], rows)
        }
        "handoff_reasons" => table(
            &["reason", "conversations"],
            o.ai.handoff_reasons
                .iter()
                .map(|c| vec![c.key.clone(), c.n.to_string()])
                .collect(),
        ),
        "models" => table(
            &[
                "provider",
                "model",
                "answers",
                "tokens_in",
                "tokens_out",
                "cost_usd",
            ],
            o.ai.by_model
                .iter()
                .map(|m| {
                    vec![
                        m.provider.clone(),
                        m.model.clone(),
                        m.answers.to_string(),
                        m.tokens_in.to_string(),
                        m.tokens_out.to_string(),
                        opt(m.cost_usd),
                    ]
                })
                .collect(),
        ),
        "intents" => table(
            &["intent", "messages", "negative", "average_sentiment"],
            o.quality
                .top_intents
                .iter()
                .map(|i| {
                    vec![
                        i.intent.clone(),
                        i.messages.to_string(),
                        i.negative.to_string(),
                        opt(i.average_sentiment),
                    ]
                })
                .collect(),
        ),
        _ => summary(o),
    }
}

/// The overview's single numbers, one per row.
fn summary(o: &Overview) -> String {
    let s = &o.speed;
    let rows: Vec<(&str, String)> = vec![
        ("from", o.from.clone()),
        ("to", o.to.clone()),
        ("created", o.volume.created.to_string()),
        ("resolved", o.volume.resolved.to_string()),
        ("reopened", o.volume.reopened.to_string()),
        ("messages_customer", o.volume.messages.customer.to_string()),
        ("messages_ai", o.volume.messages.ai.to_string()),
        ("messages_agent", o.volume.messages.agent.to_string()),
        ("first_response_median_ms", opt(s.first_response.median_ms)),
        ("first_response_p90_ms", opt(s.first_response.p90_ms)),
        (
            "first_human_response_median_ms",
            opt(s.first_human_response.median_ms),
        ),
        (
            "first_human_response_p90_ms",
            opt(s.first_human_response.p90_ms),
        ),
        ("resolution_median_ms", opt(s.resolution.median_ms)),
        ("resolution_p90_ms", opt(s.resolution.p90_ms)),
        ("handle_median_ms", opt(s.handle.median_ms)),
        ("handle_p90_ms", opt(s.handle.p90_ms)),
        ("containment_percent", opt(o.ai.containment_percent)),
        ("handoff_percent", opt(o.ai.handoff_percent)),
        ("ai_answers", o.ai.answers.to_string()),
        ("ai_answers_cited", o.ai.cited.to_string()),
        ("ai_fallback_percent", opt(o.ai.fallback_percent)),
        (
            "ai_positive_rating_percent",
            opt(o.ai.ratings.ai_positive_percent),
        ),
        ("ai_cost_usd", o.ai.cost_usd.to_string()),
        ("sentiment", opt(o.quality.sentiment)),
        ("csat", opt(o.quality.csat)),
        ("nps", opt(o.quality.nps)),
    ];
    table(
        &["metric", "value"],
        rows.into_iter()
            .map(|(k, v)| vec![k.to_string(), v])
            .collect(),
    )
}

pub fn agents(l: &Leaderboard) -> String {
    table(
        &[
            "agent_id",
            "name",
            "assigned",
            "resolved",
            "resolution_percent",
            "messages",
            "first_response_median_ms",
            "first_response_p90_ms",
            "handle_median_ms",
            "rating_up",
            "rating_down",
            "csat",
            "online_ms",
            "goals_met",
        ],
        l.agents
            .iter()
            .map(|a| {
                vec![
                    a.agent_id.clone(),
                    a.name.clone().unwrap_or_default(),
                    a.assigned.to_string(),
                    a.resolved.to_string(),
                    opt(a.resolution_percent),
                    a.messages.to_string(),
                    opt(a.first_response.median_ms),
                    opt(a.first_response.p90_ms),
                    opt(a.handle.median_ms),
                    a.rating_up.to_string(),
                    a.rating_down.to_string(),
                    opt(a.csat),
                    a.online_ms.to_string(),
                    format!(
                        "{}/{}",
                        a.goals.iter().filter(|g| g.met).count(),
                        a.goals.len()
                    ),
                ]
            })
            .collect(),
    )
}

pub fn sla(report: &str, s: &SlaReport) -> String {
    if report == "at_risk" {
        return table(
            &[
                "conversation_id",
                "priority",
                "status",
                "assignee_id",
                "clock",
                "elapsed_ms",
                "target_ms",
                "due_at",
                "breached",
            ],
            s.at_risk
                .iter()
                .map(|a| {
                    vec![
                        a.conversation_id.clone(),
                        a.priority.clone(),
                        a.status.clone(),
                        a.assignee_id.clone().unwrap_or_default(),
                        a.clock.clone(),
                        a.elapsed_ms.to_string(),
                        a.target_ms.to_string(),
                        opt(a.due_at),
                        a.breached.to_string(),
                    ]
                })
                .collect(),
        );
    }
    let mut rows = Vec::new();
    let mut push = |priority: &str, clock: &str, c: &super::sla::Compliance| {
        rows.push(vec![
            priority.to_string(),
            clock.to_string(),
            c.measured.to_string(),
            c.breached.to_string(),
            opt(c.met_percent),
        ])
    };
    push("all", "first_response", &s.first_response);
    push("all", "resolution", &s.resolution);
    for b in &s.by_priority {
        push(&b.priority, "first_response", &b.first_response);
        push(&b.priority, "resolution", &b.resolution);
    }
    table(
        &["priority", "clock", "measured", "breached", "met_percent"],
        rows,
    )
}
