//! CRM sync end to end in workerd against a local fake HubSpot: the admin connects through the
//! OAuth redirect dance (consent answered by the fake), a customer who asks for a quote with
//! their email becomes a contact through the Cloudflare Queue consumer, a later change updates
//! the same contact, and resolving the conversation adds the transcript as a note.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::crm::{FakeHubspot, CLIENT_ID, CLIENT_SECRET};
use prism_e2e::{http, Edge, EdgeOptions};
use serde_json::json;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn edge() -> &'static Edge {
    static E: OnceLock<Edge> = OnceLock::new();
    E.get_or_init(|| {
        let fake = &FakeHubspot::shared().base;
        Edge::start(EdgeOptions {
            vars: vec![
                ("HUBSPOT_CLIENT_ID".into(), CLIENT_ID.into()),
                ("HUBSPOT_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
                ("HUBSPOT_AUTH_URL".into(), fake.clone()),
                ("HUBSPOT_API_URL".into(), fake.clone()),
            ],
        })
    })
}

async fn eventually<T>(secs: u64, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_connected_hubspot_receives_the_lead_its_changes_and_the_transcript() {
    let edge = edge();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("crm"), "pro", None).await;
    let r = api
        .call(
            Method::Post,
            "/v1/crm/hubspot/connect",
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The admin's browser: to HubSpot's consent (approved), back to the edge, on to the console.
    let consent = http()
        .get(r.body["authorize_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 303, "{:?}", consent.text().await);
    let back = consent.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&format!("{}/v1/crm/hubspot/callback?code=", edge.base)),
        "{back}"
    );
    let done = http().get(&back).send().await.unwrap();
    assert_eq!(done.status(), 302);
    assert!(done.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/console#crm=hubspot:connected"));
    let again = http().get(&back).send().await.unwrap();
    assert_eq!(again.status(), 401, "the state works once");

    let email = format!("{}@engine.example", unique_slug("ada"));
    let (conv, token, _) = api
        .start_conversation(&t, &json!({"name": "Ada Lovelace"}))
        .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&token),
            Some(&json!({"text": format!("Can I get a quote for two engines? {email}"), "client_msg_id": "c1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fake = FakeHubspot::shared();
    let contact = eventually(30, || fake.contacts(&email).into_iter().next())
        .await
        .expect("the lead reached HubSpot as a contact");
    assert_eq!(contact.1["firstname"], "Ada");
    assert_eq!(contact.1["hs_lead_status"], "NEW");

    let leads = api.get("/v1/leads", &t.secret_key).await;
    let lead = leads.body["items"][0]["id"].as_str().unwrap().to_string();
    let r = api
        .call(
            Method::Patch,
            &format!("/v1/leads/{lead}"),
            Some(&t.secret_key),
            Some(&json!({"stage": "contacted"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let updated = eventually(30, || {
        let c = fake.contacts(&email);
        (c.len() == 1 && c[0].1["hs_lead_status"] == "CONNECTED").then_some(())
    })
    .await;
    assert!(
        updated.is_some(),
        "the same contact was updated: {:?}",
        fake.contacts(&email)
    );

    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/status"),
            Some(&t.secret_key),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let note = eventually(30, || fake.notes(&contact.0).into_iter().next())
        .await
        .expect("the transcript reached HubSpot as a note");
    assert!(note["properties"]["hs_note_body"]
        .as_str()
        .unwrap()
        .contains("Can I get a quote for two engines?"));
    let conns = api.get("/v1/crm/connections", &t.secret_key).await;
    assert!(
        conns.body["items"][0]["last_sync_at"].is_i64(),
        "{}",
        conns.body
    );
}
