//! Identifiers: a short type prefix plus 128 random bits in lower-case base32, e.g.
//! `ten_5w2k…`. The prefix makes ids self-describing in logs and support tickets; the random
//! part makes them unguessable, so an id alone never grants access.

use crate::ports::Random;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new id with the given type prefix (`ten`, `usr`, `key`, …).
pub fn new_id(random: &dyn Random, prefix: &str) -> String {
    format!("{prefix}_{}", base32(&random.bytes::<16>()))
}

/// Lower-case RFC 4648 base32 without padding. Written here because it is six lines and ids are
/// not a security boundary of their own.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// True when `s` looks like an id of this type (cheap pre-check before a lookup).
pub fn looks_like(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 26 && r.bytes().all(|b| ALPHABET.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    #[test]
    fn ids_have_prefix_and_fixed_length() {
        let r = SeqRandom::default();
        let id = new_id(&r, "ten");
        assert!(looks_like(&id, "ten"), "{id}");
        assert!(!looks_like(&id, "usr"));
        assert_ne!(id, new_id(&r, "ten"));
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }
}
