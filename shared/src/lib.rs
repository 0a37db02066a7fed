//! # prism-core
//!
//! The platform-neutral heart of PrismAI Edge. Every route, rule and protocol lives here and is
//! tested natively with plain `cargo test`; the Cloudflare worker and the Spin component
//! (`workers/`) only implement the [`ports`] and forward requests to [`app::handle`].
//!
//! ## Where things are
//! The map of every module, how a request flows through them and the invariants they keep is
//! `ARCHITECTURE.md` at the repository root (one place, so it cannot drift from a second
//! copy here). The entry points: [`app::handle`] serves every request; [`routes::TABLE`] lists
//! every route; [`ports`] is what a runtime provides; [`objects`] is what runs inside a live
//! object (a Durable Object on Cloudflare).
//!
//! ## Rules this crate keeps
//! - No runtime crate (`worker`, `spin-sdk`, `wasm-bindgen`) and no I/O of its own: all effects go
//!   through [`ports`], so the same code runs natively, in workerd and under Spin.
//! - No panics on any input: a panic in WASM kills the instance. Handlers return
//!   [`error::ApiError`] instead.
//! - No `unsafe` (enforced below): memory safety is the compiler's, so the fuzz targets look for
//!   panics, hangs and runaway memory, not for memory errors an address sanitizer would catch.

#![forbid(unsafe_code)]

pub mod ai;
pub mod analytics;
pub mod app;
pub mod audit;
pub mod auth;
pub mod channels;
pub mod conversations;
pub mod cors;
pub mod crm;
pub mod egress;
pub mod error;
pub mod files;
pub mod http;
pub mod ids;
pub mod input;
pub mod jobs;
pub mod knowledge;
pub mod leads;
pub mod live;
pub mod mail;
pub mod memo;
pub mod migrations;
pub mod objects;
pub mod outgoing;
pub mod pagination;
pub mod platform;
pub mod ports;
pub mod privacy;
pub mod probes;
pub mod quality;
pub mod ratelimit;
pub mod records;
pub mod request_id;
pub mod router;
pub mod routes;
pub mod security_headers;
pub mod summaries;
pub mod surveys;
pub mod tenancy;
pub mod time;
pub mod users;
pub mod version;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
