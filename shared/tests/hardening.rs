//! Attacks from the hardening review, each of which worked before its fix: a tenant steering the
//! platform's keys or requests, hostile upstreams, objects created without authority, internal
//! details leaking in error envelopes.

mod common;

use common::{Api, TestTenant};
use prism_core::http::{Body, Method, Response};
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};

fn put_config(api: &Api, t: &TestTenant, edit: impl FnOnce(&mut Value)) -> common::Reply {
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    edit(&mut c);
    api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    )
}

fn start(api: &Api, t: &TestTenant) -> (String, String) {
    let r = api.call(
        Method::Post,
        "/v1/conversations",
        Some(&t.secret_key),
        Some(json!({"name": "Ann"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    (
        r.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .into(),
        r.body["token"].as_str().unwrap().into(),
    )
}

fn say(api: &Api, conv: &(String, String), text: &str, key: &str) -> common::Reply {
    api.call(
        Method::Post,
        &format!("/v1/conversations/{}/messages", conv.0),
        Some(&conv.1),
        Some(json!({"text": text, "client_msg_id": key})),
    )
}

fn add_doc(api: &Api, t: &TestTenant) {
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(json!({"title": "Returns", "format": "markdown", "content": "# Returns\n\nYou can return unworn items within 30 days of delivery for a full refund."})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_tenant_base_url_never_receives_the_platform_key() {
    let mut api = Api::new();
    api.rig.config.set("openai_api_key", "sk-platform-secret");
    let t = api.create_tenant("steal", "pro", None);
    // Refused at the door: a custom endpoint without the tenant's own key.
    let r = put_config(&api, &t, |c| {
        c["ai"]["providers"] =
            json!([{"kind": "openai", "base_url": "https://collector.attacker.example"}]);
    });
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "ai.providers[0].api_key_secret");

    // A stored config from before the rule is not honoured either.
    let http = ScriptedHttp::new(|_, _| Response::new(500));
    *api.rig.http.borrow_mut() = Some(http.clone());
    let mut stored = api.get("/v1/tenant/config", &t.secret_key).body["config"].clone();
    stored["ai"]["providers"] =
        json!([{"kind": "openai", "base_url": "https://collector.attacker.example"}]);
    use prism_core::ports::SqlDatabase;
    futures::executor::block_on(api.rig.db.execute(
        "UPDATE tenant_configs SET config = ?1 WHERE tenant_id = ?2",
        &[stored.to_string().into(), t.id.as_str().into()],
    ))
    .unwrap();
    add_doc(&api, &t);
    let conv = start(&api, &t);
    assert_eq!(
        say(&api, &conv, "How long do I have to return shoes?", "m1").status,
        201
    );
    // The platform key was never sent anywhere but the platform's own endpoint.
    for call in http.calls.borrow().iter() {
        assert!(!call.url().contains("attacker"), "called {}", call.url());
    }
}

#[test]
fn tenant_urls_pointing_inside_the_network_are_refused() {
    let api = Api::new();
    let t = api.create_tenant("ssrf", "pro", None);
    for (field, url) in [
        ("ai.providers[0].base_url", "https://169.254.169.254/latest"),
        ("ai.providers[0].base_url", "https://127.0.0.1:8787"),
        ("ai.providers[0].base_url", "http://llm.tenant.example"),
        ("ai.providers[0].base_url", "https://[::ffff:192.168.0.1]"),
        ("channels.public_base_url", "https://10.0.0.5"),
        ("channels.public_base_url", "http://support.tenant.example"),
    ] {
        let r = put_config(&api, &t, |c| {
            if field.starts_with("ai") {
                c["ai"]["providers"] =
                    json!([{"kind": "openai", "base_url": url, "api_key_secret": "mine"}]);
            } else {
                c["channels"]["public_base_url"] = json!(url);
            }
        });
        assert_eq!(r.status, 422, "{url}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{url}");
    }
    let r = put_config(&api, &t, |c| {
        c["ai"]["providers"] = json!([{"kind": "openai", "base_url": "https://llm.tenant.example/v1", "api_key_secret": "mine"}]);
        c["channels"]["public_base_url"] = json!("https://support.tenant.example");
    });
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn an_upstream_that_never_ends_an_event_cannot_exhaust_memory() {
    let api = Api::new();
    let t = api.create_tenant("endless", "pro", None);
    add_doc(&api, &t);
    let r = api.call(
        Method::Put,
        "/v1/tenant/secrets/mine",
        Some(&t.secret_key),
        Some(json!({"value": "tenant-key"})),
    );
    assert_eq!(r.status, 204);
    let r = put_config(&api, &t, |c| {
        c["ai"]["providers"] = json!([{"kind": "openai", "base_url": "https://llm.tenant.example", "api_key_secret": "mine"}]);
        c["ai"]["embedding"] = json!("offline");
        c["ai"]["model_analysis"] = json!(false);
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let served = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let requests = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let (counter, asked) = (served.clone(), requests.clone());
    let http = ScriptedHttp::new(move |_, _| {
        asked.set(asked.get() + 1);
        let counter = counter.clone();
        let mut r = Response::new(200);
        r.headers.set("content-type", "text/event-stream");
        // 64 KiB chunks of "data: xxxx…" with no blank line, forever.
        r.body = Body::Stream(Box::pin(futures::stream::repeat_with(move || {
            counter.set(counter.get() + 1);
            let mut chunk = b"data: ".to_vec();
            chunk.resize(64 * 1024, b'x');
            chunk
        })));
        r
    });
    *api.rig.http.borrow_mut() = Some(http);
    let conv = start(&api, &t);
    assert_eq!(
        say(&api, &conv, "How long do I have to return shoes?", "m1").status,
        201
    );
    // Each stream was abandoned at the bound (the answer's, and the handoff summary's), and the
    // customer still got an answer.
    assert!(
        served.get() <= 20 * requests.get(),
        "read {} chunks in {} requests",
        served.get(),
        requests.get()
    );
    let h = api.get(&format!("/v1/conversations/{}/messages", conv.0), &conv.1);
    let last = h.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"]["type"], "ai", "{last}");
}

#[test]
fn echo_rooms_exist_only_with_diagnostics_on() {
    let mut api = Api::new();
    let upgrade = |api: &Api| {
        let mut r = prism_core::http::Request::new(Method::Get, "https://api.test/v1/echo/room1");
        r.headers.set("upgrade", "websocket");
        r.headers.set("connection", "Upgrade");
        r.headers
            .set("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        r.headers.set("sec-websocket-version", "13");
        api.send(r)
    };
    // Native runtime has WebSockets: with diagnostics on the route would upgrade.
    api.rig.config.set("diagnostics", "off");
    let r = upgrade(&api);
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn invented_conversation_ids_create_nothing() {
    let api = Api::new();
    let t = api.create_tenant("ghosts", "pro", None);
    let tables = |api: &Api| {
        api.count(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name GLOB 'conv_*'",
        )
    };
    assert_eq!(tables(&api), 0);
    for id in [
        "cnv_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "not-a-conversation",
        "cnv_../../x",
        "echo:room",
    ] {
        let path = format!(
            "/v1/conversations/{}",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        );
        let r = api.get(&path, &t.secret_key);
        assert_eq!(r.status, 404, "{id}: {}", r.body);
        let r = api.call(
            Method::Post,
            &format!("{path}/messages"),
            Some(&t.secret_key),
            Some(json!({"text": "hi", "client_msg_id": "x"})),
        );
        assert_eq!(r.status, 404, "{id}: {}", r.body);
    }
    // Nothing was created for the invented ids; a real conversation creates its storage.
    assert_eq!(tables(&api), 0);
    start(&api, &t);
    assert!(tables(&api) > 0);
}

#[test]
fn knowledge_quotas_refuse_growth_with_a_clear_error_and_keep_what_was_there() {
    let api = Api::new();
    let t = api.create_tenant(
        "smallkb",
        "free",
        Some(json!({"kb_documents": 2, "kb_chunks": 3})),
    );
    let doc = |title: &str, content: String| json!({"title": title, "format": "text", "content": content});
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(doc("One", "Returns take 30 days.".into())),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let second = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(doc("Two", "Shipping takes 3 days.".into())),
    );
    assert_eq!(second.status, 201, "{}", second.body);
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(doc("Three", "Sizes run small.".into())),
    );
    assert_eq!((r.status, r.code()), (403, "quota_exceeded"), "{}", r.body);

    // Replacing a document with one too large for the chunk quota keeps the old version.
    let long: String = (0..40)
        .map(|i| format!("Paragraph {i} about parcels and deliveries to many countries around the world.\n\n"))
        .collect::<String>()
        .repeat(4);
    let id = second.body["id"].as_str().unwrap();
    let r = api.call(
        Method::Put,
        &format!("/v1/knowledge/documents/{id}"),
        Some(&t.secret_key),
        Some(doc("Two", long)),
    );
    assert_eq!((r.status, r.code()), (403, "quota_exceeded"), "{}", r.body);
    let hits = api.get("/v1/knowledge/search?q=shipping", &t.secret_key);
    assert_eq!(hits.body["hits"][0]["title"], "Two", "{}", hits.body);
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM kb_documents WHERE status = 'ready'"),
        2
    );
}

fn widget(api: &Api, t: &TestTenant, path: &str, body: Value, ip: &str) -> common::Reply {
    let mut r = Api::req(Method::Post, path, Some(&t.public_key), Some(&body));
    r.headers.set("origin", common::ORIGIN);
    r.headers.set("cf-connecting-ip", ip);
    api.send(r)
}

#[test]
fn visitors_cannot_starve_the_tenants_agents_and_api() {
    let api = Api::new();
    let lots = json!({"count": 10_000, "period_secs": 60});
    let t = api.create_tenant(
        "starve",
        "free",
        Some(json!({"tenant": {"count": 5, "period_secs": 3600}, "anonymous": {"count": 5, "period_secs": 3600},
                     "visitor": lots, "credential": lots, "conversation_starts": lots})),
    );
    // Visitors from many addresses use up the anonymous budget...
    for i in 0..5 {
        let r = widget(
            &api,
            &t,
            "/v1/widget/identify",
            json!({}),
            &format!("198.51.100.{i}"),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = widget(&api, &t, "/v1/widget/identify", json!({}), "198.51.100.99");
    assert_eq!(r.status, 429, "{}", r.body);
    // ...and the tenant's own API still has all of its own.
    for _ in 0..5 {
        assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 200);
    }
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 429);
}

#[test]
fn one_address_cannot_multiply_its_allowance_by_opening_conversations() {
    let api = Api::new();
    let lots = json!({"count": 10_000, "period_secs": 60});
    let t = api.create_tenant(
        "multiply",
        "pro",
        Some(
            json!({"tenant": lots, "anonymous": lots, "credential": lots,
                     "visitor": {"count": 6, "period_secs": 60},
                     "conversation_starts": {"count": 3, "period_secs": 3600}}),
        ),
    );
    let ip = "203.0.113.5";
    let mut convs = Vec::new();
    for _ in 0..3 {
        let r = widget(&api, &t, "/v1/conversations", json!({}), ip);
        assert_eq!(r.status, 201, "{}", r.body);
        convs.push((
            r.body["conversation"]["conversation_id"]
                .as_str()
                .unwrap()
                .to_string(),
            r.body["token"].as_str().unwrap().to_string(),
        ));
    }
    // A fourth start from the same address is refused; another address may start one.
    let r = widget(&api, &t, "/v1/conversations", json!({}), ip);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(
        widget(&api, &t, "/v1/conversations", json!({}), "203.0.113.6").status,
        201
    );

    // The address's visitor budget (6/min; four requests already went to starting) is shared
    // by its conversations, however many tokens it holds.
    let mut sent = 0;
    for (i, (id, token)) in convs.iter().cycle().take(9).enumerate() {
        let mut r = Api::req(
            Method::Get,
            &format!("/v1/conversations/{id}/messages"),
            Some(token),
            None,
        );
        r.headers.set("cf-connecting-ip", ip);
        let reply = api.send(r);
        if reply.status == 200 {
            sent += 1;
        } else {
            assert_eq!(reply.status, 429, "request {i}: {}", reply.body);
        }
    }
    assert_eq!(
        sent, 2,
        "6 per minute per address, 4 already used by the starts"
    );
}

#[test]
fn enterprise_tenants_have_a_daily_provider_answer_quota_too() {
    let api = Api::new();
    let t = api.create_tenant(
        "bigco",
        "enterprise",
        Some(json!({"ai_answers_per_day": 1})),
    );
    add_doc(&api, &t);
    let r = api.call(
        Method::Put,
        "/v1/tenant/secrets/mine",
        Some(&t.secret_key),
        Some(json!({"value": "tenant-key"})),
    );
    assert_eq!(r.status, 204);
    let r = put_config(&api, &t, |c| {
        c["ai"]["providers"] = json!([{"kind": "openai", "base_url": "https://llm.tenant.example", "api_key_secret": "mine"}]);
        c["ai"]["embedding"] = json!("offline");
        c["ai"]["model_analysis"] = json!(false);
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let http = ScriptedHttp::new(|_, _| {
        ScriptedHttp::sse(&[
            json!({"choices": [{"index": 0, "delta": {"content": "Within 30 days [1]."}, "finish_reason": "stop"}]}).to_string(),
            "[DONE]".to_string(),
        ])
    });
    *api.rig.http.borrow_mut() = Some(http.clone());
    let last_ai = |conv: &(String, String)| {
        let h = api.get(&format!("/v1/conversations/{}/messages", conv.0), &conv.1);
        h.body["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    };
    let a = start(&api, &t);
    assert_eq!(
        say(&api, &a, "How long do I have to return shoes?", "q1").status,
        201
    );
    assert_eq!(last_ai(&a)["meta"]["provider"], "openai");
    api.rig.clock.advance(1000);
    let b = start(&api, &t);
    assert_eq!(
        say(&api, &b, "What is your return policy?", "q2").status,
        201
    );
    assert_eq!(
        last_ai(&b)["meta"]["provider"],
        "offline",
        "over quota: the free responder"
    );
    assert_eq!(http.calls.borrow().len(), 1);
}

#[test]
fn a_failed_answer_hands_the_conversation_to_a_person() {
    let api = Api::new();
    let t = api.create_tenant("aifail", "pro", None);
    add_doc(&api, &t);
    // A storage failure inside the answer pipeline (its analysis table is gone).
    use prism_core::ports::SqlDatabase;
    futures::executor::block_on(api.rig.db.execute("DROP TABLE message_analysis", &[])).unwrap();
    let conv = start(&api, &t);
    assert_eq!(
        say(&api, &conv, "How long do I have to return shoes?", "m1").status,
        201
    );
    let c = api.get(&format!("/v1/conversations/{}", conv.0), &t.secret_key);
    assert_eq!(
        c.body["conversation"]["status"], "pending_human",
        "{}",
        c.body
    );
    assert_eq!(c.body["conversation"]["handoff_reason"], "ai_error");
    // The customer was told, and the failure was logged.
    let h = api.get(&format!("/v1/conversations/{}/messages", conv.0), &conv.1);
    let last = h.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["meta"]["handoff"], "ai_error", "{last}");
    assert!(api
        .rig
        .log
        .0
        .borrow()
        .iter()
        .any(|l| l.contains("ai answer failed")));
}

#[test]
fn internal_failures_are_logged_not_returned() {
    let api = Api::new();
    let t = api.create_tenant("leak", "pro", None);
    use prism_core::ports::SqlDatabase;
    futures::executor::block_on(api.rig.db.execute("DROP TABLE kb_documents", &[])).unwrap();
    let r = api.get("/v1/knowledge/documents", &t.secret_key);
    assert_eq!((r.status, r.code()), (500, "storage_error"), "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("kb_documents") && !message.contains("no such table"),
        "{message}"
    );
    let id = r.body["error"]["request_id"].as_str().unwrap();
    assert!(message.contains(id));
    assert!(api
        .rig
        .log
        .0
        .borrow()
        .iter()
        .any(|l| l.contains(id) && l.contains("kb_documents")));
}

#[test]
fn a_client_cannot_forge_the_identity_an_object_trusts_on_upgrade() {
    use prism_core::http::Request;
    use prism_core::ports::{ObjectClass, ObjectRef};
    use prism_core::router::Upgrade;
    let mut original = Request::new(Method::Get, "https://edge.test/v1/conversations/cnv_1/live");
    original.headers.append("upgrade", "websocket");
    original
        .headers
        .append("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    original
        .headers
        .append("x-prism-participant", r#"{"role":"agent","id":"usr_evil"}"#);
    original.headers.append("X-Prism-Grant", "forged");
    original.headers.append("x-prism-object", "ten_other:cnv_9");
    let up = Upgrade {
        target: ObjectRef::new(ObjectClass::Conversation, "ten_a:cnv_1"),
        path: "/live".into(),
        headers: vec![(
            "x-prism-participant".into(),
            r#"{"role":"customer"}"#.into(),
        )],
    };
    let req = up.object_request(&original);
    assert_eq!(
        req.header("upgrade"),
        Some("websocket"),
        "the handshake survives"
    );
    assert_eq!(
        req.header("x-prism-participant"),
        Some(r#"{"role":"customer"}"#)
    );
    assert_eq!(req.header("x-prism-object"), Some("ten_a:cnv_1"));
    assert_eq!(
        req.header("x-prism-grant"),
        None,
        "internal headers come only from the core"
    );
    let participants = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-prism-participant"))
        .count();
    assert_eq!(participants, 1);
}
