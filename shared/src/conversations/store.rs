//! A conversation object's own storage: its state, the ordered message log, internal notes and
//! the mirror outbox. Every table is keyed by the object name so the same schema serves one
//! Durable Object's private SQLite and Spin's shared database.

use super::mirror::OutboxOp;
use super::model::{Author, AuthorKind, Meta, Status};
use super::protocol::{MessageView, NoteView};
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::ports::{Row, SqlDatabase, Statement};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS conv_meta (object TEXT PRIMARY KEY, meta TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS conv_messages (object TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
       author_type TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL, text TEXT NOT NULL,
       client_msg_id TEXT, meta TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (object, seq))",
    "CREATE UNIQUE INDEX IF NOT EXISTS conv_messages_idem ON conv_messages (object, author_id, client_msg_id)",
    "CREATE TABLE IF NOT EXISTS conv_notes (object TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
       author_id TEXT NOT NULL, author_name TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
       PRIMARY KEY (object, seq))",
    "CREATE TABLE IF NOT EXISTS conv_outbox (object TEXT NOT NULL, id INTEGER NOT NULL, ops TEXT NOT NULL,
       attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (object, id))",
    // Outbox ids never repeat (they version the mirror), even after the outbox is emptied.
    "CREATE TABLE IF NOT EXISTS conv_outbox_seq (object TEXT PRIMARY KEY, last_id INTEGER NOT NULL)",
];

pub async fn ensure_schema(db: &dyn SqlDatabase) -> ApiResult<()> {
    for s in SCHEMA {
        db.execute(s, &[]).await?;
    }
    Ok(())
}

/// The conversation's state: the newest outbox entry's when one is queued, else the row the
/// last flush wrote. A storage step queues the state with its outbox entry and nowhere else
/// (writing the row too cost a second ~1 KB write per message); the flush that drops entries
/// writes the newest one's state to the row in the same step (`outbox_done`). Entries an older
/// build queued (a bare array of ops) were written with the row, so the row is as new as they.
pub async fn load_meta(db: &dyn SqlDatabase, object: &str) -> ApiResult<Option<Meta>> {
    let rows = db
        .query(
            "SELECT v, queued FROM (SELECT ops AS v, 1 AS queued FROM (SELECT ops FROM conv_outbox
               WHERE object = ?1 AND ops LIKE '{\"state\":%' ORDER BY id DESC LIMIT 1)
             UNION ALL SELECT meta, 0 FROM conv_meta WHERE object = ?1) ORDER BY queued DESC LIMIT 1",
            &params![object],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let text = row.text("v").unwrap_or_default();
    let corrupt = || ApiError::internal("corrupt conversation state");
    if row.int("queued") == Some(1) {
        let (state, _) = decode_entry(&text).ok_or_else(corrupt)?;
        return state.ok_or_else(corrupt)?.decode().map(Some);
    }
    serde_json::from_str(&text).map(Some).map_err(|_| corrupt())
}

fn message_from_row(r: &Row) -> MessageView {
    MessageView {
        seq: r.int("seq").unwrap_or(0),
        id: r.text("id").unwrap_or_default(),
        client_msg_id: r.text("client_msg_id"),
        author: Author {
            kind: AuthorKind::parse(&r.text("author_type").unwrap_or_default()),
            id: r.text("author_id").unwrap_or_default(),
            name: r.text("author_name").unwrap_or_default(),
        },
        text: r.text("text").unwrap_or_default(),
        ts: r.int("created_at").unwrap_or(0),
        meta: r.text("meta").and_then(|s| serde_json::from_str(&s).ok()),
    }
}

const MSG_COLUMNS: &str =
    "seq, id, client_msg_id, author_type, author_id, author_name, text, meta, created_at";

/// The message a participant already sent under this client id, if any.
pub async fn by_client_id(
    db: &dyn SqlDatabase,
    object: &str,
    author_id: &str,
    client_msg_id: &str,
) -> ApiResult<Option<MessageView>> {
    let rows = db
        .query(
            &format!("SELECT {MSG_COLUMNS} FROM conv_messages WHERE object = ?1 AND author_id = ?2 AND client_msg_id = ?3"),
            &params![object, author_id, client_msg_id],
        )
        .await?;
    Ok(rows.first().map(message_from_row))
}

