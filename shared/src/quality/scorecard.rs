//! Scorecards: what a good conversation is, as weighted criteria (yes/no or a scale, N/A where
//! allowed). They live in the tenant config (`quality.scorecards`, validated at write time);
//! a review keeps the scorecard it was scored against and the config version, so editing a
//! scorecard never changes an earlier review's score.

use crate::error::{ApiError, ApiResult};
use crate::input::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QualityConfig {
    /// The tenant's scorecards (empty: the built-in one).
    pub scorecards: Vec<Scorecard>,
    /// Share of resolved conversations put in the review queue at random, in percent.
    pub sample_percent: u32,
    /// Conversations whose survey score is at most this join the review queue (CSAT 1–5;
    /// NPS and CES scores are compared on their own scale's bottom third).
    pub low_csat_at: u32,
    /// Score every resolved conversation with the AI reviewer (the workspace's provider, else
    /// the heuristic) as it is resolved.
    pub ai_review_on_resolve: bool,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            scorecards: Vec::new(),
            sample_percent: 10,
            low_csat_at: 2,
            ai_review_on_resolve: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    /// A slug naming the scorecard.
    pub id: String,
    pub name: String,
    pub criteria: Vec<Criterion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// Met or not.
    YesNo,
    /// 1 to `max` (default 5).
    Scale,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// A slug naming the criterion in answers.
    pub id: String,
    pub label: String,
    pub kind: CriterionKind,
    /// Its share of the score, relative to the others (1–100).
    pub weight: u32,
    /// Scales: the top of the scale (2–10, default 5).
    #[serde(default)]
    pub max: Option<u32>,
    /// Whether "not applicable" is an answer (the criterion then does not count).
    #[serde(default)]
    pub allow_na: bool,
    /// What a reviewer (and the AI reviewer) should look for.
    #[serde(default)]
    pub guidance: String,
}

impl Criterion {
    pub fn top(&self) -> i64 {
        i64::from(self.max.unwrap_or(5))
    }

    /// An answer as a 0..1 score, `None` for N/A. `yes`/`no` or `true`/`false` for yes/no;
    /// 1..=max for scales; `null` or `"na"` for N/A where allowed.
    pub fn read(&self, v: &Value) -> Result<Option<f64>, String> {
        let na = v.is_null() || v.as_str() == Some("na");
        if na {
            return if self.allow_na {
                Ok(None)
            } else {
                Err("this criterion needs an answer (N/A is not allowed)".into())
            };
        }
        match self.kind {
            CriterionKind::YesNo => match v {
                Value::Bool(b) => Ok(Some(if *b { 1.0 } else { 0.0 })),
                Value::String(s) if s == "yes" => Ok(Some(1.0)),
                Value::String(s) if s == "no" => Ok(Some(0.0)),
                _ => Err("yes or no".into()),
            },
            CriterionKind::Scale => {
                let top = self.top();
                let n = v
                    .as_i64()
                    .filter(|n| (1..=top).contains(n))
                    .ok_or_else(|| format!("a whole number from 1 to {top}"))?;
                Ok(Some((n - 1) as f64 / (top - 1) as f64))
            }
        }
    }
}

impl Scorecard {
    /// The weighted score (0–100) of checked answers; `None` when every criterion was N/A.
    pub fn score(&self, parts: &[(String, Option<f64>)]) -> Option<f64> {
        let (mut total, mut weights) = (0.0, 0.0);
        for (id, s) in parts {
            if let (Some(c), Some(s)) = (self.criteria.iter().find(|c| &c.id == id), s) {
                total += f64::from(c.weight) * s;
                weights += f64::from(c.weight);
            }
        }
        (weights > 0.0).then(|| ((total / weights) * 1000.0).round() / 10.0)
    }

    pub fn validate(&self, f: &str) -> ApiResult<()> {
        check::slug(&format!("{f}.id"), &self.id)?;
        check::text(&format!("{f}.name"), &self.name, 1, 100)?;
        if self.criteria.is_empty() || self.criteria.len() > 30 {
            return Err(ApiError::validation(
                format!("{f}.criteria"),
                "1 to 30 criteria",
            ));
        }
        let mut ids = Vec::new();
        for (i, c) in self.criteria.iter().enumerate() {
            let f = format!("{f}.criteria[{i}]");
            check::slug(&format!("{f}.id"), &c.id)?;
            if ids.contains(&&c.id) {
                return Err(ApiError::validation(
                    format!("{f}.id"),
                    "criterion ids must differ",
                ));
            }
            ids.push(&c.id);
            check::text(&format!("{f}.label"), &c.label, 1, 200)?;
            check::text(&format!("{f}.guidance"), &c.guidance, 0, 1000)?;
            check::range(&format!("{f}.weight"), c.weight, 1, 100)?;
            if let Some(m) = c.max {
                check::range(&format!("{f}.max"), m, 2, 10)?;
            }
        }
        Ok(())
    }
}

