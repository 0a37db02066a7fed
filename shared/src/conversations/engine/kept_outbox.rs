//! The mirror outbox as its single writer queued it, kept in the object instance's memory so
//! the paced flush of a busy conversation does not read every entry back from storage and
//! decode it (in the fan-out profile the outbox read was 5–9 % of the isolate's busy time, on
//! the flush that holds back the frames arriving meanwhile). Storage stays the durable copy:
//! a new instance, and any flush after something unexpected, reads it from there.
//!
//! Invariant: when something is kept, it is exactly the outbox's rows in storage, in id order,
//! and `last_id` is the id the last queued entry took. It is filled only from a read of the
//! whole outbox that no write overtook (the generation tells); every storage step that queues
//! an entry appends it once the step succeeded, with the id storage gave it (the last plus one:
//! steps run one at a time, and two that overlap forget instead); every other change of the
//! outbox rows (an erasure rewriting them, a purge, a flush's failure count) forgets. Forgetting
//! is always safe: the next flush reads storage, as it did before this existed. Only hosts whose
//! instance is the conversation's one writer (a Durable Object, in its `Pace`) keep one.

use super::super::store::{OutboxEntry, Queued};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

#[derive(Default)]
pub struct KeptOutbox {
    kept: RefCell<Option<Kept>>,
    /// Moves on every write, so a read that raced one does not keep what it read.
    generation: Cell<u64>,
    /// Storage steps begun and not yet finished.
    writing: Cell<u32>,
}

struct Kept {
    entries: VecDeque<OutboxEntry>,
    last_id: i64,
}

/// What a storage step does to the outbox.
pub enum OutboxChange {
    /// Queues this entry (and changes no other row).
    Queued(Queued),
    /// Changes its rows otherwise (or may): what is kept is forgotten.
    Other,
}

impl KeptOutbox {
    /// The first `limit` entries, or `None` when what storage holds is not known here.
    pub(crate) fn first(&self, limit: usize) -> Option<Vec<OutboxEntry>> {
        let kept = self.kept.borrow();
        let kept = kept.as_ref()?;
        Some(kept.entries.iter().take(limit).cloned().collect())
    }

