//! Native implementations of the ports for tests and benchmarks: deterministic randomness, a
//! hand-moved clock, an in-memory key-value store and live hub, and a real SQLite database
//! (rusqlite) standing in for D1 / Durable Object storage / Spin SQLite, which are SQLite too.

use crate::platform::{Config, Platform, RuntimeKind};
use crate::ports::{
    Clock, Connection, ConnectionId, KvStore, LiveHub, Logger, PortError, Random, Row, SqlDatabase,
    SqlValue, Statement,
};
use async_trait::async_trait;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Deterministic, non-repeating "randomness": a counter run through SHA-256.
#[derive(Default)]
pub struct SeqRandom(Cell<u64>);

impl Random for SeqRandom {
    fn fill(&self, buf: &mut [u8]) {
        use sha2::{Digest, Sha256};
        for chunk in buf.chunks_mut(32) {
            let n = self.0.get();
            self.0.set(n + 1);
            let d = Sha256::digest(n.to_le_bytes());
            chunk.copy_from_slice(&d[..chunk.len()]);
        }
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Cell<i64>);

impl ManualClock {
    pub fn new(now_ms: i64) -> Self {
        ManualClock(Cell::new(now_ms))
    }
    pub fn advance(&self, ms: i64) {
        self.0.set(self.0.get() + ms);
    }
    pub fn set(&self, now_ms: i64) {
        self.0.set(now_ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.get()
    }
}

/// Sleeping on a manual clock just moves it: streams that poll run instantly and deterministically.
#[async_trait(?Send)]
impl crate::ports::Timer for ManualClock {
    async fn sleep(&self, ms: u64) {
        self.advance(ms as i64);
    }
}

/// Collects log lines so tests can assert on them (e.g. that no secret is logged).
#[derive(Default)]
pub struct VecLogger(pub RefCell<Vec<String>>);

impl Logger for VecLogger {
    fn log(&self, line: &str) {
        self.0.borrow_mut().push(line.to_string());
    }
}

#[derive(Default)]
pub struct MemoryKv(RefCell<HashMap<String, Vec<u8>>>);

#[async_trait(?Send)]
impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.0.borrow().get(key).cloned())
    }
    async fn put(&self, key: &str, value: &[u8], _ttl: Option<u64>) -> Result<(), PortError> {
        self.0.borrow_mut().insert(key.to_string(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

/// A live hub that records what each connection was sent.
#[derive(Default)]
pub struct MemoryHub {
    conns: RefCell<BTreeMap<ConnectionId, (serde_json::Value, Vec<String>)>>,
    closed: RefCell<Vec<(ConnectionId, u16)>>,
    /// Calls to `connections()`: each copies every socket's attachment (on Cloudflare, one
    /// crossing per socket), so hot paths are tested for not calling it.
    scans: Cell<u32>,
}

impl MemoryHub {
    pub fn with_connections(ids: &[&str]) -> Self {
        let hub = MemoryHub::default();
        for id in ids {
            hub.connect(id, serde_json::Value::Null);
        }
        hub
    }
    pub fn connect(&self, id: &str, attachment: serde_json::Value) {
        self.conns
            .borrow_mut()
            .insert(id.to_string(), (attachment, Vec::new()));
    }
    pub fn disconnect(&self, id: &str) {
        self.conns.borrow_mut().remove(id);
    }
    pub fn sent_to(&self, id: &str) -> Vec<String> {
        self.conns
            .borrow()
            .get(id)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }
    /// Frames sent to `id`, parsed, and forgotten (so the next call sees only new ones).
    pub fn take(&self, id: &str) -> Vec<serde_json::Value> {
        let mut conns = self.conns.borrow_mut();
        let Some(c) = conns.get_mut(id) else {
            return Vec::new();
        };
        c.1.drain(..)
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect()
    }
    pub fn attachment(&self, id: &str) -> Option<serde_json::Value> {
        self.conns.borrow().get(id).map(|c| c.0.clone())
    }
    pub fn closed(&self) -> Vec<(ConnectionId, u16)> {
        self.closed.borrow().clone()
    }
    /// How many times every connection was listed so far.
    pub fn scans(&self) -> u32 {
        self.scans.get()
    }
}

impl LiveHub for MemoryHub {
    fn connections(&self) -> Vec<Connection> {
        self.scans.set(self.scans.get() + 1);
        self.conns
            .borrow()
            .iter()
            .map(|(id, (a, _))| Connection {
                id: id.clone(),
                attachment: a.clone(),
            })
            .collect()
    }
    fn send(&self, to: &str, text: &str) {
        if let Some(c) = self.conns.borrow_mut().get_mut(to) {
            c.1.push(text.to_string());
        }
    }
    fn close(&self, to: &str, code: u16, _reason: &str) {
        if self.conns.borrow_mut().remove(to).is_some() {
            self.closed.borrow_mut().push((to.to_string(), code));
        }
    }
    fn set_attachment(&self, id: &str, value: &serde_json::Value) {
        if let Some(c) = self.conns.borrow_mut().get_mut(id) {
            c.0 = value.clone();
        }
    }
}

/// A real SQLite database in memory.
pub struct SqliteDb(rusqlite::Connection, Cell<u64>);

impl SqliteDb {
    pub fn open_in_memory() -> Self {
        SqliteDb(
            rusqlite::Connection::open_in_memory().expect("sqlite in memory"),
            Cell::new(0),
        )
    }

    /// Statements run so far (tests assert that a path does not touch the database).
    pub fn statements(&self) -> u64 {
        self.1.get()
    }

    /// Applies every migration in order as whole files, as `wrangler d1 migrations apply` does
    /// (the Spin path, statement by statement, is `migrations::apply_pending`).
    pub fn with_migrations() -> Self {
        let db = Self::open_in_memory();
        for (name, sql) in crate::migrations::MIGRATIONS {
            db.0.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {name}: {e}"));
        }
        db
    }

    fn to_sql(v: &SqlValue) -> rusqlite::types::Value {
        use rusqlite::types::Value as V;
        match v {
            SqlValue::Null => V::Null,
            SqlValue::Integer(i) => V::Integer(*i),
            SqlValue::Real(f) => V::Real(*f),
            SqlValue::Text(s) => V::Text(s.clone()),
            SqlValue::Blob(b) => V::Blob(b.clone()),
        }
    }

    /// D1 and Durable Object storage refuse a statement binding more than
    /// [`crate::records::MAX_PARAMS`] values; so do the tests' databases, so a test finds it.
    fn within_limit(params: &[SqlValue]) -> Result<(), PortError> {
        if params.len() > crate::records::MAX_PARAMS {
            return Err(PortError::new(format!(
                "too many SQL variables: {} (D1 binds at most {})",
                params.len(),
                crate::records::MAX_PARAMS
            )));
        }
        Ok(())
    }

    fn run_query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        Self::within_limit(params)?;
        self.1.set(self.1.get() + 1);
        let err = |e: rusqlite::Error| PortError::new(e.to_string());
        let mut stmt = self.0.prepare(sql).map_err(err)?;
        let columns: Rc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
        let n = columns.len();
        let values: Vec<_> = params.iter().map(Self::to_sql).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values.iter()))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                vals.push(match r.get_ref(i).map_err(err)? {
                    ValueRef::Null => SqlValue::Null,
                    ValueRef::Integer(i) => SqlValue::Integer(i),
                    ValueRef::Real(f) => SqlValue::Real(f),
                    ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
                });
            }
            out.push(Row::new(columns.clone(), vals));
        }
        Ok(out)
    }

    fn run_execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        Self::within_limit(params)?;
        self.1.set(self.1.get() + 1);
        let values: Vec<_> = params.iter().map(Self::to_sql).collect();
        self.0
            .execute(sql, rusqlite::params_from_iter(values.iter()))
            .map(|n| n as u64)
            .map_err(|e| PortError::new(e.to_string()))
    }
}

