//! Upstream Server-Sent Event streams (Gemini's `alt=sse`, OpenAI's chat completions): an
//! incremental parser (bytes in, complete `data:` payloads out, however the network splits
//! them) and the one event stream both providers build on, each with its own [`Decoder`].

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::providers::{ChatEvent, EventStream, ProviderError};
use crate::http::{Body, ByteStream, Request};
use crate::ports::HttpClient;
use futures::StreamExt;
use std::collections::VecDeque;

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

/// How one provider turns `data:` payloads into chat events.
pub trait Decoder: 'static {
    /// The events of one payload; an error ends the stream.
    fn payload(&mut self, data: &str) -> Result<Vec<ChatEvent>, ProviderError>;
    /// The stream is complete (OpenAI's `[DONE]`): stop reading, emit `Done`.
    fn done(&self) -> Option<ChatEvent>;
    /// The upstream closed; `rest` holds any final payloads. The last event (`Done`) or an
    /// error when the stream was cut short.
    fn end(&mut self, rest: Vec<String>) -> Vec<Result<ChatEvent, ProviderError>>;
}

/// Sends a streaming request and checks its status: the byte stream, or the classified error.
pub async fn open(http: &dyn HttpClient, req: Request) -> Result<ByteStream, ProviderError> {
    let resp = http
        .send(req)
        .await
        .map_err(|e| ProviderError::transient(format!("network: {e}"), None))?;
    if resp.status >= 400 {
        let retry_after = resp.header("retry-after").map(String::from);
        let body = super::providers::body_text(resp.body).await;
        let mut err = ProviderError::from_status(resp.status, &body, retry_after.as_deref());
        err.retry_after_ms = err.retry_after_ms.or_else(|| retry_delay(&body));
        return Err(err);
    }
    Ok(match resp.body {
        Body::Stream(s) => s,
        Body::Bytes(b) => Box::pin(futures::stream::iter(vec![b])),
        Body::Empty => Box::pin(futures::stream::empty()),
    })
}

/// Gemini puts the wait in `error.details[].retryDelay` ("30s") rather than a header; OpenAI
/// servers use the header. Either is honoured.
pub(crate) fn retry_delay(body: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.pointer("/error/details")?
        .as_array()?
        .iter()
        .find_map(|d| {
            let s = d.get("retryDelay")?.as_str()?;
            s.strip_suffix('s')?
                .parse::<f64>()
                .ok()
                .map(|x| (x * 1000.0) as i64)
        })
}

/// Bytes in, chat events out: the SSE parser and a provider's decoder, with the 1 MiB event
/// bound; every event after an error or a `Done` is dropped.
pub fn events<D: Decoder>(chunks: ByteStream, decoder: D) -> EventStream {
    struct St<D> {
        chunks: ByteStream,
        parser: SseParser,
        decoder: D,
        pending: VecDeque<Result<ChatEvent, ProviderError>>,
        ended: bool,
    }
    let st = St {
        chunks,
        parser: SseParser::default(),
        decoder,
        pending: VecDeque::new(),
        ended: false,
    };
    Box::pin(futures::stream::unfold(st, |mut s| async move {
        loop {
            if let Some(e) = s.pending.pop_front() {
                return Some((e, s));
            }
            if s.ended {
                return None;
            }
            let Some(bytes) = s.chunks.next().await else {
                s.ended = true;
                let rest = s.parser.finish();
                s.pending.extend(s.decoder.end(rest));
                continue;
            };
            let Ok(payloads) = s.parser.push(&bytes) else {
                s.pending.push_back(Err(ProviderError::fatal(
                    "the upstream sent an event larger than 1 MiB",
                )));
                s.ended = true;
                continue;
            };
            for p in payloads {
                match s.decoder.payload(&p) {
                    Ok(evs) => s.pending.extend(evs.into_iter().map(Ok)),
                    Err(e) => {
                        s.pending.push_back(Err(e));
                        s.ended = true;
                        break;
                    }
                }
                if let Some(done) = s.decoder.done() {
                    s.pending.push_back(Ok(done));
                    s.ended = true;
                    break;
                }
            }
        }
    }))
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
