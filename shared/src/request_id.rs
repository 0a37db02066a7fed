//! Request ids: propagated from the caller when well-formed (so a trace spans systems), else
//! generated. A caller-supplied id is echoed into logs and responses, so it is restricted to a
//! short, inert alphabet: no header or log injection through it.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::ports::Random;

const MAX_LEN: usize = 128;

/// True when an incoming `x-request-id` may be reused as is.
pub fn is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The incoming id if valid, else a fresh UUIDv4.
pub fn resolve(incoming: Option<&str>, random: &dyn Random) -> String {
    match incoming {
        Some(id) if is_valid(id) => id.to_string(),
        _ => new_uuid(random),
    }
}

/// A random (v4) UUID from the platform's secure randomness.
pub fn new_uuid(random: &dyn Random) -> String {
    uuid::Builder::from_random_bytes(random.bytes::<16>())
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    #[test]
    fn keeps_valid_ids_and_replaces_hostile_ones() {
        let r = SeqRandom::default();
        assert_eq!(resolve(Some("abc-123_x.y:z"), &r), "abc-123_x.y:z");
        for bad in ["", "has space", "new\nline", "<script>", &"a".repeat(129)] {
            let id = resolve(Some(bad), &r);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 36, "generated id is a uuid: {id}");
        }
        assert_ne!(resolve(None, &r), resolve(None, &r));
    }
}
