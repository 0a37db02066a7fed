//! `/v1/crm/...`: connect a CRM (OAuth), see connections, push everything again, disconnect.
//! The callback is public: the single-use `state` it carries is what authenticates it.

use super::sign_in::link_base;
use crate::audit;
use crate::crm::{connection, jobs, Provider};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::params;
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

fn provider(req: &Request) -> ApiResult<Provider> {
    Provider::parse(req.param("provider")).ok_or_else(|| ApiError::not_found("CRM provider"))
}

#[derive(Serialize, JsonSchema)]
pub struct Connections {
    pub items: Vec<connection::Connection>,
}

pub async fn list(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &Connections {
            items: connection::list(&cx.platform, cx.tenant_id()?).await?,
        },
    ))
}

#[derive(Serialize, JsonSchema)]
pub struct Authorize {
    /// Send the admin's browser here; the CRM redirects back to the callback.
    pub authorize_url: String,
}

pub async fn connect(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let provider = provider(&req)?;
    let base = link_base(&cx.platform, &req);
    let url = connection::start(&cx.platform, cx.tenant_id()?, provider, &base).await?;
    Ok(Response::json(200, &Authorize { authorize_url: url }))
}

/// The provider's redirect: exchanges the code, then sends the browser to the console.
pub async fn callback(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let provider = provider(&req)?;
    let base = link_base(&cx.platform, &req);
    let console = format!("{}/console", base.trim_end_matches('/'));
    let (code, state) = match (req.query_param("code"), req.query_param("state")) {
        (Some(c), Some(s)) if c.len() <= 2048 && s.len() <= 256 => (c, s),
        _ => {
            // The admin declined, or the provider sent an error: say so in the console.
            return Ok(Response::new(302).with_header(
                "location",
                format!("{console}#crm={}:declined", provider.as_str()),
            ));
        }
    };
    let tenant_id = connection::finish(&cx.platform, provider, &code, &state, &base).await?;
    audit::record_system(
        &cx.platform,
        &tenant_id,
        ("oauth", provider.as_str()),
        &cx.request_id,
        "crm.connect",
        ("crm", provider.as_str()),
        None,
    )
    .await?;
    Ok(Response::new(302).with_header(
        "location",
        format!("{console}#crm={}:connected", provider.as_str()),
    ))
}

pub async fn disconnect(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let provider = provider(&req)?;
    let tenant_id = cx.tenant_id()?;
    if !connection::disconnect(&cx.platform, tenant_id, provider).await? {
        return Err(ApiError::not_found("CRM connection"));
    }
    audit::record(
        cx,
        tenant_id,
        "crm.disconnect",
        ("crm", provider.as_str()),
        None,
        None,
    )
    .await?;
    Ok(Response::new(204))
}

/// The most leads one sync request queues.
const SYNC_MAX: i64 = 1000;

#[derive(Serialize, JsonSchema)]
pub struct Synced {
    /// Leads queued for pushing.
    pub queued: usize,
}

pub async fn sync(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let provider = provider(&req)?;
    let tenant_id = cx.tenant_id()?;
    if connection::get(&cx.platform, tenant_id, provider)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("CRM connection"));
    }
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT id FROM leads WHERE tenant_id = ?1 ORDER BY updated_at DESC LIMIT ?2",
            &params![tenant_id, SYNC_MAX],
        )
        .await?;
    let ids: Vec<String> = rows.iter().filter_map(|r| r.text("id")).collect();
    for id in &ids {
        jobs::enqueue(&cx.platform, tenant_id, "lead", id).await?;
    }
    audit::record(
        cx,
        tenant_id,
        "crm.sync",
        ("crm", provider.as_str()),
        None,
        Some(json!({ "leads": ids.len() })),
    )
    .await?;
    Ok(Response::json(202, &Synced { queued: ids.len() }))
}
