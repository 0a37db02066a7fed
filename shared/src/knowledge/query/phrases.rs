//! Phrasal verbs customers write for one word of the help pages ("send the boots back" is a
//! return, "put my subscription on hold" a pause).

// Sees outside bytes (questions): no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

/// Phrasal verbs customers write for one word of the help pages ("send the boots back" is a
/// return, "my money back" a refund): a verb, its particle up to [`PHRASE_GAP`] words after it,
/// and the word the two stand for. The particles alone are filler.
pub(super) const PHRASES: &[(&[&str], &str, &str)] = &[
    (
        &[
            "send", "sent", "sending", "ship", "shipped", "post", "posted", "mail", "mailed",
            "bring", "brought", "give", "gave", "hand", "handed",
        ],
        "back",
        "return",
    ),
    (&["money", "cash"], "back", "refund"),
    (&["sign", "signed", "signing"], "up", "signup"),
    (&["pick", "picked", "picking"], "up", "pickup"),
    (&["log", "logged", "logging"], "in", "login"),
    (&["call", "called", "calling"], "off", "cancel"),
    (&["year", "years", "yr", "yrs", "how"], "old", "age"),
    // "how far can I ride" asks for a distance (the pages' "90 km")
    (&["how"], "far", "distance"),
    // a job opening is a vacancy, not an opening hour
    (&["job", "jobs"], "openings", "vacancy"),
    (&["job", "jobs"], "opening", "vacancy"),
    // "back in stock" asks when a sold-out item returns, not about returns
    (&["back"], "stock", "restock"),
    // "buy now, pay later" (Klarna and the like)
    (&["pay", "paying"], "later", "paylater"),
    // "put my subscription on hold" pauses it; a deposit "hold" is another thing
    (&["put", "putting"], "on hold", "pause"),
];

/// Words allowed between a phrasal verb and its particle ("send my old boots back").
pub(super) const PHRASE_GAP: usize = 3;

/// The help pages' words for the phrasal verbs in `words`, and where their verbs and particles
/// stand (read as part of a phrase, they need not be terms of their own: "my money back" asks
/// about a refund, not about money; "called off" about cancelling, not about "off").
pub(super) fn phrase_words(words: &[String]) -> (Vec<&'static str>, Vec<(usize, &'static str)>) {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    for (at, w) in words.iter().enumerate() {
        for (verbs, particle, stands_for) in PHRASES {
            if !verbs.contains(&w.as_str()) {
                continue;
            }
            // A particle of two words ("on hold": "a hold on my card" is a deposit) is found
            // by its last, with the others straight before it.
            let mut particle_words = particle.split(' ').rev();
            let last = particle_words.next().unwrap_or(particle);
            let before: Vec<&str> = particle_words.collect();
            let particle_at = words
                .iter()
                .enumerate()
                .skip(at + 1 + before.len())
                .take(PHRASE_GAP + 1)
                .find(|(i, x)| {
                    x.as_str() == last
                        && before.iter().enumerate().all(|(back, b)| {
                            i.checked_sub(1 + back)
                                .and_then(|j| words.get(j))
                                .is_some_and(|y| y.as_str() == *b)
                        })
                })
                .map(|(i, _)| i);
            if let Some(p) = particle_at {
                parts.push((at, *stands_for));
                parts.push((p, *stands_for));
                if !out.contains(stands_for) {
                    out.push(*stands_for);
                }
            }
        }
    }
    (out, parts)
}
