use prism_core::ports::{Connection, ConnectionId, LiveHub};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{State, WebSocket};

/// What a socket remembers across hibernation (stored as its attachment): its id, the object it
/// belongs to, and the core's per-connection state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConnMeta {
    pub id: ConnectionId,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub attachment: Value,
}

/// The hibernatable WebSockets of one Durable Object as the core's live hub. Sockets are read
/// once per event, so a broadcast is one pass, not a lookup per member.
pub struct DoHub {
    sockets: Vec<(ConnMeta, WebSocket)>,
}

impl DoHub {
    pub fn new(state: &State) -> Self {
        let sockets = state
            .get_websockets()
            .into_iter()
            .filter_map(|ws| {
                let meta = ws.deserialize_attachment::<ConnMeta>().ok().flatten()?;
                Some((meta, ws))
            })
            .collect();
        DoHub { sockets }
    }

    fn find(&self, id: &str) -> Option<&(ConnMeta, WebSocket)> {
        self.sockets.iter().find(|(m, _)| m.id == id)
    }
}

impl LiveHub for DoHub {
    fn connections(&self) -> Vec<Connection> {
        self.sockets
            .iter()
            .map(|(m, _)| Connection {
                id: m.id.clone(),
                attachment: m.attachment.clone(),
            })
            .collect()
    }

    fn send(&self, to: &str, text: &str) {
        if let Some((_, ws)) = self.find(to) {
            // A socket closing concurrently is not an error for the sender.
            let _ = ws.send_with_str(text);
        }
    }

    fn close(&self, to: &str, code: u16, reason: &str) {
        if let Some((_, ws)) = self.find(to) {
            let _ = ws.close(Some(code), Some(reason));
        }
    }

    fn set_attachment(&self, id: &str, value: &Value) {
        if let Some((m, ws)) = self.find(id) {
            let mut m = m.clone();
            m.attachment = value.clone();
            let _ = ws.serialize_attachment(m);
        }
    }

    fn broadcast(&self, text: &str) {
        for (_, ws) in &self.sockets {
            let _ = ws.send_with_str(text);
        }
    }
}
