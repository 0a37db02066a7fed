//! CRM sync (issue 19) against fake HubSpot and Salesforce APIs that answer as the documented
//! wire formats do: the OAuth flow (single-use state, PKCE for Salesforce), tokens sealed and
//! refreshed (on expiry and when refused), leads pushed as contacts / Leads without duplicates
//! across retries, transcripts as notes / Tasks once, disconnecting.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{Api, TestTenant};
use prism_core::http::{Method, Request, Response};
use prism_core::testing::{ScriptedHttp, TEST_ADMIN_SECRET};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn field(f: &[(String, String)], k: &str) -> Option<String> {
    f.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
}

/// One recorded call: method, path, JSON body, authorization header.
type Call = (String, String, Value, Option<String>);

/// A fake HubSpot: OAuth token endpoint and CRM v3 contacts/notes, recording every call.
struct FakeHubspot {
    calls: RefCell<Vec<Call>>,
    tokens_issued: Cell<u32>,
    fail_next: Cell<u16>,
    contacts: RefCell<Vec<(String, Value)>>,
}

impl FakeHubspot {
    fn answer(&self, req: &Request) -> Response {
        let path = req.path.clone();
        let auth = req.header("authorization").map(str::to_string);
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        self.calls.borrow_mut().push((
            req.method.to_string(),
            path.clone(),
            body.clone(),
            auth.clone(),
        ));
        if path == "/oauth/v1/token" {
            let f = form(req);
            assert_eq!(field(&f, "client_id").as_deref(), Some("hub-client"));
            assert_eq!(field(&f, "client_secret").as_deref(), Some("hub-secret"));
            let ok = match field(&f, "grant_type").as_deref() {
                Some("authorization_code") => {
                    field(&f, "code").as_deref() == Some("the-code")
                        && field(&f, "redirect_uri").as_deref()
                            == Some("https://api.test/v1/crm/hubspot/callback")
                }
                Some("refresh_token") => field(&f, "refresh_token").as_deref() == Some("rt-hub"),
                _ => false,
            };
            if !ok {
                return Response::json(
                    400,
                    &json!({"status": "BAD_AUTH_CODE", "message": "invalid"}),
                );
            }
            let n = self.tokens_issued.get() + 1;
            self.tokens_issued.set(n);
            return Response::json(
                200,
                &json!({"token_type": "bearer", "access_token": format!("at-hub-{n}"), "refresh_token": "rt-hub", "expires_in": 1800}),
            );
        }
        let current = format!("Bearer at-hub-{}", self.tokens_issued.get());
        if auth.as_deref() != Some(current.as_str()) {
            return Response::json(
                401,
                &json!({"status": "error", "category": "EXPIRED_AUTHENTICATION"}),
            );
        }
        if self.fail_next.get() != 0 {
            let s = self.fail_next.replace(0);
            return Response::json(s, &json!({"status": "error", "message": "try later"}));
        }
        let mut contacts = self.contacts.borrow_mut();
        match (req.method, path.as_str()) {
            (Method::Post, "/crm/v3/objects/contacts/search") => {
                let email = body["filterGroups"][0]["filters"][0]["value"].clone();
                let found: Vec<Value> = contacts
                    .iter()
                    .filter(|(_, p)| p["email"] == email)
                    .map(|(id, _)| json!({"id": id}))
                    .collect();
                Response::json(200, &json!({"total": found.len(), "results": found}))
            }
            (Method::Post, "/crm/v3/objects/contacts") => {
                let id = format!("{}", 501 + contacts.len());
                contacts.push((id.clone(), body["properties"].clone()));
                Response::json(201, &json!({"id": id, "properties": body["properties"]}))
            }
            (Method::Patch, p) if p.starts_with("/crm/v3/objects/contacts/") => {
                let id = p.rsplit('/').next().unwrap().to_string();
                match contacts.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, props)) => {
                        for (k, v) in body["properties"].as_object().unwrap() {
                            props[k] = v.clone();
                        }
                        Response::json(200, &json!({"id": id}))
                    }
                    None => Response::json(
                        404,
                        &json!({"status": "error", "message": "resource not found"}),
                    ),
                }
            }
            (Method::Post, "/crm/v3/objects/notes") => Response::json(201, &json!({"id": "9001"})),
            _ => Response::json(404, &json!({"status": "error"})),
        }
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.calls
            .borrow()
            .iter()
            .filter(|(m, p, _, _)| m == method && p == path)
            .count()
    }
}

