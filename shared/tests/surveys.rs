//! Satisfaction surveys (issue 18) natively, through the real pipeline: sent when a conversation
//! is resolved (flag, channel, sampling, cool-down, delay, reopened before the delay), answered
//! once from the widget, by SMS reply and from the email link's page, announced as
//! `survey.responded`, counted in the results by channel, agent and day, exported as CSV, and
//! part of a person's export and erasure.

mod common;

use common::{inbound_sms, resend_request, Api, TestTenant, ORIGIN, SVIX_SECRET, TOKEN};
use prism_core::http::{Method, Request, Response};
use prism_core::ports::SqlDatabase;
use prism_core::testing::{ScriptedHttp, TEST_ADMIN_SECRET};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const CUSTOMER: &str = "+15550002222";

fn flag(api: &Api, t: &TestTenant, on: bool) {
    api.set_flag(t, "surveys", on);
}

/// Changes the tenant config with `edit`.
fn configure(api: &Api, t: &TestTenant, edit: impl FnOnce(&mut Value)) {
    let r = api.edit_config(t, edit);
    assert_eq!(r.status, 200, "{}", r.body);
}

fn secret(api: &Api, t: &TestTenant, name: &str, value: &str) {
    let r = api.call(
        Method::Put,
        &format!("/v1/tenant/secrets/{name}"),
        Some(&t.secret_key),
        Some(json!({"value": value})),
    );
    assert_eq!(r.status, 204, "{}", r.body);
}

