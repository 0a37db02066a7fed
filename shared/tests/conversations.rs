//! The conversation object natively: live protocol (ordering, acks, typing, read receipts,
//! presence, resume), idempotency, limits, status machine, internal notes, the mirror outbox
//! (including a failing mirror), and handoff routing in the inbox object.

use futures::executor::block_on;
use prism_core::conversations::engine::{
    self, kept_meta::KeptMeta, kept_outbox::KeptOutbox, mirrored::Mirrored, InitRequest, ObjectEnv,
};
use prism_core::conversations::{mirror, model::Participant, model::Status, store};
use prism_core::objects::{self, inbox, ObjectContext};
use prism_core::pagination::PageRequest;
use prism_core::ports::{ObjectClass, ObjectRef, PortError, Row, SqlDatabase, SqlValue, Statement};
use prism_core::testing::{ManualClock, MemoryHub, SeqRandom, SqliteDb};
use serde_json::{json, Value};
use std::cell::Cell;

const NAME: &str = "ten_1:cnv_1";

struct World {
    store: SqliteDb,
    mirror: SqliteDb,
    hub: MemoryHub,
    clock: ManualClock,
    random: SeqRandom,
    /// The state kept in memory, as a Durable Object keeps it: every test here runs with it.
    kept: KeptMeta,
    /// What the last flush wrote to the mirror row's rollup fields, as a Durable Object keeps it.
    mirrored: Mirrored,
    /// The mirror outbox kept in memory, as a Durable Object keeps it.
    outbox: KeptOutbox,
}

impl World {
    fn new() -> World {
        let w = World {
            store: SqliteDb::open_in_memory(),
            mirror: SqliteDb::with_migrations(),
            hub: MemoryHub::default(),
            clock: ManualClock::new(1_000_000),
            random: SeqRandom::default(),
            kept: KeptMeta::default(),
            mirrored: Mirrored::default(),
            outbox: KeptOutbox::default(),
        };
        block_on(store::ensure_schema(&w.store)).unwrap();
        block_on(engine::init(
            &w.env(),
            InitRequest {
                tenant_id: "ten_1".into(),
                conversation_id: "cnv_1".into(),
                customer_id: "cus_1".into(),
                customer_name: "Ann".into(),
                channel: prism_core::conversations::Channel::Web,
                subject: None,
                tags: vec!["billing".into()],
                language: None,
            },
        ))
        .unwrap();
        w
    }

    fn env(&self) -> ObjectEnv<'_> {
        ObjectEnv {
            name: NAME,
            store: &self.store,
            hub: &self.hub,
            clock: &self.clock,
            random: &self.random,
            schema_ready: None,
            kept: Some(&self.kept),
            mirrored: Some(&self.mirrored),
            outbox: Some(&self.outbox),
        }
    }

    /// Connects a participant the way the runtime adapter does: admit, attach, greet.
    fn join(&self, conn: &str, who: &Participant) {
        let attachment = block_on(engine::connect(&self.env(), who)).unwrap();
        self.hub.connect(conn, attachment);
        block_on(engine::joined(&self.env(), conn)).unwrap();
    }

    fn text(&self, conn: &str, frame: Value) {
        block_on(engine::on_text(&self.env(), conn, &frame.to_string())).unwrap();
    }

    fn leave(&self, conn: &str) {
        let a = self.hub.attachment(conn).unwrap();
        self.hub.disconnect(conn);
        block_on(engine::on_close(&self.env(), conn, &a)).unwrap();
    }

    /// The text the mirror holds for message `seq`.
    fn mirrored_text(&self, seq: i64) -> Option<String> {
        let rows = block_on(self.mirror.query(
            "SELECT text FROM conversation_messages WHERE seq = ?1",
            &[SqlValue::Integer(seq)],
        ))
        .unwrap();
        rows.first().and_then(|r| r.text("text"))
    }

    fn flush(&self, mirror_db: &dyn SqlDatabase) -> Option<i64> {
        block_on(engine::flush(&self.env(), mirror_db, None, None)).unwrap()
    }
}

fn customer() -> Participant {
    Participant::Customer {
        id: "cus_1".into(),
        name: "Ann".into(),
    }
}
fn customer2() -> Participant {
    // A second device of the same customer.
    Participant::Customer {
        id: "cus_1".into(),
        name: "Ann".into(),
    }
}
fn agent() -> Participant {
    Participant::Agent {
        id: "usr_1".into(),
        name: "Alex".into(),
    }
}

