//! What kind of fact a question asks for (a duration, an amount, a time of day, a distance, a
//! street address) and whether a sentence holds one: "how long does delivery take" is not
//! answered by a sentence without a duration, however many of its words it shares.

// Sees outside bytes (questions and help pages): no indexing or slicing that could panic.
#![deny(clippy::indexing_slicing)]

use crate::knowledge::query::NUMBER_WORDS;
use crate::knowledge::text;

/// A test on a sentence (lower-cased): whether it holds the kind of fact a question asks for.
pub(super) type Kind = fn(&str) -> bool;

/// A number, in digits or written out (the words a question's numbers weigh by).
fn has_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        || NUMBER_WORDS.iter().any(|w| {
            s.split_whitespace()
                .any(|x| x.trim_matches(|c: char| !c.is_alphanumeric()) == *w)
        })
}

fn duration(s: &str) -> bool {
    has_number(s)
        && ([
            "day", "hour", "week", "month", "minute", "am", "pm", "monday", "friday", "saturday",
        ]
        .iter()
        .any(|w| s.contains(w))
            || words_of(s).any(|w| FOREIGN_TIME.contains(&w)))
}

/// A time of day ("10:00", "20h30", "2 pm", "9 Uhr"): what "at what time do you close" asks
/// for, which a duration ("takes 3 hours") or a day ("4 weeks") does not give.
pub(super) fn clock_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len()).any(|i| {
        if !digit(i) || digit(i + 1) {
            return false;
        }
        // "10:00", "9:30": a colon and two digits.
        if b.get(i + 1) == Some(&b':') && digit(i + 2) && digit(i + 3) {
            return true;
        }
        // "2 pm", "9am", "20 Uhr", "20h", "20h30": a unit right after the number, as a word.
        let rest = s.get(i + 1..).unwrap_or("").trim_start();
        ["am", "pm", "a.m", "p.m", "uhr", "h"].iter().any(|unit| {
            rest.strip_prefix(unit)
                .is_some_and(|after| after.chars().next().is_none_or(|c| !c.is_alphabetic()))
        })
    })
}

/// A distance ("90 km", "60 kilometres", "30 miles"): what "how far can I ride" asks for.
pub(super) fn distance(s: &str) -> bool {
    let words = word_list(s);
    words.iter().enumerate().any(|(at, w)| {
        let number_ends = w.trim_end_matches(|c: char| c.is_alphabetic());
        let unit =
            if number_ends.len() < w.len() && number_ends.ends_with(|c: char| c.is_ascii_digit()) {
                // "90km": the unit written onto the number.
                w.get(number_ends.len()..)
            } else if w.ends_with(|c: char| c.is_ascii_digit()) {
                words.get(at + 1).copied()
            } else {
                None
            };
        unit.is_some_and(|u| {
            u == "km"
                || u == "mi"
                || u.starts_with("kilomet")
                || u.starts_with("quilômet")
                || u.starts_with("mile")
        })
    })
}

/// A street address ("Rosenthaler Strasse 12", "Stationsplein 8", "calle del Mar, 27"): a
/// street word with a house number after it.
pub(super) fn street_address(s: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "strasse", "straße", "street", "plein", "straat", "gracht", "laan", "platz", "plaza",
    ];
    const BEFORE: &[&str] = &["calle", "rue", "rua", "avenida", "avenue", "via"];
    let words = word_list(s);
    let number = |w: &&str| w.len() <= 4 && w.chars().all(|c| c.is_ascii_digit());
    words.iter().enumerate().any(|(at, w)| {
        if SUFFIXES.iter().any(|x| w.ends_with(x)) {
            words.get(at + 1).is_some_and(number)
        } else if BEFORE.contains(w) {
            words.iter().skip(at + 1).take(4).any(number)
        } else {
            false
        }
    })
}

/// Whether a question asks for the business's own address ("berlin shop address", "Adresse
/// von eurem Standort"), not about the customer's (changing a saved or an email address).
pub(super) fn asks_for_address(q: &str) -> bool {
    const ADDRESS: &[&str] = &[
        "address",
        "adresse",
        "anschrift",
        "dirección",
        "direccion",
        "endereço",
        "endereco",
    ];
    const THEIRS: &[&str] = &[
        "mail", "my", "mi", "mis", "mon", "ma", "mein", "meine", "minha", "meu", "change",
        "update", "saved", "home", "delivery", "shipping", "cambiar", "cambio", "equivoqu",
        "modifier", "ändern", "mudar", "trocar", "wrong",
    ];
    let words = word_list(q);
    words.iter().any(|w| ADDRESS.contains(w))
        && !words.iter().any(|w| {
            THEIRS
                .iter()
                .any(|t| w.starts_with(t) && (t.len() > 3 || w == t))
        })
}

/// Units of time and days of the week in es, de, fr and pt, as whole words (as parts of words
/// they are in English ones: "mes" in "times", "dia" in "media"), for help pages written in
/// those languages.
const FOREIGN_TIME: &[&str] = &[
    "día",
    "días",
    "dia",
    "dias",
    "hora",
    "horas",
    "semana",
    "semanas",
    "mes",
    "meses",
    "mês",
    "minuto",
    "minutos",
    "lunes",
    "viernes",
    "sábado",
    "sábados",
    "domingo",
    "domingos",
    "tag",
    "tage",
    "tagen",
    "werktag",
    "werktage",
    "werktagen",
    "stunde",
    "stunden",
    "woche",
    "wochen",
    "monat",
    "monate",
    "monaten",
    "minuten",
    "uhr",
    "montag",
    "freitag",
    "samstag",
    "sonntag",
    "jour",
    "jours",
    "heure",
    "heures",
    "semaine",
    "semaines",
    "mois",
    "lundi",
    "vendredi",
    "samedi",
    "dimanche",
    "segunda",
    "sexta",
];

