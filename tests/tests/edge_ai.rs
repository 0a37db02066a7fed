//! AI answers end to end in workerd: the offline responder with no account, Gemini through a
//! local fake speaking its wire format, fallback when the provider fails, and handoff.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api, Tenant};
use prism_e2e::fakes::{gemini_frame, Fakes, Reply};
use prism_e2e::ws::WsClient;
use prism_e2e::Edge;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

async fn load_kb(base: &str, t: &Tenant) {
    let api = Api::at(base);
    let dir = prism_e2e::repo_root().join("scripts/demo/knowledge");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let content = std::fs::read_to_string(&f).unwrap();
        let title = content
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .to_string();
        let r = api
            .call(
                Method::Post,
                "/v1/knowledge/documents",
                Some(&t.secret_key),
                Some(&json!({"title": title, "content": content, "format": "markdown"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

async fn live_conversation(edge: &Edge, t: &Tenant) -> (String, String, WsClient) {
    let api = Api::at(&edge.base);
    let (id, token, _) = api.start_conversation(t, &json!({"name": "Ann"})).await;
    let mut ws =
        WsClient::connect(&edge.ws_url(&format!("/v1/conversations/{id}/live?token={token}")))
            .await;
    ws.recv_type("welcome", T).await;
    (id, token, ws)
}

/// Sends a question and collects frames until the AI's final message.
async fn ask(ws: &mut WsClient, text: &str) -> (Vec<(Instant, Value)>, Value) {
    ws.send_json(
        &json!({"type": "message", "client_msg_id": format!("q-{}", text.len()), "text": text}),
    )
    .await;
    let mut frames = Vec::new();
    loop {
        let f = ws.recv_json(T).await;
        let now = Instant::now();
        if f["type"] == "message" && f["author"]["type"] == "ai" {
            return (frames, f);
        }
        frames.push((now, f));
    }
}

#[tokio::test]
async fn with_no_account_the_assistant_answers_from_the_knowledge_base_streaming_and_cited() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api
        .create_tenant(&unique_slug("offline"), "pro", None)
        .await;
    load_kb(&edge.base, &t).await;
    let (_, _, mut ws) = live_conversation(edge, &t).await;
    let (frames, answer) = ask(&mut ws, "How long does delivery take to the US?").await;
    assert!(frames.iter().any(|(_, f)| f["type"] == "ack"));
    let deltas: String = frames
        .iter()
        .filter(|(_, f)| f["type"] == "ai.delta")
        .map(|(_, f)| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        deltas,
        answer["text"].as_str().unwrap(),
        "the deltas add up to the final message"
    );
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("5 to 8 business days"),
        "{answer}"
    );
    assert_eq!(
        answer["meta"]["citations"][0]["title"],
        "Shipping and delivery"
    );
}

#[tokio::test]
async fn asking_for_a_human_hands_off_with_a_status_frame() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("human"), "pro", None).await;
    load_kb(&edge.base, &t).await;
    let (id, _, mut ws) = live_conversation(edge, &t).await;
    let (frames, notice) = ask(&mut ws, "I want to speak to a real person").await;
    assert!(
        frames
            .iter()
            .any(|(_, f)| f["type"] == "status" && f["status"] == "pending_human"),
        "{frames:?}"
    );
    assert_eq!(notice["meta"]["handoff"], "customer_request");
    let c = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{id}"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(c.body["conversation"]["handoff_reason"], "customer_request");
}

#[tokio::test]
async fn gemini_tokens_reach_the_customer_as_they_arrive() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("gemini"), "pro", None).await;
    load_kb(&edge.base, &t).await;
    let key = format!("key-{}", unique_slug("g"));
    Fakes::shared().script(
        &key,
        vec![Reply::Stream {
            frames: vec![
                gemini_frame("Standard delivery to the US ", None),
                gemini_frame("takes 5 to 8 ", None),
                gemini_frame("business days [1].", Some("STOP")),
            ],
            first_delay: Duration::from_millis(50),
            gap: Duration::from_millis(300),
        }],
    );
    Api::at(&edge.base).use_fake_gemini(&t, &key).await;
    let (_, _, mut ws) = live_conversation(edge, &t).await;
    let (frames, answer) = ask(&mut ws, "How long does delivery take to the US?").await;
    let deltas: Vec<&(Instant, Value)> = frames
        .iter()
        .filter(|(_, f)| f["type"] == "ai.delta")
        .collect();
    assert_eq!(deltas.len(), 3, "{frames:?}");
    let spread = deltas[2].0 - deltas[0].0;
    assert!(
        spread >= Duration::from_millis(400),
        "deltas were relayed as they arrived, not batched: {spread:?}"
    );
    assert_eq!(
        answer["text"],
        "Standard delivery to the US takes 5 to 8 business days [1]."
    );
    assert_eq!(
        (
            answer["meta"]["provider"].as_str(),
            answer["meta"]["usage"]["input_tokens"].as_i64()
        ),
        (Some("gemini"), Some(210))
    );
    let reqs = Fakes::shared().requests(&key);
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert!(reqs[0].body["contents"].to_string().contains("<<<CONTEXT"));
}

#[tokio::test]
async fn a_failing_provider_falls_back_and_the_customer_message_is_kept() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("down"), "pro", None).await;
    load_kb(&edge.base, &t).await;
    let key = format!("key-{}", unique_slug("d"));
    Fakes::shared().script(
        &key,
        vec![Reply::Status {
            code: 500,
            body: json!({"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}),
            retry_after: None,
        }],
    );
    Api::at(&edge.base).use_fake_gemini(&t, &key).await;
    let (id, token, mut ws) = live_conversation(edge, &t).await;
    let (_, answer) = ask(&mut ws, "Do you accept PayPal?").await;
    assert_eq!(answer["meta"]["provider"], "offline", "{answer}");
    assert!(answer["text"].as_str().unwrap().contains("PayPal"));
    assert!(
        Fakes::shared().requests(&key).len() >= 2,
        "retried before falling back"
    );
    let h = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{id}/messages?after_seq=0&token={token}"),
            None,
            None,
        )
        .await;
    let msgs = h.body["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["text"], "Do you accept PayPal?");
    assert_eq!(msgs[0]["author"]["type"], "customer");
}

#[tokio::test]
async fn a_message_posted_over_http_is_answered_and_visible_over_sse() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("httpai"), "pro", None).await;
    load_kb(&edge.base, &t).await;
    let r = api
        .call(
            Method::Post,
            "/v1/conversations",
            Some(&t.secret_key),
            Some(&json!({"name": "Bo"})),
        )
        .await;
    let (id, token) = (
        r.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_string(),
        r.body["token"].as_str().unwrap().to_string(),
    );
    let mut sse = prism_e2e::sse::SseClient::connect(
        &format!("{}/v1/conversations/{id}/events?token={token}", edge.base),
        None,
    )
    .await;
    sse.next_named("welcome", T).await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{id}/messages"),
            Some(&token),
            Some(&json!({"text": "I forgot my password", "client_msg_id": "p1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = sse.next_named("message", T).await;
    assert_eq!(first.data["author"]["type"], "customer");
    let answer = sse.next_named("message", T).await;
    assert_eq!(answer.data["author"]["type"], "ai");
    assert!(
        answer.data["text"]
            .as_str()
            .unwrap()
            .contains("Forgot password"),
        "{}",
        answer.data
    );
}