fn types(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn two_customers_and_an_agent_see_the_same_ordered_log_with_acks_typing_reads_and_presence() {
    let w = World::new();
    w.join("c1", &customer());
    w.join("c2", &customer2());
    assert_eq!(types(&w.hub.take("c1")), vec!["welcome"]);
    w.hub.take("c2");
    w.join("a1", &agent());
    assert_eq!(types(&w.hub.take("a1")), vec!["welcome"]);
    let presence = w.hub.take("c1");
    assert_eq!(presence[0]["type"], "presence");
    assert_eq!(presence[0]["state"], "joined");
    assert_eq!(presence[0]["agent"]["name"], "Alex");
    w.hub.take("c2");

    w.text(
        "c1",
        json!({"type": "message", "client_msg_id": "m1", "text": "Hello"}),
    );
    w.text(
        "a1",
        json!({"type": "message", "client_msg_id": "a1", "text": "Hi Ann"}),
    );
    w.text(
        "c2",
        json!({"type": "message", "client_msg_id": "m2", "text": "From my phone"}),
    );
    let c1 = w.hub.take("c1");
    assert_eq!(types(&c1), vec!["message", "ack", "message", "message"]);
    assert_eq!(c1[1]["seq"], 1);
    let seqs = |frames: &[Value]| -> Vec<i64> {
        frames
            .iter()
            .filter(|f| f["type"] == "message")
            .map(|f| f["seq"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&c1), vec![1, 2, 3]);
    assert_eq!(seqs(&w.hub.take("a1")), vec![1, 2, 3]);
    assert_eq!(seqs(&w.hub.take("c2")), vec![1, 2, 3]);

    w.text("c1", json!({"type": "typing"}));
    assert!(w.hub.take("c1").is_empty(), "no echo of one's own typing");
    let t = w.hub.take("a1");
    assert_eq!(
        (t[0]["type"].as_str(), t[0]["author"]["type"].as_str()),
        (Some("typing"), Some("customer"))
    );
    w.hub.take("c2");

    w.text("a1", json!({"type": "read", "up_to_seq": 3}));
    let r = w.hub.take("c1");
    assert_eq!(
        (r[0]["type"].as_str(), r[0]["up_to_seq"].as_i64()),
        (Some("read"), Some(3))
    );
    let meta = block_on(store::load_meta(&w.store, NAME)).unwrap().unwrap();
    assert_eq!((meta.read_agent, meta.unread_agent), (3, 0));

    w.leave("a1");
    let left = w.hub.take("c1");
    assert_eq!(
        (left[0]["type"].as_str(), left[0]["state"].as_str()),
        (Some("presence"), Some("left"))
    );
}

#[test]
fn resume_delivers_exactly_the_missed_messages_and_resends_are_acked_not_stored() {
    let w = World::new();
    w.join("c1", &customer());
    w.join("a1", &agent());
    for i in 1..=3 {
        w.text("c1", json!({"type": "message", "client_msg_id": format!("m{i}"), "text": format!("msg {i}")}));
    }
    // The customer drops after seeing seq 2 and misses the agent's replies.
    w.leave("c1");
    for i in 1..=4 {
        w.text("a1", json!({"type": "message", "client_msg_id": format!("r{i}"), "text": format!("reply {i}")}));
    }
    w.join("c1b", &customer());
    w.hub.take("c1b");
    w.text("c1b", json!({"type": "hello", "last_seq": 2}));
    let frames = w.hub.take("c1b");
    let got: Vec<i64> = frames
        .iter()
        .filter(|f| f["type"] == "message")
        .map(|f| f["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![3, 4, 5, 6, 7],
        "exactly the missed ones, in order"
    );
    assert_eq!(frames.last().unwrap()["type"], "welcome");

    // Re-sending m3 (lost ack) returns the original ack and creates nothing.
    w.text(
        "c1b",
        json!({"type": "message", "client_msg_id": "m3", "text": "msg 3"}),
    );
    let again = w.hub.take("c1b");
    assert_eq!(types(&again), vec!["ack"]);
    assert_eq!(
        (again[0]["seq"].as_i64(), again[0]["duplicate"].as_bool()),
        (Some(3), Some(true))
    );
    let h = block_on(engine::history(&w.env(), Some(0), None, 100, false)).unwrap();
    assert_eq!(h.messages.len(), 7);
    assert_eq!(
        h.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    // The refused retry left nothing behind: the next message takes the next number, and the
    // mirror gets exactly the seven messages and this one.
    w.text(
        "c1b",
        json!({"type": "message", "client_msg_id": "m4", "text": "msg 4"}),
    );
    let next = w.hub.take("c1b");
    assert!(
        next.iter()
            .any(|f| f["type"] == "ack" && f["seq"] == 8 && f["duplicate"] == false),
        "{next:?}"
    );
    let h = block_on(engine::history(&w.env(), Some(0), None, 100, false)).unwrap();
    assert_eq!(
        h.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert_eq!(w.flush(&w.mirror), None);
    let mirrored = block_on(w.mirror.query(
        "SELECT COUNT(*) AS n, MAX(seq) AS last FROM conversation_messages",
        &[],
    ))
    .unwrap();
    assert_eq!(
        (mirrored[0].int("n"), mirrored[0].int("last")),
        (Some(8), Some(8))
    );
    assert_eq!(block_on(store::outbox_len(&w.store, NAME)).unwrap(), 0);
}

#[test]
fn bad_frames_get_error_frames_and_floods_are_cut_off_without_hurting_others() {
    let w = World::new();
    w.join("c1", &customer());
    w.join("c2", &customer2());
    w.hub.take("c1");
    w.hub.take("c2");
    let code = |frames: Vec<Value>| {
        frames
            .last()
            .map(|f| f["code"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    w.text("c1", json!("not an object"));
    assert_eq!(code(w.hub.take("c1")), "invalid_frame");
    block_on(engine::on_text(&w.env(), "c1", "{{{")).unwrap();
    assert_eq!(code(w.hub.take("c1")), "invalid_frame");
    w.text("c1", json!({"type": "launch"}));
    assert_eq!(code(w.hub.take("c1")), "unknown_type");
    w.text(
        "c1",
        json!({"type": "message", "client_msg_id": "big", "text": "x".repeat(4001)}),
    );
    assert_eq!(code(w.hub.take("c1")), "message_too_large");
    block_on(engine::on_text(&w.env(), "c1", &"y".repeat(20_000))).unwrap();
    assert_eq!(code(w.hub.take("c1")), "frame_too_large");
    assert!(w.hub.take("c2").is_empty(), "nobody else saw any of it");

    // A flood: the burst passes, then rate-limit errors, then the socket is closed (1008).
    w.clock.advance(10_000);
    for i in 0..40 {
        if w.hub.attachment("c1").is_none() {
            break;
        }
        w.text("c1", json!({"type": "typing", "typing": i % 2 == 0}));
    }
    assert_eq!(w.hub.closed(), vec![("c1".to_string(), 1008)]);
    // The conversation is healthy for the other participant.
    w.text(
        "c2",
        json!({"type": "message", "client_msg_id": "ok", "text": "still here"}),
    );
    let frames = w.hub.take("c2");
    assert!(frames.iter().any(|f| f["type"] == "ack"));
}

#[test]
fn connections_per_conversation_are_capped_and_strangers_are_refused() {
    let w = World::new();
    for i in 0..engine::MAX_CONNECTIONS {
        w.join(&format!("c{i}"), &customer());
    }
    let e = block_on(engine::connect(&w.env(), &customer())).unwrap_err();
    assert_eq!(e.code.as_str(), "rate_limited");
    let w = World::new();
    let stranger = Participant::Customer {
        id: "cus_other".into(),
        name: "Eve".into(),
    };
    assert_eq!(
        block_on(engine::connect(&w.env(), &stranger))
            .unwrap_err()
            .code
            .as_str(),
        "not_found"
    );
}

#[test]
fn status_machine_handoff_notes_and_reopen() {
    let w = World::new();
    w.join("c1", &customer());
    w.join("a1", &agent());
    w.hub.take("c1");
    w.hub.take("a1");
    let m = block_on(engine::set_status(
        &w.env(),
        &customer(),
        Status::PendingHuman,
        None,
    ))
    .unwrap();
    assert_eq!(m.status, Status::PendingHuman);
    assert_eq!(w.hub.take("c1")[0]["status"], "pending_human");
    w.hub.take("a1");
    assert!(
        block_on(engine::set_status(
            &w.env(),
            &customer(),
            Status::Resolved,
            None
        ))
        .is_err(),
        "customers only ask for humans"
    );

    let n = block_on(engine::note(&w.env(), &agent(), "VIP, be nice")).unwrap();
    assert_eq!(n.seq, 1);
    assert!(w.hub.take("c1").is_empty(), "customers never see notes");
    assert_eq!(w.hub.take("a1")[0]["type"], "note");
    assert!(block_on(engine::note(&w.env(), &customer(), "sneaky")).is_err());
    let h = block_on(engine::history(&w.env(), None, None, 50, false)).unwrap();
    assert!(h.notes.is_none());

    block_on(engine::set_status(
        &w.env(),
        &agent(),
        Status::Resolved,
        None,
    ))
    .unwrap();
    // The customer writing again reopens it.
    let p = block_on(engine::post(
        &w.env(),
        &customer(),
        "again",
        "one more thing",
        None,
    ))
    .unwrap();
    assert_eq!(p.status, Status::Open);
    block_on(engine::set_status(&w.env(), &agent(), Status::Closed, None)).unwrap();
    assert!(block_on(engine::post(&w.env(), &customer(), "late", "hello?", None)).is_err());
    // A retry of a message sent before the close still gets its acknowledgement.
    let retry = block_on(engine::post(
        &w.env(),
        &customer(),
        "again",
        "one more thing",
        None,
    ))
    .unwrap();
    assert_eq!(
        (retry.ack.seq, retry.ack.duplicate, retry.status),
        (p.ack.seq, true, Status::Closed)
    );
    assert!(
        block_on(engine::set_status(&w.env(), &agent(), Status::Open, None)).is_err(),
        "closed is final"
    );
}

/// The customer asks a question, then asks for a person: two queued changes.
fn post_then_ask_for_a_human(w: &World) {
    block_on(engine::post(
        &w.env(),
        &customer(),
        "m1",
        "Where is my order?",
        None,
    ))
    .unwrap();
    block_on(engine::set_status(
        &w.env(),
        &customer(),
        Status::PendingHuman,
        Some("customer_request".into()),
    ))
    .unwrap();
}

#[test]
fn the_mirror_converges_and_never_regresses() {
    let w = World::new();
    post_then_ask_for_a_human(&w);
    assert_eq!(w.flush(&w.mirror), None);
    let page = block_on(mirror::list(
        &w.mirror,
        "ten_1",
        &mirror::Filter::default(),
        &PageRequest {
            limit: 10,
            after: None,
        },
    ))
    .unwrap();
    assert_eq!(page.items.len(), 1);
    let row = &page.items[0];
    assert_eq!(
        (row.status, row.last_seq, row.unread_agent),
        (Status::PendingHuman, 1, 1)
    );
    assert_eq!(
        row.last_message_preview.as_deref(),
        Some("Where is my order?")
    );
    let n = block_on(
        w.mirror
            .query("SELECT COUNT(*) AS n FROM conversation_messages", &[]),
    )
    .unwrap()[0]
        .int("n");
    assert_eq!(n, Some(1));
    assert_eq!(block_on(store::outbox_len(&w.store, NAME)).unwrap(), 0);
    // Replaying an old conversation op (an older mirror_version) does not move the row back.
    let old_meta = block_on(store::load_meta(&w.store, NAME)).unwrap().unwrap();
    let mut older = old_meta.clone();
    older.status = Status::Open;
    block_on(mirror::apply(
        &w.mirror,
        &[store::OutboxEntry {
            id: 1,
            ops: Vec::new(),
            attempts: 0,
            state: Some(store::QueuedState::of(&older).unwrap()),
        }],
        None,
    ))
    .unwrap();
    let row = block_on(mirror::get(&w.mirror, "ten_1", "cnv_1")).unwrap();
    assert_eq!(row.status, Status::PendingHuman);
}

/// Each queued change keeps the conversation's state beside its ops (not inside a
/// `conversation` op decoded at every flush); a flush applies the newest to the mirror, builds
/// each webhook event from its own change's state, and still reads entries an older build
/// queued (a bare array of ops, the state inside).
#[test]
fn queued_changes_keep_their_own_state_and_older_entries_still_apply() {
    let w = World::new();
    block_on(w.mirror.execute(
        "INSERT INTO webhook_endpoints (id, tenant_id, url, events, status, created_at, updated_at)
         VALUES ('whe_1', 'ten_1', 'https://hooks.example/x', '[\"*\"]', 'active', 0, 0)",
        &[],
    ))
    .unwrap();
    post_then_ask_for_a_human(&w);
    let stored = block_on(
        w.store
            .query("SELECT id, ops FROM conv_outbox ORDER BY id", &[]),
    )
    .unwrap();
    assert_eq!(stored.len(), 3, "created, the message, the handoff");
    for row in &stored {
        let entry: Value = serde_json::from_str(&row.text("ops").unwrap()).unwrap();
        assert_eq!(entry["state"]["conversation_id"], "cnv_1", "{entry}");
        assert!(
            entry["ops"]
                .as_array()
                .unwrap()
                .iter()
                .all(|op| op["op"] != "conversation"),
            "{entry}"
        );
    }
    // An older build's entry, queued behind them: its state says the subject changed.
    let mut older = block_on(store::load_meta(&w.store, NAME)).unwrap().unwrap();
    older.subject = Some("from an older build".into());
    let legacy = serde_json::to_string(&vec![mirror::OutboxOp::Conversation {
        meta: Box::new(older),
    }])
    .unwrap();
    let last = stored.last().unwrap().int("id").unwrap();
    block_on(w.store.execute(
        "INSERT INTO conv_outbox (object, id, ops) VALUES (?1, ?2, ?3)",
        &[NAME.into(), (last + 1).into(), legacy.into()],
    ))
    .unwrap();
    assert_eq!(w.flush(&w.mirror), None);
    assert_eq!(block_on(store::outbox_len(&w.store, NAME)).unwrap(), 0);
    let row = block_on(mirror::get(&w.mirror, "ten_1", "cnv_1")).unwrap();
    assert_eq!(
        (row.status, row.last_seq, row.subject.as_deref()),
        (Status::PendingHuman, 1, Some("from an older build")),
        "the newest state, the legacy entry's"
    );
    // Each event shows the conversation as its own change left it.
    let payloads = block_on(w.mirror.query(
        "SELECT event_type, payload FROM webhook_deliveries ORDER BY event_id",
        &[],
    ))
    .unwrap();
    let status_of = |kind: &str| {
        payloads
            .iter()
            .find(|r| r.text("event_type").as_deref() == Some(kind))
            .map(|r| {
                let p: Value = serde_json::from_str(&r.text("payload").unwrap()).unwrap();
                p["data"]["conversation"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .unwrap_or_else(|| panic!("no {kind} event"))
    };
    assert_eq!(status_of("conversation.created"), "open");
    assert_eq!(status_of("message.created"), "open");
    assert_eq!(status_of("conversation.handoff"), "pending_human");
}

/// An erasure while the mirror is behind takes the customer's name and words out of every
/// queued change, the state queued beside each included, before any of it reaches the mirror.
#[test]
fn an_erasure_redacts_the_state_queued_with_every_pending_change() {
    let w = World::new();
    block_on(engine::post(&w.env(), &customer(), "m1", "Hello", None)).unwrap();
    // Mirrored: the state row holds the customer's name from here on.
    assert_eq!(w.flush(&w.mirror), None);
    block_on(engine::post(
        &w.env(),
        &customer(),
        "m2",
        "My card is 4242",
        None,
    ))
    .unwrap();
    block_on(engine::privacy::erase(&w.env())).unwrap();
    let row = block_on(w.store.query("SELECT meta FROM conv_meta", &[])).unwrap();
    let state = row[0].text("meta").unwrap();
    assert!(
        !state.contains("Ann") && state.contains("closed"),
        "the state row is redacted in the erasure's own step: {state}"
    );
    let stored = block_on(
        w.store
            .query("SELECT ops FROM conv_outbox ORDER BY id", &[]),
    )
    .unwrap();
    assert!(stored.len() >= 2, "the message, the erasure");
    for row in &stored {
        let text = row.text("ops").unwrap();
        assert!(!text.contains("Ann") && !text.contains("4242"), "{text}");
        let entry: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            entry["state"]["customer_name"],
            prism_core::privacy::ERASED_NAME,
            "{entry}"
        );
    }
    assert_eq!(w.flush(&w.mirror), None);
    let row = block_on(mirror::get(&w.mirror, "ten_1", "cnv_1")).unwrap();
    assert_eq!(row.status, Status::Closed);
    assert_eq!(row.last_message_preview, None);
}

/// A database that fails while `down` is set, like an unreachable D1, and keeps the SQL of
/// each batch it was sent.
struct Flaky<'a> {
    inner: &'a SqliteDb,
    down: Cell<bool>,
    batches: std::cell::RefCell<Vec<Vec<String>>>,
}

impl<'a> Flaky<'a> {
    fn new(inner: &'a SqliteDb, down: bool) -> Self {
        Flaky {
            inner,
            down: Cell::new(down),
            batches: Default::default(),
        }
    }

    /// How many statements of the last batch took a conversation row's contribution out of
    /// the rollups or added it back (`rollup::conversation_before`/`_after`).
    fn contribution_statements(&self) -> usize {
        self.batches.borrow().last().map_or(0, |b| {
            b.iter()
                .filter(|sql| sql.contains("FROM conversations WHERE"))
                .count()
        })
    }
}

#[async_trait::async_trait(?Send)]
impl SqlDatabase for Flaky<'_> {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        if self.down.get() {
            return Err(PortError::new("down"));
        }
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        if self.down.get() {
            return Err(PortError::new("down"));
        }
        self.inner.execute(sql, params).await
    }
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        self.batches
            .borrow_mut()
            .push(statements.iter().map(|s| s.sql.to_string()).collect());
        if self.down.get() {
            return Err(PortError::new("down"));
        }
        self.inner.batch(statements).await
    }
}

#[test]
fn a_failed_mirror_write_delays_but_never_loses_messages() {
    let w = World::new();
    let flaky = Flaky::new(&w.mirror, true);
    for i in 1..=3 {
        block_on(engine::post(
            &w.env(),
            &customer(),
            &format!("m{i}"),
            "hello",
            None,
        ))
        .unwrap();
    }
    let first = w.flush(&flaky);
    let second = w.flush(&flaky);
    assert!(
        first.is_some() && second > first,
        "backs off: {first:?} then {second:?}"
    );
    assert!(
        block_on(store::outbox_len(&w.store, NAME)).unwrap() > 0,
        "kept for retry"
    );
    // The conversation itself kept working meanwhile.
    assert_eq!(
        block_on(engine::history(&w.env(), Some(0), None, 10, false))
            .unwrap()
            .messages
            .len(),
        3
    );
    flaky.down.set(false);
    assert_eq!(w.flush(&flaky), None);
    let n = block_on(
        w.mirror
            .query("SELECT COUNT(*) AS n FROM conversation_messages", &[]),
    )
    .unwrap()[0]
        .int("n");
    assert_eq!(n, Some(3));
    assert_eq!(
        block_on(mirror::get(&w.mirror, "ten_1", "cnv_1"))
            .unwrap()
            .last_seq,
        3
    );
}

/// The object's storage, counting the reads of its mirror outbox.
struct CountingReads<'a> {
    inner: &'a SqliteDb,
    outbox_reads: Cell<usize>,
}

#[async_trait::async_trait(?Send)]
impl SqlDatabase for CountingReads<'_> {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        if sql.contains("FROM conv_outbox WHERE") {
            self.outbox_reads.set(self.outbox_reads.get() + 1);
        }
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        self.inner.execute(sql, params).await
    }
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        self.inner.batch(statements).await
    }
}

