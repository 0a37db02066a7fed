//! Credentials of long-lived connections. A WebSocket is authenticated once, at the upgrade,
//! and may then stay open for hours — hibernated, with no request that would pass the gateway
//! again. So the edge hands the object a [`Grant`] describing what admitted the socket, the
//! object keeps it in the socket's attachment, and re-checks it: when the credential expires,
//! and at most [`recheck_ms`] after the last check (on the next frame, or from an alarm while
//! the socket is idle). A revoked key, a deactivated or demoted agent, a suspended tenant or an
//! expired token closes the socket with a close code that says why.
//!
//! Re-checking is cheap while nothing changed: one call to the tenant's gate for its current
//! version. Only when the version moved are the credential's records read again.

use super::{credentials, Actor, Permission, Principal};
use crate::error::ApiResult;
use crate::objects::gate::{self, CheckRequest, CheckResponse, MAX_LEASE};
use crate::platform::Platform;
use serde::{Deserialize, Serialize};

/// Close codes (the 4000-4999 range is the application's, RFC 6455 §7.4.2).
pub mod close {
    /// The token expired: reconnect with a fresh one.
    pub const EXPIRED: u16 = 4001;
    /// The credential was revoked, the user deactivated or demoted, or the tenant suspended.
    pub const REVOKED: u16 = 4003;
}

/// Default interval between re-checks of an idle socket's credential.
pub const RECHECK_MS: i64 = 60_000;

/// The interval in force (`LIVE_RECHECK_MS` shortens it for end-to-end tests).
pub fn recheck_ms(p: &Platform) -> i64 {
    p.config
        .get("live_recheck_ms")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| (500..=RECHECK_MS).contains(v))
        .unwrap_or(RECHECK_MS)
}

/// Who holds the socket, as far as re-checking needs to know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    Key {
        prefix: String,
    },
    User {
        user_id: String,
        /// The console session the token came from: signing it out closes the socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
    },
    Customer {
        customer_id: String,
    },
}

/// What admitted a live connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub tenant_id: String,
    pub holder: Holder,
    /// The permission the route required (its scope string).
    pub scope: String,
    /// The tenant version the credential was last verified at.
    pub version: i64,
    /// When the credential expires (ms); `None` for API keys.
    pub expires_at: Option<i64>,
    /// When it was last verified (ms).
    pub checked_at: i64,
    /// The visitor's address (customers), for charging their frames.
    #[serde(default)]
    pub ip: Option<String>,
}

/// What a re-check decided.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Still valid (with the version and time it was verified at).
    Valid(Grant),
    /// Close the socket with this code and reason.
    Close(u16, &'static str),
}

impl Grant {
    /// The grant for a connection admitted as `principal` to a route needing `perm`.
    pub fn new(principal: &Principal, perm: Permission, ip: Option<String>, now: i64) -> Grant {
        let holder = match &principal.actor {
            Actor::Key { prefix, .. } => Holder::Key {
                prefix: prefix.clone(),
            },
            Actor::User { user_id, .. } => Holder::User {
                user_id: user_id.clone(),
                session: principal.session_id.clone(),
            },
            Actor::Customer { customer_id, .. } => Holder::Customer {
                customer_id: customer_id.clone(),
            },
        };
        Grant {
            tenant_id: principal.tenant.id.clone(),
            holder,
            scope: perm.scope().to_string(),
            version: principal.tenant.version,
            expires_at: principal.expires_at,
            checked_at: now,
            ip,
        }
    }

    /// When this grant must next be looked at: its expiry or the next periodic check.
    pub fn due_at(&self, recheck_ms: i64) -> i64 {
        let next = self.checked_at.saturating_add(recheck_ms);
        self.expires_at.map_or(next, |e| e.min(next))
    }

    pub fn is_customer(&self) -> bool {
        matches!(self.holder, Holder::Customer { .. })
    }
}

/// The tenant's current version, from its gate.
pub async fn current_version(p: &Platform, tenant_id: &str) -> ApiResult<i64> {
    gate::call_observe(p, tenant_id, 0).await
}

