//! Text from a file for the knowledge base: plain text as it is, PDF through `lopdf` (a
//! maintained PDF library that builds for wasm). Bounded on every axis a hostile file could
//! stretch — bytes in, pages read, decompressed content per page, text out — because a
//! document is parsed inside the request's isolate.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::files::sniff::{sniff, FileKind};

/// Largest file accepted for extraction.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Pages read from a PDF (the rest is left out, and said so).
#[cfg(feature = "pdf")]
const MAX_PAGES: usize = 300;
/// Decompressed content of one page.
#[cfg(feature = "pdf")]
const MAX_PAGE_CONTENT: usize = 4 * 1024 * 1024;

#[derive(Debug)]
/// A file's text and whether it was cut short.
pub struct Extracted {
    pub text: String,
    pub truncated: bool,
    pub kind: FileKind,
}

/// The text of `bytes` (a PDF or a plain-text file, by their bytes), at most `max_chars`.
pub fn text_of(bytes: &[u8], name: &str, max_chars: usize) -> ApiResult<Extracted> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "files for the knowledge base are at most {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let kind = sniff(bytes, name)?.kind;
    let (text, mut truncated) = match kind {
        FileKind::Text => (String::from_utf8_lossy(bytes).into_owned(), false),
        FileKind::Pdf => pdf_text(bytes)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "only PDF and plain-text files can be added to the knowledge base; paste other documents' text as a document",
            ))
        }
    };
    let text = tidy(&text);
    if text.trim().is_empty() {
        return Err(ApiError::validation(
            "body",
            "no text found in this file (a scanned PDF holds only images; its text must be added by hand)",
        ));
    }
    let mut out: String = text.chars().take(max_chars).collect();
    if out.len() < text.len() {
        truncated = true;
        out.push_str("\n…");
    }
    Ok(Extracted {
        text: out,
        truncated,
        kind,
    })
}

#[cfg(not(feature = "pdf"))]
fn pdf_text(_: &[u8]) -> ApiResult<(String, bool)> {
    Err(ApiError::new(
        ErrorCode::NotSupported,
        "this deployment was built without PDF support; paste the document's text instead",
    ))
}

#[cfg(feature = "pdf")]
fn pdf_text(bytes: &[u8]) -> ApiResult<(String, bool)> {
    let unreadable =
        |e: lopdf::Error| ApiError::validation("body", format!("this PDF could not be read ({e})"));
    let doc = lopdf::Document::load_mem(bytes).map_err(unreadable)?;
    if doc.is_encrypted() {
        return Err(ApiError::validation(
            "body",
            "this PDF is encrypted; remove its password and upload it again",
        ));
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let truncated = pages.len() > MAX_PAGES;
    let mut text = String::new();
    for page in pages.iter().take(MAX_PAGES) {
        // A page that cannot be decoded is skipped; the others still count.
        if let Ok(t) = doc.extract_text_with_limit(&[*page], MAX_PAGE_CONTENT) {
            text.push_str(&t);
            text.push_str("\n\n");
        }
    }
    Ok((text, truncated))
}

/// Lines trimmed, runs of blank lines folded to one, control characters dropped.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        let line = line.trim();
        if line.is_empty() {
            blank += 1;
            if blank == 1 && !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        blank = 0;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pdf_saying;

    #[cfg(feature = "pdf")]
    #[test]
    fn a_pdf_gives_its_text_and_garbage_a_clear_error() {
        let pdf = pdf_saying("Returns are free within 30 days.");
        let e = text_of(&pdf, "policy.pdf", 10_000).unwrap();
        assert_eq!(e.kind, FileKind::Pdf);
        assert!(
            e.text.contains("Returns are free within 30 days."),
            "{:?}",
            e.text
        );
        let broken = b"%PDF-1.7\nthis is not a pdf at all";
        assert_eq!(
            text_of(broken, "x.pdf", 10).unwrap_err().code,
            ErrorCode::ValidationFailed
        );
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(
            text_of(&png, "x.png", 10).unwrap_err().code,
            ErrorCode::UnsupportedMediaType
        );
        let t = text_of(b"line one\n\n\n\nline two\t", "notes.txt", 12).unwrap();
        assert_eq!(t.text, "line one\n\nli\n…");
        assert!(t.truncated);
    }
}