/// A busy conversation's flushes take the outbox from the instance's memory once it knows it
/// (reading and decoding it was 5-9 % of the fan-out's busy time, on the flush that holds back
/// the frames arriving meanwhile), and read storage again after anything it does not follow
/// entry by entry: a failed mirror write, an erasure rewriting the queue. Nothing is lost or
/// mirrored twice either way.
#[test]
fn flushes_take_the_outbox_from_memory_once_known_and_from_storage_after_the_unexpected() {
    let w = World::new();
    let store = CountingReads {
        inner: &w.store,
        outbox_reads: Cell::new(0),
    };
    let env = ObjectEnv {
        store: &store,
        ..w.env()
    };
    let post = |id: &str| {
        block_on(engine::post(
            &env,
            &customer(),
            id,
            &format!("words {id}"),
            None,
        ))
        .unwrap();
    };
    let flush = |db: &dyn SqlDatabase| block_on(engine::flush(&env, db, None, None)).unwrap();
    let mirrored = || {
        block_on(w.mirror.query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM conversation_messages",
            &[],
        ))
        .unwrap()[0]
            .clone()
    };
    // The first flush of an instance reads storage (the conversation's creation is queued).
    assert_eq!(flush(&w.mirror), None);
    let reads = store.outbox_reads.get();
    assert!(reads >= 1);
    for id in ["m1", "m2", "m3"] {
        post(id);
        assert_eq!(flush(&w.mirror), None);
    }
    assert_eq!(store.outbox_reads.get(), reads, "taken from memory");
    assert_eq!(mirrored().int("n"), Some(3));

    // The mirror is down: the failure count changes in storage, so storage is read again.
    let flaky = Flaky::new(&w.mirror, true);
    post("m4");
    assert!(flush(&flaky).is_some());
    flaky.down.set(false);
    post("m5");
    assert_eq!(flush(&flaky), None);
    assert!(store.outbox_reads.get() > reads, "read from storage again");
    let reads = store.outbox_reads.get();
    post("m6");
    assert_eq!(flush(&w.mirror), None);
    assert_eq!(store.outbox_reads.get(), reads, "known again");

    // An erasure rewrites what is queued: the next flush reads the rewritten entries, not
    // the copy of m7's entry with its text (leads, webhooks and the inbox read entries too).
    post("m7");
    block_on(engine::privacy::erase(&env)).unwrap();
    let reads = store.outbox_reads.get();
    assert_eq!(flush(&w.mirror), None);
    assert!(store.outbox_reads.get() > reads, "read from storage");
    let m = mirrored();
    assert_eq!(
        (m.int("n"), m.int("d")),
        (Some(7), Some(7)),
        "each message once"
    );
    let row = block_on(mirror::get(&w.mirror, "ten_1", "cnv_1")).unwrap();
    assert_eq!((row.status, row.last_seq), (Status::Closed, 7));
    assert_eq!(
        w.mirrored_text(7).as_deref(),
        Some(prism_core::privacy::ERASED_TEXT),
        "the entry queued before the erasure reached the mirror redacted"
    );
    assert_eq!(block_on(store::outbox_len(&w.store, NAME)).unwrap(), 0);
}

