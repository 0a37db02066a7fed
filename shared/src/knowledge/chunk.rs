//! Heading-aware chunking with overlap. A chunk never spans two sections, carries its section's
//! heading path (so a passage about "Refunds" under "Returns" says so), and overlaps its
//! neighbour by a sentence or two so an answer split across a boundary is still found.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

/// Target and hard maximum chunk sizes (characters), and the overlap carried forward.
pub const TARGET_CHARS: usize = 700;
pub const MAX_CHARS: usize = 1200;
pub const OVERLAP_CHARS: usize = 150;

#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// `Returns > Refunds`, or empty before the first heading.
    pub heading: String,
    pub text: String,
}

/// Splits Markdown-ish text (`#` headings, blank-line paragraphs) into chunks.
pub fn chunk(text: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut section = String::new();
    let flush = |section: &mut String, path: &[(usize, String)], out: &mut Vec<Chunk>| {
        let heading = path
            .iter()
            .map(|(_, h)| h.as_str())
            .collect::<Vec<_>>()
            .join(" > ");
        for t in split_section(section.trim()) {
            out.push(Chunk {
                heading: heading.clone(),
                text: t,
            });
        }
        section.clear();
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && trimmed[level..].starts_with(' ') {
            flush(&mut section, &path, &mut out);
            let title = trimmed[level..].trim().to_string();
            path.retain(|(l, _)| *l < level);
            path.push((level, title));
        } else {
            section.push_str(line);
            section.push('\n');
        }
    }
    flush(&mut section, &path, &mut out);
    out
}

/// Splits one section into chunks of about `TARGET_CHARS`, on paragraph then sentence
/// boundaries, each (after the first) starting with the tail of the previous one.
fn split_section(section: &str) -> Vec<String> {
    if section.is_empty() {
        return Vec::new();
    }
    let mut units: Vec<String> = Vec::new();
    for para in section
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if para.chars().count() <= TARGET_CHARS {
            units.push(para.to_string());
        } else {
            units.extend(sentences(para));
        }
    }
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for unit in units {
        let unit = hard_wrap(&unit);
        for piece in unit {
            if !current.is_empty()
                && current.chars().count() + piece.chars().count() + 1 > TARGET_CHARS
            {
                chunks.push(current.clone());
                current = overlap_tail(&current);
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
    }
    if !current.trim().is_empty()
        && chunks
            .last()
            .map(|c| !c.ends_with(current.as_str()))
            .unwrap_or(true)
    {
        chunks.push(current);
    }
    chunks
}

fn sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = p.char_indices().collect();
    for (i, (pos, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_some_and(|(_, n)| n.is_whitespace())
        {
            let end = pos + c.len_utf8();
            out.push(p[start..end].trim().to_string());
            start = end;
        }
    }
    if start < p.len() && !p[start..].trim().is_empty() {
        out.push(p[start..].trim().to_string());
    }
    out
}

/// Cuts a unit longer than `MAX_CHARS` (a run-on paragraph) at word boundaries.
fn hard_wrap(s: &str) -> Vec<String> {
    if s.chars().count() <= MAX_CHARS {
        return vec![s.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if cur.chars().count() + w.chars().count() + 1 > TARGET_CHARS && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        // A single "word" longer than the maximum (a URL, base64) is cut by characters.
        if w.chars().count() > MAX_CHARS {
            let cs: Vec<char> = w.chars().collect();
            for part in cs.chunks(TARGET_CHARS) {
                out.push(part.iter().collect());
            }
            continue;
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The last sentence(s) of a chunk, up to `OVERLAP_CHARS`, to start the next one.
fn overlap_tail(s: &str) -> String {
    let sents = sentences(s);
    let mut tail: Vec<String> = Vec::new();
    let mut len = 0;
    for sent in sents.iter().rev() {
        let n = sent.chars().count();
        if len + n > OVERLAP_CHARS {
            break;
        }
        len += n;
        tail.insert(0, sent.clone());
    }
    tail.join(" ")
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn sections_keep_their_heading_path_and_never_merge() {
        let doc = "Intro line.\n\n# Returns\n\nYou can return items within 30 days.\n\n## Refunds\n\nRefunds go to the original card.\n\n# Shipping\n\nWe ship worldwide.";
        let c = chunk(doc);
        let headings: Vec<&str> = c.iter().map(|c| c.heading.as_str()).collect();
        assert_eq!(
            headings,
            vec!["", "Returns", "Returns > Refunds", "Shipping"]
        );
        assert_eq!(c[2].text, "Refunds go to the original card.");
    }

    #[test]
    fn long_sections_split_near_the_target_with_overlap() {
        let para: String = (0..60)
            .map(|i| format!("Sentence number {i} talks about topic {i}. "))
            .collect();
        let c = chunk(&format!("# Long\n\n{para}"));
        assert!(c.len() >= 3, "{} chunks", c.len());
        for w in c.windows(2) {
            assert!(w[0].text.chars().count() <= MAX_CHARS);
            let tail = w[0].text.rsplit(". ").next().unwrap().trim_end_matches('.');
            assert!(
                w[1].text.contains(tail),
                "overlap carries the previous tail"
            );
        }
        let huge = "x".repeat(5000);
        assert!(chunk(&huge)
            .iter()
            .all(|c| c.text.chars().count() <= MAX_CHARS));
    }
}
