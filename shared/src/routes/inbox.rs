//! The agents' live inbox feed: a WebSocket per console (presence for routing), the same events
//! over SSE, and who is online.

use crate::auth::live::Grant;
use crate::auth::Permission;
use crate::conversations::client;
use crate::conversations::sse;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Body, Request, Response};
use crate::objects::{GRANT_HEADER, PARTICIPANT_HEADER};
use crate::router::{Ctx, Outcome, Upgrade};
use crate::users::store as users;
use std::rc::Rc;

/// The header carrying an agent's skills to the inbox object (for skill-based routing).
pub const SKILLS_HEADER: &str = "x-prism-skills";

pub async fn live(cx: &Ctx, req: Request) -> ApiResult<Outcome> {
    if !cx.platform.runtime.supports_websockets() {
        return Err(ApiError::new(
            ErrorCode::NotSupported,
            "this runtime has no WebSockets; use GET /v1/inbox/events (SSE)",
        ));
    }
    if !req.is_websocket_upgrade() {
        return Err(ApiError::new(
            ErrorCode::UpgradeRequired,
            "this endpoint only accepts WebSocket upgrades",
        )
        .with_header("upgrade", "websocket"));
    }
    let principal = cx.principal()?;
    let user_id = principal
        .user_id()
        .ok_or_else(|| ApiError::forbidden("the live inbox is for agents (use an agent token)"))?;
    let user = users::get(cx.platform.db()?, principal.tenant_id(), user_id).await?;
    let grant = Grant::new(principal, Permission::ConversationsRead, None, cx.now());
    Ok(Outcome::Upgrade(Upgrade {
        target: client::inbox_ref(principal.tenant_id()),
        path: "/live".into(),
        headers: vec![
            (
                PARTICIPANT_HEADER.into(),
                serde_json::to_string(&principal.participant()).unwrap_or_default(),
            ),
            (
                GRANT_HEADER.into(),
                serde_json::to_string(&grant).unwrap_or_default(),
            ),
            (
                SKILLS_HEADER.into(),
                serde_json::to_string(&user.skills).unwrap_or_default(),
            ),
        ],
    }))
}

pub async fn events(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?.to_string();
    let after = req
        .header("last-event-id")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| req.query_param("after").and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let platform = cx.platform.clone();
    let poll: sse::Poll = Rc::new(move |after| {
        let platform = platform.clone();
        let tenant_id = tenant_id.clone();
        Box::pin(async move {
            let page = client::inbox_events(&platform, &tenant_id, after, 200)
                .await
                .map_err(|_| ())?;
            let mut last = after;
            let batch: sse::Batch = page
                .events
                .into_iter()
                .map(|e| {
                    last = e.seq;
                    let seq = e.seq;
                    let frame = crate::objects::inbox::InboxFrame::Event(e);
                    (
                        Some(seq),
                        "event",
                        serde_json::to_string(&frame).unwrap_or_default(),
                    )
                })
                .collect();
            Ok((batch, last))
        })
    });
    let mut r = Response::new(200);
    r.headers
        .set("content-type", "text/event-stream; charset=utf-8");
    r.headers.set("cache-control", "no-cache, no-transform");
    r.body = Body::Stream(sse::stream(
        after,
        sse::event(None, "welcome", r#"{"type":"welcome"}"#),
        poll,
        cx.platform.timer.clone(),
    ));
    Ok(r)
}

pub async fn online(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &client::inbox_online(&cx.platform, cx.tenant_id()?).await?,
    ))
}

pub async fn history(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let after = req
        .query_param("after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Response::json(
        200,
        &client::inbox_events(&cx.platform, cx.tenant_id()?, after, 200).await?,
    ))
}
