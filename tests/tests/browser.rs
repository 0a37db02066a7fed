//! Browser tests (Chromium via playwright-core) against the local runtime: the widget on /demo,
//! the widget embedded in a tenant's own site on another origin (and refused on a site the
//! tenant did not allow), and the agent console. The Node script under tests/browser does the
//! clicking (and serves the tenant sites); this test starts the runtime, seeds a tenant with the
//! demo knowledge base and an agent, and runs it.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::fakes::{gemini_frame, Fakes, Reply};
use prism_e2e::idp::{self, Idp};
use prism_e2e::providers::Providers;
use prism_e2e::{repo_root, Edge, EdgeOptions};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn widget_and_console_in_a_real_browser() {
    // Its own runtime, sending email through the local fake Resend.
    let providers = Providers::shared();
    let edge = Edge::start(EdgeOptions {
        vars: vec![("RESEND_BASE_URL".into(), providers.base.clone())],
    });
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant(&unique_slug("browser"), "enterprise", None)
        .await;
    // The demo page is served by the edge itself, so its origin is the allowed one.
    api.edit_config(&t, |c| c["allowed_origins"] = json!([base]))
        .await;
    let dir = repo_root().join("scripts/demo/knowledge");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let content = std::fs::read_to_string(&f).unwrap();
        let title = content
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .to_string();
        let url = format!(
            "https://demo.example/help/{}",
            f.file_stem().unwrap().to_string_lossy()
        );
        let r = api.call( Method::Post, "/v1/knowledge/documents", Some(&t.secret_key), Some(&json!({"title": title, "content": content, "format": "markdown", "source_url": url}))).await;
        assert_eq!(r.status, 201);
    }
    let (agent_id, agent) = api.user_with_role(&t, "agent").await;
    let agent_email = api
        .get(&format!("/v1/users/{agent_id}"), &t.secret_key)
        .await
        .body["email"]
        .as_str()
        .unwrap()
        .to_string();
    // Agents sign themselves in: email through the tenant's own channel (fake Resend), single
    // sign-on through the local identity provider, which signs the agent in.
    let resend_key = format!("re_{}", t.slug);
    let provider = Idp::shared();
    provider.sign_in_as(&agent_email);
    api.put_secret(&t, "resend_api_key", &resend_key).await;
    api.put_secret(&t, "oidc_client_secret", idp::CLIENT_SECRET)
        .await;
    api.edit_config(&t, |c| {
        c["channels"]["email"] =
            json!({"from_address": "support@browser.example", "from_name": "Browser Support"});
        c["sign_in"]["oidc"] = json!({"issuer": provider.issuer, "client_id": idp::CLIENT_ID, "label": "Sign in with Example ID"});
    })
    .await;
    let translated = translation_tenant(&api).await;
    let out = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/run.mjs"))
        .env("BASE", base)
        .env("PK", &t.public_key)
        .env("AGENT", &agent)
        .env("SK", &t.secret_key)
        .env("IDS", &t.identity_secret)
        .env("SLUG", &t.slug)
        .env("AGENT_EMAIL", &agent_email)
        .env("PROVIDERS", &providers.base)
        .env("RESEND_KEY", &resend_key)
        .env("TR_AGENT", &translated.agent)
        .env("TR_CONV", &translated.conversation_id)
        .env("SHOTS", repo_root().join("target/e2e/screenshots"))
        .current_dir(repo_root())
        .output()
        .await
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser tests failed:\n{stdout}");
}

struct Translated {
    agent: String,
    conversation_id: String,
}

/// A second workspace whose AI provider is the local fake Gemini, scripted to translate the
/// customer's Spanish message into English and the agent's English reply into Spanish (AI
/// answers off, so translation is the only model call). The customer wrote in Spanish.
async fn translation_tenant(api: &Api) -> Translated {
    let t = api
        .create_tenant_without_ai(&unique_slug("translate"), "pro")
        .await;
    let key = format!("tr-{}", t.slug);
    let reply = |json: &str| Reply::Stream {
        frames: vec![gemini_frame(json, Some("STOP"))],
        first_delay: Duration::ZERO,
        gap: Duration::ZERO,
    };
    Fakes::shared().script(
        &key,
        vec![
            reply(r#"{"source_language":"es","text":"Where is my order? It was due on Monday."}"#),
            reply(r#"{"source_language":"en","text":"Su pedido sale mañana."}"#),
        ],
    );
    api.use_fake_gemini(&t, &key).await;
    let (conversation_id, token, _) = api
        .start_conversation(&t, &json!({"name": "Lucía", "language": "es"}))
        .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conversation_id}/messages"),
            Some(&token),
            Some(&json!({"text": "¿Dónde está mi pedido? Tenía que llegar el lunes.", "client_msg_id": "es-1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, agent) = api.user_with_role(&t, "agent").await;
    Translated {
        agent,
        conversation_id,
    }
}
