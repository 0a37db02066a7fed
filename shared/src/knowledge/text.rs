//! Text handling for the knowledge base: HTML to text, normalisation, tokenisation.

/// Words carrying little meaning for retrieval (English; the hashed embedder still sees them in
/// character n-grams, keyword search does not).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from",
    "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so",
    "that", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where", "which",
    "who", "why", "will", "with", "you", "your",
];

/// Lower-cased alphanumeric words (Unicode-aware), in order.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Words minus stopwords, with a light English stemmer applied.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

/// A deliberately small suffix stripper (plural and common verb endings). Written here because
/// a full stemmer crate is heavy for the edge and this is enough for hashing and matching.
pub fn stem(w: &str) -> String {
    if w.len() <= 3 || !w.is_ascii() {
        return w.to_string();
    }
    for (suffix, replacement) in [
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("s", ""),
    ] {
        if let Some(base) = w.strip_suffix(suffix) {
            if base.len() >= 3 && !(suffix == "s" && base.ends_with('s')) {
                return format!("{base}{replacement}");
            }
        }
    }
    w.to_string()
}

/// Converts HTML to text: drops scripts, styles and tags, turns headings into Markdown headings
/// (so chunking stays heading-aware), keeps paragraph breaks, decodes common entities. Written
/// here rather than pulling an HTML parser into the worker: knowledge documents are trusted
/// tenant content and only their text matters.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let lower = html.to_ascii_lowercase();
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let end = match html[i..].find('>') {
                Some(e) => i + e,
                None => break,
            };
            let tag = lower[i + 1..end].trim_start_matches('/');
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let closing = lower[i + 1..].starts_with('/');
            match name.as_str() {
                "script" | "style" | "noscript" | "template" if !closing => {
                    let close = format!("</{name}");
                    i = match lower[end..].find(&close) {
                        Some(c) => end + c + close.len(),
                        None => bytes.len(),
                    };
                    if let Some(gt) = html[i.min(bytes.len())..].find('>') {
                        i += gt + 1;
                    }
                    continue;
                }
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if !closing => {
                    let level = name[1..].parse::<usize>().unwrap_or(1);
                    out.push_str("\n\n");
                    out.push_str(&"#".repeat(level));
                    out.push(' ');
                }
                "p" | "div" | "section" | "article" | "ul" | "ol" | "table" | "tr" | "h1"
                | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" => out.push_str("\n\n"),
                "br" => out.push('\n'),
                "li" if !closing => out.push_str("\n- "),
                "td" | "th" => out.push(' '),
                _ => {}
            }
            i = end + 1;
        } else {
            let next = html[i..].find('<').map(|n| i + n).unwrap_or(bytes.len());
            out.push_str(&decode_entities(&html[i..next]));
            i = next;
        }
    }
    normalise_space(&out)
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let decoded = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some(' '),
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Collapses runs of spaces within lines and of blank lines between paragraphs.
pub fn normalise_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_heading_aware_text() {
        let html = "<html><head><style>p{}</style><script>alert(1)</script></head><body><h1>Returns</h1><p>Return items within <b>30&nbsp;days</b> &amp; keep the receipt.</p><ul><li>Shoes</li><li>Bags</li></ul></body></html>";
        let t = html_to_text(html);
        assert_eq!(
            t,
            "# Returns\n\nReturn items within 30 days & keep the receipt.\n\n- Shoes\n- Bags"
        );
    }

    #[test]
    fn terms_drop_stopwords_and_stem() {
        assert_eq!(terms("How do I return my Shoes?"), vec!["return", "shoe"]);
        assert_eq!(stem("deliveries"), "delivery");
        assert_eq!(stem("shipping"), "shipp");
        assert_eq!(stem("glass"), "glass");
    }
}