/// Re-checks `grant` against the tenant's version `current` (from [`current_version`]).
pub async fn recheck(p: &Platform, grant: &Grant, current: i64, now: i64) -> ApiResult<Verdict> {
    if grant.expires_at.is_some_and(|e| e <= now) {
        return Ok(Verdict::Close(close::EXPIRED, "credential expired"));
    }
    if current <= grant.version {
        return Ok(Verdict::Valid(Grant {
            checked_at: now,
            ..grant.clone()
        }));
    }
    let perm = Permission::ALL
        .iter()
        .copied()
        .find(|p| p.scope() == grant.scope)
        .unwrap_or(Permission::KeysManage);
    let tenant = match &grant.holder {
        Holder::Key { prefix } => {
            let rec = credentials::key_record(p, prefix, true).await?;
            match rec {
                Some(r)
                    if r.key.revoked_at.is_none()
                        && r.tenant.id == grant.tenant_id
                        && (r.key.kind == super::api_keys::KeyKind::Public
                            || perm.granted_by_scopes(&r.key.scopes)) =>
                {
                    r.tenant
                }
                _ => return Ok(Verdict::Close(close::REVOKED, "credential revoked")),
            }
        }
        Holder::User { user_id, session } => {
            match credentials::user_record(p, &grant.tenant_id, user_id, true).await? {
                Some(r)
                    if r.status == crate::users::UserStatus::Active
                        && perm.granted_to_role(r.role)
                        && !session
                            .as_ref()
                            .is_some_and(|s| r.revoked_sessions.contains(s)) =>
                {
                    r.tenant
                }
                _ => {
                    return Ok(Verdict::Close(
                        close::REVOKED,
                        "user deactivated or role changed",
                    ))
                }
            }
        }
        Holder::Customer { .. } => {
            match credentials::tenant_record(p, &grant.tenant_id, true).await? {
                Some(t) => t,
                None => return Ok(Verdict::Close(close::REVOKED, "tenant removed")),
            }
        }
    };
    if !credentials::tenant_active(&tenant) {
        return Ok(Verdict::Close(close::REVOKED, "tenant suspended"));
    }
    Ok(Verdict::Valid(Grant {
        version: tenant.version.max(current),
        checked_at: now,
        ..grant.clone()
    }))
}

/// How long a lease of customer messages may be spent: a tenant change (suspension, new
/// limits) reaches a busy socket at the latest this long after it, as the next lease asks the
/// gate again.
pub const LEASE_MS: i64 = 1_000;

/// A lease of customer messages: charged at the tenant's gate in one check, spent locally, so
/// a busy conversation makes one gate call per lease rather than per message (the gate call was
/// a third of a message's CPU). Exact: every unit is charged before it is used, so no limit is
/// exceeded; unused units are refunded with the next lease. The size follows the pace of use:
/// one for a quiet customer (a message, a check, as before), doubling while leases run out
/// early, the last lease's use when one expires. Kept in the object's memory ([`Leases`]):
/// units of a lease lost to hibernation are not refunded (fewer than `2 * MAX_LEASE` with a
/// top-up, refilled by the limit's own period).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MessageLease {
    /// Units charged and not yet used.
    left: u32,
    /// Units used from the current lease.
    used: u32,
    /// The current lease's size.
    size: u32,
    /// When the current lease stops being spendable (ms since the epoch).
    until: i64,
}

/// A conversation object's leases, one per thing the gate charges — the customer and their
/// address ([`Leases::key`]) — not per socket: a customer's tabs (or a benchmark's fifty
/// sockets on one token) draw on one lease, so the gate sees one call per lease however many
/// sockets share it.
#[derive(Default)]
pub struct Leases {
    kept: std::cell::RefCell<std::collections::HashMap<String, MessageLease>>,
    /// Leases with a top-up claimed or in flight (one at a time per lease).
    topping: std::cell::RefCell<std::collections::HashSet<String>>,
    /// Top-ups claimed and not yet started: `(key, grant to charge)`.
    due: std::cell::RefCell<Vec<(String, Grant)>>,
}

/// Messages a lease must have served in its window before it is renewed ahead of its expiry
/// ([`MessageLease::expiring`]): three in a second is a burst or a script, not a person typing.
const RENEW_AFTER_USES: u32 = 3;

/// Leases kept before expired ones are dropped (an object rarely serves more customers).
const KEPT_LEASES: usize = 64;

impl Leases {
    /// What a customer's frames are charged to (`None`: not a customer, not charged).
    pub fn key(grant: &Grant) -> Option<String> {
        match &grant.holder {
            Holder::Customer { customer_id } => Some(format!(
                "{}\u{0}{}\u{0}{}",
                grant.tenant_id,
                customer_id,
                grant.ip.as_deref().unwrap_or("")
            )),
            _ => None,
        }
    }

    /// The lease kept under `key` (none yet: an empty one).
    pub fn get(&self, key: &str) -> MessageLease {
        self.kept.borrow().get(key).copied().unwrap_or_default()
    }

