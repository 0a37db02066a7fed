//! End-to-end fixture: starts the real local runtimes once per test binary and hands tests a
//! base URL and clients. Tests talk HTTP and WebSocket only, like any client would.
//!
//! - [`Edge`]: the Cloudflare worker in workerd via `wrangler dev`, with a throwaway state dir
//!   (real D1, KV and Durable Objects), migrations applied first.
//! - [`SpinServe`]: the storage-free Spin component under `wasmtime serve`.
//! - [`DevCommand`]: the README's `scripts/dev`, whole (demo tenant, tenant site, mail catcher).
//!
//! Processes run in their own process group with a watchdog that kills the group when the test
//! process exits, so a failing or aborted test never leaves a runtime behind.

pub mod api;
pub mod crm;
pub mod fake_server;
pub mod fakes;
pub mod idp;
pub mod inspector;
mod process;
pub mod providers;
pub mod sse;
pub mod ws;

pub use process::{deploy_dry_run, DevCommand, Edge, EdgeOptions, SpinServe, Wrangler};

use std::path::PathBuf;

/// Secrets the fixture starts the edge runtime with (test-only values).
pub const ADMIN_SECRET: &str = "e2e-platform-admin-secret-0123456789";
pub const JWT_KEYS: &str = "e2e1:e2e-jwt-signing-secret-0123456789abcdef";
pub const MASTER_KEYS: &str = "e2e1:ZTJlLW1hc3Rlci1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=";

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The output of a tool the tests ran, stdout then stderr, after asserting it succeeded (the
/// failure message is that output, headed by `what`).
pub fn succeeded(out: &std::process::Output, what: &str) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what}:\n{text}");
    text
}

/// A reqwest client that never follows redirects and has sane timeouts.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("http client")
}
