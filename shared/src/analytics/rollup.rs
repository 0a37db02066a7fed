//! The rollups: counters per tenant and quarter hour, written in the same D1 batch as the mirror
//! rows they summarise, so reports read a few hundred rows instead of a tenant's history.
//!
//! Replay safety. A flush batch may be applied twice (a retry after a lost acknowledgement):
//! - a conversation row's contribution is taken out, the row upserted (a no-op when not newer),
//!   and the row's contribution added back — net zero on a replay, `new − old` on a change;
//! - a message or AI answer counts only when its `(conversation_id, seq)` is not in the mirror
//!   yet (the statements run before the insert that adds it);
//! - an analysis row is taken out and added back around its upsert, like a conversation.

use crate::conversations::protocol::MessageView;
use crate::params;
use crate::ports::{SqlValue, Statement};
use serde_json::Value;

/// Quarter hours: every UTC offset in use is a multiple of 15 minutes.
pub const BUCKET_MS: i64 = 900_000;

/// The contribution of conversations to the bucket of their creation and of their resolution.
/// `{sign}` is `?S` (±1) and `{only}` a condition on the `conversations` row (code constants).
const AT_CREATED: &str = "INSERT INTO analytics_buckets (tenant_id, bucket, channel, agent_id, created, handed_off, reopened,
     first_response_n, first_response_ms, first_human_n, first_human_ms)
   SELECT tenant_id, created_at / 900000, channel, COALESCE(assignee_id, ''), {sign} * COUNT(*),
     {sign} * SUM(handoff_at IS NOT NULL), {sign} * SUM(reopens > 0),
     {sign} * SUM(first_response_at IS NOT NULL AND first_customer_at IS NOT NULL),
     {sign} * COALESCE(SUM(first_response_at - first_customer_at), 0),
     {sign} * SUM(first_human_at IS NOT NULL AND first_customer_at IS NOT NULL),
     {sign} * COALESCE(SUM(first_human_at - first_customer_at), 0)
   FROM conversations WHERE {only} GROUP BY 1, 2, 3, 4
   ON CONFLICT (tenant_id, bucket, channel, agent_id) DO UPDATE SET created = created + excluded.created,
     handed_off = handed_off + excluded.handed_off, reopened = reopened + excluded.reopened,
     first_response_n = first_response_n + excluded.first_response_n,
     first_response_ms = first_response_ms + excluded.first_response_ms,
     first_human_n = first_human_n + excluded.first_human_n,
     first_human_ms = first_human_ms + excluded.first_human_ms";

const AT_RESOLVED: &str = "INSERT INTO analytics_buckets (tenant_id, bucket, channel, agent_id, resolved, contained,
     resolution_n, resolution_ms, handle_n, handle_ms)
   SELECT tenant_id, resolved_at / 900000, channel, COALESCE(assignee_id, ''), {sign} * COUNT(*),
     {sign} * SUM(resolved_by = 'ai'), {sign} * COUNT(*), {sign} * SUM(resolved_at - created_at),
     {sign} * SUM(first_human_at IS NOT NULL), {sign} * COALESCE(SUM(resolved_at - first_human_at), 0)
   FROM conversations WHERE resolved_at IS NOT NULL AND {only} GROUP BY 1, 2, 3, 4
   ON CONFLICT (tenant_id, bucket, channel, agent_id) DO UPDATE SET resolved = resolved + excluded.resolved,
     contained = contained + excluded.contained, resolution_n = resolution_n + excluded.resolution_n,
     resolution_ms = resolution_ms + excluded.resolution_ms, handle_n = handle_n + excluded.handle_n,
     handle_ms = handle_ms + excluded.handle_ms";

fn contribution(sign: i64, only: &str, p: &[SqlValue]) -> Vec<Statement> {
    let mut params = p.to_vec();
    params.push(sign.into());
    // D1 binds numbers as JavaScript doubles: cast so the sums stay integers.
    let s = format!("CAST(?{} AS INTEGER)", params.len());
    [AT_CREATED, AT_RESOLVED]
        .iter()
        .map(|t| {
            Statement::new(
                t.replace("{sign}", &s).replace("{only}", only),
                params.clone(),
            )
        })
        .collect()
}

