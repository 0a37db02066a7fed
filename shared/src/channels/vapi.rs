//! Voice through VAPI's server URL: the assistant configuration on `assistant-request`,
//! knowledge-base answers to `tool-calls` (fast: one retrieval, no generation, inside the voice
//! latency budget), live `transcript` lines into the conversation, and the
//! `end-of-call-report` stored with its summary and recording.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::config::VoiceConfig;
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use crate::ports::SqlDatabase;
use crate::tenancy::TenantConfig;
use serde_json::{json, Value};

pub const KB_TOOL: &str = "search_knowledge_base";

/// The answer to `assistant-request`: the tenant's persona, first message, voice, and the
/// knowledge-base tool pointing back at this webhook.
pub fn assistant(
    cfg: &TenantConfig,
    voice: &VoiceConfig,
    business_name: &str,
    server_url: Option<&str>,
    open_now: bool,
) -> Value {
    let system = format!(
        "{}\nYou are on a phone call: answer in one or two short spoken sentences, no lists or markdown. \
         Call the {KB_TOOL} tool for any question about the business before answering; if it finds nothing, \
         say you will pass the question to a colleague.",
        crate::ai::prompt::system(cfg, business_name, open_now)
    );
    let server = server_url.map(|url| json!({ "url": url }));
    let mut tool = json!({
        "type": "function",
        "function": {
            "name": KB_TOOL,
            "description": "Search the business's knowledge base (policies, products, opening hours, shipping, returns).",
            "parameters": { "type": "object", "properties": { "query": { "type": "string", "description": "The customer's question" } }, "required": ["query"] }
        }
    });
    put(&mut tool, "server", server.clone());
    let mut assistant = json!({
        "name": cfg.persona.name,
        "firstMessage": voice.first_message,
        "model": { "provider": "openai", "model": "gpt-4o-mini", "messages": [{ "role": "system", "content": system }], "tools": [tool] },
    });
    put(&mut assistant, "server", server);
    put(&mut assistant, "voice", voice.voice.clone());
    json!({ "assistant": assistant })
}

/// Sets `key` on a JSON object when there is a value for it.
fn put(object: &mut Value, key: &str, value: Option<Value>) {
    if let (Value::Object(m), Some(v)) = (object, value) {
        m.insert(key.into(), v);
    }
}

/// The calls in a `tool-calls` message: (id, name, arguments). Arguments may arrive as an object
/// or as a JSON string, and the name at the top level or under `function`.
pub fn tool_calls(message: &Value) -> Vec<(String, String, Value)> {
    let list = message["toolCallList"]
        .as_array()
        .or_else(|| message["toolCalls"].as_array());
    list.map(|l| {
        l.iter()
            .filter_map(|c| {
                let id = c["id"].as_str()?.to_string();
                let f = if c["function"].is_object() {
                    &c["function"]
                } else {
                    c
                };
                let name = f["name"].as_str()?.to_string();
                let args = match &f["arguments"] {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                    v => v.clone(),
                };
                Some((id, name, args))
            })
            .take(8)
            .collect()
    })
    .unwrap_or_default()
}

/// The knowledge tool's result: the best passages as plain sentences for the voice model.
pub async fn knowledge_answer(
    p: &Platform,
    tenant_id: &str,
    cfg: &TenantConfig,
    query: &str,
) -> String {
    let query: String = query.chars().take(500).collect();
    if query.trim().is_empty() {
        return "No question was given.".into();
    }
    match crate::ai::retrieval::retrieve(p, tenant_id, &cfg.ai, &query).await {
        Ok(r) if !r.hits.is_empty() && r.confidence >= 0.25 => r
            .hits
            .iter()
            .take(2)
            .map(|h| format!("{}: {}", h.passage.title, h.passage.text.chars().take(600).collect::<String>()))
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(_) => "Nothing in the knowledge base answers this; offer to pass the question to a colleague.".into(),
        Err(_) => "The knowledge base is unavailable right now; offer to pass the question to a colleague.".into(),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn save_call(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    call_id: &str,
    conversation_id: &str,
    status: &str,
    summary: Option<&str>,
    recording_url: Option<&str>,
    now: i64,
) -> ApiResult<()> {
    db.execute(
        "INSERT INTO voice_calls (tenant_id, call_id, conversation_id, status, summary, recording_url, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant_id, call_id) DO UPDATE SET status = excluded.status,
           summary = COALESCE(excluded.summary, voice_calls.summary),
           recording_url = COALESCE(excluded.recording_url, voice_calls.recording_url), updated_at = excluded.updated_at",
        &params![tenant_id, call_id, conversation_id, status, summary, recording_url, now],
    )
    .await?;
    Ok(())
}

pub async fn call_conversation(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    call_id: &str,
) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT conversation_id FROM voice_calls WHERE tenant_id = ?1 AND call_id = ?2",
            &params![tenant_id, call_id],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.text("conversation_id")))
}

