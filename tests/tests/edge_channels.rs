//! Messaging channels end to end in workerd: signed provider webhooks into real D1 and Durable
//! Objects, the AI's answer leaving through the Cloudflare Queue consumer to local fake Twilio
//! and Resend servers (checked for auth and body), retries through the queue that deliver
//! exactly once, STOP, VAPI voice events, and a Stripe upgrade raising the rate limit.

use prism_core::channels::signatures;
use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api, Tenant};
use prism_e2e::providers::Providers;
use prism_e2e::{Edge, EdgeOptions};
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const STRIPE_SECRET: &str = "whsec_e2e_stripe_secret";
const SVIX_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The public host providers are configured with; the edge sees 127.0.0.1 (a rewritten host).
const PUBLIC: &str = "https://support.example.test";

fn edge() -> &'static Edge {
    static E: OnceLock<Edge> = OnceLock::new();
    E.get_or_init(|| {
        let fake = &Providers::shared().base;
        Edge::start(EdgeOptions {
            vars: vec![
                ("TWILIO_BASE_URL".into(), fake.clone()),
                ("RESEND_BASE_URL".into(), fake.clone()),
                ("STRIPE_WEBHOOK_SECRET".into(), STRIPE_SECRET.into()),
                ("ELEVENLABS_BASE_URL".into(), fake.clone()),
            ],
        })
    })
}

fn account_sid() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("AC{:032x}", n)
}

