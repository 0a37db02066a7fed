//! Everything held about one person, as one JSON document (the right of access and to data
//! portability): who they are on every channel, every conversation with its messages, ratings,
//! message analysis, outbound deliveries and calls, and their opt-outs. Read from the
//! tenant-wide tables (the mirror of every conversation), never by scanning other customers.

use crate::conversations::customers::{self, Customer};
use crate::conversations::mirror::{self, ConversationSummary};
use crate::error::ApiResult;
use crate::params;
use crate::ports::{Row, SqlDatabase, SqlValue};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// The document's format name, so a reader can tell versions apart.
pub const FORMAT: &str = "prism.customer-export.v1";

/// The most conversations one export holds (newest first); `truncated` says when more exist.
const MAX_CONVERSATIONS: u32 = 1000;

/// Conversations read per query for their messages and records.
const CHUNK: usize = 20;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CustomerExport {
    pub format: String,
    /// RFC 3339.
    pub exported_at: String,
    pub tenant_id: String,
    pub customer: Customer,
    /// The same person's other identities (same email or phone, another channel).
    pub identities: Vec<Customer>,
    pub conversations: Vec<ConversationExport>,
    /// Channels and addresses the person asked not to be messaged on.
    pub opt_outs: Vec<OptOut>,
    /// The person's lead (sales), with its consent record.
    pub leads: Vec<crate::leads::Lead>,
    /// More than the export's limit of conversations exist (the oldest are left out).
    pub truncated: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ConversationExport {
    #[serde(flatten)]
    pub conversation: ConversationSummary,
    pub messages: Vec<ExportedMessage>,
    /// The person's thumbs on answers.
    pub ratings: Vec<ExportedRating>,
    /// What the assistant inferred from each of the person's messages.
    pub analysis: Vec<ExportedAnalysis>,
    /// Replies sent to the person on messaging channels.
    pub deliveries: Vec<ExportedDelivery>,
    pub calls: Vec<ExportedCall>,
    /// Satisfaction surveys sent to the person and their answers.
    pub surveys: Vec<ExportedSurvey>,
    /// The team's summary of the conversation.
    pub summaries: Vec<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedSurvey {
    pub id: String,
    pub status: String,
    pub kind: Option<String>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    #[schemars(with = "Option<Value>")]
    pub answers: Option<Value>,
    pub sent_at: Option<i64>,
    pub responded_at: Option<i64>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedMessage {
    pub seq: i64,
    pub id: String,
    /// `customer`, `ai`, `agent` or `system`.
    pub author_type: String,
    pub text: String,
    #[schemars(with = "Option<Value>")]
    pub meta: Option<Value>,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedRating {
    pub seq: i64,
    pub rating: String,
    pub comment: Option<String>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedAnalysis {
    pub seq: i64,
    pub sentiment: f64,
    pub intent: String,
    pub topics: Vec<String>,
    pub language: String,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedDelivery {
    pub seq: i64,
    pub channel: String,
    pub to_address: String,
    pub status: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ExportedCall {
    pub call_id: String,
    pub status: String,
    pub summary: Option<String>,
    pub recording_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct OptOut {
    pub channel: String,
    pub address: String,
    pub created_at: i64,
}

pub async fn export(
    p: &crate::platform::Platform,
    tenant_id: &str,
    customer_id: &str,
) -> ApiResult<CustomerExport> {
    let db = p.db()?;
    let now = p.now_ms();
    let customer = customers::get(db, tenant_id, customer_id).await?;
    let identities = customers::same_person(db, tenant_id, &customer).await?;
    let mut ids: Vec<&str> = vec![customer.id.as_str()];
    ids.extend(identities.iter().map(|c| c.id.as_str()));
    let mut summaries = mirror::for_customers(db, tenant_id, &ids, MAX_CONVERSATIONS + 1).await?;
    let truncated = summaries.len() > MAX_CONVERSATIONS as usize;
    summaries.truncate(MAX_CONVERSATIONS as usize);
    let mut conversations = Vec::with_capacity(summaries.len());
    for chunk in summaries.chunks(CHUNK) {
        let conv_ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
        let messages = per_conversation(db, tenant_id, &conv_ids,
            "SELECT conversation_id, seq, id, author_type, text, meta, created_at FROM conversation_messages",
            "ORDER BY conversation_id, seq", |r| ExportedMessage {
                seq: r.int("seq").unwrap_or(0),
                id: r.text("id").unwrap_or_default(),
                author_type: r.text("author_type").unwrap_or_default(),
                text: r.text("text").unwrap_or_default(),
                meta: r.text("meta").and_then(|s| serde_json::from_str(&s).ok()),
                created_at: r.int("created_at").unwrap_or(0),
            }).await?;
        let ratings = per_conversation(
            db,
            tenant_id,
            &conv_ids,
            "SELECT conversation_id, seq, rating, comment, updated_at FROM message_ratings",
            "ORDER BY conversation_id, seq",
            |r| ExportedRating {
                seq: r.int("seq").unwrap_or(0),
                rating: r.text("rating").unwrap_or_default(),
                comment: r.text("comment"),
                updated_at: r.int("updated_at").unwrap_or(0),
            },
        )
        .await?;
        let analysis = per_conversation(db, tenant_id, &conv_ids,
            "SELECT conversation_id, seq, sentiment, intent, topics, language FROM message_analysis",
            "ORDER BY conversation_id, seq", |r| ExportedAnalysis {
                seq: r.int("seq").unwrap_or(0),
                sentiment: r.real("sentiment").unwrap_or(0.0),
                intent: r.text("intent").unwrap_or_default(),
                topics: r.text("topics").and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default(),
                language: r.text("language").unwrap_or_default(),
            }).await?;
        let deliveries = per_conversation(db, tenant_id, &conv_ids,
            "SELECT conversation_id, seq, channel, to_address, status, created_at FROM outbound_messages",
            "ORDER BY conversation_id, seq", |r| ExportedDelivery {
                seq: r.int("seq").unwrap_or(0),
                channel: r.text("channel").unwrap_or_default(),
                to_address: r.text("to_address").unwrap_or_default(),
                status: r.text("status").unwrap_or_default(),
                created_at: r.int("created_at").unwrap_or(0),
            }).await?;
        let calls = per_conversation(
            db,
            tenant_id,
            &conv_ids,
            "SELECT conversation_id, call_id, status, summary, recording_url FROM voice_calls",
            "ORDER BY conversation_id, updated_at",
            |r| ExportedCall {
                call_id: r.text("call_id").unwrap_or_default(),
                status: r.text("status").unwrap_or_default(),
                summary: r.text("summary"),
                recording_url: r.text("recording_url"),
            },
        )
        .await?;
        let surveys = per_conversation(
            db,
            tenant_id,
            &conv_ids,
            "SELECT conversation_id, id, status, kind, score, comment, answers, sent_at, responded_at FROM surveys",
            "ORDER BY conversation_id, created_at",
            |r| ExportedSurvey {
                id: r.text("id").unwrap_or_default(),
                status: r.text("status").unwrap_or_default(),
                kind: r.text("kind"),
                score: r.int("score"),
                comment: r.text("comment"),
                answers: r.text("answers").and_then(|s| serde_json::from_str(&s).ok()),
                sent_at: r.int("sent_at"),
                responded_at: r.int("responded_at"),
            },
        )
        .await?;
        let summaries = per_conversation(
            db,
            tenant_id,
            &conv_ids,
            "SELECT conversation_id, text FROM conversation_summaries",
            "",
            |r| r.text("text").unwrap_or_default(),
        )
        .await?;
        for c in chunk {
            conversations.push(ConversationExport {
                conversation: c.clone(),
                messages: take(&messages, &c.id),
                ratings: take(&ratings, &c.id),
                analysis: take(&analysis, &c.id),
                deliveries: take(&deliveries, &c.id),
                calls: take(&calls, &c.id),
                surveys: take(&surveys, &c.id),
                summaries: take(&summaries, &c.id),
            });
        }
    }
    let opt_outs = opt_outs(db, tenant_id, &customer, &identities).await?;
    let person: Vec<String> = std::iter::once(&customer)
        .chain(&identities)
        .map(|c| c.id.clone())
        .collect();
    let leads = crate::leads::store::for_customers(p, tenant_id, &person).await?;
    Ok(CustomerExport {
        format: FORMAT.into(),
        exported_at: crate::time::rfc3339(now),
        tenant_id: tenant_id.into(),
        customer,
        identities,
        conversations,
        opt_outs,
        leads,
        truncated,
    })
}

/// Rows of `select` for these conversations, read as `T`, each with its conversation id.
async fn per_conversation<T>(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    conv_ids: &[&str],
    select: &str,
    order: &str,
    read: impl Fn(&Row) -> T,
) -> ApiResult<Vec<(String, T)>> {
    let mut args: Vec<SqlValue> = vec![tenant_id.into()];
    let marks = crate::records::in_list(&mut args, conv_ids.iter().copied());
    let sql = format!("{select} WHERE tenant_id = ?1 AND conversation_id IN ({marks}) {order}");
    Ok(db
        .query(&sql, &args)
        .await?
        .iter()
        .map(|r| (r.text("conversation_id").unwrap_or_default(), read(r)))
        .collect())
}

fn take<T: Clone>(rows: &[(String, T)], conversation_id: &str) -> Vec<T> {
    rows.iter()
        .filter(|(c, _)| c == conversation_id)
        .map(|(_, v)| v.clone())
        .collect()
}

async fn opt_outs(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    customer: &Customer,
    identities: &[Customer],
) -> ApiResult<Vec<OptOut>> {
    let mut addresses: Vec<String> = Vec::new();
    for c in std::iter::once(customer).chain(identities) {
        addresses.extend(c.phone.clone());
        addresses.extend(c.email.clone());
        addresses.push(c.external_id.clone());
    }
    addresses.sort();
    addresses.dedup();
    let mut out = Vec::new();
    for a in addresses {
        let rows = db
            .query(
                "SELECT channel, address, created_at FROM channel_optouts WHERE tenant_id = ?1 AND address = ?2",
                &params![tenant_id, a.as_str()],
            )
            .await?;
        out.extend(rows.iter().map(|r| OptOut {
            channel: r.text("channel").unwrap_or_default(),
            address: r.text("address").unwrap_or_default(),
            created_at: r.int("created_at").unwrap_or(0),
        }));
    }
    Ok(out)
}
