//! Knowledge documents and email bodies: HTML/Markdown/text extraction, chunking, tokenising and
//! the local message analysis, on any UTF-8 input (the API only accepts UTF-8 JSON strings).
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::knowledge::{chunk, ingest, text};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for format in ["html", "markdown", "text"] {
        let body = ingest::plain_text(format, s);
        for c in chunk::chunk(&format!("# Title\n\n{body}")) {
            assert!(c.text.chars().count() <= chunk::MAX_CHARS + chunk::OVERLAP_CHARS + 1);
        }
    }
    let _ = text::terms(s);
    let _ = prism_core::ai::analysis::local(s, "en");
    let _ = prism_core::channels::resend::reply_text(s);
    // The search box: whatever is typed becomes quoted prefix terms and nothing else.
    let q = prism_core::conversations::search::match_query(s);
    assert!(q.split(" AND ").all(|t| t.is_empty() || (t.starts_with('"') && t.ends_with("\"*") && t.matches('"').count() == 2)));
    let _ = prism_core::input::check::language("language", s);
});
