use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A free TCP port on loopback, picked below Linux's ephemeral range (32768 and up).
///
/// A port from `bind(0)` is released before the runtime binds it, and meanwhile any process's
/// `bind(0)` or a connect's source port may take it. A CI start once failed with "Address
/// already in use" (what held the port was not proven); below the ephemeral range only another
/// explicit pick can collide, and the caller starts again on a fresh port when one does.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `n` free loopback ports in a row, below the ephemeral range (see `free_port`).
pub fn free_ports(n: u16) -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().rotate_left(16)
        ^ NEXT.fetch_add(7919, std::sync::atomic::Ordering::Relaxed);
    (0..4_000u32)
        .map(|i| 20_000 + (seed.wrapping_add(i.wrapping_mul(3)) % 12_000) as u16)
        .find(|&p| (0..n).all(|i| TcpListener::bind(("127.0.0.1", p + i)).is_ok()))
        .expect("free ports between 20000 and 32000")
}

/// Spawns `cmd` in its own process group and a watchdog that kills that group (and removes
/// `cleanup`, if given) once this test process is gone.
// The watchdog must outlive this process, so it is deliberately never waited for.
#[allow(clippy::zombie_processes)]
fn spawn_guarded(mut cmd: Command, log: &Path, cleanup: Option<&Path>) -> Child {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let pgid = child.id();
    let me = std::process::id();
    let rm = cleanup
        .map(|p| format!("; rm -rf '{}'", p.display()))
        .unwrap_or_default();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -s TERM -- -{pgid} 2>/dev/null; sleep 2; kill -s KILL -- -{pgid} 2>/dev/null{rm}"
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("watchdog");
    child
}

fn kill_group(child: &mut Child) {
    let pgid = child.id() as i32;
    // `--` matters: without it procps `kill` reads `-<pgid>` as an option, not a process group.
    let _ = Command::new("kill")
        .args(["-s", "TERM", "--", &format!("-{pgid}")])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{pgid}")])
        .status();
    let _ = child.wait();
}

/// What a runtime prints when its port was taken between the pick and its bind.
const PORT_TAKEN: &str = "Address already in use";

