//! Server-Sent Events: the fallback when WebSockets are blocked (and the only live path on Spin).
//! Same frames, same guarantees: every message event carries its sequence number as the event
//! id, so a reconnecting `EventSource` sends `Last-Event-ID` and gets exactly what it missed,
//! in order. The stream polls the conversation object, sends a heartbeat comment, and ends after
//! a while so intermediaries never hold it forever; clients simply reconnect.

use crate::http::ByteStream;
use crate::ports::Timer;
use futures::future::LocalBoxFuture;
use futures::stream;
use std::rc::Rc;

/// How often the object is polled, how often a heartbeat goes out, and how long one stream lives.
pub const POLL_MS: u64 = 400;
pub const HEARTBEAT_MS: u64 = 15_000;
pub const STREAM_MS: u64 = 45_000;

/// One poll's worth of events: `(id, event name, JSON data)`; an id of `None` leaves the
/// client's last event id unchanged.
pub type Batch = Vec<(Option<i64>, &'static str, String)>;

/// A poll function: given the last sequence sent, returns new events and the new last sequence.
pub type Poll = Rc<dyn Fn(i64) -> LocalBoxFuture<'static, Result<(Batch, i64), ()>>>;

/// Formats one SSE event.
pub fn event(id: Option<i64>, name: &str, data: &str) -> String {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("event: {name}\n"));
    for line in data.lines() {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    out
}

struct State {
    after: i64,
    elapsed: u64,
    since_heartbeat: u64,
    first: bool,
    done: bool,
}

/// A stream that starts after `after` and polls until `STREAM_MS` has passed.
pub fn stream(after: i64, first_chunk: String, poll: Poll, timer: Rc<dyn Timer>) -> ByteStream {
    let state = State {
        after,
        elapsed: 0,
        since_heartbeat: 0,
        first: true,
        done: false,
    };
    Box::pin(stream::unfold(state, move |mut st| {
        let poll = poll.clone();
        let timer = timer.clone();
        let first_chunk = first_chunk.clone();
        async move {
            if st.done {
                return None;
            }
            if st.first {
                st.first = false;
                // Tell the browser how long to wait before reconnecting.
                return Some((format!("retry: 1000\n{first_chunk}").into_bytes(), st));
            }
            loop {
                if st.elapsed >= STREAM_MS {
                    st.done = true;
                    return Some((b": bye\n\n".to_vec(), st));
                }
                match poll(st.after).await {
                    Ok((batch, last)) if !batch.is_empty() => {
                        st.after = last;
                        let chunk: String = batch
                            .iter()
                            .map(|(id, name, data)| event(*id, name, data))
                            .collect();
                        return Some((chunk.into_bytes(), st));
                    }
                    Ok(_) => {}
                    Err(()) => {
                        st.done = true;
                        let frame = super::protocol::ServerFrame::error(
                            super::protocol::FrameCode::Unavailable,
                            "stream interrupted; reconnect",
                        );
                        return Some((event(None, "error", &frame.to_text()).into_bytes(), st));
                    }
                }
                timer.sleep(POLL_MS).await;
                st.elapsed += POLL_MS;
                st.since_heartbeat += POLL_MS;
                if st.since_heartbeat >= HEARTBEAT_MS {
                    st.since_heartbeat = 0;
                    return Some((b": heartbeat\n\n".to_vec(), st));
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_data_is_split_and_ids_are_optional() {
        assert_eq!(
            event(Some(3), "message", "{\"a\":1}"),
            "id: 3\nevent: message\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            event(None, "status", "a\nb"),
            "event: status\ndata: a\ndata: b\n\n"
        );
    }
}
