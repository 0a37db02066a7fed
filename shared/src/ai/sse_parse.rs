//! Incremental parser for upstream Server-Sent Event streams (Gemini's `alt=sse`, OpenAI's
//! chat completions): bytes in, complete `data:` payloads out, however the network splits them.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

/// Longest event accepted. An upstream that sends more without a blank line is broken or
/// hostile (a tenant's own server); without a bound the buffer would grow until the isolate dies.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The upstream sent an event longer than [`MAX_EVENT_BYTES`].
#[derive(Debug, PartialEq, Eq)]
pub struct Overflow;

#[derive(Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// How far `buf` has been searched for an event end (so each byte is scanned once).
    scanned: usize,
}

impl SseParser {
    /// Feeds bytes; returns the `data` of every event completed by them (multi-line data joined
    /// with `\n`). Comments and other fields are ignored.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, Overflow> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end, sep)) = find_event_end(&self.buf, self.scanned) {
            let block: Vec<u8> = self.buf.drain(..end + sep).collect();
            self.scanned = 0;
            let text = String::from_utf8_lossy(block.get(..end).unwrap_or(&block));
            let mut data = String::new();
            for line in text.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !data.is_empty() {
                out.push(data);
            }
        }
        // A separator may straddle the next chunk: rescan the last three bytes then.
        self.scanned = self.buf.len().saturating_sub(3);
        if self.buf.len() > MAX_EVENT_BYTES {
            self.buf = Vec::new();
            return Err(Overflow);
        }
        Ok(out)
    }

    /// What is left when the stream ends (an event without its final blank line).
    pub fn finish(&mut self) -> Vec<String> {
        if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
            return Vec::new();
        }
        self.buf.extend_from_slice(b"\n\n");
        self.push(&[]).unwrap_or_default()
    }
}

fn find_event_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let tail = buf.get(from..)?;
    tail.windows(2).enumerate().find_map(|(i, w)| {
        let at = from + i;
        if w == b"\n\n" {
            Some((at, 2))
        } else if buf.get(at..at + 4) == Some(b"\r\n\r\n") {
            Some((at, 4))
        } else {
            None
        }
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_reassembled() {
        let mut p = SseParser::default();
        assert!(p.push(b"data: {\"a\":").unwrap().is_empty());
        assert_eq!(
            p.push(b"1}\n\ndata: x\r\n\r\n: comment\n\nda").unwrap(),
            vec!["{\"a\":1}", "x"]
        );
        assert_eq!(p.push(b"ta: [DONE]\n\n").unwrap(), vec!["[DONE]"]);
        assert!(p.push(b"data: tail").unwrap().is_empty());
        assert_eq!(p.finish(), vec!["tail"]);
        // Separators split across chunks, byte by byte.
        let mut p = SseParser::default();
        let mut got = Vec::new();
        for b in b"data: a\r\n\r\ndata: b\n\n" {
            got.extend(p.push(&[*b]).unwrap());
        }
        assert_eq!(got, vec!["a", "b"]);
    }

    #[test]
    fn an_event_without_end_is_refused_at_the_bound() {
        let mut p = SseParser::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut result = Ok(Vec::new());
        for _ in 0..(MAX_EVENT_BYTES / chunk.len() + 2) {
            result = p.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(Overflow));
    }
}
