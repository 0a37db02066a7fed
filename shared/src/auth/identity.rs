//! Customer identity verification (as Intercom offers it): the tenant's backend computes
//! `user_hash = hex(HMAC-SHA256(identity_secret, user_id))` and the widget passes it along, so a
//! returning signed-in customer is linked to their history while nobody can claim another
//! customer's id. Unverified visitors get an anonymous id instead.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The hash the tenant's backend sends for `user_id`.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time verification of a presented `user_hash` (hex, either case).
pub fn verify(secret: &str, user_id: &str, presented_hex: &str) -> bool {
    let Ok(presented) = hex::decode(presented_hex) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&presented).is_ok()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_matching_user() {
        let h = user_hash("s3cret", "customer-42");
        assert!(verify("s3cret", "customer-42", &h));
        assert!(verify("s3cret", "customer-42", &h.to_uppercase()));
        assert!(!verify("s3cret", "customer-43", &h));
        assert!(!verify("other", "customer-42", &h));
        assert!(!verify("s3cret", "customer-42", "zz"));
        // RFC 4231 test case 2.
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
