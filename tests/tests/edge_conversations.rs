//! Live conversations end to end in workerd: Durable Object per conversation, hibernatable
//! WebSockets, the SSE and POST fallbacks, resume, idempotency, the D1 mirror, and handoff to an
//! agent on the live inbox.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api, Tenant};
use prism_e2e::sse::SseClient;
use prism_e2e::ws::WsClient;
use prism_e2e::{Edge, EdgeOptions};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

struct Conv {
    id: String,
    token: String,
}

async fn start(base: &str, t: &Tenant, name: &str) -> Conv {
    let api = Api::at(base);
    let r = api
        .call(
            Method::Post,
            "/v1/conversations",
            Some(&t.secret_key),
            Some(&json!({"name": name, "tags": ["billing"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    Conv {
        id: r.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .into(),
        token: r.body["token"].as_str().unwrap().into(),
    }
}

fn live(edge: &Edge, conv: &str, token: &str) -> String {
    edge.ws_url(&format!("/v1/conversations/{conv}/live?token={token}"))
}

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| f["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn customers_and_an_agent_share_an_ordered_live_conversation() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("live"), "enterprise")
        .await;
    let c = start(base, &t, "Ann").await;
    let (_, agent) = api.user_with_role(&t, "agent").await;

    let mut c1 = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    let w = c1.recv_type("welcome", T).await;
    assert_eq!(
        (w["you"]["type"].as_str(), w["status"].as_str()),
        (Some("customer"), Some("open"))
    );
    let mut c2 = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    c2.recv_type("welcome", T).await;
    let mut a = WsClient::connect_as(
        &edge.ws_url(&format!("/v1/conversations/{}/live", c.id)),
        &agent,
    )
    .await;
    assert_eq!(a.recv_type("welcome", T).await["you"]["type"], "agent");
    let p = c1.recv_type("presence", T).await;
    assert_eq!(
        (p["state"].as_str(), p["agent"]["type"].as_str()),
        (Some("joined"), Some("agent"))
    );
    c2.recv_type("presence", T).await;

    c1.send_json(
        &json!({"type": "message", "client_msg_id": "c1-1", "text": "Hello, is anyone there?"}),
    )
    .await;
    let ack = c1.recv_type("ack", T).await;
    assert_eq!(ack["seq"], 1);
    a.send_json(&json!({"type": "message", "client_msg_id": "a-1", "text": "Hi Ann, Alex here."}))
        .await;
    assert_eq!(a.recv_type("ack", T).await["seq"], 2);
    c2.send_json(&json!({"type": "message", "client_msg_id": "c2-1", "text": "(from my phone)"}))
        .await;
    assert_eq!(c2.recv_type("ack", T).await["seq"], 3);
    for client in [&mut c1, &mut c2, &mut a] {
        let frames = client.drain(Duration::from_millis(700)).await;
        let mut got = seqs(&frames);
        got.retain(|s| *s > 0);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
    }

    c1.send_json(&json!({"type": "typing"})).await;
    let typing = a.recv_type("typing", T).await;
    assert_eq!(typing["author"]["type"], "customer");
    a.send_json(&json!({"type": "read", "up_to_seq": 3})).await;
    let read = c1.recv_type("read", T).await;
    assert_eq!(
        (read["up_to_seq"].as_i64(), read["author"]["type"].as_str()),
        (Some(3), Some("agent"))
    );

    a.close().await;
    let left = c1.recv_type("presence", T).await;
    assert_eq!(left["state"], "left");

    // Pings are answered by the runtime itself.
    c1.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(c1.recv_type("pong", T).await["type"], "pong");
}

#[tokio::test]
async fn a_killed_client_resumes_with_exactly_the_missed_messages_and_resends_are_deduplicated() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("resume"), "enterprise")
        .await;
    let c = start(base, &t, "Bo").await;
    let (_, agent) = api.user_with_role(&t, "agent").await;
    let mut cust = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    cust.recv_type("welcome", T).await;
    let mut a = WsClient::connect_as(
        &edge.ws_url(&format!("/v1/conversations/{}/live", c.id)),
        &agent,
    )
    .await;
    a.recv_type("welcome", T).await;
    for i in 1..=2 {
        cust.send_json(&json!({"type": "message", "client_msg_id": format!("m{i}"), "text": format!("question {i}")})).await;
        cust.recv_type("ack", T).await;
    }
    cust.kill();
    for i in 1..=3 {
        a.send_json(&json!({"type": "message", "client_msg_id": format!("r{i}"), "text": format!("answer {i}")})).await;
        a.recv_type("ack", T).await;
    }
    let mut back = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    back.recv_type("welcome", T).await;
    back.send_json(&json!({"type": "hello", "last_seq": 2}))
        .await;
    let frames = back.drain(Duration::from_millis(800)).await;
    assert_eq!(
        seqs(&frames),
        vec![3, 4, 5],
        "exactly the missed messages: {frames:?}"
    );

    back.send_json(&json!({"type": "message", "client_msg_id": "m2", "text": "question 2"}))
        .await;
    let dup = back.recv_type("ack", T).await;
    assert_eq!(
        (dup["seq"].as_i64(), dup["duplicate"].as_bool()),
        (Some(2), Some(true))
    );
    let h = api
        .call(
            Method::Get,
            &format!(
                "/v1/conversations/{}/messages?after_seq=0&token={}",
                c.id, c.token
            ),
            None,
            None,
        )
        .await;
    assert_eq!(
        h.body["messages"].as_array().unwrap().len(),
        5,
        "{}",
        h.body
    );
}

#[tokio::test]
async fn sse_and_post_give_the_same_guarantees() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("sse"), "enterprise")
        .await;
    let c = start(base, &t, "Cy").await;
    let events = format!("{base}/v1/conversations/{}/events?token={}", c.id, c.token);
    let mut sse = SseClient::connect(&events, None).await;
    assert_eq!(sse.next_named("welcome", T).await.data["status"], "open");
    let post = |key: &str, text: &str| {
        let (url, key, text, token) = (
            format!("{base}/v1/conversations/{}/messages", c.id),
            key.to_string(),
            text.to_string(),
            c.token.clone(),
        );
        async move {
            let r = prism_e2e::http()
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&json!({"text": text}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (s1, b1) = post("k1", "first").await;
    assert_eq!((s1, b1["ack"]["seq"].as_i64()), (201, Some(1)));
    let (s2, b2) = post("k1", "first").await;
    assert_eq!(
        (
            s2,
            b2["ack"]["duplicate"].as_bool(),
            b2["ack"]["seq"].as_i64()
        ),
        (200, Some(true), Some(1)),
        "a retried POST stores nothing"
    );
    post("k2", "second").await;
    let e1 = sse.next_named("message", T).await;
    let e2 = sse.next_named("message", T).await;
    assert_eq!((e1.id.as_deref(), e2.id.as_deref()), (Some("1"), Some("2")));
    assert_eq!(e2.data["text"], "second");
    drop(sse);
    post("k3", "third").await;
    post("k4", "fourth").await;
    let mut again = SseClient::connect(&events, Some("2")).await;
    again.next_named("welcome", T).await;
    let r1 = again.next_named("message", T).await;
    let r2 = again.next_named("message", T).await;
    assert_eq!(
        (r1.id.as_deref(), r2.id.as_deref()),
        (Some("3"), Some("4")),
        "Last-Event-ID resume"
    );
}

#[tokio::test]
async fn tokens_reach_only_their_own_conversation_and_tenant() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let a = api
        .create_tenant_without_ai(&unique_slug("ca"), "enterprise")
        .await;
    let b = api
        .create_tenant_without_ai(&unique_slug("cb"), "enterprise")
        .await;
    let c1 = start(base, &a, "One").await;
    let c2 = start(base, &a, "Two").await;
    let cb = start(base, &b, "Other").await;
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{}/messages", c2.id),
            Some(&c1.token),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "conversation A's token on conversation B");
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{}", c1.id),
            Some(&b.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "tenant B's key on tenant A's conversation");
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{}", cb.id),
            Some(&c1.token),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let list = api
        .call(
            Method::Get,
            "/v1/conversations?limit=100",
            Some(&b.secret_key),
            None,
        )
        .await;
    assert!(!list.body.to_string().contains(&c1.id));
    // Customers cannot use agent-only routes with their token.
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{}/notes", c1.id),
            Some(&c1.token),
            Some(&json!({"text": "x"})),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn malformed_oversized_unknown_and_flooding_frames_leave_the_conversation_healthy() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("abuse"), "enterprise")
        .await;
    let c = start(base, &t, "Dee").await;
    let mut bad = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    bad.recv_type("welcome", T).await;
    let mut good = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    good.recv_type("welcome", T).await;
    for (frame, code) in [
        ("not json".to_string(), "invalid_frame"),
        (json!({"type": "teleport"}).to_string(), "unknown_type"),
        (
            json!({"type": "message", "client_msg_id": "x", "text": "y".repeat(5000)}).to_string(),
            "message_too_large",
        ),
        ("z".repeat(20_000), "frame_too_large"),
    ] {
        bad.send_text(&frame).await;
        assert_eq!(bad.recv_type("error", T).await["code"], code);
    }
    for i in 0..60 {
        bad.send_json(&json!({"type": "typing", "typing": i % 2 == 0}))
            .await;
    }
    assert_eq!(
        bad.closed_with(T).await,
        Some(1008),
        "a flooding connection is closed"
    );
    good.send_json(&json!({"type": "message", "client_msg_id": "ok", "text": "still works"}))
        .await;
    assert_eq!(good.recv_type("ack", T).await["seq"], 1);
}

#[tokio::test]
async fn a_customer_asks_for_a_human_and_the_online_agent_gets_it() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("handoff"), "enterprise")
        .await;
    let (agent_id, agent) = api.user_with_role(&t, "agent").await;
    api.call(
        Method::Patch,
        &format!("/v1/users/{agent_id}"),
        Some(&t.secret_key),
        Some(&json!({"skills": ["billing"]})),
    )
    .await;
    let (_, agent) = (agent_id.clone(), agent);
    let mut inbox = WsClient::connect_as(&edge.ws_url("/v1/inbox/live"), &agent).await;
    let online = api
        .call(Method::Get, "/v1/inbox/online", Some(&t.secret_key), None)
        .await;
    assert_eq!(
        online.body["agents"][0][0]["id"],
        agent_id.as_str(),
        "{}",
        online.body
    );

    let c = start(base, &t, "Eve").await;
    let created = inbox.recv_json(T).await;
    assert_eq!(
        (created["type"].as_str(), created["kind"].as_str()),
        (Some("event"), Some("conversation.created"))
    );
    let mut cust = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    cust.recv_type("welcome", T).await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{}/handoff", c.id),
            Some(&c.token),
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["assignee_id"],
        agent_id.as_str(),
        "routed to the online agent with the skill"
    );
    let status = cust.recv_type("status", T).await;
    assert_eq!(status["status"], "pending_human");
    let mut kinds = vec![];
    while kinds.len() < 2 {
        kinds.push(
            inbox.recv_type("event", T).await["kind"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(
        kinds.contains(&"conversation.status".to_string())
            && kinds.contains(&"conversation.assigned".to_string()),
        "{kinds:?}"
    );
    // The inbox lists it as pending for that agent (the D1 mirror has converged).
    let mine = api
        .call(
            Method::Get,
            &format!("/v1/conversations?status=pending_human&assignee={agent_id}"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(mine.body["items"][0]["id"], c.id.as_str(), "{}", mine.body);
}

#[tokio::test]
async fn history_and_sequence_numbers_survive_a_runtime_restart() {
    let mut edge = Edge::start(EdgeOptions::default());
    let base = edge.base.clone();
    let api = Api::at(&base);
    let t = api
        .create_tenant_without_ai(&unique_slug("restart"), "enterprise")
        .await;
    let c = start(&base, &t, "Flo").await;
    let post = |i: u32| {
        let (api, id, token) = (api.clone(), c.id.clone(), c.token.clone());
        async move {
            api.call(
                Method::Post,
                &format!("/v1/conversations/{id}/messages"),
                Some(&token),
                Some(&json!({"text": format!("m{i}"), "client_msg_id": format!("k{i}")})),
            )
            .await
        }
    };
    for i in 1..=3 {
        assert_eq!(post(i).await.status, 201);
    }
    edge.restart();
    let r = post(4).await;
    assert_eq!(
        r.body["ack"]["seq"], 4,
        "sequence continues after the restart: {}",
        r.body
    );
    let h = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{}/messages?after_seq=0", c.id),
            Some(&c.token),
            None,
        )
        .await;
    let got: Vec<i64> = h.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(got, vec![1, 2, 3, 4]);
    let row = api
        .call(
            Method::Get,
            &format!(
                "/v1/conversations?customer_id={}",
                h.body["messages"][0]["author"]["id"].as_str().unwrap()
            ),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(
        row.body["items"][0]["last_seq"], 4,
        "the D1 mirror converged: {}",
        row.body
    );
}

/// The console's search in real D1: the FTS triggers of the migration index mirrored messages,
/// one tenant's words never surface in another's results, and inputs at the API's limits (a
/// 200-character query is longer than D1 allows a LIKE pattern to be) are answered, not 500.
#[tokio::test]
async fn search_indexes_mirrored_messages_per_tenant_in_d1() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("search"), "enterprise")
        .await;
    let other = api
        .create_tenant_without_ai(&unique_slug("search-o"), "enterprise")
        .await;
    let word = format!("quokka{}", unique_slug("w").replace('-', ""));
    for (tenant, name) in [(&t, "Ann"), (&other, "Eve")] {
        let c = start(base, tenant, name).await;
        let r = api
            .call(
                Method::Post,
                &format!("/v1/conversations/{}/messages", c.id),
                Some(&c.token),
                Some(&json!({"text": format!("Where is my {word} order?"), "client_msg_id": "s1"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let q = &word[..word.len() - 2];
    let mut names = Vec::new();
    for _ in 0..50 {
        let r = api
            .call(
                Method::Get,
                &format!("/v1/search?q={q}"),
                Some(&t.secret_key),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        names = r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["customer_name"].as_str().unwrap_or("").to_string())
            .collect();
        if !names.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        names,
        vec!["Ann".to_string()],
        "the mirror is written after the reply"
    );
    let long = "0".repeat(200);
    let r = api
        .call(
            Method::Get,
            &format!("/v1/search?q={long}"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A PDF of about `n` bytes (a real header; the rest is padding inside a comment).
fn pdf_of(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n%".to_vec();
    b.resize(n - 6, b'x');
    b.extend_from_slice(b"\n%%EOF");
    b
}

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x2d, 0x66, 0x54,
];

#[tokio::test]
async fn files_go_through_r2_to_both_transports_and_links_open_only_their_file() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("files"), "enterprise")
        .await;
    let c = start(base, &t, "Fia").await;
    let mut ws = WsClient::connect(&live(edge, &c.id, &c.token)).await;
    ws.recv_type("welcome", T).await;
    let events = format!("{base}/v1/conversations/{}/events?token={}", c.id, c.token);
    let mut sse = SseClient::connect(&events, None).await;
    sse.next_named("welcome", T).await;
    let upload = |key: &str, name: &str, bytes: Vec<u8>, token: &str| {
        let (url, key, token) = (
            format!("{base}/v1/conversations/{}/files?name={name}", c.id),
            key.to_string(),
            token.to_string(),
        );
        async move {
            let r = prism_e2e::http()
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .header("content-type", "application/octet-stream")
                .body(bytes)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // An image, to both transports.
    let (s, img) = upload("img", "shelf.png", PNG.to_vec(), &c.token).await;
    assert_eq!(s, 201, "{img}");
    let frame = ws.recv_type("message", T).await;
    assert_eq!(frame["meta"]["attachments"][0]["kind"], "image");
    let event = sse.next_named("message", T).await;
    assert_eq!(event.data["meta"]["attachments"][0]["name"], "shelf.png");

    // A 3 MB PDF goes into R2 and comes back byte for byte.
    let pdf = pdf_of(3 * 1024 * 1024);
    let (s, doc) = upload("pdf", "manual.pdf", pdf.clone(), &c.token).await;
    assert_eq!(s, 201, "{doc}");
    let (s, again) = upload("pdf", "manual.pdf", pdf.clone(), &c.token).await;
    assert_eq!((s, again["ack"]["duplicate"].as_bool()), (200, Some(true)));
    let fid = doc["message"]["meta"]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, agent) = api.user_with_role(&t, "agent").await;
    let link = api
        .get(&format!("/v1/conversations/{}/files/{fid}", c.id), &agent)
        .await;
    assert_eq!(link.status, 200, "{}", link.body);
    assert_eq!(link.body["inline"], false);
    let r = prism_e2e::http()
        .get(link.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"manual.pdf\""),
        "{disposition}"
    );
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // Refused by their bytes, and over every plan's cap without the body being read.
    let (s, svg) = upload(
        "svg",
        "a.svg",
        b"<svg onload='alert(1)'/>".to_vec(),
        &c.token,
    )
    .await;
    assert_eq!(
        (s, svg["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, _) = upload("huge", "huge.pdf", pdf_of(26 * 1024 * 1024), &c.token).await;
    assert_eq!(s, 413);

    // Another customer of the tenant gets no link, and a link opens no other file.
    let other = start(base, &t, "Eve").await;
    let foreign = api
        .get(
            &format!("/v1/conversations/{}/files/{fid}", c.id),
            &other.token,
        )
        .await;
    assert_eq!(foreign.status, 404);
    let img_id = img["message"]["meta"]["attachments"][0]["id"]
        .as_str()
        .unwrap();
    let swapped = link.body["url"].as_str().unwrap().replace(&fid, img_id);
    let r = prism_e2e::http().get(swapped).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // A link past its expiry (signed with this deployment's keys, ten minutes old) is refused.
    let mut keys = prism_core::platform::Config::new();
    keys.set("jwt_signing_keys", prism_e2e::JWT_KEYS);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let stale =
        prism_core::files::link::issue(&keys, &t.id, &c.id, &fid, now - 700_000, now - 100_000)
            .unwrap();
    let r = prism_e2e::http()
        .get(format!("{base}/v1/files/{fid}?token={stale}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_expired");
    // The image link is inline and may be shown on the tenant's site.
    let link = api
        .get(
            &format!("/v1/conversations/{}/files/{img_id}", c.id),
            &c.token,
        )
        .await;
    let r = prism_e2e::http()
        .get(link.body["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cross-origin-resource-policy"], "cross-origin");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
}
