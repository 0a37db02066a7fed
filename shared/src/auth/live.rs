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
use crate::ports::LiveHub;
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

/// A socket's lease of customer messages: charged at the tenant's gate in one check, spent
/// locally, so a busy conversation makes one gate call per lease rather than per message
/// (the gate call was a third of a message's CPU). Exact: every unit is charged before it is
/// used, so no limit is exceeded; unused units are refunded with the next lease. The size
/// follows the socket's pace: one for a quiet socket (a message, a check, as before), doubling
/// while leases run out early, the last lease's use when one expires. Kept in the socket's
/// memory only ([`LiveHub::set_volatile`]): units of a lease lost to hibernation or a closed
/// socket are not refunded (at most `MAX_LEASE - 1`, refilled by the limit's own period).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
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

impl MessageLease {
    /// The lease kept with socket `conn` (none yet: an empty one).
    pub fn of(hub: &dyn LiveHub, conn: &str) -> MessageLease {
        let mut lease = MessageLease::default();
        hub.inspect(conn, &mut |a| {
            if let Some(l) = a
                .get("lease")
                .and_then(|v| MessageLease::deserialize(v).ok())
            {
                lease = l;
            }
        });
        lease
    }

    /// Keeps the lease with socket `conn`, in memory.
    pub fn keep(&self, hub: &dyn LiveHub, conn: &str) {
        let mut value = Some(serde_json::to_value(self).unwrap_or_default());
        hub.update_volatile(conn, &mut |a| {
            if let Some(v) = value.take() {
                a["lease"] = v;
            }
        });
    }

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
}

/// Charges customer messages sent over a socket like the HTTP requests they replace (each can
/// trigger an AI answer): the tenant's anonymous quota, the customer's and the address's
/// buckets. `lease` asks for several at once (the conversation spends them locally, see
/// `objects::admit_frame`), `refund` gives back an earlier lease's unused ones. A stale answer
/// means the tenant changed; the caller re-checks the grant first.
pub async fn charge_message(
    p: &Platform,
    grant: &Grant,
    lease: u32,
    refund: u32,
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
    };
    gate::call_check(p, &grant.tenant_id, &req).await
}
