/// Wall-clock time. A port (not `SystemTime`) so tests can move time by hand and so the
/// Cloudflare adapter can use `Date.now()`, which workerd freezes during a request's CPU work.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// Waiting, for streams that poll (Server-Sent Events). Separate from [`Clock`] because it is
/// async; tests implement it by moving a manual clock.
#[async_trait::async_trait(?Send)]
pub trait Timer {
    async fn sleep(&self, ms: u64);
}
