//! Small values kept in isolate memory between requests, in front of KV or the database.
//!
//! Only for data that is safe to serve slightly stale, each use saying how stale: credential
//! records (kept honest by the tenant-version check in the gate, which every authenticated
//! request makes anyway) and feature flags (a change applies within seconds). Memory saves a
//! round trip on hot paths; KV and the database stay the sources of truth.

use std::cell::RefCell;
use std::collections::HashMap;

/// Entries held at most; past it, expired entries go first, then everything (a cold isolate
/// pays the same reloads).
const MAX_ENTRIES: usize = 4096;

/// How long an expired entry is still served while one caller reloads it
/// ([`Memo::get_json_or_claim`]).
pub const REFRESH_GRACE_MS: i64 = 1_000;

#[derive(Default)]
pub struct Memo {
    entries: RefCell<HashMap<String, (i64, Vec<u8>)>>,
}

impl Memo {
    pub fn get(&self, key: &str, now_ms: i64) -> Option<Vec<u8>> {
        let entries = self.entries.borrow();
        let (expires, bytes) = entries.get(key)?;
        (*expires > now_ms).then(|| bytes.clone())
    }

    pub fn put(&self, key: &str, bytes: Vec<u8>, ttl_ms: i64, now_ms: i64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.retain(|_, (expires, _)| *expires > now_ms);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_string(), (now_ms + ttl_ms, bytes));
    }

    /// A JSON value kept with [`Memo::put_json`]; an unreadable entry is a miss.
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str, now_ms: i64) -> Option<T> {
        serde_json::from_slice(&self.get(key, now_ms)?).ok()
    }

    /// Like [`Memo::get_json`] for a value the caller reloads on a miss, without a stampede:
    /// the first caller after the entry expired gets the miss and reloads, and for
    /// [`REFRESH_GRACE_MS`] the others keep the expired value instead of all reloading at once
    /// (a busy conversation's messages each missed together while one reload was in flight).
    /// Staleness is then bounded by the entry's time to live plus the grace.
    pub fn get_json_or_claim<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        now_ms: i64,
    ) -> Option<T> {
        let mut entries = self.entries.borrow_mut();
        let (expires, bytes) = entries.get_mut(key)?;
        if *expires <= now_ms {
            // The caller reloads; the others see this value until the grace ends.
            *expires = now_ms + REFRESH_GRACE_MS;
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }

    pub fn put_json<T: serde::Serialize>(&self, key: &str, value: &T, ttl_ms: i64, now_ms: i64) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.put(key, bytes, ttl_ms, now_ms);
        }
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
        let m = Memo::default();
        m.put("a", b"1".to_vec(), 1000, 0);
        assert_eq!(m.get("a", 999), Some(b"1".to_vec()));
        assert_eq!(m.get("a", 1000), None);
        for i in 0..MAX_ENTRIES + 10 {
            m.put(&format!("k{i}"), vec![], 1000, 1);
        }
        assert!(m.entries.borrow().len() <= MAX_ENTRIES);
        m.put("b", b"2".to_vec(), 1000, 5);
        m.forget("b");
        assert_eq!(m.get("b", 6), None);
    }

    #[test]
    fn one_caller_reloads_an_expired_entry_while_the_others_keep_it() {
        let m = Memo::default();
        assert_eq!(
            m.get_json_or_claim::<i64>("k", 0),
            None,
            "never stored: a miss"
        );
        m.put_json("k", &1, 1000, 0);
        assert_eq!(m.get_json_or_claim::<i64>("k", 999), Some(1));
        // Expired: the first caller reloads, the next ones keep the old value meanwhile.
        assert_eq!(m.get_json_or_claim::<i64>("k", 1000), None);
        assert_eq!(m.get_json_or_claim::<i64>("k", 1001), Some(1));
        assert_eq!(
            m.get_json_or_claim::<i64>("k", 1000 + REFRESH_GRACE_MS - 1),
            Some(1)
        );
        // The reload never came back: the next caller after the grace reloads.
        assert_eq!(
            m.get_json_or_claim::<i64>("k", 1000 + REFRESH_GRACE_MS),
            None
        );
        m.put_json("k", &2, 1000, 2100);
        assert_eq!(m.get_json_or_claim::<i64>("k", 2101), Some(2));
        // A plain read does not serve the grace.
        assert_eq!(m.get("k", 3100), None);
    }
}
