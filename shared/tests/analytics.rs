//! Analytics (issue 17) against a dataset computed by hand: four conversations across a
//! tenant-local midnight (New York, UTC−5), one contained by the AI, one reopened, two agents,
//! an SLA policy. Every number asserted below is worked out in the comments from the script,
//! not read back from the implementation.

mod common;

use common::{Api, TestTenant};
use prism_core::http::Method;
use serde_json::{json, Value};

const MIN: i64 = 60_000;
/// 2026-11-30 04:50 UTC = Sunday 2026-11-29 23:50 in New York.
const T0: i64 = 1_796_014_200_000;

fn post(api: &Api, bearer: &str, path: &str, body: Value) -> common::Reply {
    let r = api.call(Method::Post, path, Some(bearer), Some(body));
    assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
    r
}

fn say(api: &Api, bearer: &str, conv: &str, id: &str, text: &str) {
    post(
        api,
        bearer,
        &format!("/v1/conversations/{conv}/messages"),
        json!({"text": text, "client_msg_id": id}),
    );
}

fn status(api: &Api, bearer: &str, conv: &str, s: &str) {
    post(
        api,
        bearer,
        &format!("/v1/conversations/{conv}/status"),
        json!({"status": s}),
    );
}

struct World {
    api: Api,
    t: TestTenant,
    a: String,
    b: String,
    convs: Vec<String>,
}

fn at(api: &Api, ms: i64) {
    api.rig.clock.set(ms);
}

