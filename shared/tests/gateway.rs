//! The gateway over the whole route table, natively: tenant isolation, authentication failures,
//! role and scope checks route by route, exact rate limits, revocation through stale caches,
//! input hygiene, headers and the OpenAPI document.

mod common;

use common::{Api, TestTenant, ORIGIN};
use prism_core::auth::{Access, Permission};
use prism_core::http::{Method, Request};
use prism_core::router::Route;
use prism_core::routes::TABLE;
use prism_core::testing::{fill_path, sample_body, TEST_ADMIN_SECRET};
use serde_json::{json, Value};

/// Every route a tenant credential can reach (tenant and conversation routes).
fn tenant_routes() -> impl Iterator<Item = (&'static Route, Permission)> {
    TABLE.iter().filter_map(|r| match r.access {
        Access::Tenant(p) | Access::Conversation(p) => Some((r, p)),
        _ => None,
    })
}

/// Fills a route's path parameters with resources that belong to `owner`.
fn path_for(r: &Route, owner: &Owned) -> String {
    fill_path(
        r,
        &[
            ("key_id", &owner.key_id),
            ("user_id", &owner.user_id),
            ("conversation_id", &owner.conversation_id),
            ("canned_id", &owner.canned_id),
            ("document_id", &owner.document_id),
            ("invitation_id", &owner.invitation_id),
            ("customer_id", &owner.customer_id),
            ("endpoint_id", &owner.endpoint_id),
            ("delivery_id", &owner.delivery_id),
            ("lead_id", &owner.lead_id),
        ],
    )
}

struct Owned {
    lead_id: String,
    endpoint_id: String,
    delivery_id: String,
    key_id: String,
    user_id: String,
    conversation_id: String,
    canned_id: String,
    document_id: String,
    invitation_id: String,
    customer_id: String,
}

