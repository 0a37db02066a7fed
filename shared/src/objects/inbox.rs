//! The tenant inbox: one object per tenant that agents' consoles subscribe to. It keeps a short
//! ordered log of inbox events (new conversations, status and assignment changes, new
//! messages), pushes them to connected agents, knows who is online with which skills, and routes
//! handoffs to the least-loaded matching agent.

use crate::conversations::mirror::{EventKind, InboxEventDraft};
use crate::conversations::model::{Author, AuthorKind, Participant, Status};
use crate::error::{ApiError, ApiResult};
use crate::http::{Method, Request, Response};
use crate::input::parse_json;
use crate::params;
use crate::ports::{Clock, LiveHub, ObjectClass, ObjectRef, Objects, SqlDatabase, Statement};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS inbox_events (object TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
       created_at INTEGER NOT NULL, PRIMARY KEY (object, seq))",
    "CREATE TABLE IF NOT EXISTS inbox_assign (object TEXT NOT NULL, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
       PRIMARY KEY (object, conversation_id))",
];

/// Events kept for resuming consoles (older ones are in the mirror tables anyway).
const KEEP_EVENTS: i64 = 1000;
/// Older events are deleted each time the sequence crosses a multiple of this, not on every
/// publish (a busy tenant's inbox gets one per conversation per mirror window): at most
/// `KEEP_EVENTS + TRIM_EVERY` are kept.
const TRIM_EVERY: i64 = 64;

#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InboxEvent {
    pub seq: i64,
    pub kind: EventKind,
    pub conversation_id: String,
    pub status: Status,
    #[schemars(with = "Value")]
    pub data: Value,
    pub ts: i64,
}

/// What agents' inbox sockets receive.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxFrame {
    Event(InboxEvent),
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventPage {
    pub events: Vec<InboxEvent>,
    pub last_seq: i64,
}

#[derive(Serialize, Deserialize)]
pub struct RouteRequest {
    pub conversation_id: String,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Serialize, Deserialize)]
pub struct RouteResponse {
    pub assignee: Option<Author>,
}

/// The inbox's last event sequence as this instance last wrote it: the object is the inbox's
/// one writer, so a publish need not read `MAX(seq)` back from storage. Unknown (`None`) on a
/// new instance and after a failed write. Kept with the inbox's name: a host that shared one
/// [`super::Pace`] between inboxes would otherwise number one from another's sequence.
#[derive(Default)]
pub struct KeptSeq(std::cell::RefCell<Option<(String, i64)>>);

impl KeptSeq {
    fn take(&self, name: &str) -> Option<i64> {
        self.0
            .borrow_mut()
            .take()
            .and_then(|(n, seq)| (n == name).then_some(seq))
    }

    fn set(&self, name: &str, seq: i64) {
        *self.0.borrow_mut() = Some((name.to_string(), seq));
    }
}

pub async fn handle(
    name: &str,
    db: &dyn SqlDatabase,
    schema_ready: Option<&std::cell::Cell<bool>>,
    kept: Option<&KeptSeq>,
    hub: &dyn LiveHub,
    clock: &dyn Clock,
    req: Request,
) -> ApiResult<Response> {
    ensure_schema(db, schema_ready).await?;
    match (req.method, req.path.as_str()) {
        (Method::Post, "/publish") => {
            let body: Published = parse_json(&req.body)?;
            append(name, db, kept, hub, clock.now_ms(), &body.events).await?;
            Ok(Response::new(204))
        }
        (Method::Get, "/events") => {
            let after = req
                .query_param("after")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let limit = req
                .query_param("limit")
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(100)
                .clamp(1, 500);
            Ok(Response::json(
                200,
                &events_after(name, db, after, limit).await?,
            ))
        }
        (Method::Post, "/route") => {
            let body: RouteRequest = parse_json(&req.body)?;
            Ok(Response::json(
                200,
                &RouteResponse {
                    assignee: route(name, db, hub, &body.skills).await?,
                },
            ))
        }
        (Method::Post, "/erase") => {
            let body: Erase = parse_json(&req.body)?;
            erase(name, db, &body.conversation_ids).await?;
            Ok(Response::new(204))
        }
        (Method::Get, "/online") => Ok(Response::json(200, &json!({ "agents": online(hub) }))),
        _ => Err(ApiError::not_found("inbox route")),
    }
}