#[async_trait(?Send)]
impl SqlDatabase for SqliteDb {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        self.run_query(sql, params)
    }
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        self.run_execute(sql, params)
    }
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        // A savepoint, not BEGIN, so a batch nests inside an object's transaction.
        let err = |e: rusqlite::Error| PortError::new(e.to_string());
        self.0.execute_batch("SAVEPOINT batch").map_err(err)?;
        let mut out = Vec::new();
        for s in &statements {
            match self.run_execute(&s.sql, &s.params) {
                Ok(n) => out.push(n),
                Err(e) => {
                    let _ = self.0.execute_batch("ROLLBACK TO batch; RELEASE batch");
                    return Err(e);
                }
            }
        }
        self.0.execute_batch("RELEASE batch").map_err(err)?;
        Ok(out)
    }
}

/// The ports of one native test platform, kept so tests can inspect and steer them. Live
/// objects run in-process over the same SQLite database, as on Spin.
pub struct TestRig {
    pub clock: Rc<ManualClock>,
    pub kv: Rc<MemoryKv>,
    pub db: Rc<SqliteDb>,
    pub log: Rc<VecLogger>,
    pub random: Rc<SeqRandom>,
    pub config: Config,
    pub vectors: Rc<crate::knowledge::cache::VectorCache>,
    pub memo: Rc<crate::memo::Memo>,
    /// Outbound HTTP for tests of provider clients (a scripted fake); none by default.
    pub http: RefCell<Option<Rc<dyn crate::ports::HttpClient>>>,
}