    /// Keeps `lease` under `key`; past `KEPT_LEASES`, expired leases are forgotten.
    pub fn put(&self, key: &str, lease: MessageLease, now: i64) {
        let mut map = self.kept.borrow_mut();
        if map.len() >= KEPT_LEASES && !map.contains_key(key) {
            map.retain(|_, l| now < l.until);
        }
        map.insert(key.to_string(), lease);
    }

    /// Claims the top-up of lease `key`, charged to `grant`, unless one is already claimed or
    /// in flight (one at a time per lease).
    pub fn claim_top_up(&self, key: &str, grant: &Grant) {
        if self.topping.borrow_mut().insert(key.to_string()) {
            self.due.borrow_mut().push((key.to_string(), grant.clone()));
        }
    }

    /// The next claimed top-up to run.
    pub fn next_top_up(&self) -> Option<(String, Grant)> {
        self.due.borrow_mut().pop()
    }

    /// The top-up of lease `key` is over (a new one may be claimed).
    pub fn top_up_done(&self, key: &str) {
        self.topping.borrow_mut().remove(key);
    }
}

impl MessageLease {
    /// Spends one unit if the lease has one and is still current.
    pub fn take(&mut self, now: i64) -> bool {
        if self.left > 0 && now < self.until {
            self.left -= 1;
            self.used += 1;
            true
        } else {
            false
        }
    }

    /// What to ask the gate for next: `(lease, refund)`.
    pub fn next_request(&self, now: i64) -> (u32, u32) {
        let want = if self.size == 0 {
            1
        } else if self.left == 0 && now < self.until {
            (self.size * 2).min(MAX_LEASE)
        } else {
            self.used.max(1)
        };
        (want, self.left)
    }

    /// Records the gate's answer: `granted` units, one of which this message uses.
    pub fn granted(&mut self, now: i64, granted: u32) {
        *self = match granted {
            0 => MessageLease::default(),
            n => MessageLease {
                left: n - 1,
                used: 1,
                size: n,
                until: now + LEASE_MS,
            },
        };
    }

    /// How long the current lease has been spendable (at least 1 ms): the pace of its use is
    /// `used` over this.
    fn elapsed(&self, now: i64) -> i64 {
        (now - (self.until - LEASE_MS)).max(1)
    }

    /// Whether to ask for more now ([`Leases::claim_top_up`]), after the claiming message is
    /// stored, so the messages after it do not queue behind a gate call: a large lease that
    /// will run out before it expires (`Self::running_out`), or a lease in steady use that
    /// expires before its next use or the one after (`Self::expiring`).
    pub fn low(&self, now: i64) -> bool {
        self.running_out(now) || self.expiring(now)
    }

    /// A large lease will run out before it expires at the pace it is being used, and half of
    /// it is gone. Only leases of at least half the cap: smaller ones are renewed when they
    /// expire ([`Self::expiring`]) or refilled when empty. A lease used once gives no pace yet.
    fn running_out(&self, now: i64) -> bool {
        let elapsed = self.elapsed(now);
        self.size >= MAX_LEASE / 2
            && self.used >= 2
            && now < self.until
            && self.left * 2 <= self.size
            && i64::from(self.used) * (self.until - now) >= i64::from(self.left) * elapsed
    }

    /// A lease used at a steady pace (at least [`RENEW_AFTER_USES`] messages in its window)
    /// expires within two of its gaps between messages. Without renewing it ahead, the first
    /// message after `until` waited for the gate: at 8 msgs/s on one lease, one message in
    /// eight (measured at 2 × 4 msgs/s: 33 of 160 messages over 4 ms; 9 with renewals). A renewal
    /// asks for what the pace will use ([`Self::top_up_request`]), so a steady lease still
    /// makes about one gate call per window; a person typing (a message or two a second)
    /// never reaches the pace and never renews.
    fn expiring(&self, now: i64) -> bool {
        let elapsed = self.elapsed(now);
        self.used >= RENEW_AFTER_USES
            && now < self.until
            && (self.until - now) * i64::from(self.used) < 2 * elapsed
    }

    /// How many units a top-up asks for: a lease running out, twice its size; one being
    /// renewed, what its pace will use in a window beyond what is left (at least one: the
    /// gate charges at least one unit per check); both up to the cap.
    pub fn top_up_request(&self, now: i64) -> u32 {
        if self.running_out(now) {
            return (self.size * 2).clamp(1, MAX_LEASE);
        }
        let elapsed = self.elapsed(now);
        let pace = i64::from(self.used) * LEASE_MS / elapsed;
        let want = (pace - i64::from(self.left)).clamp(1, i64::from(MAX_LEASE));
        u32::try_from(want).unwrap_or(1)
    }

