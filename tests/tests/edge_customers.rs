//! Customers end to end in workerd. Data rights: the export reads D1, the erasure reaches the
//! conversation's Durable Object (messages redacted, closed), its D1 mirror and search index,
//! and the tenant inbox object's kept events; the cron sweep's retention queries run on D1.
//! Leads: captured inside the conversation's Durable Object as its mirror is flushed, scored,
//! qualified and routed with D1's JSON functions, moved on with a history, exported as CSV.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::{Edge, ADMIN_SECRET};
use serde_json::{json, Value};

fn texts(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_customer_is_exported_then_erased_from_every_copy_in_workerd() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("rights"), "pro", None).await;
    let (conv, token, started) = api
        .start_conversation(
            &t,
            &json!({"name": "Ada Lovelace", "email": "ada@engine.example"}),
        )
        .await;
    let customer = started["conversation"]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&token),
            Some(&json!({"text": "Post the engine plans to 12 Marylebone Road", "client_msg_id": "p1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (other, other_token, _) = api
        .start_conversation(&t, &json!({"name": "Charles"}))
        .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{other}/messages"),
            Some(&other_token),
            Some(&json!({"text": "Difference engine parts for Charles", "client_msg_id": "c1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Agents cannot; the owner's key can.
    let (_, agent) = api.user_with_role(&t, "agent").await;
    let export = format!("/v1/customers/{customer}/export");
    assert_eq!(api.get(&export, &agent).await.status, 403);
    let doc = api.get(&export, &t.secret_key).await;
    assert_eq!(doc.status, 200, "{}", doc.body);
    assert!(
        doc.body.to_string().contains("12 Marylebone Road"),
        "{}",
        doc.body
    );
    assert!(!doc.body.to_string().contains("Charles"), "{}", doc.body);

    let r = api
        .call(
            Method::Post,
            &format!("/v1/customers/{customer}/erase"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["complete"], true, "{}", r.body);
    assert_eq!(r.body["conversations"], 1, "{}", r.body);

    // The Durable Object: the customer's own view is redacted and closed.
    let h = api
        .get(
            &format!("/v1/conversations/{conv}/messages?after_seq=0"),
            &token,
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert!(texts(&h.body).iter().all(|t| t == "[erased]"), "{}", h.body);
    assert_eq!(h.body["status"], "closed");
    // D1 and its search index.
    let found = api.get("/v1/search?q=Marylebone", &t.secret_key).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(
        !found.body.to_string().contains("Marylebone"),
        "{}",
        found.body
    );
    let doc = api.get(&export, &t.secret_key).await;
    assert!(!doc.body.to_string().contains("Marylebone"), "{}", doc.body);
    assert!(doc.body["customer"]["email"].is_null(), "{}", doc.body);
    // The inbox object's kept events for the conversation carry no data any more.
    let feed = api.get("/v1/inbox/history?after=0", &t.secret_key).await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    let events = feed.body["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["conversation_id"] == conv.as_str()),
        "{}",
        feed.body
    );
    assert!(
        !feed.body.to_string().contains("Marylebone"),
        "{}",
        feed.body
    );
    assert!(
        feed.body.to_string().contains("Difference engine"),
        "the other conversation keeps its events: {}",
        feed.body
    );
    // Idempotent.
    let again = api
        .call(
            Method::Post,
            &format!("/v1/customers/{customer}/erase"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(again.body["already_erased"], true, "{}", again.body);

    // Retention: the cron's queries run on D1 and keep what is inside the period.
    api.edit_config(&t, |c| c["privacy"] = json!({"retention_days": 1}))
        .await;
    let sweep = api
        .call(
            Method::Post,
            "/v1/platform/outbound/sweep",
            Some(ADMIN_SECRET),
            None,
        )
        .await;
    assert_eq!(sweep.status, 200, "{}", sweep.body);
    assert_eq!(
        sweep.body["retention"]["conversations"], 0,
        "{}",
        sweep.body
    );
    assert_eq!(
        api.get(&format!("/v1/conversations/{other}"), &t.secret_key)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_message_with_contact_details_and_a_quote_request_becomes_a_routed_lead_in_workerd() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api.create_tenant(&unique_slug("leads"), "pro", None).await;
    let (sales, sales_token) = api.user_with_role(&t, "agent").await;
    let r = api
        .call(
            Method::Patch,
            &format!("/v1/users/{sales}"),
            Some(&t.secret_key),
            Some(&json!({"skills": ["sales"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (conv, token, _) = api
        .start_conversation(&t, &json!({"name": "Fox Mulder"}))
        .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&token),
            Some(&json!({"text": "How much for 12 desks? fox@bureau.example, +1 202 555 0143", "client_msg_id": "q1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let list = api.get("/v1/leads", &t.secret_key).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.body);
    let lead = &items[0];
    assert_eq!(lead["email"], "fox@bureau.example");
    assert_eq!(lead["phone"], "+12025550143");
    assert_eq!(lead["stage"], "qualified", "{lead}");
    assert_eq!(lead["owner_id"], sales.as_str(), "{lead}");
    let id = lead["id"].as_str().unwrap();
    let r = api
        .call(
            Method::Patch,
            &format!("/v1/leads/{id}"),
            Some(&sales_token),
            Some(&json!({"stage": "won"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stages: Vec<&str> = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(stages, vec!["new", "qualified", "won"]);
    let csv = api.get("/v1/leads/export?stage=won", &t.secret_key).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
}

#[tokio::test]
async fn a_handoff_is_summarised_inside_the_durable_object_flush_in_workerd() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api
        .create_tenant_without_ai(&unique_slug("summary"), "pro")
        .await;
    let (conv, token, _) = api.start_conversation(&t, &json!({"name": "Rita"})).await;
    say(
        &api,
        &token,
        &conv,
        "My order 1042 arrived with a broken zipper.",
        "s0",
    )
    .await;
    say(
        &api,
        &token,
        &conv,
        "I need a replacement zipper kit or a new jacket.",
        "s1",
    )
    .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/handoff"),
            Some(&token),
            Some(&json!({"reason": "wants a replacement"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let path = format!("/v1/conversations/{conv}/summary");
    let mut summary = None;
    for _ in 0..50 {
        let s = api.get(&path, &t.secret_key).await;
        if s.status == 200 {
            summary = Some(s.body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let s = summary.expect("a summary after the handoff");
    assert_eq!(s["source"], "extractive");
    assert!(s["text"].as_str().unwrap().contains("zipper"), "{s}");
    assert!(
        s["text"]
            .as_str()
            .unwrap()
            .ends_with("Handed over: wants a replacement"),
        "{s}"
    );
    // The inbox object's handoff event carries it.
    let h = api.get("/v1/inbox/history?after=0", &t.secret_key).await;
    assert!(
        h.body
            .to_string()
            .contains("Handed over: wants a replacement"),
        "{}",
        h.body
    );
    assert!(matches!(api.get(&path, &token).await.status, 401 | 403));
}

#[tokio::test]
async fn reviews_queue_calibration_and_erasure_run_on_d1_in_workerd() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api
        .create_tenant(&unique_slug("quality"), "pro", None)
        .await;
    let (agent, agent_token) = api.user_with_role(&t, "agent").await;
    let (_, reviewer) = api.user_with_role(&t, "reviewer").await;
    let (conv, token, started) = api.start_conversation(&t, &json!({"name": "Quinn"})).await;
    let customer = started["conversation"]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    say(
        &api,
        &token,
        &conv,
        "My parcel never arrived, I'm upset",
        "c1",
    )
    .await;
    say(
        &api,
        &agent_token,
        &conv,
        "Hi Quinn, sorry about that! A new one ships today.",
        "a1",
    )
    .await;
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/handoff"),
            Some(&token),
            Some(&json!({"reason": "parcel lost"})),
        )
        .await;
    assert!(matches!(r.status, 200 | 409), "{}", r.body);
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/status"),
            Some(&t.secret_key),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let q = api.get("/v1/reviews/queue", &reviewer).await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert!(q.body.to_string().contains(&conv), "{}", q.body);
    let path = format!("/v1/conversations/{conv}/reviews");
    let r = api
        .call(
            Method::Post,
            &format!("{path}/ai"),
            Some(&reviewer),
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["reviewer_type"], "heuristic");
    assert_eq!(r.body["agent_id"], agent.as_str());
    let answers = json!([
        {"criterion": "greeting", "value": "yes"}, {"criterion": "understanding", "value": 4},
        {"criterion": "accuracy", "value": 4, "note": "Quinn's parcel: checked"}, {"criterion": "resolution", "value": "yes"},
        {"criterion": "empathy", "value": 5}
    ]);
    let r = api
        .call(
            Method::Post,
            &path,
            Some(&reviewer),
            Some(&json!({"answers": answers, "comment": "Quinn was upset; handled well"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let all = api.get(&path, &reviewer).await;
    assert_eq!(all.body["calibration"][0]["reviews"], 2, "{}", all.body);
    // The queue drops it once a person reviewed it.
    let q = api.get("/v1/reviews/queue", &reviewer).await;
    assert!(!q.body.to_string().contains(&conv), "{}", q.body);
    // The agent sees and acknowledges.
    let mine = api.get("/v1/reviews", &agent_token).await;
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        mine.body
    );
    // Erasing the customer keeps the scores and drops every word that may quote them.
    let r = api
        .call(
            Method::Post,
            &format!("/v1/customers/{customer}/erase"),
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = api.get(&path, &reviewer).await;
    let text = after.body["items"].to_string();
    assert!(!text.contains("Quinn"), "{text}");
    assert!(
        after.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["score"].is_number()),
        "{text}"
    );
    assert_eq!(
        after.body["items"][1]["answers"].as_array().unwrap().len(),
        5,
        "{text}"
    );
}

/// Posts a message to a conversation as `bearer` (its customer or an agent).
async fn say(api: &Api, bearer: &str, conv: &str, text: &str, id: &str) {
    let r = api
        .call(
            Method::Post,
            &format!("/v1/conversations/{conv}/messages"),
            Some(bearer),
            Some(&json!({"text": text, "client_msg_id": id})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Polls `path` until `ready` holds (the mirror is flushed after the response).
async fn settled(api: &Api, path: &str, bearer: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..75 {
        let r = api.get(path, bearer).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if ready(&r.body) {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{path} never settled: {}", api.get(path, bearer).await.body);
}

#[tokio::test]
async fn analytics_rollups_percentiles_and_the_recompute_run_on_d1_in_workerd() {
    let edge = Edge::shared();
    let api = Api::at(&edge.base);
    let t = api
        .create_tenant_without_ai(&unique_slug("stats"), "pro")
        .await;
    api.edit_config(&t, |c| {
        c["sla"] = json!({"business_hours": false, "policies": [
            {"priority": "normal", "first_response_minutes": 60, "resolution_minutes": 600}
        ]});
    })
    .await;
    let (agent_id, agent) = api.user_with_role(&t, "agent").await;
    let post = |path: String, bearer: String, body: Value| {
        let api = &api;
        async move {
            let r = api
                .call(Method::Post, &path, Some(&bearer), Some(&body))
                .await;
            assert!(r.status < 300, "{path}: {}", r.body);
        }
    };
    // C1: asked, answered by the agent, resolved. C2: handed over first, answered, resolved.
    // C3: asked, still open.
    let mut convs = Vec::new();
    for i in 0..3 {
        let (conv, token, _) = api
            .start_conversation(&t, &json!({"name": format!("C{i}")}))
            .await;
        if i == 1 {
            post(
                format!("/v1/conversations/{conv}/handoff"),
                token.clone(),
                json!({}),
            )
            .await;
        }
        say(
            &api,
            &token,
            &conv,
            "My parcel has not arrived, this is terrible.",
            "q",
        )
        .await;
        if i < 2 {
            post(
                format!("/v1/conversations/{conv}/assign"),
                agent.clone(),
                json!({"user_id": agent_id}),
            )
            .await;
            say(&api, &agent, &conv, "It ships today.", "a").await;
            post(
                format!("/v1/conversations/{conv}/status"),
                agent.clone(),
                json!({"status": "resolved"}),
            )
            .await;
        }
        convs.push(conv);
    }
    let path = "/v1/analytics/overview?days=2";
    let o = settled(&api, path, &t.secret_key, |b| {
        b["volume"]["resolved"] == 2
            && b["volume"]["messages"]["agent"] == 2
            && b["volume"]["created"] == 3
    })
    .await;
    assert_eq!(o["volume"]["messages"]["customer"], 3, "{o}");
    assert_eq!(o["ai"]["handed_off"], 1);
    assert_eq!(
        o["ai"]["handoff_reasons"],
        json!([{"key": "customer_request", "n": 1}])
    );
    assert_eq!(o["ai"]["contained"], 0);
    // Percentiles from D1's window functions: two first responses by a person.
    let fr = &o["speed"]["first_human_response"];
    assert_eq!(fr["n"], 2, "{o}");
    assert!(
        fr["median_ms"].as_i64().unwrap() <= fr["p90_ms"].as_i64().unwrap(),
        "{o}"
    );
    assert_eq!(o["speed"]["resolution"]["n"], 2);
    // Days and hours in integer arithmetic on D1: everything lands in whole cells.
    let created: i64 = o["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["created"].as_i64().unwrap())
        .sum();
    assert_eq!(created, 3, "{o}");
    let hours: i64 = o["busiest_hours"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(hours, 3, "{o}");
    // Every customer message was read for sentiment in the flush (no AI turn here).
    let intents: i64 = o["quality"]["top_intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["messages"].as_i64().unwrap())
        .sum();
    assert_eq!(intents, 3, "{o}");
    assert!(o["quality"]["sentiment"].as_f64().unwrap() < 0.0, "{o}");
    // The recompute rebuilds the same numbers from the mirror.
    let r = api
        .call(
            Method::Post,
            "/v1/analytics/recompute",
            Some(&t.secret_key),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["conversations"], 3);
    let again = api.get(path, &t.secret_key).await.body;
    assert_eq!(again, o);
    // The leaderboard, the SLA report (C2's clock, from its handoff) and a CSV.
    let l = api.get("/v1/analytics/agents?days=2", &t.secret_key).await;
    let row = l.body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == agent_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (row["resolved"].clone(), row["messages"].clone()),
        (json!(2), json!(2)),
        "{}",
        l.body
    );
    let s = api.get("/v1/analytics/sla?days=2", &t.secret_key).await;
    assert_eq!(
        s.body["first_response"],
        json!({"measured": 1, "breached": 0, "met_percent": 100.0}),
        "{}",
        s.body
    );
    let csv = api
        .get("/v1/analytics/export?days=2&report=agents", &t.secret_key)
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    // Another tenant's numbers are its own.
    let other = api
        .create_tenant(&unique_slug("stats-other"), "pro", None)
        .await;
    assert_eq!(
        api.get(path, &other.secret_key).await.body["volume"]["created"],
        0
    );
}
