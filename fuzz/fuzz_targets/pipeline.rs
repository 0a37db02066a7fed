//! The whole request pipeline, natively (real SQLite, in-process objects): any method, path,
//! query, headers and body, anonymous or with a tenant's credentials. Whatever arrives, the
//! answer is a response with a status and, for errors, the JSON envelope; never a panic.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prism_core::http::{Method, Request};
use prism_core::router::Outcome;
use prism_core::testing::{TestRig, TEST_ADMIN_SECRET};
use serde_json::json;

#[derive(Arbitrary, Debug)]
struct Input {
    method: u8,
    /// Index into a list of real route paths, or free text.
    route: u8,
    path: String,
    query: String,
    credential: u8,
    content_type: u8,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct World {
    rig: TestRig,
    secret_key: String,
    public_key: String,
    conversation: String,
    token: String,
}

thread_local! {
    static WORLD: World = setup();
}

/// The status, the body as JSON (null when it is not) and whether it is an HTML page.
fn call(rig: &TestRig, req: Request) -> (u16, serde_json::Value, bool) {
    match futures::executor::block_on(prism_core::app::handle(rig.platform(), req)) {
        Outcome::Response(r) => {
            let body = serde_json::from_slice(r.body.as_bytes()).unwrap_or_default();
            let html = r
                .headers
                .get("content-type")
                .is_some_and(|t| t.starts_with("text/html"));
            (r.status, body, html)
        }
        Outcome::Upgrade(_) => (101, serde_json::Value::Null, false),
    }
}

fn setup() -> World {
    let mut rig = TestRig::new();
    let lots = json!({"count": 10_000_000, "period_secs": 1});
    rig.config.set("allow_local_egress", "on");
    let mut r = Request::new(Method::Post, "https://api.test/v1/platform/tenants");
    r.headers.set("authorization", format!("Bearer {TEST_ADMIN_SECRET}"));
    r.headers.set("content-type", "application/json");
    r.body = json!({"name": "Fuzz", "slug": "fuzz", "tier": "enterprise", "owner_email": "o@fuzz.example",
        "owner_name": "O", "allowed_origins": ["https://shop.example"],
        "limits": {"tenant": lots, "credential": lots, "visitor": lots, "anonymous": lots, "conversation_starts": lots}})
    .to_string()
    .into_bytes();
    let (_, t, _) = call(&rig, r);
    let secret_key = t["secret_key"].as_str().unwrap().to_string();
    let public_key = t["public_key"].as_str().unwrap().to_string();
    let mut r = Request::new(Method::Post, "https://api.test/v1/conversations");
    r.headers.set("authorization", format!("Bearer {secret_key}"));
    r.headers.set("content-type", "application/json");
    r.body = b"{\"name\":\"Ann\"}".to_vec();
    let (_, c, _) = call(&rig, r);
    World {
        conversation: c["conversation"]["conversation_id"].as_str().unwrap().to_string(),
        token: c["token"].as_str().unwrap().to_string(),
        rig,
        secret_key,
        public_key,
    }
}

const METHODS: [Method; 7] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Head,
    Method::Options,
];

fuzz_target!(|input: Input| {
    WORLD.with(|w| {
        let templates: Vec<&str> = prism_core::routes::TABLE.iter().map(|r| r.template).collect();
        let path = match templates.get(input.route as usize) {
            Some(t) => t
                .replace("{conversation_id}", &w.conversation)
                .replace("{tenant_id}", "ten_x")
                .split('/')
                .map(|seg| if seg.starts_with('{') { input.path.as_str() } else { seg })
                .collect::<Vec<_>>()
                .join("/"),
            None => format!("/{}", input.path),
        };
        let url = format!("https://api.test{path}?{}", input.query);
        let method = METHODS[input.method as usize % METHODS.len()];
        let mut r = Request::new(method, &url);
        for (n, v) in input.headers.iter().take(8) {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                r.headers.append(n, v.clone());
            }
        }
        match input.credential % 4 {
            0 => r.headers.set("authorization", format!("Bearer {}", w.secret_key)),
            1 => {
                r.headers.set("authorization", format!("Bearer {}", w.public_key));
                r.headers.set("origin", "https://shop.example");
            }
            2 => r.headers.set("authorization", format!("Bearer {}", w.token)),
            _ => {}
        }
        if input.content_type % 3 != 0 {
            r.headers.set("content-type", "application/json");
        }
        r.body = input.body;
        let (status, body, html) = call(&w.rig, r);
        assert!((100..600).contains(&status));
        // Pages people open in a browser (the survey link) answer errors with a page in their
        // language, not the API's envelope; the API itself (`/v1/…`) always uses the envelope.
        let page = html && !path.starts_with("/v1/");
        if status >= 400 && method != Method::Head && !page {
            assert!(body["error"]["code"].is_string(), "{status} without an envelope: {body}");
        }
    });
});
