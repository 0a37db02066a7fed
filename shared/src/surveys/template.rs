//! What a survey asks and when: the tenant's templates and trigger (the `surveys` section of the
//! tenant config), the built-in CSAT template in five languages, and how an answer is checked
//! against the question it answers. A survey keeps the template it was sent with, so editing a
//! template never changes how earlier answers read.

use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult};
use crate::input::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Text in several languages: `{"en": "…", "es": "…"}`. The customer's language is used when
/// present, else English, else the first entry.
pub type LocalText = BTreeMap<String, String>;

/// Picks the text for `lang` (primary subtag), falling back to English, then any.
pub fn local<'a>(t: &'a LocalText, lang: &str) -> &'a str {
    let primary = lang
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    t.get(&primary)
        .or_else(|| t.get("en"))
        .or_else(|| t.values().next())
        .map(String::as_str)
        .unwrap_or("")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SurveysConfig {
    pub trigger: Trigger,
    /// The tenant's templates (empty: the built-in CSAT survey).
    pub templates: Vec<Template>,
    /// The template sent (its `id`); absent: the first template.
    pub template: Option<String>,
    /// How long a customer may answer after the survey is sent, in hours.
    pub expires_hours: u32,
}

impl Default for SurveysConfig {
    fn default() -> Self {
        SurveysConfig {
            trigger: Trigger::default(),
            templates: Vec::new(),
            template: None,
            expires_hours: 72,
        }
    }
}

/// When a survey goes out. Voice calls and API conversations get none (there is nowhere to
/// show one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Trigger {
    /// Minutes after the conversation is resolved (0: at once). A conversation reopened
    /// before then gets no survey.
    pub delay_minutes: u32,
    /// Channels surveyed: some of `web`, `sms`, `whatsapp`, `email`.
    pub channels: Vec<Channel>,
    /// Share of resolved conversations surveyed, in percent (decided by the conversation id, so
    /// retries agree).
    pub sample_percent: u32,
    /// A customer surveyed within this many days is not asked again.
    pub cooldown_days: u32,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            delay_minutes: 0,
            channels: vec![
                Channel::Web,
                Channel::Sms,
                Channel::Whatsapp,
                Channel::Email,
            ],
            sample_percent: 100,
            cooldown_days: 7,
        }
    }
}

/// The question types. `csat`, `nps` and `ces` are the standard scales (1–5, 0–10, 1–7) and
/// feed the reports; the first of them in a template is the survey's score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Csat,
    Nps,
    Ces,
    /// A custom scale (`min`..`max`).
    Scale,
    /// One of `options`.
    Choice,
    /// Free text (a comment).
    Text,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Csat => "csat",
            Kind::Nps => "nps",
            Kind::Ces => "ces",
            Kind::Scale => "scale",
            Kind::Choice => "choice",
            Kind::Text => "text",
        }
    }

    pub const SCORED: &'static [&'static str] = &["csat", "nps", "ces"];

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Csat, Kind::Nps, Kind::Ces]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether the reports read it as the survey's score.
    pub fn is_scored(self) -> bool {
        matches!(self, Kind::Csat | Kind::Nps | Kind::Ces)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// A slug naming the template.
    pub id: String,
    /// Shown above the questions.
    #[serde(default)]
    pub intro: LocalText,
    /// Shown (or sent) after an answer.
    #[serde(default)]
    pub thanks: LocalText,
    pub questions: Vec<Question>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// A slug naming the question in answers.
    pub id: String,
    pub kind: Kind,
    pub text: LocalText,
    /// Custom scales only.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Choice questions only.
    #[serde(default)]
    pub options: Vec<Choice>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: LocalText,
}

impl Question {
    /// The inclusive range a scale answer must lie in.
    pub fn range(&self) -> Option<(i64, i64)> {
        match self.kind {
            Kind::Csat => Some((1, 5)),
            Kind::Nps => Some((0, 10)),
            Kind::Ces => Some((1, 7)),
            Kind::Scale => Some((self.min.unwrap_or(1), self.max.unwrap_or(5))),
            Kind::Choice | Kind::Text => None,
        }
    }

