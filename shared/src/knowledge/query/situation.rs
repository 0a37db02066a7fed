//! What tells the customer's situation rather than what they ask: the day, the people and the
//! garment they mention, where it happened, and the sentences of a message that ask nothing. A
//! help page that answers the question rarely repeats any of it, so [`super::understand`]
//! says those words aside ([`super::ASIDE_WEIGHT`]): a passage lacking them loses less.

// Sees outside bytes (questions): no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::super::text;
use super::MAX_WORDS;

/// Words that tell the customer's situation rather than what they ask ("booked for saturday,
/// it's wednesday now", "a gift for my sister"): the day, the month, the people around them,
/// the garment they bought ("returned a jacket I paid for with a gift card": the help pages
/// say "items"; tuning sets: correct `dev2` 50.6 → 51.9 %, `dev3` 59.5 → 62.0 %, one more
/// wrong answer on `dev`; said aside in short questions too, two more). A help page that
/// answers the question rarely repeats them. In a question of at least
/// [`SITUATION_TERMS`] terms they are said aside (in a short one, "open on saturdays?", the day
/// is what it asks); a passage that holds them still counts them in full.
pub(super) const SITUATION: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "saturdays",
    "sundays",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "sister",
    "brother",
    "son",
    "daughter",
    "wife",
    "husband",
    "girlfriend",
    "boyfriend",
    "partner",
    "mum",
    "mom",
    "mother",
    "dad",
    "father",
    "friend",
    "friends",
    "kid",
    "kids",
    "family",
    "grandma",
    "grandpa",
    "grandmother",
    "grandfather",
    "aunt",
    "uncle",
    "nephew",
    "niece",
    "jacket",
    "jackets",
    "coat",
    "coats",
    "parka",
    "boots",
    "boot",
    "shoes",
    "shoe",
    "trousers",
    "pants",
    "shirt",
    "shirts",
    "tee",
    "tees",
    "tshirt",
    "fleece",
    "gloves",
    "hat",
    "beanie",
    "sweater",
    "jumper",
    "hoodie",
    "dress",
    "skirt",
    "jeans",
    "shorts",
    "leggings",
    "pullover",
    "colleague",
    "colleagues",
    "boss",
    "neighbour",
    "neighbor",
    "birthday",
    "christmas",
    "anniversary",
    "wedding",
];
pub(super) const SITUATION_TERMS: usize = 5;

/// Words that say where something happened ("stolen outside the museum", "died near the
/// park"), and the words that may stand between one and the place.
pub(super) const PLACED: &[&str] = &["near", "outside", "behind", "opposite", "beside", "nearby"];
pub(super) const PLACE_ARTICLES: &[&str] = &["the", "a", "an", "my", "our", "this", "that"];

/// Where in `words` a place is named after one of [`PLACED`]: the word itself and the next two
/// after any article. Said aside when the knowledge base does not use them: the customer's
/// whereabouts, which a help page does not repeat.
pub(super) fn place_words(words: &[String]) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    for (at, w) in words.iter().enumerate() {
        if !PLACED.contains(&w.as_str()) {
            continue;
        }
        out.insert(at);
        let mut next = at + 1;
        while words
            .get(next)
            .is_some_and(|x| PLACE_ARTICLES.contains(&x.as_str()))
        {
            next += 1;
        }
        out.extend([next, next + 1].into_iter().filter(|i| *i < words.len()));
    }
    out
}

/// Words that open a question in the five languages: a sentence of a message that starts with
/// one (or ends with a question mark) is what the customer asks.
pub(super) const ASKING: &[&str] = &[
    "can", "could", "do", "does", "did", "is", "are", "am", "how", "what", "whats", "when",
    "where", "why", "which", "who", "will", "would", "should", "may", "any", "puedo", "puede",
    "pueden", "cómo", "como", "cuánto", "cuanto", "cuándo", "cuando", "dónde", "donde", "qué",
    "que", "cuál", "cual", "cuáles", "cuales", "hay", "kann", "können", "wie", "was", "wann", "wo",
    "welche", "welcher", "welches", "gibt", "puis", "peut", "pouvez", "comment", "combien",
    "quand", "où", "quel", "quelle", "quels", "quelles", "est", "posso", "pode", "podem", "quanto",
    "quando", "onde", "qual", "quais", "tem",
];

/// Fewest terms the asking sentences must hold for the rest of the message to be read as
/// context.
pub(super) const MIN_ASKED_TERMS: usize = 2;

/// The words of a message's sentences that ask nothing, when it has both kinds: "forecast
/// says heavy rain all day saturday in utrecht. can i cancel for free?" asks about cancelling
/// for free; the forecast is why. A help page rarely repeats the context, so its words are
/// said aside ([`super::ASIDE_WEIGHT`]). A word the asking sentences use too stays in full.
pub(super) fn context_words(q: &str) -> Option<Vec<String>> {
    let mut asking: Vec<String> = Vec::new();
    let mut context: Vec<String> = Vec::new();
    let mut sentences = 0;
    // A full stop inside a number ("4.5 hours") splits a sentence in two here; the words stay
    // the same, and only which sentence asks can differ.
    for sentence in q.split_inclusive(['.', '!', '?', '\n', ';']) {
        let words = text::match_words(sentence);
        if words.is_empty() {
            continue;
        }
        // The words `understand` reads, and no more (a message can be long).
        if asking.len() + context.len() + words.len() > MAX_WORDS {
            break;
        }
        sentences += 1;
        let asks = sentence.trim_end().ends_with('?')
            || sentence.trim_start().starts_with('¿')
            || words.first().is_some_and(|w| ASKING.contains(&w.as_str()));
        if asks {
            asking.extend(words);
        } else {
            context.extend(words);
        }
    }
    if sentences < 2 || asking.is_empty() || context.is_empty() {
        return None;
    }
    context.retain(|w| !asking.contains(w));
    Some(context)
}
