use prism_core::ports::{ConnectionId, LiveHub};
use serde::{Deserialize, Serialize};
use worker::{State, WebSocket};

/// What a socket remembers across hibernation (stored as its attachment).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConnMeta {
    pub id: ConnectionId,
}

/// The hibernatable WebSockets of one Durable Object as the core's live hub. Sockets are read
/// once per event, so a broadcast is one pass, not a lookup per member.
pub struct DoHub {
    sockets: Vec<(ConnectionId, WebSocket)>,
}

impl DoHub {
    pub fn new(state: &State) -> Self {
        let sockets = state
            .get_websockets()
            .into_iter()
            .filter_map(|ws| {
                let meta = ws.deserialize_attachment::<ConnMeta>().ok().flatten()?;
                Some((meta.id, ws))
            })
            .collect();
        DoHub { sockets }
    }
}

impl LiveHub for DoHub {
    fn connections(&self) -> Vec<ConnectionId> {
        self.sockets.iter().map(|(id, _)| id.clone()).collect()
    }

    fn send(&self, to: &str, text: &str) {
        if let Some((_, ws)) = self.sockets.iter().find(|(id, _)| id == to) {
            // A socket closing concurrently is not an error for the sender.
            let _ = ws.send_with_str(text);
        }
    }

    fn close(&self, to: &str, code: u16, reason: &str) {
        if let Some((_, ws)) = self.sockets.iter().find(|(id, _)| id == to) {
            let _ = ws.close(Some(code), Some(reason));
        }
    }

    fn broadcast(&self, text: &str) {
        for (_, ws) in &self.sockets {
            let _ = ws.send_with_str(text);
        }
    }
}
