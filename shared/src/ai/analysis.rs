//! Per-message analysis for analytics and escalation: sentiment (−1..1), intent, topics and
//! language. A provider's JSON mode does it when one is available; this module's small
//! lexicon-based classifier does it otherwise (and is the fallback when the model's JSON is
//! unusable).

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::knowledge::{lexicon, text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Analysis {
    pub sentiment: f32,
    pub intent: Intent,
    pub topics: Vec<String>,
    pub language: String,
    /// Contact details and buying intent the model read in the message (model analyses only;
    /// handed to leads, never stored with the analysis).
    #[serde(skip)]
    #[schemars(skip)]
    pub lead: Option<LeadDetails>,
}

/// What a model says a customer told about themselves. Proposals, not facts: leads take an
/// email or phone only when the message itself contains it, and name and company wait for an
/// agent (`leads::capture::from_ai`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub buying_intent: bool,
}

impl LeadDetails {
    pub fn is_empty(&self) -> bool {
        !self.buying_intent
            && self.name.is_none()
            && self.email.is_none()
            && self.phone.is_none()
            && self.company.is_none()
    }
}

/// What the customer wants with a message. Escalation and small-talk handling branch on it,
/// and analytics group by it, so an unknown value from a model is refused, not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Question,
    Complaint,
    Purchase,
    Cancel,
    HumanRequest,
    Greeting,
    Thanks,
    Other,
}

