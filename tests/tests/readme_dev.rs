//! The README's promise that one command runs the platform locally on its embedded defaults:
//! `scripts/dev` as a newcomer runs it, then what its banner tells them to try — the demo shop,
//! the widget on the sample tenant site (another origin) answered from the knowledge base, the
//! console, the mail catcher, the seeded history in the analytics.

use prism_core::http::Method;
use prism_e2e::api::Api;
use prism_e2e::{http, DevCommand};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// GETs `url`, waiting up to ten seconds for its server to listen (the tenant site starts
/// beside the banner, not before it).
async fn get_when_up(url: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match http().get(url).send().await {
            Ok(r) => return r,
            Err(e) if Instant::now() < deadline && e.is_connect() => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }
}

#[tokio::test]
async fn the_readme_run_command_serves_the_demo_a_newcomer_tries() {
    let dev = tokio::task::spawn_blocking(DevCommand::start)
        .await
        .expect("scripts/dev");
    let out = dev.output();
    assert!(
        !out.contains("seeding the demo tenant failed"),
        "seeding failed:\n{out}"
    );
    let demo: Value = serde_json::from_str(
        &std::fs::read_to_string(dev.dir.join("demo-tenant.json")).expect("demo-tenant.json"),
    )
    .expect("demo tenant keys");
    let (sk, pk) = (
        demo["secret_key"].as_str().unwrap(),
        demo["public_key"].as_str().unwrap(),
    );
    for line in [
        format!("{}/demo?key={pk}", dev.base),
        format!("http://127.0.0.1:{}/", dev.port + 1),
    ] {
        assert!(out.contains(&line), "banner lacks {line}:\n{out}");
    }

    // The demo shop page and the console are served.
    for path in [format!("/demo?key={pk}"), "/console".to_string()] {
        let r = http()
            .get(format!("{}{path}", dev.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.text().await.unwrap().contains("<html"), "{path}");
    }
    // The sample tenant site embeds the widget from the edge, by one script tag.
    let site = format!("http://127.0.0.1:{}", dev.port + 1);
    let page = get_when_up(&format!("{site}/")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&dev.base) && page.contains(pk), "{page}");
    // The mail catcher lists what it caught.
    let mail = get_when_up(&format!("http://127.0.0.1:{}/", dev.port + 2)).await;
    assert_eq!(mail.status(), 200);

    // A visitor on the tenant's site asks, as the widget does (public key, the site's origin),
    // and the built-in responder answers from the demo knowledge base.
    let started = http()
        .post(format!("{}/v1/conversations", dev.base))
        .bearer_auth(pk)
        .header("origin", &site)
        .json(&json!({"name": "Newcomer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    assert_eq!(
        started
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some(site.as_str()),
        "the tenant site's origin may read the answer"
    );
    let started: Value = started.json().await.unwrap();
    let id = started["conversation"]["conversation_id"].as_str().unwrap();
    let token = started["token"].as_str().unwrap();
    let api = Api::at(&dev.base);
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{id}/messages"),
            Some(token),
            Some(&json!({"text": "What is your return policy?", "client_msg_id": "first"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let h = api
            .call(
                Method::Get,
                &format!("/v1/conversations/{id}/messages?after_seq=0&token={token}"),
                None,
                None,
            )
            .await;
        let ai = h.body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["author"]["type"] == "ai").cloned());
        if let Some(ai) = ai {
            break ai;
        }
        assert!(Instant::now() < deadline, "no answer: {}", h.body);
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        answer["text"].as_str().unwrap().contains("30 days") && answer["meta"]["handoff"].is_null(),
        "{answer}"
    );

    // The seeded history reached the analytics (written by a second wrangler process into the
    // same local database).
    let overview = api.get("/v1/analytics/overview?days=60", sk).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(
        overview.body["volume"]["created"].as_u64().unwrap_or(0) >= 100,
        "{}",
        overview.body
    );
}
