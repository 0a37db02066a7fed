//! What a file really is, from its first bytes, against the allow-list. The name and the
//! declared `Content-Type` are never trusted: a page served from our origin with a type a
//! browser renders (HTML, SVG, scripts) would run in our origin.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

/// What the clients do with a file: images are previewed inline, everything else is a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Image,
    Pdf,
    Text,
    Document,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Image => "image",
            FileKind::Pdf => "pdf",
            FileKind::Text => "text",
            FileKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> FileKind {
        match s {
            "image" => FileKind::Image,
            "pdf" => FileKind::Pdf,
            "text" => FileKind::Text,
            _ => FileKind::Document,
        }
    }
}

/// A file's checked type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub kind: FileKind,
    /// Pixel size of an image (from its header; nothing is decoded).
    pub dimensions: Option<(u32, u32)>,
}

/// The allow-list: (type the bytes show, canonical extension, kind).
const ALLOWED: &[(&str, &str, FileKind)] = &[
    ("image/png", "png", FileKind::Image),
    ("image/jpeg", "jpg", FileKind::Image),
    ("image/gif", "gif", FileKind::Image),
    ("image/webp", "webp", FileKind::Image),
    ("application/pdf", "pdf", FileKind::Pdf),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        FileKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        FileKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
        FileKind::Document,
    ),
    ("application/msword", "doc", FileKind::Document),
    ("application/vnd.ms-excel", "xls", FileKind::Document),
    ("application/vnd.ms-powerpoint", "ppt", FileKind::Document),
    (
        "application/vnd.oasis.opendocument.text",
        "odt",
        FileKind::Document,
    ),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        "ods",
        FileKind::Document,
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        "odp",
        FileKind::Document,
    ),
    ("application/rtf", "rtf", FileKind::Document),
];

/// Extensions a plain-text file keeps (anything else becomes `.txt`).
const TEXT_EXTENSIONS: &[(&str, &str)] = &[
    ("txt", "text/plain; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("md", "text/plain; charset=utf-8"),
    ("log", "text/plain; charset=utf-8"),
];

/// Checks `bytes` against the allow-list. `name` only picks among equivalent text extensions.
pub fn sniff(bytes: &[u8], name: &str) -> Result<Sniffed, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::validation("body", "the file is empty"));
    }
    if let Some(t) = infer::get(bytes) {
        let mime = t.mime_type();
        return match ALLOWED.iter().find(|(m, _, _)| *m == mime) {
            Some((content_type, extension, kind)) => Ok(Sniffed {
                content_type,
                extension,
                kind: *kind,
                dimensions: if *kind == FileKind::Image {
                    imagesize::blob_size(bytes).ok().and_then(|s| {
                        Some((u32::try_from(s.width).ok()?, u32::try_from(s.height).ok()?))
                    })
                } else {
                    None
                },
            }),
            None => Err(refused(&format!("{mime} files"))),
        };
    }
    if is_plain_text(bytes) {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let (extension, content_type) = TEXT_EXTENSIONS
            .iter()
            .find(|(e, _)| *e == ext)
            .copied()
            .unwrap_or(("txt", "text/plain; charset=utf-8"));
        return Ok(Sniffed {
            content_type,
            extension,
            kind: FileKind::Text,
            dimensions: None,
        });
    }
    Err(refused("files of this type"))
}

fn refused(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "{what} cannot be shared here; send an image (PNG, JPEG, GIF, WebP), a PDF, a plain-text file or an office document"
        ),
    )
}

/// UTF-8 text without NULs or other binary control bytes, and not markup: a file starting with
/// `<` is HTML, SVG or XML, which a browser would render rather than show.
fn is_plain_text(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let binary = text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'));
    let start = text.trim_start_matches(['\u{feff}', ' ', '\n', '\r', '\t']);
    !binary && !start.starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x2d, 0x66, 0x54,
    ];

    #[test]
    fn the_bytes_decide_not_the_name() {
        let png = sniff(PNG_1X1, "holiday.exe").unwrap();
        assert_eq!(png.content_type, "image/png");
        assert_eq!(png.kind, FileKind::Image);
        assert_eq!(png.dimensions, Some((3, 2)));
        let pdf = sniff(b"%PDF-1.7\n1 0 obj\n", "x.png").unwrap();
        assert_eq!(
            (pdf.content_type, pdf.kind),
            ("application/pdf", FileKind::Pdf)
        );
        let csv = sniff(b"a,b\n1,2\n", "report.CSV").unwrap();
        assert_eq!(csv.extension, "csv");
        assert_eq!(sniff(b"hello", "notes.html").unwrap().extension, "txt");
    }

    #[test]
    fn markup_executables_and_archives_are_refused() {
        for (bytes, name) in [
            (
                &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
                "a.svg",
            ),
            (b"\xef\xbb\xbf  <html><body>hi", "a.txt"),
            (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "a.pdf"),
            (b"\x7fELF\x02\x01\x01\x00", "a.txt"),
            (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "a.zip"),
            (b"\x00\x01\x02\x03", "a.txt"),
            (b"", "a.txt"),
        ] {
            let e = sniff(bytes, name).unwrap_err();
            assert!(
                matches!(
                    e.code,
                    ErrorCode::UnsupportedMediaType | ErrorCode::ValidationFailed
                ),
                "{name}: {e:?}"
            );
        }
    }
}
