//! The widget as a tenant's own site meets it: another origin than the edge. Conversation-token
//! calls are answered with CORS for the tenant's allowed origins (preflights find the tenant
//! through the conversation) and refused from others; a verified customer resumes on another
//! device; visitors rate answers.

mod common;

use common::{Api, TestTenant, ORIGIN};
use prism_core::http::{Method, Request};
use serde_json::{json, Value};

const EVIL: &str = "https://evil.example";

/// Starts a conversation the way the widget does: public key, from the tenant's site.
fn start(api: &Api, t: &TestTenant, body: Value) -> Value {
    let mut req = Api::req(
        Method::Post,
        &format!("/v1/conversations?key={}", t.public_key),
        None,
        Some(&body),
    );
    req.headers.append("origin", ORIGIN);
    let r = api.send(req);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    r.body
}

fn preflight(api: &Api, path: &str, origin: &str, method: &str) -> common::Reply {
    let mut r = Request::new(Method::Options, &format!("https://api.test{path}"));
    r.headers.append("origin", origin);
    r.headers.append("access-control-request-method", method);
    r.headers.append(
        "access-control-request-headers",
        "authorization, content-type",
    );
    api.send(r)
}

fn with_token(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    origin: Option<&str>,
    body: Option<Value>,
) -> common::Reply {
    let mut req = Api::req(method, path, Some(token), body.as_ref());
    if let Some(o) = origin {
        req.headers.append("origin", o);
    }
    api.send(req)
}

