//! Hosts the core's object logic in a Durable Object: builds the object context from the
//! object's storage, sockets and bindings, and turns runtime events (fetch, socket frames,
//! closes, alarms) into calls into `prism_core::objects`. Every object class uses it.

use super::hub::{ConnMeta, DoHub, HubCache};
use super::DurableObjects;
use crate::convert;
use crate::d1::D1;
use crate::do_sql::DoSql;
use crate::system::{CryptoRandom, JsClock};
use prism_core::conversations::protocol::{PING, PONG};
use prism_core::objects::{
    self, ObjectContext, RetryAfter, GRANT_HEADER, NAME_HEADER, PARTICIPANT_HEADER,
};
use prism_core::ports::{ObjectClass, ObjectRef};
use prism_core::request_id::new_uuid;
use serde_json::json;
use worker::{Env, Request, Response, Result, State, WebSocket, WebSocketPair};

/// Storage key of the object's own name (alarms carry no request to read it from).
const NAME_KEY: &str = "__object_name";
/// The subprotocol we select when a browser offers one (it must get one of its offers back).
const SUBPROTOCOL: &str = "prism.v1";
/// The header carrying extra connection data (an agent's skills) from the edge.
const SKILLS_HEADER: &str = "x-prism-skills";

/// The part of a socket's [`ConnMeta`] a frame needs to find its connection: decoding the
/// whole attachment (grant, participant) on every frame was a visible cost.
#[derive(serde::Deserialize)]
pub struct ConnRef {
    pub id: String,
    #[serde(default)]
    pub object: String,
}

/// The property of the runtime's own socket object a decoded [`ConnRef`] is kept in (as
/// `id` and `object` joined by a newline): reading it back is one property read, where the
/// attachment is a structured-clone decode of the whole attachment on every frame. The object
/// lives while the instance keeps the socket; a woken instance gets new objects and decodes
/// the attachment once more. Neither field changes while a socket is open.
const REF_PROPERTY: &str = "__prismRef";

impl ConnRef {
    /// Reads socket `ws`'s reference (none for a socket without an attachment).
    pub fn of(ws: &WebSocket) -> Result<Option<ConnRef>> {
        let js: &wasm_bindgen::JsValue = ws.as_ref().as_ref();
        // The key made into a JS string once per isolate (making it was half of this read).
        thread_local! {
            static KEY: wasm_bindgen::JsValue = wasm_bindgen::JsValue::from_str(REF_PROPERTY);
        }
        let kept = KEY
            .with(|key| js_sys::Reflect::get(js, key))
            .ok()
            .and_then(|v| v.as_string());
        if let Some((id, object)) = kept.as_deref().and_then(|k| k.split_once('\n')) {
            return Ok(Some(ConnRef {
                id: id.to_string(),
                object: object.to_string(),
            }));
        }
        let decoded = ws.deserialize_attachment::<ConnRef>()?;
        if let Some(r) = &decoded {
            let kept = wasm_bindgen::JsValue::from_str(&format!("{}\n{}", r.id, r.object));
            // Not kept: the next frame decodes the attachment again.
            let _ = KEY.with(|key| js_sys::Reflect::set(js, key, &kept));
        }
        Ok(decoded)
    }
}

pub struct Host<'a> {
    pub class: ObjectClass,
    pub state: &'a State,
    pub env: &'a Env,
    /// The object's single-flight flag for mirror flushes (conversations only).
    pub flushing: Option<&'a std::cell::Cell<bool>>,
    /// The object's decoded sockets, kept between events while it is awake.
    pub hub_cache: Option<&'a HubCache>,
    /// Per-instance flags: the object's name is stored, its tables exist. Objects that set
    /// them skip a storage read and the DDL on every later event.
    pub ready: Option<&'a Ready>,
}

