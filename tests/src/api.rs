//! The end-to-end API client: the same shape as the native test client (`shared/tests/common`),
//! `Api` with `call`, `get`, `create_tenant`, `user_with_role` and `token_for`, but over real
//! HTTP against a running runtime, so a test reads the same on both sides.

use crate::{http, ADMIN_SECRET};
use prism_core::http::Method;
use serde_json::{json, Value};

pub const ORIGIN: &str = "https://shop.example";
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub secret_key: String,
    pub public_key: String,
    pub identity_secret: String,
    pub owner_id: String,
}

/// A status and parsed body.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client for one runtime's base URL.
#[derive(Clone, Debug)]
pub struct Api {
    pub base: String,
}

impl Api {
    pub fn at(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).expect("method");
        let mut rb = http().request(m, format!("{}{path}", self.base));
        if let Some(b) = bearer {
            rb = rb.bearer_auth(b);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.call(Method::Get, path, Some(bearer), None).await
    }

    /// Creates a tenant through the platform API, with `ORIGIN` allowed for its widget key.
    pub async fn create_tenant(&self, slug: &str, tier: &str, limits: Option<Value>) -> Tenant {
        let mut body = json!({
            "name": format!("Tenant {slug}"), "slug": slug, "tier": tier,
            "owner_email": format!("owner@{slug}.example"), "owner_name": "Owner",
            "allowed_origins": [ORIGIN],
        });
        if let Some(l) = limits {
            body["limits"] = l;
        }
        let r = self
            .call(
                Method::Post,
                "/v1/platform/tenants",
                Some(ADMIN_SECRET),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 201, "create tenant {slug}: {}", r.body);
        Tenant {
            id: r.body["tenant"]["id"].as_str().unwrap().into(),
            slug: slug.into(),
            secret_key: r.body["secret_key"].as_str().unwrap().into(),
            public_key: r.body["public_key"].as_str().unwrap().into(),
            identity_secret: r.body["identity_secret"].as_str().unwrap().into(),
            owner_id: r.body["owner"]["id"].as_str().unwrap().into(),
        }
    }

    /// A tenant whose assistant is switched off (tests of the conversation protocol itself,
    /// where AI replies would interleave with the messages under test).
    pub async fn create_tenant_without_ai(&self, slug: &str, tier: &str) -> Tenant {
        let t = self.create_tenant(slug, tier, None).await;
        let r = self
            .call(
                Method::Put,
                "/v1/tenant/features/ai_answers",
                Some(&t.secret_key),
                Some(&json!({"enabled": false})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        t
    }

    /// Adds a user with `role` (invite, accept) and returns (user id, agent JWT).
    pub async fn user_with_role(&self, t: &Tenant, role: &str) -> (String, String) {
        let email = format!("{role}-{}@{}.example", unique_slug("u"), t.slug);
        let r = self
            .call(
                Method::Post,
                "/v1/invitations",
                Some(&t.secret_key),
                Some(&json!({"email": email, "name": role, "role": role})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let token = r.body["token"].as_str().unwrap().to_string();
        let r = self
            .call(
                Method::Post,
                "/v1/invitations/accept",
                None,
                Some(&json!({"token": token})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let user_id = r.body["id"].as_str().unwrap().to_string();
        let token = self.token_for(t, &user_id).await;
        (user_id, token)
    }

    /// Starts a conversation as the tenant's server would (secret key): (id, customer token,
    /// the whole response).
    pub async fn start_conversation(&self, t: &Tenant, body: &Value) -> (String, String, Value) {
        let r = self
            .call(
                Method::Post,
                "/v1/conversations",
                Some(&t.secret_key),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = r.body["token"].as_str().unwrap().to_string();
        (id, token, r.body)
    }

    /// Reads the tenant's configuration, lets `change` edit it, and writes it back.
    pub async fn edit_config(&self, t: &Tenant, change: impl FnOnce(&mut Value)) {
        let cfg = self
            .call(Method::Get, "/v1/tenant/config", Some(&t.secret_key), None)
            .await;
        let mut c = cfg.body["config"].clone();
        change(&mut c);
        let r = self
            .call(
                Method::Put,
                "/v1/tenant/config",
                Some(&t.secret_key),
                Some(&json!({"version": cfg.body["version"], "config": c})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Stores a tenant secret (`PUT /v1/tenant/secrets/{name}`).
    pub async fn put_secret(&self, t: &Tenant, name: &str, value: &str) {
        let r = self
            .call(
                Method::Put,
                &format!("/v1/tenant/secrets/{name}"),
                Some(&t.secret_key),
                Some(&json!({ "value": value })),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.body);
    }

    /// Routes the tenant's AI to the local fake Gemini with `key` (which selects the fake's
    /// script): built-in embeddings, no model analysis.
    pub async fn use_fake_gemini(&self, t: &Tenant, key: &str) {
        self.put_secret(t, "gemini", key).await;
        let base = crate::fakes::Fakes::shared().base.clone();
        self.edit_config(t, |c| {
            c["ai"]["providers"] =
                json!([{"kind": "gemini", "base_url": base, "api_key_secret": "gemini"}]);
            c["ai"]["embedding"] = json!("offline");
            c["ai"]["model_analysis"] = json!(false);
        })
        .await;
    }

    /// An agent JWT for `user_id`, minted with the tenant's secret key.
    pub async fn token_for(&self, t: &Tenant, user_id: &str) -> String {
        let r = self
            .call(
                Method::Post,
                "/v1/auth/token",
                Some(&t.secret_key),
                Some(&json!({"user_id": user_id})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_string()
    }
}

/// A unique slug per test run (the runtime's state may be shared between tests).
pub fn unique_slug(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}",
        N.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    )
}