/// The fields of a conversation's mirror row that its contribution (`AT_CREATED`,
/// `AT_RESOLVED`) reads. While a change leaves them as they were — most messages: only a
/// first message or reply, a handoff, an assignment, a resolution or a reopen moves them —
/// taking the contribution out and adding it back is a no-op, and a flush that knows what
/// the row holds skips those five statements (two to take it out, two to add it back, one to
/// mark the row counted; [`crate::conversations::engine::mirrored`]).
/// Keep this in step with the two statements: a field they read and this misses would leave
/// the rollups stale after a change of that field alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolledFields {
    tenant_id: String,
    channel: crate::conversations::Channel,
    assignee_id: Option<String>,
    created_at: i64,
    first_customer_at: Option<i64>,
    first_response_at: Option<i64>,
    first_human_at: Option<i64>,
    handoff_at: Option<i64>,
    resolved_at: Option<i64>,
    resolved_by: Option<String>,
    reopens: i64,
}

impl RolledFields {
    pub fn of(m: &crate::conversations::model::Meta) -> Self {
        let f = &m.facts;
        RolledFields {
            tenant_id: m.tenant_id.clone(),
            channel: m.channel,
            assignee_id: m.assignee_id.clone(),
            created_at: m.created_at,
            first_customer_at: f.first_customer_at,
            first_response_at: f.first_response_at,
            first_human_at: f.first_human_at,
            handoff_at: f.handoff_at,
            resolved_at: f.resolved_at,
            resolved_by: f.resolved_by.clone(),
            reopens: f.reopens,
        }
    }
}

/// Before a conversation row's upsert: take out what the rows hold for it.
pub fn conversation_before(conversation_id: &str) -> Vec<Statement> {
    contribution(-1, "id = ?1 AND rolled = 1", &params![conversation_id])
}

/// After the upsert: add the row as it now is, and mark it counted.
pub fn conversation_after(conversation_id: &str) -> Vec<Statement> {
    let mut v = contribution(1, "id = ?1", &params![conversation_id]);
    v.push(Statement::new(
        "UPDATE conversations SET rolled = 1 WHERE id = ?1 AND rolled = 0",
        params![conversation_id],
    ));
    v
}

/// Before a window's message inserts into the mirror: count each message (once) at its
/// quarter hour, and an AI answer's provider, citations and tokens. One counting statement per
/// quarter hour, author kind and agent, whatever the window's size (it was one per message):
/// `seqs` lists the window's messages, and those already mirrored (a retried batch) are left
/// out by the statement itself.
pub fn messages(
    tenant_id: &str,
    conversation_id: &str,
    channel: &str,
    ms: &[&MessageView],
) -> Vec<Statement> {
    let mut groups: Vec<(CountKey<'_>, Vec<i64>)> = Vec::new();
    let mut answers = Vec::new();
    for m in ms {
        let kind = m.author.kind.as_str();
        let column = match kind {
            "customer" => "msgs_customer",
            "ai" => "msgs_ai",
            "agent" => "msgs_agent",
            _ => continue,
        };
        let agent = if kind == "agent" {
            m.author.id.as_str()
        } else {
            ""
        };
        let key = (m.ts.div_euclid(BUCKET_MS), column, agent);
        // A message listed twice still counts once, as it did with one statement per message.
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, seqs)) if seqs.contains(&m.seq) => {}
            Some((_, seqs)) => seqs.push(m.seq),
            None => groups.push((key, vec![m.seq])),
        }
        // An AI message without a provider is a notice (a handoff), not an answer.
        let is_answer = m
            .meta
            .as_ref()
            .and_then(|v| v.get("provider"))
            .is_some_and(Value::is_string);
        if kind == "ai" && is_answer {
            let a = answer(m.meta.as_ref());
            answers.push(Statement::new(
                format!(
                    "INSERT INTO analytics_ai (tenant_id, bucket, channel, provider, model, answers, cited, fallback, tokens_in, tokens_out)
                     SELECT ?1, ?2, ?3, ?4, ?11, 1, ?7, ?8, ?9, ?10 WHERE {NEW_MESSAGE}
                     ON CONFLICT (tenant_id, bucket, channel, provider, model) DO UPDATE SET answers = answers + 1,
                       cited = cited + excluded.cited, fallback = fallback + excluded.fallback,
                       tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out"
                ),
                params![
                    tenant_id, m.ts.div_euclid(BUCKET_MS), channel, a.provider, conversation_id, m.seq,
                    a.cited as i64, a.fallback as i64, a.tokens_in, a.tokens_out, a.model
                ],
            ));
        }
    }
    let mut v: Vec<Statement> = groups
        .into_iter()
        .map(|((bucket, column, agent), seqs)| {
            Statement::new(
                format!(
                    "INSERT INTO analytics_buckets (tenant_id, bucket, channel, agent_id, {column})
                     SELECT ?1, ?2, ?3, ?4, n FROM (SELECT COUNT(*) AS n FROM json_each(?6) AS j
                       WHERE NOT EXISTS (SELECT 1 FROM conversation_messages WHERE conversation_id = ?5 AND seq = j.value))
                     WHERE n > 0
                     ON CONFLICT (tenant_id, bucket, channel, agent_id) DO UPDATE SET {column} = {column} + excluded.{column}"
                ),
                params![tenant_id, bucket, channel, agent, conversation_id, seq_list(&seqs)],
            )
        })
        .collect();
    v.extend(answers);
    v
}

