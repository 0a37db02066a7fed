//! Credential records kept in isolate memory in front of the key-value cache.
//!
//! Safe for the same reason the KV cache is: every record carries the tenant version it was read
//! at, and the tenant's gate (called on every authenticated request) sends a caller holding an
//! older version back to the database. Memory only saves the KV round trip on the hot path.

use std::cell::RefCell;
use std::collections::HashMap;

/// Records held at most; past it, expired entries go first, then everything (a full reload
/// costs one KV read per credential, which is what a cold isolate pays anyway).
const MAX_ENTRIES: usize = 4096;
/// A record is re-read from KV at least this often, bounding memory use by idle credentials.
const TTL_MS: i64 = 60_000;

#[derive(Default)]
pub struct CredentialMemo {
    entries: RefCell<HashMap<String, (i64, Vec<u8>)>>,
}

impl CredentialMemo {
    pub fn get(&self, key: &str, now_ms: i64) -> Option<Vec<u8>> {
        let entries = self.entries.borrow();
        let (expires, bytes) = entries.get(key)?;
        (*expires > now_ms).then(|| bytes.clone())
    }

    pub fn put(&self, key: &str, bytes: Vec<u8>, now_ms: i64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.retain(|_, (expires, _)| *expires > now_ms);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_string(), (now_ms + TTL_MS, bytes));
    }

    pub fn forget(&self, key: &str) {
        self.entries.borrow_mut().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_map_stays_bounded() {
        let m = CredentialMemo::default();
        m.put("a", b"1".to_vec(), 0);
        assert_eq!(m.get("a", TTL_MS - 1), Some(b"1".to_vec()));
        assert_eq!(m.get("a", TTL_MS), None);
        for i in 0..MAX_ENTRIES + 10 {
            m.put(&format!("k{i}"), vec![], 1);
        }
        assert!(m.entries.borrow().len() <= MAX_ENTRIES);
        m.put("b", b"2".to_vec(), 5);
        m.forget("b");
        assert_eq!(m.get("b", 6), None);
    }
}
