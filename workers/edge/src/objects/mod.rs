//! Durable Objects: the core's [`Objects`] port (calls into an object) and the object classes.

pub mod conversation;
pub mod gate;
mod host;
mod hub;
pub mod inbox;

use crate::convert;
use async_trait::async_trait;
use prism_core::http::Request;
use prism_core::ports::{ObjectRef, Objects, PortError};
use prism_core::router::Upgrade;
use worker::{Env, Response, Result};

/// Object calls over Durable Object stubs; the object name is the core's `ObjectRef::name`.
pub struct DurableObjects(pub Env);

fn stub(env: &Env, target: &ObjectRef) -> Result<worker::Stub> {
    env.durable_object(target.class.binding())?
        .get_by_name(&target.name)
}

#[async_trait(?Send)]
impl Objects for DurableObjects {
    async fn call(
        &self,
        target: &ObjectRef,
        req: Request,
    ) -> std::result::Result<prism_core::http::Response, PortError> {
        let fail = |e: worker::Error| PortError::new(format!("object call: {e}"));
        let stub = stub(&self.0, target).map_err(fail)?;
        let mut req = req;
        req.headers
            .set(prism_core::objects::NAME_HEADER, target.name.clone());
        let resp = stub
            .fetch_with_request(convert::request_to_worker(&req).map_err(fail)?)
            .await
            .map_err(fail)?;
        convert::response_from_worker(resp).await.map_err(fail)
    }
}

/// Hands a WebSocket upgrade to the object the core chose, as the core shaped it
/// ([`Upgrade::object_request`]: client headers cannot impersonate a participant).
pub async fn forward_upgrade(env: &Env, original: &Request, up: Upgrade) -> Result<Response> {
    let req = up.object_request(original);
    stub(env, &up.target)?
        .fetch_with_request(convert::request_to_worker(&req)?)
        .await
}