/// Words for "free of charge" in es, de, fr and pt.
const FOREIGN_FREE: &[&str] = &[
    "gratis",
    "gratuito",
    "gratuita",
    "gratuitos",
    "gratuitas",
    "kostenlos",
    "kostenfrei",
    "gratuit",
    "gratuite",
    "gratuits",
    "grátis",
];

fn words_of(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
}

/// The words of `s` in order, for tests that look at a word's neighbour.
fn word_list(s: &str) -> Vec<&str> {
    words_of(s).filter(|w| !w.is_empty()).collect()
}

/// An amount, or that there is none to pay ("Collection is free.").
pub(super) fn amount(s: &str) -> bool {
    (has_number(s)
        && ["euro", "€", "$", "free", "cost", "fee"]
            .iter()
            .any(|w| s.contains(w)))
        || words_of(s).any(|w| FOREIGN_FREE.contains(&w))
        // As a word of its own: "plastic-free" says without plastic ([`text::match_words`]
        // drops the "free" of such a compound).
        || text::match_words(s).iter().any(|w| w == "free")
        || s.contains("no charge")
        || s.contains("no cost")
}

/// Questions after a time of day, in en, es, de, fr and pt.
const ASKS_TIME_OF_DAY: &[&str] = &[
    "what time",
    "opening hours",
    "opening times",
    "closing time",
    "qué hora",
    "que hora",
    "q hora",
    "wie viel uhr",
    "wieviel uhr",
    "quelle heure",
    "que horas",
    "q horas",
];

/// Questions after a distance, in en, es, de, fr and pt.
const ASKS_DISTANCE: &[&str] = &[
    "how far",
    "how many km",
    "how many kilomet",
    "how many miles",
    "what range",
    "the range",
    "wie weit",
    "reichweite",
    "wie viele km",
    "wie viele kilometer",
    "cuántos km",
    "cuantos km",
    "cuántos kilómetros",
    "cuantos kilometros",
    "autonomía",
    "autonomia",
    "autonomie",
    "quantos km",
    "quantos quilômetros",
    "combien de km",
    "combien de kilomètres",
];

/// Kinds of fact only some pages give (an address, a time of day, a distance), as a test on a
/// sentence, with the words that name the kind: a page that gives none cannot answer a question
/// after one, and a sentence that gives one says what those words ask ("Stationsplein 8" is the
/// address a question names without the page writing "address").
pub(super) fn rare_kind(q: &str) -> Option<(Kind, &'static str)> {
    let has = |list: &[&str]| list.iter().any(|p| q.contains(p));
    if asks_for_address(q) {
        Some((street_address, "address location"))
    } else if has(ASKS_TIME_OF_DAY) {
        Some((clock_time, "time hour"))
    } else if has(ASKS_DISTANCE) {
        Some((distance, "distance far range"))
    } else {
        None
    }
}

/// What kind of fact a question asks for, as a test on a sentence, and whether an answer must
/// hold it (a duration, an amount or a [`rare_kind`]: the other kinds are only a hint).
pub(super) fn question_kind(q: &str) -> Option<(Kind, bool)> {
    let has = |list: &[&str]| list.iter().any(|p| q.contains(p));
    let starts = |list: &[&str]| list.iter().any(|p| q.starts_with(p));
    // The question words of en, es, de, fr and pt (the lexicon drops the foreign ones before
    // matching, so they are looked for in the question as written).
    if let Some((kind, _)) = rare_kind(q) {
        Some((kind, true))
    } else if has(&[
        "how long",
        "how soon",
        "how quick",
        "how fast",
        "how much time",
        "how many days",
        "how many hours",
        "cuánto tiempo",
        "cuántos días",
        "cuánto tarda",
        "wie lange",
        "combien de temps",
        "combien de jours",
        "quanto tempo",
        "quantos dias",
    ]) {
        Some((duration, true))
    } else if has(&[" when ", "wann ", "quand ", "quando "])
        || starts(&["when", "wann", "quand", "cuándo", "quando"])
    {
        // "When is my card charged?" may be answered by an event ("when the order ships").
        Some((duration, false))
    } else if has(&[
        // Not "how many" in any language ("wie viel", "combien"): a count is not an amount.
        "how much",
        // Whether there is anything to pay: "free" answers it.
        "have to pay",
        "need to pay",
        "pay extra",
        "pay anything",
        "for free",
        "free of charge",
        "cost",
        "price",
        "fee",
        "cuánto cuesta",
        "cuánto es",
        "cuánto vale",
        "precio",
        "kostet",
        "preis",
        "gebühr",
        "prix",
        "coûte",
        "frais",
        "quanto custa",
        "quanto é",
        "preço",
        "taxa",
    ]) {
        Some((amount, true))
    } else if has(&[
        "policy",
        "conditions",
        "rules",
        "política",
        "bedingungen",
        "politique",
    ]) {
        // A policy is its terms: the sentence with the numbers (days, amounts).
        Some((has_number, false))
    } else if has(&[" where ", "dónde", "donde", " wo ", "où", "onde"])
        || starts(&["where", "wo ", "wo?"])
    {
        Some((
            |s: &str| {
                ["at ", "under ", "in your", "open ", "street", "strasse"]
                    .iter()
                    .any(|w| s.contains(w))
            },
            false,
        ))
    } else if starts(&[
        "can i", "do you", "is ", "are ", "puedo", "kann ich", "darf ich", "puis-je", "posso",
    ]) {
        Some((
            |s: &str| {
                ["can ", "cannot", "accept", "free", "only", "must", "not "]
                    .iter()
                    .any(|w| s.contains(w))
            },
            false,
        ))
    } else {
        None
    }
}
