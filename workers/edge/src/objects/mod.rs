//! Durable Objects: the core's [`Objects`] port (calls into an object) and the object classes.

pub mod conversation;
pub mod gate;
mod hub;

use crate::convert;
use async_trait::async_trait;
use prism_core::http::Request;
use prism_core::ports::{ObjectClass, ObjectRef, Objects, PortError};
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

/// Serves an internal HTTP call inside a Durable Object with the core's object logic over the
/// object's own SQLite storage.
pub async fn serve(
    class: ObjectClass,
    state: &worker::State,
    req: worker::Request,
) -> Result<Response> {
    let name = req
        .headers()
        .get(prism_core::objects::NAME_HEADER)?
        .unwrap_or_default();
    let core_req = convert::request_from_worker(req).await?;
    let store = crate::do_sql::DoSql(state.storage().sql());
    let target = ObjectRef::new(class, name);
    let resp =
        prism_core::objects::handle(&target, &store, &crate::system::JsClock, core_req).await;
    convert::response_to_worker(resp)
}

/// Hands a WebSocket upgrade to the object the core chose. Headers the core sets replace any
/// the client sent under the same name, so a client cannot impersonate a participant.
pub async fn forward_upgrade(env: &Env, original: &Request, up: Upgrade) -> Result<Response> {
    let mut req = Request::new(original.method, &format!("https://object{}", up.path));
    for (n, v) in original.headers.iter() {
        if !up.headers.iter().any(|(un, _)| un.eq_ignore_ascii_case(n)) {
            req.headers.append(n, v);
        }
    }
    for (n, v) in &up.headers {
        req.headers.append(n, v.clone());
    }
    stub(env, &up.target)?
        .fetch_with_request(convert::request_to_worker(&req)?)
        .await
}