#[test]
fn conversation_token_calls_work_from_the_tenants_site_and_nowhere_else() {
    let api = Api::new();
    let t = api.create_tenant("embed", "pro", None);
    let other = api.create_tenant("embed-other", "pro", None);
    let started = start(&api, &t, json!({"name": "Ann"}));
    let id = started["conversation"]["conversation_id"].as_str().unwrap();
    let token = started["token"].as_str().unwrap();
    let messages = format!("/v1/conversations/{id}/messages");

    // Preflights carry no credentials: the conversation in the path names the tenant.
    for (path, method) in [
        (messages.as_str(), "GET"),
        (messages.as_str(), "POST"),
        (&format!("/v1/conversations/{id}/handoff"), "POST"),
        (&format!("/v1/conversations/{id}/read"), "POST"),
        (&format!("/v1/conversations/{id}/typing"), "POST"),
        (&format!("/v1/conversations/{id}/messages/2/rating"), "PUT"),
    ] {
        let ok = preflight(&api, path, ORIGIN, method);
        assert_eq!(ok.status, 204, "{method} {path}: {}", ok.body);
        assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
        assert!(ok
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization"));
        assert!(ok.header("access-control-allow-credentials").is_none());
        let refused = preflight(&api, path, EVIL, method);
        assert_eq!(refused.status, 403, "{method} {path}");
        assert!(refused.header("access-control-allow-origin").is_none());
    }
    // An id that does not exist, or is not even shaped like one, is refused the same way.
    for path in [
        "/v1/conversations/cnv_doesnotexist0000000000/messages",
        "/v1/conversations/%27%20OR%201%3D1/messages",
    ] {
        assert_eq!(preflight(&api, path, ORIGIN, "GET").status, 403, "{path}");
    }
    // Another tenant's allowed origin is not this tenant's.
    let mut c = api.get("/v1/tenant/config", &other.secret_key).body;
    c["config"]["allowed_origins"] = json!(["https://other.example"]);
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&other.secret_key),
        Some(json!({"version": c["version"], "config": c["config"]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        preflight(&api, &messages, "https://other.example", "GET").status,
        403
    );

    // The actual calls: allowed origin answered with CORS headers the browser needs.
    let sent = with_token(
        &api,
        Method::Post,
        &messages,
        token,
        Some(ORIGIN),
        Some(json!({"text": "Hello there", "client_msg_id": "c1"})),
    );
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(sent
        .header("access-control-expose-headers")
        .unwrap()
        .contains("retry-after"));
    let history = with_token(
        &api,
        Method::Get,
        &format!("{messages}?after_seq=0"),
        token,
        Some(ORIGIN),
        None,
    );
    assert_eq!(history.status, 200);
    assert_eq!(history.header("access-control-allow-origin"), Some(ORIGIN));
    let typing = with_token(
        &api,
        Method::Post,
        &format!("/v1/conversations/{id}/typing"),
        token,
        Some(ORIGIN),
        Some(json!({"typing": true})),
    );
    assert_eq!(typing.status, 204, "{}", typing.body);
    // A page on another origin holding the token is refused, and writes nothing.
    let before = api.count("SELECT COUNT(*) AS n FROM conversation_messages");
    let evil = with_token(
        &api,
        Method::Post,
        &messages,
        token,
        Some(EVIL),
        Some(json!({"text": "from elsewhere", "client_msg_id": "c2"})),
    );
    assert_eq!(evil.status, 403, "{}", evil.body);
    assert!(evil.header("access-control-allow-origin").is_none());
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM conversation_messages"),
        before
    );
    // Servers (no Origin) are judged by the token alone, and get no CORS headers.
    let server = with_token(&api, Method::Get, &messages, token, None, None);
    assert_eq!(server.status, 200);
    assert!(server.header("access-control-allow-origin").is_none());
    // Agents are not widget callers: no CORS for their responses.
    let (_, agent) = api.user_with_role(&t, "agent");
    let r = with_token(&api, Method::Get, &messages, &agent, Some(ORIGIN), None);
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[test]
fn a_verified_customer_resumes_their_conversation_on_another_device() {
    let api = Api::new();
    let t = api.create_tenant("resume", "pro", None);
    let hash = prism_core::auth::identity::user_hash(&t.identity_secret, "cust-42");
    let resume = |body: Value| {
        let mut req = Api::req(
            Method::Post,
            &format!("/v1/widget/resume?key={}", t.public_key),
            None,
            Some(&body),
        );
        req.headers.append("origin", ORIGIN);
        api.send(req)
    };
    // Nothing to resume yet: 404, and nothing is created.
    let none = resume(json!({"user_id": "cust-42", "user_hash": hash}));
    assert_eq!(none.status, 404, "{}", none.body);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM conversations"), 0);
    let first = start(
        &api,
        &t,
        json!({"user_id": "cust-42", "user_hash": hash, "name": "Kim"}),
    );
    let id = first["conversation"]["conversation_id"].as_str().unwrap();
    let r = with_token(
        &api,
        Method::Post,
        &format!("/v1/conversations/{id}/messages"),
        first["token"].as_str().unwrap(),
        Some(ORIGIN),
        Some(json!({"text": "Where is order 1234?", "client_msg_id": "d1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // The second device proves the same identity and gets the same conversation.
    let second = resume(json!({"user_id": "cust-42", "user_hash": hash}));
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["conversation"]["conversation_id"], id);
    assert_eq!(second.header("access-control-allow-origin"), Some(ORIGIN));
    let h = with_token(
        &api,
        Method::Get,
        &format!("/v1/conversations/{id}/messages?after_seq=0"),
        second.body["token"].as_str().unwrap(),
        Some(ORIGIN),
        None,
    );
    assert!(h.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["text"] == "Where is order 1234?"));
    // A wrong hash, or another customer's id, gets nothing.
    assert_eq!(
        resume(json!({"user_id": "cust-42", "user_hash": "00"})).status,
        403
    );
    let other_hash = prism_core::auth::identity::user_hash(&t.identity_secret, "cust-43");
    assert_eq!(
        resume(json!({"user_id": "cust-43", "user_hash": other_hash})).status,
        404
    );
    assert_eq!(resume(json!({})).status, 422);
}

#[test]
fn visitors_rate_answers_and_the_tenant_sees_the_tally() {
    let api = Api::new();
    let t = api.create_tenant("ratings", "pro", None);
    let started = start(&api, &t, json!({"name": "Ann"}));
    let id = started["conversation"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = started["token"].as_str().unwrap().to_string();
    let r = with_token(
        &api,
        Method::Post,
        &format!("/v1/conversations/{id}/messages"),
        &token,
        Some(ORIGIN),
        Some(json!({"text": "Hello", "client_msg_id": "r1"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let history = api.get(
        &format!("/v1/conversations/{id}/messages?after_seq=0"),
        &token,
    );
    let messages = history.body["messages"].as_array().unwrap().clone();
    let ai = messages
        .iter()
        .find(|m| m["author"]["type"] == "ai")
        .unwrap_or_else(|| panic!("an AI answer: {messages:?}"));
    let ai_seq = ai["seq"].as_i64().unwrap();
    let rate = |seq: i64, token: &str, body: Value| {
        with_token(
            &api,
            Method::Put,
            &format!("/v1/conversations/{id}/messages/{seq}/rating"),
            token,
            Some(ORIGIN),
            Some(body),
        )
    };
    let r = rate(ai_seq, &token, json!({"rating": "down"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["author_type"], "ai");
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    // Rating again replaces the rating (one per message), with a comment this time.
    let r = rate(
        ai_seq,
        &token,
        json!({"rating": "up", "comment": "  Quick and right  "}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["comment"], "Quick and right");
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM message_ratings"), 1);
    // Only answers can be rated, only existing ones, only by the customer, only sensibly.
    assert_eq!(
        rate(1, &token, json!({"rating": "up"})).status,
        422,
        "own message"
    );
    assert_eq!(rate(999, &token, json!({"rating": "up"})).status, 404);
    assert_eq!(rate(0, &token, json!({"rating": "up"})).status, 404);
    assert_eq!(rate(ai_seq, &token, json!({"rating": "meh"})).status, 422);
    let long = "x".repeat(1001);
    assert_eq!(
        rate(ai_seq, &token, json!({"rating": "up", "comment": long})).status,
        422
    );
    let (_, agent) = api.user_with_role(&t, "agent");
    assert_eq!(rate(ai_seq, &agent, json!({"rating": "up"})).status, 403);
    // Another conversation's token cannot rate this one.
    let other = start(&api, &t, json!({"name": "Bob"}));
    assert_eq!(
        rate(
            ai_seq,
            other["token"].as_str().unwrap(),
            json!({"rating": "down"})
        )
        .status,
        404
    );

    let summary = api.get("/v1/ratings?days=7", &t.secret_key);
    assert_eq!(summary.status, 200, "{}", summary.body);
    assert_eq!(summary.body["all"]["up"], 1);
    assert_eq!(summary.body["all"]["down"], 0);
    assert_eq!(summary.body["ai"]["satisfaction"], 1.0);
    assert_eq!(summary.body["agent"]["up"], 0);
    assert_eq!(summary.body["comments"][0]["comment"], "Quick and right");
    assert_eq!(api.get("/v1/ratings?days=0", &t.secret_key).status, 422);
    // Tenants see only their own ratings; agents (analytics:read) see their tenant's.
    let stranger = api.create_tenant("ratings-other", "pro", None);
    let theirs = api.get("/v1/ratings", &stranger.secret_key);
    assert_eq!(theirs.body["all"]["up"], 0);
    assert_eq!(api.get("/v1/ratings", &agent).status, 200);
}

/// A key-value cache whose writes finish on the second poll, as a real one's do: lets two
/// requests interleave the way they do in one isolate.
struct SlowWritesKv(std::rc::Rc<prism_core::testing::MemoryKv>);

#[async_trait::async_trait(?Send)]
impl prism_core::ports::KvStore for SlowWritesKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, prism_core::ports::PortError> {
        self.0.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<u64>,
    ) -> Result<(), prism_core::ports::PortError> {
        let mut polled = false;
        futures::future::poll_fn(|cx| {
            if polled {
                std::task::Poll::Ready(())
            } else {
                polled = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
        self.0.put(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), prism_core::ports::PortError> {
        self.0.delete(key).await
    }
}

#[test]
fn a_just_allowed_site_gets_every_one_of_its_first_concurrent_preflights() {
    // The widget's first calls preflight together. The edge still holds the key's record from
    // before the tenant added the site: each preflight must confirm against the database, not
    // be refused because another one's confirmation is still in flight.
    let api = Api::new();
    let t = api.create_tenant("race", "pro", None);
    let site = "https://new-site.example";
    let settings = format!("/v1/widget/settings?key={}", t.public_key);
    let start = format!("/v1/conversations?key={}", t.public_key);
    assert_eq!(preflight(&api, &settings, ORIGIN, "GET").status, 204);
    let r = api.edit_config(&t, |c| {
        c["allowed_origins"]
            .as_array_mut()
            .unwrap()
            .push(json!(site))
    });
    assert_eq!(r.status, 200, "{}", r.body);

    let mut platform = std::rc::Rc::try_unwrap(api.rig.platform())
        .ok()
        .expect("one owner");
    platform.kv = Some(std::rc::Rc::new(SlowWritesKv(api.rig.kv.clone())));
    let platform = std::rc::Rc::new(platform);
    let ask = |path: &str, method: &str| {
        let mut r = Request::new(Method::Options, &format!("https://api.test{path}"));
        r.headers.append("origin", site);
        r.headers.append("access-control-request-method", method);
        prism_core::app::handle(platform.clone(), r)
    };
    let status = |o: prism_core::router::Outcome| match o {
        prism_core::router::Outcome::Response(r) => r.status,
        prism_core::router::Outcome::Upgrade(_) => 0,
    };
    let (a, b) = futures::executor::block_on(futures::future::join(
        ask(&settings, "GET"),
        ask(&start, "POST"),
    ));
    assert_eq!((status(a), status(b)), (204, 204));
    // A stranger is still refused, straight after.
    assert_eq!(preflight(&api, &start, EVIL, "POST").status, 403);
}
