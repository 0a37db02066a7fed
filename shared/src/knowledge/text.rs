//! Text handling for the knowledge base: HTML to text, normalisation, tokenisation.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

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

/// Words minus stopwords, Snowball-stemmed (Porter2 English): what matching a question against
/// passages compares ("monthly" and "month", "shipping" and "ship" meet). The built-in
/// embedder keeps [`terms`]: its features are fixed by its model id, and stored vectors would
/// stop matching queries if they changed.
pub fn match_terms(text: &str) -> Vec<String> {
    match_words(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| match_stem(&w))
        .collect()
}

/// [`words`], with one-letter prefixes joined to their word ("e-bike" → "ebike", "e-mail" →
/// "email"), as customers often write them without the hyphen, and without the "free" of a
/// compound like "plastic-free" or "PFC-free": it says *without* the first word, not *at no
/// charge*, and "is shipping free?" is not answered by "we ship in plastic-free packaging".
pub fn match_words(text: &str) -> Vec<String> {
    let raw = words(text);
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut joined_prefix = false;
    for (i, w) in raw.iter().enumerate() {
        if joined_prefix {
            joined_prefix = false;
            continue;
        }
        if w == "free"
            && i.checked_sub(1)
                .and_then(|p| raw.get(p).map(|before| (p, before)))
                .is_some_and(|(p, before)| hyphen_follows(text, before, p))
        {
            continue;
        }
        let next = raw.get(i + 1);
        if w.len() == 1 && w.chars().all(|c| c.is_ascii_alphabetic()) {
            if let Some(n) = next.filter(|_| hyphen_follows(text, w, i)) {
                out.push(format!("{w}{n}"));
                joined_prefix = true;
                continue;
            }
        }
        out.push(w.clone());
    }
    out
}

/// Whether the `i`-th word `w` of `text` is written with a hyphen straight after it.
fn hyphen_follows(text: &str, w: &str, i: usize) -> bool {
    // Find the i-th word's end by walking the same split `words` uses.
    let mut n = 0;
    let mut start = None;
    for (pos, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(pos);
            }
        } else if let Some(st) = start.take() {
            if n == i {
                return c == '-' && text.get(st..pos).is_some_and(|x| x.to_lowercase() == w);
            }
            n += 1;
        }
    }
    false
}

/// The Snowball English stem of one lower-case word. A word with the accents of the four
/// other languages is stemmed without them: help pages written in Spanish, German, French or
/// Portuguese then match their customers' plurals and accentless typing ("envíos", "envio" and
/// "envío" are one word; "bañadores" and "bañador"), which the English algorithm's plural and
/// final-`e` rules mostly give. Anything else non-ASCII is kept as it is.
pub fn match_stem(w: &str) -> String {
    let folded = (!w.is_ascii()).then(|| super::lexicon::unaccented(w, false));
    let plain = folded.as_deref().unwrap_or(w);
    if !plain.chars().all(|c| c.is_ascii_alphabetic()) || plain.len() > 40 {
        return w.to_string();
    }
    rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
        .stem(plain)
        .into_owned()
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
/// here rather than pulling an HTML parser into the worker: only the text matters, and the
/// scanner below never indexes by byte offset (the input is untrusted; a slice inside a UTF-8
/// character would trap the isolate), which the fuzz target `html_to_text` checks.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let Some(after_lt) = rest.strip_prefix('<') else {
            let (text, tail) = rest.split_at(rest.find('<').unwrap_or(rest.len()));
            out.push_str(&decode_entities(text));
            rest = tail;
            continue;
        };
        let Some((tag, tail)) = after_lt.split_once('>') else {
            break;
        };
        rest = tail;
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "script" | "style" | "noscript" | "template" if !closing => {
                rest = skip_raw_element(rest, &name);
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if !closing => {
                let level = name
                    .get(1..)
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(1);
                out.push_str("\n\n");
                out.push_str(&"#".repeat(level));
                out.push(' ');
            }
            "p" | "div" | "section" | "article" | "ul" | "ol" | "table" | "tr" | "h1" | "h2"
            | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" => out.push_str("\n\n"),
            "br" => out.push('\n'),
            "li" if !closing => out.push_str("\n- "),
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    normalise_space(&out)
}