fn owned_resources(api: &Api, t: &TestTenant) -> Owned {
    // Every feature on, so each route is reachable and its access rule is what is tested.
    let r = api.call(
        Method::Put,
        "/v1/tenant/features/surveys",
        Some(&t.secret_key),
        Some(json!({"enabled": true})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.call(
        Method::Post,
        "/v1/api-keys",
        Some(&t.secret_key),
        Some(json!({"name": "victim", "kind": "secret", "scopes": ["admin"]})),
    );
    let (user_id, _) = api.user_with_role(t, "agent");
    // An endpoint before the conversation, so the conversation's first event is a delivery.
    let hook = api.call(
        Method::Post,
        "/v1/webhooks/endpoints",
        Some(&t.secret_key),
        Some(json!({"url": format!("https://hooks.{}.example/in", t.slug), "events": ["*"]})),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let endpoint_id = hook.body["id"].as_str().unwrap().to_string();
    let c = api.call(
        Method::Post,
        "/v1/conversations",
        Some(&t.secret_key),
        Some(json!({"name": "Victim"})),
    );
    assert_eq!(c.status, 201, "{}", c.body);
    let canned = api.call(
        Method::Post,
        "/v1/canned-responses",
        Some(&t.secret_key),
        Some(json!({"shortcut": "victim", "title": "V", "text": "v"})),
    );
    assert_eq!(canned.status, 201, "{}", canned.body);
    let doc = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(json!({"title": "Victim doc", "content": "Secret victim knowledge."})),
    );
    assert_eq!(doc.status, 201, "{}", doc.body);
    let inv = api.call(
        Method::Post,
        "/v1/invitations",
        Some(&t.secret_key),
        Some(json!({"email": format!("pending@{}.example", t.slug), "name": "Pending", "role": "agent"})),
    );
    assert_eq!(inv.status, 201, "{}", inv.body);
    let deliveries = api.get(
        &format!("/v1/webhooks/endpoints/{endpoint_id}/deliveries"),
        &t.secret_key,
    );
    let delivery_id = deliveries.body["items"][0]["id"]
        .as_str()
        .expect("the conversation's first event is a delivery")
        .to_string();
    let customer_id: String = c.body["conversation"]["customer_id"]
        .as_str()
        .unwrap()
        .into();
    let lead = api.call(
        Method::Post,
        "/v1/leads",
        Some(&t.secret_key),
        Some(json!({"customer_id": customer_id, "email": format!("victim@{}.example", t.slug)})),
    );
    assert_eq!(lead.status, 201, "{}", lead.body);
    Owned {
        lead_id: lead.body["id"].as_str().unwrap().into(),
        endpoint_id,
        delivery_id,
        key_id: r.body["key"]["id"].as_str().unwrap().into(),
        user_id,
        conversation_id: c.body["conversation"]["conversation_id"]
            .as_str()
            .unwrap()
            .into(),
        canned_id: canned.body["id"].as_str().unwrap().into(),
        document_id: doc.body["id"].as_str().unwrap().into(),
        invitation_id: inv.body["invitation"]["id"].as_str().unwrap().into(),
        customer_id,
    }
}

/// Everything tenant A could lose: a snapshot of its rows.
fn snapshot(api: &Api, t: &TestTenant) -> Vec<String> {
    use prism_core::ports::SqlDatabase;
    let q = |sql: &str| -> String {
        let rows = futures::executor::block_on(
            api.rig
                .db
                .query(sql, &[prism_core::ports::SqlValue::Text(t.id.clone())]),
        )
        .unwrap();
        format!("{rows:?}")
    };
    vec![
        q("SELECT * FROM tenants WHERE id = ?1"),
        q("SELECT * FROM tenant_configs WHERE tenant_id = ?1"),
        q("SELECT * FROM tenant_feature_flags WHERE tenant_id = ?1"),
        q("SELECT * FROM users WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM api_keys WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM invitations WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM conversations WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM conversation_messages WHERE tenant_id = ?1 ORDER BY conversation_id, seq"),
        q("SELECT * FROM canned_responses WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM kb_documents WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT id, document_id, text FROM kb_chunks WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT name, value FROM tenant_secrets WHERE tenant_id = ?1 ORDER BY name"),
        q("SELECT object, meta FROM conv_meta WHERE object LIKE ?1 || ':%'"),
        // A change's state is queued with its outbox entry until the flush writes the row.
        q("SELECT object, id, ops FROM conv_outbox WHERE object LIKE ?1 || ':%' ORDER BY object, id"),
        q("SELECT * FROM webhook_endpoints WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT id, status, replay_base, payload FROM webhook_deliveries WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM leads WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM lead_stage_history WHERE tenant_id = ?1 ORDER BY id"),
        q("SELECT * FROM crm_connections WHERE tenant_id = ?1 ORDER BY provider"),
    ]
}

#[test]
fn every_tenant_route_isolates_tenants() {
    let api = Api::new();
    let a = api.create_tenant("tenant-a", "enterprise", None);
    let b = api.create_tenant("tenant-b", "enterprise", None);
    let a_res = owned_resources(&api, &a);
    let before = snapshot(&api, &a);
    for (r, _) in tenant_routes() {
        let path = path_for(r, &a_res);
        let reply = api.call(r.method, &path, Some(&b.secret_key), sample_body(r));
        // `{flag}`, `{name}` and `{provider}` name things within the caller's own tenant,
        // not A's resources.
        if r.template.contains('{')
            && !r.template.contains("{flag}")
            && !r.template.contains("{name}")
            && !r.template.contains("{provider}")
        {
            assert_eq!(
                reply.status, 404,
                "{} {} with B's key on A's resource: {}",
                r.method, r.template, reply.body
            );
            assert_eq!(reply.code(), "not_found");
        }
        let text = reply.body.to_string();
        assert!(
            !text.contains(&a.id),
            "{} {} leaked tenant A's id",
            r.method,
            r.template
        );
        assert!(
            !text.contains(&a_res.user_id) && !text.contains(&a_res.key_id),
            "{} {} leaked A's resources",
            r.method,
            r.template
        );
    }
    assert_eq!(
        before,
        snapshot(&api, &a),
        "tenant A's data changed through tenant B's calls"
    );
}

#[test]
fn roles_and_scopes_are_enforced_route_by_route() {
    let api = Api::new();
    let t = api.create_tenant("roles", "enterprise", None);
    let res = owned_resources(&api, &t);
    for role in ["viewer", "agent", "reviewer", "admin", "owner"] {
        let (_, jwt) = api.user_with_role(&t, role);
        let role_v = prism_core::users::Role::parse(role).unwrap();
        for (r, perm) in tenant_routes() {
            let reply = api.call(r.method, &path_for(r, &res), Some(&jwt), sample_body(r));
            let allowed = perm.granted_to_role(role_v);
            if allowed {
                assert_ne!(
                    reply.status, 403,
                    "{role} should reach {} {}: {}",
                    r.method, r.template, reply.body
                );
                assert_ne!(
                    reply.status, 401,
                    "{role} on {} {}: {}",
                    r.method, r.template, reply.body
                );
            } else {
                assert_eq!(
                    reply.status, 403,
                    "{role} must not reach {} {}: {}",
                    r.method, r.template, reply.body
                );
            }
        }
    }
    // A secret key holding one scope reaches exactly the routes of that scope.
    let reader = api.key_with_scopes(&t, &["users:read"]);
    for (r, perm) in tenant_routes() {
        let reply = api.call(r.method, &path_for(r, &res), Some(&reader), sample_body(r));
        if perm == Permission::UsersRead {
            assert_eq!(
                reply.status, 200,
                "{} {}: {}",
                r.method, r.template, reply.body
            );
        } else {
            assert_eq!(
                reply.status, 403,
                "users:read key on {} {}: {}",
                r.method, r.template, reply.body
            );
        }
    }
    // The public widget key reaches only widget routes, and only from an allowed origin.
    for (r, perm) in tenant_routes() {
        let mut req = Api::req(
            r.method,
            &path_for(r, &res),
            Some(&t.public_key),
            sample_body(r).as_ref(),
        );
        req.headers.append("origin", ORIGIN);
        let reply = api.send(req);
        if perm.allowed_for_public_key() {
            assert!(
                ![401, 403].contains(&reply.status),
                "{} {}: {}",
                r.method,
                r.template,
                reply.body
            );
            assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
        } else {
            assert_eq!(
                reply.status, 403,
                "public key on {} {}",
                r.method, r.template
            );
        }
    }
    let mut req = Api::req(
        Method::Post,
        "/v1/widget/identify",
        Some(&t.public_key),
        Some(&json!({})),
    );
    req.headers.append("origin", "https://evil.example");
    assert_eq!(api.send(req).status, 403);
}

#[test]
fn bad_credentials_are_rejected_with_the_right_code() {
    let api = Api::new();
    let t = api.create_tenant("creds", "pro", None);
    let other = api.create_tenant("other", "pro", None);
    let ok = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(ok.status, 200);

    let cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        ("missing", None, 401, "unauthorized"),
        ("malformed", Some("garbage".into()), 401, "invalid_token"),
        (
            "unknown key",
            Some(format!("{}x", &t.secret_key[..t.secret_key.len() - 1])),
            401,
            "invalid_token",
        ),
        (
            "bad jwt",
            Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln".into()),
            401,
            "invalid_token",
        ),
    ];
    for (name, cred, status, code) in cases {
        let r = api.call(Method::Get, "/v1/tenant", cred.as_deref(), None);
        assert_eq!((r.status, r.code()), (status, code), "{name}: {}", r.body);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{name}");
    }

    // Expired token: move the clock past its lifetime and leeway.
    let (_, jwt) = api.user_with_role(&t, "admin");
    assert_eq!(api.get("/v1/tenant", &jwt).status, 200);
    api.rig.clock.advance((15 * 60 + 31) * 1000);
    let r = api.get("/v1/tenant", &jwt);
    assert_eq!((r.status, r.code()), (401, "token_expired"));

    // Wrong signature and wrong audience: tokens signed by other keys / for another audience.
    let forged = prism_core::auth::jwt::JwtKeys::from_config(Some(
        "k1:a-completely-different-signing-secret!!",
    ))
    .unwrap()
    .issue(
        &t.owner_id,
        &t.id,
        prism_core::users::Role::Owner,
        api.rig.clock_now(),
    )
    .unwrap();
    assert_eq!(api.get("/v1/tenant", &forged).code(), "invalid_token");

    // A token for a user of tenant T claiming tenant OTHER.
    let cross =
        prism_core::auth::jwt::JwtKeys::from_config(Some(prism_core::testing::TEST_JWT_KEYS))
            .unwrap()
            .issue(
                &t.owner_id,
                &other.id,
                prism_core::users::Role::Owner,
                api.rig.clock_now(),
            )
            .unwrap();
    assert_eq!(
        api.get("/v1/tenant", &cross).status,
        401,
        "wrong-tenant token"
    );

    // Secret keys in the query string are refused (they would leak into logs).
    let r = api.call(
        Method::Get,
        &format!("/v1/tenant?key={}", t.secret_key),
        None,
        None,
    );
    assert_eq!(r.status, 401);
}

#[test]
fn wrong_audience_tokens_are_rejected() {
    use base64::Engine;
    use hmac::Mac;
    let api = Api::new();
    let t = api.create_tenant("aud", "pro", None);
    let now = api.rig.clock_now() / 1000;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = b64(&json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}));
    let claims = b64(
        &json!({"iss": "prismai-edge", "aud": "someone-else", "sub": t.owner_id, "tid": t.id, "role": "owner", "iat": now, "nbf": now, "exp": now + 600}),
    );
    let secret = prism_core::testing::TEST_JWT_KEYS
        .split_once(':')
        .unwrap()
        .1;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{claims}").as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let r = api.get("/v1/tenant", &format!("{header}.{claims}.{sig}"));
    assert_eq!((r.status, r.code()), (401, "invalid_token"), "{}", r.body);
}

