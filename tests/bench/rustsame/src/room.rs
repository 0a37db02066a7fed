//! The fan-out's same-work anchor in Rust (issue 16): `tests/bench/jsmirror.js`'s room, written
//! as a plain workers-rs Durable Object. Per customer message: the message row with its
//! idempotency key and the mirror outbox row in the object's SQLite storage, the ack, one
//! broadcast to every socket; at most every 100 ms (the window PrismAI's conversation uses) the
//! outbox read back and mirrored to D1 in one batch (the statements PrismAI's mirror runs for a
//! window of customer messages, and the room's row), one publish of the window's events
//! to the inbox object, and the outbox rows deleted.
//!
//! Beside `jsmirror.js` it says what the same durable work costs any Rust Durable Object on this
//! runtime (wasm, wasm-bindgen's glue, workers-rs's conversions); beside PrismAI, what PrismAI's
//! own code adds to that (authentication and rate limits, read state, analysis, its engine). It
//! takes the one liberty PrismAI's hub takes, and that a JS room has for free: a broadcast's
//! frame becomes one JavaScript string for all sockets, not one per socket.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::cell::{Cell, RefCell};
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsCast, JsValue};
use worker::{
    durable_object, D1Database, D1PreparedStatement, Date, DurableObject, Env, Method, Request,
    RequestInit, Response, Result, SqlStorageValue, State, WebSocket, WebSocketIncomingMessage,
    WebSocketPair,
};

const WINDOW_MS: u64 = 100;
const BUCKET_MS: u64 = 900_000;
const BATCH: u32 = 50;
/// Most values one D1 statement binds.
const MAX_PARAMS: usize = 100;

/// `{head} VALUES (?1, …), (…) {tail}`: as many rows to a statement as D1's limit allows.
fn insert_rows(
    db: &D1Database,
    head: &str,
    tail: &str,
    rows: Vec<Vec<JsValue>>,
) -> Result<Vec<D1PreparedStatement>> {
    let per = (MAX_PARAMS / rows.first().map_or(1, Vec::len).max(1)).max(1);
    let mut out = Vec::new();
    for chunk in rows.chunks(per) {
        let mut n = 0;
        let tuples: Vec<String> = chunk
            .iter()
            .map(|row| {
                let marks: Vec<String> = row
                    .iter()
                    .map(|_| {
                        n += 1;
                        format!("?{n}")
                    })
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let values: Vec<JsValue> = chunk.iter().flatten().cloned().collect();
        out.push(
            db.prepare(format!("{head} VALUES {} {tail}", tuples.join(", ")))
                .bind(&values)?,
        );
    }
    Ok(out)
}

const MIRROR_SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, last_seq INTEGER, last_at INTEGER, preview TEXT, version INTEGER)",
    "CREATE TABLE IF NOT EXISTS messages (room TEXT, seq INTEGER, client_msg_id TEXT, text TEXT, ts INTEGER, PRIMARY KEY (room, seq))",
    "CREATE TABLE IF NOT EXISTS counts (bucket INTEGER PRIMARY KEY, msgs INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS analysis (room TEXT, seq INTEGER, sentiment REAL, intent TEXT, ts INTEGER, PRIMARY KEY (room, seq))",
    "CREATE TABLE IF NOT EXISTS intents (bucket INTEGER, intent TEXT, messages INTEGER NOT NULL DEFAULT 0, sentiment_sum REAL NOT NULL DEFAULT 0, PRIMARY KEY (bucket, intent))",
];

#[wasm_bindgen]
extern "C" {
    /// A WebSocket seen only for `send(value)` (web-sys binds only `send(&str)`, which converts
    /// the frame from UTF-8 once per socket).
    type Socket;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &Socket, data: &JsValue) -> std::result::Result<(), JsValue>;
}

