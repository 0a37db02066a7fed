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

/// Work that may finish after the response is sent (an AI answer after the customer's message is
/// acknowledged). Cloudflare keeps the request alive with `waitUntil`; elsewhere it runs inline.
#[async_trait::async_trait(?Send)]
pub trait Background {
    async fn run(&self, task: futures::future::LocalBoxFuture<'static, ()>);
}

/// Runs background work before returning (runtimes without `waitUntil`, and tests).
pub struct Inline;

#[async_trait::async_trait(?Send)]
impl Background for Inline {
    async fn run(&self, task: futures::future::LocalBoxFuture<'static, ()>) {
        task.await
    }
}
