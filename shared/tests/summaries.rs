//! Conversation summaries (issue 18): written when a conversation is handed over or resolved
//! (extractive at once, carried by the handoff's inbox event; the workspace's AI provider's
//! replacing it), made on request, agents only, gone with an erasure.

mod common;

use common::{Api, TestTenant};
use prism_core::http::Method;
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

fn post(api: &Api, bearer: &str, path: &str, body: Option<Value>) -> common::Reply {
    api.call(Method::Post, path, Some(bearer), body)
}

fn chat(api: &Api, t: &TestTenant) -> (String, String) {
    let (conv, token, _) = api.start_conversation(t, json!({"name": "Rita"}));
    for (i, text) in [
        "Hello. My order 1042 arrived with a broken zipper on the jacket.",
        "The jacket zipper broke on day one, I want a replacement jacket, not a refund.",
    ]
    .iter()
    .enumerate()
    {
        let r = post(
            api,
            &token,
            &format!("/v1/conversations/{conv}/messages"),
            Some(json!({"text": text, "client_msg_id": format!("m{i}")})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    (conv, token)
}

#[test]
fn a_handoff_carries_an_extractive_summary_agents_read_and_an_erasure_removes() {
    let api = Api::new();
    let t = api.create_tenant("sum-x", "pro", None);
    // The team answers (no assistant), so the customer's own request is the only handoff.
    api.set_flag(&t, "ai_answers", false);
    let (conv, token) = chat(&api, &t);
    let path = format!("/v1/conversations/{conv}/summary");
    assert_eq!(
        api.get(&path, &t.secret_key).status,
        404,
        "none before a handoff"
    );
    let r = post(
        &api,
        &token,
        &format!("/v1/conversations/{conv}/handoff"),
        Some(json!({"reason": "wants a replacement"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = api.get(&path, &t.secret_key);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["source"], "extractive");
    assert_eq!(s.body["reason"], "handoff");
    let text = s.body["text"].as_str().unwrap();
    assert!(text.contains("replacement jacket"), "{text}");
    assert!(text.contains("Handed over: wants a replacement"), "{text}");
    // The inbox's handoff event carries it (the console's notification shows it).
    let h = api.get("/v1/inbox/history?after=0", &t.secret_key);
    assert_eq!(h.status, 200, "{}", h.body);
    let handoff = h.body["items"]
        .as_array()
        .or_else(|| h.body["events"].as_array())
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "conversation.status" && e["status"] == "pending_human")
        .cloned()
        .unwrap_or_else(|| panic!("no handoff event in {}", h.body));
    assert_eq!(handoff["data"]["summary"].as_str(), Some(text));
    // Customers do not read it.
    assert!(
        matches!(api.get(&path, &token).status, 401 | 403),
        "a customer token"
    );
    // Another tenant's agents get a 404.
    let other = api.create_tenant("sum-other", "pro", None);
    assert_eq!(api.get(&path, &other.secret_key).status, 404);
    // Resolving writes it again for the resolution.
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/status"),
        Some(json!({"status": "resolved"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.get(&path, &t.secret_key).body["reason"], "resolved");
    // An erasure takes it.
    let customer = api
        .get(&format!("/v1/conversations/{conv}"), &t.secret_key)
        .body["customer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/customers/{customer}/erase"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM conversation_summaries"),
        0
    );
}

#[test]
fn with_a_provider_the_models_summary_replaces_the_extractive_one() {
    let api = Api::new();
    let t = api.create_tenant("sum-ai", "pro", None);
    let prompts: Rc<RefCell<Vec<Value>>> = Rc::default();
    let seen = prompts.clone();
    let http = ScriptedHttp::new(move |req, _| {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let system = body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap_or("");
        let text = if system.starts_with("You summarise") {
            seen.borrow_mut().push(body.clone());
            r#"{"summary": "Wants a replacement jacket for order 1042 (broken zipper); a refund was offered."}"#
        } else {
            "Happy to help."
        };
        common::gemini_reply(text)
    });
    api.use_gemini(&t, http);
    let (conv, _) = chat(&api, &t);
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/status"),
        Some(json!({"status": "resolved"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = api.get(&format!("/v1/conversations/{conv}/summary"), &t.secret_key);
    assert_eq!(s.body["source"], "ai", "{}", s.body);
    assert_eq!(
        s.body["text"],
        "Wants a replacement jacket for order 1042 (broken zipper); a refund was offered."
    );
    assert!(s.body["model"].as_str().unwrap().starts_with("gemini:"));
    let p = prompts.borrow();
    let asked = p.len();
    assert!(asked >= 1);
    let transcript = p[asked - 1]["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        transcript.contains("Customer: The jacket zipper broke on day one"),
        "{transcript}"
    );
    assert!(transcript.contains("Assistant: "), "{transcript}");
    drop(p);
    // On request, again through the model.
    let again = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/summary"),
        None,
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        (again.body["source"].as_str(), again.body["reason"].as_str()),
        (Some("ai"), Some("request"))
    );
    assert_eq!(prompts.borrow().len(), asked + 1);
}

#[test]
fn without_a_provider_a_summary_on_request_is_extractive_and_viewers_cannot_ask() {
    let api = Api::new();
    let t = api.create_tenant("sum-req", "pro", None);
    let (conv, _) = chat(&api, &t);
    let (_, viewer) = api.user_with_role(&t, "viewer");
    let path = format!("/v1/conversations/{conv}/summary");
    assert_eq!(post(&api, &viewer, &path, None).status, 403);
    let r = post(&api, &t.secret_key, &path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["source"], "extractive");
    assert!(r.body["text"].as_str().unwrap().contains("zipper"));
    assert_eq!(api.get(&path, &viewer).status, 200, "viewers read it");
}
