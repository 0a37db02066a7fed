//! Voice through VAPI's server URL: the assistant configuration on `assistant-request`,
//! knowledge-base answers to `tool-calls` (fast: one retrieval, no generation, inside the voice
//! latency budget), live `transcript` lines into the conversation, and the
//! `end-of-call-report` stored with its summary and recording.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::config::VoiceConfig;
use crate::conversations::client::Conversation;
use crate::conversations::engine::{InitRequest, PostRequest};
use crate::conversations::protocol::MAX_TEXT_CHARS;
use crate::conversations::{Channel, Participant};
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::platform::Platform;
use crate::ports::SqlDatabase;
use crate::tenancy::TenantConfig;
use serde::Deserialize;
use serde_json::{json, Value};
use std::rc::Rc;

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

/// A VAPI server message (the parts read here; VAPI sends many more).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "type")]
    pub kind: String,
    pub call: CallInfo,
    pub role: Option<String>,
    pub transcript: Option<String>,
    pub transcript_type: Option<String>,
    pub status: Option<String>,
    pub ended_reason: Option<String>,
    pub summary: Option<String>,
    pub analysis: CallAnalysis,
    pub recording_url: Option<String>,
    /// The raw message, for the parts whose shape varies (tool calls, report lines).
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallInfo {
    pub id: String,
    pub customer: CallCustomer,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallCustomer {
    pub number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallAnalysis {
    pub summary: Option<String>,
}

impl Message {
    /// Reads `{"message": …}` as VAPI posts it.
    pub fn read(body: &[u8]) -> ApiResult<Message> {
        let envelope: Value = crate::input::parse_json(body)?;
        let raw = envelope.get("message").cloned().unwrap_or_default();
        let mut m: Message = serde_json::from_value(raw.clone())
            .map_err(|e| ApiError::validation("message", e.to_string()))?;
        m.raw = raw;
        Ok(m)
    }

    /// For call events (transcript lines, status updates, the end-of-call report): their id in
    /// the webhook ledger; `None` for messages that are not recorded.
    pub fn call_event_id(&self) -> Option<String> {
        let call = &self.call.id;
        if call.is_empty() {
            return None;
        }
        match self.kind.as_str() {
            "transcript" => Some(format!("{call}:t:{}", utterance_id(&self.raw))),
            "status-update" => Some(format!("{call}:s:{}", self.status.as_deref().unwrap_or(""))),
            "end-of-call-report" => Some(format!("{call}:end")),
            _ => None,
        }
    }

    fn recording(&self) -> Option<&str> {
        self.recording_url.as_deref().or_else(|| {
            self.raw
                .pointer("/artifact/recordingUrl")
                .and_then(Value::as_str)
        })
    }
}

/// The answers to a `tool-calls` message: the knowledge base for our tool.
pub async fn tool_results(p: &Platform, tenant_id: &str, cfg: &TenantConfig, m: &Message) -> Value {
    let mut results = Vec::new();
    for (id, name, args) in tool_calls(&m.raw) {
        let result = if name == KB_TOOL {
            let query = args.get("query").and_then(Value::as_str).unwrap_or("");
            knowledge_answer(p, tenant_id, cfg, query).await
        } else {
            format!("Unknown tool {name}.")
        };
        results.push(json!({ "toolCallId": id, "result": result }));
    }
    json!({ "results": results })
}

/// Records a call event: a final transcript line as a message, a status, or the end-of-call
/// report (summary, recording and the whole transcript).
pub async fn call_event(p: &Rc<Platform>, tenant_id: &str, m: &Message) -> ApiResult<()> {
    let db = p.db()?;
    let call_id = m.call.id.as_str();
    let (conversation_id, customer) = open_call(p, tenant_id, m).await?;
    let conv = Conversation::new(p, tenant_id, &conversation_id);
    let limit = |t: &str| -> String { t.chars().take(MAX_TEXT_CHARS).collect() };
    match m.kind.as_str() {
        "transcript" => {
            let text = m.transcript.as_deref().unwrap_or("").trim();
            if m.transcript_type.as_deref() != Some("final") || text.is_empty() {
                return Ok(());
            }
            let who = if m.role.as_deref() == Some("user") {
                customer
            } else {
                Participant::Ai
            };
            let key = format!(
                "{}:{}",
                call_id.chars().take(24).collect::<String>(),
                short_hash(&utterance_id(&m.raw))
            );
            conv.post(&PostRequest {
                participant: who,
                client_msg_id: key,
                text: limit(text),
                meta: Some(json!({ "call_id": call_id })),
            })
            .await?;
        }
        "status-update" => {
            let status = m.status.as_deref().unwrap_or("unknown");
            save_call(
                db,
                tenant_id,
                call_id,
                &conversation_id,
                status,
                None,
                None,
                p.now_ms(),
            )
            .await?;
        }
        _ => {
            let summary = m.analysis.summary.as_deref().or(m.summary.as_deref());
            let recording = m.recording();
            save_call(
                db,
                tenant_id,
                call_id,
                &conversation_id,
                "ended",
                summary,
                recording,
                p.now_ms(),
            )
            .await?;
            let mut text = format!(
                "Call ended ({}).",
                m.ended_reason.as_deref().unwrap_or("completed")
            );
            if let Some(s) = summary {
                text.push_str(&format!(" Summary: {s}"));
            }
            let lines = report_lines(&m.raw);
            let meta = json!({ "call_id": call_id, "summary": summary, "recording_url": recording, "transcript": lines.iter().map(|(r, t, at)| json!({"role": r, "text": t, "at": at})).collect::<Vec<_>>() });
            conv.post(&PostRequest {
                participant: Participant::System { id: "voice".into() },
                client_msg_id: format!("{}:end", call_id.chars().take(56).collect::<String>()),
                text: limit(&text),
                meta: Some(meta),
            })
            .await?;
        }
    }
    Ok(())
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()).get(..8).unwrap_or_default())
}

/// The voice conversation of a call, opened on its first event.
async fn open_call(
    p: &Rc<Platform>,
    tenant_id: &str,
    m: &Message,
) -> ApiResult<(String, Participant)> {
    let db = p.db()?;
    let number = m
        .call
        .customer
        .number
        .clone()
        .unwrap_or_else(|| "unknown caller".into());
    let customer = crate::conversations::customers::find_or_create(
        db,
        &*p.random,
        tenant_id,
        &crate::conversations::customers::Identity {
            kind: "phone",
            external_id: &number,
            name: None,
            email: None,
            phone: Some(&number),
        },
        p.now_ms(),
    )
    .await?;
    let who = Participant::Customer {
        id: customer.id.clone(),
        name: customer.name.clone().unwrap_or_else(|| number.clone()),
    };
    if let Some(id) = call_conversation(db, tenant_id, &m.call.id).await? {
        return Ok((id, who));
    }
    let id = crate::ids::new_id(&*p.random, "cnv");
    Conversation::new(p, tenant_id, &id)
        .init(&InitRequest {
            tenant_id: tenant_id.into(),
            conversation_id: id.clone(),
            customer_id: customer.id.clone(),
            customer_name: customer.name.clone().unwrap_or(number),
            channel: Channel::Voice,
            subject: Some("Phone call".into()),
            tags: vec!["voice".into()],
            language: None,
        })
        .await?;
    save_call(
        db,
        tenant_id,
        &m.call.id,
        &id,
        "in-progress",
        None,
        None,
        p.now_ms(),
    )
    .await?;
    Ok((id, who))
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
