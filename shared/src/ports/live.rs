use serde_json::Value;

/// Identifies one live connection inside a hub (stable across Durable Object hibernation,
/// because it is stored in the socket's attachment, not in memory).
pub type ConnectionId = String;

/// One open connection and what it remembers (who it is, its flood-control state).
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub id: ConnectionId,
    pub attachment: Value,
}

/// The live-session hub a live object runs against: the set of connected clients and a way to
/// reach them. On Cloudflare this is the Durable Object's hibernatable WebSockets, whose
/// attachments survive hibernation; runtimes without WebSockets use [`NoHub`].
pub trait LiveHub {
    /// Every open connection with its attachment.
    fn connections(&self) -> Vec<Connection>;
    /// Sends one text frame to one connection; a closed connection is skipped silently.
    fn send(&self, to: &str, text: &str);
    /// Closes one connection with a WebSocket close code.
    fn close(&self, to: &str, code: u16, reason: &str);
    /// Replaces a connection's attachment (persisted with the socket).
    fn set_attachment(&self, id: &str, value: &Value);

    /// Replaces a connection's attachment for as long as the object stays awake, without
    /// persisting it: for per-message state (flood control) that may be forgotten. Writing the
    /// attachment back to the runtime on every message cost a serialisation of the whole
    /// attachment per frame. What the socket persisted earlier is what a woken object reads.
    fn set_volatile(&self, id: &str, value: &Value) {
        self.set_attachment(id, value);
    }

    /// Sends one text frame to every connection.
    fn broadcast(&self, text: &str) {
        for c in self.connections() {
            self.send(&c.id, text);
        }
    }

    /// Sends one text frame to every connection whose attachment passes `keep`. Hubs that hold
    /// their sockets override it to make one pass without copying attachments (a busy
    /// conversation sends every message to every member).
    fn send_where(&self, text: &str, keep: &dyn Fn(&Value) -> bool) {
        for c in self.connections() {
            if keep(&c.attachment) {
                self.send(&c.id, text);
            }
        }
    }

    /// One open connection, if it exists.
    fn connection(&self, id: &str) -> Option<Connection> {
        self.connections().into_iter().find(|c| c.id == id)
    }

    /// Reads a connection's attachment where it is (false when there is no such connection).
    /// Every frame reads its socket's participant, grant and lease: hubs that hold their
    /// sockets override this to skip copying the whole attachment each time. `f` must not
    /// call back into the hub.
    fn inspect(&self, id: &str, f: &mut dyn FnMut(&Value)) -> bool {
        self.connection(id).map(|c| f(&c.attachment)).is_some()
    }

    /// Changes a connection's attachment where it is, in memory only (as
    /// [`LiveHub::set_volatile`]); false when there is no such connection. `f` must not call
    /// back into the hub.
    fn update_volatile(&self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        match self.connection(id) {
            Some(mut c) => {
                f(&mut c.attachment);
                self.set_volatile(id, &c.attachment);
                true
            }
            None => false,
        }
    }
}

/// A hub with no connections, for runtimes without WebSockets (clients poll over SSE instead).
pub struct NoHub;

impl LiveHub for NoHub {
    fn connections(&self) -> Vec<Connection> {
        Vec::new()
    }
    fn send(&self, _: &str, _: &str) {}
    fn close(&self, _: &str, _: u16, _: &str) {}
    fn set_attachment(&self, _: &str, _: &Value) {}
}