async fn load_returns_doc(base: &str, t: &Tenant) {
    let api = Api::at(base);
    let text =
        std::fs::read_to_string(prism_e2e::repo_root().join("scripts/demo/knowledge/returns.md"))
            .unwrap();
    let r = api
        .call(
            Method::Post,
            "/v1/knowledge/documents",
            Some(&t.secret_key),
            Some(&json!({"title": "Returns and exchanges", "content": text, "format": "markdown"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn configure(base: &str, t: &Tenant, channels: Value, secrets: &[(&str, &str)]) {
    let api = Api::at(base);
    for (name, value) in secrets {
        api.put_secret(t, name, value).await;
    }
    api.edit_config(t, |c| c["channels"] = channels).await;
}

struct Sms {
    t: Tenant,
    sid: String,
    token: String,
}

async fn sms_tenant() -> Sms {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("sms"), "enterprise", None)
        .await;
    load_returns_doc(base, &t).await;
    let sid = account_sid();
    let token = format!("token-{}", unique_slug("tw"));
    configure(base, &t, json!({"public_base_url": PUBLIC, "twilio": {"account_sid": sid, "sms_from": "+15550009999"}}), &[("twilio_auth_token", &token)]).await;
    Sms { t, sid, token }
}

/// Posts a Twilio webhook signed over the public URL, as Twilio would.
async fn twilio_post(s: &Sms, params: &[(&str, &str)], token: &str) -> (u16, String) {
    let path = format!("/v1/webhooks/twilio/{}", s.t.id);
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signatures::twilio_signature(token, &format!("{PUBLIC}{path}"), &pairs);
    let r = prism_e2e::http()
        .post(edge().url(&path))
        .header("x-twilio-signature", sig)
        .form(params)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn sms_in(s: &Sms, message_sid: &str, body: &str) -> (u16, String) {
    twilio_post(
        s,
        &[
            ("MessageSid", message_sid),
            ("AccountSid", &s.sid),
            ("From", "+15550001111"),
            ("To", "+15550009999"),
            ("Body", body),
            ("NumMedia", "0"),
        ],
        &s.token,
    )
    .await
}

async fn until<T>(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {what}\n{}",
            edge()
                .log()
                .chars()
                .rev()
                .take(4000)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn only_conversation(t: &Tenant, channel: &str) -> String {
    let api = Api::at(&edge().base);
    until(
        "the conversation in the inbox",
        Duration::from_secs(10),
        async || {
            let r = api
                .call(
                    Method::Get,
                    &format!("/v1/conversations?channel={channel}"),
                    Some(&t.secret_key),
                    None,
                )
                .await;
            let items = r.body["items"].as_array()?.clone();
            (items.len() == 1).then(|| items[0]["id"].as_str().unwrap().to_string())
        },
    )
    .await
}

async fn deliveries(t: &Tenant, id: &str) -> Vec<Value> {
    let api = Api::at(&edge().base);
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{id}/deliveries"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_sms_is_answered_through_the_queue_and_twilio_exactly_once() {
    let api = Api::at(&edge().base);
    let s = sms_tenant().await;
    let (status, body) = sms_in(&s, "SM_e2e_1", "How long do I have to return something?").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Response>"), "TwiML: {body}");
    let sent = until(
        "the reply at fake Twilio",
        Duration::from_secs(20),
        async || {
            let a = Providers::shared().accepted(&s.sid);
            (!a.is_empty()).then_some(a)
        },
    )
    .await;
    let call0 = &sent[0];
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.sid, s.token))
    );
    assert_eq!(call0.authorization.as_deref(), Some(basic.as_str()));
    assert_eq!(
        call0.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(call0.form("To").as_deref(), Some("+15550001111"));
    assert_eq!(call0.form("From").as_deref(), Some("+15550009999"));
    assert_eq!(
        call0.form("StatusCallback").as_deref(),
        Some(format!("{PUBLIC}/v1/webhooks/twilio/{}", s.t.id).as_str())
    );
    let text = call0.form("Body").unwrap();
    assert!(
        text.contains("30 days") || text.to_lowercase().contains("return"),
        "{text}"
    );

    let id = only_conversation(&s.t, "sms").await;
    let d = until(
        "the delivery marked sent",
        Duration::from_secs(10),
        async || {
            let d = deliveries(&s.t, &id).await;
            (d.first()?["status"] == "sent").then_some(d)
        },
    )
    .await;
    assert_eq!(d[0]["attempts"], 1);

    // Twilio retries the webhook: acknowledged, nothing new stored or sent.
    assert_eq!(
        sms_in(&s, "SM_e2e_1", "How long do I have to return something?")
            .await
            .0,
        200
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(Providers::shared().accepted(&s.sid).len(), 1);
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{id}/messages"),
            Some(&s.t.secret_key),
            None,
        )
        .await;
    assert_eq!(
        r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["author"]["type"] == "customer")
            .count(),
        1
    );

    // The delivery receipt moves the state forward.
    let sm = d[0]["provider_id"].as_str().unwrap().to_string();
    assert_eq!(
        twilio_post(
            &s,
            &[
                ("MessageSid", &sm),
                ("MessageStatus", "delivered"),
                ("AccountSid", &s.sid)
            ],
            &s.token
        )
        .await
        .0,
        200
    );
    assert_eq!(deliveries(&s.t, &id).await[0]["status"], "delivered");
}

#[tokio::test]
async fn forged_and_unsigned_webhooks_are_refused() {
    let api = Api::at(&edge().base);
    let s = sms_tenant().await;
    let (status, body) = sms_in(
        &Sms {
            t: s.t.clone(),
            sid: s.sid.clone(),
            token: "forged-token".into(),
        },
        "SM_forged",
        "hi",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("invalid_signature"));
    let r = prism_e2e::http()
        .post(edge().url(&format!("/v1/webhooks/twilio/{}", s.t.id)))
        .form(&[("MessageSid", "SM_x"), ("Body", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = api
        .call(
            Method::Get,
            "/v1/conversations?channel=sms",
            Some(&s.t.secret_key),
            None,
        )
        .await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn a_provider_500_is_retried_through_the_queue_and_delivered_once() {
    let s = sms_tenant().await;
    Providers::shared().fail_first(&s.sid, 1);
    assert_eq!(
        sms_in(&s, "SM_retry_1", "Can I return swimwear?").await.0,
        200
    );
    until("the retried send", Duration::from_secs(30), async || {
        (!Providers::shared().accepted(&s.sid).is_empty()).then_some(())
    })
    .await;
    let id = only_conversation(&s.t, "sms").await;
    let d = until(
        "sent after 2 attempts",
        Duration::from_secs(10),
        async || {
            let d = deliveries(&s.t, &id).await;
            (d.first()?["status"] == "sent").then_some(d)
        },
    )
    .await;
    assert_eq!(d[0]["attempts"], 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = Providers::shared().calls(&s.sid);
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![500, 201],
        "one failure, one delivery, nothing more"
    );
}

#[tokio::test]
async fn stop_means_nothing_more_is_sent() {
    let s = sms_tenant().await;
    assert_eq!(sms_in(&s, "SM_stop_1", "STOP").await.0, 200);
    assert_eq!(
        sms_in(&s, "SM_stop_2", "How long do I have to return something?")
            .await
            .0,
        200
    );
    let id = only_conversation(&s.t, "sms").await;
    let d = until(
        "the suppressed delivery",
        Duration::from_secs(20),
        async || {
            let d = deliveries(&s.t, &id).await;
            (d.first()?["status"] == "suppressed").then_some(d)
        },
    )
    .await;
    assert_eq!(d.len(), 1);
    assert!(Providers::shared().calls(&s.sid).is_empty());
}

#[tokio::test]
async fn an_email_is_answered_through_resend_in_its_thread() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("mail"), "enterprise", None)
        .await;
    load_returns_doc(base, &t).await;
    let key = format!("re_{}", unique_slug("k").replace('-', "_"));
    configure(
        base,
        &t,
        json!({"email": {"from_address": "support@shop.example", "from_name": "Shop"}}),
        &[
            ("resend_api_key", &key),
            ("resend_webhook_secret", SVIX_SECRET),
        ],
    )
    .await;
    let email_id = format!("em-{}", unique_slug("in"));
    Providers::shared().receive_email(&email_id, json!({"object": "email", "id": email_id, "to": ["support@shop.example"], "from": "ana@customer.example", "subject": "Returning a jacket", "text": "How long do I have to return something?", "html": null, "headers": {"message-id": "<e2e-m1@customer.example>"}}));
    let event = json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {"email_id": email_id, "from": "Ana <ana@customer.example>", "to": ["support@shop.example"], "subject": "Returning a jacket", "message_id": "<e2e-m1@customer.example>", "attachments": []}});
    let body = serde_json::to_vec(&event).unwrap();
    let svix = |id: &str, ts: i64, body: &[u8]| {
        (
            id.to_string(),
            ts.to_string(),
            signatures::svix_sign(SVIX_SECRET, id, ts, body).unwrap(),
        )
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let post = async |h: (String, String, String), body: Vec<u8>| {
        prism_e2e::http()
            .post(edge().url(&format!("/v1/webhooks/resend/{}", t.id)))
            .header("content-type", "application/json")
            .header("svix-id", h.0)
            .header("svix-timestamp", h.1)
            .header("svix-signature", h.2)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        post(svix("msg_stale", now - 600, &body), body.clone()).await,
        401,
        "stale"
    );
    assert_eq!(post(svix("msg_e2e_1", now, &body), body.clone()).await, 200);
    let sent = until(
        "the reply at fake Resend",
        Duration::from_secs(20),
        async || {
            let a = Providers::shared().accepted(&key);
            (!a.is_empty()).then_some(a)
        },
    )
    .await;
    let id = only_conversation(&t, "email").await;
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(format!("Bearer {key}").as_str())
    );
    assert_eq!(
        sent[0].idempotency_key.as_deref(),
        Some(format!("out_{id}_2").as_str())
    );
    let b = sent[0].json();
    assert_eq!(b["to"], json!(["ana@customer.example"]));
    assert_eq!(b["from"], "Shop <support@shop.example>");
    assert_eq!(b["subject"], "Re: Returning a jacket");
    assert_eq!(b["headers"]["In-Reply-To"], "<e2e-m1@customer.example>");
    // The same event again: processed once.
    assert_eq!(post(svix("msg_e2e_1", now, &body), body.clone()).await, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(Providers::shared().accepted(&key).len(), 1);
}

#[tokio::test]
async fn a_voice_call_is_configured_answered_and_stored() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("voice"), "enterprise", None)
        .await;
    load_returns_doc(base, &t).await;
    configure(
        base,
        &t,
        json!({"voice": {"first_message": "Hello from the shop!"}}),
        &[("vapi_secret", "e2e-vapi-secret")],
    )
    .await;
    let vapi = async |secret: &str, message: Value| {
        let r = prism_e2e::http()
            .post(edge().url(&format!("/v1/webhooks/vapi/{}", t.id)))
            .header("x-vapi-secret", secret)
            .json(&json!({"message": message}))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let call_ = json!({"id": unique_slug("call"), "customer": {"number": "+15550002222"}});
    assert_eq!(
        vapi("nope", json!({"type": "assistant-request", "call": call_}))
            .await
            .0,
        401
    );
    let (s, a) = vapi(
        "e2e-vapi-secret",
        json!({"type": "assistant-request", "call": call_}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(a["assistant"]["firstMessage"], "Hello from the shop!");
    let (s, r) = vapi("e2e-vapi-secret", json!({"type": "tool-calls", "call": call_, "toolCallList": [{"id": "tc1", "type": "function", "function": {"name": "search_knowledge_base", "arguments": {"query": "How long do I have to return something?"}}}]})).await;
    assert_eq!(s, 200);
    assert!(
        r["results"][0]["result"]
            .as_str()
            .unwrap()
            .contains("Returns"),
        "{r}"
    );
    let report = json!({"type": "end-of-call-report", "call": call_, "endedReason": "customer-ended-call", "recordingUrl": "https://storage.vapi.ai/r.wav", "analysis": {"summary": "Asked about returns."}});
    assert_eq!(vapi("e2e-vapi-secret", report.clone()).await.0, 200);
    assert_eq!(vapi("e2e-vapi-secret", report).await.0, 200);
    let id = only_conversation(&t, "voice").await;
    let r = api
        .call(
            Method::Get,
            &format!("/v1/conversations/{id}/messages"),
            Some(&t.secret_key),
            None,
        )
        .await;
    let system: Vec<&Value> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"]["type"] == "system")
        .collect();
    assert_eq!(system.len(), 1);
    assert!(system[0]["text"]
        .as_str()
        .unwrap()
        .contains("Asked about returns."));
}

#[tokio::test]
async fn a_stripe_upgrade_raises_the_rate_limit_on_the_next_request() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api.create_tenant(&unique_slug("bill"), "free", None).await;
    let limit = async || {
        api.call(Method::Get, "/v1/tenant", Some(&t.secret_key), None)
            .await
            .header("ratelimit-limit")
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let free = limit().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let event = json!({"id": format!("evt_{}", unique_slug("e").replace('-', "_")), "object": "event", "type": "customer.subscription.updated", "created": now,
        "data": {"object": {"id": "sub_e2e", "object": "subscription", "status": "active", "metadata": {"tenant_id": t.id, "tier": "pro"}}}});
    let body = serde_json::to_vec(&event).unwrap();
    let post = async |secret: &str| {
        let sig = format!("t={now},v1={}", signatures::stripe_sign(secret, now, &body));
        prism_e2e::http()
            .post(edge().url("/v1/webhooks/stripe"))
            .header("stripe-signature", sig)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(post("whsec_forged").await, 401);
    assert_eq!(limit().await, free);
    assert_eq!(post(STRIPE_SECRET).await, 200);
    let pro = limit().await;
    assert!(pro > free, "pro {pro} > free {free}");
    let r = api
        .call(Method::Get, "/v1/tenant", Some(&t.secret_key), None)
        .await;
    assert_eq!(r.body["tenant"]["tier"], "pro");
}

#[tokio::test]
async fn spoken_replies_come_from_elevenlabs_once_then_from_the_cache() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("tts"), "enterprise", None)
        .await;
    let key = format!("xi-{}", unique_slug("k"));
    configure(
        base,
        &t,
        json!({"voice": {"first_message": "Hi!", "tts": {"voice_id": "e2eVoice1"}}}),
        &[("elevenlabs_api_key", &key)],
    )
    .await;
    let speak = async || {
        let r = prism_e2e::http()
            .post(edge().url("/v1/voice/speech"))
            .bearer_auth(&t.secret_key)
            .json(&json!({"text": "Thanks for calling!"}))
            .send()
            .await
            .unwrap();
        let (status, cache) = (
            r.status().as_u16(),
            r.headers()
                .get("x-cache")
                .map(|v| v.to_str().unwrap().to_string()),
        );
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (status, cache, ctype, r.bytes().await.unwrap().to_vec())
    };
    let (s1, c1, ct, audio1) = speak().await;
    assert_eq!(
        (s1, c1.as_deref(), ct.as_deref()),
        (200, Some("miss"), Some("audio/mpeg"))
    );
    assert!(audio1.starts_with(&[0xFF, 0xFB]) && audio1.ends_with(b"Thanks for calling!"));
    let (s2, c2, _, audio2) = speak().await;
    assert_eq!((s2, c2.as_deref()), (200, Some("hit")));
    assert_eq!(audio1, audio2);
    let calls = Providers::shared().calls(&key);
    assert_eq!(calls.len(), 1, "synthesised once");
    assert_eq!(calls[0].path, "/v1/text-to-speech/e2eVoice1");
    assert_eq!(calls[0].json()["model_id"], "eleven_flash_v2_5");
}

async fn surveys_on(t: &Tenant) {
    let r = Api::at(&edge().base)
        .call(
            Method::Put,
            "/v1/tenant/features/surveys",
            Some(&t.secret_key),
            Some(&json!({"enabled": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn resolve(t: &Tenant, id: &str) {
    let r = Api::at(&edge().base)
        .call(
            Method::Post,
            &format!("/v1/conversations/{id}/status"),
            Some(&t.secret_key),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn answered(t: &Tenant) -> Vec<Value> {
    let r = Api::at(&edge().base)
        .get("/v1/surveys/responses", &t.secret_key)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_sms_survey_goes_out_when_resolved_and_a_numeric_reply_answers_it_once() {
    let s = sms_tenant().await;
    surveys_on(&s.t).await;
    assert_eq!(sms_in(&s, "SM_sv_1", "Do you ship to Canada?").await.0, 200);
    until(
        "the answer at fake Twilio",
        Duration::from_secs(20),
        async || (!Providers::shared().accepted(&s.sid).is_empty()).then_some(()),
    )
    .await;
    let id = only_conversation(&s.t, "sms").await;
    resolve(&s.t, &id).await;
    // The survey leaves through the queue consumer, as one more message to the customer.
    let survey = until(
        "the survey at fake Twilio",
        Duration::from_secs(20),
        async || {
            let a = Providers::shared().accepted(&s.sid);
            (a.len() == 2).then(|| a[1].form("Body").unwrap())
        },
    )
    .await;
    assert!(
        survey.contains("Reply with a number from 1 to 5"),
        "{survey}"
    );
    assert_eq!(survey_in(&s, "SM_sv_2", "4 quick, thanks").await, 200);
    // Twilio retrying the same webhook changes nothing.
    assert_eq!(survey_in(&s, "SM_sv_2", "4 quick, thanks").await, 200);
    let thanks = until(
        "the thank-you at fake Twilio",
        Duration::from_secs(20),
        async || {
            let a = Providers::shared().accepted(&s.sid);
            (a.len() == 3).then(|| a[2].form("Body").unwrap())
        },
    )
    .await;
    assert!(thanks.contains("Thank you"), "{thanks}");
    let items = answered(&s.t).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["score"], 4);
    assert_eq!(items[0]["comment"], "quick, thanks");
    assert_eq!(items[0]["response_source"], "sms");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        Providers::shared().accepted(&s.sid).len(),
        3,
        "one thank-you"
    );
    let all = Api::at(&edge().base)
        .get("/v1/conversations?channel=sms", &s.t.secret_key)
        .await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        1,
        "the reply opened nothing"
    );
}

async fn survey_in(s: &Sms, sid: &str, body: &str) -> u16 {
    sms_in(s, sid, body).await.0
}

#[tokio::test]
async fn an_email_survey_links_to_a_page_on_the_edge_that_records_once() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("mail-sv"), "enterprise", None)
        .await;
    surveys_on(&t).await;
    let key = format!("re_{}", unique_slug("k").replace('-', "_"));
    // The survey link points at this edge (its public URL in production).
    configure(
        base,
        &t,
        json!({"public_base_url": base, "email": {"from_address": "support@shop.example"}}),
        &[
            ("resend_api_key", &key),
            ("resend_webhook_secret", SVIX_SECRET),
        ],
    )
    .await;
    let email_id = format!("em-{}", unique_slug("sv"));
    Providers::shared().receive_email(&email_id, json!({"object": "email", "id": email_id, "to": ["support@shop.example"], "from": "lu@customer.example", "subject": "Parcel", "text": "Where is my parcel?", "html": null, "headers": {"message-id": "<e2e-sv@customer.example>"}}));
    let event = json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {"email_id": email_id, "from": "Lu <lu@customer.example>", "to": ["support@shop.example"], "subject": "Parcel", "message_id": "<e2e-sv@customer.example>", "attachments": []}});
    let body = serde_json::to_vec(&event).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let status = prism_e2e::http()
        .post(edge().url(&format!("/v1/webhooks/resend/{}", t.id)))
        .header("content-type", "application/json")
        .header("svix-id", "msg_e2e_sv")
        .header("svix-timestamp", now.to_string())
        .header(
            "svix-signature",
            signatures::svix_sign(SVIX_SECRET, "msg_e2e_sv", now, &body).unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 200);
    let id = only_conversation(&t, "email").await;
    until(
        "the answer at fake Resend",
        Duration::from_secs(20),
        async || (!Providers::shared().accepted(&key).is_empty()).then_some(()),
    )
    .await;
    resolve(&t, &id).await;
    let mail = until("the survey email", Duration::from_secs(20), async || {
        let a = Providers::shared().accepted(&key);
        (a.len() == 2).then(|| a[1].json())
    })
    .await;
    assert_eq!(mail["to"], json!(["lu@customer.example"]));
    let text = mail["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/survey?t="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    assert!(link.starts_with(&format!("{base}/survey?t=")), "{link}");
    let token = link.split("t=").nth(1).unwrap();

    let page = prism_e2e::http().get(link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"q.csat\""), "{html}");
    assert!(
        answered(&t).await.is_empty(),
        "opening the page records nothing"
    );
    let post = async |form: &[(&str, &str)]| {
        let r = prism_e2e::http()
            .post(edge().url("/survey"))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (status, html) = post(&[("t", token), ("q.csat", "5"), ("q.comment", "Lovely")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Thank you"), "{html}");
    assert_eq!(post(&[("t", token), ("q.csat", "1")]).await.0, 200);
    let items = answered(&t).await;
    assert_eq!(
        (items.len(), items[0]["score"].as_i64()),
        (1, Some(5)),
        "{items:?}"
    );
    assert_eq!(items[0]["response_source"], "email");
    // A link whose signature was bent opens nothing.
    let bent = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(post(&[("t", &bent), ("q.csat", "1")]).await.0, 401);
}

#[tokio::test]
async fn the_deep_health_check_probes_d1_kv_every_durable_object_namespace_the_queue_and_providers()
{
    let url = edge().url("/health?deep=1");
    let anonymous = prism_e2e::http().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let r = prism_e2e::http()
        .get(&url)
        .bearer_auth(prism_e2e::ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["runtime"], "cloudflare", "{body}");
    for c in body["storage"].as_array().unwrap() {
        assert_eq!(
            (c["ok"].as_bool(), c["absent"].as_bool()),
            (Some(true), Some(false)),
            "{c}"
        );
    }
    // The fake Twilio and Resend answer; Gemini is out of reach from here and says so.
    let providers = body["providers"].as_array().unwrap();
    for name in ["twilio", "resend"] {
        let c = providers.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(c["ok"], true, "{c}");
    }
}

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x2d, 0x66, 0x54,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// An agent's file into a conversation (an API key's would be a system message, which no
/// channel carries).
async fn agent_file(t: &Tenant, id: &str, name: &str, bytes: &[u8]) -> Value {
    let (_, agent) = Api::at(&edge().base).user_with_role(t, "agent").await;
    let r = prism_e2e::http()
        .post(edge().url(&format!("/v1/conversations/{id}/files?name={name}")))
        .bearer_auth(agent)
        .header("idempotency-key", format!("agent-{name}"))
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json().await.unwrap()
}

/// The bytes a file link (on any base) serves from this edge.
async fn via_link(url: &str) -> (u16, Vec<u8>) {
    let path = &url[url.find("/v1/files/").unwrap()..];
    let r = prism_e2e::http()
        .get(edge().url(path))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_mms_photo_arrives_as_a_file_and_an_agents_file_leaves_as_mms_media() {
    let s = sms_tenant().await;
    let api = Api::at(&edge().base);
    let photo = Providers::shared().twilio_media(&s.sid, &s.token, "image/png", PNG);
    let svg =
        Providers::shared().twilio_media(&s.sid, &s.token, "image/svg+xml", b"<svg onload='x()'/>");
    let params = [
        ("MessageSid", "SMe2emedia0000000000000000000001"),
        ("AccountSid", s.sid.as_str()),
        ("From", "+15550002222"),
        ("To", "+15550009999"),
        ("Body", ""),
        ("NumMedia", "2"),
        ("MediaUrl0", photo.as_str()),
        ("MediaContentType0", "image/png"),
        ("MediaUrl1", svg.as_str()),
        ("MediaContentType1", "image/svg+xml"),
    ];
    let (status, _) = twilio_post(&s, &params, &s.token).await;
    assert_eq!(status, 200);
    let (status, _) = twilio_post(&s, &params, &s.token).await;
    assert_eq!(status, 200, "a retried webhook");
    let id = only_conversation(&s.t, "sms").await;
    let h = api
        .get(&format!("/v1/conversations/{id}/messages"), &s.t.secret_key)
        .await;
    let messages = h.body["messages"].as_array().unwrap().clone();
    assert_eq!(
        messages.len(),
        1,
        "stored once, and a bare photo is not answered: {messages:?}"
    );
    let m = &messages[0];
    assert_eq!(m["text"], "🖼 photo-1.png");
    let a = &m["meta"]["attachments"][0];
    assert_eq!(
        (a["kind"].as_str(), a["name"].as_str()),
        (Some("image"), Some("photo-1.png"))
    );
    assert_eq!(
        m["meta"]["unfetched"][0]["reason"],
        "unsupported_media_type"
    );
    // Fetched with the account's credentials.
    let media_calls: Vec<_> = Providers::shared()
        .calls("media")
        .into_iter()
        .filter(|c| c.path.contains(&s.sid))
        .collect();
    // The photo and the refused SVG, each fetched once (the retried webhook fetched nothing).
    assert_eq!(media_calls.len(), 2, "{media_calls:?}");
    assert!(media_calls.iter().all(|c| c
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic "))));
    // The agent opens it.
    let link = api
        .get(
            &format!("/v1/conversations/{id}/files/{}", a["id"].as_str().unwrap()),
            &s.t.secret_key,
        )
        .await;
    assert_eq!(
        via_link(link.body["url"].as_str().unwrap()).await,
        (200, PNG.to_vec())
    );

    // An agent's PDF goes out as MMS media Twilio can fetch.
    agent_file(&s.t, &id, "label.pdf", PDF).await;
    let sent = until(
        "the MMS at fake Twilio",
        Duration::from_secs(20),
        async || {
            let a = Providers::shared().accepted(&s.sid);
            a.into_iter().find(|c| c.form("MediaUrl").is_some())
        },
    )
    .await;
    let media = sent.form("MediaUrl").unwrap();
    assert!(media.starts_with(&format!("{PUBLIC}/v1/files/")), "{media}");
    assert_eq!(sent.form("Body").as_deref(), Some("📎 label.pdf"));
    assert_eq!(via_link(&media).await, (200, PDF.to_vec()));
}

#[tokio::test]
async fn an_emails_attachment_arrives_as_a_file_and_an_agents_file_leaves_attached() {
    let base = &edge().base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("mailfile"), "enterprise", None)
        .await;
    load_returns_doc(base, &t).await;
    let key = format!("re_{}", unique_slug("k").replace('-', "_"));
    configure(
        base,
        &t,
        json!({"email": {"from_address": "support@shop.example", "from_name": "Shop"}}),
        &[
            ("resend_api_key", &key),
            ("resend_webhook_secret", SVIX_SECRET),
        ],
    )
    .await;
    let email_id = format!("em-{}", unique_slug("att"));
    Providers::shared().receive_email(&email_id, json!({"object": "email", "id": email_id, "to": ["support@shop.example"], "from": "bo@customer.example", "subject": "My receipt", "text": "Here is my receipt. How long do I have to return something?", "html": null, "headers": {"message-id": "<e2e-att@customer.example>"}}));
    Providers::shared().email_attachment(&email_id, "att-1", "receipt.pdf", "application/pdf", PDF);
    let event = json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {"email_id": email_id, "from": "Bo <bo@customer.example>", "to": ["support@shop.example"], "subject": "My receipt", "message_id": "<e2e-att@customer.example>", "attachments": [{"id": "att-1", "filename": "receipt.pdf", "content_type": "application/pdf", "content_disposition": "attachment"}]}});
    let body = serde_json::to_vec(&event).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let r = prism_e2e::http()
        .post(edge().url(&format!("/v1/webhooks/resend/{}", t.id)))
        .header("content-type", "application/json")
        .header("svix-id", "msg_e2e_att")
        .header("svix-timestamp", now.to_string())
        .header(
            "svix-signature",
            signatures::svix_sign(SVIX_SECRET, "msg_e2e_att", now, &body).unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let id = only_conversation(&t, "email").await;
    let h = api
        .get(&format!("/v1/conversations/{id}/messages"), &t.secret_key)
        .await;
    let first = &h.body["messages"][0];
    assert_eq!(
        first["text"],
        "Here is my receipt. How long do I have to return something?"
    );
    let a = &first["meta"]["attachments"][0];
    assert_eq!(
        (a["name"].as_str(), a["kind"].as_str()),
        (Some("receipt.pdf"), Some("pdf"))
    );
    let link = api
        .get(
            &format!("/v1/conversations/{id}/files/{}", a["id"].as_str().unwrap()),
            &t.secret_key,
        )
        .await;
    assert_eq!(
        via_link(link.body["url"].as_str().unwrap()).await,
        (200, PDF.to_vec())
    );
    // A question came with it: the AI answered by email.
    until(
        "the answer at fake Resend",
        Duration::from_secs(20),
        async || (!Providers::shared().accepted(&key).is_empty()).then_some(()),
    )
    .await;

    // An agent's image goes out attached to the email reply.
    agent_file(&t, &id, "label.png", PNG).await;
    let sent = until(
        "the email with the file",
        Duration::from_secs(20),
        async || {
            Providers::shared()
                .accepted(&key)
                .into_iter()
                .find(|c| c.json()["attachments"].is_array())
        },
    )
    .await;
    let att = &sent.json()["attachments"][0];
    assert_eq!(att["filename"], "label.png");
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD
        .decode(att["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, PNG);
}
