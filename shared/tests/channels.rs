//! Messaging channels natively, through the real pipeline and in-process objects: signed
//! webhooks (forged, stale, tampered, replayed and host-rewritten requests refused with nothing
//! stored), inbound messages landing in the inbox and answered, replies leaving through a
//! scripted Twilio/Resend that checks auth and body, retries that never double-send, STOP,
//! WhatsApp's 24-hour window, delivery receipts, voice events and Stripe tier changes.

mod common;

use common::{inbound_sms, resend_request, twilio_request, Api, TestTenant, SVIX_SECRET};
use prism_core::channels::signatures;
use prism_core::http::{Method, Request, Response};
use prism_core::ports::SqlDatabase;
use prism_core::testing::{ScriptedHttp, TEST_ADMIN_SECRET};
use serde_json::{json, Value};
use std::cell::Cell;
use std::rc::Rc;

use common::{SID, TOKEN};
const CUSTOMER: &str = "+15550001111";

fn load_returns_doc(api: &Api, t: &TestTenant) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/demo/knowledge/returns.md"
    ))
    .unwrap();
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(json!({"title": "Returns and exchanges", "content": text, "format": "markdown"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn configure(api: &Api, t: &TestTenant, channels: Value, secrets: &[(&str, &str)]) {
    for (name, value) in secrets {
        let r = api.call(
            Method::Put,
            &format!("/v1/tenant/secrets/{name}"),
            Some(&t.secret_key),
            Some(json!({"value": value})),
        );
        assert_eq!(r.status, 204, "{}", r.body);
    }
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    c["channels"] = channels;
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn twilio_channels() -> Value {
    json!({"twilio": {"account_sid": SID, "sms_from": "+15550009999", "whatsapp_from": "whatsapp:+15550008888", "whatsapp_template_sid": "HX0123"}})
}

fn form_of(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A fake Twilio Messages API: answers 500 for the first `fail_first` sends, then 201.
fn fake_twilio(fail_first: usize) -> (Rc<ScriptedHttp>, Rc<Cell<usize>>) {
    let accepted = Rc::new(Cell::new(0));
    let a = accepted.clone();
    let http = ScriptedHttp::new(move |req, n| {
        assert_eq!(
            req.path,
            format!("/2010-04-01/Accounts/{SID}/Messages.json")
        );
        if n < fail_first {
            return Response::json(
                500,
                &json!({"code": 20500, "message": "Internal Server Error", "status": 500}),
            );
        }
        a.set(a.get() + 1);
        Response::json(
            201,
            &json!({"sid": format!("SM{:032}", a.get()), "status": "queued"}),
        )
    });
    (http, accepted)
}

fn with_twilio(fail_first: usize) -> (Api, TestTenant, Rc<ScriptedHttp>, Rc<Cell<usize>>) {
    let mut api = Api::new();
    api.rig.config.set("twilio_base_url", "https://twilio.test");
    let (http, accepted) = fake_twilio(fail_first);
    *api.rig.http.borrow_mut() = Some(http.clone());
    let t = api.create_tenant("sms-shop", "enterprise", None);
    load_returns_doc(&api, &t);
    configure(&api, &t, twilio_channels(), &[("twilio_auth_token", TOKEN)]);
    (api, t, http, accepted)
}

fn count(api: &Api, sql: &str) -> i64 {
    let rows = futures::executor::block_on(api.rig.db.query(sql, &[])).unwrap();
    rows[0].int("n").unwrap()
}

fn conversations(api: &Api, t: &TestTenant, channel: &str) -> Vec<Value> {
    let r = api.get(
        &format!("/v1/conversations?channel={channel}"),
        &t.secret_key,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn messages(api: &Api, t: &TestTenant, id: &str) -> Vec<Value> {
    let r = api.get(&format!("/v1/conversations/{id}/messages"), &t.secret_key);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .or_else(|| r.body["messages"].as_array())
        .unwrap()
        .clone()
}

fn deliveries(api: &Api, t: &TestTenant, id: &str) -> Vec<Value> {
    let r = api.get(&format!("/v1/conversations/{id}/deliveries"), &t.secret_key);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[test]
fn an_sms_lands_in_the_inbox_and_the_answer_is_sent_through_twilio() {
    let (api, t, http, accepted) = with_twilio(0);
    let r = api.send(inbound_sms(
        &t,
        "SM_in_1",
        CUSTOMER,
        "How long do I have to return something?",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    let convs = conversations(&api, &t, "sms");
    assert_eq!(convs.len(), 1);
    let id = convs[0]["id"].as_str().unwrap();
    let msgs = messages(&api, &t, id);
    assert_eq!(msgs[0]["author"]["type"], "customer");
    assert_eq!(msgs[0]["text"], "How long do I have to return something?");
    let reply = msgs
        .iter()
        .find(|m| m["author"]["type"] == "ai")
        .expect("the AI answered");
    // Exactly one send, with Twilio's basic auth and the reply as the body.
    assert_eq!(accepted.get(), 1);
    let calls = http.calls.borrow();
    let send = calls.last().unwrap();
    let expected_auth = format!("Basic {}", base64_encode(&format!("{SID}:{TOKEN}")));
    assert_eq!(send.header("authorization"), Some(expected_auth.as_str()));
    assert_eq!(
        send.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = form_of(send);
    assert_eq!(field(&form, "To").as_deref(), Some(CUSTOMER));
    assert_eq!(field(&form, "From").as_deref(), Some("+15550009999"));
    assert_eq!(field(&form, "Body").as_deref(), reply["text"].as_str());
    drop(calls);
    let d = deliveries(&api, &t, id);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["status"], "sent");
    let provider_id = d[0]["provider_id"].as_str().unwrap().to_string();

    // The same webhook again (Twilio retried): acknowledged, nothing new stored or sent.
    let r = api.send(inbound_sms(
        &t,
        "SM_in_1",
        CUSTOMER,
        "How long do I have to return something?",
    ));
    assert_eq!(r.status, 200);
    assert_eq!(messages(&api, &t, id).len(), msgs.len());
    assert_eq!(accepted.get(), 1);

    // Delivery receipts move the state forward only.
    let status = |s: &str| {
        twilio_request(
            &t,
            &format!("https://api.test/v1/webhooks/twilio/{}", t.id),
            &[
                ("MessageSid", &provider_id),
                ("MessageStatus", s),
                ("AccountSid", SID),
            ],
            TOKEN,
        )
    };
    assert_eq!(api.send(status("delivered")).status, 200);
    assert_eq!(deliveries(&api, &t, id)[0]["status"], "delivered");
    assert_eq!(api.send(status("sent")).status, 200);
    assert_eq!(
        deliveries(&api, &t, id)[0]["status"],
        "delivered",
        "a late 'sent' does not regress"
    );

    // A second message from the same number joins the same open conversation.
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_in_2",
            CUSTOMER,
            "Is return shipping free?"
        ))
        .status,
        200
    );
    assert_eq!(conversations(&api, &t, "sms").len(), 1);
    assert_eq!(accepted.get(), 2);
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn forged_tampered_and_rewritten_twilio_requests_are_refused_and_store_nothing() {
    let (mut api, t, _http, accepted) = with_twilio(0);
    let url = format!("https://api.test/v1/webhooks/twilio/{}", t.id);
    let params = [
        ("MessageSid", "SM_x"),
        ("From", CUSTOMER),
        ("Body", "hello"),
    ];
    // Wrong token.
    let r = api.send(twilio_request(&t, &url, &params, "not-the-token"));
    assert_eq!((r.status, r.code()), (401, "invalid_signature"));
    // Tampered body after signing.
    let mut req = twilio_request(&t, &url, &params, TOKEN);
    req.body = b"MessageSid=SM_x&From=%2B15550001111&Body=transfer+money".to_vec();
    assert_eq!(api.send(req).status, 401);
    // No signature at all.
    let mut req = twilio_request(&t, &url, &params, TOKEN);
    req.headers.remove("x-twilio-signature");
    assert_eq!(api.send(req).status, 401);
    // Signed for the public host while the edge sees another: refused until it is configured.
    let public = format!("https://support.example.com/v1/webhooks/twilio/{}", t.id);
    assert_eq!(
        api.send(twilio_request(&t, &public, &params, TOKEN)).status,
        401
    );
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM webhook_events"), 0);
    assert_eq!(
        count(&api, "SELECT COUNT(*) AS n FROM conversation_messages"),
        0
    );
    api.rig
        .config
        .set("public_base_url", "https://support.example.com");
    assert_eq!(
        api.send(twilio_request(&t, &public, &params, TOKEN)).status,
        200
    );
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM webhook_events"), 1);
    assert!(accepted.get() >= 1);
    // Another tenant's token does not open this tenant's webhook; unknown tenants look alike.
    let mut req = twilio_request(&t, &url, &params, TOKEN);
    req.path = "/v1/webhooks/twilio/ten_unknown".into();
    let r = api.send(req);
    assert_eq!((r.status, r.code()), (403, "forbidden"));
}

#[test]
fn a_failed_send_is_retried_and_delivered_exactly_once() {
    let (api, t, http, accepted) = with_twilio(1);
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_in_1",
            CUSTOMER,
            "Can I return swimwear?"
        ))
        .status,
        200
    );
    let id = conversations(&api, &t, "sms")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = deliveries(&api, &t, &id);
    assert_eq!(
        (d[0]["status"].as_str(), d[0]["attempts"].as_i64()),
        (Some("queued"), Some(1))
    );
    assert!(d[0]["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(accepted.get(), 0);
    // Not due yet: a sweep sends nothing.
    let sweep = || {
        api.call(
            Method::Post,
            "/v1/platform/outbound/sweep",
            Some(TEST_ADMIN_SECRET),
            None,
        )
    };
    assert_eq!(sweep().body["dispatched"], 0);
    api.rig.clock.advance(1_500);
    assert_eq!(sweep().body["dispatched"], 1);
    let d = deliveries(&api, &t, &id);
    assert_eq!(
        (d[0]["status"].as_str(), d[0]["attempts"].as_i64()),
        (Some("sent"), Some(2))
    );
    assert_eq!(accepted.get(), 1);
    api.rig.clock.advance(3_600_000);
    assert_eq!(sweep().body["dispatched"], 0);
    assert_eq!(
        http.calls.borrow().len(),
        2,
        "one failed attempt and one accepted send, nothing more"
    );
}

#[test]
fn sends_that_keep_failing_become_dead_letters() {
    let (api, t, _http, accepted) = with_twilio(usize::MAX);
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_in_1",
            CUSTOMER,
            "Can I return swimwear?"
        ))
        .status,
        200
    );
    let id = conversations(&api, &t, "sms")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..12 {
        api.rig.clock.advance(20 * 60_000);
        api.call(
            Method::Post,
            "/v1/platform/outbound/sweep",
            Some(TEST_ADMIN_SECRET),
            None,
        );
    }
    let d = deliveries(&api, &t, &id);
    assert_eq!(d[0]["status"], "dead");
    assert_eq!(d[0]["attempts"], 8);
    assert_eq!(accepted.get(), 0);
}

#[test]
fn stop_suppresses_every_later_send_and_start_resumes() {
    let (api, t, _http, accepted) = with_twilio(0);
    assert_eq!(
        api.send(inbound_sms(&t, "SM_1", CUSTOMER, "STOP")).status,
        200
    );
    assert_eq!(accepted.get(), 0, "keywords are not answered");
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_2",
            CUSTOMER,
            "How long do I have to return something?"
        ))
        .status,
        200
    );
    assert_eq!(accepted.get(), 0, "opted out: nothing sent");
    let id = conversations(&api, &t, "sms")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(deliveries(&api, &t, &id)
        .iter()
        .all(|d| d["status"] == "suppressed"));
    assert_eq!(
        api.send(inbound_sms(&t, "SM_3", CUSTOMER, "start")).status,
        200
    );
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_4",
            CUSTOMER,
            "Is return shipping free?"
        ))
        .status,
        200
    );
    assert_eq!(accepted.get(), 1);
}