/// Whether a storage error is the unique index on (object, author, client message id) refusing
/// a second insert: a retried message. SQLite words it the same way in every runtime
/// (`UNIQUE constraint failed: conv_messages.object, conv_messages.author_id, …`).
pub fn is_duplicate_client_id(e: &crate::ports::PortError) -> bool {
    e.0.contains("UNIQUE constraint failed") && e.0.contains("conv_messages.client_msg_id")
}

pub fn insert_message(object: &str, m: &MessageView, client_msg_id: Option<&str>) -> Statement {
    Statement::new(
        "INSERT INTO conv_messages (object, seq, id, author_type, author_id, author_name, text, client_msg_id, meta, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            object, m.seq, m.id.as_str(), m.author.kind.as_str(), m.author.id.as_str(), m.author.name.as_str(),
            m.text.as_str(), client_msg_id, m.meta.as_ref().map(|v| v.to_string()), m.ts
        ],
    )
}

/// Messages with `seq > after`, oldest first.
pub async fn messages_after(
    db: &dyn SqlDatabase,
    object: &str,
    after: i64,
    limit: u32,
) -> ApiResult<Vec<MessageView>> {
    let rows = db
        .query(
            &format!("SELECT {MSG_COLUMNS} FROM conv_messages WHERE object = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"),
            &params![object, after, limit],
        )
        .await?;
    Ok(rows.iter().map(message_from_row).collect())
}

const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Up to `limit` messages with `seq < before`, returned oldest first (history pages).
pub async fn messages_before(
    db: &dyn SqlDatabase,
    object: &str,
    before: i64,
    limit: u32,
) -> ApiResult<Vec<MessageView>> {
    // Sequence numbers stay far below 2^53, the largest integer JS storage APIs carry exactly
    // (callers pass i64::MAX for "the latest"; unclamped, every call logged a precision warning).
    let before = before.min(MAX_SAFE_INTEGER);
    let rows = db
        .query(
            &format!("SELECT {MSG_COLUMNS} FROM conv_messages WHERE object = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"),
            &params![object, before, limit],
        )
        .await?;
    let mut out: Vec<MessageView> = rows.iter().map(message_from_row).collect();
    out.reverse();
    Ok(out)
}

pub async fn notes(db: &dyn SqlDatabase, object: &str) -> ApiResult<Vec<NoteView>> {
    let rows = db
        .query(
            "SELECT seq, id, author_id, author_name, text, created_at FROM conv_notes WHERE object = ?1 ORDER BY seq",
            &params![object],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| NoteView {
            seq: r.int("seq").unwrap_or(0),
            id: r.text("id").unwrap_or_default(),
            author: Author {
                kind: AuthorKind::Agent,
                id: r.text("author_id").unwrap_or_default(),
                name: r.text("author_name").unwrap_or_default(),
            },
            text: r.text("text").unwrap_or_default(),
            ts: r.int("created_at").unwrap_or(0),
        })
        .collect())
}

pub async fn next_note_seq(db: &dyn SqlDatabase, object: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM conv_notes WHERE object = ?1",
            &params![object],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(1))
}

pub fn insert_note(object: &str, n: &NoteView) -> Statement {
    Statement::new(
        "INSERT INTO conv_notes (object, seq, id, author_id, author_name, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![object, n.seq, n.id.as_str(), n.author.id.as_str(), n.author.name.as_str(), n.text.as_str(), n.ts],
    )
}

/// A conversation's state as queued with a mirror outbox entry, kept as the JSON it was stored
/// as and decoded only when read: a batch applies only the newest state to the mirror, and
/// outgoing webhooks read the others only when the tenant has subscribers. (It travelled inside
/// a `conversation` op: serialised a second time per change, decoded for every entry.)
#[derive(Clone, Debug)]
pub struct QueuedState(Box<RawValue>);

