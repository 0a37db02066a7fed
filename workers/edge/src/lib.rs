//! Cloudflare Workers adapter. Glue only: build the core's [`Platform`] from the worker's
//! bindings, convert the request, call [`prism_core::app::handle`], convert the outcome back.
//! Durable Object classes live in [`objects`]; every decision they make comes from the core.

mod convert;
mod d1;
mod do_sql;
mod http_client;
mod jsvalue;
mod kv;
mod microtasks;
mod objects;
mod queue;
mod r2;
mod system;

use prism_core::knowledge::cache::VectorCache;
use prism_core::platform::{Config, Platform, RuntimeKind};
use prism_core::router::Outcome;
use std::rc::Rc;
use worker::{
    event, web_sys, Context, Env, MessageBatch, MessageExt, Result, ScheduleContext, ScheduledEvent,
};

pub use objects::conversation::ConversationObject;
pub use objects::gate::GateObject;
pub use objects::inbox::InboxObject;

thread_local! {
    /// Tenants' vector indexes, kept for the isolate's lifetime.
    static VECTORS: Rc<VectorCache> = Rc::default();
    /// Small values in front of KV and D1 (credentials, flags), kept for the isolate's lifetime.
    static MEMO: Rc<prism_core::memo::Memo> = Rc::default();
    /// Variables and secrets, read once per isolate (they only change with a new deployment,
    /// which starts new isolates): reading them cost two JS calls per name on every request.
    static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
    /// The bindings, looked up once per isolate: each lookup is several JS calls, and every
    /// request used to pay for all of them (KV, R2, D1, Durable Objects, the queue) whether it
    /// touched them or not. Bindings are the isolate's, not a request's, so they may be kept
    /// (the Durable Object host keeps them the same way).
    static BINDINGS: std::cell::OnceCell<Bindings> = const { std::cell::OnceCell::new() };
}

struct Bindings {
    kv: Option<Rc<dyn prism_core::ports::KvStore>>,
    blobs: Option<Rc<dyn prism_core::ports::BlobStore>>,
    db: Option<Rc<dyn prism_core::ports::SqlDatabase>>,
    objects: Rc<dyn prism_core::ports::Objects>,
    queue: Option<Rc<dyn prism_core::ports::Queue>>,
}

impl Bindings {
    fn new(env: &Env) -> Bindings {
        Bindings {
            kv: env.kv("CACHE").ok().map(|k| Rc::new(kv::WorkersKv(k)) as _),
            blobs: env.bucket("FILES").ok().map(|b| Rc::new(r2::R2(b)) as _),
            db: env.d1("DB").ok().map(|d| Rc::new(d1::D1(d)) as _),
            objects: Rc::new(objects::DurableObjects(env.clone())),
            queue: env
                .queue("OUTBOUND")
                .ok()
                .map(|q| Rc::new(queue::WorkersQueue(q)) as _),
        }
    }
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let core_req = convert::request_from_runtime(req).await?;
    let platform = Rc::new(platform(&env, Some(Rc::new(ctx))));
    match prism_core::app::handle(platform, core_req.clone()).await {
        Outcome::Response(r) => convert::response_to_runtime(r),
        Outcome::Upgrade(up) => Ok(objects::forward_upgrade(&env, &core_req, up).await?.into()),
    }
}

/// Outbound deliveries and webhook deliveries: each message names a row; the core sends it and
/// schedules any retry itself, so every message is acknowledged here.
#[event(queue)]
async fn consume(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    let platform = platform(&env, None);
    for message in batch.messages()? {
        let body = serde_json::from_str(message.body()).unwrap_or_default();
        prism_core::jobs::consume(&platform, &body).await;
        message.ack();
    }
    Ok(())
}

/// The cron trigger: re-dispatches sends and webhook deliveries whose queue message was lost or
/// whose retry is due.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let platform = platform(&env, None);
    prism_core::jobs::sweep(&platform, 200).await;
}

/// The core's view of this worker's bindings. Missing optional bindings become `None`, which
/// the core reports in `/health` and turns into `binding_missing` errors where needed.
/// `ctx` lets work continue after the response (`waitUntil`); without it (inside a Durable
/// Object) such work runs inline.
pub(crate) fn platform(env: &Env, ctx: Option<Rc<Context>>) -> Platform {
    let (kv, blobs, db, objects, queue) = BINDINGS.with(|b| {
        let b = b.get_or_init(|| Bindings::new(env));
        (
            b.kv.clone(),
            b.blobs.clone(),
            b.db.clone(),
            b.objects.clone(),
            b.queue.clone(),
        )
    });
    Platform {
        runtime: RuntimeKind::Cloudflare,
        clock: Rc::new(system::JsClock),
        random: Rc::new(system::CryptoRandom),
        log: Rc::new(system::ConsoleLog),
        timer: Rc::new(system::JsTimer),
        background: match ctx {
            Some(ctx) => Rc::new(system::WaitUntil(ctx)),
            None => Rc::new(prism_core::ports::Inline),
        },
        kv,
        blobs,
        db,
        objects: Some(objects),
        http: Some(Rc::new(http_client::FetchClient)),
        queue,
        config: CONFIG.with(|c| {
            c.get_or_init(|| {
                Config::load(|name| {
                    let upper = name.to_ascii_uppercase();
                    env.secret(&upper)
                        .map(|s| s.to_string())
                        .or_else(|_| env.var(&upper).map(|v| v.to_string()))
                        .ok()
                })
            })
            .clone()
        }),
        vectors: VECTORS.with(Rc::clone),
        memo: MEMO.with(Rc::clone),
    }
}
