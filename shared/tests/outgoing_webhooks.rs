//! Outgoing webhooks (issue 19): endpoints, Standard Webhooks signatures checked by an
//! independent implementation (plain HMAC here; the npm `standardwebhooks` package end to end),
//! retries on the schedule, the attempt log, automatic disabling, replay, rotation overlap and
//! tenant isolation.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::{Api, TestTenant};
use hmac::{Hmac, Mac};
use prism_core::http::{Method, Request, Response};
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};
use sha2::Sha256;
use std::cell::Cell;
use std::rc::Rc;

const URL: &str = "https://hooks.tenant.example/prism";

/// Checks a request's Standard Webhooks headers against `secret`, written from the
/// specification (not with the platform's signing code): `v1,` + base64(HMAC-SHA256(key,
/// "{id}.{timestamp}.{body}")) with the key the base64 after `whsec_`; any of the
/// space-separated signatures may match.
fn verifies(req: &Request, secret: &str) -> bool {
    let id = req.headers.get("webhook-id").unwrap_or_default();
    let ts = req.headers.get("webhook-timestamp").unwrap_or_default();
    let sigs = req.headers.get("webhook-signature").unwrap_or_default();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&req.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    sigs.split(' ').any(|s| s == expected)
}

/// A receiver answering with the status `status` holds (200 by default).
fn receiver(api: &Api, status: Rc<Cell<u16>>) -> Rc<ScriptedHttp> {
    let http = ScriptedHttp::new(move |_req, _| Response::new(status.get()));
    *api.rig.http.borrow_mut() = Some(http.clone());
    http
}

