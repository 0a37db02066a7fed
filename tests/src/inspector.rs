//! A DevTools-protocol session on the worker's JavaScript, through `wrangler dev`'s inspector:
//! for tests that must see what happens inside the runtime (which global functions the
//! worker's glue calls), which no HTTP answer shows.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Inspector {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    context: Option<u64>,
}

impl Inspector {
    /// Attaches to the worker listed on `port` (`/json`) and finds its execution context.
    pub async fn attach(port: u16) -> Inspector {
        let targets: Value = crate::http()
            .get(format!("http://127.0.0.1:{port}/json"))
            .send()
            .await
            .expect("inspector targets")
            .json()
            .await
            .expect("inspector targets as JSON");
        let url = targets[0]["webSocketDebuggerUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("no inspector target: {targets}"))
            .to_string();
        let (ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .unwrap_or_else(|e| panic!("inspector {url}: {e}"));
        let mut me = Inspector {
            ws,
            next_id: 0,
            context: None,
        };
        // The proxy announces the context on the first session only; a later session asks again.
        for _ in 0..2 {
            me.call("Runtime.enable", json!({})).await;
            me.wait_for_context(Duration::from_secs(3)).await;
            if me.context.is_some() {
                return me;
            }
            me.call("Runtime.disable", json!({})).await;
        }
        panic!("the worker's execution context was never announced");
    }

    /// The value of `expression` in the worker's global scope (returned by value).
    pub async fn evaluate(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "contextId": self.context}),
            )
            .await;
        assert!(
            r["result"]["exceptionDetails"].is_null() && r["error"].is_null(),
            "{expression}: {r}"
        );
        r["result"]["result"]["value"].clone()
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("inspector send");
        loop {
            let msg = self
                .read(Duration::from_secs(10))
                .await
                .expect("inspector reply");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    async fn wait_for_context(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.context.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || self.read(left).await.is_none() {
                return;
            }
        }
    }

    /// The next message, noting an announced execution context on the way.
    async fn read(&mut self, within: Duration) -> Option<Value> {
        loop {
            let frame = tokio::time::timeout(within, self.ws.next())
                .await
                .ok()??
                .ok()?;
            if let Message::Text(t) = frame {
                let v: Value = serde_json::from_str(&t).ok()?;
                if v["method"] == "Runtime.executionContextCreated" {
                    self.context = self.context.or(v["params"]["context"]["id"].as_u64());
                }
                return Some(v);
            }
        }
    }
}
