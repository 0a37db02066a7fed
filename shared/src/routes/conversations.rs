//! Conversations over HTTP: start one (widget or server), the live WebSocket hand-off, the SSE
//! and POST fallbacks, history, and the agent actions (assign, status, tags, notes, handoff).

use crate::ai::analysis::Intent;
use crate::audit;
use crate::auth::jwt::JwtKeys;
use crate::auth::live::Grant;
use crate::auth::Permission;
use crate::auth::{identity, Actor};
use crate::conversations::client::{self, Conversation};
use crate::conversations::engine::{History, InitRequest, PostRequest, Posted, UpdateRequest};
use crate::conversations::mirror::{self, ConversationSummary, Filter};
use crate::conversations::model::{
    validate_tags, Author, AuthorKind, Channel, Meta, Participant, Priority, Status,
};
use crate::conversations::protocol::{self, NoteView};
use crate::conversations::{canned, customers, sse, tokens};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Body, Request, Response};
use crate::ids::{looks_like, new_id};
use crate::input::{self, check};
use crate::objects::gate::BucketSpec;
use crate::objects::{GRANT_HEADER, PARTICIPANT_HEADER};
use crate::pagination::PageRequest;
use crate::router::{Ctx, Outcome, Upgrade};
use crate::users::store as users;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartConversation {
    /// Anonymous visitor id from `/v1/widget/identify` (or none: one is created).
    #[serde(default)]
    pub visitor_id: Option<String>,
    /// A signed-in customer: the tenant's user id and its `user_hash`.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_hash: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `web` (default) or `api`.
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The customer's language (BCP 47, e.g. `es`): the widget sends the one it speaks.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Started {
    pub conversation: Meta,
    /// The customer's conversation token (WebSocket `?token=`, SSE, POST fallbacks).
    pub token: String,
    pub expires_in: i64,
    /// The visitor id to keep (anonymous customers), so a returning visitor keeps their history.
    pub visitor_id: Option<String>,
}

struct CustomerIdentity {
    kind: &'static str,
    external_id: String,
    visitor_id: Option<String>,
}

async fn resolve_identity(
    cx: &Ctx,
    tenant_id: &str,
    user_id: Option<&str>,
    user_hash: Option<&str>,
    visitor_id: Option<&str>,
) -> ApiResult<CustomerIdentity> {
    match (user_id, user_hash) {
        (Some(uid), Some(hash)) => {
            check::text("user_id", uid, 1, 200)?;
            let secret = crate::tenancy::secrets::identity(&cx.platform, tenant_id)
                .await?
                .ok_or_else(|| ApiError::not_found("tenant"))?;
            if !identity::verify(&secret, uid, hash) {
                return Err(
                    ApiError::forbidden("identity verification failed").with_field("user_hash")
                );
            }
            Ok(CustomerIdentity {
                kind: "verified",
                external_id: uid.into(),
                visitor_id: None,
            })
        }
        (Some(_), None) | (None, Some(_)) => Err(ApiError::validation(
            "user_hash",
            "user_id and user_hash go together",
        )),
        (None, None) => {
            let vid = match visitor_id {
                Some(v) if looks_like(v, "vis") => v.to_string(),
                Some(_) => return Err(ApiError::validation("visitor_id", "not a visitor id")),
                None => new_id(&*cx.platform.random, "vis"),
            };
            Ok(CustomerIdentity {
                kind: "anonymous",
                external_id: vid.clone(),
                visitor_id: Some(vid),
            })
        }
    }
}