/// The rollup rows of the mirror that count anything (taking a contribution out and adding it
/// back elsewhere can leave rows of zeros, which a recompute does not write).
fn rollups(db: &SqliteDb) -> Vec<String> {
    const COUNTS: &str = "created, handed_off, resolved, contained, reopened, msgs_customer, msgs_ai, msgs_agent,
      first_response_n, first_response_ms, first_human_n, first_human_ms, resolution_n, resolution_ms,
      handle_n, handle_ms";
    let sum = COUNTS
        .replace(',', " <> 0 OR")
        .replace("handle_ms", "handle_ms <> 0");
    let sql = format!(
        "SELECT bucket || '|' || channel || '|' || agent_id || '|' || {} AS v FROM analytics_buckets
         WHERE {sum} ORDER BY bucket, channel, agent_id",
        COUNTS.replace(',', " || ',' ||")
    );
    block_on(db.query(&sql, &[]))
        .unwrap()
        .iter()
        .map(|r| r.text("v").unwrap())
        .collect()
}

#[test]
fn a_flush_that_leaves_the_rollup_fields_as_they_were_skips_them_and_the_rollups_stay_right() {
    let w = World::new();
    let mirror = Flaky::new(&w.mirror, false);
    let post = |who: &Participant, id: &str| {
        w.clock.advance(60_000);
        block_on(engine::post(&w.env(), who, id, "hello", None)).unwrap();
    };
    let status = |s: Status| {
        w.clock.advance(600_000);
        block_on(engine::set_status(&w.env(), &agent(), s, None)).unwrap();
    };
    let flushed = |what: &str, expected: usize| {
        assert_eq!(w.flush(&mirror), None, "{what}");
        assert_eq!(mirror.contribution_statements(), expected, "{what}");
    };
    // Nothing known yet (a new instance): the contribution is taken out and added back.
    post(&customer(), "m1");
    flushed("the first message", 4);
    post(&customer(), "m2");
    flushed("a second message changes no rollup field", 0);
    post(&agent(), "a1");
    flushed("the first reply (first response, first human)", 4);
    block_on(engine::assign(
        &w.env(),
        &agent(),
        Some(prism_core::conversations::model::Author {
            kind: prism_core::conversations::model::AuthorKind::Agent,
            id: "usr_1".into(),
            name: "Alex".into(),
        }),
    ))
    .unwrap();
    flushed("an assignment", 4);
    // A failed batch may have committed: what the row holds is unknown until a batch succeeds.
    mirror.down.set(true);
    post(&customer(), "m3");
    assert!(w.flush(&mirror).is_some(), "the mirror is down: retried");
    mirror.down.set(false);
    flushed("after a failure, although no field changed", 4);
    post(&customer(), "m4");
    flushed("known again", 0);
    status(Status::Resolved);
    flushed("a resolution", 4);
    status(Status::Open);
    flushed("a reopen", 4);
    post(&customer(), "m5");
    flushed("a message after the reopen", 0);
    let incremental = rollups(&w.mirror);
    assert!(
        incremental.iter().any(|r| r.contains("|usr_1|1,")),
        "the conversation is counted once, with its assignee: {incremental:?}"
    );
    block_on(
        w.mirror
            .batch(prism_core::analytics::rollup::recompute("ten_1")),
    )
    .unwrap();
    assert_eq!(
        rollups(&w.mirror),
        incremental,
        "the incremental rollups are what a recompute from the rows gives"
    );
}

