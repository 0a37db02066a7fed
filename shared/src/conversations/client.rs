//! The edge's side of the conversation and inbox objects: typed calls over the `Objects` port.

use super::engine::{
    AssignRequest, Call, History, InitRequest, NoteRequest, PostRequest, Posted, ReadRequest,
    StatusRequest, TypingRequest, UpdateRequest,
};
use super::model::{Author, Meta, Participant, Status};
use super::protocol::NoteView;
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::objects::inbox::{EventPage, RouteRequest, RouteResponse};
use crate::objects::CALL_PATH;
use crate::platform::Platform;
use crate::ports::{ObjectClass, ObjectRef};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The object of one conversation: named by tenant and conversation, so another tenant's id can
/// only ever reach an empty object (404, no existence leak).
pub fn conversation_ref(tenant_id: &str, conversation_id: &str) -> ObjectRef {
    ObjectRef::new(
        ObjectClass::Conversation,
        format!("{tenant_id}:{conversation_id}"),
    )
}

pub fn inbox_ref(tenant_id: &str) -> ObjectRef {
    ObjectRef::new(ObjectClass::Inbox, tenant_id)
}

async fn call<B: Serialize, T: DeserializeOwned>(
    p: &Platform,
    target: &ObjectRef,
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<T> {
    let resp = raw(p, target, method, path, body).await?;
    resp.json_body()
        .ok_or_else(|| ApiError::internal("object returned an unreadable answer"))
}

async fn raw<B: Serialize>(
    p: &Platform,
    target: &ObjectRef,
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<Response> {
    let mut req = Request::new(method, &format!("https://object{path}"));
    if let Some(b) = body {
        req.body = serde_json::to_vec(b).map_err(|e| ApiError::internal(e.to_string()))?;
        req.headers.set("content-type", "application/json");
    }
    let resp = p.objects()?.call(target, req).await?;
    if resp.status >= 400 {
        return Err(ApiError::from_response(&resp));
    }
    Ok(resp)
}

pub struct Conversation<'a> {
    p: &'a Platform,
    target: ObjectRef,
}

impl<'a> Conversation<'a> {
    pub fn new(p: &'a Platform, tenant_id: &str, conversation_id: &str) -> Self {
        Conversation {
            p,
            target: conversation_ref(tenant_id, conversation_id),
        }
    }

    pub fn target(&self) -> &ObjectRef {
        &self.target
    }

    /// Makes one typed call into the object.
    async fn call<T: DeserializeOwned>(&self, c: &Call) -> ApiResult<T> {
        call(self.p, &self.target, Method::Post, CALL_PATH, Some(c)).await
    }

    pub async fn init(&self, r: &InitRequest) -> ApiResult<Meta> {
        self.call(&Call::Init(r.clone())).await
    }

    pub async fn meta(&self) -> ApiResult<Meta> {
        self.call(&Call::Meta).await
    }

    pub async fn post(&self, r: &PostRequest) -> ApiResult<Posted> {
        self.call(&Call::Post(r.clone())).await
    }

    pub async fn history(
        &self,
        after: Option<i64>,
        before: Option<i64>,
        limit: u32,
        staff: bool,
    ) -> ApiResult<History> {
        self.call(&Call::History {
            after_seq: after,
            before_seq: before,
            limit,
            staff,
        })
        .await
    }

    pub async fn set_status(
        &self,
        participant: Participant,
        status: Status,
        reason: Option<String>,
    ) -> ApiResult<Meta> {
        self.call(&Call::Status(StatusRequest {
            participant,
            status,
            reason,
        }))
        .await
    }

    pub async fn assign(
        &self,
        participant: Participant,
        assignee: Option<Author>,
    ) -> ApiResult<Meta> {
        self.call(&Call::Assign(AssignRequest {
            participant,
            assignee,
        }))
        .await
    }

    pub async fn update(&self, r: &UpdateRequest) -> ApiResult<Meta> {
        self.call(&Call::Update(r.clone())).await
    }

    pub async fn note(&self, participant: Participant, text: &str) -> ApiResult<NoteView> {
        self.call(&Call::Note(NoteRequest {
            participant,
            text: text.into(),
        }))
        .await
    }

    /// Asks the object to answer customer message `seq` with the AI (streams to live clients).
    pub async fn ai_answer(&self, seq: i64) -> ApiResult<()> {
        raw(
            self.p,
            &self.target,
            Method::Post,
            CALL_PATH,
            Some(&Call::AiAnswer { reply_to: seq }),
        )
        .await?;
        Ok(())
    }

    /// Redacts the conversation for a customer's erasure (see `engine::privacy::erase`).
    pub async fn erase(&self) -> ApiResult<Meta> {
        self.call(&Call::Erase).await
    }

    /// Deletes the object's rows (retention). An object that holds nothing answers 404.
    pub async fn purge(&self) -> ApiResult<()> {
        raw(
            self.p,
            &self.target,
            Method::Post,
            CALL_PATH,
            Some(&Call::Purge),
        )
        .await?;
        Ok(())
    }

    pub async fn read(&self, participant: Participant, up_to_seq: i64) -> ApiResult<()> {
        raw(
            self.p,
            &self.target,
            Method::Post,
            CALL_PATH,
            Some(&Call::Read(ReadRequest {
                participant,
                up_to_seq,
            })),
        )
        .await?;
        Ok(())
    }

    pub async fn typing(&self, participant: Participant, typing: bool) -> ApiResult<()> {
        raw(
            self.p,
            &self.target,
            Method::Post,
            CALL_PATH,
            Some(&Call::Typing(TypingRequest {
                participant,
                typing,
            })),
        )
        .await?;
        Ok(())
    }
}

pub async fn inbox_events(
    p: &Platform,
    tenant_id: &str,
    after: i64,
    limit: u32,
) -> ApiResult<EventPage> {
    call::<(), _>(
        p,
        &inbox_ref(tenant_id),
        Method::Get,
        &format!("/events?after={after}&limit={limit}"),
        None,
    )
    .await
}

/// Takes an erased customer's conversations' data out of the tenant inbox's kept events.
pub async fn inbox_erase(
    p: &Platform,
    tenant_id: &str,
    conversation_ids: &[String],
) -> ApiResult<()> {
    raw(
        p,
        &inbox_ref(tenant_id),
        Method::Post,
        "/erase",
        Some(&crate::objects::inbox::Erase {
            conversation_ids: conversation_ids.to_vec(),
        }),
    )
    .await?;
    Ok(())
}

pub async fn inbox_online(p: &Platform, tenant_id: &str) -> ApiResult<serde_json::Value> {
    call::<(), _>(p, &inbox_ref(tenant_id), Method::Get, "/online", None).await
}

/// Hands a conversation to a human: routes it to the best online agent by skill (its tags) and
/// load, or leaves it in the unassigned queue when nobody matching is online.
pub async fn route_handoff(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Meta> {
    let conv = Conversation::new(p, tenant_id, conversation_id);
    let meta = conv.meta().await?;
    if meta.assignee_id.is_some() {
        return Ok(meta);
    }
    let routed: RouteResponse = call(
        p,
        &inbox_ref(tenant_id),
        Method::Post,
        "/route",
        Some(&RouteRequest {
            conversation_id: conversation_id.into(),
            skills: meta.tags.clone(),
        }),
    )
    .await?;
    match routed.assignee {
        Some(agent) => {
            conv.assign(
                Participant::System {
                    id: "router".into(),
                },
                Some(agent),
            )
            .await
        }
        None => Ok(meta),
    }
}