#[test]
fn whatsapp_replies_outside_the_24_hour_window_use_the_approved_template() {
    let (api, t, http, _accepted) = with_twilio(0);
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_1",
            &format!("whatsapp:{CUSTOMER}"),
            "Can I return swimwear?"
        ))
        .status,
        200
    );
    let convs = conversations(&api, &t, "whatsapp");
    assert_eq!(convs.len(), 1);
    let id = convs[0]["id"].as_str().unwrap().to_string();
    {
        let calls = http.calls.borrow();
        let form = form_of(calls.last().unwrap());
        assert_eq!(
            field(&form, "To").as_deref(),
            Some(format!("whatsapp:{CUSTOMER}").as_str())
        );
        assert_eq!(
            field(&form, "From").as_deref(),
            Some("whatsapp:+15550008888")
        );
        assert!(
            field(&form, "Body").is_some() && field(&form, "ContentSid").is_none(),
            "inside the window: free-form"
        );
    }
    let (agent, _) = api.user_with_role(&t, "agent");
    api.rig.clock.advance(25 * 3_600_000);
    let jwt = api.token_for(&t, &agent);
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{id}/messages"),
        Some(&jwt),
        Some(json!({"text": "Following up on your return", "client_msg_id": "agent-1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let calls = http.calls.borrow();
    let form = form_of(calls.last().unwrap());
    assert_eq!(field(&form, "ContentSid").as_deref(), Some("HX0123"));
    assert!(field(&form, "Body").is_none());
    assert_eq!(
        serde_json::from_str::<Value>(&field(&form, "ContentVariables").unwrap()).unwrap()["1"],
        "Following up on your return"
    );
}

// ---------------------------------------------------------------------------------------------
// Email

fn received(email_id: &str, message_id: &str, subject: &str, in_reply_to: Option<&str>) -> Value {
    let _ = in_reply_to;
    json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {
        "email_id": email_id, "created_at": "2026-11-25T10:00:00.000Z", "from": "Ana Lima <ana@customer.example>",
        "to": ["support@shop.example"], "cc": [], "bcc": [], "message_id": message_id, "subject": subject, "attachments": []
    }})
}

