//! The tenant inbox Durable Object: the agents' live feed, presence and routing. All logic is
//! `prism_core::objects::inbox`.

use super::host::{ConnRef, Host};
use prism_core::ports::ObjectClass;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage,
};

#[durable_object]
pub struct InboxObject {
    state: State,
    env: Env,
    sockets: super::hub::HubCache,
    ready: super::host::Ready,
}

impl InboxObject {
    fn host(&self) -> Host<'_> {
        Host {
            class: ObjectClass::Inbox,
            state: &self.state,
            env: &self.env,
            flushing: None,
            hub_cache: Some(&self.sockets),
            ready: Some(&self.ready),
        }
    }
}

impl DurableObject for InboxObject {
    fn new(state: State, env: Env) -> Self {
        Host::enable_auto_pong(&state);
        Self {
            state,
            env,
            sockets: Default::default(),
            ready: Default::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        self.host().fetch(req).await
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let (WebSocketIncomingMessage::String(t), Some(meta)) = (message, ConnRef::of(&ws)?) {
            self.host().message(meta, &t).await?;
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _clean: bool,
    ) -> Result<()> {
        self.host().close(ws, code, reason).await
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.host().invalidate_sockets();
        Ok(())
    }

    /// Re-checks idle agents' sockets.
    async fn alarm(&self) -> Result<Response> {
        self.host().alarm().await
    }
}