impl QueuedState {
    pub fn of(meta: &Meta) -> ApiResult<Self> {
        serde_json::value::to_raw_value(meta)
            .map(QueuedState)
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    pub fn decode(&self) -> ApiResult<Meta> {
        serde_json::from_str(self.0.get())
            .map_err(|e| ApiError::internal(format!("corrupt queued state: {e}")))
    }
}

/// An outbox entry as a storage step queues it, before storage numbers it: what the object
/// instance keeps in memory once the step succeeded (`engine::kept_outbox`).
#[derive(Debug)]
pub struct Queued {
    pub state: QueuedState,
    pub ops: Vec<OutboxOp>,
}

/// Saves the conversation's state and queues the mirror operations describing the change, in
/// the same atomic step: returns the statement to add to that step's batch, and the entry it
/// queues. The state is serialised once, into the entry: it is what the mirror's row and the
/// entry's webhook events show, and what a new instance resumes from until the flush writes
/// it to the state row (`load_meta`).
pub fn save_and_queue(
    object: &str,
    meta: &Meta,
    ops: Vec<OutboxOp>,
) -> ApiResult<(Vec<Statement>, Queued)> {
    let state = QueuedState::of(meta)?;
    let entry = encode_entry(Some(&state), &ops)?;
    // The next id is taken inside the statement (no read first): the last queued entry's
    // plus one, or while the outbox is empty the last flushed one's plus one (`outbox_done`
    // records it), so ids never repeat. The flush records the last id once per window instead
    // of every message counting it.
    let statements = vec![Statement::new(
        format!("INSERT INTO conv_outbox (object, id, ops) SELECT ?1, {LAST_ID} + 1, ?2"),
        params![object, entry],
    )];
    Ok((statements, Queued { state, ops }))
}

/// Writes `meta` to the state row now, not at the next flush: for an erasure, whose redacted
/// state must replace the customer's name in storage in the same step as everything else.
pub fn save_state(object: &str, meta: &Meta) -> ApiResult<Statement> {
    let state = serde_json::to_string(meta).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Statement::new(
        "INSERT INTO conv_meta (object, meta) VALUES (?1, ?2) ON CONFLICT (object) DO UPDATE SET meta = excluded.meta",
        params![object, state],
    ))
}

/// An outbox entry as stored: `{"state": …, "ops": […]}`. Entries queued by an older build are
/// a bare array of ops with the state inside a `conversation` op; both are read.
pub fn encode_entry(state: Option<&QueuedState>, ops: &[OutboxOp]) -> ApiResult<String> {
    serde_json::to_string(&EntryOut {
        state: state.map(|s| &*s.0),
        ops,
    })
    .map_err(|e| ApiError::internal(e.to_string()))
}

#[derive(Serialize)]
struct EntryOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a RawValue>,
    ops: &'a [OutboxOp],
}

#[derive(Deserialize)]
struct StoredEntry {
    #[serde(default)]
    state: Option<Box<RawValue>>,
    ops: Vec<OutboxOp>,
}

fn decode_entry(text: &str) -> Option<(Option<QueuedState>, Vec<OutboxOp>)> {
    if text.trim_start().starts_with('[') {
        // An older build's entry: its state travels in the `conversation` op.
        let ops: Vec<OutboxOp> = serde_json::from_str(text).ok()?;
        let mut state = None;
        let mut rest = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                OutboxOp::Conversation { meta } => state = Some(QueuedState::of(&meta).ok()?),
                op => rest.push(op),
            }
        }
        return Some((state, rest));
    }
    let stored: StoredEntry = serde_json::from_str(text).ok()?;
    Some((stored.state.map(QueuedState), stored.ops))
}

#[derive(Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub ops: Vec<OutboxOp>,
    pub attempts: i64,
    /// The conversation's state after the change (`None`: the entry changes no state).
    pub state: Option<QueuedState>,
}

pub async fn outbox(db: &dyn SqlDatabase, object: &str, limit: u32) -> ApiResult<Vec<OutboxEntry>> {
    let rows = db
        .query(
            "SELECT id, ops, attempts FROM conv_outbox WHERE object = ?1 ORDER BY id LIMIT ?2",
            &params![object, limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let id = r.int("id").unwrap_or(0);
            // An entry that does not parse stays in the outbox and fails the flush (retried,
            // visible in logs) rather than being dropped.
            let (state, ops) = r
                .text("ops")
                .as_deref()
                .and_then(decode_entry)
                .ok_or_else(|| ApiError::internal(format!("corrupt outbox entry {id}")))?;
            Ok(OutboxEntry {
                id,
                ops,
                attempts: r.int("attempts").unwrap_or(0),
                state,
            })
        })
        .collect()
}

