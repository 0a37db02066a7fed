//! Customers' data rights (issue 19): one person's export holds everything about them and
//! nothing about anyone else; erasure redacts every copy (conversation objects, mirror, search
//! index, webhook payloads and ledgers, inbox feed), is idempotent and audited without the
//! data; only `privacy:manage` holders may do either; retention deletes old conversations.

mod common;

use common::{Api, TestTenant};
use prism_core::http::{Method, Response};
use prism_core::testing::{ScriptedHttp, TEST_ADMIN_SECRET};
use serde_json::{json, Value};

fn post(api: &Api, token: &str, conversation: &str, text: &str, n: &str) {
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conversation}/messages"),
        Some(token),
        Some(json!({"text": text, "client_msg_id": n})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn customer_of(api: &Api, t: &TestTenant, conversation: &str) -> String {
    let r = api.get(&format!("/v1/conversations/{conversation}"), &t.secret_key);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["customer"]["id"].as_str().unwrap().to_string()
}

/// Ada (two identities sharing her email, two conversations, a rating, a note, webhook
/// deliveries) and Bob, in one tenant. Returns (Ada's customer id, her conversations and
/// token of the first, Bob's conversation).
fn seed(api: &Api, t: &TestTenant) -> (String, Vec<String>, String, String) {
    let http = ScriptedHttp::new(|_req, _| Response::new(200));
    *api.rig.http.borrow_mut() = Some(http);
    let r = api.call(
        Method::Post,
        "/v1/webhooks/endpoints",
        Some(&t.secret_key),
        Some(json!({"url": "https://hooks.tenant.example/in", "events": ["message.created"]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (a1, ada_token, _) = api.start_conversation(
        t,
        json!({"name": "Ada Lovelace", "email": "ada@example.com", "subject": "Order 1843 to Baker Street"}),
    );
    post(api, &ada_token, &a1, "Please ship to 12 Baker Street", "a1");
    let (a2, ada_token2, _) =
        api.start_conversation(t, json!({"name": "Ada L", "email": "ada@example.com"}));
    post(
        api,
        &ada_token2,
        &a2,
        "Call me on 07700 900123 about the analytical engine",
        "a2",
    );
    let (b1, bob_token, _) =
        api.start_conversation(t, json!({"name": "Bob", "email": "bob@example.com"}));
    post(
        api,
        &bob_token,
        &b1,
        "Bob wants the zeppelin brochure",
        "b1",
    );
    // A note by staff and a rating of the assistant's answer.
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{a1}/notes"),
        Some(&t.secret_key),
        Some(json!({"text": "Ada prefers Baker Street deliveries"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let history = api.get(
        &format!("/v1/conversations/{a1}/messages?after_seq=0"),
        &ada_token,
    );
    let ai_seq = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"]["type"] == "ai")
        .map(|m| m["seq"].as_i64().unwrap())
        .expect("an AI answer");
    let r = api.call(
        Method::Put,
        &format!("/v1/conversations/{a1}/messages/{ai_seq}/rating"),
        Some(&ada_token),
        Some(json!({"rating": "down", "comment": "Baker Street is wrong"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    (customer_of(api, t, &a1), vec![a1, a2], ada_token, b1)
}

/// The search index and the table that keys it (`migrations/0020_message_fts_rows.sql`) agree:
/// one key per indexed message, each pointing at that message's row, and no index row without
/// one (a row its key lost would survive an erasure: the triggers find rows only by key).
fn search_index_in_step(api: &Api) {
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM message_fts"),
        api.count("SELECT COUNT(*) AS n FROM message_fts_rows")
    );
    assert_eq!(
        api.count(
            "SELECT COUNT(*) AS n FROM message_fts_rows r WHERE NOT EXISTS (
               SELECT 1 FROM message_fts f
               WHERE f.rowid = r.fts_rowid AND f.conversation_id = r.conversation_id AND f.seq = r.seq)"
        ),
        0
    );
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM message_fts_rows"),
        api.count("SELECT COUNT(*) AS n FROM conversation_messages")
    );
}

fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_export_holds_everything_about_the_person_and_nothing_about_anyone_else() {
    let api = Api::new();
    let t = api.create_tenant("rights", "pro", None);
    let (ada, ada_convs, _, _) = seed(&api, &t);
    let r = api.get(&format!("/v1/customers/{ada}/export"), &t.secret_key);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    let doc = &r.body;
    assert_eq!(doc["format"], "prism.customer-export.v1");
    assert_eq!(doc["customer"]["email"], "ada@example.com");
    assert_eq!(doc["identities"].as_array().unwrap().len(), 1, "{doc}");
    let convs = doc["conversations"].as_array().unwrap();
    let mut ids: Vec<&str> = convs.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want: Vec<&str> = ada_convs.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(ids, want);
    let all = doc.to_string();
    assert!(
        all.contains("12 Baker Street") && all.contains("07700 900123"),
        "{all}"
    );
    assert!(
        all.contains("Baker Street is wrong"),
        "the rating's comment"
    );
    assert!(
        !all.contains("zeppelin") && !all.contains("bob@example.com"),
        "{all}"
    );
    for c in convs {
        assert!(
            c["messages"].as_array().unwrap().len() >= 2,
            "question and answer: {c}"
        );
        assert!(!c["analysis"].as_array().unwrap().is_empty(), "{c}");
    }
    // The export is audited by id and counts, without the data.
    let audit = api.get("/v1/audit-logs", &t.secret_key);
    let entry = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "customer.exported")
        .expect("an audit entry");
    assert_eq!(entry["target_id"], ada.as_str());
    assert!(!entry.to_string().contains("Baker"));
}

#[test]
fn erasure_redacts_every_copy_once_and_leaves_everyone_else_alone() {
    let api = Api::new();
    let t = api.create_tenant("erase", "pro", None);
    let (ada, ada_convs, ada_token, bob_conv) = seed(&api, &t);
    let r = api.call(
        Method::Post,
        &format!("/v1/customers/{ada}/erase"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["complete"], true);
    assert_eq!(r.body["already_erased"], false);
    assert_eq!(r.body["conversations"], 2);
    assert_eq!(r.body["customers"].as_array().unwrap().len(), 2);

    // The objects: every message and note redacted, the conversation closed for good.
    for c in &ada_convs {
        let h = api.get(
            &format!("/v1/conversations/{c}/messages?after_seq=0"),
            &t.secret_key,
        );
        assert_eq!(h.status, 200, "{}", h.body);
        assert!(
            texts(&h.body["messages"]).iter().all(|t| t == "[erased]"),
            "{}",
            h.body
        );
        assert_eq!(h.body["status"], "closed");
        let conv = api.get(&format!("/v1/conversations/{c}"), &t.secret_key);
        let meta = &conv.body["conversation"];
        assert!(
            meta["subject"].is_null() && meta["last_message_preview"].is_null(),
            "{}",
            conv.body
        );
        assert_eq!(meta["customer_name"], "Erased customer");
    }
    let notes = api.get(
        &format!("/v1/conversations/{}/messages?after_seq=0", ada_convs[0]),
        &t.secret_key,
    );
    if let Some(n) = notes.body["notes"].as_array() {
        assert!(n.iter().all(|n| n["text"] == "[erased]"), "{n:?}");
    }
    // The customer cannot write into it again.
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{}/messages", ada_convs[0]),
        Some(&ada_token),
        Some(json!({"text": "hello again", "client_msg_id": "late"})),
    );
    assert_eq!(r.status, 409, "{}", r.body);

    // The tenant-wide copies: mirror, search index, ratings, webhook payloads, customers.
    for needle in ["Baker", "07700", "ada@example.com", "Lovelace"] {
        for (table, column) in [
            ("conversation_messages", "text"),
            ("message_fts", "text"),
            ("message_ratings", "comment"),
            ("webhook_deliveries", "payload"),
            ("customers", "email"),
            ("customers", "name"),
            ("conversations", "subject"),
            ("audit_logs", "after"),
        ] {
            let n = api.count(&format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE instr({column}, '{needle}') > 0"
            ));
            assert_eq!(n, 0, "{needle} still in {table}.{column}");
        }
    }
    search_index_in_step(&api);
    let found = api.get("/v1/search?q=Baker", &t.secret_key);
    assert_eq!(found.status, 200);
    assert!(
        !found.body.to_string().contains("Baker Street"),
        "{}",
        found.body
    );
    // Bob is untouched, and still found.
    let bob = api.get(
        &format!("/v1/conversations/{bob_conv}/messages?after_seq=0"),
        &t.secret_key,
    );
    assert!(texts(&bob.body["messages"])
        .iter()
        .any(|t| t.contains("zeppelin")));
    assert!(api
        .get("/v1/search?q=zeppelin", &t.secret_key)
        .body
        .to_string()
        .contains("zeppelin"));
    assert!(
        api.count(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE instr(payload, 'zeppelin') > 0"
        ) >= 1
    );

    // The export now shows what is left: structure without words or contact details.
    let doc = api
        .get(&format!("/v1/customers/{ada}/export"), &t.secret_key)
        .body;
    assert!(doc["customer"]["erased_at"].is_i64(), "{doc}");
    assert!(doc["customer"]["email"].is_null() && doc["customer"]["name"].is_null());
    for c in doc["conversations"].as_array().unwrap() {
        assert!(texts(&c["messages"]).iter().all(|t| t == "[erased]"), "{c}");
    }

    // Audited once, by id and counts; a repeat does nothing and says so.
    let again = api.call(
        Method::Post,
        &format!("/v1/customers/{ada}/erase"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["already_erased"], true, "{}", again.body);
    assert_eq!(again.body["conversations"], 0);
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM audit_logs WHERE action = 'customer.erased'"),
        1
    );

    // A new message from the same email later is a new customer, not the erased one.
    let (_, _, started) =
        api.start_conversation(&t, json!({"name": "Ada", "email": "ada@example.com"}));
    assert_ne!(started["conversation"]["customer_id"], ada.as_str());
}

#[test]
fn only_privacy_managers_of_the_tenant_export_or_erase() {
    let api = Api::new();
    let t = api.create_tenant("rights-a", "pro", None);
    let other = api.create_tenant("rights-b", "pro", None);
    let (ada, _, _, _) = seed(&api, &t);
    let (_, agent) = api.user_with_role(&t, "agent");
    let (_, admin) = api.user_with_role(&t, "admin");
    let reader = api.key_with_scopes(&t, &["conversations:read"]);
    let privacy = api.key_with_scopes(&t, &["privacy:manage"]);
    let export = format!("/v1/customers/{ada}/export");
    let erase = format!("/v1/customers/{ada}/erase");
    for bearer in [&agent, &reader] {
        assert_eq!(api.get(&export, bearer).status, 403);
        assert_eq!(
            api.call(Method::Post, &erase, Some(bearer), None).status,
            403
        );
    }
    // Another tenant's credentials find no such customer.
    assert_eq!(api.get(&export, &other.secret_key).status, 404);
    assert_eq!(
        api.call(Method::Post, &erase, Some(&other.secret_key), None)
            .status,
        404
    );
    assert_eq!(
        api.get("/v1/customers/cus_nope/export", &t.secret_key)
            .status,
        404
    );
    assert_eq!(api.get(&export, &admin).status, 200);
    assert_eq!(api.get(&export, &privacy).status, 200);
    assert_eq!(
        api.call(Method::Post, &erase, Some(&privacy), None).status,
        200
    );
}

fn set_retention(api: &Api, t: &TestTenant, days: Value) -> common::Reply {
    let cfg = api.get("/v1/tenant/config", &t.secret_key);
    let mut c = cfg.body["config"].clone();
    c["privacy"] = json!({"retention_days": days});
    api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": cfg.body["version"], "config": c})),
    )
}

#[test]
fn retention_deletes_conversations_past_the_tenants_period_and_keeps_the_rest() {
    let api = Api::new();
    let t = api.create_tenant("retain", "pro", None);
    let keep = api.create_tenant("keep-all", "pro", None);
    assert_eq!(set_retention(&api, &t, json!(0)).status, 422);
    assert_eq!(set_retention(&api, &t, json!(30)).status, 200);
    let (old, old_token, _) =
        api.start_conversation(&t, json!({"name": "Old", "email": "old@example.com"}));
    post(&api, &old_token, &old, "an old question about 221B", "o1");
    let (kept_elsewhere, kept_token, _) = api.start_conversation(&keep, json!({"name": "Kept"}));
    post(&api, &kept_token, &kept_elsewhere, "kept forever", "k1");
    api.rig.clock.advance(31 * 86_400_000);
    let (fresh, fresh_token, _) = api.start_conversation(&t, json!({"name": "Fresh"}));
    post(&api, &fresh_token, &fresh, "a new question", "f1");

    let r = api.call(
        Method::Post,
        "/v1/platform/outbound/sweep",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["retention"]["conversations"], 1, "{}", r.body);
    assert_eq!(r.body["retention"]["customers"], 1, "{}", r.body);
    assert_eq!(
        api.get(&format!("/v1/conversations/{old}"), &t.secret_key)
            .status,
        404
    );
    assert_eq!(
        api.get(
            &format!("/v1/conversations/{old}/messages?after_seq=0"),
            &t.secret_key
        )
        .status,
        404
    );
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM conversation_messages WHERE instr(text, '221B') > 0"),
        0
    );
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM message_fts WHERE instr(text, '221B') > 0"),
        0
    );
    search_index_in_step(&api);
    assert_eq!(
        api.count("SELECT COUNT(*) AS n FROM customers WHERE email = 'old@example.com'"),
        0
    );
    assert_eq!(
        api.get(&format!("/v1/conversations/{fresh}"), &t.secret_key)
            .status,
        200
    );
    assert_eq!(
        api.get(
            &format!("/v1/conversations/{kept_elsewhere}"),
            &keep.secret_key
        )
        .status,
        200
    );
    let audit = api.get("/v1/audit-logs", &t.secret_key);
    assert!(
        audit.body.to_string().contains("retention.deleted"),
        "{}",
        audit.body
    );
    // Nothing left to do on the next run.
    let r = api.call(
        Method::Post,
        "/v1/platform/outbound/sweep",
        Some(TEST_ADMIN_SECRET),
        None,
    );
    assert_eq!(r.body["retention"]["conversations"], 0);
}
