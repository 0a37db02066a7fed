//! Parsed provider payloads with any shape: Stripe events, VAPI server messages, a model's
//! JSON-mode analysis and translations.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::channels::{stripe, vapi};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = prism_core::ai::analysis::from_model_json(s);
            let _ = prism_core::ai::translate::from_model_json(s, s.len());
        }
        return;
    };
    let _ = stripe::interpret(&v);
    let message = &v["message"];
    let _ = vapi::tool_calls(message);
    let _ = vapi::report_lines(message);
    let _ = vapi::utterance_id(message);
    if let Ok(m) = vapi::Message::read(data) {
        let _ = m.call_event_id();
    }
    if let Ok(e) = serde_json::from_slice::<prism_core::channels::resend::Event>(data) {
        let _ = e.data.email_id.as_deref().map(prism_core::channels::resend::event_status);
    }
    let _ = prism_core::ai::analysis::from_model_json(&v.to_string());
    let _ = prism_core::ai::translate::from_model_json(&v.to_string(), 10);
});
