//! Widget identity: the web widget (public key, allowed origin) learns who the visitor is. A
//! signed-in customer comes with `user_id` and the `user_hash` the tenant's backend computed;
//! anyone else gets (or keeps) an anonymous visitor id.

use crate::auth::identity;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::ids::{looks_like, new_id};
use crate::input::{self, check};
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifyRequest {
    /// The tenant's own id for a signed-in customer.
    #[serde(default)]
    pub user_id: Option<String>,
    /// hex(HMAC-SHA256(identity secret, user_id)), computed by the tenant's backend.
    #[serde(default)]
    pub user_hash: Option<String>,
    /// A previously issued anonymous id, to keep a returning visitor's history.
    #[serde(default)]
    pub visitor_id: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct Identity {
    /// `verified` or `anonymous`.
    pub kind: &'static str,
    /// The verified external user id, or the anonymous visitor id.
    pub id: String,
}

pub async fn identify(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: IdentifyRequest = input::json(&req)?;
    let tenant_id = cx.tenant_id()?;
    let identity = match (body.user_id, body.user_hash) {
        (Some(user_id), Some(hash)) => {
            check::text("user_id", &user_id, 1, 200)?;
            let secret = crate::tenancy::secrets::identity(&cx.platform, tenant_id)
                .await?
                .ok_or_else(|| ApiError::not_found("tenant"))?;
            if !identity::verify(&secret, &user_id, &hash) {
                return Err(ApiError::forbidden(
                    "identity verification failed: user_hash does not match user_id",
                )
                .with_field("user_hash"));
            }
            Identity {
                kind: "verified",
                id: user_id,
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::validation(
                "user_hash",
                "user_id and user_hash go together",
            ));
        }
        (None, None) => match body.visitor_id {
            Some(v) if looks_like(&v, "vis") => Identity {
                kind: "anonymous",
                id: v,
            },
            Some(_) => return Err(ApiError::validation("visitor_id", "not a visitor id")),
            None => Identity {
                kind: "anonymous",
                id: new_id(&*cx.platform.random, "vis"),
            },
        },
    };
    Ok(Response::json(200, &identity))
}

/// What the widget needs to know about the tenant before the first message.
#[derive(serde::Serialize, JsonSchema)]
pub struct Settings {
    /// The pre-chat form to show (absent: none, or the `leads` flag is off).
    pub lead_form: Option<crate::tenancy::config::LeadForm>,
    /// Whether customers can ask for a person (the `human_handoff` flag).
    pub human_handoff: bool,
    /// Whether a resolved conversation may carry a satisfaction survey to show (the `surveys`
    /// flag): the widget asks for it when the conversation is resolved.
    pub surveys: bool,
}

/// `GET /v1/widget/settings` (public key).
pub async fn settings(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let lead_form = if crate::leads::enabled(&cx.platform, tenant_id).await? {
        crate::tenancy::store::config(cx.platform.db()?, tenant_id)
            .await?
            .0
            .leads
            .form
    } else {
        None
    };
    let human_handoff =
        crate::tenancy::flags::enabled(&cx.platform, tenant_id, "human_handoff").await?;
    Ok(Response::json(
        200,
        &Settings {
            lead_form,
            human_handoff,
            surveys: crate::surveys::enabled(&cx.platform, tenant_id).await?,
        },
    ))
}
