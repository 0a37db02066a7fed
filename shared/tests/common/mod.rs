//! A tiny client over the core pipeline with the native test ports.
#![allow(dead_code)]

use futures::executor::block_on;
use prism_core::channels::signatures;
use prism_core::http::{Method, Request, Response};
use prism_core::router::Outcome;
use prism_core::testing::{TestRig, TEST_ADMIN_SECRET};
use serde_json::{json, Value};

pub struct Api {
    pub rig: TestRig,
    seq: std::cell::Cell<u32>,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub resp: Response,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.resp.header(name)
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// A tenant created through the platform API, with its credentials.
#[derive(Clone, Debug)]
pub struct TestTenant {
    pub id: String,
    pub slug: String,
    pub secret_key: String,
    pub public_key: String,
    pub identity_secret: String,
    pub owner_id: String,
}

pub const ORIGIN: &str = "https://shop.example";

impl Api {
    pub fn new() -> Api {
        Api {
            rig: TestRig::new(),
            seq: std::cell::Cell::new(0),
        }
    }

    pub fn send(&self, req: Request) -> Reply {
        let resp = match block_on(prism_core::app::handle(self.rig.platform(), req)) {
            Outcome::Response(r) => r,
            Outcome::Upgrade(_) => panic!("unexpected upgrade"),
        };
        let body = serde_json::from_slice(resp.body.as_bytes()).unwrap_or(Value::Null);
        Reply {
            status: resp.status,
            body,
            resp,
        }
    }

    pub fn req(method: Method, path: &str, bearer: Option<&str>, body: Option<&Value>) -> Request {
        let mut r = Request::new(method, &format!("https://api.test{path}"));
        if let Some(b) = bearer {
            r.headers.append("authorization", format!("Bearer {b}"));
        }
        if let Some(b) = body {
            r.headers.append("content-type", "application/json");
            r.body = serde_json::to_vec(b).unwrap();
        }
        r
    }

    pub fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send(Self::req(method, path, bearer, body.as_ref()))
    }

    pub fn get(&self, path: &str, bearer: &str) -> Reply {
        self.call(Method::Get, path, Some(bearer), None)
    }

    pub fn create_tenant(&self, slug: &str, tier: &str, limits: Option<Value>) -> TestTenant {
        let mut body = json!({
            "name": format!("Tenant {slug}"),
            "slug": slug,
            "tier": tier,
            "owner_email": format!("owner@{slug}.example"),
            "owner_name": "Owner",
            "allowed_origins": [ORIGIN],
        });
        if let Some(l) = limits {
            body["limits"] = l;
        }
        let r = self.call(
            Method::Post,
            "/v1/platform/tenants",
            Some(TEST_ADMIN_SECRET),
            Some(body),
        );
        assert_eq!(r.status, 201, "create tenant: {}", r.body);
        TestTenant {
            id: r.body["tenant"]["id"].as_str().unwrap().into(),
            slug: slug.into(),
            secret_key: r.body["secret_key"].as_str().unwrap().into(),
            public_key: r.body["public_key"].as_str().unwrap().into(),
            identity_secret: r.body["identity_secret"].as_str().unwrap().into(),
            owner_id: r.body["owner"]["id"].as_str().unwrap().into(),
        }
    }

