use prism_core::ports::{Connection, ConnectionId, LiveHub};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsCast, JsValue};
use worker::{State, WebSocket};

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen only for `send(value)`.
    type Socket;
    /// `WebSocket.send` with a JavaScript string made once: a broadcast then converts its
    /// frame from UTF-8 once, not once per member (web-sys only binds `send(&str)`).
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &Socket, data: &JsValue) -> Result<(), JsValue>;
}

fn send_value(ws: &WebSocket, data: &JsValue) {
    let socket: &worker::web_sys::WebSocket = ws.as_ref();
    // A socket closing concurrently is not an error for the sender.
    let _ = socket.unchecked_ref::<Socket>().send(data);
}

/// What a socket remembers across hibernation (stored as its attachment): its id, the object it
/// belongs to, and the core's per-connection state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConnMeta {
    pub id: ConnectionId,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub attachment: Value,
}

type Sockets = Rc<RefCell<Vec<(ConnMeta, WebSocket)>>>;

/// The object's sockets, decoded once and kept while the object is awake: reading every
/// socket's attachment on every event made each message cost O(members) JS round trips. It is
/// re-read whenever membership may have changed (accept, close, error) and after hibernation
/// (the object is rebuilt), and updated in place when an attachment changes. A re-read keeps
/// the attachments held in memory for sockets it already knew (they may carry volatile state
/// that was never written back, see [`LiveHub::set_volatile`]).
#[derive(Default)]
pub struct HubCache {
    sockets: RefCell<Option<Sockets>>,
    stale: Cell<bool>,
}

impl HubCache {
    pub fn invalidate(&self) {
        self.stale.set(true);
    }
}

/// The hibernatable WebSockets of one Durable Object as the core's live hub. Sockets are read
/// once per event (or taken from the [`HubCache`]), so a broadcast is one pass.
pub struct DoHub {
    sockets: Sockets,
}

fn read(state: &State) -> Vec<(ConnMeta, WebSocket)> {
    state
        .get_websockets()
        .into_iter()
        .filter_map(|ws| {
            let meta = ws.deserialize_attachment::<ConnMeta>().ok().flatten()?;
            Some((meta, ws))
        })
        .collect()
}

impl DoHub {
    pub fn new(state: &State) -> Self {
        DoHub {
            sockets: Rc::new(RefCell::new(read(state))),
        }
    }

    pub fn cached(state: &State, cache: &HubCache) -> Self {
        let mut slot = cache.sockets.borrow_mut();
        if cache.stale.replace(false) {
            let mut fresh = read(state);
            if let Some(old) = slot.as_ref() {
                let old = old.borrow();
                for (meta, _) in fresh.iter_mut() {
                    if let Some((known, _)) = old.iter().find(|(m, _)| m.id == meta.id) {
                        meta.attachment = known.attachment.clone();
                    }
                }
            }
            *slot = Some(Rc::new(RefCell::new(fresh)));
        }
        let sockets = slot
            .get_or_insert_with(|| Rc::new(RefCell::new(read(state))))
            .clone();
        DoHub { sockets }
    }

    fn socket(&self, id: &str) -> Option<WebSocket> {
        self.sockets
            .borrow()
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(_, ws)| ws.clone())
    }
}

impl LiveHub for DoHub {
    fn connections(&self) -> Vec<Connection> {
        self.sockets
            .borrow()
            .iter()
            .map(|(m, _)| Connection {
                id: m.id.clone(),
                attachment: m.attachment.clone(),
            })
            .collect()
    }

    fn send(&self, to: &str, text: &str) {
        if let Some(ws) = self.socket(to) {
            // A socket closing concurrently is not an error for the sender.
            let _ = ws.send_with_str(text);
        }
    }

    fn close(&self, to: &str, code: u16, reason: &str) {
        if let Some(ws) = self.socket(to) {
            let _ = ws.close(Some(code), Some(reason));
        }
    }

    fn set_attachment(&self, id: &str, value: &Value) {
        let mut sockets = self.sockets.borrow_mut();
        if let Some((m, ws)) = sockets.iter_mut().find(|(m, _)| m.id == id) {
            m.attachment = value.clone();
            let _ = ws.serialize_attachment(m.clone());
        }
    }

    fn set_volatile(&self, id: &str, value: &Value) {
        let mut sockets = self.sockets.borrow_mut();
        if let Some((m, _)) = sockets.iter_mut().find(|(m, _)| m.id == id) {
            m.attachment = value.clone();
        }
    }

    fn broadcast(&self, text: &str) {
        let js = JsValue::from_str(text);
        for (_, ws) in self.sockets.borrow().iter() {
            send_value(ws, &js);
        }
    }

    fn send_where(&self, text: &str, keep: &dyn Fn(&Value) -> bool) {
        let js = JsValue::from_str(text);
        for (m, ws) in self.sockets.borrow().iter() {
            if keep(&m.attachment) {
                send_value(ws, &js);
            }
        }
    }

    fn connection(&self, id: &str) -> Option<Connection> {
        self.sockets
            .borrow()
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| Connection {
                id: m.id.clone(),
                attachment: m.attachment.clone(),
            })
    }

    fn inspect(&self, id: &str, f: &mut dyn FnMut(&Value)) -> bool {
        self.sockets
            .borrow()
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| f(&m.attachment))
            .is_some()
    }

    fn update_volatile(&self, id: &str, f: &mut dyn FnMut(&mut Value)) -> bool {
        self.sockets
            .borrow_mut()
            .iter_mut()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| f(&mut m.attachment))
            .is_some()
    }
}
