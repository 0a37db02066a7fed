//! The tenant-wide mirror of conversations (D1 on Cloudflare): what the inbox lists and
//! analytics read. Written only from conversation objects' outboxes, idempotently: messages are
//! keyed by `(conversation_id, seq)` and a conversation row only moves forward
//! (`mirror_version`), so replays and concurrent flushes cannot regress it.

use super::model::{Channel, Meta, Status};
use super::protocol::MessageView;
use super::store::OutboxEntry;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Row, SqlDatabase, SqlValue, Statement};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change a conversation object queues for the tenant-wide tables, in the same storage step
/// as the change itself. Stored as `{"op": "conversation" | "message" | "event", …}`; a typo in
/// an op is a compile error, and an entry that does not parse is an error, never skipped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OutboxOp {
    /// The conversation's new state, as entries queued by an older build carry it; read into
    /// [`OutboxEntry::state`] (new entries keep it there) and never written any more.
    Conversation { meta: Box<Meta> },
    /// A message, with what its delivery needs.
    Message {
        tenant_id: String,
        conversation_id: String,
        channel: Channel,
        customer_id: String,
        message: MessageView,
    },
    /// An event for the tenant's live inbox feed.
    Event { event: InboxEventDraft },
    /// The customer was erased: redact the tenant-wide copies. Queued after every earlier
    /// entry, so no older write applied later can put the text back.
    Erase {
        tenant_id: String,
        conversation_id: String,
        at: i64,
    },
}

/// What happened, as the inbox feed names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum EventKind {
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "conversation.status")]
    ConversationStatus,
    #[serde(rename = "conversation.assigned")]
    ConversationAssigned,
    #[serde(rename = "conversation.updated")]
    ConversationUpdated,
}

/// An inbox event before the tenant's inbox numbers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboxEventDraft {
    pub kind: EventKind,
    pub tenant_id: String,
    pub conversation_id: String,
    pub status: Status,
    pub data: Value,
}

pub fn op_message(meta: &Meta, m: &MessageView) -> OutboxOp {
    OutboxOp::Message {
        tenant_id: meta.tenant_id.clone(),
        conversation_id: meta.conversation_id.clone(),
        channel: meta.channel,
        customer_id: meta.customer_id.clone(),
        message: m.clone(),
    }
}

/// An event for the tenant's live inbox feed.
pub fn op_event(kind: EventKind, meta: &Meta, data: Value) -> OutboxOp {
    OutboxOp::Event {
        event: InboxEventDraft {
            kind,
            tenant_id: meta.tenant_id.clone(),
            conversation_id: meta.conversation_id.clone(),
            status: meta.status,
            data,
        },
    }
}

/// What applying an outbox produced for others to act on.
#[derive(Default)]
pub struct Applied {
    /// Inbox events to publish.
    pub events: Vec<InboxEventDraft>,
    /// Outbound deliveries recorded (replies on messaging channels), to enqueue.
    pub outbound: Vec<String>,
    /// The rollup fields of the state written to the conversation's row, if one was.
    pub rolled: Option<crate::analytics::rollup::RolledFields>,
}

