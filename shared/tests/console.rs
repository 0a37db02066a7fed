//! What the agent console stands on: search across every conversation (full text over the
//! mirror, one tenant only, no user text reaching FTS syntax), the customer panel (identities
//! and every earlier conversation), the customer's language, and translation by the tenant's
//! AI provider (refused plainly when there is none).

mod common;

use common::{Api, TestTenant};
use prism_core::http::Method;
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};

/// Starts a conversation as the tenant's server would and returns (id, customer token, body).
fn start(api: &Api, t: &TestTenant, body: Value) -> (String, String, Value) {
    api.start_conversation(t, body)
}

fn say(api: &Api, conv: &(String, String, Value), text: &str, key: &str) {
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{}/messages", conv.0),
        Some(&conv.1),
        Some(json!({"text": text, "client_msg_id": key})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    api.rig.clock.advance(1000);
}

fn search(api: &Api, bearer: &str, q: &str) -> common::Reply {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    api.get(&format!("/v1/search?q={q}"), bearer)
}

#[test]
fn search_finds_messages_and_customers_of_one_tenant_only() {
    let api = Api::new();
    let t = api.create_tenant("search", "pro", None);
    let other = api.create_tenant("search-other", "pro", None);
    let (_, agent) = api.user_with_role(&t, "agent");
    let (_, other_agent) = api.user_with_role(&other, "agent");
    let ann = start(
        &api,
        &t,
        json!({"name": "Ann Parcel", "email": "ann@shop.example"}),
    );
    say(&api, &ann, "My parcel never arrived, order 4471", "a1");
    let bob = start(&api, &t, json!({"name": "Bob"}));
    say(&api, &bob, "Can I change my delivery address?", "b1");
    let mallory = start(&api, &other, json!({"name": "Mallory"}));
    say(&api, &mallory, "My parcel never arrived either", "m1");

    // Prefixes, any order, every word required; the match marked for the console.
    let r = search(&api, &agent, "arriv parc");
    assert_eq!(r.status, 200, "{}", r.body);
    let hits = r.body["messages"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{}", r.body);
    assert_eq!(hits[0]["conversation_id"], ann.0.as_str());
    assert_eq!(hits[0]["seq"], 1);
    assert_eq!(hits[0]["author_type"], "customer");
    assert_eq!(hits[0]["customer_name"], "Ann Parcel");
    assert!(hits[0]["snippet"]
        .as_str()
        .unwrap()
        .contains("\u{2}parcel\u{3}"));
    // The other tenant's identical message is never found, and it finds only its own.
    let theirs = search(&api, &other_agent, "parcel");
    let ids: Vec<&str> = theirs.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![mallory.0.as_str()]);
    // Customers by name, email or phone.
    let r = search(&api, &agent, "ann@shop");
    assert_eq!(r.body["customers"][0]["name"], "Ann Parcel", "{}", r.body);
    assert_eq!(
        search(&api, &agent, "delivery address").body["messages"][0]["conversation_id"],
        bob.0.as_str()
    );
    assert_eq!(search(&api, &agent, "refund").body["messages"], json!([]));

    // Hostile input: FTS5 operators, quotes, LIKE wildcards, SQL — data or a clear 422, never
    // an error from the database.
    for q in [
        "\"",
        "parcel\"",
        "NEAR(parcel arrived)",
        "parcel*",
        "-parcel",
        "^parcel",
        "parcel OR 1=1",
        "'; DROP TABLE conversation_messages; --",
        "%",
        "_",
        "\\",
        "tenant_id : \"ten\"",
        "{text}: x",
        "ＰＡＲＣＥＬ",
        "🙂",
        "a AND",
    ] {
        let r = search(&api, &agent, q);
        assert!(
            r.status == 200 || r.status == 422,
            "{q}: {} {}",
            r.status,
            r.body
        );
        if r.status == 200 {
            for h in r.body["messages"].as_array().unwrap() {
                assert_ne!(h["conversation_id"], mallory.0.as_str(), "{q}");
            }
        }
    }
    // `%` is a literal, not "every customer".
    assert_eq!(search(&api, &agent, "%a").body["customers"], json!([]));
    assert_eq!(search(&api, &agent, "").status, 422);
    // A customer's own conversation token cannot search the tenant.
    assert!([401, 403].contains(&search(&api, &ann.1, "parcel").status));
}

#[test]
fn the_customer_panel_joins_identities_and_lists_every_conversation() {
    let api = Api::new();
    let t = api.create_tenant("panel", "pro", None);
    let other = api.create_tenant("panel-other", "pro", None);
    let (_, agent) = api.user_with_role(&t, "agent");
    let first = start(
        &api,
        &t,
        json!({"name": "Ann", "email": "ann@shop.example", "channel": "api"}),
    );
    say(&api, &first, "First question", "f1");
    let customer_id = first.2["conversation"]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The same visitor again: a second conversation of the same customer.
    let visitor = first.2["visitor_id"].as_str().unwrap();
    let second = start(&api, &t, json!({"visitor_id": visitor}));
    // Another identity with the same email (e.g. signed in on the tenant's site).
    let verified = start(
        &api,
        &t,
        json!({"name": "Ann B.", "email": "ann@shop.example", "channel": "web"}),
    );
    let stranger = start(
        &api,
        &t,
        json!({"name": "Zed", "email": "zed@shop.example"}),
    );

    let r = api.get(&format!("/v1/customers/{customer_id}"), &agent);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["customer"]["email"], "ann@shop.example");
    let identities: Vec<&str> = r.body["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(identities, vec!["Ann B."]);
    let convs: Vec<&str> = r.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(convs.len(), 3, "{}", r.body);
    for c in [&first.0, &second.0, &verified.0] {
        assert!(convs.contains(&c.as_str()), "{c} in {convs:?}");
    }
    assert!(!convs.contains(&stranger.0.as_str()));
    assert_eq!(r.body["channels"], json!(["api", "web"]));

    // Another tenant's agent, and malformed ids, get 404.
    let (_, other_agent) = api.user_with_role(&other, "agent");
    assert_eq!(
        api.get(&format!("/v1/customers/{customer_id}"), &other_agent)
            .status,
        404
    );
    assert_eq!(
        api.get("/v1/customers/%27%20OR%201%3D1", &agent).status,
        404
    );
}

/// A Gemini that translates (JSON mode) and answers anything else with a plain sentence.
fn gemini_translator(api: &Api, t: &TestTenant) -> std::rc::Rc<ScriptedHttp> {
    let http = ScriptedHttp::new(|req, _| {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let system = body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap_or("");
        let text = if system.starts_with("You translate") {
            let to = system.split('"').nth(1).unwrap().to_string();
            let original = body["contents"][0]["parts"][0]["text"].as_str().unwrap();
            let out = match (original, to.as_str()) {
                ("¿Dónde está mi pedido?", "en") => {
                    r#"{"source_language":"es","text":"Where is my order?"}"#.to_string()
                }
                ("It ships tomorrow.", "es") => {
                    r#"{"source_language":"en","text":"Se envía mañana."}"#.to_string()
                }
                _ => "not json at all".to_string(),
            };
            out
        } else {
            "Happy to help.".to_string()
        };
        let frame = json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 8, "totalTokenCount": 38}, "modelVersion": "gemini-2.5-flash"});
        ScriptedHttp::sse(&[frame.to_string()])
    });
    api.use_gemini(t, http.clone());
    http
}