/// The id the last queued entry took: the newest still queued, else the last one flushed
/// (`conv_outbox_seq`, which an older build also advanced with every entry), else 0.
const LAST_ID: &str = "COALESCE((SELECT MAX(id) FROM conv_outbox WHERE object = ?1),
     (SELECT last_id FROM conv_outbox_seq WHERE object = ?1), 0)";

/// The id the last queued entry took (0 before the first): the next one takes this plus one.
pub async fn outbox_last_id(db: &dyn SqlDatabase, object: &str) -> ApiResult<i64> {
    let rows = db
        .query(&format!("SELECT {LAST_ID} AS last_id"), &params![object])
        .await?;
    Ok(rows.first().and_then(|r| r.int("last_id")).unwrap_or(0))
}

/// Drops the entries up to `up_to_id`, mirrored, in one step with what they leave behind: the
/// last one's id, so the next entry's id stays above it once the outbox is empty, and `state`,
/// the newest state among them, which `load_meta` reads once no entry holds it.
pub async fn outbox_done(
    db: &dyn SqlDatabase,
    object: &str,
    up_to_id: i64,
    state: Option<&QueuedState>,
) -> ApiResult<()> {
    let mut step = Vec::with_capacity(3);
    if let Some(state) = state {
        // Not over a newer flush's state: a batch finishing after a later one (its entries
        // already gone) must not move the conversation back. The check reads the recorded id
        // before the statement below raises it.
        step.push(Statement::new(
            "INSERT INTO conv_meta (object, meta) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM conv_outbox_seq WHERE object = ?1 AND last_id > ?3)
             ON CONFLICT (object) DO UPDATE SET meta = excluded.meta",
            params![object, state.0.get(), up_to_id],
        ));
    }
    step.push(Statement::new(
        "INSERT INTO conv_outbox_seq (object, last_id) VALUES (?1, ?2)
         ON CONFLICT (object) DO UPDATE SET last_id = MAX(last_id, excluded.last_id)",
        params![object, up_to_id],
    ));
    step.push(Statement::new(
        "DELETE FROM conv_outbox WHERE object = ?1 AND id <= ?2",
        params![object, up_to_id],
    ));
    db.batch(step).await?;
    Ok(())
}

pub async fn outbox_failed(db: &dyn SqlDatabase, object: &str, up_to_id: i64) -> ApiResult<i64> {
    db.execute(
        "UPDATE conv_outbox SET attempts = attempts + 1 WHERE object = ?1 AND id <= ?2",
        &params![object, up_to_id],
    )
    .await?;
    let rows = db
        .query(
            "SELECT MAX(attempts) AS a FROM conv_outbox WHERE object = ?1",
            &params![object],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("a")).unwrap_or(0))
}