pub async fn start(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: StartConversation = input::json(&req)?;
    let tenant_id = cx.tenant_id()?.to_string();
    let channel = body.channel.unwrap_or(Channel::Web);
    if !matches!(channel, Channel::Web | Channel::Api) {
        return Err(ApiError::validation(
            "channel",
            "conversations started here are web or api",
        ));
    }
    if let Some(n) = &body.name {
        check::text("name", n, 1, 100)?;
    }
    if let Some(e) = &body.email {
        check::email("email", e)?;
    }
    if let Some(s) = &body.subject {
        check::text("subject", s, 1, 200)?;
    }
    validate_tags(&body.tags)?;
    if let Some(l) = &body.language {
        check::language("language", l)?;
    }
    let who = resolve_identity(
        cx,
        &tenant_id,
        body.user_id.as_deref(),
        body.user_hash.as_deref(),
        body.visitor_id.as_deref(),
    )
    .await?;
    charge_start(cx, &req).await?;
    let p = &cx.platform;
    let now = cx.now();
    let customer = customers::find_or_create(
        p.db()?,
        &*p.random,
        &tenant_id,
        &customers::Identity {
            kind: who.kind,
            external_id: &who.external_id,
            name: body.name.as_deref(),
            email: body.email.as_deref(),
            phone: None,
        },
        now,
    )
    .await?;
    let name = customer.name.clone().unwrap_or_else(|| "Visitor".into());
    let conversation_id = new_id(&*p.random, "cnv");
    let meta = Conversation::new(p, &tenant_id, &conversation_id)
        .init(&InitRequest {
            tenant_id: tenant_id.clone(),
            conversation_id: conversation_id.clone(),
            customer_id: customer.id.clone(),
            customer_name: name.clone(),
            channel,
            subject: body.subject,
            tags: body.tags,
            language: body.language,
        })
        .await?;
    let keys = JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
    let token = tokens::issue(
        &keys,
        &tenant_id,
        &conversation_id,
        &customer.id,
        &name,
        now,
    )?;
    Ok(Response::json(
        201,
        &Started {
            conversation: meta,
            token,
            expires_in: tokens::TTL_SECS,
            visitor_id: who.visitor_id,
        },
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    #[serde(default)]
    pub visitor_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_hash: Option<String>,
}

/// `POST /v1/widget/resume`: the customer's latest unfinished web conversation with a fresh
/// token, so a verified customer sees their history on any device (and a returning visitor
/// after clearing nothing but the tab). 404 when there is none: the widget then waits for the
/// first message before starting one.
pub async fn resume(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Resume = input::json(&req)?;
    if body.user_id.is_none() && body.visitor_id.is_none() {
        return Err(ApiError::validation(
            "visitor_id",
            "give the visitor_id or user_id + user_hash",
        ));
    }
    let tenant_id = cx.tenant_id()?.to_string();
    let who = resolve_identity(
        cx,
        &tenant_id,
        body.user_id.as_deref(),
        body.user_hash.as_deref(),
        body.visitor_id.as_deref(),
    )
    .await?;
    let db = cx.platform.db()?;
    let none = || ApiError::not_found("conversation");
    let customer = customers::find(db, &tenant_id, who.kind, &who.external_id)
        .await?
        .ok_or_else(none)?;
    let conversation_id = mirror::open_for_customer(db, &tenant_id, &customer.id, Channel::Web)
        .await?
        .ok_or_else(none)?;
    let meta = Conversation::new(&cx.platform, &tenant_id, &conversation_id)
        .meta()
        .await?;
    let keys = JwtKeys::from_config(cx.platform.config.get("jwt_signing_keys"))?;
    let token = tokens::issue(
        &keys,
        &tenant_id,
        &conversation_id,
        &customer.id,
        &meta.customer_name,
        cx.now(),
    )?;
    Ok(Response::json(
        200,
        &Started {
            conversation: meta,
            token,
            expires_in: tokens::TTL_SECS,
            visitor_id: who.visitor_id,
        },
    ))
}

/// Anonymous visitors may start only so many conversations per address: each one comes with
/// its own customer budget, so unlimited starts would multiply what one address may send.
async fn charge_start(cx: &Ctx, req: &Request) -> ApiResult<()> {
    let principal = cx.principal()?;
    if !principal.is_public_key() {
        return Ok(());
    }
    let limit = principal.tenant.rate_limits().conversation_starts;
    let ip = crate::auth::gateway::client_ip(&cx.platform, req);
    let result = crate::auth::gateway::charge_bucket(
        &cx.platform,
        principal.tenant_id(),
        principal.tenant.version,
        BucketSpec {
            name: format!("start:{ip}"),
            count: limit.count,
            period_ms: limit.period_ms,
        },
    )
    .await?;
    if result.allowed {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::RateLimited,
        "too many conversations started from this address; retry later",
    )
    .with_header(
        "retry-after",
        ((result.retry_after_ms + 999) / 1000).max(1).to_string(),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRefresh {
    #[serde(default)]
    pub visitor_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub user_hash: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct TokenIssued {
    pub token: String,
    pub expires_in: i64,
}

/// A fresh conversation token for the conversation's own customer (after expiry or on another
/// device): the same identity proof as at the start is required.
pub async fn refresh_token(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: TokenRefresh = input::json(&req)?;
    let tenant_id = cx.tenant_id()?.to_string();
    let conversation_id = conversation_id(&req)?;
    let meta = Conversation::new(&cx.platform, &tenant_id, conversation_id)
        .meta()
        .await?;
    if body.user_id.is_none() && body.visitor_id.is_none() {
        return Err(ApiError::validation(
            "visitor_id",
            "give the visitor_id or user_id + user_hash",
        ));
    }
    let who = resolve_identity(
        cx,
        &tenant_id,
        body.user_id.as_deref(),
        body.user_hash.as_deref(),
        body.visitor_id.as_deref(),
    )
    .await?;
    let customer = customers::get(cx.platform.db()?, &tenant_id, &meta.customer_id).await?;
    if customer.kind != who.kind || customer.external_id != who.external_id {
        return Err(ApiError::not_found("conversation"));
    }
    let keys = JwtKeys::from_config(cx.platform.config.get("jwt_signing_keys"))?;
    let token = tokens::issue(
        &keys,
        &tenant_id,
        conversation_id,
        &customer.id,
        &meta.customer_name,
        cx.now(),
    )?;
    Ok(Response::json(
        200,
        &TokenIssued {
            token,
            expires_in: tokens::TTL_SECS,
        },
    ))
}

/// The route's conversation id, if it is one the platform could have issued: anything else is
/// refused before a live object is ever addressed.
fn conversation_id(req: &Request) -> ApiResult<&str> {
    let id = req.param("conversation_id");
    if looks_like(id, "cnv") {
        Ok(id)
    } else {
        Err(ApiError::not_found("conversation"))
    }
}

/// The conversation a route is about, after checking a customer only reaches their own.
pub(super) fn conversation<'a>(cx: &'a Ctx, req: &Request) -> ApiResult<Conversation<'a>> {
    let principal = cx.principal()?;
    let id = conversation_id(req)?;
    if let Actor::Customer {
        conversation_id, ..
    } = &principal.actor
    {
        if conversation_id != id {
            return Err(ApiError::not_found("conversation"));
        }
    }
    Ok(Conversation::new(&cx.platform, principal.tenant_id(), id))
}

/// WebSocket `GET /v1/conversations/{id}/live`: the edge authenticates, the conversation object
/// takes the socket.
pub async fn live(cx: &Ctx, req: Request) -> ApiResult<Outcome> {
    if !cx.platform.runtime.supports_websockets() {
        return Err(ApiError::new(
            ErrorCode::NotSupported,
            "this runtime has no WebSockets; use GET …/events (SSE) and POST …/messages",
        ));
    }
    let conv = conversation(cx, &req)?;
    conv.meta().await?;
    if !req.is_websocket_upgrade() {
        return Err(ApiError::new(
            ErrorCode::UpgradeRequired,
            "this endpoint only accepts WebSocket upgrades",
        )
        .with_header("upgrade", "websocket"));
    }
    let principal = cx.principal()?;
    let ip = principal
        .is_customer()
        .then(|| crate::auth::gateway::client_ip(&cx.platform, &req));
    let grant = Grant::new(principal, Permission::ConversationsWrite, ip, cx.now());
    Ok(Outcome::Upgrade(Upgrade {
        target: conv.target().clone(),
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
        ],
    }))
}

/// `GET /v1/conversations/{id}/events`: Server-Sent Events with `Last-Event-ID` resume.
pub async fn events(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let conv = conversation(cx, &req)?;
    let staff = !cx.principal()?.is_customer();
    let meta = conv.meta().await?;
    let after = req
        .header("last-event-id")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| req.query_param("after_seq").and_then(|v| v.parse().ok()))
        .unwrap_or(0)
        .max(0);
    let platform = cx.platform.clone();
    let (tenant_id, conversation_id) = (meta.tenant_id.clone(), meta.conversation_id.clone());
    let last_status = Rc::new(RefCell::new(meta.status));
    let poll: sse::Poll = Rc::new(move |after| {
        let platform = platform.clone();
        let (tenant_id, conversation_id) = (tenant_id.clone(), conversation_id.clone());
        let last_status = last_status.clone();
        Box::pin(async move {
            let h = Conversation::new(&platform, &tenant_id, &conversation_id)
                .history(Some(after), None, 200, staff)
                .await
                .map_err(|_| ())?;
            let mut batch: sse::Batch = Vec::new();
            let mut last = after;
            for m in h.messages {
                last = m.seq;
                let frame = protocol::ServerFrame::Message(m.clone());
                batch.push((Some(m.seq), "message", frame.to_text()));
            }
            if *last_status.borrow() != h.status {
                *last_status.borrow_mut() = h.status;
                batch.push((
                    None,
                    "status",
                    json!({ "type": "status", "status": h.status }).to_string(),
                ));
            }
            Ok((batch, last))
        })
    });
    let welcome = sse::event(
        None,
        "welcome",
        &json!({ "type": "welcome", "conversation_id": meta.conversation_id, "status": meta.status, "last_seq": meta.last_seq }).to_string(),
    );
    let mut r = Response::new(200);
    r.headers
        .set("content-type", "text/event-stream; charset=utf-8");
    r.headers.set("cache-control", "no-cache, no-transform");
    r.headers.set("x-accel-buffering", "no");
    r.body = Body::Stream(sse::stream(after, welcome, poll, cx.platform.timer.clone()));
    Ok(r)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub text: String,
    /// The client's id for this message; the `Idempotency-Key` header takes precedence.
    #[serde(default)]
    pub client_msg_id: Option<String>,
}

/// `POST /v1/conversations/{id}/messages`: the HTTP path for customers (SSE fallback, Spin) and
/// agents. Retries with the same `Idempotency-Key` return the original ack and store nothing.
pub async fn send(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: SendMessage = input::json(&req)?;
    let key = req
        .header("idempotency-key")
        .map(String::from)
        .or(body.client_msg_id)
        .ok_or_else(|| {
            ApiError::validation(
                "client_msg_id",
                "send an Idempotency-Key header or client_msg_id",
            )
        })?;
    let conv = conversation(cx, &req)?;
    let principal = cx.principal()?;
    let text = match principal.actor {
        Actor::User { .. } => {
            canned::expand(cx.platform.db()?, principal.tenant_id(), &body.text).await?
        }
        _ => body.text,
    };
    protocol::validate_message(&key, &text).map_err(|e| {
        let field = if e.message.contains("client_msg_id") {
            "client_msg_id"
        } else {
            "text"
        };
        ApiError::validation(field, e.message)
    })?;
    let posted: Posted = conv
        .post(&PostRequest {
            participant: principal.participant(),
            client_msg_id: key,
            text,
            meta: None,
        })
        .await?;
    follow_up(cx, &req, &posted, true).await?;
    Ok(Response::json(
        if posted.ack.duplicate { 200 } else { 201 },
        &posted,
    ))
}

/// What follows a posted message: a customer's is answered by the AI (when `answer` and the
/// conversation is the AI's); an agent's reply on a messaging channel leaves now (inline where
/// there is no queue). A duplicate triggers nothing.
pub(super) async fn follow_up(
    cx: &Ctx,
    req: &Request,
    posted: &Posted,
    answer: bool,
) -> ApiResult<()> {
    let principal = cx.principal()?;
    if answer && !posted.ack.duplicate && principal.is_customer() && posted.status.ai_answers() {
        // The customer has their ack; the answer streams to live clients (and lands in the
        // log) after the response on Cloudflare, before it elsewhere.
        let (p, tenant_id, conversation_id, seq) = (
            cx.platform.clone(),
            principal.tenant_id().to_string(),
            req.param("conversation_id").to_string(),
            posted.message.seq,
        );
        cx.platform
            .background
            .run(Box::pin(async move {
                let _ = Conversation::new(&p, &tenant_id, &conversation_id)
                    .ai_answer(seq)
                    .await;
                crate::channels::outbound::deliver_pending(&p, &tenant_id, &conversation_id).await;
            }))
            .await;
    } else if !posted.ack.duplicate && !principal.is_customer() {
        // An agent's reply on a messaging channel leaves now (inline where there is no queue).
        crate::channels::outbound::deliver_pending(
            &cx.platform,
            principal.tenant_id(),
            req.param("conversation_id"),
        )
        .await;
    }
    Ok(())
}

pub async fn history(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let conv = conversation(cx, &req)?;
    let q = |n: &str| -> ApiResult<Option<i64>> {
        match req.query_param(n) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::validation(n, "must be an integer")),
        }
    };
    let limit = q("limit")?.unwrap_or(50);
    check::range("limit", limit, 1, 200)?;
    let staff = !cx.principal()?.is_customer();
    let h: History = conv
        .history(q("after_seq")?, q("before_seq")?, limit as u32, staff)
        .await?;
    Ok(Response::json(200, &h))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub up_to_seq: i64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Typing {
    pub typing: bool,
}

