//! Provider webhook bodies before and after their signatures: Twilio's form bodies, email
//! addresses and Message-ID headers, the signature headers themselves, and the survey page's
//! form and SMS survey replies, and analytics periods.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::channels::{resend, signatures, twilio};

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = twilio::form(data) {
        let _ = twilio::attachments(&params);
        let _ = signatures::twilio_verify("token", "https://x/y", &params, "sig");
    }
    let (_, answers) = prism_core::surveys::link::parse_form(data);
    let _ = prism_core::surveys::template::builtin().check_answers(&answers);
    let _ = signatures::stripe_verify("whsec_x", &String::from_utf8_lossy(data), data, 1_750_000_000);
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = twilio::keyword(s);
    let _ = prism_core::surveys::respond::parse_reply(s, 0, 10);
    let _ = twilio::channel_of(s);
    let _ = resend::parse_address(s);
    let _ = resend::message_ids(s);
    let _ = signatures::svix_verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", s, s, s, data, 1_750_000_000);
    let _ = signatures::secret_header_verify("expected", Some(s));
    // Analytics periods, as a report's query string carries them.
    let mut period = s.splitn(2, '|');
    let _ = prism_core::analytics::Filter::parse(
        period.next(),
        period.next(),
        Some(data.len() as i64 - 100),
        1_796_000_000_000,
        (data.len() as i32 % 1_561) - 720,
    );
});
