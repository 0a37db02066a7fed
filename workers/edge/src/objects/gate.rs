//! The tenant gate Durable Object: exact rate limits and the tenant's credential version. All
//! logic is `prism_core::objects::gate`.

use prism_core::ports::ObjectClass;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct GateObject {
    state: State,
}

impl DurableObject for GateObject {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::serve(ObjectClass::Gate, &self.state, req).await
    }
}
