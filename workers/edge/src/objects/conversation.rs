//! The conversation Durable Object: single writer and live hub of one conversation (all logic
//! in `prism_core::conversations`). Echo rooms (a diagnostic of the live path) share the class.

use super::host::{ConnRef, Host};
use super::hub::{ConnMeta, DoHub};
use crate::system::CryptoRandom;
use prism_core::live::echo;
use prism_core::ports::ObjectClass;
use prism_core::request_id::new_uuid;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct ConversationObject {
    state: State,
    env: Env,
    flushing: std::cell::Cell<bool>,
    sockets: super::hub::HubCache,
    ready: super::host::Ready,
}

const ECHO: &str = "echo";

impl ConversationObject {
    fn host(&self) -> Host<'_> {
        Host {
            class: ObjectClass::Conversation,
            state: &self.state,
            env: &self.env,
            flushing: Some(&self.flushing),
            hub_cache: Some(&self.sockets),
            ready: Some(&self.ready),
        }
    }
}

impl DurableObject for ConversationObject {
    fn new(state: State, env: Env) -> Self {
        Host::enable_auto_pong(&state);
        Self {
            state,
            env,
            flushing: std::cell::Cell::new(false),
            sockets: Default::default(),
            ready: Default::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        if req.path() == "/echo" {
            let pair = WebSocketPair::new()?;
            let id = new_uuid(&CryptoRandom);
            self.state.accept_web_socket(&pair.server);
            pair.server.serialize_attachment(ConnMeta {
                id: id.clone(),
                object: ECHO.into(),
                attachment: serde_json::Value::Null,
            })?;
            echo::on_join(&DoHub::new(&self.state), &id);
            return Response::from_websocket(pair.client);
        }
        self.host().fetch(req).await
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // Only the socket's id and object (echo room or conversation), decoded once per frame.
        let Some(meta) = ConnRef::of(&ws)? else {
            return Ok(());
        };
        let text = match message {
            WebSocketIncomingMessage::String(t) => t,
            WebSocketIncomingMessage::Binary(_) => {
                let _ = ws.send_with_str(
                    r#"{"type":"error","code":"binary_unsupported","message":"send text frames"}"#,
                );
                return Ok(());
            }
        };
        if meta.object == ECHO {
            echo::on_text(&DoHub::new(&self.state), &meta.id, &text);
            return Ok(());
        }
        self.host().message(meta, &text).await
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

    async fn alarm(&self) -> Result<Response> {
        self.host().alarm().await
    }
}