/// Creates the inbox's tables; once per instance where the host keeps `ready` (they were
/// created on every publish: each conversation's flush paid two statements for it).
pub async fn ensure_schema(
    db: &dyn SqlDatabase,
    ready: Option<&std::cell::Cell<bool>>,
) -> ApiResult<()> {
    super::ensure_tables(db, SCHEMA, ready).await
}

/// Events a conversation publishes to its tenant's inbox.
#[derive(Serialize, Deserialize)]
pub struct Published {
    pub events: Vec<InboxEventDraft>,
}

async fn append(
    name: &str,
    db: &dyn SqlDatabase,
    kept: Option<&KeptSeq>,
    hub: &dyn LiveHub,
    now: i64,
    events: &[InboxEventDraft],
) -> ApiResult<()> {
    let first = match kept.and_then(|k| k.take(name)) {
        Some(seq) => seq,
        None => {
            let rows = db
                .query(
                    "SELECT COALESCE(MAX(seq), 0) AS s FROM inbox_events WHERE object = ?1",
                    &params![name],
                )
                .await?;
            rows.first().and_then(|r| r.int("s")).unwrap_or(0)
        }
    };
    let mut seq = first;
    let mut stmts = Vec::new();
    let mut out = Vec::new();
    for e in events {
        seq += 1;
        let ev = InboxEvent {
            seq,
            kind: e.kind,
            conversation_id: e.conversation_id.clone(),
            status: e.status,
            data: e.data.clone(),
            ts: now,
        };
        stmts.push(Statement::new(
            "INSERT INTO inbox_events (object, seq, event, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                name,
                seq,
                serde_json::to_string(&ev).unwrap_or_default(),
                now
            ],
        ));
        // Track who holds which open conversation, for load-based routing.
        let terminal = matches!(ev.status, Status::Resolved | Status::Closed);
        if ev.kind == EventKind::ConversationAssigned || terminal {
            stmts.push(Statement::new(
                "DELETE FROM inbox_assign WHERE object = ?1 AND conversation_id = ?2",
                params![name, ev.conversation_id.as_str()],
            ));
            let assignee = ev.data.pointer("/assignee/id").and_then(Value::as_str);
            if let (false, Some(uid)) = (terminal, assignee) {
                stmts.push(Statement::new(
                    "INSERT INTO inbox_assign (object, conversation_id, user_id) VALUES (?1, ?2, ?3)",
                    params![name, ev.conversation_id.as_str(), uid],
                ));
            }
        }
        out.push(ev);
    }
    if seq / TRIM_EVERY != first / TRIM_EVERY {
        stmts.push(Statement::new(
            "DELETE FROM inbox_events WHERE object = ?1 AND seq <= ?2",
            params![name, seq - KEEP_EVENTS],
        ));
    }
    // The copy was taken above: a failed write leaves it unknown, to be read again.
    db.batch(stmts).await?;
    if let Some(k) = kept {
        k.set(name, seq);
    }
    for ev in out {
        hub.broadcast(&serde_json::to_string(&InboxFrame::Event(ev)).unwrap_or_default());
    }
    Ok(())
}

/// Conversations whose customer was erased: their kept events lose their data (message
/// previews, names) but stay in the feed, so consoles resuming from a sequence see no gap.
#[derive(Serialize, Deserialize)]
pub struct Erase {
    pub conversation_ids: Vec<String>,
}