fn configured() -> Api {
    let mut api = Api::new();
    for (k, v) in [
        ("hubspot_client_id", "hub-client"),
        ("hubspot_client_secret", "hub-secret"),
        ("hubspot_auth_url", "https://app.hubspot.test"),
        ("hubspot_api_url", "https://api.hubapi.test"),
        ("salesforce_client_id", "sf-client"),
        ("salesforce_client_secret", "sf-secret"),
        ("salesforce_login_url", "https://login.salesforce.test"),
    ] {
        api.rig.config.set(k, v);
    }
    api
}

fn connect(api: &Api, t: &TestTenant, provider: &str, code: &str) -> (url::Url, common::Reply) {
    let r = api.call(
        Method::Post,
        &format!("/v1/crm/{provider}/connect"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let url = url::Url::parse(r.body["authorize_url"].as_str().unwrap()).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let back = api.send(Api::req(
        Method::Get,
        &format!("/v1/crm/{provider}/callback?code={code}&state={state}"),
        None,
        None,
    ));
    (url, back)
}

fn say(api: &Api, t: &TestTenant, text: &str) -> (String, String) {
    let (conv, token, _) = api.start_conversation(t, json!({"name": "Ada Lovelace"}));
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/messages"),
        Some(&token),
        Some(json!({"text": text, "client_msg_id": "c1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    (conv, token)
}

#[test]
fn hubspot_connects_by_oauth_and_receives_contacts_and_notes_without_duplicates() {
    let api = configured();
    let fake = Rc::new(FakeHubspot {
        calls: RefCell::default(),
        tokens_issued: Cell::new(0),
        fail_next: Cell::new(0),
        contacts: RefCell::default(),
    });
    let f = fake.clone();
    *api.rig.http.borrow_mut() = Some(ScriptedHttp::new(move |req, _| f.answer(req)));
    let t = api.create_tenant("crm-hub", "pro", None);

    let (url, back) = connect(&api, &t, "hubspot", "the-code");
    assert_eq!(url.host_str(), Some("app.hubspot.test"));
    assert_eq!(url.path(), "/oauth/authorize");
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(field(&q, "client_id").as_deref(), Some("hub-client"));
    assert!(field(&q, "scope")
        .unwrap()
        .contains("crm.objects.contacts.write"));
    assert_eq!(back.status, 302, "{}", back.body);
    assert_eq!(
        back.header("location"),
        Some("https://api.test/console#crm=hubspot:connected")
    );
    // The state works once.
    let state = field(&q, "state").unwrap();
    let again = api.send(Api::req(
        Method::Get,
        &format!("/v1/crm/hubspot/callback?code=the-code&state={state}"),
        None,
        None,
    ));
    assert_eq!(again.status, 401, "{}", again.body);
    let list = api.get("/v1/crm/connections", &t.secret_key);
    assert_eq!(list.body["items"][0]["provider"], "hubspot");
    assert_eq!(list.body["items"][0]["status"], "connected");
    // Tokens are sealed at rest.
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM tenant_secrets WHERE instr(value, 'at-hub') > 0 OR instr(value, 'rt-hub') > 0"), 0);

    // A lead is pushed as a contact (searched by email first, then created).
    let (conv, _) = say(&api, &t, "Could I get a quote? ada@engine.example");
    assert_eq!(fake.count("POST", "/crm/v3/objects/contacts"), 1);
    let contact = fake.contacts.borrow()[0].1.clone();
    assert_eq!(contact["email"], "ada@engine.example");
    assert_eq!(contact["firstname"], "Ada");
    assert_eq!(contact["lastname"], "Lovelace");
    assert_eq!(contact["hs_lead_status"], "NEW");
    let lead_id = api.get("/v1/leads", &t.secret_key).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // A failed push (HubSpot 503) is retried later and updates the same contact.
    fake.fail_next.set(503);
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{lead_id}"),
        Some(&t.secret_key),
        Some(json!({"stage": "qualified"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM crm_jobs WHERE status = 'queued' AND attempts = 1"),
        1
    );
    api.rig.clock.advance(60_000);
    let s = api.call(
        Method::Post,
        "/v1/platform/outbound/sweep",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(
        fake.count("POST", "/crm/v3/objects/contacts"),
        1,
        "no duplicate contact"
    );
    let contact = fake.contacts.borrow()[0].1.clone();
    assert_eq!(contact["hs_lead_status"], "OPEN");
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{lead_id}"),
        Some(&t.secret_key),
        Some(json!({"company": "Analytical Engines"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fake.contacts.borrow()[0].1["company"], "Analytical Engines");

    // The access token expires after 30 minutes: the next push refreshes it first.
    api.rig.clock.advance(31 * 60_000);
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{lead_id}"),
        Some(&t.secret_key),
        Some(json!({"stage": "contacted"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(fake.tokens_issued.get(), 2);
    assert_eq!(fake.contacts.borrow()[0].1["hs_lead_status"], "CONNECTED");
    // A token HubSpot refuses early (revoked, rotated) is refreshed and the push tried again.
    fake.tokens_issued.set(fake.tokens_issued.get() + 1);
    let r = api.call(
        Method::Patch,
        &format!("/v1/leads/{lead_id}"),
        Some(&t.secret_key),
        Some(json!({"stage": "won"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(fake.contacts.borrow()[0].1["hs_lead_status"], "OPEN_DEAL");

    // Resolving the conversation adds its transcript as a note on the contact, once.
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/status"),
        Some(&t.secret_key),
        Some(json!({"status": "resolved"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fake.count("POST", "/crm/v3/objects/notes"), 1);
    let note = fake
        .calls
        .borrow()
        .iter()
        .rev()
        .find(|c| c.1 == "/crm/v3/objects/notes")
        .unwrap()
        .2
        .clone();
    assert_eq!(note["associations"][0]["to"]["id"], "501");
    assert_eq!(
        note["associations"][0]["types"][0]["associationTypeId"],
        202
    );
    assert!(note["properties"]["hs_note_body"]
        .as_str()
        .unwrap()
        .contains("Customer: Could I get a quote? ada@engine.example"));
    for status in ["open", "resolved"] {
        api.call(
            Method::Post,
            &format!("/v1/conversations/{conv}/status"),
            Some(&t.secret_key),
            Some(json!({"status": status})),
        );
    }
    assert_eq!(
        fake.count("POST", "/crm/v3/objects/notes"),
        1,
        "a transcript is pushed once"
    );

    // Disconnecting forgets tokens, links and queued pushes.
    assert_eq!(
        api.call(Method::Delete, "/v1/crm/hubspot", Some(&t.secret_key), None)
            .status,
        204
    );
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM tenant_secrets WHERE name LIKE 'crm:%'"),
        0
    );
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM crm_links"), 0);
    assert!(api.get("/v1/crm/connections", &t.secret_key).body["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn salesforce_connects_with_pkce_and_gets_leads_and_tasks() {
    let api = configured();
    let verifier_ok = Rc::new(Cell::new(false));
    let calls: Rc<RefCell<Vec<(String, String, Value)>>> = Rc::default();
    let challenge: Rc<RefCell<String>> = Rc::default();
    let (v, c, ch) = (verifier_ok.clone(), calls.clone(), challenge.clone());
    *api.rig.http.borrow_mut() = Some(ScriptedHttp::new(move |req, _| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let url = req.url().to_string();
        c.borrow_mut()
            .push((req.method.to_string(), url.clone(), body.clone()));
        if url == "https://login.salesforce.test/services/oauth2/token" {
            let f = form(req);
            let verifier = field(&f, "code_verifier").unwrap_or_default();
            v.set(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == *ch.borrow());
            return Response::json(
                200,
                &json!({
                    "access_token": "00Dxx!sf-token", "refresh_token": "sf-refresh", "instance_url": "https://acme.my.salesforce.test",
                    "id": "https://login.salesforce.test/id/00Dxx/005xx", "token_type": "Bearer", "issued_at": "1700000000000", "signature": "x"
                }),
            );
        }
        assert_eq!(req.header("authorization"), Some("Bearer 00Dxx!sf-token"));
        if url.starts_with("https://acme.my.salesforce.test/services/data/v60.0/query?q=") {
            return Response::json(200, &json!({"totalSize": 0, "done": true, "records": []}));
        }
        match url.as_str() {
            "https://acme.my.salesforce.test/services/data/v60.0/sobjects/Lead" => Response::json(
                201,
                &json!({"id": "00Q5e000001", "success": true, "errors": []}),
            ),
            "https://acme.my.salesforce.test/services/data/v60.0/sobjects/Lead/00Q5e000001" => {
                Response::new(204)
            }
            "https://acme.my.salesforce.test/services/data/v60.0/sobjects/Task" => Response::json(
                201,
                &json!({"id": "00T5e000009", "success": true, "errors": []}),
            ),
            _ => Response::json(
                404,
                &json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
            ),
        }
    }));
    let t = api.create_tenant("crm-sf", "pro", None);
    let r = api.call(
        Method::Post,
        "/v1/crm/salesforce/connect",
        Some(&t.secret_key),
        None,
    );
    let url = url::Url::parse(r.body["authorize_url"].as_str().unwrap()).unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/services/oauth2/authorize");
    assert_eq!(field(&q, "code_challenge_method").as_deref(), Some("S256"));
    *challenge.borrow_mut() = field(&q, "code_challenge").unwrap();
    let state = field(&q, "state").unwrap();
    let back = api.send(Api::req(
        Method::Get,
        &format!("/v1/crm/salesforce/callback?code=sf-code&state={state}"),
        None,
        None,
    ));
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(
        verifier_ok.get(),
        "the token request proves the PKCE verifier"
    );

    let (conv, _) = say(&api, &t, "How much for 3 engines? Call +44 20 7946 0958");
    let posted: Vec<Value> = calls
        .borrow()
        .iter()
        .filter(|c| c.0 == "POST" && c.1.ends_with("/sobjects/Lead"))
        .map(|c| c.2.clone())
        .collect();
    assert_eq!(posted.len(), 1, "{:?}", calls.borrow());
    assert_eq!(posted[0]["LastName"], "Lovelace");
    assert_eq!(posted[0]["Phone"], "+442079460958");
    assert_eq!(
        posted[0]["Company"], "[not provided]",
        "required by Salesforce"
    );
    assert_eq!(posted[0]["LeadSource"], "PrismAI chat");
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/status"),
        Some(&t.secret_key),
        Some(json!({"status": "resolved"})),
    );
    assert_eq!(r.status, 200);
    let task = calls
        .borrow()
        .iter()
        .find(|c| c.1.ends_with("/sobjects/Task"))
        .map(|c| c.2.clone())
        .expect("a task");
    assert_eq!(task["WhoId"], "00Q5e000001");
    assert_eq!(task["Status"], "Completed");
    // A sync pushes again onto the same Lead (PATCH), never a second one.
    let r = api.call(
        Method::Post,
        "/v1/crm/salesforce/sync",
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        calls
            .borrow()
            .iter()
            .filter(|c| c.0 == "POST" && c.1.ends_with("/sobjects/Lead"))
            .count(),
        1
    );
    assert!(calls
        .borrow()
        .iter()
        .any(|c| c.0 == "PATCH" && c.1.ends_with("/sobjects/Lead/00Q5e000001")));
}

#[test]
fn connecting_needs_the_platforms_app_an_admin_and_a_valid_state() {
    let api = Api::new();
    let t = api.create_tenant("crm-none", "pro", None);
    let r = api.call(
        Method::Post,
        "/v1/crm/hubspot/connect",
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.code(), "conflict");
    let api = configured();
    let t = api.create_tenant("crm-roles", "pro", None);
    let (_, agent) = api.user_with_role(&t, "agent");
    assert_eq!(
        api.call(Method::Post, "/v1/crm/hubspot/connect", Some(&agent), None)
            .status,
        403
    );
    assert_eq!(
        api.call(
            Method::Post,
            "/v1/crm/pipedrive/connect",
            Some(&t.secret_key),
            None
        )
        .status,
        404
    );
    let forged = api.send(Api::req(
        Method::Get,
        "/v1/crm/hubspot/callback?code=x&state=forged",
        None,
        None,
    ));
    assert_eq!(forged.status, 401);
    let declined = api.send(Api::req(
        Method::Get,
        "/v1/crm/hubspot/callback?error=access_denied",
        None,
        None,
    ));
    assert_eq!(declined.status, 302);
    assert!(declined
        .header("location")
        .unwrap()
        .ends_with("#crm=hubspot:declined"));
    // A state issued for HubSpot does not complete a Salesforce connection.
    let r = api.call(
        Method::Post,
        "/v1/crm/hubspot/connect",
        Some(&t.secret_key),
        None,
    );
    let url = url::Url::parse(r.body["authorize_url"].as_str().unwrap()).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let r = api.send(Api::req(
        Method::Get,
        &format!("/v1/crm/salesforce/callback?code=x&state={state}"),
        None,
        None,
    ));
    assert_eq!(r.status, 401);
}
