//! Clock, randomness and logging over WASI.

use async_trait::async_trait;
use prism_core::ports::{Clock, Logger, Random, Timer};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct WasiClock;

impl Clock for WasiClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

pub struct WasiRandom;

impl Random for WasiRandom {
    fn fill(&self, buf: &mut [u8]) {
        // wasi:random; refuse to continue with predictable bytes if the host fails.
        if getrandom::fill(buf).is_err() {
            panic!("wasi random failed");
        }
    }
}

pub struct StderrLog;

impl Logger for StderrLog {
    fn log(&self, line: &str) {
        eprintln!("{line}");
    }
}

pub struct WasiTimer;

#[async_trait(?Send)]
impl Timer for WasiTimer {
    async fn sleep(&self, ms: u64) {
        spin_sdk::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