/// The platform admin secret and JWT keys a [`TestRig`] is configured with.
pub const TEST_ADMIN_SECRET: &str = "test-platform-admin-secret-0123456789";
pub const TEST_JWT_KEYS: &str = "k1:test-jwt-signing-secret-0123456789abcdef";
pub const TEST_MASTER_KEYS: &str = "m1:dGVzdC1tYXN0ZXIta2V5LTAxMjM0NTY3ODlhYmNkZWY=";

impl TestRig {
    /// A rig with a migrated SQLite database, an empty key-value store, diagnostics on, and a
    /// platform admin secret and JWT keys configured.
    pub fn new() -> Self {
        let mut config = Config::new();
        config.set("diagnostics", "on");
        config.set("platform_admin_secret", TEST_ADMIN_SECRET);
        config.set("jwt_signing_keys", TEST_JWT_KEYS);
        config.set("secrets_master_keys", TEST_MASTER_KEYS);
        TestRig {
            clock: Rc::new(ManualClock::new(1_750_000_000_000)),
            kv: Rc::new(MemoryKv::default()),
            db: Rc::new(SqliteDb::with_migrations()),
            log: Rc::new(VecLogger::default()),
            random: Rc::new(SeqRandom::default()),
            config,
            vectors: Rc::default(),
            memo: Rc::default(),
            http: RefCell::new(None),
        }
    }

    pub fn clock_now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn platform(&self) -> Rc<Platform> {
        // Objects run in-process; the platform they use for AI answers has no objects itself
        // (it is already inside an object's transaction).
        let inner = Rc::new(self.build(None));
        let objects = Rc::new(crate::objects::in_process::InProcessObjects {
            db: self.db.clone(),
            clock: self.clock.clone(),
            random: self.random.clone(),
            platform: Some(inner),
        });
        Rc::new(self.build(Some(objects)))
    }

    fn build(&self, objects: Option<Rc<dyn crate::ports::Objects>>) -> Platform {
        Platform {
            runtime: RuntimeKind::Native,
            clock: self.clock.clone(),
            random: self.random.clone(),
            log: self.log.clone(),
            timer: self.clock.clone(),
            background: Rc::new(crate::ports::Inline),
            kv: Some(self.kv.clone()),
            blobs: Some(Rc::new(crate::files::KvBlobs::new(self.kv.clone()))),
            db: Some(self.db.clone()),
            objects,
            http: self.http.borrow().clone(),
            queue: None,
            config: self.config.clone(),
            vectors: self.vectors.clone(),
            memo: self.memo.clone(),
        }
    }
}

impl Default for TestRig {
    fn default() -> Self {
        Self::new()
    }
}