fn translate(api: &Api, bearer: &str, conv: &str, body: Value) -> common::Reply {
    api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/translate"),
        Some(bearer),
        Some(body),
    )
}

#[test]
fn agents_translate_with_the_tenants_provider_and_are_told_when_there_is_none() {
    let api = Api::new();
    let t = api.create_tenant("translate", "pro", None);
    let (_, agent) = api.user_with_role(&t, "agent");
    let conv = start(&api, &t, json!({"name": "Lucía", "language": "es"}));
    assert_eq!(conv.2["conversation"]["language"], "es");
    let listed = api.get("/v1/conversations", &agent);
    assert_eq!(listed.body["items"][0]["language"], "es", "{}", listed.body);

    // No provider: a clear refusal, no guess.
    let r = translate(
        &api,
        &agent,
        &conv.0,
        json!({"text": "¿Dónde está mi pedido?", "to": "en"}),
    );
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no AI provider"));

    let http = gemini_translator(&api, &t);
    // The customer's message, read in the agent's language.
    let r = translate(
        &api,
        &agent,
        &conv.0,
        json!({"text": "¿Dónde está mi pedido?", "to": "en"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["text"], "Where is my order?");
    assert_eq!(r.body["source_language"], "es");
    assert_eq!(
        (r.body["provider"].as_str(), r.body["model"].as_str()),
        (Some("gemini"), Some("gemini-2.5-flash"))
    );
    // The reply, into the customer's recorded language (no `to`).
    let r = translate(&api, &agent, &conv.0, json!({"text": "It ships tomorrow."}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["text"].as_str(), r.body["target_language"].as_str()),
        (Some("Se envía mañana."), Some("es"))
    );
    // The model was asked in JSON mode, the text passed as data.
    let calls = http.calls.borrow();
    let sent: Value = serde_json::from_slice(&calls.last().unwrap().body).unwrap();
    assert_eq!(
        sent["generationConfig"]["responseMimeType"],
        "application/json"
    );
    drop(calls);
    // A model that returns garbage is an upstream error, not a "translation".
    let r = translate(
        &api,
        &agent,
        &conv.0,
        json!({"text": "Something else", "to": "de"}),
    );
    assert_eq!((r.status, r.code()), (502, "upstream_error"), "{}", r.body);
    // Metered as paid AI calls.
    assert_eq!(api.count("SELECT COALESCE(SUM(value), 0) AS n FROM usage_counters WHERE metric = 'ai_translations'"), 2);

    // Validation: unknown language shape, no language known, too long, customers cannot.
    let unknown = start(&api, &t, json!({"name": "Kim"}));
    let r = translate(&api, &agent, &unknown.0, json!({"text": "Hello"}));
    assert_eq!(
        (r.status, r.body["error"]["field"].as_str()),
        (422, Some("to")),
        "{}",
        r.body
    );
    let r = translate(
        &api,
        &agent,
        &conv.0,
        json!({"text": "Hello", "to": "english please"}),
    );
    assert_eq!(r.status, 422);
    let r = translate(
        &api,
        &agent,
        &conv.0,
        json!({"text": "x".repeat(4001), "to": "en"}),
    );
    assert_eq!(r.status, 422);
    let r = translate(&api, &conv.1, &conv.0, json!({"text": "Hola", "to": "en"}));
    assert!([401, 403].contains(&r.status), "{}", r.body);
    let r = api.call(
        Method::Post,
        "/v1/conversations",
        Some(&t.secret_key),
        Some(json!({"language": "<script>"})),
    );
    assert_eq!(
        (r.status, r.body["error"]["field"].as_str()),
        (422, Some("language"))
    );
}

#[test]
fn the_inbox_lists_latest_activity_first_and_pages_in_that_order() {
    let api = Api::new();
    let t = api.create_tenant("recent", "pro", None);
    let (_, agent) = api.user_with_role(&t, "agent");
    let a = start(&api, &t, json!({"name": "A"}));
    let b = start(&api, &t, json!({"name": "B"}));
    let c = start(&api, &t, json!({"name": "C"}));
    api.rig.clock.advance(1000);
    say(&api, &b, "first", "b1");
    say(&api, &a, "second", "a1");
    // Activity order: a (latest message), b, then c (created last, never wrote).
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/conversations?order=recent&limit=1&cursor={c}"),
            None => "/v1/conversations?order=recent&limit=1".to_string(),
        };
        let r = api.get(&path, &agent);
        assert_eq!(r.status, 200, "{}", r.body);
        for i in r.body["items"].as_array().unwrap() {
            seen.push(i["id"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec![a.0.clone(), b.0.clone(), c.0.clone()]);
    // The default stays oldest created first, and an unknown order is refused.
    let r = api.get("/v1/conversations", &agent);
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    // (All three were created in the same millisecond: then by id.)
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!((ids.len(), &ids), (3, &sorted));
    assert_eq!(
        api.get("/v1/conversations?order=sideways", &agent).status,
        422
    );
}
