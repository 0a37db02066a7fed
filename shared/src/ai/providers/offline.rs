//! The built-in offline responder: answers from the knowledge base with no model at all, by
//! quoting the sentences of the best passages that answer the question, and citing them. Used
//! when no provider is configured (so `scripts/dev` needs no account) and as the last fallback
//! when providers fail.
//!
//! Sentences are scored by the question terms they share, plus a bonus when they hold the kind
//! of fact the question asks for (a duration for "how long", an amount for "how much", …), minus
//! a little for coming from a lower-ranked passage.

use crate::knowledge::search::Hit;
use crate::knowledge::text;

/// Characters of quoted passage in an answer.
const MAX_ANSWER: usize = 480;
/// Passages considered.
const PASSAGES: usize = 3;

/// Share of the question's weighted terms the chosen sentence must hold to be given as an answer
/// (below it, the responder hands over rather than quote something beside the point). Tuned on
/// the tuning half of `scripts/eval/questions.json`.
const MIN_COVERAGE: f32 = 0.3;

/// Question words that carry no topic (already stemmed as `text::terms` stems them).
const FILLER: &[&str] = &[
    "long",
    "much",
    "many",
    "someth",
    "anyth",
    "thing",
    "know",
    "want",
    "need",
    "tell",
    "please",
    "get",
    "got",
    "time",
    "way",
    "possible",
    "able",
    "still",
    "also",
    "just",
    "really",
    "help",
    "hi",
    "hello",
    "thank",
    "would",
    "could",
    "should",
    "may",
    "might",
    "any",
    "some",
    "one",
    "ok",
    "okay",
    "there",
    "here",
    "again",
    "other",
    "about",
    "into",
    "out",
    "up",
    "use",
    "policy",
    "info",
    "information",
    "detail",
    "rule",
    "option",
    "process",
    "work",
    "question",
];

/// An answer quoting the best passages and the indexes of the hits it used, or `None` when
/// nothing relevant was found.
pub fn answer(question: &str, hits: &[Hit]) -> Option<(String, Vec<usize>)> {
    let mut q = text::terms(question);
    q.sort();
    q.dedup();
    let kind = question_kind(&question.to_lowercase());
    let sentences: Vec<(usize, usize, &str, Vec<String>)> = hits
        .iter()
        .take(PASSAGES)
        .enumerate()
        .flat_map(|(rank, hit)| {
            split_sentences(&hit.passage.text)
                .into_iter()
                .enumerate()
                .map(move |(i, s)| (rank, i, s, text::terms(s)))
        })
        .collect();
    // A term's weight is its rarity among the candidate sentences: the words that tell
    // sentences apart ("swimwear", "invoice") count for more than the ones all share ("order").
    let n = sentences.len().max(1) as f32;
    let weight = |t: &String| {
        let df = sentences.iter().filter(|s| s.3.contains(t)).count() as f32;
        // A term in no candidate sentence weighs most: it is usually the very thing the
        // question is about that these passages do not cover.
        (1.0 + n / df.max(0.5)).ln()
    };
    // Words every kind of question uses say nothing about whether a sentence answers it.
    let weights: Vec<f32> = q
        .iter()
        .map(|t| {
            if FILLER.contains(&t.as_str()) {
                0.0
            } else {
                weight(t)
            }
        })
        .collect();
    let total: f32 = weights.iter().sum::<f32>().max(f32::EPSILON);
    let mut scored: Vec<(f32, usize, usize, &str)> = Vec::new();
    let mut coverage_of_best = 0.0;
    for (rank, i, s, terms) in &sentences {
        let matched: f32 = q
            .iter()
            .zip(&weights)
            .filter(|(t, _)| terms.contains(t))
            .map(|(_, w)| *w)
            .sum();
        if matched == 0.0 {
            continue;
        }
        let bonus = if kind.is_some_and(|k| k(&s.to_lowercase())) {
            1.5
        } else {
            0.0
        };
        let score = matched + bonus - 0.3 * *rank as f32;
        if scored.iter().all(|c| c.0 < score) {
            coverage_of_best = matched / total;
        }
        scored.push((score, *rank, *i, s));
    }
    if coverage_of_best < MIN_COVERAGE {
        return None;
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let &(_, best_rank, _, _) = scored.first()?;
    // The best sentence, then others from the same passage, kept in reading order.
    let mut chosen: Vec<(usize, &str)> = Vec::new();
    let mut len = 0;
    for (_, rank, i, s) in scored.iter().filter(|c| c.1 == best_rank) {
        let _ = rank;
        if len + s.len() > MAX_ANSWER && !chosen.is_empty() {
            continue;
        }
        chosen.push((*i, s));
        len += s.len() + 1;
        if chosen.len() == 3 {
            break;
        }
    }
    chosen.sort_by_key(|c| c.0);
    let mut out = chosen
        .iter()
        .map(|c| c.1.trim())
        .collect::<Vec<_>>()
        .join(" ");
    if out.chars().count() > MAX_ANSWER {
        out = out.chars().take(MAX_ANSWER).collect::<String>();
        out.push('…');
    }
    Some((out, vec![best_rank]))
}

type Kind = fn(&str) -> bool;

fn has_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        || ["one", "two", "three", "four", "five", "ten", "thirty"]
            .iter()
            .any(|w| {
                s.split_whitespace()
                    .any(|x| x.trim_matches(|c: char| !c.is_alphanumeric()) == *w)
            })
}

