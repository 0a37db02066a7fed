//! Webhook signature verification, on the raw bytes, in constant time, with replay windows.
//! Each scheme follows its provider's documentation exactly (tested against their published
//! vectors where they publish one).

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Signed timestamps older or newer than this are refused (Svix and Stripe both use 5 minutes).
pub const TOLERANCE_SECS: i64 = 300;

/// Twilio: base64(HMAC-SHA1(auth token, URL + every POST parameter sorted by name, as
/// name+value)). `url` must be the exact public URL Twilio requested (scheme, host, path, query).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    // Sorted by name then value, and a repeated name=value pair counts once (as Twilio's SDKs
    // compute it; their published vector for repeated parameters depends on both).
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    // HMAC accepts keys of any length, so this cannot fail; an empty result never verifies.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

pub fn twilio_verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    presented: &str,
) -> bool {
    let expected = twilio_signature(auth_token, url, params);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.trim().as_bytes()))
}

/// Svix (Resend's webhooks): `v1,<base64(HMAC-SHA256(base64-decoded secret after "whsec_",
/// "id.timestamp.body"))>`, possibly several space-separated entries (key rotation).
pub fn svix_sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD
        .decode(
            secret
                .trim()
                .strip_prefix("whsec_")
                .unwrap_or(secret.trim()),
        )
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Signature mismatch or malformed headers.
    Invalid,
    /// Outside the replay window.
    Stale,
}

pub fn svix_verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
) -> Verdict {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return Verdict::Invalid;
    };
    if (now_secs - ts).abs() > TOLERANCE_SECS {
        return Verdict::Stale;
    }
    let Some(expected) = svix_sign(secret, id, ts, body) else {
        return Verdict::Invalid;
    };
    let ok = signatures
        .split_whitespace()
        .any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
    if ok {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// Stripe: header `t=<ts>,v1=<hex>[,v1=…]`; HMAC-SHA256 with the `whsec_…` string itself as the
/// key, over `"<ts>.<body>"`.
pub fn stripe_sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub fn stripe_verify(secret: &str, header: &str, body: &[u8], now_secs: i64) -> Verdict {
    let mut ts = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => ts = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let Some(ts) = ts else {
        return Verdict::Invalid;
    };
    if sigs.is_empty() {
        return Verdict::Invalid;
    }
    if (now_secs - ts).abs() > TOLERANCE_SECS {
        return Verdict::Stale;
    }
    let expected = stripe_sign(secret, ts, body);
    if !expected.is_empty()
        && sigs
            .iter()
            .any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())))
    {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// A shared-secret header (VAPI's `x-vapi-secret`, or its bearer credential), compared in
/// constant time.
pub fn secret_header_verify(expected: &str, presented: Option<&str>) -> bool {
    !expected.is_empty()
        && presented.is_some_and(|p| bool::from(p.trim().as_bytes().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn twilio_matches_its_published_vectors() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(
            twilio_signature("12345", url, &params),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(twilio_verify(
            "12345",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // Repeated parameters sort by value and repeated pairs count once.
        let repeated = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            twilio_signature("12345", url, &repeated),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
        assert!(
            !twilio_verify(
                "12345",
                &format!("{url}&x=1"),
                &params,
                "RSOYDt4T1cUTdK1PDd93/VVr8B8="
            ),
            "the URL is signed"
        );
        assert!(!twilio_verify(
            "54321",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn svix_matches_the_standard_webhooks_vector_and_refuses_stale_or_tampered_ones() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(
            svix_sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some(sig)
        );
        assert_eq!(
            svix_verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &format!("v1,bogus {sig}"),
                body,
                1614265330 + 10
            ),
            Verdict::Valid
        );
        assert_eq!(
            svix_verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                sig,
                body,
                1614265330 + 301
            ),
            Verdict::Stale
        );
        assert_eq!(
            svix_verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                sig,
                br#"{"test": 2432232315}"#,
                1614265330
            ),
            Verdict::Invalid
        );
        assert_eq!(
            svix_verify(secret, "msg_other", "1614265330", sig, body, 1614265330),
            Verdict::Invalid
        );
    }

    #[test]
    fn stripe_signatures_cover_timestamp_and_body() {
        let secret = "whsec_test_secret";
        let body = br#"{"id":"evt_1","type":"customer.subscription.updated"}"#;
        let header = format!("t=1700000000,v1={}", stripe_sign(secret, 1700000000, body));
        assert_eq!(
            stripe_verify(secret, &header, body, 1700000100),
            Verdict::Valid
        );
        assert_eq!(
            stripe_verify(secret, &header, body, 1700000000 + 301),
            Verdict::Stale
        );
        assert_eq!(
            stripe_verify(secret, &header, b"{}", 1700000000),
            Verdict::Invalid
        );
        assert_eq!(
            stripe_verify(secret, "v1=abc", body, 1700000000),
            Verdict::Invalid
        );
        assert_eq!(
            stripe_verify("whsec_other", &header, body, 1700000000),
            Verdict::Invalid
        );
        // HMAC-SHA256 with key "key" over "1.x", computed independently with openssl.
        assert_eq!(
            stripe_sign("key", 1, b"x"),
            "fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
    }
}
