//! `GET /v1/asyncapi.json`: the live protocol (WebSocket frames, both directions) as an
//! AsyncAPI 3.0 document. Message payloads are generated from the very types the server parses
//! and sends (`ClientFrame`, `ServerFrame`, `InboxFrame`), so the document cannot drift from the
//! protocol; every message carries an example, which a test validates against its schema.

use crate::conversations::protocol::{self, ClientFrame, ServerFrame};
use crate::error::ApiResult;
use crate::http::{Request, Response};
use crate::objects::inbox::InboxFrame;
use crate::router::Ctx;
use crate::version;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

pub async fn get(_cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(200, &document()))
}

const RULES: &str = "Frames are JSON text frames with a `type`. \
Resume: after (re)connecting, send `hello {last_seq}`; the server sends every message after \
`last_seq` in order, then `welcome` with the conversation's `last_seq`. \
Ordering: message `seq` numbers are gapless and increase by one; a client that sees a gap sends \
`hello` again. \
Idempotency: `client_msg_id` identifies a message per author; sending it again returns the \
original `ack` with `duplicate: true` and stores nothing. \
Limits: frames up to 16 KiB, message text up to 4000 characters; a burst of 10 frames then 5 per \
second per connection (`error rate_limited` beyond it; 20 refusals in a row close the socket with \
1008); a customer's messages also count against their request budget. \
Keep-alive: send exactly `{\"type\":\"ping\"}`; the runtime answers `{\"type\":\"pong\"}` without \
waking the conversation. \
Close codes: 1000 normal; 1008 flooding; 4001 the credential expired (reconnect with a fresh \
token); 4003 the credential was revoked, the user deactivated or demoted, or the tenant \
suspended (do not reconnect with it). \
Subprotocols: offer `prism.v1` (and, for agent tokens, `bearer.<token>`); the server answers \
`prism.v1` only if it was offered.";

/// Example payloads, one per message (validated against the schemas by tests).
fn examples() -> Vec<(&'static str, Value)> {
    let agent = json!({"type": "agent", "id": "usr_agent", "name": "Alex"});
    let customer = json!({"type": "customer", "id": "cus_ann", "name": "Ann"});
    vec![
        ("client.hello", json!({"type": "hello", "last_seq": 0})),
        (
            "client.message",
            json!({"type": "message", "client_msg_id": "m-1", "text": "Where is my order?"}),
        ),
        ("client.typing", json!({"type": "typing", "typing": true})),
        ("client.read", json!({"type": "read", "up_to_seq": 3})),
        ("client.ping", json!({"type": "ping"})),
        (
            "server.welcome",
            json!({"type": "welcome", "conversation_id": "cnv_x", "you": customer, "status": "open", "last_seq": 3}),
        ),
        (
            "server.ack",
            json!({"type": "ack", "client_msg_id": "m-1", "seq": 4, "ts": 1_750_000_000_000i64, "duplicate": false}),
        ),
        (
            "server.message",
            json!({"type": "message", "seq": 4, "id": "msg_x", "client_msg_id": "m-1", "author": customer, "text": "Where is my order?", "ts": 1_750_000_000_000i64}),
        ),
        (
            "server.note",
            json!({"type": "note", "seq": 1, "id": "note_x", "author": agent, "text": "VIP customer", "ts": 1_750_000_000_000i64}),
        ),
        (
            "server.typing",
            json!({"type": "typing", "author": agent, "typing": true}),
        ),
        (
            "server.read",
            json!({"type": "read", "author": agent, "up_to_seq": 4}),
        ),
        (
            "server.presence",
            json!({"type": "presence", "agent": agent, "state": "joined"}),
        ),
        (
            "server.status",
            json!({"type": "status", "status": "pending_human", "assignee": agent, "reason": "customer_request"}),
        ),
        (
            "server.ai.delta",
            json!({"type": "ai.delta", "reply_to": 4, "text": "Your order "}),
        ),
        (
            "server.error",
            json!({"type": "error", "code": "rate_limited", "message": "slow down: retry in 180 ms"}),
        ),
        ("server.pong", json!({"type": "pong"})),
        (
            "inbox.event",
            json!({"type": "event", "seq": 12, "kind": "conversation.created", "conversation_id": "cnv_x", "status": "open", "data": {"channel": "web"}, "ts": 1_750_000_000_000i64}),
        ),
    ]
}

/// The variants of a `type`-tagged enum's schema, by tag.
fn variants<T: JsonSchema>(gen: &mut SchemaGenerator) -> Vec<(String, Value)> {
    let _ = gen.subschema_for::<T>();
    let defs = gen.definitions().clone();
    let Some(schema) = defs.get(T::schema_name().as_ref()) else {
        return Vec::new();
    };
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let tag = v
                .pointer("/properties/type/const")
                .or_else(|| v.pointer("/properties/type/enum/0"))?
                .as_str()?
                .to_string();
            Some((tag, v.clone()))
        })
        .collect()
}