impl Intent {
    pub const ALL: [Intent; 8] = [
        Intent::Question,
        Intent::Complaint,
        Intent::Purchase,
        Intent::Cancel,
        Intent::HumanRequest,
        Intent::Greeting,
        Intent::Thanks,
        Intent::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Question => "question",
            Intent::Complaint => "complaint",
            Intent::Purchase => "purchase",
            Intent::Cancel => "cancel",
            Intent::HumanRequest => "human_request",
            Intent::Greeting => "greeting",
            Intent::Thanks => "thanks",
            Intent::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Greetings and thanks get a short reply, not a knowledge-base search.
    pub fn is_small_talk(self) -> bool {
        matches!(self, Intent::Greeting | Intent::Thanks)
    }
}

const POSITIVE: &[&str] = &[
    "thank",
    "thanks",
    "great",
    "love",
    "perfect",
    "awesome",
    "happy",
    "excellent",
    "good",
    "helpful",
    "amazing",
    "nice",
    "appreciate",
    "wonderful",
    "fantastic",
    "brilliant",
    "resolved",
];
const NEGATIVE: &[&str] = &[
    "angry",
    "terrible",
    "awful",
    "worst",
    "hate",
    "useless",
    "broken",
    "ridiculous",
    "unacceptable",
    "frustrated",
    "frustrating",
    "disappointed",
    "bad",
    "wrong",
    "late",
    "scam",
    "horrible",
    "annoyed",
    "never",
    "poor",
    "damaged",
    "missing",
    "furious",
    "rubbish",
    "waste",
    "stupid",
    "joke",
    "upset",
];
const NEGATORS: &[&str] = &[
    "not", "no", "never", "dont", "don't", "isn't", "isnt", "wasn't", "didn't", "cannot", "can't",
];

/// Phrases that mean "get me a person".
const HUMAN: &[&str] = &[
    "human",
    "real person",
    "an agent",
    "a person",
    "someone real",
    "representative",
    "talk to someone",
    "speak to someone",
    "live agent",
    "speak to a",
    "talk to a",
    "chat with a",
    "live person",
    "customer service rep",
    "hablar con",
    "con una persona",
    "persona real",
    "parler à",
    "parler a",
    "une personne",
    "un conseiller",
    "falar com",
    "uma pessoa",
    "mit jemandem",
    "einem menschen",
    "echten menschen",
    // staff by another name, and being put through to them
    "support person",
    "staff member",
    "member of staff",
    "of your staff",
    "whoever is in charge",
    "someone in charge",
    "person in charge",
    "put me through",
    "connect me to",
    "connect me with",
    "transfer me",
    // a call back: only a person calls ("can someone ring me?")
    "call me",
    " ring me",
    " phone me",
    "call back",
    "callback",
    "llamarme",
    "me llamen",
    "me pueden llamar",
    "llamar por tel",
    "faire rappeler",
    "rappelez-moi",
    "zurückrufen",
    "zurueckrufen",
    "rückruf",
    "rueckruf",
    "me ligar",
    "ligar-me",
    "me liguem",
];

/// Words that greet on their own (en, es, de, fr, pt). Matched as whole words, so that
/// "shipping", "this" or "nothing" (which hold "hi") and "they" ("hey") never make a question
/// small talk.
const GREETINGS: &[&str] = &[
    "hi", "hello", "hey", "hiya", "hola", "hallo", "servus", "moin", "bonjour", "bonsoir", "salut",
    "olá", "ola", "oi",
];

/// "Good" and the times of day it greets with ("good morning", "buenos días", "guten Tag",
/// "bom dia"); a time of day alone ("Tag" is also a label) is no greeting.
const GOOD: &[&str] = &["good", "buenos", "buenas", "guten", "bom", "boa"];
const TIMES_OF_DAY: &[&str] = &[
    "morning",
    "afternoon",
    "evening",
    "días",
    "dias",
    "tardes",
    "noches",
    "tag",
    "morgen",
    "abend",
    "dia",
    "tarde",
];

/// Words that may stand beside a greeting ("hello there", "hi all").
const GREETING_COMPANIONS: &[&str] = &["there", "all", "team", "everyone"];

/// Whether a message only greets: at most three words, each a greeting, "good", a time of day
/// or a companion, with a greeting or "good" and a time of day among them.
fn only_greets(words: &[String]) -> bool {
    let is = |list: &[&str], w: &String| list.contains(&w.as_str());
    let any = |list: &[&str]| words.iter().any(|w| is(list, w));
    words.len() <= 3
        && words.iter().all(|w| {
            is(GREETINGS, w) || is(GOOD, w) || is(TIMES_OF_DAY, w) || is(GREETING_COMPANIONS, w)
        })
        && (any(GREETINGS) || (any(GOOD) && any(TIMES_OF_DAY)))
}

/// Words that, anywhere in a message, ask for a person (es, de, fr, pt too).
const HUMAN_WORDS: &[&str] = &[
    "agent",
    "agents",
    "rep",
    "supervisor",
    "manager",
    "operator",
    "humano",
    "humana",
    "humain",
    "mensch",
    "mitarbeiter",
    "mitarbeiterin",
    "agente",
    "atendente",
    "operador",
    "conseiller",
    "representante",
];

pub fn local(message: &str, default_language: &str) -> Analysis {
    let lower = message.to_lowercase();
    let words = text::words(message);
    let mut score = 0f32;
    for (i, w) in words.iter().enumerate() {
        let negated = i
            .checked_sub(1)
            .and_then(|j| words.get(j))
            .is_some_and(|prev| NEGATORS.contains(&prev.as_str()));
        let base = w.trim_end_matches('s');
        let polarity = if POSITIVE.contains(&w.as_str()) || POSITIVE.contains(&base) {
            1.0
        } else if NEGATIVE.contains(&w.as_str()) || NEGATIVE.contains(&base) {
            -1.0
        } else {
            0.0
        };
        score += if negated { -polarity * 0.8 } else { polarity };
    }
    if message.contains("!!")
        || (message.len() > 8
            && message
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_uppercase()))
    {
        score -= 0.5;
    }
    let sentiment = (score / ((words.len() as f32).sqrt().max(1.0))).clamp(-1.0, 1.0);
    let has = |list: &[&str]| list.iter().any(|p| lower.contains(p));
    let intent = if has(HUMAN) || words.iter().any(|w| HUMAN_WORDS.contains(&w.as_str())) {
        Intent::HumanRequest
    } else if has(&["cancel", "unsubscribe", "close my account", "terminate"]) {
        Intent::Cancel
    } else if sentiment <= -0.3
        || has(&[
            "complain",
            "complaint",
            "refund",
            "not working",
            "doesn't work",
            "broken",
        ])
    {
        Intent::Complaint
    } else if has(&[
        "buy", "price", "pricing", "purchase", "cost", "how much", "upgrade", "discount", "plan",
    ]) {
        Intent::Purchase
    } else if words.len() <= 4 && has(&["thank", "thanks", "cheers"]) {
        Intent::Thanks
    } else if only_greets(&words) {
        Intent::Greeting
    } else if message.contains('?')
        || words.first().is_some_and(|w| {
            [
                "how", "what", "when", "where", "why", "can", "do", "does", "is", "are", "which",
                "who",
            ]
            .contains(&w.as_str())
        })
    {
        Intent::Question
    } else {
        Intent::Other
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for t in text::terms(message).into_iter().filter(|t| t.len() > 3) {
        match counts.iter_mut().find(|(k, _)| *k == t) {
            Some(c) => c.1 += 1,
            None => counts.push((t, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    Analysis {
        sentiment,
        intent,
        topics: counts.into_iter().take(3).map(|c| c.0).collect(),
        language: language_of(&words, &lower, default_language),
        lead: None,
    }
}

/// Language by stopword overlap among a few common languages, plus letters and marks only one
/// of them writes (`¿`, `ñ`, `ß`, `ã`…); the tenant default otherwise.
pub fn detect_language(message: &str, default: &str) -> String {
    language_of(&text::words(message), &message.to_lowercase(), default)
}

/// Function words each of which, among the five languages, only one writes, and English does
/// not: one is enough to tell a short message's language.
const DISTINCTIVE: &[(&str, &[&str])] = &[
    (
        "es",
        &[
            "las", "los", "tienen", "puedo", "pueden", "usted", "ustedes", "cuánto", "cuanto",
            "dónde", "donde", "qué", "cómo", "está", "tengo", "quiero", "hola", "gracias", "del",
            "hasta", "también", "tambien", "nuestro", "vuestro",
        ],
    ),
    (
        "fr",
        &[
            "vous", "je", "les", "est", "votre", "vos", "nous", "avec", "une", "au", "aux", "il",
            "elle", "combien", "comment", "où", "bonjour", "merci", "pouvez", "peux", "quoi",
            "pourquoi", "chez", "sont", "ça",
        ],
    ),
    (
        "de",
        &[
            "der", "das", "ist", "und", "ich", "nicht", "wie", "bei", "mein", "meine", "ein",
            "eine", "einen", "für", "fuer", "auf", "euch", "eure", "euer", "kann", "gibt", "wo",
            "wann", "warum", "hallo", "danke", "mit", "nach", "vom", "zum", "zur", "sie", "wir",
        ],
    ),
    (
        "pt",
        &[
            "você", "voce", "vocês", "voces", "não", "nao", "olá", "obrigado", "obrigada", "têm",
            "posso", "minha", "meu", "alguém", "alguem", "tem", "qual", "quanto", "pra", "ao",
            "uma", "é",
        ],
    ),
];

/// [`detect_language`] over a message already split into `words` and lower-cased.
fn language_of(words: &[String], lower: &str, default: &str) -> String {
    /// Characters that, among these five languages, belong to one.
    const MARKS: &[(&str, &[char])] = &[
        ("es", &['¿', '¡', 'ñ']),
        ("fr", &['è', 'ù', 'œ', 'î', 'û']),
        ("de", &['ß', 'ä', 'ö', 'ü']),
        ("pt", &['ã', 'õ']),
    ];
    const LANGS: &[(&str, &[&str])] = &[
        (
            "en",
            &[
                "the", "is", "and", "my", "you", "what", "how", "can", "i", "to", "a", "do",
                "does", "have", "your", "for", "of", "in", "it", "are", "with", "there", "where",
                "when", "this", "that", "on", "me", "please", "want", "need",
            ],
        ),
        (
            "es",
            &[
                "el", "la", "es", "y", "mi", "que", "como", "puedo", "por", "para", "los", "hola",
                "cuánto", "cuánta", "cuántos", "dónde", "qué", "cómo", "cuándo", "del", "una",
                "tienen", "hay", "está", "tengo", "quiero", "gracias", "con", "hablar", "las",
                "pueden", "usted", "un", "lo",
            ],
        ),
        (
            "fr",
            &[
                "le", "la", "est", "et", "mon", "que", "comment", "je", "pour", "les", "bonjour",
                "combien", "où", "quand", "quel", "quelle", "vous", "votre", "des", "du", "merci",
                "peut", "pouvez", "pendant", "avec", "nous", "parler", "une", "au", "aux", "il",
                "vos", "sont", "chez",
            ],
        ),
        (
            "de",
            &[
                "der", "die", "das", "ist", "und", "mein", "wie", "ich", "nicht", "hallo", "wo",
                "wann", "ihr", "euer", "eure", "kann", "meine", "mit", "einem", "danke", "möchte",
                "ein", "eine", "zu", "für", "auf", "bei", "gibt", "euch",
            ],
        ),
        (
            "pt",
            &[
                "o", "a", "é", "e", "meu", "que", "como", "posso", "para", "os", "olá", "quanto",
                "onde", "quando", "não", "você", "vocês", "uma", "um", "obrigado", "minha", "têm",
                "quero", "em", "ao", "seu", "sua", "falar", "alguém", "tem", "voce", "voces",
                "nao",
            ],
        ),
    ];
    let counts: Vec<(&str, usize)> = LANGS
        .iter()
        .map(|(lang, stop)| {
            let marked = MARKS
                .iter()
                .find(|m| m.0 == *lang)
                .map_or(0, |m| lower.chars().filter(|c| m.1.contains(c)).count());
            (
                *lang,
                words.iter().filter(|w| stop.contains(&w.as_str())).count() + marked,
            )
        })
        .collect();
    let most = counts.iter().map(|c| c.1).max().unwrap_or(0);
    if most < 2 {
        // One word only one of the languages writes ("vous", "las", "bei") tells a short
        // message better than its trigrams ("vous acceptez American Express ?" reads as
        // Portuguese by letters).
        let only: Vec<&str> = DISTINCTIVE
            .iter()
            .filter(|(_, list)| words.iter().any(|w| list.contains(&w.as_str())))
            .map(|(lang, _)| *lang)
            .collect();
        if let [lang] = only.as_slice() {
            return lang.to_string();
        }
        // A shop that speaks one of the other four languages hears mostly that one: its
        // language is a better guess than trigrams, which mix Spanish and Portuguese up on
        // short messages typed without accents ("a q hora cerrais entre semana": Portuguese).
        let primary = default.split(['-', '_']).next().unwrap_or("");
        if primary != "en" && LANGS.iter().any(|(l, _)| l.eq_ignore_ascii_case(primary)) {
            return default.to_string();
        }
        // Too few function words to tell. Character trigrams decide, but only for a message
        // with some sign of not being English (a letter English does not write, a word the
        // lexicon knows as foreign, a foreign function word): on short English ("return
        // label", "wrong size, exchange?") trigrams guess Spanish or German as often as not.
        if lexicon::Reading::of(lower, words).foreign() {
            if let Some(lang) = by_trigrams(lower) {
                return lang;
            }
        }
        return default.to_string();
    }
    // A tie (short words shared by several languages) goes to the tenant's language when it
    // is among the tied, else to the first listed.
    let tied: Vec<&str> = counts.iter().filter(|c| c.1 == most).map(|c| c.0).collect();
    let primary = default.split(['-', '_']).next().unwrap_or("");
    tied.iter()
        .find(|l| l.eq_ignore_ascii_case(primary))
        .or(tied.first())
        .map_or_else(|| default.to_string(), |l| l.to_string())
}

/// The language of a message too short for function words to tell, by its character trigrams
/// (whatlang, among the five languages the responder speaks). Its confidence is not used: on
/// the probe sets it was as low for right guesses (0.11) as for wrong ones (0.45 the highest).
fn by_trigrams(lower: &str) -> Option<String> {
    use whatlang::{Detector, Lang};
    let d = Detector::with_allowlist(vec![Lang::Eng, Lang::Spa, Lang::Deu, Lang::Fra, Lang::Por]);
    let info = d.detect(lower)?;
    Some(
        match info.lang() {
            Lang::Spa => "es",
            Lang::Deu => "de",
            Lang::Fra => "fr",
            Lang::Por => "pt",
            _ => "en",
        }
        .to_string(),
    )
}

/// A model's JSON-mode analysis as it arrives (fields checked in [`from_model_json`]).
#[derive(serde::Deserialize)]
struct ModelAnalysis {
    sentiment: f64,
    intent: String,
    #[serde(default)]
    topics: Vec<serde_json::Value>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    lead: Option<ModelLead>,
}

#[derive(serde::Deserialize)]
struct ModelLead {
    #[serde(default)]
    name: Option<serde_json::Value>,
    #[serde(default)]
    email: Option<serde_json::Value>,
    #[serde(default)]
    phone: Option<serde_json::Value>,
    #[serde(default)]
    company: Option<serde_json::Value>,
    #[serde(default)]
    buying_intent: Option<bool>,
}

/// A model's string field: trimmed, without control characters, at most 200 characters;
/// anything else (null, numbers, empty) is no value.
fn model_text(v: &Option<serde_json::Value>) -> Option<String> {
    let s: String = v
        .as_ref()?
        .as_str()?
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let s = s.trim();
    (!s.is_empty() && !s.eq_ignore_ascii_case("null")).then(|| s.to_string())
}

/// Reads a model's JSON-mode analysis, validating every field; `None` if unusable.
pub fn from_model_json(text: &str) -> Option<Analysis> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    // A '}' before the first '{' (found by fuzzing) is simply not an object.
    let m: ModelAnalysis = serde_json::from_str(text.get(start..=end)?).ok()?;
    let sentiment = m.sentiment as f32;
    let intent = Intent::parse(&m.intent)?;
    if !(-1.0..=1.0).contains(&sentiment) {
        return None;
    }
    Some(Analysis {
        sentiment,
        intent,
        topics: m
            .topics
            .iter()
            .filter_map(|t| t.as_str())
            .take(5)
            .map(|t| t.chars().take(40).collect())
            .collect(),
        language: m
            .language
            .as_deref()
            .unwrap_or("en")
            .chars()
            .take(8)
            .collect(),
        lead: m
            .lead
            .map(|l| LeadDetails {
                name: model_text(&l.name),
                email: model_text(&l.email),
                phone: model_text(&l.phone),
                company: model_text(&l.company),
                buying_intent: l.buying_intent.unwrap_or(false),
            })
            .filter(|l| !l.is_empty()),
    })
}

/// The instruction for a model's JSON-mode analysis.
pub fn model_prompt() -> String {
    format!(
        "Classify the customer's last message. Answer with one JSON object only: {{\"sentiment\": number from -1 (very negative) to 1 (very positive), \"intent\": one of {:?}, \"topics\": up to 3 short topic strings, \"language\": BCP 47 code, \"lead\": {{\"name\", \"email\", \"phone\", \"company\": the customer's own details only if this message states them, else null; \"buying_intent\": true if they want to buy, order, or get a price or quote}}}}.",
        Intent::ALL.map(Intent::as_str)
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn short_requests_for_a_person_are_recognised_in_each_language() {
        // One content word and a few function words: the responder's handoff notice must still
        // come in the customer's language.
        for (text, lang) in [
            ("Quero falar com um atendente humano.", "pt"),
            ("Ich möchte mit einem Mitarbeiter sprechen.", "de"),
            ("Ich will zu einem Menschen", "de"),
            ("¿Puedo hablar con una persona?", "es"),
            ("Je voudrais parler à quelqu'un, merci", "fr"),
            ("can I talk to a real person please", "en"),
            ("¿Tienen tallas infantiles?", "es"),
            ("Peut-on parler à un conseiller ?", "fr"),
        ] {
            assert_eq!(detect_language(text, "xx"), lang, "{text}");
        }
        // Short words several languages share ("a", "do", "com") do not turn English Portuguese.
        for text in [
            "do you do returns? ann@example.com",
            "do you have a refer-a-friend bonus",
        ] {
            assert_eq!(detect_language(text, "xx"), "en", "{text}");
        }
    }

    #[test]
    fn one_word_only_one_language_writes_tells_a_short_message() {
        for (text, lang) in [
            ("vous acceptez American Express ?", "fr"),
            ("las chaquetas llevan PFC?", "es"),
            ("Notfallnummer bei Unfall?", "de"),
            ("Y a-t-il une consigne a bagages au hub d'Amsterdam ?", "fr"),
            ("voce aceita paypal?", "pt"),
        ] {
            assert_eq!(detect_language(text, "en"), lang, "{text}");
        }
        // English words the other languages share with it are no sign.
        for text in ["no refund?", "express delivery?", "hay fever tea?"] {
            assert_eq!(detect_language(text, "en"), "en", "{text}");
        }
    }

    #[test]
    fn a_short_message_to_a_shop_in_another_language_is_in_the_shops_language() {
        // Trigrams read this accentless Spanish as Portuguese; a Spanish shop hears Spanish.
        assert_eq!(detect_language("a q hora cerrais entre semana", "es"), "es");
        // A word only one language writes still decides, and an English shop is unchanged.
        assert_eq!(detect_language("voce aceita paypal?", "es"), "pt");
        assert_eq!(detect_language("voce aceita paypal?", "en"), "pt");
        // "me" and "a" are English words too; "un" and "lo" are Spanish ones.
        let canarias = "vivo en las palmas y queria pillarme un ereader, me va a tocar pagar \
                        algo extra cuando me lo traigan?";
        assert_eq!(detect_language(canarias, "es"), "es");
        assert_eq!(detect_language("can you send me a label?", "es"), "en");
    }

    #[test]
    fn a_short_question_holding_the_letters_of_a_greeting_is_not_one() {
        for text in [
            "is shiping free?",
            "shipping to Spain?",
            "nothing arrived",
            "this is wrong",
            "which size?",
            "they never answered",
            "hi, returns?",
            "tag",
            "morning",
            "",
        ] {
            assert_ne!(local(text, "en").intent, Intent::Greeting, "{text}");
        }
        for text in [
            "hi",
            "Hello there!",
            "hey",
            "good morning",
            "Hola",
            "Buenos días",
            "Guten Tag",
            "Bonjour",
            "bom dia",
        ] {
            assert_eq!(local(text, "en").intent, Intent::Greeting, "{text}");
        }
    }

    #[test]
    fn model_answers_with_braces_in_the_wrong_order_are_not_analyses() {
        assert_eq!(from_model_json("}f\0\0\0{"), None);
        assert_eq!(from_model_json("} {"), None);
    }

    #[test]
    fn classifies_common_customer_messages() {
        let a = local(
            "This is the worst service ever, my order arrived broken!!",
            "en",
        );
        assert!(a.sentiment < -0.3, "{}", a.sentiment);
        assert_eq!(a.intent, Intent::Complaint);
        assert_eq!(
            local("Can I talk to a human please?", "en").intent,
            Intent::HumanRequest
        );
        assert_eq!(
            local("How much does the Pro plan cost?", "en").intent,
            Intent::Purchase
        );
        assert_eq!(
            local("I want to cancel my subscription", "en").intent,
            Intent::Cancel
        );
        assert_eq!(
            local("What is your return policy?", "en").intent,
            Intent::Question
        );
        assert!(local("Thanks, that was really helpful", "en").sentiment > 0.3);
        assert!(local("It's not good", "en").sentiment < 0.0, "negation");
        assert_eq!(
            local("¿Cómo puedo devolver mi pedido? Hola", "en").language,
            "es"
        );
    }

    #[test]
    fn asking_to_be_put_through_or_called_back_is_asking_for_a_person() {
        for text in [
            "connect me to a support person pls",
            "I want to file a complaint with whoever is in charge",
            "pls have someone call me back, my number is on my account",
            "Can somebody from your team ring me?",
            "could you put me through to one of your staff?",
            "pouvez-vous me faire rappeler par quelqu'un ?",
            "¿me pueden llamar por teléfono?",
            "Können Sie mich zurückrufen?",
            "vocês podem me ligar?",
        ] {
            assert_eq!(local(text, "en").intent, Intent::HumanRequest, "{text}");
        }
        // "In charge" alone is no one (a battery is in charge too), nor is "bring me" a call.
        for text in [
            "how long is the battery in charge mode?",
            "battery died, can someone bring me a new one?",
        ] {
            assert_ne!(local(text, "en").intent, Intent::HumanRequest, "{text}");
        }
    }

    #[test]
    fn model_json_is_validated() {
        assert_eq!(
            from_model_json(
                r#"{"sentiment":-0.5,"intent":"complaint","topics":["shipping"],"language":"en"}"#
            )
            .unwrap()
            .intent,
            Intent::Complaint
        );
        assert!(from_model_json(r#"{"sentiment":5,"intent":"complaint"}"#).is_none());
        assert!(from_model_json(r#"{"sentiment":0,"intent":"launch_rocket"}"#).is_none());
        assert!(from_model_json("not json").is_none());
    }
}
