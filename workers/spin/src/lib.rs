//! Spin adapter (spin-sdk 7, WASI 0.3 HTTP; runs on Spin 4). Glue only: build the core's
//! [`Platform`] from Spin's key-value store, SQLite and variables, convert the request, call
//! [`prism_core::app::handle`], convert the response back.
//!
//! Spin has no Durable Objects and no WebSockets: the core knows (via [`RuntimeKind::Spin`]) and
//! serves the HTTP + SSE paths instead. Built without the `spin-host` feature, the component
//! imports only standard WASI interfaces, so `wasmtime serve` can run it (configuration then
//! comes from WASI environment variables and storage-backed routes answer `binding_missing`).

mod convert;
mod http_client;
#[cfg(feature = "spin-host")]
mod kv;
#[cfg(feature = "spin-host")]
mod sqlite;
mod system;

use prism_core::error::{ApiError, ErrorCode};
use prism_core::objects::in_process::InProcessObjects;
use prism_core::platform::{Config, Platform, RuntimeKind};
use prism_core::ports::{Clock, Inline, KvStore, Objects, SqlDatabase};
use prism_core::router::Outcome;
use spin_sdk::http::{IntoResponse, Request};
use std::rc::Rc;

#[spin_sdk::http_service]
async fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let core_req = convert::request_from_spin(req).await?;
    let platform = Rc::new(platform().await);
    let resp = match prism_core::app::handle(platform, core_req).await {
        Outcome::Response(r) => r,
        // The core never upgrades on Spin; answer clearly if that ever changes.
        Outcome::Upgrade(up) => {
            let id = up
                .headers
                .iter()
                .find(|(n, _)| n == "x-request-id")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            ApiError::new(
                ErrorCode::NotSupported,
                "WebSockets are not available on Spin",
            )
            .into_response(&id)
        }
    };
    Ok(convert::response_to_spin(resp))
}

async fn platform() -> Platform {
    let clock: Rc<dyn Clock> = Rc::new(system::WasiClock);
    #[cfg(feature = "spin-host")]
    let (kv, db) = (
        kv::SpinKv::open()
            .await
            .map(|k| Rc::new(k) as Rc<dyn KvStore>),
        sqlite::SpinSqlite::open()
            .await
            .map(|d| Rc::new(d) as Rc<dyn SqlDatabase>),
    );
    // Spin keeps no record of applied migrations (`spin up --sqlite` runs a file on every
    // start), so the core applies the ones this database lacks; one count when it is current.
    #[cfg(feature = "spin-host")]
    if let Some(db) = &db {
        prism_core::migrations::ensure(db.as_ref(), clock.now_ms(), &system::StderrLog).await;
    }
    #[cfg(not(feature = "spin-host"))]
    let (kv, db): (Option<Rc<dyn KvStore>>, Option<Rc<dyn SqlDatabase>>) = (None, None);
    let config = config().await;
    let build = |objects: Option<Rc<dyn Objects>>| Platform {
        runtime: RuntimeKind::Spin,
        clock: clock.clone(),
        random: Rc::new(system::WasiRandom),
        log: Rc::new(system::StderrLog),
        timer: Rc::new(system::WasiTimer),
        // No waitUntil on Spin: follow-up work (AI answers) completes before the response.
        background: Rc::new(Inline),
        kv: kv.clone(),
        // Files in the key-value store, in chunks (no object storage on Spin).
        blobs: kv
            .clone()
            .map(|kv| Rc::new(prism_core::files::KvBlobs::new(kv)) as _),
        db: db.clone(),
        objects,
        http: Some(Rc::new(http_client::SpinHttp)),
        // No queue on Spin: replies are delivered inline; retries come from the outbox sweep.
        queue: None,
        config: config.clone(),
        vectors: Rc::default(),
        memo: Rc::default(),
    };
    // No Durable Objects on Spin: live objects run in-process over the same SQLite database;
    // the platform they use for AI answers has no objects of its own (they are inside one).
    let objects = db.clone().map(|db| {
        Rc::new(InProcessObjects {
            db,
            clock: clock.clone(),
            random: Rc::new(system::WasiRandom),
            platform: Some(Rc::new(build(None))),
        }) as Rc<dyn Objects>
    });
    build(objects)
}

/// Spin variables (lower-case names, as Spin requires) when the host has them; WASI
/// environment variables (`PRISM_` + upper-case name) in the storage-free build.
async fn config() -> Config {
    let mut values = Vec::new();
    for name in Config::KNOWN {
        #[cfg(feature = "spin-host")]
        let v = spin_sdk::variables::get(name).await.ok();
        #[cfg(not(feature = "spin-host"))]
        let v = std::env::var(format!("PRISM_{}", name.to_ascii_uppercase())).ok();
        values.push((*name, v));
    }
    Config::load(|name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    })
}
