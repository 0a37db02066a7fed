//! Outgoing webhooks end to end in workerd: an endpoint subscribed through the API receives a
//! conversation's events through the Cloudflare Queue consumer, signed so that the reference
//! Standard Webhooks implementation (the `standardwebhooks` npm package, run by Node) verifies
//! every one; a receiver that fails is retried with the same `webhook-id`, and the delivery log
//! shows each attempt.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::{repo_root, Edge};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver got: headers that matter and the raw body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

/// A receiver that records every request and answers 503 to the first `fail_first` of them.
fn receiver(fail_first: usize) -> (String, Received) {
    let got = Received::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                move |State(got): State<Received>, headers: HeaderMap, body: String| async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let mut all = got.0.lock().unwrap();
                    all.push(json!({
                        "webhook-id": h("webhook-id"),
                        "webhook-timestamp": h("webhook-timestamp"),
                        "webhook-signature": h("webhook-signature"),
                        "body": body,
                    }));
                    if all.len() <= fail_first {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .with_state(got.clone());
    (prism_e2e::fake_server::spawn(app), got)
}

async fn wait_for(got: &Received, n: usize, secs: u64) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let all = got.0.lock().unwrap().clone();
        if all.len() >= n || Instant::now() > until {
            return all;
        }
        drop(all);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Verifies every recorded request with the npm reference implementation; returns its report.
fn verify_with_reference(secret: &str, requests: &[Value]) -> Value {
    let root = repo_root();
    let mut child = std::process::Command::new("node")
        .arg(root.join("tests/verify-webhooks.mjs"))
        .arg(secret)
        .current_dir(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(requests).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    prism_e2e::succeeded(&out, "the reference verifier failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn subscribed_events_arrive_signed_through_the_queue_and_verify_with_the_reference_library() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("hooks"), "pro", None).await;
    // The receiver answers 503 once: that event is retried and arrives again, same id.
    let (base, got) = receiver(1);
    let r = api
        .call(
            Method::Post,
            "/v1/webhooks/endpoints",
            Some(&t.secret_key),
            Some(&json!({"url": format!("{base}/hook"), "events": ["conversation.created", "message.created", "conversation.resolved"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let endpoint = r.body["id"].as_str().unwrap().to_string();
    let secret = r.body["secret"].as_str().unwrap().to_string();
    let (conversation, token, _) = api.start_conversation(&t, &json!({"name": "Grace"})).await;
    let m = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conversation}/messages"),
            Some(&token),
            Some(&json!({"text": "Where is my parcel?", "client_msg_id": "w1"})),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.body);
    let s = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conversation}/status"),
            Some(&t.secret_key),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    // created, the customer's message, the AI's answer (or none if it handed over), resolved,
    // and the first one again after its 503 (retried 5 s later).
    let all = wait_for(&got, 5, 30).await;
    let report = verify_with_reference(&secret, &all);
    assert_eq!(report["failed"], json!([]), "{report}");
    assert!(report["verified"].as_u64().unwrap() >= 4, "{report}");
    let types: Vec<String> = all
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        types.contains(&"conversation.created".to_string()),
        "{types:?}"
    );
    assert!(types.contains(&"message.created".to_string()), "{types:?}");
    assert!(
        types.contains(&"conversation.resolved".to_string()),
        "{types:?}"
    );
    let first_id = all[0]["webhook-id"].as_str().unwrap();
    assert_eq!(
        all.iter().filter(|r| r["webhook-id"] == first_id).count(),
        2,
        "the failed attempt came again with the same webhook-id"
    );
    // A wrong secret does not verify.
    let wrong = verify_with_reference("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &all[..1]);
    assert_eq!(wrong["verified"], 0, "{wrong}");
    // The log: every delivery delivered, the first after two attempts.
    let log = api
        .get(
            &format!("/v1/webhooks/endpoints/{endpoint}/deliveries"),
            &t.secret_key,
        )
        .await;
    let items = log.body["items"].as_array().unwrap();
    assert!(
        items.iter().all(|d| d["status"] == "delivered"),
        "{}",
        log.body
    );
    assert!(items.iter().any(|d| d["attempts"] == 2), "{}", log.body);
}
