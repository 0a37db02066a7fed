//! Dependency probes for operators (`/health?deep=1`, platform admin only): one cheap, real
//! round trip to each thing a request can need — D1, KV, each live-object namespace, the queue
//! — and whether the external providers answer at all, each with its latency. The plain
//! `/health` stays configuration-only so a load balancer can call it every second; this one
//! does I/O and is for people and monitors that page them.

use crate::http::{Method, Request};
use crate::platform::Platform;
use crate::ports::{ObjectClass, ObjectRef};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Check {
    pub name: String,
    /// Whether the dependency answered.
    pub ok: bool,
    /// Missing on this runtime (Spin has no queue or Durable Objects): not a failure.
    pub absent: bool,
    pub latency_ms: i64,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Report {
    /// `ok`, or `degraded` when a storage dependency failed (providers are reported, not
    /// counted: the platform degrades to the offline responder without them).
    pub status: String,
    pub runtime: String,
    pub storage: Vec<Check>,
    pub providers: Vec<Check>,
}

async fn timed<F: std::future::Future<Output = Result<(), String>>>(
    p: &Platform,
    name: &str,
    f: F,
) -> Check {
    let started = p.now_ms();
    let r = f.await;
    Check {
        name: name.to_string(),
        ok: r.is_ok(),
        absent: false,
        latency_ms: p.now_ms() - started,
        error: r.err(),
    }
}

fn absent(name: &str) -> Check {
    Check {
        name: name.into(),
        ok: true,
        absent: true,
        latency_ms: 0,
        error: None,
    }
}

/// A provider is reachable when its API answers anything over HTTP (401/404 included): the
/// question is the network path, not our credentials.
async fn reachable(p: &Platform, name: &str, base: &str) -> Check {
    if p.http.is_none() {
        return absent(name);
    }
    timed(p, name, async {
        let req = Request::new(Method::Get, base);
        let limits = crate::egress::Limits {
            timeout_ms: 5_000,
            max_bytes: 64 * 1024,
        };
        crate::egress::fetch(p, req, limits)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
}

pub async fn run(p: &Platform) -> Report {
    let mut storage = Vec::new();
    storage.push(match p.db() {
        Ok(db) => {
            timed(p, "database", async {
                db.query("SELECT 1 AS one", &[])
                    .await
                    .map(|_| ())
                    .map_err(|e| e.0)
            })
            .await
        }
        Err(e) => Check {
            name: "database".into(),
            ok: false,
            absent: false,
            latency_ms: 0,
            error: Some(e.message),
        },
    });
    storage.push(match &p.kv {
        Some(kv) => {
            timed(p, "kv", async {
                kv.get("health:probe").await.map(|_| ()).map_err(|e| e.0)
            })
            .await
        }
        None => absent("kv"),
    });
    for class in [
        ObjectClass::Gate,
        ObjectClass::Inbox,
        ObjectClass::Conversation,
    ] {
        let name = format!("objects.{}", class.binding().to_ascii_lowercase());
        storage.push(match &p.objects {
            // An internal request the object answers without writing anything: a round trip
            // through the namespace to a live instance and back.
            Some(objects) => {
                timed(p, &name, async {
                    let target = ObjectRef::new(class, "health:probe");
                    objects
                        .call(
                            &target,
                            Request::new(Method::Get, "https://object/health-probe"),
                        )
                        .await
                        .map(|_| ())
                        .map_err(|e| e.0)
                })
                .await
            }
            None => absent(&name),
        });
    }
    storage.push(match &p.queue {
        Some(q) => {
            timed(p, "queue", async {
                q.send(&json!({ "probe": p.now_ms() }), 0)
                    .await
                    .map_err(|e| e.0)
            })
            .await
        }
        None => absent("queue"),
    });
    let base = |key: &str, default: &str| {
        p.config
            .get(key)
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_string()
    };
    let providers = vec![
        reachable(
            p,
            "gemini",
            &base(
                "gemini_base_url",
                crate::ai::providers::gemini::DEFAULT_BASE,
            ),
        )
        .await,
        reachable(
            p,
            "twilio",
            &base("twilio_base_url", crate::channels::twilio::DEFAULT_BASE),
        )
        .await,
        reachable(
            p,
            "resend",
            &base("resend_base_url", crate::channels::resend::DEFAULT_BASE),
        )
        .await,
    ];
    let ok = storage.iter().all(|c| c.ok);
    Report {
        status: if ok { "ok" } else { "degraded" }.into(),
        runtime: p.runtime.as_str().into(),
        storage,
        providers,
    }
}