    /// Whether the outbox is known to hold nothing and no storage step is about to queue
    /// anything: a paced flush then needs no alarm (`false` when unknown).
    pub(crate) fn known_empty(&self) -> bool {
        self.writing.get() == 0
            && self
                .kept
                .borrow()
                .as_ref()
                .is_some_and(|k| k.entries.is_empty())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Keeps the whole outbox as read from storage, unless a write began since `generation`
    /// was taken or is still running.
    pub(crate) fn fill(&self, generation: u64, entries: &[OutboxEntry], last_id: i64) {
        if self.generation.get() != generation || self.writing.get() > 0 {
            return;
        }
        *self.kept.borrow_mut() = Some(Kept {
            entries: entries.iter().cloned().collect(),
            last_id,
        });
    }

    /// Before a storage step: reads in flight may not keep what they read.
    pub(crate) fn begin_write(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        self.writing.set(self.writing.get() + 1);
    }

    /// After the step began with [`Self::begin_write`] succeeded.
    pub(crate) fn wrote(&self, change: OutboxChange) {
        let overlapped = self.writing.get() > 1;
        self.writing.set(self.writing.get().saturating_sub(1));
        let mut kept = self.kept.borrow_mut();
        match (change, kept.as_mut()) {
            // Overlapping steps may have taken their ids in either order.
            (OutboxChange::Queued(q), Some(k)) if !overlapped => {
                k.last_id += 1;
                k.entries.push_back(OutboxEntry {
                    id: k.last_id,
                    ops: q.ops,
                    attempts: 0,
                    state: Some(q.state),
                });
            }
            (OutboxChange::Queued(_), None) => {}
            _ => *kept = None,
        }
    }

    /// After the step began with [`Self::begin_write`] failed (it may have committed all the
    /// same).
    pub(crate) fn write_failed(&self) {
        self.writing.set(self.writing.get().saturating_sub(1));
        self.forget();
    }

    /// Storage deleted the entries up to `id` (the flush applied them).
    pub(crate) fn flushed(&self, id: i64) {
        if let Some(k) = self.kept.borrow_mut().as_mut() {
            while k.entries.front().is_some_and(|e| e.id <= id) {
                k.entries.pop_front();
            }
        }
    }

    /// What storage holds is unknown here (a flush failed, or its outbox write did).
    pub(crate) fn forget(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        *self.kept.borrow_mut() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::mirror::OutboxOp;
    use crate::conversations::store::QueuedState;

    fn queued(n: i64) -> Queued {
        let meta = crate::testing::sample_meta(n);
        Queued {
            state: QueuedState::of(&meta).unwrap(),
            ops: vec![OutboxOp::Erase {
                tenant_id: "ten_1".into(),
                conversation_id: "cnv_1".into(),
                at: n,
            }],
        }
    }

    fn ids(k: &KeptOutbox) -> Option<Vec<i64>> {
        k.first(100).map(|e| e.iter().map(|e| e.id).collect())
    }

    fn write(k: &KeptOutbox, n: i64) {
        k.begin_write();
        k.wrote(OutboxChange::Queued(queued(n)));
    }

    #[test]
    fn queued_entries_take_the_ids_storage_gives_them_and_leave_once_flushed() {
        let k = KeptOutbox::default();
        // Nothing is known before a read of storage; a write then keeps nothing.
        write(&k, 1);
        assert_eq!(ids(&k), None);
        // Storage's outbox was empty, its entries numbered up to 7.
        let read = KeptOutbox::default();
        assert!(!read.known_empty(), "unknown is not empty");
        read.fill(read.generation(), &[], 7);
        assert!(read.known_empty());
        read.begin_write();
        assert!(!read.known_empty(), "a step in flight may queue an entry");
        read.wrote(OutboxChange::Queued(queued(1)));
        assert!(!read.known_empty());
        read.flushed(8);
        assert!(read.known_empty());
        write(&read, 1);
        write(&read, 2);
        assert_eq!(ids(&read), Some(vec![9, 10]));
        assert_eq!(read.first(1).unwrap()[0].ops.len(), 1);
        read.flushed(9);
        assert_eq!(ids(&read), Some(vec![10]));
        read.flushed(10);
        write(&read, 3);
        assert_eq!(ids(&read), Some(vec![11]), "ids never repeat after a flush");
    }

    #[test]
    fn a_read_overtaken_by_a_write_and_overlapping_or_failed_writes_keep_nothing() {
        let k = KeptOutbox::default();
        let before_read = k.generation();
        write(&k, 1);
        k.fill(before_read, &[], 0);
        assert_eq!(ids(&k), None, "the read missed the write");

        k.fill(k.generation(), &[], 0);
        k.begin_write();
        k.begin_write();
        k.wrote(OutboxChange::Queued(queued(1)));
        k.wrote(OutboxChange::Queued(queued(2)));
        assert_eq!(ids(&k), None, "overlapping steps may have swapped ids");

        k.fill(k.generation(), &[], 2);
        k.begin_write();
        k.write_failed();
        assert_eq!(ids(&k), None, "a failed step may have committed");

        k.fill(k.generation(), &[], 2);
        k.begin_write();
        k.wrote(OutboxChange::Other);
        assert_eq!(ids(&k), None, "rows rewritten elsewhere");

        k.begin_write();
        k.fill(k.generation(), &[], 2);
        k.wrote(OutboxChange::Queued(queued(3)));
        assert_eq!(ids(&k), None, "a read during a write may have missed it");
        k.fill(k.generation(), &[], 3);
        write(&k, 4);
        assert_eq!(ids(&k), Some(vec![4]));
        k.forget();
        assert_eq!(ids(&k), None);
    }
}
