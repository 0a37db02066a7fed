//! A tenant's people: agents and admins who work the inbox, and their invitations.

pub mod invitations;
pub mod store;

pub use store::{Role, User, UserStatus};