#[derive(Serialize, Deserialize)]
struct Attachment {
    room: String,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    client_msg_id: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Seq {
    s: f64,
}

#[derive(Deserialize)]
struct Queued {
    seq: f64,
    text: String,
    ts: f64,
}

/// Up to 120 characters, cut on a character boundary (the JS anchor's `slice(0, 120)` counts
/// UTF-16 units; the benchmark's texts are ASCII).
fn preview(text: &str) -> &str {
    text.char_indices()
        .nth(120)
        .map_or(text, |(at, _)| &text[..at])
}

#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    name: RefCell<Option<String>>,
    flushed_at: Cell<u64>,
    flushing: Cell<bool>,
    mirror_ready: Cell<bool>,
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS msgs (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_msg_id TEXT UNIQUE, text TEXT NOT NULL, ts INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, text TEXT NOT NULL, ts INTEGER NOT NULL)",
        ] {
            let _ = sql.exec(ddl, None);
        }
        Self {
            state,
            env,
            name: RefCell::new(None),
            flushed_at: Cell::new(0),
            flushing: Cell::new(false),
            mirror_ready: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let room = req.path();
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server
            .serialize_attachment(Attachment { room: room.clone() })?;
        *self.name.borrow_mut() = Some(room);
        Response::from_websocket(pair.client)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let WebSocketIncomingMessage::String(data) = message else {
            return Ok(());
        };
        let Ok(f) = serde_json::from_str::<Frame>(&data) else {
            return Ok(());
        };
        if f.kind != "message" {
            return Ok(());
        }
        if self.name.borrow().is_none() {
            let room = ws.deserialize_attachment::<Attachment>()?.map(|a| a.room);
            *self.name.borrow_mut() = room;
        }
        let ts = Date::now().as_millis();
        let sql = self.state.storage().sql();
        sql.exec(
            "INSERT INTO msgs (client_msg_id, text, ts) VALUES (?, ?, ?)",
            vec![
                SqlStorageValue::from(f.client_msg_id.as_str()),
                SqlStorageValue::from(f.text.as_str()),
                SqlStorageValue::Float(ts as f64),
            ],
        )?;
        let seq = sql
            .exec("SELECT last_insert_rowid() AS s", None)?
            .to_array::<Seq>()?
            .first()
            .map_or(0.0, |r| r.s);
        sql.exec(
            "INSERT INTO outbox (seq, text, ts) VALUES (?, ?, ?)",
            vec![
                SqlStorageValue::Float(seq),
                SqlStorageValue::from(f.text.as_str()),
                SqlStorageValue::Float(ts as f64),
            ],
        )?;
        let _ = ws.send_with_str(
            json!({"type": "ack", "client_msg_id": f.client_msg_id, "seq": seq, "ts": ts})
                .to_string(),
        );
        let out = JsValue::from_str(
            &json!({"type": "message", "seq": seq, "text": f.text, "ts": ts}).to_string(),
        );
        for s in self.state.get_websockets() {
            let socket: &worker::web_sys::WebSocket = s.as_ref();
            let _ = socket.unchecked_ref::<Socket>().send(&out);
        }
        let flushed_at = self.flushed_at.get();
        if ts >= flushed_at && ts - flushed_at < WINDOW_MS {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                // workers-rs reads an integer as milliseconds from now.
                storage
                    .set_alarm((flushed_at + WINDOW_MS - ts) as i64)
                    .await?;
            }
            return Ok(());
        }
        self.flushed_at.set(ts);
        self.flush().await;
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        self.flushed_at.set(Date::now().as_millis());
        self.flush().await;
        Response::ok("ok")
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        let code = if code == 1005 || code == 1006 {
            1000
        } else {
            code as u16
        };
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }
}

impl Room {
    /// Mirrors the outbox, a batch at a time; a failure leaves the rest in the outbox for an
    /// alarm a second later.
    async fn flush(&self) {
        if self.flushing.replace(true) {
            return;
        }
        if let Err(e) = self.mirror().await {
            worker::console_error!("mirror flush failed: {e}");
            let _ = self.state.storage().set_alarm(1000).await;
        }
        self.flushing.set(false);
    }

