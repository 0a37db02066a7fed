//! Upstream Server-Sent Event streams (Gemini, OpenAI-compatible servers chosen by tenants): any
//! bytes, split anywhere, through the SSE parser and each provider's frame parser.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use prism_core::ai::providers::{gemini, openai, Usage};
use prism_core::ai::sse_parse::SseParser;

#[derive(Arbitrary, Debug)]
struct Input {
    splits: Vec<u16>,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let mut parser = SseParser::default();
    let mut payloads = Vec::new();
    let mut rest: &[u8] = &input.bytes;
    for s in input.splits.iter().take(64) {
        let (chunk, tail) = rest.split_at((*s as usize).min(rest.len()));
        rest = tail;
        match parser.push(chunk) {
            Ok(p) => payloads.extend(p),
            Err(_) => return,
        }
    }
    if let Ok(p) = parser.push(rest) {
        payloads.extend(p);
    }
    payloads.extend(parser.finish());
    let mut gemini_state = gemini::FrameState { finish: None, usage: Usage::default(), model: String::new() };
    let mut openai_state = openai::ParseState::default();
    for p in &payloads {
        if let Ok(v) = serde_json::from_str(p) {
            let _ = gemini::parse_frame(&v, &mut gemini_state);
        }
        let _ = openai::parse_chunk(p, &mut openai_state);
    }
});
