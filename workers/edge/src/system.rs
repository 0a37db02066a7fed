//! Clock, randomness and logging over the Workers runtime.

use async_trait::async_trait;
use prism_core::ports::{Background, Clock, Logger, Random, Timer};
use std::rc::Rc;

pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}

pub struct CryptoRandom;

impl Random for CryptoRandom {
    fn fill(&self, buf: &mut [u8]) {
        // crypto.getRandomValues via getrandom's wasm_js backend. It cannot fail in workerd;
        // if it ever did, refuse to continue with predictable bytes.
        if getrandom::fill(buf).is_err() {
            panic!("crypto.getRandomValues failed");
        }
    }
}

pub struct ConsoleLog;

impl Logger for ConsoleLog {
    fn log(&self, line: &str) {
        worker::console_log!("{line}");
    }
}

pub struct JsTimer;

#[async_trait(?Send)]
impl Timer for JsTimer {
    async fn sleep(&self, ms: u64) {
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
}

/// Background work through the request's `waitUntil`: the response goes out, the work finishes.
pub struct WaitUntil(pub Rc<worker::Context>);

#[async_trait(?Send)]
impl Background for WaitUntil {
    async fn run(&self, task: futures::future::LocalBoxFuture<'static, ()>) {
        self.0.wait_until(task);
    }
}
