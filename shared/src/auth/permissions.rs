//! Who may call what: one table from permission to the roles and key scopes that grant it,
//! enforced by the gateway before any handler runs. Handlers only check what creates authority
//! (`Principal::role_ceiling`, `Principal::holds_scopes`), never access itself.

use crate::users::Role;

/// How a route is authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health, OpenAPI, invitation redemption).
    Public,
    /// Authenticated by the handler itself (webhooks sign their raw bodies; conversation
    /// tokens).
    SelfAuthenticated,
    /// The platform admin secret.
    Platform,
    /// A tenant credential holding this permission.
    Tenant(Permission),
    /// One conversation: its customer's conversation token, or a tenant credential holding this
    /// permission. The route's `{conversation_id}` must be the token's conversation.
    Conversation(Permission),
    /// One conversation's own customer only (their conversation token): things only the
    /// customer can say, like how they rate an answer.
    Customer,
}

/// Tenant-scoped permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Start a widget session or conversation (public widget keys may).
    WidgetSession,
    TenantRead,
    ConfigWrite,
    FlagsWrite,
    KeysManage,
    UsersRead,
    UsersManage,
    AuditRead,
    UsageRead,
    /// Exchange a secret key for an agent's JWT.
    TokenIssue,
    ConversationsRead,
    ConversationsWrite,
    KnowledgeRead,
    KnowledgeWrite,
    AnalyticsRead,
    /// Export or erase everything held about a customer: the whole history in one document, or
    /// gone for good. Admins, and keys that carry `privacy:manage`, not every agent.
    PrivacyManage,
    /// Review conversations against the scorecards and work the review queue.
    ReviewsWrite,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::WidgetSession,
        Permission::TenantRead,
        Permission::ConfigWrite,
        Permission::FlagsWrite,
        Permission::KeysManage,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::AuditRead,
        Permission::UsageRead,
        Permission::TokenIssue,
        Permission::ConversationsRead,
        Permission::ConversationsWrite,
        Permission::KnowledgeRead,
        Permission::KnowledgeWrite,
        Permission::AnalyticsRead,
        Permission::PrivacyManage,
        Permission::ReviewsWrite,
    ];

    /// The secret-key scope that grants this permission (`admin` grants all of them).
    pub fn scope(self) -> &'static str {
        match self {
            Permission::WidgetSession => "widget",
            Permission::TenantRead => "tenant:read",
            Permission::ConfigWrite => "config:write",
            Permission::FlagsWrite => "flags:write",
            Permission::KeysManage => "keys:manage",
            Permission::UsersRead => "users:read",
            Permission::UsersManage => "users:manage",
            Permission::AuditRead => "audit:read",
            Permission::UsageRead => "usage:read",
            Permission::TokenIssue => "auth:token",
            Permission::ConversationsRead => "conversations:read",
            Permission::ConversationsWrite => "conversations:write",
            Permission::KnowledgeRead => "knowledge:read",
            Permission::KnowledgeWrite => "knowledge:write",
            Permission::AnalyticsRead => "analytics:read",
            Permission::PrivacyManage => "privacy:manage",
            Permission::ReviewsWrite => "reviews:write",
        }
    }

    /// Public widget keys only start sessions and talk as the customer.
    pub fn allowed_for_public_key(self) -> bool {
        matches!(self, Permission::WidgetSession)
    }

    /// The least role that holds this permission (roles are ordered viewer < agent < reviewer <
    /// admin < owner).
    pub fn min_role(self) -> Role {
        match self {
            Permission::WidgetSession
            | Permission::TenantRead
            | Permission::UsersRead
            | Permission::ConversationsRead
            | Permission::KnowledgeRead
            | Permission::AnalyticsRead => Role::Viewer,
            Permission::ConversationsWrite => Role::Agent,
            Permission::ReviewsWrite => Role::Reviewer,
            Permission::ConfigWrite
            | Permission::FlagsWrite
            | Permission::UsersManage
            | Permission::AuditRead
            | Permission::UsageRead
            | Permission::KnowledgeWrite
            | Permission::PrivacyManage => Role::Admin,
            // Keys and token issuance are server-side secrets: owners only (and secret keys).
            Permission::KeysManage | Permission::TokenIssue => Role::Owner,
        }
    }

    pub fn granted_to_role(self, role: Role) -> bool {
        role >= self.min_role()
    }

    pub fn granted_by_scopes(self, scopes: &[String]) -> bool {
        scopes.iter().any(|s| s == "admin" || s == self.scope())
    }
}

/// Every scope a secret key may carry.
pub fn known_scopes() -> Vec<&'static str> {
    let mut v: Vec<&str> = Permission::ALL.iter().map(|p| p.scope()).collect();
    v.push("admin");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        assert!(Permission::ConversationsWrite.granted_to_role(Role::Agent));
        assert!(!Permission::ConversationsWrite.granted_to_role(Role::Viewer));
        assert!(!Permission::ConfigWrite.granted_to_role(Role::Agent));
        assert!(Permission::ConfigWrite.granted_to_role(Role::Admin));
        assert!(!Permission::KeysManage.granted_to_role(Role::Admin));
        assert!(Permission::KeysManage.granted_to_role(Role::Owner));
    }

    #[test]
    fn scopes() {
        let s = vec!["conversations:read".to_string()];
        assert!(Permission::ConversationsRead.granted_by_scopes(&s));
        assert!(!Permission::ConversationsWrite.granted_by_scopes(&s));
        assert!(Permission::KeysManage.granted_by_scopes(&["admin".to_string()]));
        assert!(Permission::WidgetSession.allowed_for_public_key());
        assert!(!Permission::TenantRead.allowed_for_public_key());
    }
}
