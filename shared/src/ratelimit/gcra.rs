//! The Generic Cell Rate Algorithm. A bucket allowing `count` requests per `period` keeps one
//! number, the theoretical arrival time (TAT). Each request advances it by the emission
//! interval `period / count`; a request is allowed while the TAT stays within one `period` of
//! now. That admits a burst of `count` and then a steady `count` per `period`: a sliding window
//! without per-request storage, and exact because the caller serialises decisions (the gate
//! object is single-threaded).

use super::Limit;

/// One bucket's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Theoretical arrival time in ms; `0` for a fresh bucket.
    pub tat: i64,
}

/// The outcome of checking one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests still allowed right now after this one.
    pub remaining: u32,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: i64,
    /// When denied: milliseconds until one request would be allowed.
    pub retry_after_ms: i64,
    /// The bucket's state if this request is admitted.
    pub next: Bucket,
}

/// The emission interval of a limit (ms per request; at least 1 ms so huge counts over short
/// periods stay sane).
pub fn interval(limit: Limit) -> i64 {
    (limit.period_ms.max(1) / limit.count.max(1) as i64).max(1)
}

/// A bucket kept under one limit, carried over to another (a tier change): what was used in
/// the current window counts against the new limit, capped at one full window of the new
/// limit. So a Free tenant at its limit that upgrades to Pro can use Pro's remaining allowance
/// at once, and a downgraded tenant waits at most for the next slot, not for its old usage to
/// drain at the new rate.
pub fn rescale(bucket: Bucket, from_interval: i64, to: Limit, now: i64) -> Bucket {
    let backlog = (bucket.tat - now).max(0);
    if backlog == 0 || from_interval <= 0 {
        return bucket;
    }
    let used = (backlog + from_interval - 1) / from_interval;
    let used = used.min(to.count.max(1) as i64);
    Bucket {
        tat: now + used * interval(to),
    }
}

/// Decides one request of weight `cost` against `bucket` at `now`.
pub fn check(bucket: Bucket, limit: Limit, now: i64, cost: u32) -> Decision {
    let count = limit.count.max(1) as i64;
    let period = limit.period_ms.max(1);
    let interval = interval(limit);
    let tat = bucket.tat.max(now);
    let new_tat = tat + interval * cost as i64;
    let allow_at = new_tat - period;
    if allow_at <= now {
        let used = new_tat - now;
        Decision {
            allowed: true,
            limit: limit.count,
            remaining: ((period - used) / interval).clamp(0, count) as u32,
            reset_ms: used,
            retry_after_ms: 0,
            next: Bucket { tat: new_tat },
        }
    } else {
        let used = tat - now;
        Decision {
            allowed: false,
            limit: limit.count,
            remaining: 0,
            reset_ms: used,
            retry_after_ms: allow_at - now,
            next: bucket,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(limit: Limit, times: &[i64]) -> Vec<bool> {
        let mut b = Bucket { tat: 0 };
        times
            .iter()
            .map(|&t| {
                let d = check(b, limit, t, 1);
                if d.allowed {
                    b = d.next;
                }
                d.allowed
            })
            .collect()
    }

    #[test]
    fn admits_exactly_count_in_a_burst() {
        let l = Limit {
            count: 100,
            period_ms: 3_600_000,
        };
        let now = 1_000_000;
        let results = run(l, &vec![now; 101]);
        assert_eq!(results.iter().filter(|a| **a).count(), 100);
        assert!(!results[100]);
    }

    #[test]
    fn recovers_one_request_per_interval_and_fully_after_a_period() {
        let l = Limit {
            count: 5,
            period_ms: 5_000,
        };
        let mut b = Bucket { tat: 0 };
        let t0 = 10_000;
        for _ in 0..5 {
            b = check(b, l, t0, 1).next;
        }
        let denied = check(b, l, t0, 1);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after_ms, 1_000);
        assert!(!check(b, l, t0 + 999, 1).allowed);
        let d = check(b, l, t0 + 1_000, 1);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        let d = check(b, l, t0 + 5_000, 1);
        assert!(d.allowed);
        assert_eq!(d.remaining, 4);
    }

    #[test]
    fn remaining_and_reset_count_down() {
        let l = Limit {
            count: 3,
            period_ms: 3_000,
        };
        let mut b = Bucket { tat: 0 };
        let mut rem = vec![];
        for _ in 0..3 {
            let d = check(b, l, 0, 1);
            rem.push((d.remaining, d.reset_ms));
            b = d.next;
        }
        assert_eq!(rem, vec![(2, 1_000), (1, 2_000), (0, 3_000)]);
    }

    #[test]
    fn degenerate_limits_do_not_panic() {
        for l in [
            Limit {
                count: 0,
                period_ms: 0,
            },
            Limit {
                count: u32::MAX,
                period_ms: 1,
            },
        ] {
            let _ = check(Bucket { tat: i64::MAX / 4 }, l, 0, 1);
            let _ = check(Bucket { tat: 0 }, l, i64::MAX / 4, 1);
        }
    }
}