/// What kind of fact a question asks for, as a test on a sentence.
fn question_kind(q: &str) -> Option<Kind> {
    if q.contains("how long")
        || q.contains("how soon")
        || q.starts_with("when")
        || q.contains(" when ")
    {
        Some(|s: &str| {
            has_number(s)
                && [
                    "day", "hour", "week", "month", "minute", "am", "pm", "monday", "friday",
                    "saturday",
                ]
                .iter()
                .any(|w| s.contains(w))
        })
    } else if q.contains("how much")
        || q.contains("cost")
        || q.contains("price")
        || q.contains("fee")
    {
        Some(|s: &str| {
            has_number(s)
                && ["euro", "€", "$", "free", "cost", "fee"]
                    .iter()
                    .any(|w| s.contains(w))
        })
    } else if q.contains("policy") || q.contains("conditions") || q.contains("rules") {
        // A policy is its terms: the sentence with the numbers (days, amounts).
        Some(has_number)
    } else if q.starts_with("where") || q.contains(" where ") {
        Some(|s: &str| {
            ["at ", "under ", "in your", "open ", "street", "strasse"]
                .iter()
                .any(|w| s.contains(w))
        })
    } else if q.starts_with("can i")
        || q.starts_with("do you")
        || q.starts_with("is ")
        || q.starts_with("are ")
    {
        Some(|s: &str| {
            ["can ", "cannot", "accept", "free", "only", "must", "not "]
                .iter()
                .any(|w| s.contains(w))
        })
    } else {
        None
    }
}

fn split_sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        let end = i + c.len_utf8();
        let boundary =
            matches!(c, '.' | '!' | '?') && bytes.get(end).is_none_or(|b| b.is_ascii_whitespace());
        if boundary || c == '\n' {
            if !s[start..end].trim().is_empty() {
                out.push(s[start..end].trim());
            }
            start = end;
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(s[start..].trim());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::store::Passage;

    fn hit(doc: &str, text: &str, sim: f32) -> Hit {
        Hit {
            passage: Passage {
                chunk_id: 1,
                document_id: doc.into(),
                title: doc.into(),
                source_url: None,
                heading: String::new(),
                text: text.into(),
            },
            score: 1.0,
            similarity: Some(sim),
            keyword_rank: Some(1),
        }
    }

    #[test]
    fn quotes_the_sentences_that_answer_the_question() {
        let hits = vec![
            hit("returns", "Open Orders and select Return items. Print the return label.", 0.7),
            hit("returns", "Our store is friendly. You can return unworn shoes within 30 days for a full refund.", 0.6),
        ];
        let (text, used) = answer("How long do I have to return shoes?", &hits).unwrap();
        assert!(text.contains("within 30 days"), "{text}");
        assert!(!text.contains("friendly"), "{text}");
        assert_eq!(used, vec![1], "cites the passage it quoted");
        assert!(answer("anything", &[]).is_none());
        assert!(
            answer("zebra", &hits).is_none(),
            "no shared terms, no answer"
        );
    }
}