    async fn mirror(&self) -> Result<()> {
        let db = self.env.d1("DB")?;
        let room = self.name.borrow().clone().unwrap_or_else(|| "room".into());
        let r = JsValue::from_str(&room);
        if !self.mirror_ready.get() {
            db.batch(MIRROR_SCHEMA.iter().map(|s| db.prepare(*s)).collect())
                .await?;
            self.mirror_ready.set(true);
        }
        let sql = self.state.storage().sql();
        loop {
            let rows: Vec<Queued> = sql
                .exec(
                    "SELECT seq, text, ts FROM outbox ORDER BY seq LIMIT ?",
                    vec![SqlStorageValue::Float(BATCH as f64)],
                )?
                .to_array()?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            // The window's statements as PrismAI's mirror writes them: one count per quarter
            // hour (messages mirrored already left out), the analysis counter taken out and
            // added back around one multi-row insert, multi-row message inserts; inserts split
            // at D1's 100 parameters.
            let mut stmts = Vec::new();
            let mut buckets: Vec<(u64, Vec<f64>)> = Vec::new();
            for q in &rows {
                let bucket = q.ts as u64 / BUCKET_MS;
                match buckets.iter_mut().find(|(b, _)| *b == bucket) {
                    Some((_, seqs)) => seqs.push(q.seq),
                    None => buckets.push((bucket, vec![q.seq])),
                }
            }
            for (bucket, seqs) in &buckets {
                stmts.push(
                    db.prepare("INSERT INTO counts (bucket, msgs) SELECT ?1, n FROM (SELECT COUNT(*) AS n FROM json_each(?3) AS j WHERE NOT EXISTS (SELECT 1 FROM messages WHERE room = ?2 AND seq = j.value)) WHERE n > 0 ON CONFLICT (bucket) DO UPDATE SET msgs = msgs + excluded.msgs")
                        .bind(&[JsValue::from_f64(*bucket as f64), r.clone(), JsValue::from_str(&serde_json::to_string(seqs)?)])?,
                );
            }
            let seqs = JsValue::from_str(&serde_json::to_string(
                &rows.iter().map(|q| q.seq).collect::<Vec<_>>(),
            )?);
            let around = |sign: f64| {
                db.prepare("INSERT INTO intents (bucket, intent, messages, sentiment_sum) SELECT ts / 900000, intent, ?3, ?3 * sentiment FROM analysis WHERE room = ?1 AND seq IN (SELECT value FROM json_each(?2)) ON CONFLICT (bucket, intent) DO UPDATE SET messages = messages + excluded.messages, sentiment_sum = sentiment_sum + excluded.sentiment_sum")
                    .bind(&[r.clone(), seqs.clone(), JsValue::from_f64(sign)])
            };
            // A message's row in a mirror table: the room, its seq, `middle`, its time.
            let row = |q: &Queued, middle: &[JsValue]| {
                let mut v = vec![r.clone(), JsValue::from_f64(q.seq)];
                v.extend_from_slice(middle);
                v.push(JsValue::from_f64(q.ts));
                v
            };
            stmts.push(around(-1.0)?);
            stmts.extend(insert_rows(
                &db,
                "INSERT INTO analysis (room, seq, sentiment, intent, ts)",
                "ON CONFLICT (room, seq) DO NOTHING",
                rows.iter()
                    .map(|q| row(q, &[JsValue::from_f64(0.0), JsValue::from_str("other")]))
                    .collect(),
            )?);
            stmts.push(around(1.0)?);
            stmts.extend(insert_rows(
                &db,
                "INSERT INTO messages (room, seq, text, ts)",
                "ON CONFLICT (room, seq) DO NOTHING",
                rows.iter()
                    .map(|q| row(q, &[JsValue::from_str(&q.text)]))
                    .collect(),
            )?);
            stmts.push(
                db.prepare("INSERT INTO rooms (id, last_seq, last_at, preview, version) VALUES (?1, ?2, ?3, ?4, ?2) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, last_at = excluded.last_at, preview = excluded.preview, version = excluded.version WHERE excluded.version > rooms.version")
                    .bind(&[r.clone(), JsValue::from_f64(last.seq), JsValue::from_f64(last.ts), JsValue::from_str(preview(&last.text))])?,
            );
            db.batch(stmts).await?;
            let events: Vec<_> = rows
                .iter()
                .map(|q| json!({"room": room, "seq": q.seq, "ts": q.ts, "preview": preview(&q.text)}))
                .collect();
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_body(Some(JsValue::from_str(&serde_json::to_string(&events)?)));
            self.env
                .durable_object("INBOX")?
                .id_from_name("inbox")?
                .get_stub()?
                .fetch_with_request(Request::new_with_init("http://inbox/publish", &init)?)
                .await?;
            sql.exec(
                "DELETE FROM outbox WHERE seq <= ?",
                vec![SqlStorageValue::Float(last.seq)],
            )?;
        }
    }
}

/// The tenant's inbox, as `jsmirror.js`'s: keeps each event (so an agent who connects later can
/// catch up) and sends it to the agents' sockets (none in the benchmark).
#[durable_object]
pub struct Inbox {
    state: State,
}

impl DurableObject for Inbox {
    fn new(state: State, _env: Env) -> Self {
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let events: Vec<serde_json::Value> = req.json().await?;
        let sql = self.state.storage().sql();
        let sockets = self.state.get_websockets();
        for e in events {
            let data = e.to_string();
            sql.exec(
                "INSERT INTO events (data) VALUES (?)",
                vec![SqlStorageValue::from(data.as_str())],
            )?;
            for s in &sockets {
                let _ = s.send_with_str(&data);
            }
        }
        Response::ok("ok")
    }
}
