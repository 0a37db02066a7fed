//! The live protocol against its AsyncAPI document, in the real runtime: every client message
//! the document lists (its example), plus frames no client should send, go to a conversation
//! socket; every frame the server sends on conversation and inbox sockets must validate against
//! a server message of the document, and the sockets must stay usable.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::ws::WsClient;
use prism_e2e::Edge;
use serde_json::{json, Value};
use std::time::Duration;

/// A validator for "any of these messages" from the document's components.
fn validator(doc: &Value, prefix: &str) -> jsonschema::Validator {
    let any: Vec<Value> = doc["components"]["messages"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, m)| m["payload"].clone())
        .collect();
    let schema = json!({ "oneOf": any, "components": doc["components"] });
    jsonschema::validator_for(&schema).expect("valid schema")
}

async fn drain(ws: &mut WsClient, for_ms: u64) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = ws.try_recv_json(Duration::from_millis(for_ms)).await {
        out.push(v);
    }
    out
}

#[tokio::test]
async fn every_frame_on_the_wire_matches_the_asyncapi_document() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let doc = api
        .call(Method::Get, "/v1/asyncapi.json", None, None)
        .await
        .body;
    assert_eq!(doc["asyncapi"], "3.0.0");
    let server_frames = validator(&doc, "server.");
    let inbox_frames = validator(&doc, "inbox.");

    let t = api
        .create_tenant_without_ai(&unique_slug("asyncapi"), "enterprise")
        .await;
    let (_, agent) = api.user_with_role(&t, "agent").await;
    let (id, token, _) = api.start_conversation(&t, &json!({"name": "Ann"})).await;

    let mut inbox = WsClient::connect_as(&edge.ws_url("/v1/inbox/live"), &agent).await;
    // The customer first, so it sees the agent's presence.
    let mut c =
        WsClient::connect(&edge.ws_url(&format!("/v1/conversations/{id}/live?token={token}")))
            .await;
    let mut a = WsClient::connect_as(
        &edge.ws_url(&format!("/v1/conversations/{id}/live")),
        &agent,
    )
    .await;

    // Every client message in the document, as its example shows it.
    let mut sent = 0;
    for (name, m) in doc["components"]["messages"].as_object().unwrap() {
        if !name.starts_with("client.") {
            continue;
        }
        c.send_json(&m["examples"][0]["payload"]).await;
        a.send_json(&m["examples"][0]["payload"]).await;
        sent += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(sent, 5);
    // Frames the document does not allow: each gets an `error` frame, the socket stays open.
    for bad in [
        "not json",
        "[]",
        r#"{"type":"explode"}"#,
        r#"{"type":"message","text":"no id"}"#,
        r#"{"type":"read","up_to_seq":"x"}"#,
        r#"{"type":"hello","last_seq":1,"extra":true}"#,
        &format!(
            r#"{{"type":"message","client_msg_id":"big","text":"{}"}}"#,
            "x".repeat(5000)
        ),
    ] {
        c.send_text(bad).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut seen = Vec::new();
    for (who, frames) in [
        ("customer", drain(&mut c, 1500).await),
        ("agent", drain(&mut a, 1500).await),
    ] {
        for f in frames {
            let errors: Vec<String> = server_frames
                .iter_errors(&f)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{who} got a frame outside the document: {f}\n{errors:?}"
            );
            seen.push(f["type"].as_str().unwrap_or("").to_string());
        }
    }
    for ty in [
        "welcome", "ack", "message", "typing", "read", "error", "pong", "presence",
    ] {
        assert!(seen.iter().any(|s| s == ty), "no {ty} frame seen: {seen:?}");
    }
    let inbox_seen = drain(&mut inbox, 1500).await;
    assert!(!inbox_seen.is_empty());
    for f in inbox_seen {
        let errors: Vec<String> = inbox_frames
            .iter_errors(&f)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "inbox frame outside the document: {f}\n{errors:?}"
        );
    }
    // Still usable after all of that.
    c.send_json(&json!({"type": "message", "client_msg_id": "after", "text": "still here?"}))
        .await;
    assert_eq!(
        c.recv_type("ack", Duration::from_secs(10)).await["client_msg_id"],
        "after"
    );
}
