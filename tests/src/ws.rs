//! A small WebSocket client for tests: JSON frames in and out, with timeouts.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn connect(url: &str) -> WsClient {
        let (inner, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("ws connect {url}: {e}"));
        WsClient { inner }
    }

    /// Connects offering `protocols` as `Sec-WebSocket-Protocol` (e.g. `prism.v1` and
    /// `bearer.<agent token>`, how browsers send credentials that must not be in the URL).
    /// Returns the client and the subprotocol the server selected.
    pub async fn connect_with_protocols(
        url: &str,
        protocols: &[&str],
    ) -> (WsClient, Option<String>) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().expect("ws request");
        req.headers_mut().insert(
            "sec-websocket-protocol",
            protocols.join(", ").parse().expect("header value"),
        );
        let (inner, resp) = tokio_tungstenite::connect_async(req)
            .await
            .unwrap_or_else(|e| panic!("ws connect {url}: {e}"));
        let selected = resp
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        (WsClient { inner }, selected)
    }

    /// Connects as an agent: the token in the `bearer.` subprotocol, never in the URL.
    pub async fn connect_as(url: &str, token: &str) -> WsClient {
        let bearer = format!("bearer.{token}");
        let (ws, selected) = Self::connect_with_protocols(url, &["prism.v1", &bearer]).await;
        assert_eq!(selected.as_deref(), Some("prism.v1"));
        ws
    }

    pub async fn send_text(&mut self, text: &str) {
        self.inner
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next text frame as JSON; panics after `timeout` or on close.
    pub async fn recv_json(&mut self, timeout: Duration) -> Value {
        loop {
            let msg = tokio::time::timeout(timeout, self.inner.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("socket closed")
                .expect("ws error");
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).expect("json frame"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Waits for a frame whose `type` is `ty`, skipping others.
    pub async fn recv_type(&mut self, ty: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let v = self.recv_json(left).await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
    }

    /// Drops the connection without a closing handshake (a network failure).
    pub fn kill(self) {
        drop(self.inner);
    }

    /// The next text frame as JSON, or `None` if none arrives within `timeout` (or the socket
    /// closed).
    pub async fn try_recv_json(&mut self, timeout: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(timeout, self.inner.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).ok(),
                Message::Ping(_) | Message::Pong(_) => continue,
                _ => return None,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed_with(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.inner.next()).await {
                Err(_) => return None,
                Ok(None) => return None,
                Ok(Some(Ok(Message::Close(f)))) => return f.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) => return None,
            }
        }
    }

    /// Collects frames until `timeout` passes with none arriving.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(quiet, self.inner.next()).await {
            if let Message::Text(t) = msg {
                if let Ok(v) = serde_json::from_str(&t) {
                    out.push(v);
                }
            }
        }
        out
    }
}
