/// Wall-clock time. A port (not `SystemTime`) so tests can move time by hand and so the
/// Cloudflare adapter can use `Date.now()`, which workerd freezes during a request's CPU work.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}
