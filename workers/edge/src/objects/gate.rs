//! The tenant gate Durable Object: exact rate limits and the tenant's credential version. All
//! logic is `prism_core::objects::gate`.

use super::host::{Host, Ready};
use prism_core::ports::ObjectClass;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct GateObject {
    state: State,
    env: Env,
    ready: Ready,
}

impl DurableObject for GateObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            ready: Ready::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        Host {
            class: ObjectClass::Gate,
            state: &self.state,
            env: &self.env,
            flushing: None,
            hub_cache: None,
            ready: Some(&self.ready),
        }
        .fetch(req)
        .await
    }
}