/// One transcript line of an end-of-call report: (role, text, seconds from start).
pub fn report_lines(message: &Value) -> Vec<(String, String, String)> {
    let msgs = message
        .pointer("/artifact/messages")
        .and_then(Value::as_array)
        .or_else(|| message.get("messages").and_then(Value::as_array));
    msgs.map(|m| {
        m.iter()
            .filter_map(|x| {
                let role = x["role"].as_str()?;
                let text = x["message"].as_str().or_else(|| x["content"].as_str())?;
                let at = x["secondsFromStart"]
                    .as_f64()
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_default();
                matches!(role, "user" | "bot" | "assistant")
                    .then(|| (role.to_string(), text.to_string(), at))
            })
            .take(500)
            .collect()
    })
    .unwrap_or_default()
}

/// Identifies one utterance of a call: who spoke, when (VAPI's `timestamp`, ms), and what.
/// Two identical words ("yes", "yes") are two utterances; a retried webhook is the same one.
/// Without a timestamp, the length of the live transcript (`artifact.messages`) tells
/// utterances apart.
pub fn utterance_id(message: &Value) -> String {
    let when = message["timestamp"]
        .as_f64()
        .map(|t| format!("{}", t as i64))
        .or_else(|| {
            message
                .pointer("/artifact/messages")
                .and_then(Value::as_array)
                .map(|a| format!("n{}", a.len()))
        })
        .unwrap_or_default();
    let text = message["transcript"].as_str().unwrap_or("");
    use sha2::{Digest, Sha256};
    format!(
        "{}:{when}:{}",
        message["role"].as_str().unwrap_or(""),
        hex::encode(Sha256::digest(text.as_bytes()).get(..6).unwrap_or_default())
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn tool_calls_parse_both_shapes() {
        let m = json!({"toolCallList": [
            {"id": "call_1", "name": KB_TOOL, "arguments": {"query": "returns"}},
            {"id": "call_2", "type": "function", "function": {"name": KB_TOOL, "arguments": "{\"query\":\"hours\"}"}}
        ]});
        let calls = tool_calls(&m);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].2["query"], "returns");
        assert_eq!(calls[1].1, KB_TOOL);
        assert_eq!(calls[1].2["query"], "hours");
        assert!(tool_calls(&json!({})).is_empty());
    }

    #[test]
    fn the_assistant_carries_the_first_message_and_the_tool() {
        let cfg = TenantConfig::default();
        let voice = VoiceConfig {
            first_message: "Hi, Acme here!".into(),
            voice: Some(json!({"provider": "11labs", "voiceId": "abc"})),
            tts: None,
        };
        let a = assistant(
            &cfg,
            &voice,
            "Acme",
            Some("https://edge.example/v1/webhooks/vapi/ten_1"),
            true,
        );
        assert_eq!(a["assistant"]["firstMessage"], "Hi, Acme here!");
        assert_eq!(
            a["assistant"]["model"]["tools"][0]["function"]["name"],
            KB_TOOL
        );
        assert_eq!(a["assistant"]["voice"]["provider"], "11labs");
        assert_eq!(
            a["assistant"]["server"]["url"],
            "https://edge.example/v1/webhooks/vapi/ten_1"
        );
    }
}