    /// Checks one answer; returns it normalised (numbers as integers, text trimmed).
    pub fn check_answer(&self, v: &Value) -> Result<Value, String> {
        match self.kind {
            Kind::Text => {
                let s = v.as_str().ok_or("a text answer")?.trim();
                if s.chars().count() > 2000 {
                    return Err("at most 2,000 characters".into());
                }
                Ok(Value::String(s.to_string()))
            }
            Kind::Choice => {
                let s = v.as_str().ok_or("one of the options' ids")?;
                if self.options.iter().any(|o| o.id == s) {
                    Ok(Value::String(s.to_string()))
                } else {
                    Err("one of the options' ids".into())
                }
            }
            _ => {
                let (lo, hi) = self.range().unwrap_or((0, 0));
                let n = v
                    .as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| format!("a whole number from {lo} to {hi}"))?;
                Ok(Value::from(n))
            }
        }
    }
}

impl Template {
    /// The survey's score question: the first CSAT, NPS or CES question.
    pub fn scored(&self) -> Option<&Question> {
        self.questions.iter().find(|q| q.kind.is_scored())
    }

    /// The first free-text question (where an SMS reply's words after the number go).
    pub fn comment(&self) -> Option<&Question> {
        self.questions.iter().find(|q| q.kind == Kind::Text)
    }