/// A tenant inbox object's parts, as its Durable Object instance would hold them.
struct InboxRig {
    db: SqliteDb,
    hub: MemoryHub,
    clock: ManualClock,
    random: SeqRandom,
    target: ObjectRef,
}

impl InboxRig {
    fn new() -> InboxRig {
        InboxRig {
            db: SqliteDb::open_in_memory(),
            hub: MemoryHub::default(),
            clock: ManualClock::new(0),
            random: SeqRandom::default(),
            target: ObjectRef::new(ObjectClass::Inbox, "ten_1"),
        }
    }

    /// The object's context; `ready` and `pace`: what the instance remembers between events
    /// (`None`: nothing, every event reads storage).
    fn cx<'a>(
        &'a self,
        ready: Option<&'a Cell<bool>>,
        pace: Option<&'a objects::Pace>,
    ) -> ObjectContext<'a> {
        ObjectContext {
            target: &self.target,
            store: &self.db,
            hub: &self.hub,
            clock: &self.clock,
            random: &self.random,
            mirror: None,
            objects: None,
            platform: None,
            flushing: None,
            schema_ready: ready,
            pace,
        }
    }
}

/// Publishes `events` to the inbox as a conversation's flush does.
fn publish_to_inbox(cx: &ObjectContext, events: Value) {
    let mut req =
        prism_core::http::Request::new(prism_core::http::Method::Post, "https://inbox/publish");
    req.body = json!({ "events": events }).to_string().into_bytes();
    assert_eq!(block_on(objects::handle(cx, req)).0.status, 204);
}

