//! The summary without a model: the customer's most telling sentences (by how often their words
//! recur across what the customer wrote, the opening request weighted up), the last reply they
//! got, and why the conversation was handed over. Bounded work: the last 200 messages, 2,000
//! characters each.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;

/// One message as the summary reads it: `customer`, `ai`, `agent` or `system`, and its text.
pub struct Line<'a> {
    pub author: &'a str,
    pub text: &'a str,
}

fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().take(2000) {
        cur.push(c);
        if matches!(c, '.' | '!' | '?' | '\n' | '。' | '？' | '！') {
            let s = cur.trim().to_string();
            if s.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
                out.push(s);
            }
            cur.clear();
        }
    }
    let s = cur.trim().to_string();
    if s.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        out.push(s);
    }
    out
}

fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
}

fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max).collect::<String>().trim_end())
    }
}

/// The summary of `lines` (oldest first); `handoff_reason` when it was handed over.
pub fn summarise(lines: &[Line<'_>], handoff_reason: Option<&str>) -> String {
    let recent = lines.len().saturating_sub(200);
    let lines = lines.get(recent..).unwrap_or(lines);
    let customer: Vec<(usize, String)> = lines
        .iter()
        .filter(|l| l.author == "customer")
        .flat_map(|l| sentences(l.text))
        .enumerate()
        .collect();
    let mut freq: HashMap<String, f64> = HashMap::new();
    for (_, s) in &customer {
        for w in words(s) {
            *freq.entry(w).or_default() += 1.0;
        }
    }
    let mut scored: Vec<(f64, usize, &String)> = customer
        .iter()
        .map(|(i, s)| {
            let ws: Vec<String> = words(s).collect();
            let base = ws
                .iter()
                .map(|w| freq.get(w).copied().unwrap_or(0.0))
                .sum::<f64>()
                / (ws.len().max(1) as f64).sqrt();
            let opening = if *i == 0 { 1.5 } else { 1.0 };
            let question = if s.contains('?') || s.contains('？') {
                1.2
            } else {
                1.0
            };
            ((base + 1.0) * opening * question, *i, s)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut top: Vec<(usize, &String)> = scored.iter().take(2).map(|(_, i, s)| (*i, *s)).collect();
    top.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    if !top.is_empty() {
        let said: Vec<String> = top.iter().map(|(_, s)| clip(s, 160)).collect();
        out.push(format!("Customer: {}", said.join(" ")));
    }
    if let Some(reply) = lines
        .iter()
        .rev()
        .find(|l| l.author == "ai" || l.author == "agent")
    {
        if let Some(first) = sentences(reply.text).first() {
            let who = if reply.author == "ai" {
                "Assistant"
            } else {
                "Agent"
            };
            out.push(format!("Last reply ({who}): {}", clip(first, 160)));
        }
    }
    if let Some(r) = handoff_reason.filter(|r| !r.trim().is_empty()) {
        out.push(format!("Handed over: {}", clip(r, 120)));
    }
    if out.is_empty() {
        "No messages yet.".into()
    } else {
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_and_its_recurring_words_make_the_summary() {
        let lines = [
            Line { author: "customer", text: "Hi there. My order 1042 arrived with a broken zipper on the jacket! Can I get a replacement jacket?" },
            Line { author: "ai", text: "Sorry to hear that. You can return it within 30 days." },
            Line { author: "customer", text: "ok thanks. The jacket zipper broke on day one, I want a replacement not a refund." },
        ];
        let s = summarise(&lines, Some("customer asked for a person"));
        assert!(s.starts_with("Customer: "), "{s}");
        assert!(s.contains("replacement"), "{s}");
        assert!(
            !s.contains("Hi there"),
            "small talk is not the summary: {s}"
        );
        assert!(
            s.contains("Last reply (Assistant): Sorry to hear that."),
            "{s}"
        );
        assert!(
            s.ends_with("Handed over: customer asked for a person"),
            "{s}"
        );
    }

    #[test]
    fn nothing_and_anything_are_handled() {
        assert_eq!(summarise(&[], None), "No messages yet.");
        let long = "word ".repeat(5000);
        let s = summarise(
            &[Line {
                author: "customer",
                text: &long,
            }],
            None,
        );
        assert!(s.chars().count() < 200, "{}", s.len());
        let odd = summarise(
            &[Line {
                author: "customer",
                text: "。？！\u{0}\u{202e}",
            }],
            None,
        );
        assert_eq!(odd, "No messages yet.");
    }
}