    /// Adds a top-up's `granted` units; the lease is current again from `now`. Spending the
    /// earlier units later than their own window is safe: the gate just answered for the
    /// tenant's current state, which is what the window bounds.
    pub fn topped_up(&mut self, now: i64, granted: u32) {
        if granted > 0 {
            self.left += granted;
            self.size = self.left;
            self.used = 0;
            self.until = now + LEASE_MS;
        }
    }
}

/// Charges customer messages sent over a socket like the HTTP requests they replace (each can
/// trigger an AI answer): the tenant's anonymous quota, the customer's and the address's
/// buckets. `lease` asks for several at once (the conversation spends them locally, see
/// `objects::admit_frame`), `refund` gives back an earlier lease's unused ones, `ahead` marks a
/// top-up no message waits for (its refusal is not a denial). A stale answer means the tenant
/// changed; the caller re-checks the grant first.
pub async fn charge_message(
    p: &Platform,
    grant: &Grant,
    lease: u32,
    refund: u32,
    ahead: bool,
) -> ApiResult<CheckResponse> {
    let Holder::Customer { customer_id } = &grant.holder else {
        return Ok(CheckResponse {
            stale: false,
            allowed: true,
            version: grant.version,
            limit: 0,
            remaining: 0,
            reset_ms: 0,
            retry_after_ms: 0,
            granted: lease.max(1),
        });
    };
    let tenant = credentials::tenant_record(p, &grant.tenant_id, false)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found("tenant"))?;
    let ip = grant.ip.clone().unwrap_or_else(|| "unknown".into());
    let caller = super::gateway::Caller::Customer {
        customer_id,
        ip: &ip,
    };
    let req = CheckRequest {
        version: grant.version,
        day: crate::time::utc_day(p.now_ms()),
        buckets: super::gateway::buckets(&tenant.rate_limits(), &caller),
        lease,
        refund,
        ahead,
    };
    gate::call_check(p, &grant.tenant_id, &req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spends a lease at one message every `gap_ms` for `n` messages, the gate granting what is
    /// asked at once; returns (refills a message waited for, top-ups, units charged).
    fn spend(gap_ms: i64, n: usize) -> (u32, u32, u32) {
        let (mut lease, mut waited, mut top_ups, mut charged) = (MessageLease::default(), 0, 0, 0);
        let mut now = 1_000_000;
        for _ in 0..n {
            now += gap_ms;
            if !lease.take(now) {
                let (want, refund) = lease.next_request(now);
                charged = charged + want - refund;
                lease.granted(now, want);
                waited += 1;
            }
            if lease.low(now) {
                let want = lease.top_up_request(now);
                charged += want;
                lease.topped_up(now, want);
                top_ups += 1;
            }
        }
        (waited, top_ups, charged)
    }

    #[test]
    fn a_busy_lease_is_topped_up_before_messages_wait_for_the_gate() {
        // 100 messages a second on one lease (one customer's many sockets).
        let (waited, top_ups, charged) = spend(10, 1_000);
        assert!(waited <= 5, "{waited} messages waited for a refill");
        // Still about one gate call per lease of sixteen, and nothing used uncharged.
        assert!(waited + top_ups <= 80, "{} gate calls", waited + top_ups);
        assert!(charged >= 1_000);
    }

    #[test]
    fn a_person_typing_never_tops_up() {
        for gap in [500, 1_000, 5_000] {
            assert_eq!(spend(gap, 200).1, 0, "at one message every {gap} ms");
        }
    }

    #[test]
    fn a_steady_lease_is_renewed_before_it_expires_at_about_one_call_a_window() {
        // 8 and 5 msgs/s on one lease (the benchmark's two clients at 4 msgs/s each; the flood
        // limit of one socket): before renewals, at 8 msgs/s, 95 of these 800 messages waited
        // for the gate when the lease expired.
        for (gap, n) in [(125i64, 800usize), (200, 500)] {
            let (waited, top_ups, charged) = spend(gap, n);
            let seconds = gap * n as i64 / 1_000;
            assert!(
                waited <= 5,
                "at {gap} ms: {waited} messages waited for the gate"
            );
            let calls = i64::from(waited + top_ups);
            assert!(
                calls <= seconds * 3 / 2 + 5,
                "at {gap} ms: {calls} gate calls in {seconds} s"
            );
            // Everything used was charged first, and little more than that.
            assert!(
                charged as usize >= n,
                "at {gap} ms: {charged} charged for {n}"
            );
            assert!(
                charged as usize <= n + 2 * MAX_LEASE as usize,
                "at {gap} ms: {charged} charged for {n}"
            );
        }
    }
}