/// Applies outbox entries in one batch: the mirror rows, and an outbound delivery for each
/// reply on a messaging channel (same batch, so a reply and its delivery commit together).
/// `known`: the rollup fields the conversation's row is known to hold and be counted with
/// (`engine::mirrored`); when the newest state leaves them unchanged, the row's contribution
/// to the rollups is not taken out and added back.
pub async fn apply(
    db: &dyn SqlDatabase,
    entries: &[OutboxEntry],
    known: Option<&crate::analytics::rollup::RolledFields>,
) -> ApiResult<Applied> {
    let mut stmts = Vec::new();
    let mut events = Vec::new();
    let mut outbound = Vec::new();
    // Only the newest state reaches the conversation's row (`mirror_version` is its entry's id).
    let latest = entries
        .iter()
        .rev()
        .find_map(|e| e.state.as_ref().map(|s| (e.id, s)))
        .map(|(id, s)| s.decode().map(|m| (id, m)))
        .transpose()?;
    // A window's messages go to the mirror together (`window_messages`), in op order with
    // the other ops' statements: an erasure queued behind them redacts them.
    let mut window: Vec<WindowMessage<'_>> = Vec::new();
    for e in entries {
        for op in &e.ops {
            match op {
                OutboxOp::Message {
                    tenant_id,
                    conversation_id,
                    channel,
                    customer_id,
                    message: m,
                } => {
                    window.push(WindowMessage {
                        tenant_id,
                        conversation_id,
                        channel: channel.as_str(),
                        message: m,
                    });
                    let delivery = crate::channels::outbound::Reply {
                        tenant_id,
                        conversation_id,
                        channel: *channel,
                        customer_id,
                        author: m.author.kind,
                        seq: m.seq,
                        text: &m.text,
                    };
                    if let Some((id, stmt)) = crate::channels::outbound::record(&delivery, m.ts) {
                        stmts.push(stmt);
                        outbound.push(id);
                    }
                }
                // Read into the entry's state when it was loaded.
                OutboxOp::Conversation { .. } => {}
                OutboxOp::Event { event } => events.push(event.clone()),
                OutboxOp::Erase {
                    tenant_id,
                    conversation_id,
                    at,
                } => {
                    window_messages(&mut stmts, &mut window);
                    stmts.extend(crate::privacy::erase::mirror_redaction(
                        tenant_id,
                        conversation_id,
                        *at,
                    ))
                }
            }
        }
    }
    window_messages(&mut stmts, &mut window);
    let mut rolled = None;
    if let Some((version, m)) = latest {
        let f = &m.facts;
        let fields = crate::analytics::rollup::RolledFields::of(&m);
        let unchanged = known == Some(&fields);
        if !unchanged {
            stmts.extend(crate::analytics::rollup::conversation_before(
                &m.conversation_id,
            ));
        }
        stmts.push(Statement::new(
            "INSERT INTO conversations (id, tenant_id, customer_id, channel, status, assignee_id, priority, tags, subject,
               handoff_reason, last_seq, last_message_at, last_message_preview, unread_agent, unread_customer,
               mirror_version, created_at, updated_at, language, msgs_customer, msgs_ai, msgs_agent,
               first_customer_at, first_response_at, first_human_at, handoff_at, first_handoff_reason,
               resolved_at, resolved_by, reopens)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
               ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, assignee_id = excluded.assignee_id,
               priority = excluded.priority, tags = excluded.tags, subject = excluded.subject,
               handoff_reason = excluded.handoff_reason, last_seq = excluded.last_seq,
               last_message_at = excluded.last_message_at, last_message_preview = excluded.last_message_preview,
               unread_agent = excluded.unread_agent, unread_customer = excluded.unread_customer,
               mirror_version = excluded.mirror_version, updated_at = excluded.updated_at,
               language = excluded.language, msgs_customer = excluded.msgs_customer,
               msgs_ai = excluded.msgs_ai, msgs_agent = excluded.msgs_agent,
               first_customer_at = excluded.first_customer_at, first_response_at = excluded.first_response_at,
               first_human_at = excluded.first_human_at, handoff_at = excluded.handoff_at,
               first_handoff_reason = excluded.first_handoff_reason, resolved_at = excluded.resolved_at,
               resolved_by = excluded.resolved_by, reopens = excluded.reopens
             WHERE excluded.mirror_version > conversations.mirror_version",
            params![
                m.conversation_id.as_str(), m.tenant_id.as_str(), m.customer_id.as_str(), m.channel.as_str(),
                m.status.as_str(), m.assignee_id.clone(), m.priority.as_str(),
                serde_json::to_string(&m.tags).unwrap_or_else(|_| "[]".into()), m.subject.clone(),
                m.handoff_reason.clone(), m.last_seq, m.last_message_at, m.last_message_preview.clone(),
                m.unread_agent, m.unread_customer, version, m.created_at, m.updated_at,
                m.language.clone(), f.msgs_customer, f.msgs_ai, f.msgs_agent, f.first_customer_at,
                f.first_response_at, f.first_human_at, f.handoff_at, f.handoff_reason.clone(),
                f.resolved_at, f.resolved_by.clone(), f.reopens
            ],
        ));
        if !unchanged {
            stmts.extend(crate::analytics::rollup::conversation_after(
                &m.conversation_id,
            ));
        }
        rolled = Some(fields);
    }
    if !stmts.is_empty() {
        db.batch(stmts).await?;
    }
    Ok(Applied {
        events,
        outbound,
        rolled,
    })
}