impl QualityConfig {
    pub fn validate(&self) -> ApiResult<()> {
        check::range("quality.sample_percent", self.sample_percent, 0, 100)?;
        check::range("quality.low_csat_at", self.low_csat_at, 0, 10)?;
        if self.scorecards.len() > 20 {
            return Err(ApiError::validation(
                "quality.scorecards",
                "at most 20 scorecards",
            ));
        }
        let mut ids = Vec::new();
        for (i, s) in self.scorecards.iter().enumerate() {
            s.validate(&format!("quality.scorecards[{i}]"))?;
            if ids.contains(&&s.id) {
                return Err(ApiError::validation(
                    format!("quality.scorecards[{i}].id"),
                    "scorecard ids must differ",
                ));
            }
            ids.push(&s.id);
        }
        Ok(())
    }

    /// The scorecard named `id`, or the first, or the built-in one.
    pub fn scorecard(&self, id: Option<&str>) -> ApiResult<Scorecard> {
        match id {
            Some(id) => self
                .scorecards
                .iter()
                .chain(std::iter::once(&builtin()))
                .find(|s| s.id == id)
                .cloned()
                .ok_or_else(|| ApiError::validation("scorecard_id", "no such scorecard")),
            None => Ok(self.scorecards.first().cloned().unwrap_or_else(builtin)),
        }
    }

    /// Every scorecard reviewers can use.
    pub fn all(&self) -> Vec<Scorecard> {
        if self.scorecards.is_empty() {
            vec![builtin()]
        } else {
            self.scorecards.clone()
        }
    }
}

/// The built-in scorecard, for workspaces that have not written their own.
pub fn builtin() -> Scorecard {
    let c = |id: &str, label: &str, kind, weight, allow_na, guidance: &str| Criterion {
        id: id.into(),
        label: label.into(),
        kind,
        weight,
        max: None,
        allow_na,
        guidance: guidance.into(),
    };
    Scorecard {
        id: "support-basics".into(),
        name: "Support basics".into(),
        criteria: vec![
            c(
                "greeting",
                "Greeted the customer and was courteous",
                CriterionKind::YesNo,
                10,
                false,
                "A greeting, please and thank you, no blame.",
            ),
            c(
                "understanding",
                "Understood the customer's issue",
                CriterionKind::Scale,
                30,
                false,
                "Restated or asked what was needed before answering.",
            ),
            c(
                "accuracy",
                "Gave correct, complete information",
                CriterionKind::Scale,
                30,
                false,
                "Matches the help pages and policies; nothing made up.",
            ),
            c(
                "resolution",
                "Resolved the issue or set clear next steps",
                CriterionKind::YesNo,
                20,
                false,
                "The customer knows what happens next.",
            ),
            c(
                "empathy",
                "Acknowledged the customer's frustration",
                CriterionKind::Scale,
                10,
                true,
                "N/A when the customer was not upset.",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weights_scales_and_na_make_the_score() {
        let s = builtin();
        let parts: Vec<(String, Option<f64>)> = [
            ("greeting", json!("yes")),
            ("understanding", json!(5)),
            ("accuracy", json!(3)),
            ("resolution", json!(false)),
            ("empathy", json!("na")),
        ]
        .iter()
        .map(|(id, v)| {
            let c = s.criteria.iter().find(|c| c.id == *id).unwrap();
            (id.to_string(), c.read(v).unwrap())
        })
        .collect();
        // (10·1 + 30·1 + 30·0.5 + 20·0) / 90 = 61.1
        assert_eq!(s.score(&parts), Some(61.1));
        assert!(s.criteria[0].read(&json!(3)).is_err());
        assert!(s.criteria[1].read(&json!(6)).is_err());
        assert!(
            s.criteria[1].read(&json!("na")).is_err(),
            "N/A only where allowed"
        );
        assert_eq!(s.score(&[("empathy".into(), None)]), None);
    }

    #[test]
    fn scorecards_are_validated() {
        let mut q = QualityConfig::default();
        q.validate().unwrap();
        let mut bad = builtin();
        bad.criteria[1].id = "greeting".into();
        q.scorecards.push(bad);
        assert!(q.validate().is_err());
        q.scorecards[0] = builtin();
        q.scorecards[0].criteria[0].weight = 0;
        assert!(q.validate().is_err());
    }
}
