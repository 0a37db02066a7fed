//! Files from outside: uploads' and channel media's bytes and names (type sniffing against the
//! allow-list, image headers, name sanitising, Content-Disposition), and PDF or text files for
//! the knowledge base (lopdf's parser and text extraction, under our bounds).
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::files::{name, sniff};

fuzz_target!(|data: &[u8]| {
    let raw_name = String::from_utf8_lossy(data.get(..64).unwrap_or(data));
    if let Ok(s) = sniff::sniff(data, &raw_name) {
        let n = name::sanitise(&raw_name, s.extension);
        assert!(!n.contains(['/', '\\', '"', '\r', '\n']), "{n:?}");
        let d = name::disposition("attachment", &n);
        assert!(!d.contains(['\r', '\n']));
    }
    // Every PDF-looking input goes through extraction (the fuzzer finds the header quickly).
    let _ = prism_core::knowledge::extract::text_of(data, "f.pdf", 10_000);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(data);
    let _ = prism_core::knowledge::extract::text_of(&pdf, "f.pdf", 10_000);
});