fn endpoint(api: &Api, t: &TestTenant, events: Value) -> (String, String) {
    let r = api.call(
        Method::Post,
        "/v1/webhooks/endpoints",
        Some(&t.secret_key),
        Some(json!({"url": URL, "events": events, "description": "CRM"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (r.body["id"].as_str().unwrap().to_string(), secret)
}

fn post_message(api: &Api, token: &str, conversation: &str, text: &str, n: u32) {
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conversation}/messages"),
        Some(token),
        Some(json!({"text": text, "client_msg_id": format!("c{n}")})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn bodies(http: &ScriptedHttp) -> Vec<Value> {
    http.calls
        .borrow()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[test]
fn endpoints_receive_signed_events_as_they_happen() {
    let api = Api::new();
    let t = api.create_tenant("hooks", "pro", None);
    let http = receiver(&api, Rc::new(Cell::new(200)));
    let (endpoint_id, secret) =
        endpoint(&api, &t, json!(["conversation.created", "message.created"]));
    let (conversation, token, _) = api.start_conversation(&t, json!({"name": "Ada"}));
    post_message(&api, &token, &conversation, "hello there", 1);
    let calls = http.calls.borrow().clone();
    let events = bodies(&http);
    assert!(calls.len() >= 2, "{events:?}");
    for req in &calls {
        assert_eq!(req.url().to_string(), URL);
        assert_eq!(req.headers.get("content-type"), Some("application/json"));
        assert!(verifies(req, &secret), "signature verifies");
        assert!(
            !verifies(req, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "and only with the secret"
        );
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(req.headers.get("webhook-id"), body["id"].as_str());
    }
    assert_eq!(events[0]["type"], "conversation.created");
    assert_eq!(
        events[0]["data"]["conversation"]["id"],
        conversation.as_str()
    );
    assert_eq!(events[0]["data"]["conversation"]["customer_name"], "Ada");
    let msg = events
        .iter()
        .find(|e| {
            e["type"] == "message.created" && e["data"]["message"]["author"]["type"] == "customer"
        })
        .expect("the customer's message");
    assert_eq!(msg["data"]["message"]["text"], "hello there");
    assert!(msg["timestamp"].as_str().unwrap().ends_with('Z'));
    // The log shows each delivery delivered in one attempt.
    let log = api.get(
        &format!("/v1/webhooks/endpoints/{endpoint_id}/deliveries"),
        &t.secret_key,
    );
    assert_eq!(log.status, 200, "{}", log.body);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), calls.len());
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1),
        "{items:?}"
    );
    let detail = api.get(
        &format!(
            "/v1/webhooks/deliveries/{}",
            items[0]["id"].as_str().unwrap()
        ),
        &t.secret_key,
    );
    assert_eq!(
        detail.body["attempts_log"][0]["status_code"], 200,
        "{}",
        detail.body
    );
    assert_eq!(detail.body["payload"]["type"], "conversation.created");
}

#[test]
fn failed_deliveries_retry_on_the_schedule_then_disable_the_endpoint_and_replay() {
    let mut api = Api::new();
    api.rig.config.set("resend_api_key", "re_platform_test_key");
    api.rig
        .config
        .set("email_from", "PrismAI <no-reply@prism.example>");
    let t = api.create_tenant("flaky", "pro", None);
    let status = Rc::new(Cell::new(500));
    let http = receiver(&api, status.clone());
    let (endpoint_id, _) = endpoint(&api, &t, json!(["conversation.created"]));
    let sweep = |api: &Api| {
        let r = api.call(
            Method::Post,
            "/v1/platform/outbound/sweep",
            Some(prism_core::testing::TEST_ADMIN_SECRET),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };
    let (first, _, _) = api.start_conversation(&t, json!({"name": "A"}));
    assert_eq!(
        http.calls.borrow().len(),
        1,
        "the first attempt is immediate"
    );
    // Not due yet: a sweep sends nothing.
    sweep(&api);
    assert_eq!(http.calls.borrow().len(), 1);
    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    for (n, wait) in [
        5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]
    .into_iter()
    .enumerate()
    {
        api.rig.clock.advance(wait - 1);
        sweep(&api);
        assert_eq!(
            http.calls.borrow().len(),
            n + 1,
            "attempt {} waits {wait} ms",
            n + 2
        );
        api.rig.clock.advance(1);
        sweep(&api);
        assert_eq!(http.calls.borrow().len(), n + 2);
    }
    let log = api.get(
        &format!("/v1/webhooks/endpoints/{endpoint_id}/deliveries?status=failed"),
        &t.secret_key,
    );
    let d = &log.body["items"][0];
    assert_eq!(
        (d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some(8), Some(500)),
        "{d}"
    );
    let ids: Vec<String> = http
        .calls
        .borrow()
        .iter()
        .map(|r| r.headers.get("webhook-id").unwrap().to_string())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one webhook-id across retries"
    );
    // Four more events that fail every attempt: the endpoint is disabled, with a reason and
    // an audit entry.
    for _ in 0..4 {
        api.start_conversation(&t, json!({"name": "B"}));
        for _ in 0..8 {
            api.rig.clock.advance(36_000_000);
            sweep(&api);
        }
    }
    let e = api.get(
        &format!("/v1/webhooks/endpoints/{endpoint_id}"),
        &t.secret_key,
    );
    assert_eq!(e.body["status"], "disabled", "{}", e.body);
    assert!(e.body["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("automatically"));
    let audit = api.get("/v1/audit-logs?limit=100", &t.secret_key);
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "webhook.endpoint.disabled"),
        "{}",
        audit.body
    );
    // The owner is told by email.
    let notices: Vec<Value> = http
        .calls
        .borrow()
        .iter()
        .filter(|r| r.path == "/emails")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["subject"], "A webhook endpoint was disabled");
    assert!(notices[0]["text"].as_str().unwrap().contains(URL));
    // Disabled: new events are not even recorded.
    let before = http.calls.borrow().len();
    api.start_conversation(&t, json!({"name": "C"}));
    assert_eq!(http.calls.borrow().len(), before);
    // Fixed and re-enabled, a failed delivery is replayed with the same webhook-id.
    status.set(204);
    let r = api.call(
        Method::Patch,
        &format!("/v1/webhooks/endpoints/{endpoint_id}"),
        Some(&t.secret_key),
        Some(json!({"enabled": true})),
    );
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (200, Some("active")),
        "{}",
        r.body
    );
    let failed = d["id"].as_str().unwrap();
    let r = api.call(
        Method::Post,
        &format!("/v1/webhooks/deliveries/{failed}/replay"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let last = http.calls.borrow().last().unwrap().clone();
    assert_eq!(last.headers.get("webhook-id"), Some(ids[0].as_str()));
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["data"]["conversation"]["id"], first.as_str());
    let detail = api.get(&format!("/v1/webhooks/deliveries/{failed}"), &t.secret_key);
    assert_eq!(detail.body["status"], "delivered", "{}", detail.body);
    assert_eq!(
        detail.body["attempts_log"].as_array().unwrap().len(),
        9,
        "the log keeps all"
    );
    // A delivery still in flight cannot be replayed.
    let r = api.call(
        Method::Post,
        "/v1/webhooks/deliveries/whd_nope/replay",
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
    let api = Api::new();
    let t = api.create_tenant("rotate", "pro", None);
    let http = receiver(&api, Rc::new(Cell::new(200)));
    let (endpoint_id, old) = endpoint(&api, &t, json!(["*"]));
    let r = api.call(
        Method::Post,
        &format!("/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let current = api.get(
        &format!("/v1/webhooks/endpoints/{endpoint_id}/secret"),
        &t.secret_key,
    );
    assert_eq!(current.body["secret"], new.as_str());
    api.start_conversation(&t, json!({"name": "A"}));
    let req = http.calls.borrow().last().unwrap().clone();
    assert!(
        verifies(&req, &old) && verifies(&req, &new),
        "both during the overlap"
    );
    api.rig.clock.advance(24 * 3_600_000 + 1);
    api.start_conversation(&t, json!({"name": "B"}));
    let req = http.calls.borrow().last().unwrap().clone();
    assert!(
        verifies(&req, &new) && !verifies(&req, &old),
        "only the new one after it"
    );
}

#[test]
fn endpoints_are_checked_tenant_scoped_and_admin_only() {
    let api = Api::new();
    let a = api.create_tenant("hooks-a", "pro", None);
    let b = api.create_tenant("hooks-b", "pro", None);
    let http = receiver(&api, Rc::new(Cell::new(200)));
    for (url, events) in [
        ("http://hooks.tenant.example/x", json!(["*"])),
        ("https://127.0.0.1/x", json!(["*"])),
        ("https://10.0.0.8/x", json!(["*"])),
        ("https://metadata.internal/x", json!(["*"])),
        (URL, json!(["message.deleted"])),
        (URL, json!([])),
    ] {
        let r = api.call(
            Method::Post,
            "/v1/webhooks/endpoints",
            Some(&a.secret_key),
            Some(json!({"url": url, "events": events})),
        );
        assert_eq!(r.status, 422, "{url} {events}: {}", r.body);
    }
    let (a_endpoint, _) = endpoint(&api, &a, json!(["*"]));
    // Tenant B neither sees A's endpoint nor receives A's events.
    assert_eq!(
        api.get(
            &format!("/v1/webhooks/endpoints/{a_endpoint}"),
            &b.secret_key
        )
        .status,
        404
    );
    let (b_endpoint, _) = endpoint(&api, &b, json!(["*"]));
    let before = http.calls.borrow().len();
    api.start_conversation(&a, json!({"name": "A"}));
    let after = http.calls.borrow().len();
    assert!(after > before);
    let b_log = api.get(
        &format!("/v1/webhooks/endpoints/{b_endpoint}/deliveries"),
        &b.secret_key,
    );
    assert_eq!(
        b_log.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        b_log.body
    );
    // An agent token or a key without config:write cannot manage endpoints.
    let key = api.key_with_scopes(&a, &["conversations:read"]);
    assert_eq!(api.get("/v1/webhooks/endpoints", &key).status, 403);
    let (_, agent) = api.user_with_role(&a, "agent");
    assert_eq!(api.get("/v1/webhooks/endpoints", &agent).status, 403);
    // The catalogue lists every event type.
    let cat = api.get("/v1/webhooks/event-types", &a.secret_key);
    let types: Vec<&str> = cat.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "conversation.created",
            "message.created",
            "conversation.handoff",
            "conversation.resolved",
            "lead.created",
            "lead.stage_changed",
            "survey.responded"
        ]
    );
    // Deleting removes the endpoint and stops deliveries.
    let r = api.call(
        Method::Delete,
        &format!("/v1/webhooks/endpoints/{a_endpoint}"),
        Some(&a.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = http.calls.borrow().len();
    api.start_conversation(&a, json!({"name": "A2"}));
    assert_eq!(http.calls.borrow().len(), before);
}