pub async fn outbox_len(db: &dyn SqlDatabase, object: &str) -> ApiResult<i64> {
    let rows = db
        .query(
            "SELECT COUNT(*) AS n FROM conv_outbox WHERE object = ?1",
            &params![object],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
}

/// Status helper for rows written before a status existed (never in practice; keeps parsing total).
pub fn parse_status(s: &str) -> Status {
    Status::parse(s).unwrap_or(Status::Open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_meta, SqliteDb};
    use futures::executor::block_on;

    fn queue(db: &SqliteDb) -> i64 {
        queue_state(db, 0).1
    }

    /// Queues a change leaving the conversation at `last_seq`: its state and its entry's id.
    fn queue_state(db: &SqliteDb, last_seq: i64) -> (QueuedState, i64) {
        let (stmts, queued) = save_and_queue("o", &sample_meta(last_seq), Vec::new()).unwrap();
        block_on(db.batch(stmts)).unwrap();
        (queued.state, block_on(outbox_last_id(db, "o")).unwrap())
    }

    fn last_seq(db: &SqliteDb) -> Option<i64> {
        block_on(load_meta(db, "o")).unwrap().map(|m| m.last_seq)
    }

    #[test]
    fn the_state_is_the_newest_queued_entrys_until_a_flush_writes_it_and_never_goes_back() {
        let db = SqliteDb::open_in_memory();
        block_on(ensure_schema(&db)).unwrap();
        assert_eq!(last_seq(&db), None);
        let (s1, id1) = queue_state(&db, 1);
        let (s2, id2) = queue_state(&db, 2);
        let (_, _) = queue_state(&db, 3);
        // Only the entries hold it: a storage step writes no state row.
        let rows = block_on(db.query("SELECT COUNT(*) AS n FROM conv_meta", &[])).unwrap();
        assert_eq!(rows[0].int("n"), Some(0));
        assert_eq!(last_seq(&db), Some(3));
        // A partial flush writes its newest state; the entry left queued is newer still.
        block_on(outbox_done(&db, "o", id2, Some(&s2))).unwrap();
        assert_eq!(last_seq(&db), Some(3));
        let (s4, id4) = queue_state(&db, 4);
        block_on(outbox_done(&db, "o", id4, Some(&s4))).unwrap();
        assert!(block_on(outbox(&db, "o", 10)).unwrap().is_empty());
        assert_eq!(last_seq(&db), Some(4));
        // A batch finishing after a later one does not move the state back.
        block_on(outbox_done(&db, "o", id1, Some(&s1))).unwrap();
        assert_eq!(last_seq(&db), Some(4));
        // An older build wrote the row with every change and queued bare arrays of ops: the
        // row wins over its entries, and a newer build's entry over the row.
        let older = serde_json::to_string(&sample_meta(7)).unwrap();
        block_on(db.batch(vec![
            Statement::new(
                "UPDATE conv_meta SET meta = ?1 WHERE object = 'o'",
                params![older.as_str()],
            ),
            Statement::new(
                "INSERT INTO conv_outbox (object, id, ops) VALUES ('o', 20, '[]')",
                &[],
            ),
        ]))
        .unwrap();
        assert_eq!(last_seq(&db), Some(7));
        queue_state(&db, 8);
        assert_eq!(last_seq(&db), Some(8));
        // A state that does not parse is an error, not a fresh conversation.
        block_on(db.execute(
            "UPDATE conv_outbox SET ops = '{\"state\": 1, \"ops\": []}' WHERE id = 21",
            &[],
        ))
        .unwrap();
        assert!(block_on(load_meta(&db, "o")).is_err());
    }

    #[test]
    fn outbox_ids_keep_rising_after_the_outbox_empties_and_after_an_upgrade() {
        let db = SqliteDb::open_in_memory();
        block_on(ensure_schema(&db)).unwrap();
        // An object an older build wrote: it counted every entry in `conv_outbox_seq`.
        block_on(db.execute(
            "INSERT INTO conv_outbox_seq (object, last_id) VALUES ('o', 5)",
            &[],
        ))
        .unwrap();
        assert_eq!(queue(&db), 6);
        assert_eq!(queue(&db), 7);
        let ids: Vec<i64> = block_on(outbox(&db, "o", 10))
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [6, 7]);
        // Flushed: the outbox is empty, and the next id still comes after the last one.
        block_on(outbox_done(&db, "o", 7, None)).unwrap();
        assert!(block_on(outbox(&db, "o", 10)).unwrap().is_empty());
        assert_eq!(block_on(outbox_last_id(&db, "o")).unwrap(), 7);
        assert_eq!(queue(&db), 8);
        // A partial flush leaves the newer entries, and ids go on from the newest.
        assert_eq!(queue(&db), 9);
        block_on(outbox_done(&db, "o", 8, None)).unwrap();
        assert_eq!(queue(&db), 10);
        // A flush never moves the recorded id back (an older batch finishing late).
        block_on(outbox_done(&db, "o", 10, None)).unwrap();
        block_on(outbox_done(&db, "o", 3, None)).unwrap();
        assert_eq!(queue(&db), 11);
        // Another object's entries do not count.
        let (stmts, _) = save_and_queue("p", &sample_meta(0), Vec::new()).unwrap();
        block_on(db.batch(stmts)).unwrap();
        assert_eq!(block_on(outbox_last_id(&db, "p")).unwrap(), 1);
    }
}