/// The AsyncAPI 3.0 document for both live sockets. Long on purpose: it is one declarative
/// literal (channels, messages, operations) that reads best top to bottom like the spec it
/// mirrors; splitting it would scatter one document over helpers.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut gen = settings.into_generator();
    let client = variants::<ClientFrame>(&mut gen);
    let server = variants::<ServerFrame>(&mut gen);
    let inbox = variants::<InboxFrame>(&mut gen);
    let examples = examples();
    let mut messages = Map::new();
    let mut channel_messages = |side: &str, list: &[(String, Value)]| -> Vec<String> {
        let mut names = Vec::new();
        for (tag, payload) in list {
            let name = format!("{side}.{tag}");
            let mut m = json!({
                "name": name,
                "title": format!("{tag} ({})", if side == "client" { "client to server" } else { "server to client" }),
                "contentType": "application/json",
                "payload": payload,
            });
            if let Some((_, ex)) = examples.iter().find(|(n, _)| *n == name) {
                m["examples"] = json!([{ "payload": ex }]);
            }
            messages.insert(name.clone(), m);
            names.push(name);
        }
        names
    };
    let client_names = channel_messages("client", &client);
    let server_names = channel_messages("server", &server);
    let inbox_names = channel_messages("inbox", &inbox);
    let refs = |names: &[String]| -> Map<String, Value> {
        names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    json!({ "$ref": format!("#/components/messages/{n}") }),
                )
            })
            .collect()
    };
    let op_refs = |channel: &str, names: &[String]| -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({ "$ref": format!("#/channels/{channel}/messages/{n}") }))
            .collect()
    };
    let mut conversation_messages = refs(&client_names);
    conversation_messages.extend(refs(&server_names));
    let schemas: Map<String, Value> = gen.take_definitions(true).into_iter().collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "PrismAI Edge live protocol",
            "version": version::VERSION,
            "description": RULES,
        },
        "defaultContentType": "application/json",
        "servers": {
            "edge": { "host": "your-edge.example", "protocol": "wss", "description": "The edge serving the API (ws:// locally)." }
        },
        "channels": {
            "conversation": {
                "address": "/v1/conversations/{conversation_id}/live",
                "title": "One conversation: its customer, agents and the AI",
                "parameters": { "conversation_id": { "description": "The conversation (cnv_…)." } },
                "messages": conversation_messages,
                "bindings": { "ws": { "query": { "type": "object", "properties": {
                    "token": { "type": "string", "description": "A customer's conversation token (agents use the bearer.<token> subprotocol instead)." }
                } } } }
            },
            "inbox": {
                "address": "/v1/inbox/live",
                "title": "The tenant's inbox feed for agents (receive only)",
                "messages": refs(&inbox_names),
            }
        },
        "operations": {
            "sendConversationFrame": { "action": "send", "channel": { "$ref": "#/channels/conversation" }, "messages": op_refs("conversation", &client_names) },
            "receiveConversationFrame": { "action": "receive", "channel": { "$ref": "#/channels/conversation" }, "messages": op_refs("conversation", &server_names) },
            "receiveInboxEvent": { "action": "receive", "channel": { "$ref": "#/channels/inbox" }, "messages": op_refs("inbox", &inbox_names) }
        },
        "components": {
            "messages": messages,
            "schemas": schemas,
            "securitySchemes": {
                "conversationToken": { "type": "httpApiKey", "in": "query", "name": "token", "description": "A customer's conversation token." },
                "bearerSubprotocol": { "type": "httpApiKey", "in": "header", "name": "Sec-WebSocket-Protocol", "description": "`prism.v1, bearer.<agent token or conversation token>`." }
            },
            "x-close-codes": { "1000": "normal", "1008": "flooding", "4001": "credential expired", "4003": "credential revoked, user deactivated or demoted, tenant suspended" },
            "x-limits": { "max_frame_bytes": protocol::MAX_FRAME_BYTES, "max_text_chars": protocol::MAX_TEXT_CHARS, "max_client_msg_id": protocol::MAX_CLIENT_MSG_ID }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_an_example_that_its_schema_accepts() {
        let doc = document();
        let messages = doc["components"]["messages"].as_object().unwrap();
        assert!(messages.len() >= 17, "{}", messages.len());
        for (name, m) in messages {
            let example = &m["examples"][0]["payload"];
            assert!(!example.is_null(), "{name} has no example");
            // Resolve the payload's refs against the document's components.
            let mut schema = m["payload"].clone();
            schema["components"] = doc["components"].clone();
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{name}: bad schema: {e}"));
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
            // And it is exactly what the server's own types produce or accept.
            if name.starts_with("client.") {
                let f: ClientFrame = serde_json::from_value(example.clone()).unwrap();
                assert_eq!(serde_json::to_value(&f).unwrap()["type"], example["type"]);
            } else if name.starts_with("server.") {
                let f: ServerFrame = serde_json::from_value(example.clone()).unwrap();
                assert_eq!(&serde_json::to_value(&f).unwrap(), example, "{name}");
            }
        }
        // Operations only point at messages their channel holds.
        for op in doc["operations"].as_object().unwrap().values() {
            for r in op["messages"].as_array().unwrap() {
                let path = r["$ref"].as_str().unwrap().trim_start_matches("#/");
                let pointer = format!("/{}", path.replace("~", "~0"));
                assert!(doc.pointer(&pointer).is_some(), "{path}");
            }
        }
    }
}