/// The script. Times are minutes after T0.
fn world() -> World {
    let api = Api::new();
    at(&api, T0 - 60 * MIN);
    let t = api.create_tenant("stats", "pro", None);
    let r = api.edit_config(&t, |c| {
        c["business_hours"]["utc_offset_minutes"] = json!(-300);
        c["sla"] = json!({"business_hours": false, "at_risk_percent": 75, "policies": [
            {"priority": "normal", "first_response_minutes": 8, "resolution_minutes": 45}
        ]});
        c["analytics"] = json!({"agent_capacity": 2, "goals": [
            {"metric": "resolved", "target": 4},
            {"metric": "first_response_median_ms", "target": 600000}
        ]});
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.call(
        Method::Post,
        "/v1/knowledge/documents",
        Some(&t.secret_key),
        Some(json!({"title": "Returns", "format": "markdown", "content": "# Returns\n\nYou can return unworn items within 30 days of delivery for a full refund."})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (a, _) = api.user_with_role(&t, "agent");
    let (b, _) = api.user_with_role(&t, "agent");
    // Agent tokens live an hour: each step signs in afresh.
    let token = |user: &str| api.token_for(&t, user);
    let assign = |conv: &str, user: &str| {
        post(
            &api,
            &token(user),
            &format!("/v1/conversations/{conv}/assign"),
            json!({"user_id": user}),
        );
    };
    let mut convs = Vec::new();

    // C1, web, +0: asked, answered by the AI at once, resolved at +20 (00:10 on Monday in
    // New York: created Sunday, resolved Monday). Contained.
    at(&api, T0);
    let (c1, k1, _) = api.start_conversation(&t, json!({"name": "Ann"}));
    say(
        &api,
        &k1,
        &c1,
        "q",
        "How many days do I have to return unworn items?",
    );
    at(&api, T0 + 20 * MIN);
    status(&api, &t.secret_key, &c1, "resolved");
    // The customer rates the AI's answer (seq 2) up.
    let r = api.call(
        Method::Put,
        &format!("/v1/conversations/{c1}/messages/2/rating"),
        Some(&k1),
        Some(json!({"rating": "up"})),
    );
    assert!(r.status < 300, "{}", r.body);
    convs.push((c1, k1));

    // C2, web, +60: handed over ("billing") before writing, writes at +61, agent A answers
    // at +71 (first response 10 min), resolves at +101 (resolution 41, handle 30).
    at(&api, T0 + 60 * MIN);
    let (c2, k2, _) = api.start_conversation(&t, json!({"name": "Ben"}));
    post(
        &api,
        &k2,
        &format!("/v1/conversations/{c2}/handoff"),
        json!({"reason": "billing"}),
    );
    at(&api, T0 + 61 * MIN);
    say(&api, &k2, &c2, "q", "I was charged twice.");
    at(&api, T0 + 71 * MIN);
    assign(&c2, &a);
    say(&api, &token(&a), &c2, "a1", "Refunded the second charge.");
    at(&api, T0 + 101 * MIN);
    status(&api, &token(&a), &c2, "resolved");
    convs.push((c2, k2));

    // C3, api, +120: handed over (no reason: `customer_request`), writes at +120, A answers at +125 (5 min),
    // resolves at +130, reopens (agent) at +140 and resolves again at +180: resolution 60,
    // handle 55, one reopening.
    at(&api, T0 + 120 * MIN);
    let (c3, k3, _) = api.start_conversation(&t, json!({"name": "Cy", "channel": "api"}));
    post(
        &api,
        &k3,
        &format!("/v1/conversations/{c3}/handoff"),
        json!({}),
    );
    say(&api, &k3, &c3, "q", "My parcel is stuck.");
    at(&api, T0 + 125 * MIN);
    assign(&c3, &a);
    say(&api, &token(&a), &c3, "a1", "It moves again tomorrow.");
    at(&api, T0 + 130 * MIN);
    status(&api, &token(&a), &c3, "resolved");
    at(&api, T0 + 140 * MIN);
    status(&api, &token(&a), &c3, "open");
    at(&api, T0 + 180 * MIN);
    status(&api, &token(&a), &c3, "resolved");
    convs.push((c3, k3));

    // C4, web, +1500 (Tuesday 00:50 in New York): handed over, writes, B answers at +1530
    // (30 min) and it stays open.
    at(&api, T0 + 1500 * MIN);
    let (c4, k4, _) = api.start_conversation(&t, json!({"name": "Di"}));
    post(
        &api,
        &k4,
        &format!("/v1/conversations/{c4}/handoff"),
        json!({}),
    );
    say(&api, &k4, &c4, "q", "Where is my refund?");
    at(&api, T0 + 1530 * MIN);
    assign(&c4, &b);
    say(&api, &token(&b), &c4, "b1", "Checking now.");
    convs.push((c4, k4));

    // "Now" is +1540: C4's resolution clock has run 40 of its 45 minutes (the SLA test).
    at(&api, T0 + 1540 * MIN);
    World {
        convs: convs.into_iter().map(|(c, _)| c).collect(),
        api,
        t,
        a,
        b,
    }
}

const PERIOD: &str = "from=2026-11-29&to=2026-12-01";

/// One agent's row of a leaderboard.
fn agent_row(board: &Value, agent: &str) -> Value {
    board["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent_id"] == agent)
        .cloned()
        .unwrap_or_else(|| panic!("{agent} not in {board}"))
}

#[test]
fn the_overview_matches_the_hand_computed_dataset() {
    let w = world();
    let o = w
        .api
        .get(&format!("/v1/analytics/overview?{PERIOD}"), &w.t.secret_key);
    assert_eq!(o.status, 200, "{}", o.body);
    let b = &o.body;
    assert_eq!(b["from"], "2026-11-29");
    assert_eq!(b["to"], "2026-12-01");
    // Volume: 4 created, 3 resolved (C3 counts once, at its last resolution), C3 reopened.
    assert_eq!(b["volume"]["created"], 4);
    assert_eq!(b["volume"]["resolved"], 3);
    assert_eq!(b["volume"]["reopened"], 1);
    assert_eq!(
        b["volume"]["messages"],
        json!({"customer": 4, "ai": 1, "agent": 3})
    );
    assert_eq!(b["volume"]["pending_human_now"], 1, "C4 waits");
    let web = b["volume"]["by_channel"].as_array().unwrap();
    let chan = |c: &str| web.iter().find(|x| x["channel"] == c).cloned().unwrap();
    assert_eq!(
        (
            chan("web")["created"].clone(),
            chan("api")["created"].clone()
        ),
        (json!(3), json!(1))
    );
    // Days in New York: Sunday C1 created; Monday C2, C3 created and C1, C2, C3 resolved;
    // Tuesday C4.
    let days = b["by_day"].as_array().unwrap();
    let row = |i: usize, k: &str| days[i][k].clone();
    assert_eq!(days.len(), 3);
    assert_eq!(
        (row(0, "day"), row(0, "created"), row(0, "resolved")),
        (json!("2026-11-29"), json!(1), json!(0))
    );
    assert_eq!(
        (row(1, "day"), row(1, "created"), row(1, "resolved")),
        (json!("2026-11-30"), json!(2), json!(3))
    );
    assert_eq!(
        (row(2, "created"), row(2, "resolved")),
        (json!(1), json!(0))
    );
    assert_eq!(row(0, "messages_ai"), 1);
    // Speed. First responses 0, 10, 5, 30 min: sorted 0 5 10 30 → median (rank ⌊3·0.5⌋=1) 5,
    // p90 (rank ⌊3·0.9⌋=2) 10, mean 11.25.
    let s = &b["speed"];
    assert_eq!(
        s["first_response"],
        json!({"n": 4, "average_ms": 675_000, "median_ms": 5 * MIN, "p90_ms": 10 * MIN})
    );
    // People: 10, 5, 30 → 5 10 30: median 10, p90 (rank 1) 10, mean 15.
    assert_eq!(
        s["first_human_response"],
        json!({"n": 3, "average_ms": 15 * MIN, "median_ms": 10 * MIN, "p90_ms": 10 * MIN})
    );
    // Resolution 20, 41, 60: median 41, p90 41, mean 40⅓ min.
    assert_eq!(
        s["resolution"],
        json!({"n": 3, "average_ms": 2_420_000, "median_ms": 41 * MIN, "p90_ms": 41 * MIN})
    );
    // Handle 30 (C2), 55 (C3): median (rank 0) 30, p90 (rank 0) 30, mean 42.5.
    assert_eq!(
        s["handle"],
        json!({"n": 2, "average_ms": 2_550_000, "median_ms": 30 * MIN, "p90_ms": 30 * MIN})
    );
    // AI: 1 of 3 resolutions contained; 3 of 4 handed over; one cited offline answer, rated up.
    let ai = &b["ai"];
    assert_eq!(
        (ai["contained"].clone(), ai["containment_percent"].clone()),
        (json!(1), json!(33.3))
    );
    assert_eq!(
        (ai["handed_off"].clone(), ai["handoff_percent"].clone()),
        (json!(3), json!(75.0))
    );
    assert_eq!(
        ai["handoff_reasons"],
        json!([{"key": "customer_request", "n": 2}, {"key": "billing", "n": 1}])
    );
    assert_eq!(
        (
            ai["answers"].clone(),
            ai["cited"].clone(),
            ai["fallback"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(ai["by_model"][0]["provider"], "offline");
    assert_eq!(ai["ratings"]["ai_up"], 1);
    assert_eq!(ai["ratings"]["ai_positive_percent"], 100.0);
    // Busiest hours (customer messages, New York): Sunday 23h (C1), Monday 0h (C2), Monday
    // 2h (C3 at 06:50 UTC = 01:50 → 1h), Tuesday 0h (C4).
    let h = &b["busiest_hours"];
    assert_eq!(
        (
            h[6][23].clone(),
            h[0][0].clone(),
            h[0][1].clone(),
            h[1][0].clone()
        ),
        (json!(1), json!(1), json!(1), json!(1))
    );
    let total: i64 = h
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(total, 4);
    // The customer messages were analysed: four intents' worth of sentiment.
    let intents: i64 = b["quality"]["top_intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["messages"].as_i64().unwrap())
        .sum();
    assert_eq!(intents, 4);

    // Filters: the api channel is C3 only; agent B is C4 only.
    let o = w.api.get(
        &format!("/v1/analytics/overview?{PERIOD}&channel=api"),
        &w.t.secret_key,
    );
    assert_eq!(
        (
            o.body["volume"]["created"].clone(),
            o.body["speed"]["resolution"]["median_ms"].clone()
        ),
        (json!(1), json!(60 * MIN))
    );
    let o = w.api.get(
        &format!("/v1/analytics/overview?{PERIOD}&agent_id={}", w.b),
        &w.t.secret_key,
    );
    assert_eq!(o.body["volume"]["created"], 1);
    assert_eq!(o.body["volume"]["messages"]["agent"], 1);

    // In UTC the same events fall on other days: C1, C2, C3 created on 2026-11-30.
    let r = w.api.edit_config(&w.t, |c| {
        c["business_hours"]["utc_offset_minutes"] = json!(0)
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let o = w.api.get(
        "/v1/analytics/overview?from=2026-11-30&to=2026-11-30",
        &w.t.secret_key,
    );
    assert_eq!(o.body["by_day"][0]["created"], 3);
    assert_eq!(o.body["by_day"][0]["resolved"], 3);
}

#[test]
fn the_recompute_agrees_with_the_incremental_rollups_and_a_replayed_flush_counts_nothing() {
    let w = world();
    let path = format!("/v1/analytics/overview?{PERIOD}");
    let before = w.api.get(&path, &w.t.secret_key).body;
    let r = w.api.call(
        Method::Post,
        "/v1/analytics/recompute",
        Some(&w.t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["conversations"], 4);
    let after = w.api.get(&path, &w.t.secret_key).body;
    assert_eq!(before, after);
    // Replaying a conversation's whole mirror outbox (a flush whose acknowledgement was lost)
    // changes nothing.
    use futures::executor::block_on;
    use prism_core::conversations::{
        mirror,
        model::Meta,
        store::{OutboxEntry, QueuedState},
    };
    let db = &*w.api.rig.db;
    let rows = block_on(prism_core::ports::SqlDatabase::query(
        db,
        "SELECT id, mirror_version FROM conversations WHERE id = ?1",
        &[w.convs[2].as_str().into()],
    ))
    .unwrap();
    let version = rows[0].int("mirror_version").unwrap();
    let conv = w
        .api
        .get(
            &format!("/v1/conversations/{}", w.convs[2]),
            &w.t.secret_key,
        )
        .body;
    let meta: Meta = serde_json::from_value(conv["conversation"].clone()).unwrap();
    let messages = w
        .api
        .get(
            &format!("/v1/conversations/{}/messages?after=0", w.convs[2]),
            &w.t.secret_key,
        )
        .body;
    let mut ops = Vec::new();
    for m in messages["messages"].as_array().unwrap() {
        ops.push(mirror::op_message(
            &meta,
            &serde_json::from_value(m.clone()).unwrap(),
        ));
    }
    for _ in 0..2 {
        let entry = OutboxEntry {
            id: version,
            ops: ops.clone(),
            attempts: 0,
            state: Some(QueuedState::of(&meta).unwrap()),
        };
        block_on(mirror::apply(db, &[entry], None)).unwrap();
    }
    assert_eq!(w.api.get(&path, &w.t.secret_key).body, before);
}

#[test]
fn agents_goals_live_board_and_sla() {
    let w = world();
    let l = w
        .api
        .get(&format!("/v1/analytics/agents?{PERIOD}"), &w.t.secret_key);
    assert_eq!(l.status, 200, "{}", l.body);
    let agents = l.body["agents"].as_array().unwrap();
    let (a, b) = (&agent_row(&l.body, &w.a), &agent_row(&l.body, &w.b));
    // A: C2 and C3 assigned and resolved, 2 messages, first responses 10 and 5 (median rank
    // 0 = 5), handle 30 and 55.
    assert_eq!(
        (
            a["assigned"].clone(),
            a["resolved"].clone(),
            a["messages"].clone()
        ),
        (json!(2), json!(2), json!(2))
    );
    assert_eq!(a["resolution_percent"], 100.0);
    assert_eq!(a["first_response"]["median_ms"], 5 * MIN);
    assert_eq!(a["handle"]["average_ms"], 2_550_000);
    assert_eq!(agents[0]["agent_id"], w.a.as_str(), "most resolved first");
    // Goals: resolved ≥ 4 (A has 2: 50 %), first response median ≤ 10 min (A: 5, met).
    let goal = |x: &Value, m: &str| {
        x["goals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metric"] == m)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            goal(a, "resolved")["met"].clone(),
            goal(a, "resolved")["progress_percent"].clone()
        ),
        (json!(false), json!(50.0))
    );
    assert_eq!(goal(a, "first_response_median_ms")["met"], true);
    // B: C4, 30 min: the median goal is missed (600 000 / 1 800 000 = 33.3 %).
    assert_eq!(
        (b["assigned"].clone(), b["resolved"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(
        goal(b, "first_response_median_ms")["progress_percent"],
        33.3
    );
    // The live board: nobody online (no inbox sockets here), B carries C4 against capacity 2.
    let live = w.api.get("/v1/analytics/agents/live", &w.t.secret_key);
    assert_eq!(live.status, 200, "{}", live.body);
    let lb = agent_row(&live.body, &w.b);
    assert_eq!(
        (
            lb["load"].clone(),
            lb["capacity"].clone(),
            lb["status"].clone()
        ),
        (json!(1), json!(2), json!("offline"))
    );

    // SLA (normal: first response 8 min, resolution 45, wall clock). First responses after the
    // handoff: C2 10 (breached), C3 5, C4 30 (breached) → 3 measured, 2 breached. Resolutions:
    // C2 41, C3 60 (breached); C4's clock has run 40 of 45 min (now +1540): running, not
    // measured, and past 75 % → at risk, due at +1545.
    let s = w
        .api
        .get(&format!("/v1/analytics/sla?{PERIOD}"), &w.t.secret_key);
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(
        s.body["first_response"],
        json!({"measured": 3, "breached": 2, "met_percent": 33.3})
    );
    assert_eq!(
        s.body["resolution"],
        json!({"measured": 2, "breached": 1, "met_percent": 50.0})
    );
    let risk = s.body["at_risk"].as_array().unwrap();
    assert_eq!(risk.len(), 1, "{}", s.body);
    assert_eq!(risk[0]["conversation_id"], w.convs[3].as_str());
    assert_eq!(
        (risk[0]["clock"].clone(), risk[0]["breached"].clone()),
        (json!("resolution"), json!(false))
    );
    assert_eq!(risk[0]["due_at"], T0 + 1545 * MIN);
    // Ten minutes later it is breached and still listed.
    at(&w.api, T0 + 1550 * MIN);
    let s = w
        .api
        .get(&format!("/v1/analytics/sla?{PERIOD}"), &w.t.secret_key);
    assert_eq!(s.body["at_risk"][0]["breached"], true);
    assert_eq!(s.body["resolution"]["breached"], 2);
}

#[test]
fn csv_exports_access_and_bad_input() {
    let w = world();
    let r = w.api.get(
        &format!("/v1/analytics/export?{PERIOD}&report=by_day"),
        &w.t.secret_key,
    );
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8_lossy(r.resp.body.as_bytes()).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("day,created,resolved"), "{text}");
    assert!(lines[2].starts_with("2026-11-30,2,3,"), "{text}");
    for report in [
        "summary",
        "channels",
        "busiest_hours",
        "handoff_reasons",
        "models",
        "intents",
        "agents",
        "sla",
        "at_risk",
    ] {
        let r = w.api.get(
            &format!("/v1/analytics/export?{PERIOD}&report={report}"),
            &w.t.secret_key,
        );
        assert_eq!(r.status, 200, "{report}");
        assert!(
            String::from_utf8_lossy(r.resp.body.as_bytes())
                .lines()
                .count()
                >= 2,
            "{report}"
        );
    }
    let summary = w
        .api
        .get(&format!("/v1/analytics/export?{PERIOD}"), &w.t.secret_key);
    assert!(String::from_utf8_lossy(summary.resp.body.as_bytes())
        .contains("\r\nresolution_median_ms,2460000\r\n"));

    // A key scoped without analytics:read is refused; a viewer (the lowest role) reads.
    let viewer_ok = w.api.user_with_role(&w.t, "viewer").1;
    let scoped = w.api.key_with_scopes(&w.t, &["conversations:read"]);
    assert_eq!(w.api.get("/v1/analytics/overview", &scoped).status, 403);
    assert_eq!(w.api.get("/v1/analytics/overview", &viewer_ok).status, 200);
    // Another tenant sees its own (empty) numbers.
    let other = w.api.create_tenant("stats-other", "pro", None);
    let o = w.api.get(
        &format!("/v1/analytics/overview?{PERIOD}"),
        &other.secret_key,
    );
    assert_eq!(o.body["volume"]["created"], 0);
    // The flag turns the reports off.
    w.api.set_flag(&w.t, "analytics", false);
    assert_eq!(
        w.api.get("/v1/analytics/overview", &w.t.secret_key).status,
        403
    );
    w.api.set_flag(&w.t, "analytics", true);
    // Bad periods are 422s naming the parameter.
    for q in [
        "from=2026-13-01",
        "from=2026-12-01&to=2026-11-01",
        "from=2020-01-01&to=2026-01-01",
        "days=0",
        "report=nope",
    ] {
        let r = w
            .api
            .get(&format!("/v1/analytics/export?{q}"), &w.t.secret_key);
        assert_eq!(r.status, 422, "{q}: {}", r.body);
    }
    // Goals and SLA policies are validated with the config.
    let r = w.api.edit_config(&w.t, |c| {
        c["analytics"]["goals"] = json!([{"metric": "speed", "target": 1}])
    });
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["error"]["field"]
            .as_str()
            .unwrap()
            .ends_with("analytics.goals[0].metric"),
        "{}",
        r.body
    );
}

#[test]
fn the_recompute_brings_in_history_mirrored_before_analytics() {
    use futures::executor::block_on;
    use prism_core::ports::{SqlDatabase, Statement};
    let api = Api::new();
    at(&api, T0);
    let t = api.create_tenant("stats-old", "pro", None);
    // A conversation as the mirror held it before analytics: no facts, not rolled, handed
    // over and resolved (dated by its last change), with three messages.
    let mut stmts = vec![Statement::new(
        "INSERT INTO conversations (id, tenant_id, customer_id, channel, status, priority, tags, handoff_reason, last_seq,
           mirror_version, created_at, updated_at) VALUES ('cnv_old', ?1, 'cus_old', 'email', 'resolved', 'normal', '[]', 'billing', 3, 9, ?2, ?3)",
        vec![t.id.as_str().into(), T0.into(), (T0 + 30 * MIN).into()],
    )];
    for (seq, author, at) in [
        (1, "customer", T0),
        (2, "ai", T0 + 2 * MIN),
        (3, "agent", T0 + 12 * MIN),
    ] {
        stmts.push(Statement::new(
            "INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, created_at)
             VALUES ('cnv_old', ?1, ?2, ?3, ?4, 'x', 'old words', ?5)",
            vec![seq.into(), t.id.as_str().into(), format!("msg_old{seq}").into(), author.into(), at.into()],
        ));
    }
    block_on(api.rig.db.batch(stmts)).unwrap();
    let path = "/v1/analytics/overview?from=2026-11-30&to=2026-11-30";
    assert_eq!(
        api.get(path, &t.secret_key).body["volume"]["created"],
        0,
        "not counted yet"
    );
    let r = api.call(
        Method::Post,
        "/v1/analytics/recompute",
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.body["conversations"], 1, "{}", r.body);
    let o = api.get(path, &t.secret_key).body;
    assert_eq!(o["volume"]["created"], 1);
    assert_eq!(o["volume"]["resolved"], 1);
    assert_eq!(
        o["volume"]["messages"],
        json!({"customer": 1, "ai": 1, "agent": 1})
    );
    assert_eq!(o["speed"]["first_response"]["median_ms"], 2 * MIN);
    assert_eq!(o["speed"]["first_human_response"]["median_ms"], 12 * MIN);
    assert_eq!(o["speed"]["resolution"]["median_ms"], 30 * MIN);
    assert_eq!(
        o["ai"]["handoff_reasons"],
        json!([{"key": "billing", "n": 1}])
    );
    // A second recompute changes nothing.
    api.call(
        Method::Post,
        "/v1/analytics/recompute",
        Some(&t.secret_key),
        None,
    );
    assert_eq!(api.get(path, &t.secret_key).body, o);
}

#[test]
fn time_online_is_the_union_of_an_agents_inbox_sessions() {
    use futures::executor::block_on;
    use prism_core::objects::{self, ObjectContext};
    use prism_core::ports::{ObjectClass, ObjectRef};
    use prism_core::testing::{MemoryHub, TEST_ADMIN_SECRET};
    let api = Api::new();
    at(&api, T0);
    let t = api.create_tenant("stats-online", "pro", None);
    let (agent, _) = api.user_with_role(&t, "agent");
    let version = api
        .get(&format!("/v1/platform/tenants/{}", t.id), TEST_ADMIN_SECRET)
        .body["version"]
        .clone();
    let platform = api.rig.platform();
    let hub = MemoryHub::default();
    let target = ObjectRef::new(ObjectClass::Inbox, &t.id);
    let db = &*api.rig.db;
    let cx = ObjectContext {
        target: &target,
        store: db,
        hub: &hub,
        clock: &*api.rig.clock,
        random: &*api.rig.random,
        mirror: Some(db),
        objects: None,
        platform: Some(&platform),
        flushing: None,
        schema_ready: None,
        pace: None,
    };
    let join = || {
        let grant = json!({"tenant_id": t.id, "holder": {"kind": "user", "user_id": agent}, "scope": "conversations:read",
            "version": version, "expires_at": null, "checked_at": api.rig.clock_now(), "ip": "198.51.100.1"});
        let participant = json!({"kind": "agent", "id": agent, "name": "A"});
        block_on(objects::connect(
            &cx,
            Some(&participant.to_string()),
            Some(&grant.to_string()),
            json!({"skills": []}),
        ))
        .unwrap()
    };
    // Tab one from +0 to +45, tab two from +30 to +90: 90 minutes online, not 105.
    let a = join();
    at(&api, T0 + 30 * MIN);
    let b = join();
    at(&api, T0 + 45 * MIN);
    block_on(objects::on_close(&cx, "a", &a));
    at(&api, T0 + 90 * MIN);
    block_on(objects::on_close(&cx, "b", &b));
    let l = api.get(
        "/v1/analytics/agents?from=2026-11-30&to=2026-11-30",
        &t.secret_key,
    );
    let row = agent_row(&l.body, &agent);
    assert_eq!(row["online_ms"], 90 * MIN, "{}", l.body);
    // A period boundary inside the sessions counts only what falls in the period: day
    // 2026-11-30 at UTC−5:45 starts at 05:45 UTC = T0 + 55 min, so +55…+90 is 35 minutes.
    let r = api.edit_config(&t, |c| {
        c["business_hours"]["utc_offset_minutes"] = json!(-340)
    });
    assert_eq!(r.status, 422, "offsets are whole quarter hours: {}", r.body);
    let r = api.edit_config(&t, |c| {
        c["business_hours"]["utc_offset_minutes"] = json!(-345)
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let l = api.get(
        "/v1/analytics/agents?from=2026-11-30&to=2026-11-30",
        &t.secret_key,
    );
    let row = agent_row(&l.body, &agent);
    assert_eq!(row["online_ms"], 35 * MIN, "{}", l.body);
}