#[test]
fn revocation_beats_a_stale_cache() {
    let api = Api::new();
    let t = api.create_tenant("revoke", "pro", None);
    let created = api.call(
        Method::Post,
        "/v1/api-keys",
        Some(&t.secret_key),
        Some(json!({"name": "temp", "kind": "secret", "scopes": ["tenant:read"]})),
    );
    let key = created.body["secret"].as_str().unwrap().to_string();
    let prefix = created.body["key"]["prefix"].as_str().unwrap().to_string();
    let id = created.body["key"]["id"].as_str().unwrap().to_string();
    assert_eq!(api.get("/v1/tenant", &key).status, 200, "warms the cache");
    let cache_key = format!("auth:key:{prefix}");
    let stale =
        futures::executor::block_on(prism_core::ports::KvStore::get(&*api.rig.kv, &cache_key))
            .unwrap()
            .unwrap();

    let r = api.call(
        Method::Delete,
        &format!("/v1/api-keys/{id}"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.body["revoked_at"].is_i64());
    // Simulate an edge whose KV still holds the pre-revocation record.
    futures::executor::block_on(prism_core::ports::KvStore::put(
        &*api.rig.kv,
        &cache_key,
        &stale,
        None,
    ))
    .unwrap();
    let r = api.get("/v1/tenant", &key);
    assert_eq!((r.status, r.code()), (401, "invalid_token"));
}

#[test]
fn deactivated_users_lose_access_on_their_next_request() {
    let api = Api::new();
    let t = api.create_tenant("deact", "pro", None);
    let (uid, jwt) = api.user_with_role(&t, "agent");
    assert_eq!(api.get("/v1/users", &jwt).status, 200);
    let r = api.call(
        Method::Patch,
        &format!("/v1/users/{uid}"),
        Some(&t.secret_key),
        Some(json!({"status": "deactivated"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(api.get("/v1/users", &jwt).status, 401);
}

#[test]
fn rate_limits_are_exact_and_recover_on_time() {
    let api = Api::new();
    let t = api.create_tenant(
        "limited",
        "enterprise",
        Some(json!({"tenant": {"count": 5, "period_secs": 10}})),
    );
    let mut statuses = vec![];
    for _ in 0..6 {
        let r = api.get("/v1/tenant", &t.secret_key);
        statuses.push(r.status);
        if r.status == 200 {
            assert_eq!(r.header("ratelimit-limit"), Some("5"));
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    api.rig.clock.advance(1_999);
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 429);
    api.rig.clock.advance(1);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    api.rig.clock.advance(10_000);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.header("ratelimit-remaining"), Some("4"));
    // The usage endpoint counts allowed and denied requests.
    api.rig.clock.advance(10_000);
    let u = api.get("/v1/usage", &t.secret_key);
    assert_eq!(u.body["days"][0]["denied"], 3);
}

#[test]
fn a_tier_change_applies_to_the_next_request() {
    let api = Api::new();
    let t = api.create_tenant("upgrade", "free", None);
    assert_eq!(
        api.get("/v1/tenant", &t.secret_key)
            .header("ratelimit-limit"),
        Some("20"),
        "free credential burst"
    );
    let r = api.call(
        Method::Patch,
        &format!("/v1/platform/tenants/{}", t.id),
        Some(TEST_ADMIN_SECRET),
        Some(json!({"tier": "pro"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.body["tenant"]["tier"], "pro");
    assert_eq!(r.body["limits"]["tenant"]["count"], 1000);
    assert_eq!(
        r.header("ratelimit-limit"),
        Some("50"),
        "pro credential burst charged at once"
    );
    // Suspension also bites at once.
    api.call(
        Method::Patch,
        &format!("/v1/platform/tenants/{}", t.id),
        Some(TEST_ADMIN_SECRET),
        Some(json!({"status": "suspended"})),
    );
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 403);
}

#[test]
fn bad_input_gets_clear_errors_and_writes_nothing() {
    let api = Api::new();
    let t = api.create_tenant("input", "pro", None);
    let audits = || api.count("SELECT COUNT(*) AS n FROM audit_logs");
    let keys = || api.count("SELECT COUNT(*) AS n FROM api_keys");
    let (a0, k0) = (audits(), keys());
    let send = |ct: &str, body: Vec<u8>| {
        let mut r = Request::new(Method::Post, "https://api.test/v1/api-keys");
        r.headers
            .append("authorization", format!("Bearer {}", t.secret_key));
        r.headers.append("content-type", ct);
        r.body = body;
        api.send(r)
    };
    type Case = (
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "application/json",
            vec![b' '; 70 * 1024],
            413,
            "payload_too_large",
            None,
        ),
        (
            "text/plain",
            br#"{"name":"x","kind":"secret"}"#.to_vec(),
            415,
            "unsupported_media_type",
            None,
        ),
        (
            "application/json",
            b"{\"name\":\"\xff\xfe\",\"kind\":\"secret\"}".to_vec(),
            400,
            "bad_request",
            None,
        ),
        (
            "application/json",
            format!("{}{}", "[".repeat(500), "]".repeat(500)).into_bytes(),
            400,
            "invalid_json",
            None,
        ),
        (
            "application/json",
            br#"{"name":"x","kind":"secret","admin":true}"#.to_vec(),
            422,
            "validation_failed",
            None,
        ),
        (
            "application/json",
            br#"{"name":"x","kind":"galactic"}"#.to_vec(),
            422,
            "validation_failed",
            Some("kind"),
        ),
        (
            "application/json",
            br#"{"name":"x","kind":"secret","scopes":["everything"]}"#.to_vec(),
            422,
            "validation_failed",
            Some("scopes[0]"),
        ),
        (
            "application/json",
            br#"{"name":"x","kind":"secret"} trailing"#.to_vec(),
            400,
            "invalid_json",
            None,
        ),
    ];
    for (ct, body, status, code, field) in cases {
        let r = send(ct, body);
        assert_eq!((r.status, r.code()), (status, code), "{}", r.body);
        if let Some(f) = field {
            assert_eq!(r.body["error"]["field"], f);
        }
    }
    let r = api.call(Method::Patch, &format!("/v1/platform/tenants/{}", t.id), Some(TEST_ADMIN_SECRET),
        Some(json!({"limits": {"tenant": {"count": 99999999999999999999u128 as f64, "period_secs": 1}}})));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["error"]["field"], "limits.tenant.count");
    assert_eq!((audits(), keys()), (a0, k0), "nothing written");
}

#[test]
fn config_is_typed_versioned_and_audited() {
    let api = Api::new();
    let t = api.create_tenant("config", "pro", None);
    // Entries written in the same millisecond are ordered by their random ids.
    api.rig.clock.advance(1);
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let v = cfg.body["version"].as_i64().unwrap();
    let mut c = cfg.body["config"].clone();
    c["language"] = json!("pt-BR");
    let r = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": v, "config": c})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["version"], v + 1);
    let stale = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": v, "config": c})),
    );
    assert_eq!((stale.status, stale.code()), (409, "conflict"));
    c["allowed_origins"] = json!(["not an origin"]);
    let bad = api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": v + 1, "config": c})),
    );
    assert_eq!(
        bad.body["error"]["field"],
        "config.allowed_origins[0]".replace("config.", "")
    );
    let log = api.get("/v1/audit-logs?limit=100", &t.secret_key);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["tenant.create", "config.update"]);
    let entry = &log.body["items"][1];
    assert_eq!(entry["before"]["language"], "en");
    assert_eq!(entry["after"]["language"], "pt-BR");
    assert_eq!(entry["actor_type"], "api_key");
    assert!(entry["request_id"].as_str().unwrap().len() > 10);
}

#[test]
fn pagination_is_stable_and_complete() {
    let api = Api::new();
    let t = api.create_tenant("pages", "enterprise", None);
    for i in 0..7 {
        api.call(
            Method::Post,
            "/v1/api-keys",
            Some(&t.secret_key),
            Some(json!({"name": format!("k{i}"), "kind": "public"})),
        );
    }
    let mut seen = vec![];
    let mut cursor = String::new();
    loop {
        let r = api.get(
            &format!("/v1/api-keys?limit=3&cursor={cursor}"),
            &t.secret_key,
        );
        assert_eq!(r.status, 200);
        for k in r.body["items"].as_array().unwrap() {
            seen.push(k["id"].as_str().unwrap().to_string());
            assert!(k.get("hash").is_none(), "hashes are never listed");
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "two default keys plus seven");
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen);
}

#[test]
fn responses_carry_security_headers_and_cors_only_for_allowed_widget_origins() {
    let api = Api::new();
    let t = api.create_tenant("cors", "pro", None);
    let r = api.call(Method::Get, "/health", None, None);
    for h in [
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(r.header(h).is_some(), "missing {h}");
    }
    let preflight = |origin: &str, key: &str| {
        let mut r = Request::new(
            Method::Options,
            &format!("https://api.test/v1/widget/identify?key={key}"),
        );
        r.headers.append("origin", origin);
        r.headers.append("access-control-request-method", "POST");
        api.send(r)
    };
    let ok = preflight(ORIGIN, &t.public_key);
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(ok.header("access-control-allow-credentials").is_none());
    let denied = preflight("https://evil.example", &t.public_key);
    assert_eq!(denied.status, 403);
    assert!(denied.header("access-control-allow-origin").is_none());
    // Non-widget routes have no CORS at all.
    let mut r = Request::new(Method::Options, "https://api.test/v1/api-keys");
    r.headers.append("origin", ORIGIN);
    r.headers.append("access-control-request-method", "GET");
    assert!(api.send(r).header("access-control-allow-origin").is_none());
}

#[test]
fn identity_verification_links_only_matching_hashes() {
    let api = Api::new();
    let t = api.create_tenant("ident", "pro", None);
    let call = |body: Value| {
        let mut req = Api::req(
            Method::Post,
            "/v1/widget/identify",
            Some(&t.public_key),
            Some(&body),
        );
        req.headers.append("origin", ORIGIN);
        api.send(req)
    };
    let hash = prism_core::auth::identity::user_hash(&t.identity_secret, "cust-1");
    let r = call(json!({"user_id": "cust-1", "user_hash": hash}));
    assert_eq!(
        (r.body["kind"].as_str(), r.body["id"].as_str()),
        (Some("verified"), Some("cust-1"))
    );
    let r = call(json!({"user_id": "cust-2", "user_hash": hash}));
    assert_eq!(r.status, 403);
    let r = call(json!({}));
    assert_eq!(r.body["kind"], "anonymous");
    let vid = r.body["id"].as_str().unwrap().to_string();
    let r = call(json!({"visitor_id": vid}));
    assert_eq!(r.body["id"], vid.as_str());
}

#[test]
fn logs_name_the_tenant_and_key_prefix_but_never_secrets() {
    let api = Api::new();
    let t = api.create_tenant("logs", "pro", None);
    api.get("/v1/tenant", &t.secret_key);
    let logs = api.rig.log.0.borrow();
    let last: Value = serde_json::from_str(logs.last().unwrap()).unwrap();
    assert_eq!(last["tenant"], t.id.as_str());
    assert_eq!(last["route"], "/v1/tenant");
    assert!(t
        .secret_key
        .starts_with(last["credential"].as_str().unwrap()));
    for line in logs.iter() {
        assert!(!line.contains(&t.secret_key) && !line.contains(TEST_ADMIN_SECRET));
    }
}

#[test]
fn the_last_owner_cannot_be_removed_and_only_owners_grant_ownership() {
    let api = Api::new();
    let t = api.create_tenant("owners", "pro", None);
    let r = api.call(
        Method::Patch,
        &format!("/v1/users/{}", t.owner_id),
        Some(&t.secret_key),
        Some(json!({"role": "admin"})),
    );
    assert_eq!(r.code(), "conflict");
    let (_, admin_jwt) = api.user_with_role(&t, "admin");
    let (agent_id, _) = api.user_with_role(&t, "agent");
    let r = api.call(
        Method::Patch,
        &format!("/v1/users/{agent_id}"),
        Some(&admin_jwt),
        Some(json!({"role": "owner"})),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn openapi_documents_every_route_with_auth_schemas_and_errors() {
    let api = Api::new();
    let doc = api.call(Method::Get, "/v1/openapi.json", None, None).body;
    assert_eq!(doc["openapi"], "3.1.0");
    for r in TABLE {
        let op = &doc["paths"][r.template][r.method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{} {} missing from the OpenAPI document",
            r.method,
            r.template
        );
        assert!(
            !op["summary"].as_str().unwrap_or("").is_empty(),
            "{} {} has no summary",
            r.method,
            r.template
        );
        if matches!(r.access, Access::Tenant(_) | Access::Platform) {
            assert!(!op["security"].as_array().unwrap().is_empty());
            assert!(op["responses"]["401"].is_object());
        }
        if r.request.is_some() {
            assert!(op["requestBody"]["content"]["application/json"]["schema"].is_object());
            assert!(op["responses"]["422"].is_object());
        }
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
}

#[test]
fn a_tier_change_at_the_limit_carries_usage_over_not_debt() {
    let api = Api::new();
    let burst = json!({"count": 100_000, "period_secs": 1});
    let t = api.create_tenant("upgrader", "free", Some(json!({"credential": burst})));
    let used_up = |api: &Api, n: usize| {
        for i in 0..n {
            let r = api.get("/v1/tenant", &t.secret_key);
            assert_eq!(r.status, 200, "request {i}: {}", r.body);
        }
    };
    used_up(&api, 100);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.status, 429, "Free: 100 per hour");
    // Upgrade at the limit: the 100 used count against Pro's 1,000, at once.
    let r = api.call(
        Method::Patch,
        &format!("/v1/platform/tenants/{}", t.id),
        Some(TEST_ADMIN_SECRET),
        Some(json!({"tier": "pro"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let first = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(first.status, 200, "{}", first.body);
    let remaining: i64 = first
        .header("ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (890..=900).contains(&remaining),
        "remaining {remaining} of 1000"
    );
    used_up(&api, remaining as usize);
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 429);

    // Downgrade with a full Pro window used: limited to Free's window, not hours of debt.
    let r = api.call(
        Method::Patch,
        &format!("/v1/platform/tenants/{}", t.id),
        Some(TEST_ADMIN_SECRET),
        Some(json!({"tier": "free"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let denied = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(denied.status, 429);
    let wait: i64 = denied.header("retry-after").unwrap().parse().unwrap();
    assert!(wait <= 36, "one Free slot at most, not {wait} s");
    api.rig.clock.advance(wait * 1000);
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 200);
}

#[test]
fn rate_limited_requests_are_logged_with_their_tenant_and_credential() {
    let api = Api::new();
    let t = api.create_tenant(
        "logged",
        "free",
        Some(json!({"credential": {"count": 1, "period_secs": 60}})),
    );
    assert_eq!(api.get("/v1/tenant", &t.secret_key).status, 200);
    let r = api.get("/v1/tenant", &t.secret_key);
    assert_eq!(r.status, 429);
    let id = r.body["error"]["request_id"].as_str().unwrap().to_string();
    let log = api.rig.log.0.borrow();
    let line: Value = log
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["request_id"] == id.as_str() && l["msg"] == "request")
        .expect("the request's log line");
    assert_eq!(line["status"], 429);
    assert_eq!(line["tenant"], t.id.as_str());
    assert!(t
        .secret_key
        .starts_with(line["credential"].as_str().unwrap()));
}

#[test]
fn health_probes_answered_ok_are_not_logged_but_deep_probes_are() {
    let api = Api::new();
    let lines = |api: &Api| {
        api.rig
            .log
            .0
            .borrow()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["msg"] == "request" && l["route"] == "/health")
            .count()
    };
    let r = api.call(Method::Get, "/health", None, None);
    assert_eq!(r.status, 200);
    assert_eq!(lines(&api), 0, "a probe answered OK is not logged");
    // A deep probe (which needs the admin secret) is, refused or not.
    let r = api.call(Method::Get, "/health?deep=1", None, None);
    assert_eq!(r.status, 401);
    assert_eq!(lines(&api), 1);
}
