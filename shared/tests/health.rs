//! `/health` stays a cheap, public liveness check; `/health?deep=1` is the platform admin's
//! probe of every dependency with latencies (issue 17's operator health check).

mod common;

use common::Api;
use prism_core::http::{Method, Response};
use prism_core::testing::{ScriptedHttp, TEST_ADMIN_SECRET};

#[test]
fn the_deep_check_probes_storage_and_providers_for_the_platform_admin_only() {
    let api = Api::new();
    let t = api.create_tenant("health", "pro", None);
    let http = ScriptedHttp::new(|req, _| {
        // Providers answer anything: reachable is the question, not our credentials.
        assert_eq!(req.method, Method::Get);
        Response::new(404)
    });
    *api.rig.http.borrow_mut() = Some(http.clone());
    let plain = api.send(Api::req(Method::Get, "/health", None, None));
    assert_eq!(plain.status, 200);
    assert!(
        plain.body.get("storage").is_none(),
        "the plain check does no I/O"
    );
    for bearer in [
        None,
        Some(t.secret_key.as_str()),
        Some("not-the-admin-secret"),
    ] {
        let r = api.send(Api::req(Method::Get, "/health?deep=1", bearer, None));
        assert_eq!(r.status, 401, "{bearer:?}: {}", r.body);
    }
    let r = api.send(Api::req(
        Method::Get,
        "/health?deep=1",
        Some(TEST_ADMIN_SECRET),
        None,
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ok", "{}", r.body);
    let names: Vec<&str> = r.body["storage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "database",
            "kv",
            "objects.gates",
            "objects.inboxes",
            "objects.conversations",
            "queue"
        ]
    );
    for c in r.body["storage"].as_array().unwrap() {
        assert_eq!(c["ok"], true, "{c}");
        assert!(c["latency_ms"].as_i64().unwrap() >= 0);
    }
    assert_eq!(r.body["storage"][5]["absent"], true, "no queue natively");
    for i in 0..5 {
        assert_eq!(
            r.body["storage"][i]["absent"], false,
            "{}",
            r.body["storage"][i]
        );
    }
    let providers = r.body["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 3);
    assert!(providers.iter().all(|c| c["ok"] == true), "{providers:?}");
    let probed: Vec<String> = http.calls.borrow().iter().map(|r| r.url()).collect();
    assert!(
        probed
            .iter()
            .any(|u| u.starts_with("https://api.twilio.com")),
        "{probed:?}"
    );
}
