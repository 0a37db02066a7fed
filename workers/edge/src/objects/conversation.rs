//! The conversation Durable Object: single writer and live hub of one conversation. For now it
//! serves the echo room (the live path end to end); the conversation protocol builds on it.

use super::hub::{ConnMeta, DoHub};
use crate::system::CryptoRandom;
use prism_core::live::echo;
use prism_core::ports::LiveHub;
use prism_core::ports::ObjectClass;
use prism_core::request_id::new_uuid;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct ConversationObject {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

impl DurableObject for ConversationObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let upgrade = req
            .headers()
            .get("upgrade")?
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        match (path.as_str(), upgrade) {
            ("/echo", true) => {
                let pair = WebSocketPair::new()?;
                let id = new_uuid(&CryptoRandom);
                self.state
                    .accept_websocket_with_tags(&pair.server, &["echo"]);
                pair.server
                    .serialize_attachment(ConnMeta { id: id.clone() })?;
                echo::on_join(&DoHub::new(&self.state), &id);
                Response::from_websocket(pair.client)
            }
            _ => super::serve(ObjectClass::Conversation, &self.state, req).await,
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(meta) = ws.deserialize_attachment::<ConnMeta>()? else {
            return Ok(());
        };
        let hub = DoHub::new(&self.state);
        match message {
            WebSocketIncomingMessage::String(text) => echo::on_text(&hub, &meta.id, &text),
            WebSocketIncomingMessage::Binary(_) => hub.send(
                &meta.id,
                r#"{"type":"error","code":"binary_unsupported","message":"send text frames"}"#,
            ),
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
        // Complete the closing handshake; 1005/1006 are reserved and may not be sent.
        let code = if (1000..=4999).contains(&code) && code != 1005 && code != 1006 {
            code as u16
        } else {
            1000
        };
        let _ = ws.close(Some(code), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}
