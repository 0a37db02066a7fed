//! Tenants' vector indexes kept in memory between requests (per isolate on Cloudflare), keyed
//! by tenant and knowledge-base version, so a changed knowledge base is never served stale and
//! an unchanged one is loaded from the database once.

use super::vectors::Index;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Indexes held at most (least recently used is dropped first).
const MAX_TENANTS: usize = 32;

/// Version, model, index and last-use tick of one tenant's cached index.
type Entry = (i64, String, Rc<Index>, u64);

#[derive(Default)]
pub struct VectorCache {
    entries: RefCell<HashMap<String, Entry>>,
    tick: RefCell<u64>,
}

impl VectorCache {
    pub fn get(&self, tenant_id: &str, version: i64, model: &str) -> Option<Rc<Index>> {
        let mut tick = self.tick.borrow_mut();
        *tick += 1;
        let mut entries = self.entries.borrow_mut();
        let e = entries.get_mut(tenant_id)?;
        if e.0 != version || e.1 != model {
            return None;
        }
        e.3 = *tick;
        Some(e.2.clone())
    }

    pub fn put(&self, tenant_id: &str, version: i64, model: &str, index: Rc<Index>) {
        let tick = *self.tick.borrow();
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_TENANTS && !entries.contains_key(tenant_id) {
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.3)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            tenant_id.to_string(),
            (version, model.to_string(), index, tick),
        );
    }
}
