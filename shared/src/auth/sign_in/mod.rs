//! Agents and admins sign themselves in to the console: by a one-time link sent to their email
//! ([`magic_link`]) or through the tenant's identity provider ([`oidc`], OpenID Connect with
//! PKCE). Either way a [`sessions`] session starts, whose refresh token lives in an HttpOnly
//! cookie and whose access tokens are the same short-lived JWTs the API already accepts.
//! Tenants choose the methods and which email domains may join without an invitation.

pub mod magic_link;
pub mod oidc;

pub mod sessions;

use crate::error::{ApiError, ApiResult};
use crate::users::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a tenant's people sign in (part of the tenant config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SignInConfig {
    /// One-time sign-in links by email (needs an email sender: the tenant's email channel or
    /// the platform's).
    pub magic_link: bool,
    /// Single sign-on through the tenant's OpenID Connect provider.
    pub oidc: Option<OidcConfig>,
    /// Email domains whose people may join by signing in, without an invitation (e.g.
    /// `shop.example`). Empty: invitations only.
    pub join_domains: Vec<String>,
    /// The role people who join by domain get: `agent` or `viewer`.
    pub join_role: Role,
}

impl Default for SignInConfig {
    fn default() -> Self {
        SignInConfig {
            magic_link: true,
            oidc: None,
            join_domains: Vec::new(),
            join_role: Role::Agent,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL; `/.well-known/openid-configuration` is read from it.
    pub issuer: String,
    pub client_id: String,
    /// The tenant secret holding the client secret (`PUT /v1/tenant/secrets/{name}`).
    #[serde(default = "default_client_secret")]
    pub client_secret_secret: String,
    /// The sign-in button's label (e.g. "Sign in with Okta").
    #[serde(default)]
    pub label: Option<String>,
}

fn default_client_secret() -> String {
    "oidc_client_secret".into()
}

impl SignInConfig {
    pub fn validate(&self) -> ApiResult<()> {
        if self.join_domains.len() > 20 {
            return Err(ApiError::validation(
                "sign_in.join_domains",
                "at most 20 domains",
            ));
        }
        for (i, d) in self.join_domains.iter().enumerate() {
            let ok = d.len() <= 253
                && d.contains('.')
                && d.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
            if !ok {
                return Err(ApiError::validation(
                    format!("sign_in.join_domains[{i}]"),
                    "a lower-case domain such as shop.example",
                ));
            }
        }
        if !matches!(self.join_role, Role::Agent | Role::Viewer) {
            return Err(ApiError::validation(
                "sign_in.join_role",
                "people joining by domain become agents or viewers",
            ));
        }
        if let Some(o) = &self.oidc {
            if url::Url::parse(&o.issuer).is_err() {
                return Err(ApiError::validation("sign_in.oidc.issuer", "not a URL"));
            }
            crate::input::check::text("sign_in.oidc.client_id", &o.client_id, 1, 200)?;
            crate::input::check::text(
                "sign_in.oidc.client_secret_secret",
                &o.client_secret_secret,
                1,
                64,
            )?;
            if let Some(l) = &o.label {
                crate::input::check::text("sign_in.oidc.label", l, 1, 60)?;
            }
        }
        Ok(())
    }

    /// Whether someone with this (normalised) address may join without an invitation.
    pub fn may_join(&self, email: &str) -> bool {
        email
            .rsplit_once('@')
            .is_some_and(|(_, domain)| self.join_domains.iter().any(|d| d == domain))
    }
}