    /// Checks a set of answers (question id → value) against the questions: unknown ids,
    /// out-of-range values and missing required answers are 422s naming the question.
    pub fn check_answers(
        &self,
        answers: &BTreeMap<String, Value>,
    ) -> ApiResult<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        for (id, v) in answers {
            let q =
                self.questions.iter().find(|q| &q.id == id).ok_or_else(|| {
                    ApiError::validation(format!("answers.{id}"), "no such question")
                })?;
            if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
                continue;
            }
            let v = q
                .check_answer(v)
                .map_err(|m| ApiError::validation(format!("answers.{id}"), m))?;
            out.insert(id.clone(), v);
        }
        if let Some(q) = self
            .questions
            .iter()
            .find(|q| q.required && !out.contains_key(&q.id))
        {
            return Err(ApiError::validation(
                format!("answers.{}", q.id),
                "this question needs an answer",
            ));
        }
        if out.is_empty() {
            return Err(ApiError::validation(
                "answers",
                "answer at least one question",
            ));
        }
        Ok(out)
    }

    fn validate(&self, f: &str) -> ApiResult<()> {
        check::slug(&format!("{f}.id"), &self.id)?;
        if self.questions.is_empty() || self.questions.len() > 10 {
            return Err(ApiError::validation(
                format!("{f}.questions"),
                "1 to 10 questions",
            ));
        }
        check_local(&format!("{f}.intro"), &self.intro, 0)?;
        check_local(&format!("{f}.thanks"), &self.thanks, 0)?;
        let mut ids = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            let f = format!("{f}.questions[{i}]");
            check::slug(&format!("{f}.id"), &q.id)?;
            if ids.contains(&&q.id) {
                return Err(ApiError::validation(
                    format!("{f}.id"),
                    "question ids must differ",
                ));
            }
            ids.push(&q.id);
            check_local(&format!("{f}.text"), &q.text, 1)?;
            match q.kind {
                Kind::Scale => {
                    let (lo, hi) = q.range().unwrap_or((0, 0));
                    if !(0..=100).contains(&lo) || hi <= lo || hi > 100 {
                        return Err(ApiError::validation(
                            format!("{f}.max"),
                            "a scale from min to max, 0 ≤ min < max ≤ 100",
                        ));
                    }
                }
                Kind::Choice => {
                    if q.options.len() < 2 || q.options.len() > 10 {
                        return Err(ApiError::validation(
                            format!("{f}.options"),
                            "2 to 10 options",
                        ));
                    }
                    for (j, o) in q.options.iter().enumerate() {
                        check::slug(&format!("{f}.options[{j}].id"), &o.id)?;
                        check_local(&format!("{f}.options[{j}].label"), &o.label, 1)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The template localised for one language, as the widget and the survey page show it.
    pub fn localised(&self, lang: &str) -> Localised {
        Localised {
            intro: non_empty(local(&self.intro, lang))
                .unwrap_or_else(|| say(Words::Intro, lang).into()),
            thanks: non_empty(local(&self.thanks, lang))
                .unwrap_or_else(|| say(Words::Thanks, lang).into()),
            questions: self
                .questions
                .iter()
                .map(|q| LocalisedQuestion {
                    id: q.id.clone(),
                    kind: q.kind,
                    text: local(&q.text, lang).to_string(),
                    min: q.range().map(|r| r.0),
                    max: q.range().map(|r| r.1),
                    options: q
                        .options
                        .iter()
                        .map(|o| LocalisedChoice {
                            id: o.id.clone(),
                            label: local(&o.label, lang).to_string(),
                        })
                        .collect(),
                    required: q.required,
                })
                .collect(),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

fn check_local(f: &str, t: &LocalText, min_entries: usize) -> ApiResult<()> {
    if t.len() < min_entries || t.len() > 20 {
        return Err(ApiError::validation(
            f,
            "text in 1 to 20 languages: {\"en\": \"…\"}",
        ));
    }
    for (lang, text) in t {
        check::language(&format!("{f}.{lang}"), lang)?;
        check::text(&format!("{f}.{lang}"), text, 1, 500)?;
    }
    Ok(())
}

/// What the customer sees, in their language.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Localised {
    pub intro: String,
    pub thanks: String,
    pub questions: Vec<LocalisedQuestion>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LocalisedQuestion {
    pub id: String,
    pub kind: Kind,
    pub text: String,
    /// Scales: the lowest and highest answer.
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub options: Vec<LocalisedChoice>,
    pub required: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LocalisedChoice {
    pub id: String,
    pub label: String,
}

impl SurveysConfig {
    pub fn validate(&self) -> ApiResult<()> {
        let t = &self.trigger;
        check::range(
            "surveys.trigger.delay_minutes",
            t.delay_minutes,
            0,
            7 * 24 * 60,
        )?;
        check::range("surveys.trigger.sample_percent", t.sample_percent, 0, 100)?;
        check::range("surveys.trigger.cooldown_days", t.cooldown_days, 0, 365)?;
        check::range("surveys.expires_hours", self.expires_hours, 1, 30 * 24)?;
        if let Some(c) = t.channels.iter().find(|c| {
            !matches!(
                c,
                Channel::Web | Channel::Sms | Channel::Whatsapp | Channel::Email
            )
        }) {
            return Err(ApiError::validation(
                "surveys.trigger.channels",
                format!(
                    "{} conversations cannot be surveyed: web, sms, whatsapp or email",
                    c.as_str()
                ),
            ));
        }
        if self.templates.len() > 20 {
            return Err(ApiError::validation(
                "surveys.templates",
                "at most 20 templates",
            ));
        }
        for (i, tpl) in self.templates.iter().enumerate() {
            tpl.validate(&format!("surveys.templates[{i}]"))?;
        }
        if let Some(id) = &self.template {
            if !self.templates.iter().any(|t| &t.id == id) {
                return Err(ApiError::validation(
                    "surveys.template",
                    "must name one of surveys.templates",
                ));
            }
        }
        Ok(())
    }

    /// The template to send: the named one, the first, or the built-in CSAT survey.
    pub fn active(&self) -> Template {
        self.template
            .as_ref()
            .and_then(|id| self.templates.iter().find(|t| &t.id == id))
            .or_else(|| self.templates.first())
            .cloned()
            .unwrap_or_else(builtin)
    }
}

/// The built-in survey: CSAT 1–5 and an optional comment, in English, Spanish, German, French
/// and Portuguese.
pub fn builtin() -> Template {
    let lt = |pairs: [(&str, &str); 5]| -> LocalText {
        pairs
            .iter()
            .map(|(l, t)| (l.to_string(), t.to_string()))
            .collect()
    };
    Template {
        id: "csat".into(),
        intro: LocalText::new(),
        thanks: LocalText::new(),
        questions: vec![
            Question {
                id: "csat".into(),
                kind: Kind::Csat,
                text: lt([
                    ("en", "How satisfied are you with the help you got?"),
                    ("es", "¿Qué tan satisfecho estás con la ayuda recibida?"),
                    (
                        "de",
                        "Wie zufrieden bist du mit der Hilfe, die du bekommen hast?",
                    ),
                    ("fr", "Êtes-vous satisfait de l'aide reçue ?"),
                    ("pt", "Quão satisfeito você está com a ajuda recebida?"),
                ]),
                min: None,
                max: None,
                options: Vec::new(),
                required: true,
            },
            Question {
                id: "comment".into(),
                kind: Kind::Text,
                text: lt([
                    ("en", "Anything we could do better?"),
                    ("es", "¿Algo que podamos mejorar?"),
                    ("de", "Was können wir besser machen?"),
                    ("fr", "Que pourrions-nous améliorer ?"),
                    ("pt", "Algo que possamos melhorar?"),
                ]),
                min: None,
                max: None,
                options: Vec::new(),
                required: false,
            },
        ],
    }
}

/// The survey's own words.
#[derive(Clone, Copy)]
pub enum Words {
    Intro,
    Thanks,
    /// After the question in an SMS: how to answer. `{min}` and `{max}` are filled in.
    ReplyWithNumber,
    /// The email's line before the link.
    EmailLink,
    /// The survey page when the link is no longer valid.
    Expired,
    Submit,
}

pub fn say(w: Words, lang: &str) -> &'static str {
    use Words::*;
    let primary = lang
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match (w, primary.as_str()) {
        (Intro, "es") => "¿Cómo lo hicimos?",
        (Intro, "de") => "Wie war unser Service?",
        (Intro, "fr") => "Comment nous sommes-nous débrouillés ?",
        (Intro, "pt") => "Como nos saímos?",
        (Intro, _) => "How did we do?",
        (Thanks, "es") => "¡Gracias por tu opinión!",
        (Thanks, "de") => "Danke für dein Feedback!",
        (Thanks, "fr") => "Merci pour votre avis !",
        (Thanks, "pt") => "Obrigado pela sua opinião!",
        (Thanks, _) => "Thank you for your feedback!",
        (ReplyWithNumber, "es") => {
            "Responde con un número del {min} al {max} (y un comentario si quieres)."
        }
        (ReplyWithNumber, "de") => {
            "Antworte mit einer Zahl von {min} bis {max} (gern mit einem Kommentar)."
        }
        (ReplyWithNumber, "fr") => {
            "Répondez par un chiffre de {min} à {max} (et un commentaire si vous le souhaitez)."
        }
        (ReplyWithNumber, "pt") => {
            "Responda com um número de {min} a {max} (e um comentário, se quiser)."
        }
        (ReplyWithNumber, _) => {
            "Reply with a number from {min} to {max} (and a comment if you like)."
        }
        (EmailLink, "es") => "Cuéntanos en un minuto:",
        (EmailLink, "de") => "Sag es uns in einer Minute:",
        (EmailLink, "fr") => "Dites-le-nous en une minute :",
        (EmailLink, "pt") => "Conte-nos em um minuto:",
        (EmailLink, _) => "Tell us in a minute:",
        (Expired, "es") => "Esta encuesta ya no está disponible.",
        (Expired, "de") => "Diese Umfrage ist nicht mehr verfügbar.",
        (Expired, "fr") => "Cette enquête n'est plus disponible.",
        (Expired, "pt") => "Esta pesquisa não está mais disponível.",
        (Expired, _) => "This survey is no longer available.",
        (Submit, "es") => "Enviar",
        (Submit, "de") => "Senden",
        (Submit, "fr") => "Envoyer",
        (Submit, "pt") => "Enviar",
        (Submit, _) => "Send",
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_checked_against_their_questions() {
        let t = builtin();
        let ok = t
            .check_answers(
                &serde_json::from_value(json!({"csat": "4", "comment": " quick "})).unwrap(),
            )
            .unwrap();
        assert_eq!(ok["csat"], json!(4));
        assert_eq!(ok["comment"], json!("quick"));
        for bad in [
            json!({"csat": 6}),
            json!({"csat": 0}),
            json!({"nope": 1}),
            json!({"comment": "x"}),
            json!({}),
        ] {
            assert!(
                t.check_answers(&serde_json::from_value(bad.clone()).unwrap())
                    .is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn text_is_picked_in_the_customers_language() {
        let t = builtin();
        assert!(t.localised("de-AT").questions[0]
            .text
            .starts_with("Wie zufrieden"));
        assert!(t.localised("ja").questions[0]
            .text
            .starts_with("How satisfied"));
        assert_eq!(t.localised("es").thanks, "¡Gracias por tu opinión!");
    }

    #[test]
    fn templates_are_validated() {
        let mut c = SurveysConfig::default();
        c.validate().unwrap();
        c.templates.push(Template {
            id: "nps".into(),
            intro: LocalText::new(),
            thanks: LocalText::new(),
            questions: vec![Question {
                id: "pick".into(),
                kind: Kind::Choice,
                text: [("en".to_string(), "Pick".to_string())].into(),
                min: None,
                max: None,
                options: Vec::new(),
                required: false,
            }],
        });
        assert!(c.validate().is_err(), "a choice without options");
        c.templates[0].questions[0].kind = Kind::Nps;
        c.validate().unwrap();
        c.trigger.channels.push(Channel::Voice);
        assert!(c.validate().is_err());
    }
}
