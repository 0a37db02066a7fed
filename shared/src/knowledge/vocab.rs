//! A tenant's knowledge-base vocabulary: every term its passages use, with how many passages use
//! it. Retrieval and the built-in responder use it to weigh a question's words (a word every
//! passage uses says little; one no passage uses is usually what the question is really about)
//! and to correct typos to words the knowledge base actually contains ("retrun" → "return").
//!
//! Built from the passages when the tenant's index is loaded and cached with it.

// Sees outside bytes (questions): no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::text;
use std::collections::HashMap;

/// Knowledge bases larger than this many passages get no vocabulary (no typo correction, and
/// weights from the candidate passages only): loading every passage's text to build one would
/// cost more than it gives at that size.
pub const MAX_PASSAGES: usize = 5_000;

/// Spellings kept per term (a typo is compared with each).
const SURFACES: usize = 4;

/// Words this long may be two edits from the word meant (shorter ones, one).
const TWO_EDITS_FROM: usize = 9;

/// Words shorter than this are never corrected (too many neighbours one edit away).
const MIN_CORRECTABLE: usize = 4;

#[derive(Default)]
pub struct Vocabulary {
    /// Stemmed term → (passages using it, the first few surface words seen for it).
    terms: HashMap<String, (u32, Vec<String>)>,
    passages: u32,
    bytes: usize,
}

