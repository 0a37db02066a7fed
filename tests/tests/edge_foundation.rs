//! Foundation end to end against workerd: routing envelopes, request ids, KV, D1 and a
//! Durable Object WebSocket room.

use prism_e2e::{http, ws::WsClient, Edge};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn health_reports_runtime_and_bindings() {
    let edge = Edge::shared();
    let r = http().get(edge.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["status"], "ok");
    assert_eq!(b["runtime"], "cloudflare");
    assert_eq!(b["bindings"]["db"], true);
    assert_eq!(b["bindings"]["cache"], true);
    assert_eq!(b["bindings"]["live_objects"], true);
}

#[tokio::test]
async fn meta_names_the_runtime() {
    let b: Value = http()
        .get(Edge::shared().url("/v1/meta"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["runtime"], "cloudflare");
    assert_eq!(b["api_version"], "v1");
    assert_eq!(b["capabilities"]["websockets"], true);
}

#[tokio::test]
async fn unknown_route_gets_404_envelope_and_wrong_method_405_with_allow() {
    let edge = Edge::shared();
    let r = http()
        .get(edge.url("/v1/does-not-exist"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "not_found");
    assert_eq!(b["error"]["request_id"], id.as_str());
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v1/does-not-exist"));

    let r = http().post(edge.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn request_id_is_propagated_when_valid_and_replaced_when_not() {
    let edge = Edge::shared();
    let r = http()
        .get(edge.url("/health"))
        .header("x-request-id", "e2e-trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "e2e-trace-123");

    let r = http()
        .get(edge.url("/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 36);
}

#[tokio::test]
async fn kv_round_trip() {
    let edge = Edge::shared();
    let r = http()
        .put(edge.url("/v1/diag/kv/e2e-key"))
        .body("value-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http()
        .get(edge.url("/v1/diag/kv/e2e-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "value-1");
    let r = http()
        .get(edge.url("/v1/diag/kv/never-set"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn d1_round_trip() {
    let edge = Edge::shared();
    let r = http()
        .post(edge.url("/v1/diag/notes"))
        .json(&json!({"text": "stored in D1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let got: Value = http()
        .get(edge.url(&format!("/v1/diag/notes/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["text"], "stored in D1");
    assert_eq!(got["created_at"], created["created_at"]);
}

#[tokio::test]
async fn websocket_broadcast_through_a_durable_object() {
    let edge = Edge::shared();
    let url = edge.ws_url("/v1/echo/e2e-room");
    let mut a = WsClient::connect(&url).await;
    let wa = a.recv_type("welcome", T).await;
    let mut b = WsClient::connect(&url).await;
    let wb = b.recv_type("welcome", T).await;
    assert_ne!(wa["connection"], wb["connection"]);
    assert_eq!(wb["members"], 2);

    a.send_text("hello from a").await;
    for c in [&mut a, &mut b] {
        let m = c.recv_type("echo", T).await;
        assert_eq!(m["text"], "hello from a");
        assert_eq!(m["from"], wa["connection"]);
    }
    b.send_text(&"x".repeat(5000)).await;
    let e = b.recv_type("error", T).await;
    assert_eq!(e["code"], "frame_too_large");
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn websocket_route_without_upgrade_is_426() {
    let r = http()
        .get(Edge::shared().url("/v1/echo/room"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 426);
}

/// Rust futures in the worker wake through V8's promise reactions, not workerd's global
/// `queueMicrotask` (about 14 times dearer a call: `workers/edge/src/microtasks.rs`). That rests
/// on how wasm-bindgen's futures queue picks its scheduler, so an update of it could quietly undo
/// it: this counts the global's calls while requests await D1, KV and a Durable Object.
#[tokio::test]
async fn rust_futures_wake_without_the_global_queue_microtask() {
    let edge = Edge::shared();
    let mut inspector = prism_e2e::inspector::Inspector::attach(edge.inspector_port).await;
    let calls = "globalThis.__prismQueueMicrotask.calls";
    // Wraps the global in a counter (defined, not assigned, whatever the property's flags).
    inspector
        .evaluate(
            "(() => { const g = globalThis; if (!g.__prismQueueMicrotask) { \
               const original = g.queueMicrotask; \
               g.__prismQueueMicrotask = { calls: 0, original }; \
               Object.defineProperty(g, 'queueMicrotask', { configurable: true, writable: true, \
                 value(task) { g.__prismQueueMicrotask.calls++; return original.call(g, task); } }); \
             } })()",
        )
        .await;
    // The counter counts what calls the global.
    let before = inspector.evaluate(calls).await.as_i64().unwrap();
    inspector.evaluate("queueMicrotask(() => {})").await;
    assert_eq!(inspector.evaluate(calls).await.as_i64(), Some(before + 1));

    let before = before + 1;
    let r = http()
        .post(edge.url("/v1/diag/notes"))
        .json(&json!({"text": "awaited in D1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http()
        .put(edge.url("/v1/diag/kv/microtasks"))
        .body("awaited in KV")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mut ws = WsClient::connect(&edge.ws_url("/v1/echo/microtasks")).await;
    ws.recv_type("welcome", T).await;
    ws.send_text("awaited in a Durable Object").await;
    assert_eq!(
        ws.recv_type("echo", T).await["text"],
        "awaited in a Durable Object"
    );
    ws.close().await;
    assert_eq!(
        inspector.evaluate(calls).await.as_i64(),
        Some(before),
        "the worker's futures were woken through the global queueMicrotask"
    );
}
