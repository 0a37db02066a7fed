//! Search across a tenant's conversations: every message in the mirror (full text, FTS5) and
//! the customers by name, email or phone. Agents find "that refund from last week" without
//! knowing who asked.
//!
//! Tenant isolation is enforced twice: the FTS query itself is restricted to the tenant's rows
//! (its `tenant_id` column is indexed), and the joined mirror row must carry the tenant too.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::customers::Customer;
use super::model::{AuthorKind, Channel, Status};
use crate::error::ApiResult;
use crate::knowledge::text;
use crate::params;
use crate::ports::SqlDatabase;
use crate::records::FromRow;
use schemars::JsonSchema;
use serde::Serialize;

/// Marks the start and end of a matched term inside [`MessageHit::snippet`]; control characters
/// no message text contains (input validation refuses them), so the console can split on them
/// and highlight with elements instead of HTML.
pub const MARK_START: char = '\u{2}';
pub const MARK_END: char = '\u{3}';

/// The most terms a query keeps; more only slow the index down.
const MAX_TERMS: usize = 8;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct MessageHit {
    pub conversation_id: String,
    pub seq: i64,
    pub author_type: AuthorKind,
    /// The matching part of the message; terms that matched are wrapped in U+0002 … U+0003.
    pub snippet: String,
    pub created_at: i64,
    pub channel: Channel,
    pub status: Status,
    pub customer_id: String,
    pub customer_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SearchResults {
    /// Messages, best match first.
    pub messages: Vec<MessageHit>,
    /// Customers whose name, email or phone contains the query.
    pub customers: Vec<Customer>,
}

/// Turns free text into FTS5 syntax no user text can escape: each word a quoted prefix term,
/// all of them required. Empty when the text has no words.
pub fn match_query(q: &str) -> String {
    let mut terms: Vec<String> = Vec::new();
    for w in text::words(q) {
        if !terms.contains(&w) {
            terms.push(w);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The FTS5 phrase that selects one tenant's rows (ids are generated, but quotes are stripped
/// all the same).
fn tenant_phrase(tenant_id: &str) -> String {
    format!("tenant_id : \"{}\"", tenant_id.replace('"', ""))
}

/// D1 refuses LIKE patterns longer than this many bytes ("pattern too complex").
const MAX_LIKE_PATTERN: usize = 50;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern; `None` when the pattern would be
/// longer than D1 accepts (no name, email or phone is that long a fragment worth matching).
fn like_pattern(q: &str) -> Option<String> {
    let mut s = String::with_capacity(q.len() + 2);
    s.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    (s.len() <= MAX_LIKE_PATTERN).then_some(s)
}

pub async fn search(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    q: &str,
    limit: u32,
) -> ApiResult<SearchResults> {
    let terms = match_query(q);
    let messages = if terms.is_empty() {
        Vec::new()
    } else {
        let fts = format!("{} AND ({terms})", tenant_phrase(tenant_id));
        let rows = db
            .query(
                "SELECT f.conversation_id, f.seq,
                   snippet(message_fts, 0, char(2), char(3), '…', 16) AS snippet,
                   m.author_type, m.created_at, c.channel, c.status, c.customer_id, cu.name AS customer_name
                 FROM message_fts f
                 JOIN conversation_messages m ON m.conversation_id = f.conversation_id AND m.seq = f.seq
                 JOIN conversations c ON c.id = m.conversation_id
                 LEFT JOIN customers cu ON cu.id = c.customer_id
                 WHERE message_fts MATCH ?1 AND m.tenant_id = ?2 AND c.tenant_id = ?2
                 ORDER BY bm25(message_fts), m.created_at DESC LIMIT ?3",
                &params![fts.as_str(), tenant_id, limit],
            )
            .await?;
        rows.iter()
            .map(|r| MessageHit {
                conversation_id: r.text("conversation_id").unwrap_or_default(),
                seq: r.int("seq").unwrap_or(0),
                author_type: AuthorKind::parse(&r.text("author_type").unwrap_or_default()),
                snippet: r.text("snippet").unwrap_or_default(),
                created_at: r.int("created_at").unwrap_or(0),
                channel: r
                    .text("channel")
                    .as_deref()
                    .and_then(Channel::parse)
                    .unwrap_or(Channel::Web),
                status: Status::parse(&r.text("status").unwrap_or_default())
                    .unwrap_or(Status::Open),
                customer_id: r.text("customer_id").unwrap_or_default(),
                customer_name: r.text("customer_name"),
            })
            .collect()
    };
    let customers = match like_pattern(q.trim()) {
        None => Vec::new(),
        Some(like) => db
            .query(
                "SELECT id, kind, external_id, name, email, phone, created_at, erased_at FROM customers
                 WHERE tenant_id = ?1 AND (name LIKE ?2 ESCAPE '\\' OR email LIKE ?2 ESCAPE '\\' OR phone LIKE ?2 ESCAPE '\\')
                 ORDER BY updated_at DESC LIMIT ?3",
                &params![tenant_id, like.as_str(), limit.min(20)],
            )
            .await?
            .iter()
            .map(Customer::from_row)
            .collect::<ApiResult<_>>()?,
    };
    Ok(SearchResults {
        messages,
        customers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_never_reaches_fts_syntax() {
        assert_eq!(match_query("refund late"), "\"refund\"* AND \"late\"*");
        assert_eq!(
            match_query("NEAR(\"a\" b) OR c* -d ^e :f"),
            "\"near\"* AND \"a\"* AND \"b\"* AND \"or\"* AND \"c\"* AND \"d\"* AND \"e\"* AND \"f\"*"
        );
        assert_eq!(match_query("\"\" ** () --"), "");
        assert_eq!(
            match_query("Pedido atrasado, ¿dónde está?")
                .matches('*')
                .count(),
            4
        );
        assert_eq!(match_query(&"x ".repeat(100)), "\"x\"*");
        assert_eq!(
            match_query("word1 word2 word3 word4 word5 word6 word7 word8 word9 word10")
                .matches(" AND ")
                .count(),
            MAX_TERMS - 1
        );
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(
            like_pattern("50%_off\\").as_deref(),
            Some("%50\\%\\_off\\\\%")
        );
        // D1's limit: longer fragments search messages only.
        assert!(like_pattern(&"a".repeat(48)).is_some());
        assert!(like_pattern(&"a".repeat(49)).is_none());
        assert!(like_pattern(&"%".repeat(25)).is_none());
    }
}