    /// Adds a user with `role` to the tenant (invite + accept) and returns (user id, JWT).
    pub fn user_with_role(&self, t: &TestTenant, role: &str) -> (String, String) {
        self.seq.set(self.seq.get() + 1);
        let email = format!("{role}-{}@{}.example", self.seq.get(), t.slug);
        let r = self.call(
            Method::Post,
            "/v1/invitations",
            Some(&t.secret_key),
            Some(json!({"email": email, "name": role, "role": role})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let token = r.body["token"].as_str().unwrap().to_string();
        let r = self.call(
            Method::Post,
            "/v1/invitations/accept",
            None,
            Some(json!({"token": token})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let user_id = r.body["id"].as_str().unwrap().to_string();
        (user_id.clone(), self.token_for(t, &user_id))
    }

    pub fn token_for(&self, t: &TestTenant, user_id: &str) -> String {
        let r = self.call(
            Method::Post,
            "/v1/auth/token",
            Some(&t.secret_key),
            Some(json!({"user_id": user_id})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_string()
    }

    /// A secret key with the given scopes.
    pub fn key_with_scopes(&self, t: &TestTenant, scopes: &[&str]) -> String {
        let r = self.call(
            Method::Post,
            "/v1/api-keys",
            Some(&t.secret_key),
            Some(json!({"name": "scoped", "kind": "secret", "scopes": scopes})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["secret"].as_str().unwrap().to_string()
    }

    /// Adds a Markdown help page to the tenant's knowledge base.
    pub fn add_document(&self, t: &TestTenant, title: &str, content: &str) {
        let r = self.call(
            Method::Post,
            "/v1/knowledge/documents",
            Some(&t.secret_key),
            Some(json!({"title": title, "content": content, "format": "markdown"})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }

    /// Sets the tenant's language (its configuration's `language`): what its help pages and
    /// its customers are taken to speak.
    pub fn set_language(&self, t: &TestTenant, lang: &str) {
        let mut config = self.get("/v1/tenant/config", &t.secret_key).body;
        config["config"]["language"] = json!(lang);
        let r = self.call(
            Method::Put,
            "/v1/tenant/config",
            Some(&t.secret_key),
            Some(config),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Starts a conversation as the tenant's server would (secret key): (id, customer token,
    /// the whole response).
    pub fn start_conversation(&self, t: &TestTenant, body: Value) -> (String, String, Value) {
        let r = self.call(
            Method::Post,
            "/v1/conversations",
            Some(&t.secret_key),
            Some(body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_string();
        let token = r.body["token"].as_str().unwrap().to_string();
        (id, token, r.body)
    }

    /// Routes the tenant's AI to `http` as Gemini at `https://gemini.test` (the tenant's own key,
    /// built-in embeddings, no model analysis).
    pub fn use_gemini(&self, t: &TestTenant, http: std::rc::Rc<prism_core::testing::ScriptedHttp>) {
        *self.rig.http.borrow_mut() = Some(http);
        let r = self.call(
            Method::Put,
            "/v1/tenant/secrets/gemini",
            Some(&t.secret_key),
            Some(json!({"value": "test-gemini-key"})),
        );
        assert_eq!(r.status, 204, "{}", r.body);
        let cfg = self.get("/v1/tenant/config", &t.secret_key);
        let mut c = cfg.body["config"].clone();
        c["ai"]["providers"] = json!([{"kind": "gemini", "base_url": "https://gemini.test", "api_key_secret": "gemini"}]);
        c["ai"]["embedding"] = json!("offline");
        c["ai"]["model_analysis"] = json!(false);
        let r = self.call(
            Method::Put,
            "/v1/tenant/config",
            Some(&t.secret_key),
            Some(json!({"version": cfg.body["version"], "config": c})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Switches a feature flag (asserting it took).
    pub fn set_flag(&self, t: &TestTenant, flag: &str, on: bool) {
        let r = self.call(
            Method::Put,
            &format!("/v1/tenant/features/{flag}"),
            Some(&t.secret_key),
            Some(json!({"enabled": on})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Changes the tenant config with `edit` at its current version; the reply says whether
    /// the new document was taken (422s name the field).
    pub fn edit_config(&self, t: &TestTenant, edit: impl FnOnce(&mut Value)) -> Reply {
        let cfg = self.get("/v1/tenant/config", &t.secret_key);
        let mut c = cfg.body["config"].clone();
        edit(&mut c);
        self.call(
            Method::Put,
            "/v1/tenant/config",
            Some(&t.secret_key),
            Some(json!({"version": cfg.body["version"], "config": c})),
        )
    }

    pub fn count(&self, sql: &str) -> i64 {
        use prism_core::ports::SqlDatabase;
        block_on(self.rig.db.query(sql, &[])).unwrap()[0]
            .int("n")
            .unwrap()
    }
}

/// A knowledge folder's Markdown documents as (title, text), in file order; the title is the
/// first `# ` line. `dir` is relative to the repository root.
pub fn knowledge_docs(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let title = text
                .lines()
                .next()
                .unwrap()
                .trim_start_matches("# ")
                .to_string();
            (title, text)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Provider webhooks as the providers send them

pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "twilio-auth-token-for-tests";

/// A Twilio webhook as Twilio sends it, signed over `signed_url` (what Twilio requested).
pub fn twilio_request(
    t: &TestTenant,
    signed_url: &str,
    params: &[(&str, &str)],
    token: &str,
) -> Request {
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signatures::twilio_signature(token, signed_url, &pairs);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let mut r = Request::new(
        Method::Post,
        &format!("https://api.test/v1/webhooks/twilio/{}", t.id),
    );
    r.headers
        .append("content-type", "application/x-www-form-urlencoded");
    r.headers.append("x-twilio-signature", sig);
    r.body = body.into_bytes();
    r
}

pub fn inbound_sms(t: &TestTenant, sid: &str, from: &str, body: &str) -> Request {
    twilio_request(
        t,
        &format!("https://api.test/v1/webhooks/twilio/{}", t.id),
        &[
            ("MessageSid", sid),
            ("AccountSid", SID),
            ("From", from),
            ("To", "+15550009999"),
            ("Body", body),
            ("NumMedia", "0"),
        ],
        TOKEN,
    )
}

pub const SVIX_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub fn resend_request(
    api: &Api,
    t: &TestTenant,
    id: &str,
    event: &Value,
    ts_offset_s: i64,
) -> Request {
    let body = serde_json::to_vec(event).unwrap();
    let ts = api.rig.clock_now() / 1000 + ts_offset_s;
    let sig = signatures::svix_sign(SVIX_SECRET, id, ts, &body).unwrap();
    let mut r = Request::new(
        Method::Post,
        &format!("https://api.test/v1/webhooks/resend/{}", t.id),
    );
    r.headers.append("content-type", "application/json");
    r.headers.append("svix-id", id);
    r.headers.append("svix-timestamp", ts.to_string());
    r.headers.append("svix-signature", sig);
    r.body = body;
    r
}

/// A Gemini streaming reply carrying `text` (what the fake providers in tests answer with).
pub fn gemini_reply(text: &str) -> Response {
    let frame = json!({"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 8, "totalTokenCount": 38}, "modelVersion": "gemini-2.5-flash"});
    prism_core::testing::ScriptedHttp::sse(&[frame.to_string()])
}