/// A message op of the window being applied.
struct WindowMessage<'a> {
    tenant_id: &'a str,
    conversation_id: &'a str,
    channel: &'a str,
    message: &'a MessageView,
}

/// The statements for `window`'s messages, which it empties: their counts, the customer
/// messages' readings and the rows, a few statements for the whole window instead of five per
/// customer message (each statement costs D1 and the runtime's binding about as much as its
/// rows do). The counts and readings come first: they count only messages not mirrored yet.
fn window_messages(stmts: &mut Vec<Statement>, window: &mut Vec<WindowMessage<'_>>) {
    let same = |a: &WindowMessage<'_>, b: &WindowMessage<'_>| {
        (a.tenant_id, a.conversation_id, a.channel) == (b.tenant_id, b.conversation_id, b.channel)
    };
    // An object's outbox holds one conversation, so this is one run; grouped all the same.
    for run in window.chunk_by(same) {
        let (tenant_id, conversation_id, channel) =
            (run[0].tenant_id, run[0].conversation_id, run[0].channel);
        let ms: Vec<&MessageView> = run.iter().map(|w| w.message).collect();
        let customers: Vec<&MessageView> = ms
            .iter()
            .copied()
            .filter(|m| m.author.kind == crate::conversations::model::AuthorKind::Customer)
            .collect();
        stmts.extend(crate::analytics::rollup::messages(
            tenant_id,
            conversation_id,
            channel,
            &ms,
        ));
        stmts.extend(crate::analytics::rollup::customer_analyses(
            tenant_id,
            conversation_id,
            channel,
            &customers,
        ));
        let rows = ms
            .iter()
            .map(|m| {
                params![
                    conversation_id,
                    m.seq,
                    tenant_id,
                    m.id.as_str(),
                    m.author.kind.as_str(),
                    m.author.id.as_str(),
                    m.text.as_str(),
                    m.meta.as_ref().map(|v| v.to_string()),
                    m.ts
                ]
            })
            .map(Vec::from)
            .collect();
        stmts.extend(crate::records::insert_rows(
            "INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at)",
            "ON CONFLICT (conversation_id, seq) DO NOTHING",
            rows,
        ));
    }
    window.clear();
}

/// One row of the inbox.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ConversationSummary {
    pub id: String,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub channel: Channel,
    pub status: Status,
    pub assignee_id: Option<String>,
    pub priority: String,
    pub tags: Vec<String>,
    pub subject: Option<String>,
    pub handoff_reason: Option<String>,
    pub last_seq: i64,
    pub last_message_at: Option<i64>,
    pub last_message_preview: Option<String>,
    pub unread_agent: i64,
    /// The customer's language when known (BCP 47).
    pub language: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn summary(r: &Row) -> ConversationSummary {
    ConversationSummary {
        id: r.text("id").unwrap_or_default(),
        customer_id: r.text("customer_id").unwrap_or_default(),
        customer_name: r.text("customer_name"),
        channel: r
            .text("channel")
            .as_deref()
            .and_then(Channel::parse)
            .unwrap_or(Channel::Web),
        status: Status::parse(&r.text("status").unwrap_or_default()).unwrap_or(Status::Open),
        assignee_id: r.text("assignee_id"),
        priority: r.text("priority").unwrap_or_else(|| "normal".into()),
        tags: r
            .text("tags")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
        subject: r.text("subject"),
        handoff_reason: r.text("handoff_reason"),
        last_seq: r.int("last_seq").unwrap_or(0),
        last_message_at: r.int("last_message_at"),
        last_message_preview: r.text("last_message_preview"),
        unread_agent: r.int("unread_agent").unwrap_or(0),
        language: r.text("language"),
        created_at: r.int("created_at").unwrap_or(0),
        updated_at: r.int("updated_at").unwrap_or(0),
    }
}

