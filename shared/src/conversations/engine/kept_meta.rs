//! The conversation's state as its single writer last stored it, kept in the object
//! instance's memory so a busy conversation does not read and decode it from storage on every
//! message (twice, with the AI-answer check). The read is gone from the fan-out profile; the
//! whole-run CPU per delivery moved within noise (docs/performance.md).
//!
//! Invariant: what is kept is exactly what storage holds. Every write of the state goes
//! through `super::ObjectEnv::commit`, which forgets the copy before the write and keeps the
//! new one only once the write succeeded; a read that started before a write may not fill in
//! its (older) result afterwards — the generation tells. Only hosts whose instance is the one
//! writer of its conversation (a Durable Object) keep one; in-process objects (Spin, tests)
//! share a database with other instances and read storage every time.

use super::super::model::Meta;
use std::cell::{Cell, RefCell};

#[derive(Default)]
pub struct KeptMeta {
    meta: RefCell<Option<Meta>>,
    /// Moves on every write, so a read that raced one does not keep what it read.
    generation: Cell<u64>,
}

impl KeptMeta {
    pub(crate) fn get(&self) -> Option<Meta> {
        self.meta.borrow().clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Keeps `meta` read from storage, unless a write started since `generation` was taken.
    pub(crate) fn fill(&self, generation: u64, meta: &Meta) {
        if self.generation.get() == generation {
            *self.meta.borrow_mut() = Some(meta.clone());
        }
    }

    /// Before a write: nothing kept until it is known to have succeeded.
    pub(crate) fn forget(&self) -> u64 {
        let g = self.generation.get().wrapping_add(1);
        self.generation.set(g);
        *self.meta.borrow_mut() = None;
        g
    }

    /// After the write that began at `generation` succeeded; ignored if another began since.
    pub(crate) fn keep(&self, generation: u64, meta: Option<&Meta>) {
        if self.generation.get() == generation {
            *self.meta.borrow_mut() = meta.cloned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_meta as meta;

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let kept = KeptMeta::default();
        let before_read = kept.generation();
        // A write starts (and succeeds) while the read is in flight.
        let write = kept.forget();
        kept.keep(write, Some(&meta(2)));
        kept.fill(before_read, &meta(1));
        assert_eq!(kept.get().map(|m| m.last_seq), Some(2));
    }

    #[test]
    fn a_failed_write_leaves_nothing_kept_and_an_overtaken_one_keeps_nothing() {
        let kept = KeptMeta::default();
        kept.fill(kept.generation(), &meta(1));
        let _failed = kept.forget();
        assert!(kept.get().is_none(), "a write that failed keeps nothing");
        let first = kept.forget();
        let second = kept.forget();
        kept.keep(second, Some(&meta(3)));
        kept.keep(first, Some(&meta(2)));
        assert_eq!(
            kept.get().map(|m| m.last_seq),
            Some(3),
            "the later write wins"
        );
        let purge = kept.forget();
        kept.keep(purge, None);
        assert!(kept.get().is_none(), "a purge keeps nothing");
    }
}