/// What a Durable Object instance has already done since it woke.
#[derive(Default)]
pub struct Ready {
    /// The object's name once it is known to be stored: alarms read it from here instead
    /// of storage (a busy conversation's alarm fires every mirror window).
    named: std::cell::OnceCell<String>,
    pub schema: std::cell::Cell<bool>,
    /// When the alarm is set for (ms since the epoch), once known: a later request never
    /// postpones an earlier alarm (a socket re-check is due then), and an alarm that is already
    /// early enough is not written again on every event.
    alarm_at: std::cell::Cell<Option<Option<i64>>>,
    /// Its bindings: each lookup is several JS calls, and a busy conversation has an event per
    /// message.
    bindings: std::cell::OnceCell<Bindings>,
    /// What the core remembers between events to skip per-message work.
    pace: objects::Pace,
}

/// The bindings an object's context is built from.
struct Bindings {
    platform: prism_core::platform::Platform,
    mirror: Option<D1>,
    objects: DurableObjects,
}

impl Bindings {
    fn new(env: &Env) -> Bindings {
        Bindings {
            platform: crate::platform(env, None),
            mirror: env.d1("DB").ok().map(D1),
            objects: DurableObjects(env.clone()),
        }
    }
}

impl Host<'_> {
    /// Answers `{"type":"ping"}` without waking the object (hibernation stays cheap).
    pub fn enable_auto_pong(state: &State) {
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new(PING, PONG) {
            state.set_websocket_auto_response(&pair);
        }
    }

    async fn with_context<T>(&self, name: &str, f: impl AsyncFnOnce(&ObjectContext<'_>) -> T) -> T {
        let target = ObjectRef::new(self.class, name);
        let store = DoSql(self.state.storage().sql());
        let hub = match self.hub_cache {
            Some(cache) => DoHub::cached(self.state, cache),
            None => DoHub::new(self.state),
        };
        let owned;
        let b = match self.ready {
            Some(r) => r.bindings.get_or_init(|| Bindings::new(self.env)),
            None => {
                owned = Bindings::new(self.env);
                &owned
            }
        };
        let cx = ObjectContext {
            target: &target,
            store: &store,
            hub: &hub,
            clock: &JsClock,
            random: &CryptoRandom,
            mirror: b.mirror.as_ref().map(|m| m as _),
            objects: Some(&b.objects),
            platform: Some(&b.platform),
            flushing: self.flushing,
            schema_ready: self.ready.map(|r| &r.schema),
            pace: self.ready.map(|r| &r.pace),
        };
        f(&cx).await
    }

    async fn remember_name(&self, name: &str) -> Result<()> {
        if self.ready.is_some_and(|r| r.named.get().is_some()) {
            return Ok(());
        }
        if self
            .state
            .storage()
            .get::<String>(NAME_KEY)
            .await
            .ok()
            .flatten()
            .as_deref()
            != Some(name)
        {
            self.state.storage().put(NAME_KEY, name).await?;
        }
        if let Some(r) = self.ready {
            let _ = r.named.set(name.to_string());
        }
        Ok(())
    }

    /// Membership may have changed: read the sockets afresh on the next event.
    pub fn invalidate_sockets(&self) {
        if let Some(c) = self.hub_cache {
            c.invalidate();
        }
        if let Some(r) = self.ready {
            r.pace.sockets_changed();
        }
    }

    /// Sets the alarm. The object's name is stored only then (the alarm has no request to read
    /// it from): an object that never needs an alarm writes nothing of its own.
    async fn schedule(&self, name: &str, retry: RetryAfter) -> Result<()> {
        let Some(ms) = retry else {
            return Ok(());
        };
        let now = worker::Date::now().as_millis() as i64;
        let wanted = now + ms.max(0);
        let current = match self.ready.and_then(|r| r.alarm_at.get()) {
            Some(known) => known,
            None => self.state.storage().get_alarm().await?,
        };
        if current.is_some_and(|at| at <= wanted) {
            if let Some(r) = self.ready {
                r.alarm_at.set(Some(current));
            }
            return Ok(());
        }
        self.remember_name(name).await?;
        self.state.storage().set_alarm(ms.max(0)).await?;
        if let Some(r) = self.ready {
            r.alarm_at.set(Some(Some(wanted)));
        }
        Ok(())
    }

    pub async fn fetch(&self, req: Request) -> Result<Response> {
        let name = req.headers().get(NAME_HEADER)?.unwrap_or_default();
        if name.is_empty() {
            return Response::error("object name missing", 400);
        }
        let upgrade = req
            .headers()
            .get("upgrade")?
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade && req.path() == "/live" {
            return self.accept(&name, req).await;
        }
        let core_req = convert::internal_request_from_worker(req).await?;
        let (resp, retry) = self
            .with_context(&name, async |cx| objects::handle(cx, core_req).await)
            .await;
        self.schedule(&name, retry).await?;
        convert::response_to_worker(resp)
    }

    async fn accept(&self, name: &str, req: Request) -> Result<Response> {
        let participant = req.headers().get(PARTICIPANT_HEADER)?;
        let grant = req.headers().get(GRANT_HEADER)?;
        let skills: serde_json::Value = req
            .headers()
            .get(SKILLS_HEADER)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let request_id = req.headers().get("x-request-id")?.unwrap_or_default();
        let offered = req.headers().get("sec-websocket-protocol")?;
        let admitted = self
            .with_context(name, async |cx| {
                objects::connect(
                    cx,
                    participant.as_deref(),
                    grant.as_deref(),
                    json!({ "skills": skills }),
                )
                .await
            })
            .await;
        let attachment = match admitted {
            Ok(a) => a,
            Err(e) => return convert::response_to_worker(e.into_response(&request_id)),
        };
        let pair = WebSocketPair::new()?;
        let id = new_uuid(&CryptoRandom);
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(ConnMeta {
            id: id.clone(),
            object: name.to_string(),
            attachment,
        })?;
        self.invalidate_sockets();
        let retry = self
            .with_context(name, async |cx| objects::joined(cx, &id).await)
            .await;
        self.schedule(name, retry).await?;
        let mut resp = Response::from_websocket(pair.client)?;
        // RFC 6455 §4.2.2: answer with one of the client's offers, or with none at all.
        if objects::offers_subprotocol(offered.as_deref(), SUBPROTOCOL) {
            resp.headers_mut()
                .set("sec-websocket-protocol", SUBPROTOCOL)?;
        }
        Ok(resp)
    }

    /// A text frame from the socket `meta` refers to ([`ConnRef::of`]; the core reads the rest
    /// of its state from the hub).
    pub async fn message(&self, meta: ConnRef, text: &str) -> Result<()> {
        let retry = self
            .with_context(&meta.object, async |cx| {
                objects::on_text(cx, &meta.id, text).await
            })
            .await;
        self.schedule(&meta.object, retry).await
    }

    pub async fn close(&self, ws: WebSocket, code: usize, reason: String) -> Result<()> {
        // Complete the closing handshake; 1005/1006 are reserved and may not be sent.
        let code = if (1000..=4999).contains(&code) && code != 1005 && code != 1006 {
            code as u16
        } else {
            1000
        };
        let _ = ws.close(Some(code), Some(reason));
        self.invalidate_sockets();
        if let Some(meta) = ws.deserialize_attachment::<ConnMeta>()? {
            let retry = self
                .with_context(&meta.object, async |cx| {
                    objects::on_close(cx, &meta.id, &meta.attachment).await
                })
                .await;
            self.schedule(&meta.object, retry).await?;
        }
        Ok(())
    }

    /// Retries the mirror outbox and re-checks idle sockets.
    pub async fn alarm(&self) -> Result<Response> {
        // The alarm that is running is spent.
        if let Some(r) = self.ready {
            r.alarm_at.set(Some(None));
        }
        let known = self.ready.and_then(|r| r.named.get().cloned());
        let name = match known {
            Some(name) => Some(name),
            None => {
                let stored = self
                    .state
                    .storage()
                    .get::<String>(NAME_KEY)
                    .await
                    .ok()
                    .flatten();
                if let (Some(r), Some(name)) = (self.ready, &stored) {
                    let _ = r.named.set(name.clone());
                }
                stored
            }
        };
        if let Some(name) = name {
            let retry = self
                .with_context(&name, async |cx| objects::alarm(cx).await)
                .await;
            self.schedule(&name, retry).await?;
        }
        Response::ok("")
    }
}
