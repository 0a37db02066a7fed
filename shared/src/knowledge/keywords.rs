//! Keyword ranking (BM25) over one tenant's passages, in the worker, from that tenant's own
//! statistics. FTS5's `bm25()` takes its statistics (how many passages there are, how long they
//! are, how many hold a word) from the whole search table, every tenant's rows together: one
//! tenant's documents moved another's keyword ranking (adding a Spanish shop to the
//! evaluation's database moved the English held-out half's top-1 from 87.0 % to 88.3 %). That
//! is a side channel between tenants, and a tenant's answers depending on its neighbours.
//! Knowledge bases over [`super::vocab::MAX_PASSAGES`] are not held in memory; FTS5 still
//! ranks those.
//!
//! The formula is FTS5's own (k1 1.2, b 0.75, its idf), over the same columns (heading and
//! text) and the same words ([`super::search::query_words`]). Rankings are close to, not the
//! same as, FTS5's for a tenant alone in its database: words are stemmed by Porter2 (as the
//! rest of matching is), not FTS5's Porter, and only the four languages' accents are folded
//! (on the tuning sets, top-1 moved by 1–3 points either way; scripts/eval/README.md).

// Sees outside bytes (questions): no indexing or slicing that could panic.
#![deny(clippy::indexing_slicing)]

use super::text;
use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;

#[derive(Default)]
pub struct Keywords {
    ids: Vec<i64>,
    lengths: Vec<u32>,
    /// Stemmed word → (passage, times it occurs there).
    postings: HashMap<String, Vec<(u32, u32)>>,
    total_length: u64,
    bytes: usize,
}

impl Keywords {
    /// Adds passage `id` (its heading path and its text, as the search table holds them).
    pub fn add(&mut self, id: i64, heading: &str, body: &str) {
        let at = self.ids.len() as u32;
        let mut counts: HashMap<String, u32> = HashMap::new();
        let mut length = 0u32;
        for w in text::words(heading).into_iter().chain(text::words(body)) {
            length += 1;
            *counts.entry(text::match_stem(&w)).or_default() += 1;
        }
        for (stem, tf) in counts {
            let list = self.postings.entry(stem).or_insert_with_key(|k| {
                self.bytes += k.len() + 64;
                Vec::new()
            });
            list.push((at, tf));
            self.bytes += 8;
        }
        self.ids.push(id);
        self.lengths.push(length);
        self.total_length += u64::from(length);
        self.bytes += 12;
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Memory held (what the index cache budgets).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The passages holding any of `words` (already as a search asks for them), best first, at
    /// most `limit`; ties go to the older passage.
    pub fn search(&self, words: &[String], limit: usize) -> Vec<i64> {
        let n = self.ids.len() as f64;
        if n == 0.0 {
            return Vec::new();
        }
        let average = (self.total_length as f64 / n).max(1.0);
        let mut scores: HashMap<u32, f64> = HashMap::new();
        let mut seen: Vec<String> = Vec::new();
        for w in words {
            let stem = text::match_stem(w);
            if seen.contains(&stem) {
                continue;
            }
            let Some(list) = self.postings.get(&stem) else {
                seen.push(stem);
                continue;
            };
            seen.push(stem);
            let held = list.len() as f64;
            // FTS5's idf: a word in more than half the passages still counts a little.
            let idf = ((n - held + 0.5) / (held + 0.5)).ln().max(1e-6);
            for &(at, tf) in list {
                let length = self.lengths.get(at as usize).copied().unwrap_or(0) as f64;
                let tf = f64::from(tf);
                *scores.entry(at).or_default() +=
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average));
            }
        }
        let mut ranked: Vec<(i64, f64)> = scores
            .into_iter()
            .filter_map(|(at, s)| self.ids.get(at as usize).map(|id| (*id, s)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked.into_iter().map(|(id, _)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passage_holding_the_rarer_word_more_often_ranks_first() {
        let mut k = Keywords::default();
        k.add(1, "Returns", "You can return unworn items within 30 days.");
        k.add(
            2,
            "Shipping",
            "We ship to 40 countries. Shipping is free over 50 euros.",
        );
        k.add(3, "Gift cards", "Gift cards never expire.");
        let words = |q: &str| q.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(k.search(&words("shipping free"), 5), vec![2]);
        assert_eq!(k.search(&words("returns"), 5), vec![1]);
        assert_eq!(k.search(&words("gift return"), 5).len(), 2);
        assert!(k.search(&words("warranty"), 5).is_empty());
        assert!(Keywords::default().search(&words("return"), 5).is_empty());
    }
}
