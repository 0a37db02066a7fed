//! A circuit breaker per provider endpoint, in isolate memory: after repeated failures a
//! provider is skipped for a cool-down instead of making every customer wait for its timeout;
//! then one trial request decides whether it is back.

use std::cell::RefCell;
use std::collections::HashMap;

pub const FAILURES_TO_OPEN: u32 = 3;
pub const COOL_DOWN_MS: i64 = 30_000;

#[derive(Default)]
pub struct Breakers {
    state: RefCell<HashMap<String, (u32, i64)>>,
}

impl Breakers {
    /// Whether a call may go to this provider now.
    pub fn allows(&self, key: &str, now: i64) -> bool {
        match self.state.borrow().get(key) {
            Some((failures, open_until)) if *failures >= FAILURES_TO_OPEN => now >= *open_until,
            _ => true,
        }
    }

    pub fn success(&self, key: &str) {
        self.state.borrow_mut().remove(key);
    }

    pub fn failure(&self, key: &str, now: i64) {
        let mut s = self.state.borrow_mut();
        let e = s.entry(key.to_string()).or_insert((0, 0));
        e.0 += 1;
        if e.0 >= FAILURES_TO_OPEN {
            e.1 = now + COOL_DOWN_MS;
        }
    }
}

thread_local! {
    static BREAKERS: Breakers = Breakers::default();
}

/// The breakers of this isolate.
pub fn with<T>(f: impl FnOnce(&Breakers) -> T) -> T {
    BREAKERS.with(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_repeated_failures_and_half_opens_after_the_cool_down() {
        let b = Breakers::default();
        for _ in 0..FAILURES_TO_OPEN {
            assert!(b.allows("g", 0));
            b.failure("g", 0);
        }
        assert!(!b.allows("g", 1_000));
        assert!(b.allows("g", COOL_DOWN_MS), "trial after the cool-down");
        b.failure("g", COOL_DOWN_MS);
        assert!(
            !b.allows("g", COOL_DOWN_MS + 1),
            "a failed trial re-opens it"
        );
        b.success("g");
        assert!(b.allows("g", COOL_DOWN_MS + 1));
    }
}
