//! The generated TypeScript client (clients/typescript), compiled by `scripts/gen-clients`,
//! exercised against the real runtime: typed calls across tenants, knowledge, conversations and
//! the error envelope.

use prism_e2e::{repo_root, Edge, ADMIN_SECRET};
use std::process::Command;

#[test]
fn the_typescript_client_works_against_the_runtime() {
    let edge = Edge::shared();
    let root = repo_root();
    let smoke = root.join("clients/typescript/dist/test/smoke.js");
    if !smoke.exists() {
        let tsc = Command::new("npx")
            .args(["tsc", "-p", "clients/typescript"])
            .current_dir(&root)
            .status()
            .expect("npx tsc");
        assert!(tsc.success(), "the client does not compile");
    }
    let out = Command::new("node")
        .arg(&smoke)
        .arg(&edge.base)
        .arg(ADMIN_SECRET)
        .output()
        .expect("node");
    prism_e2e::succeeded(&out, "the SDK smoke test failed");
    assert!(String::from_utf8_lossy(&out.stdout).contains("sdk smoke: ok"));
}