/// Inbox filters. `assignee` is a user id, `none` (unassigned queue) or absent.
#[derive(Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub assignee: Option<String>,
    pub channel: Option<Channel>,
    pub customer_id: Option<String>,
    /// Newest activity first (the console's inbox) instead of oldest created first (a stable
    /// order for syncing everything). The cursor follows the chosen order.
    pub recent: bool,
}

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    f: &Filter,
    page: &PageRequest,
) -> ApiResult<Page<ConversationSummary>> {
    let mut sql = String::from(
        "SELECT c.*, cu.name AS customer_name FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id
         WHERE c.tenant_id = ?1",
    );
    let mut p: Vec<SqlValue> = vec![tenant_id.into()];
    let add = |clause: &str, v: SqlValue, p: &mut Vec<SqlValue>, sql: &mut String| {
        p.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", p.len())));
    };
    if let Some(s) = f.status {
        add(" AND c.status = ?", s.as_str().into(), &mut p, &mut sql);
    }
    match f.assignee.as_deref() {
        Some("none") => sql.push_str(" AND c.assignee_id IS NULL"),
        Some(a) => add(" AND c.assignee_id = ?", a.into(), &mut p, &mut sql),
        None => {}
    }
    if let Some(c) = &f.channel {
        add(" AND c.channel = ?", c.as_str().into(), &mut p, &mut sql);
    }
    if let Some(c) = &f.customer_id {
        add(
            " AND c.customer_id = ?",
            c.as_str().into(),
            &mut p,
            &mut sql,
        );
    }
    let (key, after, order) = if f.recent {
        ("COALESCE(c.last_message_at, c.created_at)", "<", "DESC")
    } else {
        ("c.created_at", ">", "ASC")
    };
    if let Some((ts, id)) = &page.after {
        p.push((*ts).into());
        p.push(id.clone().into());
        sql.push_str(&format!(
            " AND ({key}, c.id) {after} (?{}, ?{})",
            p.len() - 1,
            p.len()
        ));
    }
    sql.push_str(&format!(
        " ORDER BY {key} {order}, c.id {order} LIMIT {}",
        page.limit + 1
    ));
    let rows = db.query(&sql, &p).await?;
    let items = rows.iter().map(summary).collect();
    let recent = f.recent;
    Ok(Page::from_rows(
        items,
        page.limit,
        move |c: &ConversationSummary| {
            let at = if recent {
                c.last_message_at.unwrap_or(c.created_at)
            } else {
                c.created_at
            };
            (at, c.id.clone())
        },
    ))
}

/// The mirrored row, tenant-scoped (404 for another tenant's conversation).
pub async fn get(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    id: &str,
) -> ApiResult<ConversationSummary> {
    let rows = db
        .query(
            "SELECT c.*, cu.name AS customer_name FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id
             WHERE c.tenant_id = ?1 AND c.id = ?2",
            &params![tenant_id, id],
        )
        .await?;
    rows.first()
        .map(summary)
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// Open conversations of one customer on one channel (channels append to the open one).
pub async fn open_for_customer(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    customer_id: &str,
    channel: Channel,
) -> ApiResult<Option<String>> {
    let rows = db
        .query(
            "SELECT id FROM conversations WHERE tenant_id = ?1 AND customer_id = ?2 AND channel = ?3
             AND status IN ('open', 'pending_human') ORDER BY created_at DESC LIMIT 1",
            &params![tenant_id, customer_id, channel.as_str()],
        )
        .await?;
    Ok(rows.first().and_then(|r| r.text("id")))
}

/// Conversations of any of these customers (one person's identities), newest first.
pub async fn for_customers(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    customer_ids: &[&str],
    limit: u32,
) -> ApiResult<Vec<ConversationSummary>> {
    let mut p: Vec<SqlValue> = vec![tenant_id.into()];
    let marks = crate::records::in_list(&mut p, customer_ids.iter().take(21).copied());
    let sql = format!(
        "SELECT c.*, cu.name AS customer_name FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id
         WHERE c.tenant_id = ?1 AND c.customer_id IN ({marks}) ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}"
    );
    Ok(db.query(&sql, &p).await?.iter().map(summary).collect())
}