fn resolve(api: &Api, t: &TestTenant, conv: &str) {
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/status"),
        Some(&t.secret_key),
        Some(json!({"status": "resolved"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn say(api: &Api, token: &str, conv: &str, text: &str, id: &str) {
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/messages"),
        Some(token),
        Some(json!({"text": text, "client_msg_id": id})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn count(api: &Api, sql: &str) -> i64 {
    let rows = futures::executor::block_on(api.rig.db.query(sql, &[])).unwrap();
    rows[0].int("n").unwrap()
}

/// A call with the tenant's public key from its site, as the widget makes it.
fn widget(
    api: &Api,
    t: &TestTenant,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> common::Reply {
    let mut req = Api::req(method, path, Some(&t.public_key), body.as_ref());
    req.headers.append("origin", ORIGIN);
    api.send(req)
}

fn visitor(api: &Api, t: &TestTenant) -> String {
    let r = widget(api, t, Method::Post, "/v1/widget/identify", Some(json!({})));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// A captured webhook endpoint for survey events.
fn hooks(api: &mut Api, t: &TestTenant) -> Rc<RefCell<Vec<Value>>> {
    let got: Rc<RefCell<Vec<Value>>> = Rc::default();
    let g = got.clone();
    *api.rig.http.borrow_mut() = Some(ScriptedHttp::new(move |req, _| {
        g.borrow_mut()
            .push(serde_json::from_slice(&req.body).unwrap_or(Value::Null));
        Response::new(204)
    }));
    let r = api.call(
        Method::Post,
        "/v1/webhooks/endpoints",
        Some(&t.secret_key),
        Some(
            json!({"url": "https://hooks.tenant.example/surveys", "events": ["survey.responded"]}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    got
}

#[test]
fn a_widget_customer_answers_the_survey_once_and_the_tenant_sees_it_everywhere() {
    let mut api = Api::new();
    let t = api.create_tenant("survey-web", "pro", None);
    let got = hooks(&mut api, &t);
    flag(&api, &t, true);
    let (agent, _) = api.user_with_role(&t, "agent");
    let agent_token = api.token_for(&t, &agent);
    let (conv, token, _) = api.start_conversation(&t, json!({"name": "Ana", "language": "es"}));
    say(&api, &token, &conv, "¿Dónde está mi pedido?", "m1");
    // No survey before the conversation is resolved.
    let before = api.get(&format!("/v1/conversations/{conv}/survey"), &token);
    assert_eq!(before.status, 404, "{}", before.body);
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/messages"),
        Some(&agent_token),
        Some(json!({"text": "Sale mañana.", "client_msg_id": "a1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    resolve(&api, &t, &conv);

    let s = api.get(&format!("/v1/conversations/{conv}/survey"), &token);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["status"], "sent");
    assert_eq!(
        s.body["intro"], "¿Cómo lo hicimos?",
        "in the customer's language"
    );
    assert_eq!(s.body["questions"][0]["kind"], "csat");
    assert_eq!(
        (
            s.body["questions"][0]["min"].as_i64(),
            s.body["questions"][0]["max"].as_i64()
        ),
        (Some(1), Some(5))
    );

    // Out of range, unknown question: 422 naming it; nothing recorded.
    for bad in [json!({"csat": 6}), json!({"nope": 3})] {
        let r = api.call(
            Method::Post,
            &format!("/v1/conversations/{conv}/survey"),
            Some(&token),
            Some(json!({ "answers": bad })),
        );
        assert_eq!(r.status, 422, "{}", r.body);
    }
    // Another customer's token, and the tenant's key, cannot answer it.
    let (_, other_token, _) = api.start_conversation(&t, json!({}));
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&other_token),
        Some(json!({"answers": {"csat": 1}})),
    );
    assert!(
        matches!(r.status, 401 | 403 | 404),
        "{} {}",
        r.status,
        r.body
    );
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&t.secret_key),
        Some(json!({"answers": {"csat": 1}})),
    );
    assert!(matches!(r.status, 401 | 403), "{} {}", r.status, r.body);

    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&token),
        Some(json!({"answers": {"csat": 4, "comment": "Rápido, pero=1+1 en CSV"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["duplicate"], false);
    assert_eq!(r.body["status"], "responded");
    // A double click with another answer changes nothing.
    let again = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&token),
        Some(json!({"answers": {"csat": 1}})),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["answers"]["csat"], 4);

    // Announced once, with the agents involved.
    let events: Vec<Value> = got
        .borrow()
        .iter()
        .filter(|e| e["type"] == "survey.responded")
        .cloned()
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["survey"]["score"], 4);
    assert_eq!(events[0]["data"]["survey"]["agent_ids"], json!([agent]));

    // Results: one sent, one answered, CSAT 4 (satisfied), credited to the agent and the channel.
    let res = api.get("/v1/surveys/results?days=7", &t.secret_key);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        (res.body["sent"].as_i64(), res.body["responded"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(res.body["response_rate"], 100.0);
    assert_eq!(res.body["scores"][0]["kind"], "csat");
    assert_eq!(res.body["scores"][0]["average"], 4.0);
    assert_eq!(res.body["scores"][0]["positive_percent"], 100.0);
    assert_eq!(res.body["by_channel"][0]["key"], "web");
    assert_eq!(res.body["by_agent"][0]["key"], agent.as_str());
    assert_eq!(res.body["by_day"].as_array().unwrap().len(), 1);
    let today = prism_core::time::rfc3339(api.rig.clock_now());
    assert_eq!(res.body["by_day"][0]["key"].as_str(), Some(&today[..10]));
    let other_agent = api.get("/v1/surveys/results?agent_id=usr_nobody", &t.secret_key);
    assert_eq!(other_agent.body["sent"], 0);

    let list = api.get(
        &format!("/v1/surveys/responses?conversation_id={conv}"),
        &t.secret_key,
    );
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["items"][0]["comment"], "Rápido, pero=1+1 en CSV");
    assert_eq!(list.body["items"][0]["response_source"], "widget");
    let csv = api.send(Api::req(
        Method::Get,
        "/v1/surveys/responses/export",
        Some(&t.secret_key),
        None,
    ));
    assert_eq!(csv.resp.status, 200);
    let text = String::from_utf8(csv.resp.body.as_bytes().to_vec()).unwrap();
    assert!(text.starts_with("id,conversation_id"), "{text}");
    assert!(text.contains(",csat,4,"), "{text}");

    // The person's export carries the survey; erasure takes its words and keeps the score.
    let customer = list.body["items"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let export = api.get(&format!("/v1/customers/{customer}/export"), &t.secret_key);
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(export.body["conversations"][0]["surveys"][0]["score"], 4);
    let r = api.call(
        Method::Post,
        &format!("/v1/customers/{customer}/erase"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        count(&api, "SELECT COUNT(*) AS n FROM surveys WHERE comment IS NOT NULL OR answers LIKE '%pido%' OR answers LIKE '%CSV%'"),
        0
    );
    assert_eq!(
        count(&api, "SELECT COUNT(*) AS n FROM surveys WHERE score = 4"),
        1
    );
}

#[test]
fn flag_channel_sampling_cool_down_and_delay_decide_who_is_asked() {
    let api = Api::new();
    let t = api.create_tenant("survey-rules", "pro", None);
    // Flag off (the default): nothing.
    let (c0, tok0, _) = api.start_conversation(&t, json!({}));
    say(&api, &tok0, &c0, "hello", "m1");
    resolve(&api, &t, &c0);
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM surveys"), 0);
    assert_eq!(
        api.get(&format!("/v1/conversations/{c0}/survey"), &tok0)
            .status,
        404
    );
    let r = api.get("/v1/surveys/results", &t.secret_key);
    assert_eq!(r.status, 403, "{}", r.body);
    let s = widget(&api, &t, Method::Get, "/v1/widget/settings", None);
    assert_eq!(s.body["surveys"], false, "{}", s.body);

    flag(&api, &t, true);
    assert_eq!(
        widget(&api, &t, Method::Get, "/v1/widget/settings", None).body["surveys"],
        true
    );
    configure(&api, &t, |c| {
        c["surveys"] = json!({"expires_hours": 1, "trigger": {"delay_minutes": 30, "cooldown_days": 7, "channels": ["web"], "sample_percent": 100}});
    });
    // API conversations are not surveyed (not in the channels).
    let (ca, toka, _) = api.start_conversation(&t, json!({"channel": "api"}));
    say(&api, &toka, &ca, "hello", "m1");
    resolve(&api, &t, &ca);
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM surveys"), 0);

    let vis = visitor(&api, &t);
    let (c1, tok1, _) = api.start_conversation(&t, json!({"visitor_id": vis}));
    say(&api, &tok1, &c1, "hello", "m1");
    resolve(&api, &t, &c1);
    assert_eq!(
        count(
            &api,
            "SELECT COUNT(*) AS n FROM surveys WHERE status = 'scheduled'"
        ),
        1
    );
    assert_eq!(
        api.get(&format!("/v1/conversations/{c1}/survey"), &tok1)
            .status,
        404,
        "not before its delay"
    );
    // Same person again within the cool-down: not asked twice.
    let (c2, tok2, _) = api.start_conversation(&t, json!({"visitor_id": vis}));
    say(&api, &tok2, &c2, "again", "m1");
    resolve(&api, &t, &c2);
    assert_eq!(count(&api, "SELECT COUNT(*) AS n FROM surveys"), 1);
    // Someone else resolves, then writes again before the delay: their survey is withdrawn.
    let (c3, tok3, _) = api.start_conversation(&t, json!({}));
    say(&api, &tok3, &c3, "hi", "m1");
    resolve(&api, &t, &c3);
    say(&api, &tok3, &c3, "one more thing", "m2");

    api.rig.clock.advance(31 * 60_000);
    let r = api.call(
        Method::Post,
        "/v1/platform/outbound/sweep",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["surveys_sent"], 2);
    let s = api.get(&format!("/v1/conversations/{c1}/survey"), &tok1);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(
        count(
            &api,
            "SELECT COUNT(*) AS n FROM surveys WHERE status = 'cancelled'"
        ),
        1
    );
    assert_eq!(
        api.get(&format!("/v1/conversations/{c3}/survey"), &tok3)
            .status,
        404
    );

    // Past the answer window (an hour after sending here): expired, and answers are refused.
    api.rig.clock.advance(61 * 60_000);
    let s = api.get(&format!("/v1/conversations/{c1}/survey"), &tok1);
    assert_eq!(s.body["status"], "expired");
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{c1}/survey"),
        Some(&tok1),
        Some(json!({"answers": {"csat": 5}})),
    );
    assert_eq!(r.status, 409, "{}", r.body);

    // Sampling at 0 %: nobody.
    configure(&api, &t, |c| {
        c["surveys"]["trigger"] = json!({"sample_percent": 0})
    });
    let (c4, tok4, _) = api.start_conversation(&t, json!({}));
    say(&api, &tok4, &c4, "hi", "m1");
    resolve(&api, &t, &c4);
    assert_eq!(
        count(
            &api,
            &format!("SELECT COUNT(*) AS n FROM surveys WHERE conversation_id = '{c4}'")
        ),
        0
    );
}

#[test]
fn custom_templates_are_validated_and_sent_as_they_were() {
    let api = Api::new();
    let t = api.create_tenant("survey-nps", "pro", None);
    flag(&api, &t, true);
    // A choice question without options is refused, naming the field.
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    c["surveys"] = json!({"templates": [{"id": "nps", "questions": [{"id": "why", "kind": "choice", "text": {"en": "Why?"}}]}]});
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .to_string()
            .contains("surveys.templates[0].questions[0].options"),
        "{}",
        r.body
    );
    configure(&api, &t, |c| {
        c["surveys"] = json!({"templates": [{"id": "nps", "intro": {"en": "Quick question"}, "questions": [
            {"id": "nps", "kind": "nps", "text": {"en": "How likely are you to recommend us?"}, "required": true},
            {"id": "topic", "kind": "choice", "text": {"en": "What was it about?"}, "options": [
                {"id": "order", "label": {"en": "An order"}}, {"id": "other", "label": {"en": "Something else"}}]}
        ]}]});
    });
    let (conv, token, _) = api.start_conversation(&t, json!({}));
    say(&api, &token, &conv, "hi", "m1");
    resolve(&api, &t, &conv);
    // The template changes after sending: the survey keeps the one it was sent with.
    configure(&api, &t, |c| c["surveys"] = json!({}));
    let s = api.get(&format!("/v1/conversations/{conv}/survey"), &token);
    assert_eq!(s.body["intro"], "Quick question");
    assert_eq!(s.body["questions"][0]["max"], 10);
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&token),
        Some(json!({"answers": {"topic": "order"}})),
    );
    assert_eq!(r.status, 422, "the required NPS is missing: {}", r.body);
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/survey"),
        Some(&token),
        Some(json!({"answers": {"nps": 9, "topic": "order"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let res = api.get("/v1/surveys/results", &t.secret_key);
    assert_eq!(res.body["scores"][0]["kind"], "nps");
    assert_eq!(res.body["scores"][0]["nps"], 100.0, "one promoter");
}

/// A fake Twilio and Resend recording what is sent.
fn providers(api: &mut Api) -> Rc<RefCell<Vec<Request>>> {
    api.rig.config.set("twilio_base_url", "https://twilio.test");
    api.rig.config.set("resend_base_url", "https://resend.test");
    let sent: Rc<RefCell<Vec<Request>>> = Rc::default();
    let s = sent.clone();
    *api.rig.http.borrow_mut() = Some(ScriptedHttp::new(move |req, n| {
        s.borrow_mut().push(req.clone());
        match req.path.as_str() {
            "/emails" => Response::json(200, &json!({"id": format!("em_out_{n}")})),
            p if p.starts_with("/emails/receiving/") => Response::json(
                200,
                &json!({"object": "email", "id": "em_in_1", "text": "Where is my parcel?", "headers": {"message-id": "<s1@customer.example>"}}),
            ),
            _ => Response::json(
                201,
                &json!({"sid": format!("SM{n:032}"), "status": "queued"}),
            ),
        }
    }));
    sent
}

fn sms_bodies(sent: &Rc<RefCell<Vec<Request>>>) -> Vec<String> {
    sent.borrow()
        .iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .filter_map(|r| {
            url::form_urlencoded::parse(&r.body)
                .find(|(k, _)| k == "Body")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

#[test]
fn an_sms_customer_answers_by_replying_with_a_number() {
    let mut api = Api::new();
    let sent = providers(&mut api);
    let t = api.create_tenant("survey-sms", "pro", None);
    flag(&api, &t, true);
    secret(&api, &t, "twilio_auth_token", TOKEN);
    configure(&api, &t, |c| {
        c["channels"] = json!({"twilio": {"account_sid": common::SID, "sms_from": "+15550009999"}});
    });
    let r = api.send(inbound_sms(&t, "SM1", CUSTOMER, "Where is my order?"));
    assert_eq!(r.status, 200, "{}", r.body);
    let convs = api.get("/v1/conversations?channel=sms", &t.secret_key);
    let conv = convs.body["items"][0]["id"].as_str().unwrap().to_string();
    resolve(&api, &t, &conv);
    let bodies = sms_bodies(&sent);
    let survey = bodies.last().unwrap();
    assert!(
        survey.contains("Reply with a number from 1 to 5"),
        "{bodies:?}"
    );

    // "5 great service": the answer and a comment; thanked; no new conversation.
    let r = api.send(inbound_sms(&t, "SM2", CUSTOMER, "5 great service"));
    assert_eq!(r.status, 200, "{}", r.body);
    // Twilio retrying the same webhook records nothing twice.
    let r = api.send(inbound_sms(&t, "SM2", CUSTOMER, "5 great service"));
    assert_eq!(r.status, 200, "{}", r.body);
    let list = api.get("/v1/surveys/responses", &t.secret_key);
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        list.body
    );
    let s = &list.body["items"][0];
    assert_eq!(
        (s["score"].as_i64(), s["comment"].as_str()),
        (Some(5), Some("great service"))
    );
    assert_eq!(s["response_source"], "sms");
    assert!(
        sms_bodies(&sent).last().unwrap().contains("Thank you"),
        "{:?}",
        sms_bodies(&sent)
    );
    assert_eq!(
        api.get("/v1/conversations?channel=sms", &t.secret_key).body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The next message is a message again: a new conversation.
    let r = api.send(inbound_sms(
        &t,
        "SM3",
        CUSTOMER,
        "4 more things: where is my refund?",
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api.get("/v1/conversations?channel=sms", &t.secret_key).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A customer who sent STOP gets no survey text.
    let other = "+15550003333";
    api.send(inbound_sms(&t, "SM4", other, "Do you ship to Canada?"));
    api.send(inbound_sms(&t, "SM5", other, "STOP"));
    let convs = api.get("/v1/conversations?channel=sms&status=open", &t.secret_key);
    let before = sms_bodies(&sent).len();
    for c in convs.body["items"].as_array().unwrap() {
        resolve(&api, &t, c["id"].as_str().unwrap());
    }
    assert_eq!(
        sms_bodies(&sent).len(),
        before,
        "nothing sent to an opted-out number"
    );
}

#[test]
fn an_email_customer_answers_on_the_linked_page_and_the_link_cannot_be_bent() {
    let mut api = Api::new();
    let sent = providers(&mut api);
    let t = api.create_tenant("survey-mail", "pro", None);
    flag(&api, &t, true);
    secret(&api, &t, "resend_api_key", "re_test_key");
    secret(&api, &t, "resend_webhook_secret", SVIX_SECRET);
    configure(&api, &t, |c| {
        c["channels"] = json!({"email": {"from_address": "support@shop.example"}, "public_base_url": "https://edge.shop.example"});
    });
    let event = json!({"type": "email.received", "created_at": "2026-11-25T10:00:00.000Z", "data": {
        "email_id": "em_in_1", "created_at": "2026-11-25T10:00:00.000Z", "from": "Lu <lu@customer.example>",
        "to": ["support@shop.example"], "cc": [], "bcc": [], "message_id": "<s1@customer.example>", "subject": "Parcel", "attachments": []}});
    let r = api.send(resend_request(&api, &t, "msg_1", &event, 0));
    assert_eq!(r.status, 200, "{}", r.body);
    let convs = api.get("/v1/conversations?channel=email", &t.secret_key);
    let conv = convs.body["items"][0]["id"].as_str().unwrap().to_string();
    resolve(&api, &t, &conv);
    let mail: Value = sent
        .borrow()
        .iter()
        .rev()
        .find(|r| r.path == "/emails")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .unwrap();
    let text = mail["text"].as_str().unwrap().to_string();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://edge.shop.example/survey?t="))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_string();
    let token = link.split("t=").nth(1).unwrap().to_string();

    let page = |path: &str| {
        let r = api.send(Api::req(Method::Get, path, None, None));
        (
            r.resp.status,
            String::from_utf8(r.resp.body.as_bytes().to_vec()).unwrap(),
            r.resp,
        )
    };
    let (status, html, resp) = page(&format!("/survey?t={token}"));
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("How satisfied are you") && html.contains("name=\"q.csat\""),
        "{html}"
    );
    assert!(resp
        .headers
        .get("content-security-policy")
        .unwrap()
        .contains("form-action 'self'"));
    assert_eq!(
        count(
            &api,
            "SELECT COUNT(*) AS n FROM surveys WHERE status = 'responded'"
        ),
        0,
        "opening records nothing"
    );

    let post = |body: String| {
        let mut req = Request::new(Method::Post, "https://api.test/survey");
        req.headers
            .append("content-type", "application/x-www-form-urlencoded");
        req.body = body.into_bytes();
        let r = api.send(req);
        (
            r.resp.status,
            String::from_utf8(r.resp.body.as_bytes().to_vec()).unwrap(),
        )
    };
    // A bad answer shows the form again with the reason.
    let (status, html) = post(format!("t={token}&q.csat=9"));
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("a whole number from 1 to 5") && html.contains("<form"),
        "{html}"
    );
    let (status, html) = post(format!("t={token}&q.csat=2&q.comment=Too+slow"));
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Thank you"), "{html}");
    let (status, _) = post(format!("t={token}&q.csat=5"));
    assert_eq!(status, 200, "a second submit is thanked, not recorded");
    let list = api.get("/v1/surveys/responses", &t.secret_key);
    assert_eq!(list.body["items"][0]["score"], 2);
    assert_eq!(list.body["items"][0]["comment"], "Too slow");
    assert_eq!(list.body["items"][0]["response_source"], "email");

    // A forged token, another audience's token, an expired link.
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(page(&format!("/survey?t={forged}")).0, 401);
    let (_, conv_token, _) = api.start_conversation(&t, json!({}));
    assert_eq!(post(format!("t={conv_token}&q.csat=5")).0, 401);
    api.rig.clock.advance(73 * 3_600_000);
    let (status, html, _) = page(&format!("/survey?t={token}"));
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("no longer available"), "{html}");
}

#[test]
fn a_whatsapp_customer_answers_the_same_way() {
    let mut api = Api::new();
    let sent = providers(&mut api);
    let t = api.create_tenant("survey-wa", "pro", None);
    flag(&api, &t, true);
    secret(&api, &t, "twilio_auth_token", TOKEN);
    configure(&api, &t, |c| {
        c["channels"] = json!({"twilio": {"account_sid": common::SID, "sms_from": "+15550009999", "whatsapp_from": "whatsapp:+15550008888", "whatsapp_template_sid": "HX0123"}});
    });
    let from = "whatsapp:+15550004444";
    assert_eq!(
        api.send(inbound_sms(&t, "WA1", from, "Hola, ¿dónde está mi pedido?"))
            .status,
        200
    );
    let conv = api
        .get("/v1/conversations?channel=whatsapp", &t.secret_key)
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    resolve(&api, &t, &conv);
    let to_whatsapp: Vec<(String, String)> = sent
        .borrow()
        .iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .map(|r| {
            let f: Vec<(String, String)> =
                url::form_urlencoded::parse(&r.body).into_owned().collect();
            let get = |k: &str| {
                f.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (get("To"), get("Body"))
        })
        .collect();
    let (to, body) = to_whatsapp.last().unwrap();
    assert_eq!(to, from);
    assert!(
        body.contains("Responde con un número del 1 al 5"),
        "in the customer's language: {to_whatsapp:?}"
    );
    assert_eq!(
        api.send(inbound_sms(&t, "WA2", from, "5 ¡genial!")).status,
        200
    );
    let s = &api.get("/v1/surveys/responses", &t.secret_key).body["items"][0];
    assert_eq!(
        (
            s["score"].as_i64(),
            s["comment"].as_str(),
            s["response_source"].as_str()
        ),
        (Some(5), Some("¡genial!"), Some("whatsapp"))
    );
}
