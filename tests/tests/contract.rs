//! The API contract, tested the way an integrator's tools meet it: Schemathesis (a property-based
//! OpenAPI tester, from PyPI) reads `/v1/openapi.json` from the real runtime and drives every
//! operation with generated valid and invalid inputs. Any status the document does not list, any
//! response that breaks its declared schema or content type, and any 5xx fails the test.
//!
//! Streaming and WebSocket operations (SSE `…/events`, `…/live`, echo rooms) are covered by the
//! live-protocol tests against the AsyncAPI document instead; the diagnostics benchmarks are
//! excluded because they are long by design (and 404 in production).

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::{Edge, ADMIN_SECRET};
use serde_json::json;
use std::process::Command;

const CHECKS: &str =
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";
const EXCLUDED: &str = "(/events$|/live$|/v1/echo/|/v1/diag/bench/)";

fn schemathesis() -> String {
    std::env::var("PRISM_SCHEMATHESIS").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/prismai/tools/venv/bin/st")
    })
}

/// Runs Schemathesis with `bearer` against `filter`; returns its output, panicking on failure.
fn run(edge: &Edge, config: &str, bearer: &str, filter: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!("prism-contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_file = dir.join(format!("schemathesis-{}.toml", filter.join("").len()));
    std::fs::write(&config_file, config).unwrap();
    let out = Command::new(schemathesis())
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(edge.url("/v1/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {bearer}")])
        .args(["-c", CHECKS])
        .args(["--phases", "coverage,fuzzing"])
        .args(["--max-examples", "8"])
        // One worker: with two threads, CPython 3.11's `ast.parse` (which Hypothesis calls to
        // describe its filters) can fail with "AST constructor recursion depth mismatch", a
        // crash of the tool reported as a runtime error (seen once in `scripts/test`).
        .args(["-w", "1"])
        .args(["--request-timeout", "20"])
        .args(["--exclude-path-regex", EXCLUDED])
        .args(filter)
        .current_dir(&dir)
        .output()
        .expect("schemathesis (scripts/setup installs it)");
    prism_e2e::succeeded(&out, "Schemathesis found contract violations")
}

#[tokio::test]
async fn every_operation_keeps_the_documented_contract() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let lots = json!({"count": 10_000_000, "period_secs": 60});
    let limits = json!({"tenant": lots, "credential": lots, "visitor": lots, "anonymous": lots, "conversation_starts": lots});
    let t = api
        .create_tenant(&unique_slug("contract"), "enterprise", Some(limits.clone()))
        .await;
    let spare = api
        .create_tenant(&unique_slug("contract-spare"), "pro", Some(limits))
        .await;

    // Real resources for every path parameter, so generated requests reach the handlers.
    let doc = api.call( Method::Post, "/v1/knowledge/documents", Some(&t.secret_key),
        Some(&json!({"title": "Returns", "format": "markdown", "content": "# Returns\n\nWithin 30 days."}))).await;
    assert_eq!(doc.status, 201, "{}", doc.body);
    let canned = api
        .call(
            Method::Post,
            "/v1/canned-responses",
            Some(&t.secret_key),
            Some(&json!({"shortcut": "thanks", "title": "Thanks", "text": "Thank you!"})),
        )
        .await;
    assert_eq!(canned.status, 201, "{}", canned.body);
    let conv = api
        .call(
            Method::Post,
            "/v1/conversations",
            Some(&t.secret_key),
            Some(&json!({"name": "Ann"})),
        )
        .await;
    assert_eq!(conv.status, 201, "{}", conv.body);
    let (user_id, _) = api.user_with_role(&t, "agent").await;
    let hook = api
        .call(
            Method::Post,
            "/v1/webhooks/endpoints",
            Some(&t.secret_key),
            Some(&json!({"url": "https://hooks.contract.example/in", "events": ["conversation.resolved"]})),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let key = api
        .call(
            Method::Post,
            "/v1/api-keys",
            Some(&t.secret_key),
            Some(&json!({"name": "spare", "kind": "secret", "scopes": ["tenant:read"]})),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.body);
    let secret = api
        .call(
            Method::Put,
            "/v1/tenant/secrets/spare",
            Some(&t.secret_key),
            Some(&json!({"value": "x"})),
        )
        .await;
    assert_eq!(secret.status, 204, "{}", secret.body);

    let config = format!(
        r#"
[parameters]
"path.conversation_id" = "{conversation}"
"path.document_id" = "{document}"
"path.canned_id" = "{canned}"
"path.user_id" = "{user_id}"
"path.key_id" = "{key}"
"path.tenant_id" = "{spare}"
"path.name" = "spare"
"path.flag" = "ai_answers"
"path.key" = "contract"
"path.endpoint_id" = "{endpoint}"
"path.delivery_id" = "whd_none"
"path.provider" = "hubspot"
"#,
        conversation = conv.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap(),
        document = doc.body["id"].as_str().unwrap(),
        canned = canned.body["id"].as_str().unwrap(),
        endpoint = hook.body["id"].as_str().unwrap(),
        key = key.body["key"]["id"].as_str().unwrap(),
        spare = spare.id,
    );

    // Tenant operations with the tenant's secret key (admin scope), then the platform's with
    // the platform admin secret.
    run(edge, &config, &t.secret_key, &["--exclude-tag", "platform"]);
    run(edge, &config, ADMIN_SECRET, &["--include-tag", "platform"]);
}