/// A new web conversation's state as stored, for tests of what the object keeps and queues.
pub fn sample_meta(last_seq: i64) -> crate::conversations::model::Meta {
    let mut m: crate::conversations::model::Meta = serde_json::from_value(serde_json::json!({
        "tenant_id": "ten_1", "conversation_id": "cnv_1", "customer_id": "cus_1",
        "customer_name": "Ann", "channel": "web", "status": "open", "assignee_id": null,
        "assignee_name": null, "priority": "normal", "tags": [], "subject": null,
        "handoff_reason": null, "last_seq": 0, "last_message_at": null,
        "last_message_preview": null, "read_customer": 0, "read_agent": 0,
        "unread_agent": 0, "unread_customer": 0, "ai_turns": 0, "created_at": 1,
        "updated_at": 1
    }))
    .expect("a valid state");
    m.last_seq = last_seq;
    m
}

/// A valid body for every route that takes one, for the route-walking tests (native and end to
/// end). A new route without an entry fails those tests, so it cannot skip isolation and
/// permission testing.
pub fn sample_body(r: &crate::router::Route) -> Option<serde_json::Value> {
    use crate::http::Method;
    use serde_json::json;
    r.request?;
    Some(match (r.method, r.template) {
        (Method::Post, "/v1/auth/token") => json!({"email": "nobody@nowhere.example"}),
        (Method::Put, "/v1/tenant/config") => {
            json!({"version": 1, "config": {"language": "de", "allowed_origins": ["https://shop.example"]}})
        }
        (Method::Put, "/v1/tenant/features/{flag}") => json!({"enabled": false}),
        (Method::Post, "/v1/api-keys") => {
            json!({"name": "x", "kind": "secret", "scopes": ["admin"]})
        }
        (Method::Patch, "/v1/users/{user_id}") => json!({"name": "Renamed", "role": "viewer"}),
        (Method::Post, "/v1/invitations") => {
            json!({"email": "new@x.example", "name": "New", "role": "agent"})
        }
        (Method::Post, "/v1/widget/identify") => json!({}),
        (Method::Post, "/v1/voice/speech") => json!({"text": "Hello"}),
        (Method::Post, "/v1/platform/tenants") => {
            json!({"name": "X", "slug": "x-sample", "owner_email": "o@x.example", "owner_name": "O"})
        }
        (Method::Patch, "/v1/platform/tenants/{tenant_id}") => json!({"name": "Renamed"}),
        (Method::Post, "/v1/invitations/accept") => json!({"token": "inv_unknown"}),
        (Method::Post, "/v1/conversations") => json!({"name": "Sample Customer"}),
        (Method::Post, "/v1/auth/refresh") => json!({}),
        (Method::Patch, "/v1/conversations/{conversation_id}") => json!({"tags": ["billing"]}),
        (Method::Post, "/v1/conversations/{conversation_id}/messages") => {
            json!({"text": "hello", "client_msg_id": "sample-1"})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/read") => json!({"up_to_seq": 1}),
        (Method::Post, "/v1/conversations/{conversation_id}/survey") => {
            json!({"answers": {"csat": 5}})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/handoff") => json!({}),
        (Method::Post, "/v1/conversations/{conversation_id}/typing") => json!({"typing": true}),
        (Method::Put, "/v1/conversations/{conversation_id}/messages/{seq}/rating") => {
            json!({"rating": "up"})
        }
        (Method::Post, "/v1/widget/resume") => {
            json!({"visitor_id": "vis_aaaaaaaaaaaaaaaaaaaaaaaaaa"})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/status") => {
            json!({"status": "resolved"})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/assign") => json!({"user_id": null}),
        (Method::Post, "/v1/conversations/{conversation_id}/notes") => json!({"text": "internal"}),
        (Method::Post, "/v1/conversations/{conversation_id}/token") => {
            json!({"visitor_id": "vis_aaaaaaaaaaaaaaaaaaaaaaaaaa"})
        }
        (Method::Post, "/v1/knowledge/documents")
        | (Method::Put, "/v1/knowledge/documents/{document_id}") => {
            json!({"title": "Sample", "content": "Sample knowledge: parcels ship within two days."})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/translate") => {
            json!({"text": "Hola", "to": "en"})
        }
        (Method::Put, "/v1/tenant/secrets/{name}") => json!({"value": "sample-secret"}),
        (Method::Post, "/v1/canned-responses")
        | (Method::Put, "/v1/canned-responses/{canned_id}") => {
            json!({"shortcut": "sample", "title": "Sample", "text": "Hello from a canned response"})
        }
        (Method::Post, "/v1/webhooks/endpoints") => {
            json!({"url": "https://hooks.sample.example/in", "events": ["*"]})
        }
        (Method::Patch, "/v1/webhooks/endpoints/{endpoint_id}") => {
            json!({"description": "renamed"})
        }
        (Method::Put, "/v1/conversations/{conversation_id}/lead") => {
            json!({"name": "Sample", "email": "sample@sample.example", "consent": true})
        }
        (Method::Post, "/v1/leads") => {
            json!({"customer_id": "cus_00000000000000000000000000", "company": "Sample"})
        }
        (Method::Patch, "/v1/leads/{lead_id}") => json!({"stage": "contacted"}),
        (Method::Post, "/v1/conversations/{conversation_id}/reviews") => {
            json!({"answers": [{"criterion": "greeting", "value": "yes"}, {"criterion": "understanding", "value": 4},
                {"criterion": "accuracy", "value": 4}, {"criterion": "resolution", "value": "yes"}, {"criterion": "empathy", "value": "na"}]})
        }
        (Method::Post, "/v1/conversations/{conversation_id}/reviews/ai") => json!({}),
        (Method::Patch, "/v1/reviews/{review_id}") => json!({"status": "acknowledged"}),
        (m, t) => panic!("no sample body for {m} {t}: add one to prism_core::testing::sample_body"),
    })
}

/// A route's path with its parameters filled from `values` (`flag` defaults to a real flag).
/// Panics when a parameter has no value, so new parameters get test resources.
pub fn fill_path(r: &crate::router::Route, values: &[(&str, &str)]) -> String {
    let mut path = r.template.to_string();
    for (name, value) in values.iter().copied().chain([
        ("flag", "ai_answers"),
        ("name", "sample"),
        ("seq", "1"),
        ("provider", "hubspot"),
        // Tests that own a review pass its id first; else one no tenant has.
        ("review_id", "rev_aaaaaaaaaaaaaaaaaaaaaaaaaa"),
        // Likewise a file (tests/files.rs owns real ones).
        ("file_id", "fil_aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ]) {
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(
        !path.contains('{'),
        "no test resource for a parameter of {}",
        r.template
    );
    path
}

/// Outbound HTTP answered by a test's script (a fake Gemini or OpenAI), recording every request.
pub struct ScriptedHttp {
    #[allow(clippy::type_complexity)]
    handler: Box<dyn Fn(&crate::http::Request, usize) -> crate::http::Response>,
    pub calls: RefCell<Vec<crate::http::Request>>,
}

impl ScriptedHttp {
    /// `handler(request, call_index)` builds each response.
    pub fn new(
        handler: impl Fn(&crate::http::Request, usize) -> crate::http::Response + 'static,
    ) -> Rc<ScriptedHttp> {
        Rc::new(ScriptedHttp {
            handler: Box::new(handler),
            calls: RefCell::new(Vec::new()),
        })
    }

    /// An SSE response streaming `events` as `data:` frames, one chunk each.
    pub fn sse(events: &[String]) -> crate::http::Response {
        let chunks: Vec<Vec<u8>> = events
            .iter()
            .map(|e| format!("data: {e}\n\n").into_bytes())
            .collect();
        let mut r = crate::http::Response::new(200);
        r.headers.set("content-type", "text/event-stream");
        r.body = crate::http::Body::Stream(Box::pin(futures::stream::iter(chunks)));
        r
    }

    /// A response whose body never produces a byte (a provider that hangs).
    pub fn hanging() -> crate::http::Response {
        let mut r = crate::http::Response::new(200);
        r.body = crate::http::Body::Stream(Box::pin(futures::stream::pending()));
        r
    }
}

#[async_trait(?Send)]
impl crate::ports::HttpClient for ScriptedHttp {
    async fn send(&self, req: crate::http::Request) -> Result<crate::http::Response, PortError> {
        let n = self.calls.borrow().len();
        let resp = (self.handler)(&req, n);
        self.calls.borrow_mut().push(req);
        Ok(resp)
    }
}

/// A one-page PDF whose page says `text`, built with lopdf itself.
#[cfg(feature = "pdf")]
pub fn pdf_saying(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
