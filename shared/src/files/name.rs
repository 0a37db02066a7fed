//! File names from outside (a browser, an MMS, an email) made safe to store, show and put in a
//! `Content-Disposition` header: no paths, no control or reserved characters, no leading dots,
//! bounded length, and the extension of what the bytes really are.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

/// Longest name kept, in characters (before the extension).
const MAX_STEM_CHARS: usize = 80;

/// The name to store for a file whose bytes are of type `extension`.
pub fn sanitise(raw: &str, extension: &str) -> String {
    // The last path segment of either separator: browsers on Windows send `C:\fakepath\x.png`.
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_control()
                || matches!(
                    c,
                    '<' | '>' | ':' | '"' | '|' | '?' | '*' | ';' | '%' | '\u{200e}' | '\u{200f}'
                )
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    // Drop whatever extension it claimed: the bytes decide.
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => stem,
        _ => cleaned,
    };
    let stem: String = stem.chars().take(MAX_STEM_CHARS).collect();
    let stem = stem.trim_end_matches(['.', ' ']);
    let stem = if stem.is_empty() { "file" } else { stem };
    format!("{stem}.{extension}")
}

/// `Content-Disposition` for a stored name: an ASCII fallback and the UTF-8 form (RFC 6266).
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '\\' | '"')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_false_extensions() {
        assert_eq!(
            sanitise("C:\\fakepath\\Invoice 12.PDF", "pdf"),
            "Invoice 12.pdf"
        );
        assert_eq!(sanitise("../../etc/passwd", "txt"), "passwd.txt");
        assert_eq!(sanitise("photo.jpg.exe", "png"), "photo.jpg.png");
        assert_eq!(sanitise("\u{202e}gnp.exe", "png"), "_gnp.png");
        assert_eq!(sanitise("...", "pdf"), "file.pdf");
        assert_eq!(sanitise("a\"b\r\nc.txt", "txt"), "a_b__c.txt");
        assert_eq!(sanitise(&"x".repeat(500), "gif").chars().count(), 84);
        assert_eq!(sanitise("Größe €.docx", "docx"), "Größe €.docx");
    }

    #[test]
    fn disposition_has_both_forms() {
        let d = disposition("attachment", "Größe \"x\".pdf");
        assert!(
            d.starts_with("attachment; filename=\"Gr__e _x_.pdf\"; filename*=UTF-8''Gr"),
            "{d}"
        );
    }
}