#[test]
fn handoffs_route_by_skill_then_load_and_queue_when_nobody_is_online() {
    let rig = InboxRig::new();
    let (db, hub) = (&rig.db, &rig.hub);
    let cx = rig.cx(None, None);
    let route = |skills: &[&str]| -> Option<String> {
        let skills: Vec<String> = skills.iter().map(|s| s.to_string()).collect();
        block_on(inbox::ensure_schema(db, None)).unwrap();
        block_on(inbox::route("ten_1", db, hub, &skills))
            .unwrap()
            .map(|a| a.id)
    };
    assert_eq!(
        route(&["billing"]),
        None,
        "nobody online: stays in the queue"
    );
    let join = |conn: &str, id: &str, skills: Value| {
        let a = block_on(objects::connect(
            &cx,
            Some(&json!({"kind": "agent", "id": id, "name": id}).to_string()),
            Some(&json!({"tenant_id": "ten_1", "holder": {"kind": "user", "user_id": id}, "scope": "conversations:read", "version": 1, "expires_at": null, "checked_at": 0}).to_string()),
            json!({"skills": skills}),
        ))
        .unwrap();
        hub.connect(conn, a);
    };
    join("s1", "usr_a", json!(["billing"]));
    join("s2", "usr_b", json!(["billing", "es"]));
    join("s3", "usr_c", json!([]));
    assert_eq!(
        route(&["billing", "es"]).as_deref(),
        Some("usr_b"),
        "best skill match"
    );
    // Give usr_a two open conversations and usr_b none: billing goes to usr_b (least load).
    let publish = |events: Value| publish_to_inbox(&cx, events);
    publish(json!([
        {"kind": "conversation.assigned", "tenant_id": "ten_1", "conversation_id": "c1", "status": "pending_human", "data": {"assignee": {"type": "agent", "id": "usr_a", "name": "a"}}},
        {"kind": "conversation.assigned", "tenant_id": "ten_1", "conversation_id": "c2", "status": "pending_human", "data": {"assignee": {"type": "agent", "id": "usr_a", "name": "a"}}}
    ]));
    assert_eq!(route(&["billing"]).as_deref(), Some("usr_b"));
    // Agents receive the events live, in order, with sequence numbers.
    let frames = hub.take("s1");
    assert_eq!(
        frames
            .iter()
            .map(|f| f["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    // Resolving frees the load.
    publish(json!([
        {"kind": "conversation.status", "tenant_id": "ten_1", "conversation_id": "c1", "status": "resolved", "data": {}},
        {"kind": "conversation.status", "tenant_id": "ten_1", "conversation_id": "c2", "status": "resolved", "data": {}}
    ]));
    assert_eq!(
        route(&["billing"]).as_deref(),
        Some("usr_a"),
        "equal load: stable order by id"
    );
    let page = block_on(inbox::events_after("ten_1", db, 2, 10)).unwrap();
    assert_eq!(page.events.len(), 2);
}

#[test]
fn an_inbox_instance_numbers_events_from_memory_and_trims_its_log_in_steps() {
    let rig = InboxRig::new();
    let db = &rig.db;
    let (ready, pace) = (Cell::new(false), objects::Pace::default());
    let cx = rig.cx(Some(&ready), Some(&pace));
    let event = json!({"kind": "message.created", "tenant_id": "ten_1", "conversation_id": "c1", "status": "open", "data": {}});
    let publish = |n: usize| {
        let before = db.statements();
        publish_to_inbox(&cx, Value::Array(vec![event.clone(); n]));
        db.statements() - before
    };
    publish(1);
    // The instance wrote the last sequence itself: the next event is one insert, no read.
    assert_eq!(publish(1), 1);
    // 1,100 events in all: the log keeps at least the last 1,000 and never much more.
    for _ in 0..11 {
        publish(98);
    }
    publish(100);
    let rows = block_on(db.query(
        "SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM inbox_events",
        &[],
    ))
    .unwrap();
    let (lo, hi, n) = (
        rows[0].int("lo").unwrap(),
        rows[0].int("hi").unwrap(),
        rows[0].int("n").unwrap(),
    );
    assert_eq!(hi, 1180);
    assert_eq!(n, hi - lo + 1, "no gap");
    assert!((1000..=1064).contains(&n), "{n} kept");
    // A new instance (nothing kept) reads the last sequence back and goes on from it.
    let fresh = objects::Pace::default();
    publish_to_inbox(&rig.cx(Some(&ready), Some(&fresh)), json!([event]));
    let page = block_on(inbox::events_after("ten_1", db, 1180, 10)).unwrap();
    assert_eq!(
        page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1181]
    );
}

#[test]
fn a_flush_already_running_in_the_object_is_not_started_twice() {
    let w = World::new();
    block_on(engine::post(
        &w.env(),
        &customer(),
        "m1",
        "Where is my order?",
        None,
    ))
    .unwrap();
    let target = ObjectRef::new(ObjectClass::Conversation, NAME);
    let running = Cell::new(true);
    let cx = ObjectContext {
        target: &target,
        store: &w.store,
        hub: &w.hub,
        clock: &w.clock,
        random: &w.random,
        mirror: Some(&w.mirror),
        objects: None,
        platform: None,
        flushing: Some(&running),
        schema_ready: None,
        pace: None,
    };
    let mirrored = || {
        let rows = block_on(
            w.mirror
                .query("SELECT COUNT(*) AS n FROM conversation_messages", &[]),
        )
        .unwrap();
        rows[0].int("n").unwrap()
    };
    // Another flush holds the flag: this one leaves the outbox to it.
    assert_eq!(block_on(objects::flush(&cx)), None);
    assert_eq!(mirrored(), 0);
    assert!(
        running.get(),
        "the holder's flag is not cleared by the skipped flush"
    );
    running.set(false);
    assert_eq!(block_on(objects::flush(&cx)), None);
    assert_eq!(mirrored(), 1);
    assert!(!running.get(), "released after the flush");
}

/// A busy window goes to the mirror in a few statements, not five per message: each message
/// lands once and is counted and read once, also when part of the window was mirrored before
/// (a batch retried after its acknowledgement was lost), and no statement binds more values
/// than D1 takes (the test database refuses those as D1 does).
#[test]
fn a_window_of_many_messages_is_mirrored_and_counted_once() {
    let w = World::new();
    let post = |i: usize| {
        block_on(engine::post(
            &w.env(),
            &customer(),
            &format!("m{i}"),
            &format!("question number {i} about my refund"),
            None,
        ))
        .unwrap();
    };
    let count = |sql: &str| {
        block_on(w.mirror.query(sql, &[])).unwrap()[0]
            .int("n")
            .unwrap_or(0)
    };
    let counts = || {
        [
            count("SELECT COUNT(*) AS n FROM conversation_messages"),
            count("SELECT COALESCE(SUM(msgs_customer), 0) AS n FROM analytics_buckets"),
            count("SELECT COUNT(*) AS n FROM message_analysis"),
            count("SELECT COALESCE(SUM(messages), 0) AS n FROM analytics_intents"),
        ]
    };
    for i in 0..3 {
        post(i);
    }
    assert_eq!(w.flush(&w.mirror), None);
    assert_eq!(counts(), [3; 4]);
    for i in 3..30 {
        post(i);
    }
    // The whole conversation as one window, three of its messages mirrored already and the
    // last one listed twice.
    let meta = block_on(store::load_meta(&w.store, NAME)).unwrap().unwrap();
    let messages = block_on(store::messages_after(&w.store, NAME, 0, 100)).unwrap();
    assert_eq!(messages.len(), 30);
    let entry = store::OutboxEntry {
        id: 1_000,
        ops: messages
            .iter()
            .chain(messages.last())
            .map(|m| mirror::op_message(&meta, m))
            .collect(),
        attempts: 0,
        state: Some(store::QueuedState::of(&meta).unwrap()),
    };
    block_on(mirror::apply(&w.mirror, &[entry], None)).unwrap();
    assert_eq!(counts(), [30; 4]);
    // The queued entries then flush over it: nothing counted twice.
    assert_eq!(w.flush(&w.mirror), None);
    assert_eq!(counts(), [30; 4]);
    assert_eq!(
        w.mirrored_text(30).as_deref(),
        Some("question number 29 about my refund")
    );
}