/// The text after a raw-text element's end tag (`</script …>`), matched case-insensitively;
/// empty when the element is never closed.
fn skip_raw_element<'a>(s: &'a str, name: &str) -> &'a str {
    let close = format!("</{name}");
    let mut from = 0;
    while let Some(pos) = s.get(from..).and_then(|t| t.find("</")) {
        let at = from + pos;
        let candidate = s.get(at..at + close.len()).unwrap_or("");
        if candidate.eq_ignore_ascii_case(&close) {
            let tail = s.get(at..).unwrap_or("");
            return tail.split_once('>').map(|(_, t)| t).unwrap_or("");
        }
        from = at + 2;
    }
    ""
}

/// Longest entity we decode, in characters (`&#x10FFFF;`).
const MAX_ENTITY_CHARS: usize = 10;

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after_amp)) = rest.split_once('&') {
        out.push_str(before);
        let ent: String = after_amp
            .chars()
            .take(MAX_ENTITY_CHARS)
            .take_while(|c| *c != ';')
            .collect();
        let terminated = after_amp
            .get(ent.len()..)
            .is_some_and(|t| t.starts_with(';'));
        match decode_entity(&ent).filter(|_| terminated) {
            Some(c) => {
                out.push(c);
                rest = after_amp.get(ent.len() + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after_amp;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(ent: &str) -> Option<char> {
    match ent {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" | "#39" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = ent.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
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
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn accented_words_stem_as_typed_without_accents_and_in_the_plural() {
        let one = |w: &str| match_stem(w);
        assert_eq!(one("envío"), one("envio"));
        assert_eq!(one("envíos"), one("envío"));
        assert_eq!(one("bañadores"), one("bañador"));
        assert_eq!(one("devoluciones"), one("devolución"));
        // English words are stemmed as before; other scripts and digits are kept as they are.
        assert_eq!(one("returns"), "return");
        assert_eq!(one("配送"), "配送");
        assert_eq!(one("größe2"), "größe2");
    }

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
    fn multibyte_text_after_an_ampersand_does_not_panic() {
        // Found in review: the entity scanner sliced 12 bytes into "ééé…" (2 bytes each).
        assert_eq!(html_to_text("<p>&éééééé</p>"), "&éééééé");
        assert_eq!(
            html_to_text("a &#x1F600; b &#233; &bogus; &"),
            "a 😀 b é &bogus; &"
        );
        assert_eq!(html_to_text("<SCRIPT>x</ScRiPt >after"), "after");
        assert_eq!(html_to_text("<p>unclosed <b"), "unclosed");
        assert_eq!(html_to_text("é<script>never closed"), "é");
        assert_eq!(html_to_text("&#xFFFFFFFFFF; &#-1;"), "&#xFFFFFFFFFF; &#-1;");
    }

    #[test]
    fn the_free_of_a_compound_says_without_not_at_no_charge() {
        assert_eq!(
            match_words("plastic-free packaging, PFC-free coating"),
            vec!["plastic", "packaging", "pfc", "coating"]
        );
        assert_eq!(
            match_words("Delivery is free. Free returns."),
            vec!["delivery", "is", "free", "free", "returns"]
        );
        // A hyphen after "free" leaves it alone ("free-of-charge").
        assert_eq!(match_words("free-of-charge"), vec!["free", "of", "charge"]);
    }

    #[test]
    fn terms_drop_stopwords_and_stem() {
        assert_eq!(terms("How do I return my Shoes?"), vec!["return", "shoe"]);
        assert_eq!(stem("deliveries"), "delivery");
        assert_eq!(stem("shipping"), "shipp");
        assert_eq!(stem("glass"), "glass");
    }
}