async fn erase(name: &str, db: &dyn SqlDatabase, conversation_ids: &[String]) -> ApiResult<()> {
    let rows = db
        .query(
            "SELECT seq, event FROM inbox_events WHERE object = ?1",
            &params![name],
        )
        .await?;
    let mut stmts = Vec::new();
    for r in &rows {
        let Some(mut ev) = r
            .text("event")
            .and_then(|s| serde_json::from_str::<InboxEvent>(&s).ok())
        else {
            continue;
        };
        if conversation_ids.contains(&ev.conversation_id) && ev.data != json!({}) {
            ev.data = json!({});
            stmts.push(Statement::new(
                "UPDATE inbox_events SET event = ?3 WHERE object = ?1 AND seq = ?2",
                params![
                    name,
                    r.int("seq").unwrap_or(0),
                    serde_json::to_string(&ev).unwrap_or_default()
                ],
            ));
        }
    }
    if !stmts.is_empty() {
        db.batch(stmts).await?;
    }
    Ok(())
}

pub async fn events_after(
    name: &str,
    db: &dyn SqlDatabase,
    after: i64,
    limit: u32,
) -> ApiResult<EventPage> {
    let rows = db
        .query(
            "SELECT event FROM inbox_events WHERE object = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            &params![name, after, limit],
        )
        .await?;
    let events: Vec<InboxEvent> = rows
        .iter()
        .filter_map(|r| r.text("event").and_then(|s| serde_json::from_str(&s).ok()))
        .collect();
    let last = db
        .query(
            "SELECT COALESCE(MAX(seq), 0) AS s FROM inbox_events WHERE object = ?1",
            &params![name],
        )
        .await?;
    Ok(EventPage {
        events,
        last_seq: last.first().and_then(|r| r.int("s")).unwrap_or(0),
    })
}

/// Agents connected to the inbox right now, with their skills (from their socket attachments).
pub fn online(hub: &dyn LiveHub) -> Vec<(Author, Vec<String>)> {
    let mut out: Vec<(Author, Vec<String>)> = Vec::new();
    for c in hub.connections() {
        let Ok(Participant::Agent { id, name }) = serde_json::from_value(c.attachment["p"].clone())
        else {
            continue;
        };
        if out.iter().any(|(a, _)| a.id == id) {
            continue;
        }
        let skills = c.attachment["skills"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        out.push((
            Author {
                kind: AuthorKind::Agent,
                id,
                name,
            },
            skills,
        ));
    }
    out
}

/// Picks an online agent: most matching skills first, then fewest open assigned conversations,
/// then id (stable). `None` leaves the conversation in the unassigned queue.
pub async fn route(
    name: &str,
    db: &dyn SqlDatabase,
    hub: &dyn LiveHub,
    skills: &[String],
) -> ApiResult<Option<Author>> {
    let agents = online(hub);
    if agents.is_empty() {
        return Ok(None);
    }
    let rows = db
        .query(
            "SELECT user_id, COUNT(*) AS n FROM inbox_assign WHERE object = ?1 GROUP BY user_id",
            &params![name],
        )
        .await?;
    let load = |id: &str| {
        rows.iter()
            .find(|r| r.text("user_id").as_deref() == Some(id))
            .and_then(|r| r.int("n"))
            .unwrap_or(0)
    };
    let best = agents.into_iter().min_by_key(|(a, s)| {
        let matched = skills.iter().filter(|k| s.contains(k)).count() as i64;
        (-matched, load(&a.id), a.id.clone())
    });
    Ok(best.map(|(a, _)| a))
}

/// Publishes mirror events to their tenants' inboxes.
pub async fn publish(objects: &dyn Objects, events: &[InboxEventDraft]) -> ApiResult<()> {
    let mut tenants: Vec<&str> = events.iter().map(|e| e.tenant_id.as_str()).collect();
    tenants.sort();
    tenants.dedup();
    for t in tenants {
        let mine: Vec<InboxEventDraft> = events
            .iter()
            .filter(|e| e.tenant_id == t)
            .cloned()
            .collect();
        let mut req = Request::new(Method::Post, "https://inbox/publish");
        req.body = serde_json::to_vec(&Published { events: mine })
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let resp = objects
            .call(&ObjectRef::new(ObjectClass::Inbox, t), req)
            .await?;
        if resp.status >= 400 {
            return Err(ApiError::internal(format!(
                "inbox publish answered {}",
                resp.status
            )));
        }
    }
    Ok(())
}
