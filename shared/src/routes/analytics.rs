//! The analytics reports (`analytics:read`, the `analytics` flag): overview, agents, the live
//! board, SLAs, each as CSV, and the recompute for history.

use crate::analytics::{self, agents, export, report, sla, Filter};
use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::router::{Ctx, QueryParam};
use crate::tenancy::TenantConfig;
use serde::Serialize;

/// The period and slice parameters every report takes.
pub const FILTERS: &[QueryParam] = &[
    QueryParam::text(
        "from",
        10,
        "First day, YYYY-MM-DD in the tenant's time zone (business_hours.utc_offset_minutes)",
    ),
    QueryParam::text("to", 10, "Last day (included), YYYY-MM-DD; default today"),
    QueryParam::int(
        "days",
        1,
        analytics::MAX_DAYS,
        "Days ending at `to` when `from` is absent (default 30)",
    ),
    QueryParam::one_of("channel", Channel::NAMES, "Only this channel"),
    QueryParam::text(
        "agent_id",
        64,
        "Only this agent's conversations and messages",
    ),
    QueryParam::text("skill", 32, "Only agents with this skill (a team)"),
];

/// The export's parameters: the filters and which report.
pub const EXPORT: &[QueryParam] = &[
    FILTERS[0],
    FILTERS[1],
    FILTERS[2],
    FILTERS[3],
    FILTERS[4],
    FILTERS[5],
    QueryParam::one_of("report", export::REPORTS, "Which table (default summary)"),
];

async fn setup(cx: &Ctx, req: &Request) -> ApiResult<(String, TenantConfig, Filter)> {
    let tenant_id = cx.tenant_id()?.to_string();
    crate::tenancy::flags::require(&cx.platform, &tenant_id, "analytics").await?;
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, &tenant_id).await?;
    // The pipeline has checked `days` and `channel` against their declarations (422 before
    // this runs); the dates are checked by `Filter::parse`.
    let days = req.query_param("days").and_then(|d| d.parse().ok());
    let mut f = Filter::parse(
        req.query_param("from").as_deref(),
        req.query_param("to").as_deref(),
        days,
        cx.now(),
        cfg.business_hours.utc_offset_minutes,
    )?;
    f.channel = req.query_param("channel").and_then(|c| Channel::parse(&c));
    f.agent_id = req.query_param("agent_id").filter(|a| !a.is_empty());
    f.skill = req.query_param("skill").filter(|s| !s.is_empty());
    Ok((tenant_id, cfg, f))
}

/// `GET /v1/analytics/overview`.
pub async fn overview(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (tenant_id, _, f) = setup(cx, &req).await?;
    Ok(Response::json(
        200,
        &report::overview(&cx.platform, &tenant_id, &f).await?,
    ))
}

/// `GET /v1/analytics/agents`.
pub async fn agents(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (tenant_id, cfg, f) = setup(cx, &req).await?;
    Ok(Response::json(
        200,
        &agents::leaderboard(&cx.platform, &tenant_id, &f, &cfg.analytics).await?,
    ))
}

/// `GET /v1/analytics/agents/live`.
pub async fn live(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    crate::tenancy::flags::require(&cx.platform, tenant_id, "analytics").await?;
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, tenant_id).await?;
    Ok(Response::json(
        200,
        &agents::live(&cx.platform, tenant_id, &cfg.analytics).await?,
    ))
}

/// `GET /v1/analytics/sla`.
pub async fn sla(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (tenant_id, cfg, f) = setup(cx, &req).await?;
    Ok(Response::json(
        200,
        &sla::report(&cx.platform, &tenant_id, &f, &cfg.sla, &cfg.business_hours).await?,
    ))
}

/// `GET /v1/analytics/export?report=…`: one report as CSV.
pub async fn export(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (tenant_id, cfg, f) = setup(cx, &req).await?;
    let name = req
        .query_param("report")
        .unwrap_or_else(|| "summary".into());
    let p = &cx.platform;
    let body = match name.as_str() {
        "agents" => export::agents(&agents::leaderboard(p, &tenant_id, &f, &cfg.analytics).await?),
        "sla" | "at_risk" => export::sla(
            &name,
            &sla::report(p, &tenant_id, &f, &cfg.sla, &cfg.business_hours).await?,
        ),
        n if export::REPORTS.contains(&n) => {
            export::overview(n, &report::overview(p, &tenant_id, &f).await?)
        }
        _ => return Err(ApiError::validation("report", export::REPORTS.join(", "))),
    };
    let file = format!(
        "attachment; filename=\"{name}-{}-{}.csv\"",
        f.local_day(f.from),
        f.local_day(f.to - 1)
    );
    Ok(Response::text(200, "text/csv; charset=utf-8", body)
        .with_header("content-disposition", &file))
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Recomputed {
    /// Conversations whose contribution the rollups now hold.
    pub conversations: i64,
}

/// `POST /v1/analytics/recompute`: rebuilds the tenant's rollups from its mirror.
pub async fn recompute(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    crate::tenancy::flags::require(&cx.platform, tenant_id, "analytics").await?;
    let db = cx.platform.db()?;
    db.batch(analytics::rollup::recompute(tenant_id)).await?;
    let n = db
        .query(
            "SELECT COUNT(*) n FROM conversations WHERE tenant_id = ?1 AND rolled = 1",
            &crate::params![tenant_id],
        )
        .await?
        .first()
        .and_then(|r| r.int("n"))
        .unwrap_or(0);
    crate::audit::record(
        cx,
        tenant_id,
        "analytics.recompute",
        ("tenant", tenant_id),
        None,
        Some(serde_json::json!({ "conversations": n })),
    )
    .await?;
    Ok(Response::json(200, &Recomputed { conversations: n }))
}
