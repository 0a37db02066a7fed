//! The echo room: every text frame a member sends is broadcast to every member, tagged with the
//! sender. It holds no state of its own, so it survives hibernation trivially.

use crate::ports::LiveHub;
use serde_json::json;

/// Frames above this size are refused with an error frame instead of being broadcast.
pub const MAX_FRAME: usize = 4096;

/// A member joined: greet it with its connection id and the room size.
pub fn on_join(hub: &dyn LiveHub, conn: &str) {
    let members = hub.connections().len();
    hub.send(
        conn,
        &json!({ "type": "welcome", "connection": conn, "members": members }).to_string(),
    );
}

/// A member sent a text frame.
pub fn on_text(hub: &dyn LiveHub, from: &str, text: &str) {
    if text.len() > MAX_FRAME {
        hub.send(
            from,
            &json!({"type": "error", "code": "frame_too_large", "message": "frames are at most 4096 bytes"})
                .to_string(),
        );
        return;
    }
    hub.broadcast(&json!({ "type": "echo", "from": from, "text": text }).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryHub;

    #[test]
    fn broadcasts_to_every_member_and_refuses_oversized_frames() {
        let hub = MemoryHub::with_connections(&["a", "b"]);
        on_text(&hub, "a", "hi");
        for c in ["a", "b"] {
            let got = hub.sent_to(c);
            assert_eq!(got.len(), 1);
            let v: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
            assert_eq!(
                (v["from"].as_str(), v["text"].as_str()),
                (Some("a"), Some("hi"))
            );
        }
        on_text(&hub, "b", &"x".repeat(MAX_FRAME + 1));
        assert_eq!(hub.sent_to("a").len(), 1, "nothing broadcast");
        assert!(hub.sent_to("b")[1].contains("frame_too_large"));
    }
}
