//! WebSocket frames from clients: parsing and validation of every frame type.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::conversations::protocol::{parse_client_frame, validate_message, ClientFrame};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ClientFrame::Message {
        client_msg_id,
        text,
    }) = parse_client_frame(s)
    {
        let _ = validate_message(&client_msg_id, &text);
    }
    let _ = validate_message(s, s);
});
