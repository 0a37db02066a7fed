//! Answer quality on the evaluation set in `scripts/eval` (issue 21): retrieval (right document
//! first, in the top 5) and the built-in responder (answered correctly, answered wrongly with
//! confidence, out-of-scope declined, requests for a person handed over), per split and
//! language, through the real API natively with no AI provider — what every newcomer meets first.
//!
//! A measurement, not a pass/fail gate: `scripts/eval/run` runs it (`--ignored`) and prints the
//! table. Tune only on `split: "tune"` and `"dev"`; report `test`.

mod common;

use common::{Api, TestTenant};
use prism_core::http::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn docs(kb: &str) -> Vec<(String, String)> {
    common::knowledge_docs(match kb {
        "demo" => "scripts/demo/knowledge",
        "kb3" => "scripts/eval/kb3",
        _ => "scripts/eval/kb2",
    })
}

fn load(api: &Api, t: &TestTenant, kb: &str) {
    for (title, content) in docs(kb) {
        api.add_document(t, &title, &content);
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What happened to one question.
struct Outcome {
    split: String,
    lang: String,
    kind: String,
    top1: bool,
    top5: bool,
    /// The responder answered (no handoff).
    answered: bool,
    /// The answer contains every expected fact.
    correct: bool,
    /// Handed over, but the help-page text offered meanwhile contains every expected fact (the
    /// customer may read the answer before a person replies; not counted as correct).
    facts_meanwhile: bool,
    /// The reply opens with the responder's own words in the question's language (its lead-in
    /// or handoff notice; quoted help-page text stays in the knowledge base's language).
    own_language: bool,
}

/// Whether `reply` opens with one of the responder's fixed phrases in `lang`.
fn opens_in(reply: &str, lang: &str) -> bool {
    use prism_core::ai::phrases::{say, Phrase::*};
    [
        LeadIn,
        LeadInOtherLanguage,
        HandoffOpen,
        HandoffClosed,
        NoTeam,
        Greeting,
        Thanks,
    ]
    .into_iter()
    .any(|p| reply.trim_start().starts_with(say(p, lang)))
}

fn ask(api: &Api, t: &TestTenant, q: &str, n: usize) -> Value {
    let (id, token, _) = api.start_conversation(t, json!({"name": "Eval"}));
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{id}/messages"),
        Some(&token),
        Some(json!({"text": q, "client_msg_id": format!("eval-{n}")})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    api.rig.clock.advance(1000);
    let h = api.get(
        &format!("/v1/conversations/{id}/messages?after_seq=1"),
        &token,
    );
    h.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"]["type"] == "ai")
        .cloned()
        .unwrap_or(Value::Null)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "   -  ".into()
    } else {
        format!("{:5.1}%", 100.0 * n as f64 / d as f64)
    }
}

/// The metrics the issue sets goals for, over `rows`.
fn report(label: &str, rows: &[&Outcome]) -> String {
    let answerable: Vec<_> = rows.iter().filter(|o| o.kind == "answerable").collect();
    let oos: Vec<_> = rows.iter().filter(|o| o.kind == "out_of_scope").collect();
    let handoff: Vec<_> = rows.iter().filter(|o| o.kind == "handoff").collect();
    let confidently_wrong = rows
        .iter()
        .filter(|o| o.answered && !o.correct && o.kind != "handoff")
        .count();
    format!(
        "{label:<14} {:>4} | top-1 {} top-5 {} | correct {} | wrong+confident {} | out-of-scope declined {} | handoff {} | own language {} | handed over, facts shown {}",
        rows.len(),
        pct(answerable.iter().filter(|o| o.top1).count(), answerable.len()),
        pct(answerable.iter().filter(|o| o.top5).count(), answerable.len()),
        pct(answerable.iter().filter(|o| o.correct).count(), answerable.len()),
        pct(confidently_wrong, rows.len()),
        pct(oos.iter().filter(|o| !o.answered).count(), oos.len()),
        pct(handoff.iter().filter(|o| !o.answered).count(), handoff.len()),
        pct(rows.iter().filter(|o| o.own_language).count(), rows.len()),
        pct(
            answerable.iter().filter(|o| o.facts_meanwhile).count(),
            answerable.len()
        ),
    )
}

#[test]
#[ignore = "a measurement: scripts/eval/run"]
fn answer_quality_on_the_evaluation_set() {
    // The labelled set, then the later tuning sets (`split: "dev"`, `"dev2"`, `"dev3"` and
    // `"dev4"`, each written from the help pages alone after the tuning before it).
    let mut questions: Vec<Value> = Vec::new();
    for file in [
        "questions.json",
        "questions-dev.json",
        "questions-dev2.json",
        "questions-dev3.json",
        "questions-dev4.json",
        "questions-kb3.json",
    ] {
        let path = format!("{}/../scripts/eval/{file}", env!("CARGO_MANIFEST_DIR"));
        let set: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        questions.extend(set);
    }
    // The Spanish shop in a database of its own: keyword search's BM25 statistics are the
    // whole search table's, all tenants together, so a third knowledge base in the same
    // database would move the English sets' rankings (it moved the held-out half's top-1 from
    // 87.0 % to 88.3 % when it was tried).
    let shared = Api::new();
    let own = Api::new();
    let mut tenants = BTreeMap::new();
    for kb in ["demo", "kb2", "kb3"] {
        let api = if kb == "kb3" { &own } else { &shared };
        let t = api.create_tenant(&format!("eval-{kb}"), "enterprise", None);
        if kb == "kb3" {
            // A Spanish shop: its help pages and its customers are in Spanish.
            api.set_language(&t, "es");
        }
        load(api, &t, kb);
        tenants.insert(kb, (api, t));
    }
    let verbose = std::env::var("EVAL_SHOW").ok();
    let mut outcomes = Vec::new();
    for (n, q) in questions.iter().enumerate() {
        let kb = q["kb"].as_str().unwrap();
        let (api, t) = &tenants[kb];
        let text = q["q"].as_str().unwrap();
        let kind = q["kind"].as_str().unwrap().to_string();
        let split = q["split"].as_str().unwrap().to_string();
        let doc = q["doc"].as_str();
        let r = api.get(
            &format!("/v1/knowledge/search?q={}&k=5", urlencode(text)),
            &t.secret_key,
        );
        let shown: Vec<String> = r.body["hits"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        format!(
                            "{} > {} ({:.3} sim {:.2} kw {})",
                            h["title"].as_str().unwrap_or(""),
                            h["heading"].as_str().unwrap_or(""),
                            h["score"].as_f64().unwrap_or(0.0),
                            h["similarity"].as_f64().unwrap_or(0.0),
                            h["keyword_rank"].as_u64().unwrap_or(0)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let titles: Vec<String> = r.body["hits"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|h| h["title"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let answer = ask(api, t, text, n);
        let answered = answer.is_object() && answer["meta"]["handoff"].is_null();
        let body = answer["text"].as_str().unwrap_or("").to_lowercase();
        let facts: Vec<String> = q["facts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_lowercase())
            .collect();
        let has_facts = !facts.is_empty() && facts.iter().all(|f| body.contains(f));
        let correct = answered && has_facts;
        let o = Outcome {
            split: split.clone(),
            lang: q["lang"].as_str().unwrap().to_string(),
            kind,
            top1: doc.is_some_and(|d| titles.first().map(String::as_str) == Some(d)),
            top5: doc.is_some_and(|d| titles.iter().any(|t| t == d)),
            answered,
            correct,
            facts_meanwhile: !answered && has_facts,
            own_language: opens_in(
                answer["text"].as_str().unwrap_or(""),
                q["lang"].as_str().unwrap(),
            ),
        };
        // Only the tuning sets are ever shown question by question, never the test half.
        if verbose.as_deref() == Some("tune") && !split.ends_with("test") {
            println!(
                "{} [{}] {:?} top1={} ({:?} want {:?}) answered={} correct={} shown_meanwhile={} handoff={} facts={:?} -> {:.600}",
                q["id"].as_str().unwrap(),
                o.kind,
                text,
                o.top1,
                shown,
                doc,
                o.answered,
                o.correct,
                o.facts_meanwhile,
                answer["meta"]["handoff"],
                facts,
                answer["text"].as_str().unwrap_or("").replace('\n', " ")
            );
        }
        outcomes.push(o);
    }
    println!(
        "\nAnswer quality, built-in responder, no AI provider (scripts/eval/questions*.json):"
    );
    // While tuning (`--show`), not even the test half's totals are printed.
    let splits: &[&str] = if verbose.is_some() {
        &["tune", "dev", "dev2", "dev3", "dev4", "kb3-tune"]
    } else {
        &[
            "tune", "dev", "dev2", "dev3", "dev4", "kb3-tune", "test", "kb3-test",
        ]
    };
    for &split in splits {
        let rows: Vec<&Outcome> = outcomes.iter().filter(|o| o.split == split).collect();
        println!("{}", report(split, &rows));
        for lang in ["en", "es", "de", "fr", "pt"] {
            let rows: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.split == split && o.lang == lang)
                .collect();
            println!("{}", report(&format!("  {split}/{lang}"), &rows));
        }
    }
}

/// The language of short customer messages with few or no function words (`scripts/eval/
/// languages-*.tsv`: written for this, one half used while building the trigram fallback, the
/// other only measured). A floor against regressions; the README has the numbers.
#[test]
fn the_language_of_short_messages() {
    use prism_core::ai::analysis::detect_language;
    for (half, floor) in [("tune", 0.9), ("test", 0.75)] {
        let path = format!(
            "{}/../scripts/eval/languages-{half}.tsv",
            env!("CARGO_MANIFEST_DIR")
        );
        let lines: Vec<(String, String)> = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let mut right = 0;
        for (want, text) in &lines {
            let got = detect_language(text, "en");
            // English read as another language would answer an English tenant's customers in
            // the wrong language: never.
            if want == "en" {
                assert_eq!(got, "en", "{text}");
            }
            right += usize::from(&got == want);
        }
        let share = right as f64 / lines.len() as f64;
        println!("{half}: {right}/{} right", lines.len());
        assert!(share >= floor, "{half}: {right}/{}", lines.len());
    }
}
