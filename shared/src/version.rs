//! Build identity reported by `/health` and `/v1/meta`.

/// The crate version, which is the platform version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Version of the public HTTP API; bumped only for breaking changes.
pub const API_VERSION: &str = "v1";

/// The git commit the binary was built from, when the build script knew it
/// (`PRISM_GIT_COMMIT` at compile time).
pub fn git_commit() -> Option<&'static str> {
    option_env!("PRISM_GIT_COMMIT").filter(|c| !c.is_empty())
}
