//! Leads (issue 19): captured from what a customer writes (patterns, buying intent), merged per
//! person, scored with reasons, qualified and routed to a sales agent who is told by email,
//! moved through stages with a history, announced to webhook endpoints, exported as CSV,
//! gated by the `leads` flag, and part of a person's export and erasure.

mod common;

use common::{Api, TestTenant};
use prism_core::http::{Method, Response};
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

const HOOK: &str = "https://hooks.tenant.example/crm";

struct World {
    api: Api,
    t: TestTenant,
    hooks: Rc<RefCell<Vec<Value>>>,
    mails: Rc<RefCell<Vec<Value>>>,
    sales: String,
}

/// A tenant with a sales agent, a webhook endpoint for lead events and a platform mail sender.
fn world() -> World {
    let mut api = Api::new();
    api.rig.config.set("resend_api_key", "re_platform_test_key");
    api.rig
        .config
        .set("email_from", "PrismAI <no-reply@prism.example>");
    let hooks: Rc<RefCell<Vec<Value>>> = Rc::default();
    let mails: Rc<RefCell<Vec<Value>>> = Rc::default();
    let (h, m) = (hooks.clone(), mails.clone());
    let http = ScriptedHttp::new(move |req, _| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        if req.path == "/emails" {
            m.borrow_mut().push(body);
            return Response::json(200, &json!({"id": "4ef9a417-02e9-4d39-ad75-9611cb4ff2a1"}));
        }
        h.borrow_mut().push(body);
        Response::new(204)
    });
    *api.rig.http.borrow_mut() = Some(http);
    let t = api.create_tenant("leads", "pro", None);
    let (sales, _) = api.user_with_role(&t, "agent");
    let r = api.call(
        Method::Patch,
        &format!("/v1/users/{sales}"),
        Some(&t.secret_key),
        Some(json!({"skills": ["sales"]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.call(
        Method::Post,
        "/v1/webhooks/endpoints",
        Some(&t.secret_key),
        Some(json!({"url": HOOK, "events": ["lead.created", "lead.stage_changed"]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    World {
        api,
        t,
        hooks,
        mails,
        sales,
    }
}

fn say(api: &Api, t: &TestTenant, start: Value, text: &str) -> String {
    let (conv, token, _) = api.start_conversation(t, start);
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/messages"),
        Some(&token),
        Some(json!({"text": text, "client_msg_id": "m1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    conv
}

fn leads(api: &Api, t: &TestTenant) -> Vec<Value> {
    let r = api.get("/v1/leads", &t.secret_key);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[test]
fn a_customer_who_leaves_details_and_asks_for_a_quote_becomes_a_qualified_routed_lead() {
    let w = world();
    let (api, t) = (&w.api, &w.t);
    say(
        api,
        t,
        json!({"name": "Dana Scully"}),
        "Hi, can I get a quote for 40 chairs? Reach me at Dana@Corp.example or +44 20 7946 0958",
    );
    let all = leads(api, t);
    assert_eq!(all.len(), 1, "{all:?}");
    let lead = &all[0];
    assert_eq!(lead["email"], "dana@corp.example");
    assert_eq!(lead["phone"], "+442079460958");
    assert_eq!(lead["name"], "Dana Scully");
    assert_eq!(lead["intent"], "purchase");
    assert_eq!(lead["source"], "conversation");
    assert_eq!(lead["channel"], "web");
    // email 20 + phone 15 + intent 25 (+ name gives nothing by default), every point explained.
    assert_eq!(lead["score"], 60, "{lead}");
    let reasons: i64 = lead["score_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["points"].as_i64().unwrap())
        .sum();
    assert_eq!(reasons, 60);
    // Over the default threshold (50): qualified and routed to the sales agent, who is told.
    assert_eq!(lead["stage"], "qualified");
    assert_eq!(lead["owner_id"], w.sales.as_str());
    let mails: Vec<Value> = w
        .mails
        .borrow()
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with("New lead"))
        .cloned()
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["to"][0], "agent-1@leads.example");
    assert!(
        mails[0]["subject"]
            .as_str()
            .unwrap()
            .contains("Dana Scully"),
        "{mails:?}"
    );
    // History and events: created, then qualified by the system.
    let id = lead["id"].as_str().unwrap();
    let d = api.get(&format!("/v1/leads/{id}"), &t.secret_key);
    let history: Vec<(Value, Value)> = d.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["to"].clone(), h["by"].clone()))
        .collect();
    assert_eq!(
        history,
        vec![
            (json!("new"), json!("system")),
            (json!("qualified"), json!("system"))
        ]
    );
    let hooks = w.hooks.borrow().clone();
    let types: Vec<&str> = hooks.iter().map(|h| h["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["lead.created", "lead.stage_changed"],
        "{hooks:?}"
    );
    assert_eq!(
        hooks[1]["data"]["stage"],
        json!({"from": "new", "to": "qualified"})
    );
    assert_eq!(hooks[1]["data"]["lead"]["id"], id);

    // The same person on another conversation (same email) merges into the same lead.
    say(
        api,
        t,
        json!({"name": "D. Scully", "email": "dana@corp.example"}),
        "Also, do you deliver to Leeds? dana@corp.example",
    );
    assert_eq!(leads(api, t).len(), 1);

    // An agent moves it on; a viewer cannot.
    let (_, viewer) = api.user_with_role(t, "viewer");
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{id}"),
        Some(&viewer),
        Some(json!({"stage": "contacted"})),
    );
    assert_eq!(r.status, 403);
    let agent = api.token_for(t, &w.sales);
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{id}"),
        Some(&agent),
        Some(json!({"stage": "contacted", "company": "FBI"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["stage"], "contacted");
    assert_eq!(r.body["company"], "FBI");
    assert_eq!(r.body["score"], 70, "company adds 10: {}", r.body);
    let last = r.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["from"], "qualified");
    assert_eq!(last["by"], format!("user:{}", w.sales));
    assert_eq!(
        w.hooks.borrow().last().unwrap()["data"]["stage"],
        json!({"from": "qualified", "to": "contacted"})
    );
    // Filters.
    assert_eq!(
        api.get("/v1/leads?stage=contacted", &t.secret_key).body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        api.get("/v1/leads?stage=won", &t.secret_key).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        api.get("/v1/leads?min_score=71", &t.secret_key).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(api.get("/v1/leads?stage=bogus", &t.secret_key).status, 422);
}

#[test]
fn plain_questions_make_no_lead_and_the_flag_turns_leads_off() {
    let w = world();
    let (api, t) = (&w.api, &w.t);
    say(
        api,
        t,
        json!({"name": "Q"}),
        "How long does shipping take? My order 12345678 is late.",
    );
    assert!(leads(api, t).is_empty());
    api.set_flag(t, "leads", false);
    say(api, t, json!({"name": "R"}), "Quote please: r@corp.example");
    let r = api.get("/v1/leads", &t.secret_key);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM leads"), 0);
}

#[test]
fn api_leads_territories_csv_and_isolation() {
    let w = world();
    let (api, t) = (&w.api, &w.t);
    let (berlin, _) = api.user_with_role(t, "agent");
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    c["leads"]["territories"] = json!([{"match": "+49", "owner_id": berlin}]);
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (conv, _, started) = api.start_conversation(t, json!({"name": "Hans"}));
    let _ = conv;
    let customer = started["conversation"]["customer_id"].as_str().unwrap();
    let r = api.call(
        Method::Post,
        "/v1/leads",
        Some(&t.secret_key),
        Some(json!({"customer_id": customer, "email": "hans@firma.example", "phone": "+49 30 1234567", "company": "=cmd|' /C calc'!A0"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["score"], 45);
    assert_eq!(r.body["stage"], "new", "45 is under the threshold");
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{id}"),
        Some(&t.secret_key),
        Some(json!({"stage": "qualified"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["owner_id"], berlin.as_str(), "the +49 territory");
    // Bad input and foreign ids.
    for bad in [
        json!({"customer_id": customer, "phone": "12345"}),
        json!({"customer_id": customer, "email": "nope"}),
        json!({"customer_id": customer, "extra": 1}),
    ] {
        assert_eq!(
            api.call(Method::Post, "/v1/leads", Some(&t.secret_key), Some(bad))
                .status,
            422
        );
    }
    assert_eq!(
        api.call(
            Method::Post,
            "/v1/leads",
            Some(&t.secret_key),
            Some(json!({"customer_id": "cus_nope"}))
        )
        .status,
        404
    );
    let other = api.create_tenant("leads-other", "pro", None);
    assert_eq!(
        api.get(&format!("/v1/leads/{id}"), &other.secret_key)
            .status,
        404
    );
    assert_eq!(
        api.call(
            Method::Patch,
            &format!("/v1/leads/{id}"),
            Some(&other.secret_key),
            Some(json!({"stage": "won"}))
        )
        .status,
        404
    );
    assert!(api.get("/v1/leads", &other.secret_key).body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // CSV: one row, the formula defused.
    let r = api.get("/v1/leads/export", &t.secret_key);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(r.resp.body.as_bytes().to_vec()).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("id,name,email,phone,company,stage,score"));
    assert!(
        lines[1].contains("'=cmd") && lines[1].contains("hans@firma.example"),
        "{text}"
    );
    // The person's export holds the lead; erasure removes it.
    let doc = api.get(&format!("/v1/customers/{customer}/export"), &t.secret_key);
    assert_eq!(doc.body["leads"][0]["id"], id.as_str(), "{}", doc.body);
    let r = api.call(
        Method::Post,
        &format!("/v1/customers/{customer}/erase"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM leads"), 0);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM lead_stage_history"), 0);
}

#[test]
fn the_pre_chat_form_records_only_its_fields_and_the_tenants_consent_wording() {
    let w = world();
    let (api, t) = (&w.api, &w.t);
    let settings = |api: &Api| {
        let mut req = Api::req(
            Method::Get,
            "/v1/widget/settings",
            Some(&t.public_key),
            None,
        );
        req.headers.append("origin", common::ORIGIN);
        api.send(req)
    };
    assert!(
        settings(api).body["lead_form"].is_null(),
        "no form by default"
    );
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    let wording = "I agree that Leads Inc may contact me about my enquiry.";
    c["leads"]["form"] = json!({"fields": ["name", "email", "company"], "required": ["email"], "consent_text": wording});
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let s = settings(api);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(
        s.body["lead_form"]["fields"],
        json!(["name", "email", "company"])
    );
    assert_eq!(s.body["lead_form"]["consent_text"], wording);

    let (conv, token, _) = api.start_conversation(t, json!({"name": "Visitor"}));
    let path = format!("/v1/conversations/{conv}/lead");
    let submit = |bearer: &str, body: Value| api.call(Method::Put, &path, Some(bearer), Some(body));
    // Refused: no consent, a field the form does not show, a missing required field, bad email.
    assert_eq!(
        submit(&token, json!({"email": "v@corp.example"})).status,
        422
    );
    assert_eq!(
        submit(
            &token,
            json!({"email": "v@corp.example", "phone": "+4420794609", "consent": true})
        )
        .status,
        422
    );
    assert_eq!(
        submit(&token, json!({"name": "V", "consent": true})).status,
        422
    );
    assert_eq!(
        submit(&token, json!({"email": "not-an-email", "consent": true})).status,
        422
    );
    // Only the conversation's customer submits it.
    assert_eq!(
        submit(
            &t.secret_key,
            json!({"email": "v@corp.example", "consent": true})
        )
        .status,
        403
    );
    let r = submit(
        &token,
        json!({"name": "Vera", "email": "Vera@Corp.example", "company": "Corp", "consent": true}),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    // Submitting twice (a retry) keeps one lead.
    assert_eq!(submit(&token, json!({"name": "Vera", "email": "vera@corp.example", "company": "Corp", "consent": true})).status, 204);
    let all = leads(api, t);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["source"], "form");
    assert_eq!(all[0]["email"], "vera@corp.example");
    assert_eq!(all[0]["consent"]["text"], wording);
    assert!(all[0]["consent"]["at"].is_i64());
    // With the flag off the widget shows no form and submissions are refused.
    let r = api.call(
        Method::Put,
        "/v1/tenant/features/leads",
        Some(&t.secret_key),
        Some(json!({"enabled": false})),
    );
    assert_eq!(r.status, 200);
    assert!(settings(api).body["lead_form"].is_null());
    assert_eq!(
        submit(&token, json!({"email": "v@corp.example", "consent": true})).status,
        403
    );
}

#[test]
fn the_ai_proposes_details_the_message_states_and_an_agent_settles_them() {
    let w = world();
    let (api, t) = (&w.api, &w.t);
    let frame = |text: &str| {
        json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
               "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}})
        .to_string()
    };
    let analysis = json!({
        "sentiment": 0.3, "intent": "purchase", "topics": ["compilers"], "language": "en",
        "lead": {"name": "Grace Hopper", "email": "grace@navy.example", "phone": "+1 202 555 0100", "company": "US Navy", "buying_intent": true}
    })
    .to_string();
    let hooks = w.hooks.clone();
    let http = ScriptedHttp::new(move |req, _| {
        let body = String::from_utf8_lossy(&req.body).to_string();
        if req.path.ends_with(":streamGenerateContent") {
            if body.contains("Classify the customer's last message") {
                return ScriptedHttp::sse(&[frame(&analysis)]);
            }
            return ScriptedHttp::sse(&[frame("Happy to help with that order.")]);
        }
        hooks
            .borrow_mut()
            .push(serde_json::from_str(&body).unwrap_or(Value::Null));
        Response::new(204)
    });
    api.use_gemini(t, http);
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    c["ai"]["model_analysis"] = json!(true);
    // The model's analysis runs with the AI's answers: let it answer without a knowledge base.
    c["escalation"]["min_confidence"] = json!(0.0);
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // The message states the email but no phone: the email is taken, the phone (which the
    // model invented) and the name and company wait for an agent.
    say(
        api,
        t,
        json!({"name": "G"}),
        "Hi, this is Grace from the US Navy. We need ten compilers, write to grace@navy.example",
    );
    let all = leads(api, t);
    assert_eq!(all.len(), 1, "{all:?}");
    let lead = &all[0];
    assert_eq!(lead["email"], "grace@navy.example");
    assert!(lead["phone"].is_null(), "{lead}");
    assert_eq!(lead["intent"], "purchase");
    assert_eq!(
        lead["proposed"],
        json!({"name": "Grace Hopper", "company": "US Navy", "phone": "+1 202 555 0100"})
    );
    assert!(
        lead["score_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "AI analysis: purchase intent"),
        "{lead}"
    );
    let id = lead["id"].as_str().unwrap();
    let agent = api.token_for(t, &w.sales);
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{id}"),
        Some(&agent),
        Some(json!({"accept": ["name", "company"], "reject": ["phone"]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"], "Grace Hopper");
    assert_eq!(r.body["company"], "US Navy");
    assert!(r.body["phone"].is_null());
    assert_eq!(r.body["proposed"], json!({}));
    let bad = api.call(
        Method::Patch,
        &format!("/v1/leads/{id}"),
        Some(&agent),
        Some(json!({"accept": ["password"]})),
    );
    assert_eq!(bad.status, 422);
}
