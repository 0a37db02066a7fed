//! Tenants (the businesses using the platform): their tier, status, typed configuration and
//! feature flags. Every tenant-owned table is keyed by `tenant_id`; this module and its
//! siblings are the only places that read or write them.

pub mod config;
pub mod flags;
pub mod quotas;
pub mod secrets;
pub mod store;
pub mod tier;

pub use config::TenantConfig;
pub use store::Tenant;
pub use tier::{TenantStatus, Tier};
