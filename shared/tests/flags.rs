//! Every feature flag switches off the feature it names (issue 18), and flags that named
//! nothing are gone.

mod common;

use common::{Api, TestTenant, ORIGIN};
use prism_core::http::Method;
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};

fn set(api: &Api, t: &TestTenant, flag: &str, on: bool) -> u16 {
    api.call(
        Method::Put,
        &format!("/v1/tenant/features/{flag}"),
        Some(&t.secret_key),
        Some(json!({"enabled": on})),
    )
    .status
}

fn load_kb(api: &Api, t: &TestTenant) {
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(json!({"title": "Returns", "content": "# Returns\n\nYou can return any item within 30 days of delivery for a full refund."})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn ask(api: &Api, t: &TestTenant, text: &str) -> (String, String, Vec<Value>) {
    let (conv, token, _) = api.start_conversation(t, json!({"name": "Q"}));
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/messages"),
        Some(&token),
        Some(json!({"text": text, "client_msg_id": "q"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let h = api.get(
        &format!("/v1/conversations/{conv}/messages?after_seq=0"),
        &token,
    );
    (conv, token, h.body["messages"].as_array().unwrap().clone())
}

fn status(api: &Api, t: &TestTenant, conv: &str) -> Value {
    api.get(&format!("/v1/conversations/{conv}"), &t.secret_key)
        .body["conversation"]["status"]
        .clone()
}

#[test]
fn flags_that_named_nothing_are_gone() {
    let api = Api::new();
    let t = api.create_tenant("flags-gone", "pro", None);
    for flag in [
        "sms_channel",
        "whatsapp_channel",
        "email_channel",
        "voice_channel",
    ] {
        assert_eq!(set(&api, &t, flag, true), 422, "{flag}");
    }
    let f = api.get("/v1/tenant/features", &t.secret_key);
    assert_eq!(f.status, 200, "{}", f.body);
    let text = f.body.to_string();
    for flag in [
        "ai_answers",
        "human_handoff",
        "knowledge_base",
        "analytics",
        "leads",
        "surveys",
    ] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
    assert!(!text.contains("sms_channel"), "{text}");
}

#[test]
fn ai_answers_off_leaves_every_message_to_the_team() {
    let api = Api::new();
    let t = api.create_tenant("flags-ai", "pro", None);
    load_kb(&api, &t);
    assert_eq!(set(&api, &t, "ai_answers", false), 200);
    let (_, _, messages) = ask(&api, &t, "How long do I have to return an item?");
    assert!(
        messages.iter().all(|m| m["author"]["type"] != "ai"),
        "{messages:?}"
    );
}

#[test]
fn analytics_off_closes_the_reports() {
    let api = Api::new();
    let t = api.create_tenant("flags-analytics", "pro", None);
    assert_eq!(api.get("/v1/ratings", &t.secret_key).status, 200);
    assert_eq!(set(&api, &t, "analytics", false), 200);
    let r = api.get("/v1/ratings", &t.secret_key);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.to_string().contains("analytics"));
}

#[test]
fn knowledge_base_off_stops_grounding_and_search() {
    let api = Api::new();
    let t = api.create_tenant("flags-kb", "pro", None);
    load_kb(&api, &t);
    let (_, _, messages) = ask(&api, &t, "How long do I have to return an item?");
    assert!(messages.iter().any(|m| m["author"]["type"] == "ai" && m["text"].as_str().unwrap().contains("30 days")), "{messages:?}");
    assert_eq!(set(&api, &t, "knowledge_base", false), 200);
    assert_eq!(
        api.get("/v1/knowledge/search?q=return", &t.secret_key)
            .status,
        403
    );
    // The built-in responder has nothing to answer from: it hands over.
    let (conv, _, messages) = ask(&api, &t, "How long do I have to return an item?");
    assert!(
        !messages
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains("30 days")),
        "{messages:?}"
    );
    assert_eq!(status(&api, &t, &conv), "pending_human");
    // A provider answers from the persona alone: no passage reaches its prompt.
    let http = ScriptedHttp::new(|req, _| {
        assert!(
            !String::from_utf8_lossy(&req.body).contains("within 30 days"),
            "a passage reached the prompt"
        );
        ScriptedHttp::sse(&[json!({"candidates": [{"content": {"parts": [{"text": "Please check your order email."}], "role": "model"}, "finishReason": "STOP", "index": 0}]}).to_string()])
    });
    api.use_gemini(&t, http.clone());
    let (conv, _, messages) = ask(&api, &t, "How long do I have to return an item?");
    assert!(
        messages
            .iter()
            .any(|m| m["text"] == "Please check your order email."),
        "{messages:?}"
    );
    assert_eq!(status(&api, &t, &conv), "open");
    assert!(!http.calls.borrow().is_empty());
}

#[test]
fn human_handoff_off_keeps_conversations_with_the_assistant() {
    let api = Api::new();
    let t = api.create_tenant("flags-team", "pro", None);
    assert_eq!(set(&api, &t, "human_handoff", false), 200);
    let (conv, token, messages) = ask(&api, &t, "I want to talk to a human please");
    assert_eq!(status(&api, &t, &conv), "open");
    let reply = messages
        .iter()
        .rev()
        .find(|m| m["author"]["type"] == "ai")
        .expect("a reply");
    assert!(
        reply["text"].as_str().unwrap().contains("no team"),
        "{reply}"
    );
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/handoff"),
        Some(&token),
        Some(json!({})),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // Agents can still step in: the flag is about customers and the assistant.
    let (_, agent) = api.user_with_role(&t, "agent");
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/handoff"),
        Some(&agent),
        Some(json!({"reason": "agent_takeover"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status(&api, &t, &conv), "pending_human");
    // The widget is told, and hides "Talk to a person".
    let mut req = Api::req(
        Method::Get,
        "/v1/widget/settings",
        Some(&t.public_key),
        None,
    );
    req.headers.append("origin", ORIGIN);
    assert_eq!(api.send(req).body["human_handoff"], false);
}
