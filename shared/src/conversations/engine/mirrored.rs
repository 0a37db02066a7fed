//! What this object instance last wrote to its conversation's mirror row, as far as the
//! rollups read it, so a flush whose newest state leaves those fields as they were skips
//! taking the row's contribution out of the rollups and adding it back (five statements of a
//! lone message's eleven; see [`RolledFields`]).
//!
//! Invariant: when something is remembered, the mirror row holds exactly those fields and is
//! counted in the rollups (`rolled = 1`). It is remembered only after a batch that wrote them
//! committed (a batch whose contribution statements were skipped left the fields as they
//! were), and forgotten when a batch failed, since a failed batch may still have committed.
//! Forgetting is always safe: the next flush takes the contribution out and adds it back, as
//! it did before this existed. Only a host whose instance is its conversation's one writer
//! keeps one (a Durable Object, in its `Pace`); others flush with nothing remembered.
//!
//! Nothing else changes these fields of the row: the erasure rewrites subject and preview, the
//! recompute rebuilds the rollups from the rows as they are. A retention purge deletes the object's
//! storage first and the row after it; the object then has nothing left to flush.

use crate::analytics::rollup::RolledFields;
use std::cell::RefCell;

#[derive(Default)]
pub struct Mirrored(RefCell<Option<RolledFields>>);

impl Mirrored {
    pub(crate) fn get(&self) -> Option<RolledFields> {
        self.0.borrow().clone()
    }

    /// A batch that wrote (or left) these fields committed.
    pub(crate) fn committed(&self, fields: RolledFields) {
        *self.0.borrow_mut() = Some(fields);
    }

    /// A batch failed: what the row holds is unknown.
    pub(crate) fn forget(&self) {
        *self.0.borrow_mut() = None;
    }
}
