//! What `wrangler deploy` would upload: the README tells developers to deploy with wrangler,
//! and Cloudflare refuses a worker over its plan's compressed size at upload time, long after
//! every local test passed. The lexicon and thesaurus grow the worker with each language and
//! word added, so the limit is checked here, on the real bundle wrangler builds.

use prism_e2e::deploy_dry_run;

/// Cloudflare's Workers Free plan limit on a worker's size after compression
/// (<https://developers.cloudflare.com/workers/platform/limits/#worker-size>): 3 MB. A
/// deployment on it must fit; the Paid plan allows 10 MB.
const FREE_PLAN_GZIP_BYTES: f64 = 3_000_000.0;

/// `Total Upload: 7801.29 KiB / gzip: 2606.99 KiB` → the two sizes in bytes.
fn upload_sizes(out: &str) -> Option<(f64, f64)> {
    let line = out.lines().find(|l| l.contains("Total Upload:"))?;
    let kib = |part: &str| -> Option<f64> {
        part.split_whitespace()
            .find_map(|w| w.parse::<f64>().ok())
            .map(|k| k * 1024.0)
    };
    let (raw, gzip) = line.split_once("gzip:")?;
    Some((kib(raw.split_once("Total Upload:")?.1)?, kib(gzip)?))
}

#[test]
fn the_worker_deploys_within_the_free_plan_and_with_every_binding() {
    let out = deploy_dry_run();
    let (raw, gzip) = upload_sizes(&out).unwrap_or_else(|| panic!("no upload size in:\n{out}"));
    println!("deploy bundle: {raw:.0} bytes, {gzip:.0} bytes gzipped");
    assert!(raw > gzip && gzip > 100_000.0, "implausible sizes: {out}");
    assert!(
        gzip < FREE_PLAN_GZIP_BYTES,
        "the worker is {gzip:.0} bytes gzipped, over the Workers Free plan's 3 MB:\n{out}"
    );
    // Every binding the code looks up is declared for deployment (a missing one fails only
    // when a request first needs it).
    for binding in [
        "env.CONVERSATIONS (ConversationObject)",
        "env.GATES (GateObject)",
        "env.INBOXES (InboxObject)",
        "env.CACHE",
        "env.OUTBOUND",
        "env.DB",
        "env.FILES",
    ] {
        assert!(out.contains(binding), "{binding} not bound:\n{out}");
    }
}

#[test]
fn the_upload_line_is_read_as_wrangler_prints_it() {
    assert_eq!(
        upload_sizes("Total Upload: 10.00 KiB / gzip: 2.50 KiB"),
        Some((10240.0, 2560.0))
    );
    assert_eq!(upload_sizes("no size here"), None);
}