/// Polls `GET /health` with a raw HTTP/1.0 request until it answers 200. Gives up early, with
/// the log, when the process exits or reports its port taken (wrangler stays up after its
/// workerd failed to bind, so waiting out the timeout would only cost minutes).
fn wait_ready(port: u16, timeout: Duration, log: &Path, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    let mut poll = 0u32;
    loop {
        poll = poll.wrapping_add(1);
        if Instant::now() >= deadline {
            return Err(format!(
                "runtime on port {port} not ready after {timeout:?}; its log:\n{}",
                read_log()
            ));
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .is_ok()
            {
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200") {
                    return Ok(());
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "runtime on port {port} exited ({status}) before it was ready; its log:\n{}",
                read_log()
            ));
        }
        if poll.is_multiple_of(8) && read_log().contains(PORT_TAKEN) {
            return Err(format!(
                "runtime on port {port} could not bind it; its log:\n{}",
                read_log()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn artifacts_dir() -> PathBuf {
    let d = crate::repo_root().join("target/e2e");
    std::fs::create_dir_all(&d).expect("artifacts dir");
    d
}

/// Builds the worker once per test binary (a no-op when it is up to date); runtimes then start
/// with builds disabled, so they serve exactly this build.
fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = crate::repo_root();
        let out = Command::new(root.join("scripts/build-worker"))
            .current_dir(&root)
            .env_remove("PRISM_SKIP_BUILD")
            .output()
            .expect("scripts/build-worker");
        assert!(
            out.status.success(),
            "worker build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Options for starting the edge runtime.
#[derive(Clone, Debug, Default)]
pub struct EdgeOptions {
    /// Extra variables (secrets and provider URLs for tests).
    pub vars: Vec<(String, String)>,
}

/// The Cloudflare worker running in workerd under `wrangler dev`.
pub struct Edge {
    pub base: String,
    pub port: u16,
    /// `wrangler dev`'s inspector (DevTools protocol) for the worker, for tests that look
    /// inside the runtime ([`crate::inspector`]).
    pub inspector_port: u16,
    state_dir: PathBuf,
    log: PathBuf,
    opts: EdgeOptions,
    child: Option<Child>,
}

impl Edge {
    /// One runtime per test binary, started on first use.
    pub fn shared() -> &'static Edge {
        static EDGE: OnceLock<Edge> = OnceLock::new();
        EDGE.get_or_init(|| Edge::start(EdgeOptions::default()))
    }

    /// The process group of its `wrangler dev` (workerd included), for reading its CPU time.
    pub fn pgid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A runtime of its own (for tests that restart it or need special configuration).
    pub fn start(opts: EdgeOptions) -> Edge {
        build_once();
        let port = free_port();
        let dir = artifacts_dir();
        let state_dir = dir.join(format!("state-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        let log = dir.join(format!("wrangler-{port}.log"));
        let mut edge = Edge {
            base: format!("http://127.0.0.1:{port}"),
            port,
            inspector_port: 0,
            state_dir,
            log,
            opts,
            child: None,
        };
        edge.migrate();
        edge.spawn(true);
        edge
    }

    fn wrangler() -> Command {
        let root = crate::repo_root();
        let mut c = Command::new(root.join("node_modules/.bin/wrangler"));
        c.current_dir(&root)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("PRISM_SKIP_BUILD", "1")
            .env("CI", "1");
        c
    }

    fn migrate(&self) {
        let out = Self::wrangler()
            .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(&self.state_dir)
            .output()
            .expect("wrangler d1 migrations apply");
        crate::succeeded(&out, "migrations failed");
    }

    fn spawn(&mut self, first_start: bool) {
        // Configuration goes through an env file: with `--env-file`, wrangler ignores the
        // developer's .dev.vars, so local secrets can never leak into or break the tests.
        let env_file = self.state_dir.with_extension("env");
        let mut vars = vec![
            ("DIAGNOSTICS".to_string(), "on".to_string()),
            // The fake providers listen on 127.0.0.1 over http.
            ("ALLOW_LOCAL_EGRESS".to_string(), "on".to_string()),
            // Sockets re-check their credential every 1.5 s (a minute in production), so the
            // revocation tests see closes in seconds.
            ("LIVE_RECHECK_MS".to_string(), "1500".to_string()),
            (
                "PLATFORM_ADMIN_SECRET".to_string(),
                crate::ADMIN_SECRET.to_string(),
            ),
            ("JWT_SIGNING_KEYS".to_string(), crate::JWT_KEYS.to_string()),
            (
                "SECRETS_MASTER_KEYS".to_string(),
                crate::MASTER_KEYS.to_string(),
            ),
        ];
        // A variable the caller sets replaces the default (the benchmark runs with the
        // production re-check interval).
        vars.retain(|(k, _)| !self.opts.vars.iter().any(|(o, _)| o == k));
        vars.extend(self.opts.vars.iter().cloned());
        let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&env_file, text).expect("write env file");
        // A port taken between its pick and the runtime's bind is retried: on a fresh port at
        // first start, on the same one (once the other holder is gone) at a restart, whose
        // callers keep the address.
        for attempt in 1..=3 {
            self.inspector_port = std::env::var("PRISM_INSPECTOR_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(free_port);
            let mut cmd = Self::wrangler();
            cmd.args([
                "dev",
                "--ip",
                "127.0.0.1",
                "--show-interactive-dev-session=false",
            ])
            .args(["--port", &self.port.to_string()])
            // A fixed inspector port (`PRISM_INSPECTOR_PORT`) lets tests/bench/profile.mjs attach.
            .args(["--inspector-port", &self.inspector_port.to_string()])
            .arg("--persist-to")
            .arg(&self.state_dir)
            .arg("--env-file")
            .arg(&env_file);
            let mut child = spawn_guarded(cmd, &self.log, Some(&self.state_dir));
            match wait_ready(self.port, Duration::from_secs(120), &self.log, &mut child) {
                Ok(()) => {
                    self.child = Some(child);
                    return;
                }
                Err(why) if attempt < 3 && why.contains(PORT_TAKEN) => {
                    kill_group(&mut child);
                    eprintln!("port {} was taken; starting the runtime again", self.port);
                    if first_start {
                        self.port = free_port();
                        self.base = format!("http://127.0.0.1:{}", self.port);
                    } else {
                        std::thread::sleep(Duration::from_secs(2));
                    }
                }
                Err(why) => {
                    kill_group(&mut child);
                    panic!("{why}");
                }
            }
        }
    }

    /// Stops and starts the runtime on the same port and state: what survives is what was
    /// durably stored.
    pub fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&mut c);
        }
        self.spawn(false);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// Where the runtime persists its state (D1, KV and each Durable Object's SQLite).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The runtime's combined output so far (worker logs included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_group(&mut c);
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// The storage-free Spin component under `wasmtime serve`.
pub struct SpinServe {
    pub base: String,
    child: Child,
}

impl SpinServe {
    pub fn shared() -> &'static SpinServe {
        static SPIN: OnceLock<SpinServe> = OnceLock::new();
        SPIN.get_or_init(SpinServe::start)
    }

    fn start() -> SpinServe {
        let root = crate::repo_root();
        let wasm = root.join("workers/spin/build/prism_spin_storage_free.wasm");
        assert!(
            wasm.exists(),
            "{} missing: run scripts/build-spin --storage-free",
            wasm.display()
        );
        let wasmtime = std::env::var("PRISM_WASMTIME").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/prismai/tools/bin/wasmtime")
        });
        let port = free_port();
        let log = artifacts_dir().join(format!("wasmtime-{port}.log"));
        let mut cmd = Command::new(&wasmtime);
        cmd.args(["serve", "-Scli", "-Sp3", "-Wcomponent-model-async"])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--env", "PRISM_DIAGNOSTICS=on"])
            .arg(&wasm);
        let mut child = spawn_guarded(cmd, &log, None);
        if let Err(why) = wait_ready(port, Duration::from_secs(60), &log, &mut child) {
            kill_group(&mut child);
            panic!("{why}");
        }
        SpinServe {
            base: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for SpinServe {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// What `wrangler deploy --dry-run` prints for this repository's `wrangler.toml` and its
/// current worker build (built first when out of date): the bundle a deployment would upload,
/// its sizes and bindings. Needs no Cloudflare account.
pub fn deploy_dry_run() -> String {
    build_once();
    let outdir = artifacts_dir().join("deploy-dry-run");
    let _ = std::fs::remove_dir_all(&outdir);
    let out = Edge::wrangler()
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&outdir)
        .output()
        .expect("wrangler deploy --dry-run");
    crate::succeeded(&out, "wrangler deploy --dry-run failed")
}

/// Any wrangler project (the benchmark baselines) under `wrangler dev`, with throwaway state.
pub struct Wrangler {
    pub base: String,
    pub port: u16,
    child: Child,
}

impl Wrangler {
    /// The process group of this `wrangler dev` (workerd included), for reading its CPU time.
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }

    pub fn start(config: &Path) -> Wrangler {
        let port = free_port();
        let dir = artifacts_dir();
        let state = dir.join(format!("state-bench-{port}"));
        let log = dir.join(format!("wrangler-bench-{port}.log"));
        let mut cmd = Edge::wrangler();
        cmd.args([
            "dev",
            "--ip",
            "127.0.0.1",
            "--show-interactive-dev-session=false",
            "-c",
        ])
        .arg(config)
        .args(["--port", &port.to_string()])
        .args(["--inspector-port", &free_port().to_string()])
        .arg("--persist-to")
        .arg(&state);
        let child = spawn_guarded(cmd, &log, Some(&state));
        wait_ready_any(port, Duration::from_secs(120), &log);
        Wrangler {
            base: format!("http://127.0.0.1:{port}"),
            port,
            child,
        }
    }
}

impl Drop for Wrangler {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// Waits until the port answers any HTTP request.
fn wait_ready_any(port: u16, timeout: Duration, log: &Path) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            if s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                .is_ok()
            {
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.") {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "runtime on port {port} not ready; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// The README's run command, `scripts/dev`, as a newcomer runs it: it migrates, starts
/// `wrangler dev`, seeds the demo tenant, starts the sample tenant site and the mail catcher,
/// and prints where everything is. Its state goes to a throwaway `PRISM_DEV_DIR`, never the
/// developer's `.wrangler`.
pub struct DevCommand {
    pub base: String,
    pub port: u16,
    /// `PRISM_DEV_DIR`: the local state and `demo-tenant.json`.
    pub dir: PathBuf,
    log: PathBuf,
    child: Child,
}

impl DevCommand {
    pub fn start() -> DevCommand {
        build_once();
        // The command takes three ports in a row (edge, tenant site, mail catcher).
        let port = free_ports(3);
        let root = crate::repo_root();
        let dir = artifacts_dir().join(format!("dev-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dev dir");
        let log = artifacts_dir().join(format!("dev-{port}.log"));
        let mut cmd = Command::new(root.join("scripts/dev"));
        cmd.current_dir(&root)
            .args(["--port", &port.to_string()])
            .env("PRISM_DEV_DIR", &dir)
            .env("PRISM_SKIP_BUILD", "1")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "1");
        let child = spawn_guarded(cmd, &log, Some(&dir));
        let dev = DevCommand {
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            log,
            child,
        };
        // Seeding (knowledge base, leads, surveys, two months of history) comes before the
        // final banner.
        let deadline = Instant::now() + Duration::from_secs(600);
        while !dev.output().contains("PrismAI Edge is running at") {
            assert!(
                Instant::now() < deadline,
                "scripts/dev did not finish starting; output:\n{}",
                dev.output()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        dev
    }

    /// Everything the command printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DevCommand {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}
