//! One socket's frames, handled in the order they arrived.
//!
//! A Durable Object runs the next event while an earlier one awaits a call to another object
//! (only storage closes its input gate). A customer's message that has to ask the tenant gate
//! for a lease could then be overtaken by their next message, which — finding no lease yet —
//! asked the gate too: the customer's own messages could be stored out of order, the lease
//! refunded twice, and under load nearly every message made a gate call. A socket's frames
//! therefore take turns; frames of different sockets still run concurrently.

use futures::channel::oneshot;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The per-socket queues of one object instance: each entry is the last frame's completion
/// signal, which the next frame of that socket waits for.
#[derive(Default)]
pub struct Turns {
    tails: RefCell<HashMap<String, (u64, oneshot::Receiver<()>)>>,
    next: Cell<u64>,
}

/// A frame's turn: the socket's next frame starts when this is dropped.
pub struct Turn<'a> {
    turns: &'a Turns,
    key: String,
    seq: u64,
    // Dropped after `Drop::drop`: the waiting frame's receiver then resolves.
    _done: oneshot::Sender<()>,
}

impl Turns {
    /// Waits until every earlier frame of socket `key` has dropped its turn.
    pub async fn wait(&self, key: &str) -> Turn<'_> {
        let (done, signal) = oneshot::channel();
        let seq = self.next.get();
        self.next.set(seq.wrapping_add(1));
        let before = self
            .tails
            .borrow_mut()
            .insert(key.to_string(), (seq, signal));
        if let Some((_, before)) = before {
            // Resolves (as cancelled) when the earlier frame's turn is dropped.
            let _ = before.await;
        }
        Turn {
            turns: self,
            key: key.to_string(),
            seq,
            _done: done,
        }
    }

    /// Sockets with a frame in flight (for tests: an idle object keeps no entries).
    pub fn in_flight(&self) -> usize {
        self.tails.borrow().len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut tails = self.turns.tails.borrow_mut();
        // The last frame of its socket leaves nothing behind.
        if tails
            .get(&self.key)
            .is_some_and(|(seq, _)| *seq == self.seq)
        {
            tails.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot as gate;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;
    use std::rc::Rc;

    /// Frame `name` of socket `key`: takes its turn, then "awaits the gate" until `release`
    /// fires, then records itself.
    async fn frame(
        turns: Rc<Turns>,
        log: Rc<RefCell<Vec<&'static str>>>,
        key: &'static str,
        name: &'static str,
        release: gate::Receiver<()>,
    ) {
        let _turn = turns.wait(key).await;
        let _ = release.await;
        log.borrow_mut().push(name);
    }

    #[test]
    fn a_sockets_frames_finish_in_arrival_order_while_other_sockets_run() {
        let turns = Rc::new(Turns::default());
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut pool = LocalPool::new();
        let (a1_go, a1) = gate::channel();
        let (a2_go, a2) = gate::channel();
        let (b1_go, b1) = gate::channel();
        for (key, name, release) in [("a", "a1", a1), ("a", "a2", a2), ("b", "b1", b1)] {
            pool.spawner()
                .spawn_local(frame(turns.clone(), log.clone(), key, name, release))
                .unwrap();
        }
        pool.run_until_stalled();
        // a2's gate answers first, and b1's: b1 is done, a2 still waits for a1.
        a2_go.send(()).unwrap();
        b1_go.send(()).unwrap();
        pool.run_until_stalled();
        assert_eq!(*log.borrow(), vec!["b1"]);
        a1_go.send(()).unwrap();
        pool.run_until_stalled();
        assert_eq!(*log.borrow(), vec!["b1", "a1", "a2"]);
        assert_eq!(turns.in_flight(), 0);
    }

    #[test]
    fn a_frame_that_fails_still_hands_on_its_turn() {
        let turns = Rc::new(Turns::default());
        let mut pool = LocalPool::new();
        let done = Rc::new(Cell::new(false));
        {
            let (turns, done) = (turns.clone(), done.clone());
            pool.spawner()
                .spawn_local(async move {
                    let first = turns.wait("a").await;
                    drop(first); // an early return drops the turn like this
                    let _second = turns.wait("a").await;
                    done.set(true);
                })
                .unwrap();
        }
        pool.run_until_stalled();
        assert!(done.get());
        assert_eq!(turns.in_flight(), 0);
    }
}
