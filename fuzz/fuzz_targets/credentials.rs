//! Everything a caller presents as a credential or a continuation: agent JWTs, conversation
//! tokens, API keys, identity hashes, pagination cursors, request ids.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::auth::{api_keys, identity, jwt::JwtKeys};
use prism_core::http::{Method, Request};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let keys = JwtKeys::from_config(Some("k1:fuzz-secret-0123456789abcdef0123456789")).unwrap();
    let _ = keys.verify(s, 1_750_000_000_000);
    let _ = prism_core::conversations::tokens::verify(&keys, s, 1_750_000_000_000);
    let _ = prism_core::surveys::link::verify(&keys, s, 1_750_000_000_000);
    let _ = JwtKeys::from_config(Some(s));
    if let Some(k) = api_keys::parse(s) {
        let _ = api_keys::verify(s, &api_keys::hash(k.prefix));
    }
    let _ = identity::verify("secret", s, s);
    let _ = prism_core::request_id::is_valid(s);
    let encoded: String = url_encode(s);
    let r = Request::new(Method::Get, &format!("http://x/?limit=10&cursor={encoded}"));
    let _ = prism_core::pagination::PageRequest::from_request(&r);
});

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
