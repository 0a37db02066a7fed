//! Calibration: when several reviewers (and the AI) score the same conversation against the
//! same scorecard, how far apart they are: the scores' range and standard deviation, and per
//! criterion the answers given and the share that agree with the most common one.

use super::Review;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Calibration {
    pub scorecard_id: String,
    pub reviews: usize,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `max - min`, in score points.
    pub spread: Option<f64>,
    pub std_dev: Option<f64>,
    pub criteria: Vec<CriterionSpread>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CriterionSpread {
    pub criterion: String,
    /// Each reviewer's answer: reviewer id → the value as text.
    pub answers: BTreeMap<String, String>,
    /// Share of reviewers giving the most common answer, in percent.
    pub agreement: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn label(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => "yes".into(),
        serde_json::Value::Bool(false) => "no".into(),
        serde_json::Value::Null => "na".into(),
        other => other.to_string(),
    }
}

/// One calibration per scorecard the conversation was reviewed against.
pub fn of(reviews: &[Review]) -> Vec<Calibration> {
    let mut by_card: BTreeMap<&str, Vec<&Review>> = BTreeMap::new();
    for r in reviews {
        by_card.entry(&r.scorecard_id).or_default().push(r);
    }
    by_card
        .into_iter()
        .map(|(card, rs)| {
            let scores: Vec<f64> = rs.iter().filter_map(|r| r.score).collect();
            let n = scores.len() as f64;
            let mean = (n > 0.0).then(|| scores.iter().sum::<f64>() / n);
            let min = scores.iter().copied().reduce(f64::min);
            let max = scores.iter().copied().reduce(f64::max);
            let std_dev =
                mean.map(|m| (scores.iter().map(|s| (s - m).powi(2)).sum::<f64>() / n).sqrt());
            let mut criteria: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
            for r in &rs {
                for a in &r.answers {
                    let who = match r.reviewer_type {
                        super::ReviewerType::Person => r.reviewer_id.clone(),
                        t => format!("{}:{}", r.reviewer_id, t.as_str()),
                    };
                    criteria
                        .entry(&a.criterion)
                        .or_default()
                        .insert(who, label(&a.value));
                }
            }
            Calibration {
                scorecard_id: card.to_string(),
                reviews: rs.len(),
                mean: mean.map(round1),
                min,
                max,
                spread: min.zip(max).map(|(a, b)| round1(b - a)),
                std_dev: std_dev.map(round1),
                criteria: criteria
                    .into_iter()
                    .map(|(c, answers)| {
                        let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
                        for v in answers.values() {
                            *counts.entry(v).or_default() += 1;
                        }
                        let top = counts.values().copied().max().unwrap_or(0);
                        CriterionSpread {
                            criterion: c.to_string(),
                            agreement: round1(top as f64 * 100.0 / answers.len().max(1) as f64),
                            answers,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}