/// Typing indicators for clients without a socket (the SSE + POST fallback).
pub async fn typing(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Typing = input::json(&req)?;
    conversation(cx, &req)?
        .typing(cx.principal()?.participant(), body.typing)
        .await?;
    Ok(Response::new(204))
}

pub async fn mark_read(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: MarkRead = input::json(&req)?;
    conversation(cx, &req)?
        .read(cx.principal()?.participant(), body.up_to_seq)
        .await?;
    Ok(Response::new(204))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default)]
    pub reason: Option<String>,
}

/// A customer asks for a human, or an agent takes over from the AI (and is assigned).
pub async fn handoff(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Handoff = input::json(&req)?;
    if let Some(r) = &body.reason {
        check::text("reason", r, 1, 200)?;
    }
    let conv = conversation(cx, &req)?;
    let principal = cx.principal()?;
    let participant = principal.participant();
    let meta = match &participant {
        Participant::Customer { .. } => {
            // A workspace without a team to hand to (flag `human_handoff` off) says so.
            crate::tenancy::flags::require(&cx.platform, principal.tenant_id(), "human_handoff")
                .await?;
            conv.set_status(
                participant.clone(),
                Status::PendingHuman,
                Some(body.reason.unwrap_or_else(|| "customer_request".into())),
            )
            .await?;
            client::route_handoff(
                &cx.platform,
                principal.tenant_id(),
                req.param("conversation_id"),
            )
            .await?
        }
        Participant::Agent { id, name } => {
            conv.set_status(
                participant.clone(),
                Status::PendingHuman,
                Some(body.reason.unwrap_or_else(|| "agent_takeover".into())),
            )
            .await?;
            conv.assign(
                participant.clone(),
                Some(Author {
                    kind: AuthorKind::Agent,
                    id: id.clone(),
                    name: name.clone(),
                }),
            )
            .await?
        }
        _ => {
            conv.set_status(
                participant.clone(),
                Status::PendingHuman,
                body.reason.or(Some("api".into())),
            )
            .await?;
            client::route_handoff(
                &cx.platform,
                principal.tenant_id(),
                req.param("conversation_id"),
            )
            .await?
        }
    };
    Ok(Response::json(200, &meta))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    pub status: Status,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Resolve, reopen, close, or release a conversation back to the AI (`open`).
pub async fn set_status(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: SetStatus = input::json(&req)?;
    let conv = conversation(cx, &req)?;
    let principal = cx.principal()?;
    let before = conv.meta().await?;
    let meta = conv
        .set_status(principal.participant(), body.status, body.reason)
        .await?;
    if meta.status == Status::PendingHuman && meta.assignee_id.is_none() {
        client::route_handoff(&cx.platform, principal.tenant_id(), &meta.conversation_id).await?;
    }
    audit::record(
        cx,
        principal.tenant_id(),
        "conversation.status",
        ("conversation", &meta.conversation_id),
        Some(json!({"status": before.status})),
        Some(json!({"status": meta.status})),
    )
    .await?;
    Ok(Response::json(200, &conv.meta().await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The agent to assign, or null to unassign (back to the queue).
    pub user_id: Option<String>,
}

pub async fn assign(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Assign = input::json(&req)?;
    let conv = conversation(cx, &req)?;
    let principal = cx.principal()?;
    let assignee = match &body.user_id {
        Some(uid) => {
            let u = users::get(cx.platform.db()?, principal.tenant_id(), uid)
                .await
                .map_err(|e| e.with_field("user_id"))?;
            if u.status != crate::users::UserStatus::Active || u.role < crate::users::Role::Agent {
                return Err(ApiError::validation(
                    "user_id",
                    "only active agents can be assigned",
                ));
            }
            Some(Author {
                kind: AuthorKind::Agent,
                id: u.id,
                name: u.name,
            })
        }
        None => None,
    };
    let before = conv.meta().await?;
    let meta = conv.assign(principal.participant(), assignee).await?;
    audit::record(
        cx,
        principal.tenant_id(),
        "conversation.assign",
        ("conversation", &meta.conversation_id),
        Some(json!({"assignee": before.assignee_id})),
        Some(json!({"assignee": meta.assignee_id})),
    )
    .await?;
    Ok(Response::json(200, &meta))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: UpdateConversation = input::json(&req)?;
    let conv = conversation(cx, &req)?;
    let meta = conv
        .update(&UpdateRequest {
            participant: cx.principal()?.participant(),
            tags: body.tags,
            priority: body.priority,
        })
        .await?;
    Ok(Response::json(200, &meta))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    pub text: String,
}

pub async fn add_note(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: AddNote = input::json(&req)?;
    let note: NoteView = conversation(cx, &req)?
        .note(cx.principal()?.participant(), &body.text)
        .await?;
    Ok(Response::json(201, &note))
}

#[derive(Serialize, JsonSchema)]
pub struct ConversationDetail {
    pub conversation: Meta,
    pub customer: customers::Customer,
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let conv = conversation(cx, &req)?;
    let meta = conv.meta().await?;
    let customer = customers::get(cx.platform.db()?, &meta.tenant_id, &meta.customer_id).await?;
    Ok(Response::json(
        200,
        &ConversationDetail {
            conversation: meta,
            customer,
        },
    ))
}

/// The inbox: `status`, `assignee` (a user id, `me`, or `none` for the queue), `channel`.
pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    let principal = cx.principal()?;
    let status = match req.query_param("status") {
        Some(s) => Some(Status::parse(&s).ok_or_else(|| {
            ApiError::validation("status", "open, pending_human, resolved or closed")
        })?),
        None => None,
    };
    let assignee = match req.query_param("assignee").as_deref() {
        Some("me") => Some(
            principal
                .user_id()
                .ok_or_else(|| ApiError::validation("assignee", "'me' needs an agent token"))?
                .to_string(),
        ),
        Some(a) => Some(a.to_string()),
        None => None,
    };
    // Checked against the route's declared values before the handler runs.
    let channel = req
        .query_param("channel")
        .as_deref()
        .and_then(Channel::parse);
    let filter = Filter {
        status,
        assignee,
        channel,
        customer_id: req.query_param("customer_id"),
        recent: req.query_param("order").as_deref() == Some("recent"),
    };
    let page = mirror::list(cx.platform.db()?, principal.tenant_id(), &filter, &page).await?;
    Ok(Response::json(200, &page))
}

/// For the OpenAPI document: one inbox row.
pub type Summary = ConversationSummary;

#[derive(Serialize, JsonSchema)]
pub struct AnalysisRow {
    pub seq: i64,
    pub sentiment: f64,
    pub intent: Intent,
    pub topics: Vec<String>,
    pub language: String,
    /// `model` (the provider's JSON mode) or `local` (the built-in classifier).
    pub source: String,
}

#[derive(Serialize, JsonSchema)]
pub struct AnalysisList {
    pub items: Vec<AnalysisRow>,
}

/// The AI's per-message analysis of the customer's messages (sentiment, intent, topics).
pub async fn analysis(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let conv = conversation(cx, &req)?;
    let meta = conv.meta().await?;
    let rows = cx
        .platform
        .db()?
        .query(
            "SELECT seq, sentiment, intent, topics, language, source FROM message_analysis WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY seq",
            &crate::params![meta.tenant_id.as_str(), meta.conversation_id.as_str()],
        )
        .await?;
    let items = rows
        .iter()
        .map(|r| AnalysisRow {
            seq: r.int("seq").unwrap_or(0),
            sentiment: r.real("sentiment").unwrap_or(0.0),
            intent: r
                .text("intent")
                .and_then(|i| Intent::parse(&i))
                .unwrap_or(Intent::Other),
            topics: r
                .text("topics")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            language: r.text("language").unwrap_or_default(),
            source: r.text("source").unwrap_or_default(),
        })
        .collect();
    Ok(Response::json(200, &AnalysisList { items }))
}
