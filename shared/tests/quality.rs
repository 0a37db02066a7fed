//! Quality reviews (issue 18): reviewers (their own role) score conversations against
//! scorecards; agents see, acknowledge and dispute their own reviews; the AI reviewer scores
//! with the workspace's provider (or a heuristic, marked as such); calibration shows the spread;
//! the review queue lists low scores, escalations and a sample.

mod common;

use common::{Api, TestTenant};
use prism_core::http::Method;
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;

fn post(api: &Api, bearer: &str, path: &str, body: Value) -> common::Reply {
    api.call(Method::Post, path, Some(bearer), Some(body))
}

/// A conversation the agent answered and resolved.
fn handled(api: &Api, t: &TestTenant, agent_token: &str, text: &str) -> String {
    let (conv, token, _) = api.start_conversation(t, json!({"name": "Cleo"}));
    let r = post(
        api,
        &token,
        &format!("/v1/conversations/{conv}/messages"),
        json!({"text": text, "client_msg_id": "c1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(
        api,
        agent_token,
        &format!("/v1/conversations/{conv}/messages"),
        json!({"text": "Hi Cleo, sorry about that! A new one ships today. Thanks for waiting.", "client_msg_id": "a1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = post(
        api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/status"),
        json!({"status": "resolved"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    conv
}

fn answers(greeting: &str, understanding: i64, accuracy: i64, resolution: &str) -> Value {
    json!([
        {"criterion": "greeting", "value": greeting},
        {"criterion": "understanding", "value": understanding},
        {"criterion": "accuracy", "value": accuracy, "note": "Matched the policy"},
        {"criterion": "resolution", "value": resolution},
        {"criterion": "empathy", "value": "na"}
    ])
}

#[test]
fn reviewers_score_agents_see_acknowledge_and_dispute_their_own() {
    let api = Api::new();
    let t = api.create_tenant("qa-people", "pro", None);
    let (agent, agent_token) = api.user_with_role(&t, "agent");
    let (_, other_agent) = api.user_with_role(&t, "agent");
    let (reviewer, reviewer_token) = api.user_with_role(&t, "reviewer");
    let conv = handled(&api, &t, &agent_token, "My parcel is late");
    let path = format!("/v1/conversations/{conv}/reviews");

    // Agents do not review; a bad answer is a 422 naming the criterion.
    assert_eq!(
        post(
            &api,
            &agent_token,
            &path,
            json!({"answers": answers("yes", 5, 5, "yes")})
        )
        .status,
        403
    );
    let r = post(
        &api,
        &reviewer_token,
        &path,
        json!({"answers": answers("maybe", 5, 5, "yes")}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.to_string().contains("answers.greeting"),
        "{}",
        r.body
    );
    let r = post(
        &api,
        &reviewer_token,
        &path,
        json!({"answers": [{"criterion": "greeting", "value": "yes"}]}),
    );
    assert_eq!(r.status, 422, "every criterion: {}", r.body);

    let r = post(
        &api,
        &reviewer_token,
        &path,
        json!({"answers": answers("yes", 5, 3, "no"), "comment": "Check the courier first."}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // (10·1 + 30·1 + 30·0.5 + 20·0) / 90 = 61.1; empathy N/A does not count.
    assert_eq!(r.body["score"], 61.1);
    assert_eq!(r.body["agent_id"], agent.as_str());
    assert_eq!(r.body["reviewer_id"], reviewer.as_str());
    assert_eq!(r.body["reviewer_type"], "person");
    let review_id = r.body["id"].as_str().unwrap().to_string();
    // The reviewer's second review replaces the first.
    let r = post(
        &api,
        &reviewer_token,
        &path,
        json!({"answers": answers("yes", 5, 5, "yes")}),
    );
    assert_eq!(
        (r.body["id"].as_str(), r.body["score"].as_f64()),
        (Some(review_id.as_str()), Some(100.0))
    );

    // The agent sees it; another agent sees nothing of it.
    let mine = api.get("/v1/reviews", &agent_token);
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        mine.body
    );
    assert_eq!(
        api.get("/v1/reviews", &other_agent).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        api.get(&path, &other_agent).body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Only the reviewed agent answers it; a dispute needs words.
    let patch = |bearer: &str, body: Value| {
        api.call(
            Method::Patch,
            &format!("/v1/reviews/{review_id}"),
            Some(bearer),
            Some(body),
        )
    };
    assert_eq!(
        patch(&other_agent, json!({"status": "acknowledged"})).status,
        403
    );
    assert_eq!(
        patch(&agent_token, json!({"status": "disputed"})).status,
        422
    );
    let r = patch(
        &agent_token,
        json!({"status": "disputed", "response": "The courier lost it, not me."}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["agent_response"].as_str()),
        (Some("disputed"), Some("The courier lost it, not me."))
    );

    // Reviewers do not review their own conversations.
    let own = handled(&api, &t, &reviewer_token, "Where is my refund?");
    let r = post(
        &api,
        &reviewer_token,
        &format!("/v1/conversations/{own}/reviews"),
        json!({"answers": answers("yes", 5, 5, "yes")}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    // Another tenant's reviewer cannot reach it.
    let other = api.create_tenant("qa-other", "pro", None);
    assert_eq!(
        post(
            &api,
            &other.secret_key,
            &path,
            json!({"answers": answers("yes", 5, 5, "yes")})
        )
        .status,
        404
    );
}

#[test]
fn without_a_provider_the_heuristic_reviews_and_calibration_shows_the_spread() {
    let api = Api::new();
    let t = api.create_tenant("qa-calibrate", "pro", None);
    let (_, agent_token) = api.user_with_role(&t, "agent");
    let (_, r1) = api.user_with_role(&t, "reviewer");
    let (_, r2) = api.user_with_role(&t, "admin");
    let conv = handled(
        &api,
        &t,
        &agent_token,
        "The zipper broke, I am really disappointed",
    );
    let path = format!("/v1/conversations/{conv}/reviews");
    let ai = post(&api, &r1, &format!("{path}/ai"), json!({}));
    assert_eq!(ai.status, 200, "{}", ai.body);
    assert_eq!(ai.body["reviewer_type"], "heuristic");
    assert!(
        ai.body["answers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["note"].as_str().unwrap().starts_with("Heuristic: ")),
        "{}",
        ai.body
    );
    assert_eq!(
        ai.body["answers"][0]["value"], "yes",
        "the agent greeted and thanked: {}",
        ai.body
    );
    assert_eq!(
        post(
            &api,
            &r1,
            &path,
            json!({"answers": answers("yes", 5, 5, "yes")})
        )
        .status,
        200
    );
    assert_eq!(
        post(
            &api,
            &r2,
            &path,
            json!({"answers": answers("no", 3, 5, "yes")})
        )
        .status,
        200
    );
    let all = api.get(&path, &r1);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let cal = &all.body["calibration"][0];
    assert_eq!(cal["scorecard_id"], "support-basics");
    assert_eq!(cal["reviews"], 3);
    assert_eq!(cal["max"], 100.0);
    // r2: (0 + 30·0.5 + 30 + 20) / 90 = 72.2
    assert!(cal["min"].as_f64().unwrap() <= 72.2, "{cal}");
    assert!(cal["spread"].as_f64().unwrap() >= 27.8, "{cal}");
    let greeting = cal["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["criterion"] == "greeting")
        .unwrap();
    assert_eq!(greeting["agreement"], 66.7, "{greeting}");
    // Agents see no calibration.
    assert_eq!(api.get(&path, &agent_token).body["calibration"], json!([]));
}

#[test]
fn the_workspaces_provider_reviews_with_the_rubric_and_a_bad_reply_falls_back() {
    let api = Api::new();
    let t = api.create_tenant("qa-ai", "pro", None);
    let asked: Rc<RefCell<Vec<Value>>> = Rc::default();
    let good = Rc::new(std::cell::Cell::new(true));
    let (seen, ok) = (asked.clone(), good.clone());
    let http = ScriptedHttp::new(move |req, _| {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let system = body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap_or("");
        let text = if system.starts_with("You are a quality reviewer") {
            seen.borrow_mut().push(body.clone());
            if ok.get() {
                r#"{"criteria": [{"id": "greeting", "value": "yes", "rationale": "Greeted by name."},
                  {"id": "understanding", "value": 4, "rationale": "Got the problem."},
                  {"id": "accuracy", "value": 4, "rationale": "Plausible."},
                  {"id": "resolution", "value": "yes", "rationale": "Shipping a new one."},
                  {"id": "empathy", "value": 5, "rationale": "Apologised."}]}"#
            } else {
                "It was a good conversation overall."
            }
        } else if system.starts_with("You summarise") {
            r#"{"summary": "Replacement shipped."}"#
        } else {
            "Happy to help."
        };
        common::gemini_reply(text)
    });
    api.use_gemini(&t, http);
    let (_, agent_token) = api.user_with_role(&t, "agent");
    let conv = handled(&api, &t, &agent_token, "The zipper broke");
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/reviews/ai"),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["reviewer_type"], "ai");
    assert!(r.body["model"].as_str().unwrap().starts_with("gemini:"));
    // (10 + 30·0.75 + 30·0.75 + 20 + 10) / 100 = 85
    assert_eq!(r.body["score"], 85.0);
    let prompt = asked.borrow()[0].clone();
    let system = prompt["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        system.contains("id \"empathy\"") && system.contains("\"na\" when it does not apply"),
        "{system}"
    );
    let transcript = prompt["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(
        transcript.contains("Customer: The zipper broke") && transcript.contains("Agent: Hi Cleo"),
        "{transcript}"
    );
    // A reply that is no review: the heuristic scores instead, and says so.
    good.set(false);
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/reviews/ai"),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["reviewer_type"], "heuristic");
}

#[test]
fn the_queue_lists_low_scores_escalations_and_samples_until_a_person_reviews() {
    let api = Api::new();
    let t = api.create_tenant("qa-queue", "pro", None);
    api.set_flag(&t, "surveys", true);
    let r = api.edit_config(&t, |c| {
        c["quality"] = json!({"sample_percent": 0, "ai_review_on_resolve": true})
    });
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, agent_token) = api.user_with_role(&t, "agent");
    let (_, reviewer) = api.user_with_role(&t, "reviewer");
    assert_eq!(api.get("/v1/reviews/queue", &agent_token).status, 403);

    // A low CSAT.
    let (unhappy, token, _) = api.start_conversation(&t, json!({}));
    post(
        &api,
        &token,
        &format!("/v1/conversations/{unhappy}/messages"),
        json!({"text": "hello", "client_msg_id": "1"}),
    );
    post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{unhappy}/status"),
        json!({"status": "resolved"}),
    );
    let r = post(
        &api,
        &token,
        &format!("/v1/conversations/{unhappy}/survey"),
        json!({"answers": {"csat": 1}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // An escalation.
    let (escalated, token2, _) = api.start_conversation(&t, json!({}));
    post(
        &api,
        &token2,
        &format!("/v1/conversations/{escalated}/messages"),
        json!({"text": "hi", "client_msg_id": "1"}),
    );
    post(
        &api,
        &token2,
        &format!("/v1/conversations/{escalated}/handoff"),
        json!({"reason": "wants a person"}),
    );
    post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{escalated}/status"),
        json!({"status": "resolved"}),
    );
    // Neither: not sampled at 0 %.
    let quiet = handled(&api, &t, &agent_token, "thanks");

    let q = api.get("/v1/reviews/queue", &reviewer);
    assert_eq!(q.status, 200, "{}", q.body);
    let items = q.body["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [unhappy.as_str(), escalated.as_str()], "{}", q.body);
    assert_eq!(items[0]["reasons"], json!(["low_score"]));
    assert_eq!(items[0]["survey_score"], 1);
    assert!(items[1]["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("escalation")));
    // Resolved conversations were reviewed by the machine as they were resolved.
    assert!(items[0]["ai_score"].is_number(), "{}", q.body);
    assert!(!ids.contains(&quiet.as_str()));
    // Once a person reviews it, it leaves the queue.
    let r = post(
        &api,
        &reviewer,
        &format!("/v1/conversations/{unhappy}/reviews"),
        json!({"answers": answers("yes", 2, 2, "no")}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let q = api.get("/v1/reviews/queue", &reviewer);
    assert_eq!(q.body["items"].as_array().unwrap().len(), 1);
}

#[test]
fn custom_scorecards_are_validated_and_reviews_keep_the_version_they_used() {
    let api = Api::new();
    let t = api.create_tenant("qa-cards", "pro", None);
    let put = |quality: Value| api.edit_config(&t, |c| c["quality"] = quality);
    let r = put(
        json!({"scorecards": [{"id": "sales", "name": "Sales", "criteria": [{"id": "offer", "label": "Made an offer", "kind": "yes_no", "weight": 0}]}]}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .to_string()
            .contains("quality.scorecards[0].criteria[0].weight"),
        "{}",
        r.body
    );
    let r = put(
        json!({"scorecards": [{"id": "sales", "name": "Sales", "criteria": [
        {"id": "offer", "label": "Made an offer", "kind": "yes_no", "weight": 3},
        {"id": "tone", "label": "Tone", "kind": "scale", "max": 3, "weight": 1}]}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let version = r.body["version"].as_i64().unwrap();
    let cards = api.get("/v1/reviews/scorecards", &t.secret_key);
    assert_eq!(cards.body["items"][0]["id"], "sales");
    let (_, agent_token) = api.user_with_role(&t, "agent");
    let conv = handled(&api, &t, &agent_token, "How much for 40 chairs?");
    let r = post(
        &api,
        &t.secret_key,
        &format!("/v1/conversations/{conv}/reviews"),
        json!({"answers": [
        {"criterion": "offer", "value": true}, {"criterion": "tone", "value": 2}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // (3·1 + 1·0.5) / 4 = 87.5
    assert_eq!(r.body["score"], 87.5);
    assert_eq!(r.body["config_version"], version);
    assert_eq!(r.body["scorecard_id"], "sales");
}
