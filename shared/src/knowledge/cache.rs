//! Tenants' vector indexes kept in memory between requests (per isolate on Cloudflare), keyed
//! by tenant and knowledge-base version, so a changed knowledge base is never served stale and
//! an unchanged one is loaded from the database once.
//!
//! Bounded by bytes, not by count: one isolate serves many tenants within one memory limit
//! (128 MB on Workers), and a few large indexes must not push everyone else out of memory. The
//! least recently used indexes are dropped first; an index larger than the whole budget is used
//! for its request and not kept.

use super::vectors::Index;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Memory the cached indexes may take together.
pub const BUDGET_BYTES: usize = 48 * 1024 * 1024;

/// Version, model, index and last-use tick of one tenant's cached index.
struct Entry {
    version: i64,
    model: String,
    index: Rc<Index>,
    used: u64,
}

pub struct VectorCache {
    entries: RefCell<HashMap<String, Entry>>,
    tick: RefCell<u64>,
    budget: usize,
}

impl Default for VectorCache {
    fn default() -> Self {
        VectorCache::with_budget(BUDGET_BYTES)
    }
}

impl VectorCache {
    pub fn with_budget(budget: usize) -> Self {
        VectorCache {
            entries: RefCell::default(),
            tick: RefCell::default(),
            budget,
        }
    }

    pub fn get(&self, tenant_id: &str, version: i64, model: &str) -> Option<Rc<Index>> {
        let mut tick = self.tick.borrow_mut();
        *tick += 1;
        let mut entries = self.entries.borrow_mut();
        let e = entries.get_mut(tenant_id)?;
        if e.version != version || e.model != model {
            return None;
        }
        e.used = *tick;
        Some(e.index.clone())
    }

    pub fn put(&self, tenant_id: &str, version: i64, model: &str, index: Rc<Index>) {
        let tick = *self.tick.borrow();
        let mut entries = self.entries.borrow_mut();
        entries.remove(tenant_id);
        let size = index.bytes();
        if size > self.budget {
            return;
        }
        while entries.values().map(|e| e.index.bytes()).sum::<usize>() + size > self.budget {
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.remove(&oldest);
        }
        entries.insert(
            tenant_id.to_string(),
            Entry {
                version,
                model: model.to_string(),
                index,
                used: tick,
            },
        );
    }

    /// Bytes held by the cached indexes.
    pub fn bytes(&self) -> usize {
        self.entries
            .borrow()
            .values()
            .map(|e| e.index.bytes())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::embed::DIM;

    fn index(n: usize) -> Rc<Index> {
        let mut idx = Index::default();
        let mut blob = vec![1u8; DIM];
        blob.extend_from_slice(&1.0f32.to_le_bytes());
        for i in 0..n {
            idx.push(i as i64, &blob);
        }
        Rc::new(idx)
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget_dropping_the_least_recently_used() {
        let per = index(1).bytes();
        let cache = VectorCache::with_budget(per * 250);
        cache.put("a", 1, "m", index(100));
        cache.put("b", 1, "m", index(100));
        assert!(cache.get("a", 1, "m").is_some()); // a is now more recent than b
        cache.put("c", 1, "m", index(100));
        assert!(cache.bytes() <= per * 250);
        assert!(
            cache.get("b", 1, "m").is_none(),
            "b was least recently used"
        );
        assert!(cache.get("a", 1, "m").is_some() && cache.get("c", 1, "m").is_some());
        // Too big to keep at all: not cached, nothing else evicted for it.
        cache.put("huge", 1, "m", index(300));
        assert!(cache.get("huge", 1, "m").is_none());
        assert!(cache.get("a", 1, "m").is_some());
        // Many small tenants: never more than the budget.
        for t in 0..1000 {
            cache.put(&format!("t{t}"), 1, "m", index(3));
            assert!(cache.bytes() <= per * 250);
        }
    }
}