#[test]
fn an_email_thread_becomes_one_conversation_answered_through_resend() {
    let mut api = Api::new();
    api.rig.config.set("resend_base_url", "https://resend.test");
    let http = ScriptedHttp::new(|req, _| match (req.method, req.path.as_str()) {
        (Method::Get, "/emails/receiving/em_in_1") => Response::json(
            200,
            &json!({"object": "email", "id": "em_in_1", "text": "How long do I have to return something?\n\nOn Mon, Shop wrote:\n> Thanks for your order", "html": null, "headers": {"message-id": "<m1@customer.example>"}}),
        ),
        (Method::Get, "/emails/receiving/em_in_2") => Response::json(
            200,
            &json!({"object": "email", "id": "em_in_2", "text": "And is return shipping free?", "headers": {"In-Reply-To": "<m1@customer.example>", "References": "<m1@customer.example>"}}),
        ),
        (Method::Post, "/emails") => Response::json(
            200,
            &json!({"id": format!("em_out_{}", req.header("idempotency-key").unwrap_or(""))}),
        ),
        other => panic!("unexpected call {other:?}"),
    });
    *api.rig.http.borrow_mut() = Some(http.clone());
    let t = api.create_tenant("mail-shop", "enterprise", None);
    load_returns_doc(&api, &t);
    configure(
        &api,
        &t,
        json!({"email": {"from_address": "support@shop.example", "from_name": "Shop Support"}}),
        &[
            ("resend_api_key", "re_test_key"),
            ("resend_webhook_secret", SVIX_SECRET),
        ],
    );

    let r = api.send(resend_request(
        &api,
        &t,
        "msg_1",
        &received(
            "em_in_1",
            "<m1@customer.example>",
            "Returning a jacket",
            None,
        ),
        0,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    let convs = conversations(&api, &t, "email");
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["subject"], "Returning a jacket");
    let id = convs[0]["id"].as_str().unwrap().to_string();
    let msgs = messages(&api, &t, &id);
    assert_eq!(
        msgs[0]["text"], "How long do I have to return something?",
        "quoted history dropped"
    );
    let sends: Vec<Request> = http
        .calls
        .borrow()
        .iter()
        .filter(|r| r.path == "/emails")
        .cloned()
        .collect();
    assert_eq!(sends.len(), 1);
    let s = &sends[0];
    assert_eq!(s.header("authorization"), Some("Bearer re_test_key"));
    assert_eq!(
        s.header("idempotency-key"),
        Some(format!("out_{id}_2").as_str())
    );
    let body: Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(body["from"], "Shop Support <support@shop.example>");
    assert_eq!(body["to"], json!(["ana@customer.example"]));
    assert_eq!(body["subject"], "Re: Returning a jacket");
    assert_eq!(body["headers"]["In-Reply-To"], "<m1@customer.example>");
    assert!(!body["text"].as_str().unwrap().is_empty());

    // The customer's reply (In-Reply-To the first message) continues the same conversation.
    let r = api.send(resend_request(
        &api,
        &t,
        "msg_2",
        &received(
            "em_in_2",
            "<m2@customer.example>",
            "Re: Returning a jacket",
            Some("<m1@customer.example>"),
        ),
        0,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(conversations(&api, &t, "email").len(), 1);
    assert!(messages(&api, &t, &id)
        .iter()
        .any(|m| m["text"] == "And is return shipping free?"));

    // Delivery events update the state; a replayed event is processed once.
    let provider_id = deliveries(&api, &t, &id)[0]["provider_id"]
        .as_str()
        .unwrap()
        .to_string();
    let delivered = json!({"type": "email.delivered", "created_at": "2026-11-25T10:00:05.000Z", "data": {"email_id": provider_id}});
    assert_eq!(
        api.send(resend_request(&api, &t, "msg_3", &delivered, 0))
            .status,
        200
    );
    assert_eq!(deliveries(&api, &t, &id)[0]["status"], "delivered");
    assert_eq!(
        api.send(resend_request(&api, &t, "msg_3", &delivered, 0))
            .status,
        200
    );
    assert_eq!(
        count(
            &api,
            "SELECT COUNT(*) AS n FROM webhook_events WHERE provider = 'resend'"
        ),
        3
    );

    // Stale and forged deliveries are refused and store nothing.
    let before = count(&api, "SELECT COUNT(*) AS n FROM webhook_events");
    let r = api.send(resend_request(&api, &t, "msg_4", &delivered, -301));
    assert_eq!((r.status, r.code()), (401, "invalid_signature"));
    let mut forged = resend_request(&api, &t, "msg_5", &delivered, 0);
    forged.body =
        serde_json::to_vec(&json!({"type": "email.bounced", "data": {"email_id": provider_id}}))
            .unwrap();
    assert_eq!(api.send(forged).status, 401);
    assert_eq!(
        count(&api, "SELECT COUNT(*) AS n FROM webhook_events"),
        before
    );
}

// ---------------------------------------------------------------------------------------------
// Voice

fn vapi(api: &Api, t: &TestTenant, secret: &str, message: Value) -> common::Reply {
    let mut r = Request::new(
        Method::Post,
        &format!("https://api.test/v1/webhooks/vapi/{}", t.id),
    );
    r.headers.append("content-type", "application/json");
    r.headers.append("x-vapi-secret", secret);
    r.body = serde_json::to_vec(&json!({ "message": message })).unwrap();
    api.send(r)
}

#[test]
fn a_phone_call_gets_the_assistant_answers_from_the_knowledge_base_and_is_stored() {
    let mut api = Api::new();
    api.rig
        .config
        .set("public_base_url", "https://edge.example");
    let t = api.create_tenant("voice-shop", "enterprise", None);
    load_returns_doc(&api, &t);
    configure(
        &api,
        &t,
        json!({"voice": {"first_message": "Hi, thanks for calling!", "voice": {"provider": "11labs", "voiceId": "rachel"}}}),
        &[("vapi_secret", "vapi-shared-secret")],
    );
    let call = json!({"id": "call_1", "customer": {"number": CUSTOMER}});

    assert_eq!(
        vapi(
            &api,
            &t,
            "wrong",
            json!({"type": "assistant-request", "call": call})
        )
        .status,
        401
    );
    let r = vapi(
        &api,
        &t,
        "vapi-shared-secret",
        json!({"type": "assistant-request", "call": call}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["assistant"]["firstMessage"],
        "Hi, thanks for calling!"
    );
    assert_eq!(r.body["assistant"]["voice"]["voiceId"], "rachel");
    assert_eq!(
        r.body["assistant"]["server"]["url"],
        format!("https://edge.example/v1/webhooks/vapi/{}", t.id)
    );

    let r = vapi(
        &api,
        &t,
        "vapi-shared-secret",
        json!({"type": "tool-calls", "call": call, "toolCallList": [{"id": "tc_1", "type": "function", "function": {"name": "search_knowledge_base", "arguments": {"query": "How long do I have to return something?"}}}]}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["results"][0]["toolCallId"], "tc_1");
    assert!(
        r.body["results"][0]["result"]
            .as_str()
            .unwrap()
            .contains("Returns"),
        "{}",
        r.body
    );

    let line = json!({"type": "transcript", "call": call, "role": "user", "transcriptType": "final", "transcript": "Can I return swimwear?"});
    assert_eq!(
        vapi(&api, &t, "vapi-shared-secret", line.clone()).status,
        200
    );
    assert_eq!(vapi(&api, &t, "vapi-shared-secret", line).status, 200);
    let report = json!({"type": "end-of-call-report", "call": call, "endedReason": "customer-ended-call", "recordingUrl": "https://storage.vapi.ai/rec/call_1.wav",
        "analysis": {"summary": "Asked about returning swimwear."}, "artifact": {"messages": [{"role": "user", "message": "Can I return swimwear?", "secondsFromStart": 3.2}, {"role": "bot", "message": "Swimwear can be returned unworn.", "secondsFromStart": 5.0}]}});
    assert_eq!(
        vapi(&api, &t, "vapi-shared-secret", report.clone()).status,
        200
    );
    assert_eq!(vapi(&api, &t, "vapi-shared-secret", report).status, 200);

    let convs = conversations(&api, &t, "voice");
    assert_eq!(convs.len(), 1);
    let msgs = messages(&api, &t, convs[0]["id"].as_str().unwrap());
    assert_eq!(
        msgs.iter()
            .filter(|m| m["text"] == "Can I return swimwear?")
            .count(),
        1,
        "transcript lines are stored once"
    );
    let end: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["author"]["type"] == "system")
        .collect();
    assert_eq!(end.len(), 1);
    assert!(end[0]["text"]
        .as_str()
        .unwrap()
        .contains("Asked about returning swimwear."));
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM voice_calls WHERE status = 'ended' AND recording_url = 'https://storage.vapi.ai/rec/call_1.wav'"), 1);
}

// ---------------------------------------------------------------------------------------------
// Billing

const STRIPE_SECRET: &str = "whsec_stripe_test_secret";

fn stripe(api: &Api, event: &Value, ts_offset_s: i64, secret: &str) -> common::Reply {
    let body = serde_json::to_vec(event).unwrap();
    let ts = api.rig.clock_now() / 1000 + ts_offset_s;
    let mut r = Request::new(Method::Post, "https://api.test/v1/webhooks/stripe");
    r.headers.append("content-type", "application/json");
    r.headers.append(
        "stripe-signature",
        format!("t={ts},v1={}", signatures::stripe_sign(secret, ts, &body)),
    );
    r.body = body;
    api.send(r)
}

fn subscription(
    id: &str,
    kind: &str,
    created: i64,
    tenant: &str,
    status: &str,
    tier: &str,
) -> Value {
    json!({"id": id, "object": "event", "type": kind, "created": created, "data": {"object": {"id": "sub_1", "object": "subscription", "status": status, "metadata": {"tenant_id": tenant, "tier": tier}}}})
}

#[test]
fn a_stripe_upgrade_raises_the_rate_limit_on_the_next_request() {
    let mut api = Api::new();
    api.rig.config.set("stripe_webhook_secret", STRIPE_SECRET);
    let t = api.create_tenant("billing-shop", "free", None);
    let limit = |api: &Api| {
        api.get("/v1/tenant", &t.secret_key)
            .header("ratelimit-limit")
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let free = limit(&api);

    let upgrade = subscription(
        "evt_1",
        "customer.subscription.created",
        1_700_000_100,
        &t.id,
        "active",
        "pro",
    );
    assert_eq!(stripe(&api, &upgrade, 0, "whsec_wrong").status, 401);
    assert_eq!(
        stripe(&api, &upgrade, -400, STRIPE_SECRET).status,
        401,
        "stale"
    );
    assert_eq!(
        api.get("/v1/tenant", &t.secret_key).body["tenant"]["tier"],
        "free"
    );
    assert_eq!(stripe(&api, &upgrade, 0, STRIPE_SECRET).status, 200);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.body["tenant"]["tier"], "pro");
    assert!(limit(&api) > free, "pro allows more than free");

    // An older event arriving late does not undo the newer one.
    let stale = subscription(
        "evt_0",
        "customer.subscription.updated",
        1_700_000_000,
        &t.id,
        "canceled",
        "pro",
    );
    assert_eq!(stripe(&api, &stale, 0, STRIPE_SECRET).status, 200);
    assert_eq!(
        api.get("/v1/tenant", &t.secret_key).body["tenant"]["tier"],
        "pro"
    );
    // Cancellation returns the tenant to free.
    let cancel = subscription(
        "evt_2",
        "customer.subscription.deleted",
        1_700_000_200,
        &t.id,
        "canceled",
        "pro",
    );
    assert_eq!(stripe(&api, &cancel, 0, STRIPE_SECRET).status, 200);
    assert_eq!(
        api.get("/v1/tenant", &t.secret_key).body["tenant"]["tier"],
        "free"
    );
    assert_eq!(limit(&api), free);
    let r = api.call(
        Method::Get,
        "/v1/platform/tenants",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn spoken_replies_are_synthesised_once_per_text_and_voice() {
    let mut api = Api::new();
    api.rig
        .config
        .set("elevenlabs_base_url", "https://elevenlabs.test");
    let http = ScriptedHttp::new(|req, _| {
        assert_eq!(req.path, "/v1/text-to-speech/voice123");
        assert_eq!(req.query, "output_format=mp3_44100_128");
        assert_eq!(req.header("xi-api-key"), Some("xi-test-key"));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let mut r = Response::new(200);
        r.headers.set("content-type", "audio/mpeg");
        r.body = prism_core::http::Body::Bytes(
            format!("ID3-mp3-of:{}", body["text"].as_str().unwrap()).into_bytes(),
        );
        r
    });
    *api.rig.http.borrow_mut() = Some(http.clone());
    let t = api.create_tenant("tts-shop", "enterprise", None);
    let speak = |text: &str| {
        api.call(
            Method::Post,
            "/v1/voice/speech",
            Some(&t.secret_key),
            Some(json!({"text": text})),
        )
    };
    assert_eq!(speak("Hello").status, 409, "not configured yet");
    configure(
        &api,
        &t,
        json!({"voice": {"first_message": "Hi!", "tts": {"voice_id": "voice123"}}}),
        &[("elevenlabs_api_key", "xi-test-key")],
    );
    let first = speak("Your refund is on its way.");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("content-type"), Some("audio/mpeg"));
    assert_eq!(first.header("x-cache"), Some("miss"));
    assert_eq!(
        first.resp.body.as_bytes(),
        b"ID3-mp3-of:Your refund is on its way."
    );
    let again = speak("Your refund is on its way.");
    assert_eq!(again.header("x-cache"), Some("hit"));
    assert_eq!(again.resp.body.as_bytes(), first.resp.body.as_bytes());
    assert_eq!(again.header("x-audio-hash"), first.header("x-audio-hash"));
    assert_eq!(
        http.calls.borrow().len(),
        1,
        "the second request came from the cache"
    );
    assert_eq!(speak("Something else").header("x-cache"), Some("miss"));
    assert_eq!(http.calls.borrow().len(), 2);
    assert_eq!(speak("").status, 422);
}

#[test]
fn one_tenants_webhooks_cannot_touch_another_tenants_deliveries_or_events() {
    let (api, victim, _http, accepted) = with_twilio(0);
    // The victim's customer writes; the reply is sent and has a provider id.
    assert_eq!(
        api.send(inbound_sms(
            &victim,
            "SM_shared_id",
            CUSTOMER,
            "How long do I have to return something?"
        ))
        .status,
        200
    );
    let id = conversations(&api, &victim, "sms")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let provider_id = deliveries(&api, &victim, &id)[0]["provider_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(accepted.get(), 1);

    // A second tenant configures Twilio with its own token and signs callbacks naming the
    // victim's message: its own URL, its own signature, someone else's ids.
    let attacker = api.create_tenant("attacker", "pro", None);
    configure(
        &api,
        &attacker,
        twilio_channels(),
        &[("twilio_auth_token", TOKEN)],
    );
    let forged = twilio_request(
        &attacker,
        &format!("https://api.test/v1/webhooks/twilio/{}", attacker.id),
        &[
            ("MessageSid", &provider_id),
            ("MessageStatus", "failed"),
            ("ErrorCode", "30007"),
            ("AccountSid", SID),
        ],
        TOKEN,
    );
    assert_eq!(api.send(forged).status, 200);
    assert_eq!(deliveries(&api, &victim, &id)[0]["status"], "sent");

    // The same provider message id arriving for the attacker is the attacker's own event: the
    // victim's ledger entry does not swallow it, and it lands in the attacker's inbox only.
    assert_eq!(
        api.send(inbound_sms(
            &attacker,
            "SM_shared_id",
            "+15550002222",
            "hello"
        ))
        .status,
        200
    );
    assert_eq!(conversations(&api, &attacker, "sms").len(), 1);
    assert_eq!(conversations(&api, &victim, "sms").len(), 1);
    assert_eq!(
        messages(&api, &victim, &id)
            .iter()
            .filter(|m| m["author"]["type"] == "customer")
            .count(),
        1
    );
}

#[test]
fn email_threads_match_only_their_own_customer_and_closed_threads_are_never_refused() {
    let mut api = Api::new();
    api.rig.config.set("resend_base_url", "https://resend.test");
    let http = ScriptedHttp::new(|req, _| match (req.method, req.path.as_str()) {
        (Method::Get, p) if p.starts_with("/emails/receiving/em_first") => Response::json(
            200,
            &json!({"object": "email", "text": "Where is my parcel? Order 5521.", "headers": {"message-id": "<t1@customer.example>"}}),
        ),
        (Method::Get, p) if p.starts_with("/emails/receiving/") => Response::json(
            200,
            &json!({"object": "email", "text": "Injected into someone else's thread", "headers": {"In-Reply-To": "<t1@customer.example>", "References": "<t1@customer.example>"}}),
        ),
        (Method::Post, "/emails") => Response::json(200, &json!({"id": "em_out"})),
        other => panic!("unexpected call {other:?}"),
    });
    *api.rig.http.borrow_mut() = Some(http);
    let t = api.create_tenant("threads", "enterprise", None);
    configure(
        &api,
        &t,
        json!({"email": {"from_address": "support@shop.example"}}),
        &[
            ("resend_api_key", "re_test_key"),
            ("resend_webhook_secret", SVIX_SECRET),
        ],
    );
    let email = |email_id: &str, from: &str, message_id: &str| {
        json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {
            "email_id": email_id, "from": from, "to": ["support@shop.example"],
            "message_id": message_id, "subject": "Parcel", "attachments": []
        }})
    };
    let r = api.send(resend_request(
        &api,
        &t,
        "ev1",
        &email(
            "em_first",
            "Ana <ana@customer.example>",
            "<t1@customer.example>",
        ),
        0,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    let ana = conversations(&api, &t, "email")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone else replies "in" Ana's thread: it becomes their own conversation.
    let r = api.send(resend_request(
        &api,
        &t,
        "ev2",
        &email("em_intruder", "mallory@evil.example", "<x1@evil.example>"),
        0,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(messages(&api, &t, &ana)
        .iter()
        .all(|m| m["text"] != "Injected into someone else's thread"));
    assert_eq!(conversations(&api, &t, "email").len(), 2);

    // Ana's conversation is closed; her reply to the thread is accepted into a new one.
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{ana}/status"),
        Some(&t.secret_key),
        Some(json!({"status": "closed"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.send(resend_request(
        &api,
        &t,
        "ev3",
        &email(
            "em_late",
            "Ana <ana@customer.example>",
            "<t2@customer.example>",
        ),
        0,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    let convs = conversations(&api, &t, "email");
    assert_eq!(convs.len(), 3);
    let newest = convs
        .iter()
        .find(|c| {
            c["id"] != ana.as_str()
                && c["customer_id"]
                    == convs.iter().find(|c| c["id"] == ana.as_str()).unwrap()["customer_id"]
        })
        .expect("a new conversation for Ana");
    assert_ne!(newest["status"], "closed");
    assert_eq!(
        count(&api, "SELECT COUNT(*) AS n FROM webhook_events WHERE provider = 'resend' AND status = 'processed'"),
        3
    );
}

#[test]
fn deleting_an_old_subscription_does_not_downgrade_a_tenant_with_a_new_one() {
    let mut api = Api::new();
    let secret = "whsec_test_stripe_secret";
    api.rig.config.set("stripe_webhook_secret", secret);
    let t = api.create_tenant("billing2", "free", None);
    let sub = |evt: &str, sub_id: &str, kind: &str, created: i64, status: &str, tier: &str| json!({"id": evt, "object": "event", "type": kind, "created": created, "data": {"object": {"id": sub_id, "object": "subscription", "status": status, "metadata": {"tenant_id": t.id, "tier": tier}}}});
    let tier = |api: &Api| {
        api.get(&format!("/v1/platform/tenants/{}", t.id), TEST_ADMIN_SECRET)
            .body["tier"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        stripe(
            &api,
            &sub(
                "evt_1",
                "sub_old",
                "customer.subscription.created",
                100,
                "active",
                "pro"
            ),
            0,
            secret
        )
        .status,
        200
    );
    assert_eq!(tier(&api), "pro");
    // The tenant upgrades through a new subscription, then the old one is deleted.
    assert_eq!(
        stripe(
            &api,
            &sub(
                "evt_2",
                "sub_new",
                "customer.subscription.created",
                200,
                "active",
                "enterprise"
            ),
            0,
            secret
        )
        .status,
        200
    );
    assert_eq!(tier(&api), "enterprise");
    assert_eq!(
        stripe(
            &api,
            &sub(
                "evt_3",
                "sub_old",
                "customer.subscription.deleted",
                300,
                "canceled",
                "pro"
            ),
            0,
            secret
        )
        .status,
        200
    );
    assert_eq!(
        tier(&api),
        "enterprise",
        "the live subscription still entitles"
    );
    // A late, older event about the new subscription changes nothing; its deletion does.
    assert_eq!(
        stripe(
            &api,
            &sub(
                "evt_4",
                "sub_new",
                "customer.subscription.updated",
                150,
                "canceled",
                "enterprise"
            ),
            0,
            secret
        )
        .status,
        200
    );
    assert_eq!(tier(&api), "enterprise");
    assert_eq!(
        stripe(
            &api,
            &sub(
                "evt_5",
                "sub_new",
                "customer.subscription.deleted",
                400,
                "canceled",
                "enterprise"
            ),
            0,
            secret
        )
        .status,
        200
    );
    assert_eq!(tier(&api), "free");
}

#[test]
fn a_caller_saying_the_same_word_twice_is_two_utterances_and_a_retry_is_one() {
    let api = Api::new();
    let t = api.create_tenant("voice-yes", "enterprise", None);
    configure(
        &api,
        &t,
        json!({"voice": {"first_message": "Hi!"}}),
        &[("vapi_secret", "vapi-shared-secret")],
    );
    let call = json!({"id": "call_yes", "customer": {"number": CUSTOMER}});
    let yes = |ts: i64| json!({"type": "transcript", "call": call, "role": "user", "transcriptType": "final", "transcript": "Yes.", "timestamp": ts});
    for message in [yes(1_000), yes(1_000), yes(9_000)] {
        assert_eq!(vapi(&api, &t, "vapi-shared-secret", message).status, 200);
    }
    let convs = conversations(&api, &t, "voice");
    let id = convs[0]["id"].as_str().unwrap();
    let said: Vec<Value> = messages(&api, &t, id)
        .into_iter()
        .filter(|m| m["author"]["type"] == "customer")
        .collect();
    assert_eq!(
        said.len(),
        2,
        "two utterances, the retry stored once: {said:?}"
    );
}

#[test]
fn forged_webhooks_cost_no_database_reads_and_are_budgeted_once_verified() {
    let (api, t, _http, _) = with_twilio(0);
    // One genuine webhook warms the isolate's view of the tenant's Twilio settings.
    assert_eq!(
        api.send(inbound_sms(&t, "SM_warm", CUSTOMER, "hi")).status,
        200
    );
    let before = api.rig.db.statements();
    for i in 0..50 {
        let forged = twilio_request(
            &t,
            &format!("https://api.test/v1/webhooks/twilio/{}", t.id),
            &[
                ("MessageSid", &format!("SM_forged_{i}")),
                ("From", CUSTOMER),
                ("Body", "x"),
            ],
            "not-the-token",
        );
        let r = api.send(forged);
        assert_eq!((r.status, r.code()), (401, "invalid_signature"));
    }
    // The first failure re-reads the settings once (a rotated token applies at once); the rest
    // are refused from memory.
    assert!(
        api.rig.db.statements() - before <= 2,
        "{} statements",
        api.rig.db.statements() - before
    );
    // Unknown tenants are refused the same way, also from memory after the first look.
    let mut ghost = t.clone();
    ghost.id = "ten_doesnotexist".into();
    let before = api.rig.db.statements();
    for _ in 0..20 {
        assert_eq!(
            api.send(inbound_sms(&ghost, "SM_g", CUSTOMER, "x")).status,
            403
        );
    }
    assert!(api.rig.db.statements() - before <= 1);
}

#[test]
fn tenant_secrets_are_encrypted_at_rest_and_survive_a_key_rotation() {
    let mut api = Api::new();
    api.rig.config.set("twilio_base_url", "https://twilio.test");
    let (http, accepted) = fake_twilio(0);
    *api.rig.http.borrow_mut() = Some(http.clone());
    let t = api.create_tenant("sealed", "enterprise", None);
    load_returns_doc(&api, &t);
    configure(&api, &t, twilio_channels(), &[("twilio_auth_token", TOKEN)]);
    let stored = |api: &Api, sql: &str| -> Vec<String> {
        futures::executor::block_on(api.rig.db.query(sql, &[]))
            .unwrap()
            .iter()
            .filter_map(|r| r.text("v"))
            .collect()
    };
    let secrets = stored(&api, "SELECT value AS v FROM tenant_secrets");
    let identities = stored(&api, "SELECT identity_secret AS v FROM tenants");
    assert!(secrets
        .iter()
        .all(|v| v.starts_with("enc:v1:m1:") && !v.contains(TOKEN)));
    assert!(identities
        .iter()
        .all(|v| v.starts_with("enc:v1:m1:") && !v.contains(&t.identity_secret)));
    // The sealed token still signs and sends.
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_1",
            CUSTOMER,
            "How long do I have to return something?"
        ))
        .status,
        200
    );
    assert_eq!(accepted.get(), 1);

    // Rotate: a new key first, the old one still listed; every value is re-wrapped.
    api.rig.config.set(
        "secrets_master_keys",
        format!(
            "m2:bmV3LW1hc3Rlci1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=,{}",
            prism_core::testing::TEST_MASTER_KEYS
        ),
    );
    let r = api.call(
        Method::Post,
        "/v1/platform/secrets/rotate",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["rewrapped"].as_u64().unwrap() >= 2);
    assert_eq!(r.body["more"], false);
    // The old key can now be retired: everything opens under the new one alone.
    api.rig.config.set(
        "secrets_master_keys",
        "m2:bmV3LW1hc3Rlci1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=",
    );
    api.rig
        .memo
        .forget(&format!("hook:{}:twilio_auth_token", t.id));
    assert!(stored(&api, "SELECT value AS v FROM tenant_secrets")
        .iter()
        .all(|v| v.starts_with("enc:v1:m2:")));
    assert_eq!(
        api.send(inbound_sms(
            &t,
            "SM_2",
            CUSTOMER,
            "Is return shipping free?"
        ))
        .status,
        200
    );
    assert_eq!(accepted.get(), 2);
    // Identity verification still works with the re-wrapped identity secret.
    let hash = prism_core::auth::identity::user_hash(&t.identity_secret, "user-42");
    let mut r = common::Api::req(
        Method::Post,
        "/v1/widget/identify",
        Some(&t.public_key),
        Some(&json!({"user_id": "user-42", "user_hash": hash})),
    );
    r.headers.set("origin", common::ORIGIN);
    let r = api.send(r);
    assert_eq!(r.status, 200, "{}", r.body);
}
