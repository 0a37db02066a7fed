//! Authentication and authorisation: who is calling (a tenant's API key, an agent's JWT, the
//! platform admin) and whether that caller may use a route. The gateway runs this once per
//! request, from the route table's [`Access`] policy; handlers receive a [`Principal`].

pub mod api_keys;
pub mod credentials;
pub mod gateway;
pub mod identity;
pub mod jwt;
pub mod live;
pub mod permissions;
pub mod sign_in;

pub use permissions::{Access, Permission};

use crate::conversations::Participant;
use crate::ratelimit::{LimitOverrides, RateLimits};
use crate::tenancy::{TenantStatus, Tier};
use crate::users::Role;
use api_keys::KeyKind;
use serde::{Deserialize, Serialize};

/// What the gateway needs to know about a tenant on every request (cached with credentials).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantAuth {
    pub id: String,
    pub slug: String,
    pub tier: Tier,
    pub status: TenantStatus,
    pub limits: Option<LimitOverrides>,
    pub version: i64,
    pub allowed_origins: Vec<String>,
}

impl TenantAuth {
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits::for_tier(self.tier, self.limits.as_ref())
    }

    /// Whether a browser page on `origin` may use this tenant's widget: its key, its
    /// customers' conversation tokens, and the preflights for both.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq)]
pub enum Actor {
    Key {
        key_id: String,
        prefix: String,
        kind: KeyKind,
        scopes: Vec<String>,
    },
    User {
        user_id: String,
        name: String,
        role: Role,
    },
    /// A customer holding a conversation token: confined to that one conversation.
    Customer {
        customer_id: String,
        name: String,
        conversation_id: String,
    },
}

/// A tenant-scoped caller: every query a handler runs is filtered by `tenant.id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub tenant: TenantAuth,
    pub actor: Actor,
    /// When the presented credential expires (tokens); `None` for API keys. Live connections
    /// are closed at this time.
    pub expires_at: Option<i64>,
    /// The console session an agent token belongs to (signed-in agents); its revocation ends
    /// the token and the sockets it opened.
    pub session_id: Option<String>,
}

impl Principal {
    pub fn tenant_id(&self) -> &str {
        &self.tenant.id
    }

    /// `(actor_type, actor_id)` for audit rows and logs; never a secret.
    pub fn actor_ref(&self) -> (&'static str, String) {
        match &self.actor {
            Actor::Key { key_id, .. } => ("api_key", key_id.clone()),
            Actor::User { user_id, .. } => ("user", user_id.clone()),
            Actor::Customer { customer_id, .. } => ("customer", customer_id.clone()),
        }
    }

    /// The id to log: the key's public prefix, the user id or the customer id.
    pub fn log_id(&self) -> String {
        match &self.actor {
            Actor::Key { prefix, .. } => prefix.clone(),
            Actor::User { user_id, .. } => user_id.clone(),
            Actor::Customer { customer_id, .. } => customer_id.clone(),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// How this caller appears in a conversation.
    pub fn participant(&self) -> Participant {
        match &self.actor {
            Actor::Customer {
                customer_id, name, ..
            } => Participant::Customer {
                id: customer_id.clone(),
                name: name.clone(),
            },
            Actor::User { user_id, name, .. } => Participant::Agent {
                id: user_id.clone(),
                name: name.clone(),
            },
            Actor::Key { prefix, .. } => Participant::System { id: prefix.clone() },
        }
    }

    pub fn is_customer(&self) -> bool {
        matches!(self.actor, Actor::Customer { .. })
    }

    /// Whether this caller holds `perm` (by role, by scope, or as a public widget key).
    pub fn holds(&self, perm: Permission) -> bool {
        match &self.actor {
            Actor::User { role, .. } => perm.granted_to_role(*role),
            Actor::Key {
                kind: KeyKind::Secret,
                scopes,
                ..
            } => perm.granted_by_scopes(scopes),
            Actor::Key { .. } => perm.allowed_for_public_key(),
            Actor::Customer { .. } => false,
        }
    }

    /// The highest role this caller may grant, assign, invite or mint a token for: a user's own
    /// role; for a secret key, the highest role all of whose permissions its scopes hold (so a
    /// key holding only `users:manage` or `auth:token` can never create or become an owner).
    /// `None` when the caller holds not even a viewer's permissions.
    pub fn role_ceiling(&self) -> Option<Role> {
        if let Actor::User { role, .. } = &self.actor {
            return Some(*role);
        }
        [
            Role::Owner,
            Role::Admin,
            Role::Reviewer,
            Role::Agent,
            Role::Viewer,
        ]
        .into_iter()
        .find(|r| {
            Permission::ALL
                .iter()
                .filter(|p| p.granted_to_role(*r))
                .all(|p| self.holds(*p))
        })
    }

    /// Whether this caller holds every scope in `scopes` (`admin` means every permission):
    /// a key may only create keys, or revoke keys, within its own authority.
    pub fn holds_scopes(&self, scopes: &[String]) -> bool {
        scopes.iter().all(|s| {
            if s == "admin" {
                Permission::ALL.iter().all(|p| self.holds(*p))
            } else {
                Permission::ALL
                    .iter()
                    .find(|p| p.scope() == s)
                    .is_some_and(|p| self.holds(*p))
            }
        })
    }

    /// A caller the widget speaks for (its public key or a customer's conversation token):
    /// browser pages on the tenant's allowed origins, answered with CORS headers.
    pub fn is_widget_caller(&self) -> bool {
        self.is_public_key() || matches!(self.actor, Actor::Customer { .. })
    }

    pub fn is_public_key(&self) -> bool {
        matches!(
            &self.actor,
            Actor::Key {
                kind: KeyKind::Public,
                ..
            }
        )
    }
}
