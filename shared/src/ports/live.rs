/// Identifies one live connection inside a hub (stable across Durable Object hibernation,
/// because it is stored in the socket's attachment, not in memory).
pub type ConnectionId = String;

/// The live-session hub a live object runs against: the set of connected clients and a way to
/// reach them. On Cloudflare this is the Durable Object's hibernatable WebSockets.
pub trait LiveHub {
    /// Ids of every open connection.
    fn connections(&self) -> Vec<ConnectionId>;
    /// Sends one text frame to one connection; a closed connection is skipped silently.
    fn send(&self, to: &str, text: &str);
    /// Closes one connection with a WebSocket close code.
    fn close(&self, to: &str, code: u16, reason: &str);

    /// Sends one text frame to every connection.
    fn broadcast(&self, text: &str) {
        for c in self.connections() {
            self.send(&c, text);
        }
    }
}