impl Vocabulary {
    /// Adds one passage's text (heading, title and body together).
    pub fn add_passage(&mut self, text: &str) {
        self.passages += 1;
        let mut seen: Vec<String> = Vec::new();
        let reading = super::lexicon::page_reading(text);
        for (w, t) in super::lexicon::page_words(text, reading) {
            let first_here = !seen.contains(&t);
            if first_here {
                seen.push(t.clone());
            }
            match self.terms.get_mut(&t) {
                Some(e) => {
                    if first_here {
                        e.0 += 1;
                    }
                    if e.1.len() < SURFACES && !e.1.contains(&w) {
                        self.bytes += w.len() + 24;
                        e.1.push(w);
                    }
                }
                None => {
                    self.bytes += t.len() + w.len() + 96;
                    self.terms.insert(t, (1, vec![w]));
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.passages == 0
    }

    /// Memory held (what the index cache budgets).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Passages using stemmed term `t`.
    pub fn df(&self, t: &str) -> u32 {
        self.terms.get(t).map(|e| e.0).unwrap_or(0)
    }

    /// How much a term tells passages apart: rare terms weigh more; a term no passage uses
    /// weighs most (it is usually what the question is about and the knowledge base lacks).
    pub fn idf(&self, t: &str) -> f32 {
        let n = self.passages.max(1) as f32;
        (1.0 + n / (self.df(t) as f32).max(0.5)).ln()
    }

    /// The surface word the knowledge base writes for stemmed term `t`.
    pub fn surface(&self, t: &str) -> Option<&str> {
        self.terms
            .get(t)
            .and_then(|e| e.1.first())
            .map(String::as_str)
    }

    /// The knowledge base's term closest to `word` (a typo of it): one edit away for words of
    /// 4–8 letters, two from 9, with the same first letter; the most used one when several are
    /// as close. `None` when the word is known already or nothing is close. The first-letter
    /// rule on the tuning sets: `dev` wrong + confident 3.9 % → 3.1 %, correct unchanged (with
    /// "nicked" → stolen in the thesaurus, which "pick" had stood in for by accident).
    pub fn correct(&self, word: &str) -> Option<String> {
        let stemmed = text::match_stem(word);
        let len = word.chars().count();
        if self.df(&stemmed) > 0 || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        if let Some(t) = self.other_form(&stemmed) {
            return Some(t);
        }
        if len < MIN_CORRECTABLE {
            return None;
        }
        let max = if len >= TWO_EDITS_FROM { 2 } else { 1 };
        let mut best: Option<(usize, u32, &str)> = None;
        for (t, (df, surfaces)) in &self.terms {
            // The typo's stem against the term, and the typo against each spelling seen.
            let pairs = std::iter::once((stemmed.as_str(), t.as_str()))
                .chain(surfaces.iter().map(|s| (word, s.as_str())));
            for (mine, candidate) in pairs {
                let clen = candidate.chars().count();
                // People rarely mistype a word's first letter; a first letter changed is
                // another word ("name" is not "same", "mind" not "find").
                if clen.abs_diff(mine.chars().count()) > max
                    || clen < MIN_CORRECTABLE
                    || candidate.chars().next() != mine.chars().next()
                {
                    continue;
                }
                let Some(d) = edit_distance(mine, candidate, max) else {
                    continue;
                };
                let better = match best {
                    None => true,
                    Some((bd, bdf, bt)) => {
                        (d, u32::MAX - df, t.as_str()) < (bd, u32::MAX - bdf, bt)
                    }
                };
                if better {
                    best = Some((d, *df, t.as_str()));
                }
            }
        }
        best.map(|(_, _, t)| t.to_string())
    }
}

impl Vocabulary {
    /// Another form of the same word that the knowledge base uses, where the stemmer keeps two
    /// apart: "treated" and "treatments" ("treat", "treatment"), an acronym's plural ("PFCs",
    /// which has no vowel for the stemmer to see a plural in). Tried before a typo: it is the
    /// same word, not a guess at one.
    fn other_form(&self, stem: &str) -> Option<String> {
        if stem.chars().count() < 3 {
            return None;
        }
        let longer = DERIVATIONS.iter().map(|s| format!("{stem}{s}"));
        let shorter = DERIVATIONS
            .iter()
            .filter_map(|s| stem.strip_suffix(s))
            .filter(|s| s.chars().count() >= 3)
            .map(String::from);
        longer
            .chain(shorter)
            .filter(|t| self.df(t) > 0)
            .max_by_key(|t| self.df(t))
    }
}

/// Endings that make another word of the same meaning, which the stemmer leaves on.
const DERIVATIONS: &[&str] = &["ment", "s"];

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions, the commonest
/// typo) between `a` and `b` when it is at most `max`, else `None`. Written here: a few lines,
/// bounded, and no crate offers the early exit this loop over a whole vocabulary needs.
fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut rows: Vec<Vec<usize>> = vec![(0..width).collect()];
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; width];
        let mut row_min = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let prev = rows.get(i)?;
            let cost = usize::from(ca != cb);
            let mut v = (prev.get(j)? + cost)
                .min(prev.get(j + 1)? + 1)
                .min(row.get(j)? + 1);
            if i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca) {
                v = v.min(rows.get(i - 1)?.get(j - 1)? + 1);
            }
            *row.get_mut(j + 1)? = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        rows.push(row);
    }
    let d = *rows.last()?.last()?;
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let mut v = Vocabulary::default();
        v.add_passage("Returns: you can return unworn items within 30 days.");
        v.add_passage("Return shipping is free. Warranty claims need the receipt.");
        v.add_passage("Opening hours of our Berlin store.");
        v
    }

    #[test]
    fn typos_become_the_knowledge_bases_words() {
        let v = vocab();
        assert_eq!(v.correct("retrun").as_deref(), Some("return"));
        assert_eq!(v.correct("warrenty"), Some(text::match_stem("warranty")));
        assert_eq!(v.correct("shiping").as_deref(), Some("ship"));
        assert_eq!(v.correct("return"), None, "known words stay");
        assert_eq!(v.correct("zebra"), None, "nothing close");
        assert_eq!(v.correct("daz"), None, "too short to guess");
        // One edit away, but at the first letter: another word, not a typo.
        let mut v = Vocabulary::default();
        v.add_passage("Pick up your order in the same store.");
        assert_eq!(v.correct("nicked"), None);
        assert_eq!(v.correct("name"), None);
        assert_eq!(v.correct("pickd").as_deref(), Some("pick"));
    }

    #[test]
    fn another_form_of_a_known_word_is_that_word() {
        let mut v = Vocabulary::default();
        v.add_passage("PFC-free water repellent treatments.");
        // An acronym's plural (the stemmer sees no vowel before its "s").
        assert_eq!(v.correct("pfcs").as_deref(), Some("pfc"));
        // A derived word the stemmer keeps apart from its verb.
        assert_eq!(v.correct("treated").as_deref(), Some("treatment"));
        assert_eq!(v.correct("treatments"), None, "known words stay");
        let mut v = Vocabulary::default();
        v.add_passage("We treat every order with care.");
        assert_eq!(v.correct("treatment").as_deref(), Some("treat"));
    }

    #[test]
    fn rare_and_unknown_terms_weigh_more_than_common_ones() {
        let v = vocab();
        assert!(v.idf("berlin") > v.idf("return"));
        assert!(v.idf("student") > v.idf("berlin"));
        assert_eq!(v.surface("ship"), Some("shipping"));
    }

    #[test]
    fn edit_distance_counts_transpositions_once_and_stops_early() {
        assert_eq!(edit_distance("retrun", "return", 2), Some(1));
        assert_eq!(edit_distance("abc", "abc", 0), Some(0));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance("", "ab", 2), Some(2));
        assert_eq!(edit_distance("ü", "u", 1), Some(1));
    }
}