/// What one counting statement counts: a quarter hour, the author kind's column, the agent.
type CountKey<'a> = (i64, &'static str, &'a str);

/// An AI answer's row counts only while its message is not in the mirror yet (`?5`, `?6`).
const NEW_MESSAGE: &str =
    "NOT EXISTS (SELECT 1 FROM conversation_messages WHERE conversation_id = ?5 AND seq = ?6)";

/// Sequence numbers as the JSON array the statements read with `json_each`.
fn seq_list(seqs: &[i64]) -> String {
    serde_json::to_string(seqs).unwrap_or_else(|_| "[]".into())
}

/// What an AI answer's metadata says about it.
struct Answer {
    provider: String,
    model: String,
    cited: bool,
    fallback: bool,
    tokens_in: i64,
    tokens_out: i64,
}

fn answer(meta: Option<&Value>) -> Answer {
    let get = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .chars()
            .take(80)
            .collect::<String>()
    };
    let usage = |k: &str| {
        meta.and_then(|m| m.pointer(&format!("/usage/{k}")))
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0)
    };
    Answer {
        provider: get("provider"),
        model: get("model"),
        cited: meta
            .and_then(|m| m.get("citations"))
            .and_then(Value::as_array)
            .is_some_and(|c| !c.is_empty()),
        fallback: meta
            .and_then(|m| m.get("fallback"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        tokens_in: usage("input_tokens"),
        tokens_out: usage("output_tokens"),
    }
}

/// Before a window's customer messages are inserted into the mirror: their local reading
/// (sentiment, intent), so analytics cover every customer message — those a person handles
/// too, not only those the assistant answers (whose turn stores the same reading, or the
/// model's, over it). Three statements for the window, however many messages (the inserts
/// split only at D1's parameter limit).
pub fn customer_analyses(
    tenant_id: &str,
    conversation_id: &str,
    channel: &str,
    ms: &[&MessageView],
) -> Vec<Statement> {
    if ms.is_empty() {
        return Vec::new();
    }
    let seqs: Vec<i64> = ms.iter().map(|m| m.seq).collect();
    let rows = ms
        .iter()
        .map(|m| {
            let a = crate::ai::analysis::local(&m.text, "en");
            params![
                tenant_id,
                conversation_id,
                m.seq,
                a.sentiment as f64,
                a.intent.as_str(),
                serde_json::to_string(&a.topics).unwrap_or_else(|_| "[]".into()),
                a.language.as_str(),
                "local",
                m.ts
            ]
        })
        .map(Vec::from)
        .collect();
    let mut v = vec![analyses(conversation_id, &seqs, channel, -1)];
    v.extend(crate::records::insert_rows(
        "INSERT INTO message_analysis (tenant_id, conversation_id, seq, sentiment, intent, topics, language, source, created_at)",
        "ON CONFLICT (conversation_id, seq) DO NOTHING",
        rows,
    ));
    v.push(analyses(conversation_id, &seqs, channel, 1));
    v
}

/// Around an analysis upsert: take out the row's old contribution, then add the new one.
pub fn analysis(conversation_id: &str, seq: i64, channel: &str, sign: i64) -> Statement {
    analyses(conversation_id, &[seq], channel, sign)
}

/// [`analysis`] for several messages of one conversation in one statement.
fn analyses(conversation_id: &str, seqs: &[i64], channel: &str, sign: i64) -> Statement {
    Statement::new(
        "INSERT INTO analytics_intents (tenant_id, bucket, channel, intent, messages, sentiment_sum, negative)
         SELECT tenant_id, created_at / 900000, ?4, intent, ?3, ?3 * sentiment, ?3 * (sentiment < -0.25)
         FROM message_analysis WHERE conversation_id = ?1 AND seq IN (SELECT value FROM json_each(?2))
         ON CONFLICT (tenant_id, bucket, channel, intent) DO UPDATE SET messages = messages + excluded.messages,
           sentiment_sum = sentiment_sum + excluded.sentiment_sum, negative = negative + excluded.negative",
        params![conversation_id, seq_list(seqs), sign, channel],
    )
}

/// Rebuilds a tenant's conversation rollups from its mirror (history from before analytics,
/// or after a definition changes). Messages are recounted from the mirror's messages; this is
/// the one place allowed to read them all, and it runs on request, not per report.
pub fn recompute(tenant_id: &str) -> Vec<Statement> {
    let t = params![tenant_id];
    let mut v = vec![
        Statement::new("DELETE FROM analytics_buckets WHERE tenant_id = ?1", t.clone()),
        // Rows mirrored before analytics: their facts from their messages; a handoff or a
        // resolution is dated by the row's last change (the object kept no earlier record).
        Statement::new(
            "UPDATE conversations SET
               msgs_customer = (SELECT COUNT(*) FROM conversation_messages m WHERE m.conversation_id = conversations.id AND m.author_type = 'customer'),
               msgs_ai = (SELECT COUNT(*) FROM conversation_messages m WHERE m.conversation_id = conversations.id AND m.author_type = 'ai'),
               msgs_agent = (SELECT COUNT(*) FROM conversation_messages m WHERE m.conversation_id = conversations.id AND m.author_type = 'agent'),
               first_customer_at = (SELECT MIN(created_at) FROM conversation_messages m WHERE m.conversation_id = conversations.id AND m.author_type = 'customer'),
               resolved_at = CASE WHEN status IN ('resolved', 'closed') THEN updated_at END,
               handoff_at = CASE WHEN status = 'pending_human' OR handoff_reason IS NOT NULL THEN updated_at END,
               first_handoff_reason = handoff_reason
             WHERE tenant_id = ?1 AND rolled = 0 AND msgs_customer + msgs_ai + msgs_agent = 0 AND last_seq > 0",
            t.clone(),
        ),
        Statement::new(
            "UPDATE conversations SET
               first_response_at = (SELECT MIN(created_at) FROM conversation_messages m WHERE m.conversation_id = conversations.id
                 AND m.author_type IN ('ai', 'agent') AND m.created_at >= conversations.first_customer_at),
               first_human_at = (SELECT MIN(created_at) FROM conversation_messages m WHERE m.conversation_id = conversations.id
                 AND m.author_type = 'agent' AND m.created_at >= conversations.first_customer_at),
               resolved_by = CASE WHEN resolved_at IS NULL THEN NULL WHEN msgs_agent = 0 AND handoff_reason IS NULL THEN 'ai' ELSE 'human' END
             WHERE tenant_id = ?1 AND rolled = 0 AND first_customer_at IS NOT NULL AND first_response_at IS NULL",
            t.clone(),
        ),
    ];
    v.extend(contribution(1, "tenant_id = ?1", &t));
    v.push(Statement::new(
        "UPDATE conversations SET rolled = 1 WHERE tenant_id = ?1",
        t.clone(),
    ));
    v.push(Statement::new(
        "INSERT INTO analytics_buckets (tenant_id, bucket, channel, agent_id, msgs_customer, msgs_ai, msgs_agent)
         SELECT m.tenant_id, m.created_at / 900000, c.channel, CASE WHEN m.author_type = 'agent' THEN m.author_id ELSE '' END,
           SUM(m.author_type = 'customer'), SUM(m.author_type = 'ai'), SUM(m.author_type = 'agent')
         FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.tenant_id = ?1 AND m.author_type IN ('customer', 'ai', 'agent') GROUP BY 1, 2, 3, 4
         ON CONFLICT (tenant_id, bucket, channel, agent_id) DO UPDATE SET msgs_customer = msgs_customer + excluded.msgs_customer,
           msgs_ai = msgs_ai + excluded.msgs_ai, msgs_agent = msgs_agent + excluded.msgs_agent",
        t.clone(),
    ));
    v.push(Statement::new(
        "DELETE FROM analytics_ai WHERE tenant_id = ?1",
        t.clone(),
    ));
    v.push(Statement::new(
        "INSERT INTO analytics_ai (tenant_id, bucket, channel, provider, model, answers, cited, fallback, tokens_in, tokens_out)
         SELECT m.tenant_id, m.created_at / 900000, c.channel, COALESCE(json_extract(m.meta, '$.provider'), 'unknown'),
           COALESCE(json_extract(m.meta, '$.model'), 'unknown'), COUNT(*),
           SUM(COALESCE(json_array_length(m.meta, '$.citations'), 0) > 0),
           SUM(COALESCE(json_extract(m.meta, '$.fallback'), 0) = 1),
           SUM(MAX(COALESCE(json_extract(m.meta, '$.usage.input_tokens'), 0), 0)),
           SUM(MAX(COALESCE(json_extract(m.meta, '$.usage.output_tokens'), 0), 0))
         FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.tenant_id = ?1 AND m.author_type = 'ai' AND json_valid(m.meta)
           AND json_type(m.meta, '$.provider') = 'text' GROUP BY 1, 2, 3, 4, 5",
        t,
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::model::Meta;

    /// The `conversations` columns a contribution statement reads: its lowercase words between
    /// `SELECT` and `GROUP BY` (SQL's own words are written in capitals here), less the table's
    /// name, string literals and placeholders.
    fn columns_read(sql: &str) -> std::collections::BTreeSet<String> {
        let from = sql.find("SELECT").expect("a SELECT");
        let to = sql.find("GROUP BY").expect("a GROUP BY");
        let mut part = sql[from..to].to_string();
        while let Some(a) = part.find('\'') {
            let b = part[a + 1..].find('\'').map_or(part.len(), |b| a + b + 2);
            part.replace_range(a..b, " ");
        }
        part.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '{' || c == '}'))
            .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter(|w| *w != "conversations")
            .map(str::to_string)
            .collect()
    }

    /// A field added to the statements and not to [`RolledFields`] would let a flush skip the
    /// contribution after a change of that field alone and leave the rollups stale: every
    /// column the statements read must move `RolledFields` when it alone changes.
    #[test]
    fn every_column_the_contribution_reads_is_a_rolled_field() {
        let mut base: Meta = crate::testing::sample_meta(3);
        base.last_message_at = Some(5);
        base.updated_at = 5;
        type Change = fn(&mut Meta);
        let changes: [(&str, Change); 11] = [
            ("tenant_id", |m| m.tenant_id = "ten_2".into()),
            ("channel", |m| {
                m.channel = crate::conversations::Channel::Sms
            }),
            ("assignee_id", |m| m.assignee_id = Some("agt_1".into())),
            ("created_at", |m| m.created_at = 2),
            ("first_customer_at", |m| m.facts.first_customer_at = Some(2)),
            ("first_response_at", |m| m.facts.first_response_at = Some(3)),
            ("first_human_at", |m| m.facts.first_human_at = Some(4)),
            ("handoff_at", |m| m.facts.handoff_at = Some(4)),
            ("resolved_at", |m| m.facts.resolved_at = Some(5)),
            ("resolved_by", |m| m.facts.resolved_by = Some("ai".into())),
            ("reopens", |m| m.facts.reopens = 1),
        ];
        let read: std::collections::BTreeSet<String> = [AT_CREATED, AT_RESOLVED]
            .iter()
            .flat_map(|s| columns_read(s))
            .collect();
        let covered: std::collections::BTreeSet<String> =
            changes.iter().map(|(c, _)| c.to_string()).collect();
        assert_eq!(read, covered, "the columns the contribution reads");
        for (column, change) in changes {
            let mut m = base.clone();
            change(&mut m);
            assert_ne!(
                RolledFields::of(&base),
                RolledFields::of(&m),
                "{column} alone changed and RolledFields did not"
            );
        }
        // And what the contribution does not read leaves them equal.
        let mut m = base.clone();
        m.last_seq = 9;
        m.facts.msgs_customer = 4;
        m.subject = Some("x".into());
        assert_eq!(RolledFields::of(&base), RolledFields::of(&m));
    }
}
