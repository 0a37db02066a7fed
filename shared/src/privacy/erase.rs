//! Erasing a customer. The conversation objects redact first (their messages, notes and queued
//! mirror writes), each queuing a redaction of the tenant-wide copies behind anything already
//! queued; the same redaction is applied here straight away so the answer means "done".
//! Customers' own rows go last, because the identities that make up the person are found by
//! the email and phone the erasure removes. Every step is idempotent: a repeat (or a retry of
//! an interrupted erasure) finishes what is left.

use crate::conversations::client::{self, Conversation};
use crate::conversations::customers::{self, Customer};
use crate::error::{ApiResult, ErrorCode};
use crate::params;
use crate::platform::Platform;
use crate::ports::{SqlValue, Statement};
use crate::records::in_list;
use schemars::JsonSchema;
use serde::Serialize;

/// Conversations one request erases; a person with more gets `complete: false` and the caller
/// asks again (each request stays well inside a worker's limits).
const BATCH: usize = 25;

/// What an erasure did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Erasure {
    pub customer_id: String,
    /// Every customer record erased as this person (the one named and its other identities).
    pub customers: Vec<String>,
    /// Conversations redacted by this request.
    pub conversations: usize,
    /// False when conversations remain: call again until true.
    pub complete: bool,
    /// The customer had already been erased; nothing was left to do.
    pub already_erased: bool,
    pub erased_at: Option<i64>,
}

pub async fn erase(p: &Platform, tenant_id: &str, customer_id: &str) -> ApiResult<Erasure> {
    let db = p.db()?;
    let now = p.now_ms();
    let customer = customers::get(db, tenant_id, customer_id).await?;
    let mut person = vec![customer.clone()];
    person.extend(customers::same_person(db, tenant_id, &customer).await?);
    let ids: Vec<String> = person.iter().map(|c| c.id.clone()).collect();

    let mut args: Vec<SqlValue> = vec![tenant_id.into()];
    let marks = in_list(&mut args, ids.iter().map(String::as_str));
    let rows = db
        .query(
            &format!(
                "SELECT id FROM conversations WHERE tenant_id = ?1 AND customer_id IN ({marks}) AND erased_at IS NULL
                 ORDER BY created_at, id LIMIT {}",
                BATCH + 1
            ),
            &args,
        )
        .await?;
    let pending: Vec<String> = rows.iter().filter_map(|r| r.text("id")).collect();
    let done: Vec<String> = pending.iter().take(BATCH).cloned().collect();
    for id in &done {
        match Conversation::new(p, tenant_id, id).erase().await {
            Ok(_) => {}
            // A mirror row whose object holds nothing (never created there): the mirror is
            // all there is to redact.
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
        db.batch(mirror_redaction(tenant_id, id, now)).await?;
    }
    // Files the person or an agent sent in those conversations: their bytes and rows go.
    crate::files::store::delete_conversations(p, tenant_id, &done).await?;
    if !done.is_empty() && p.objects.is_some() {
        client::inbox_erase(p, tenant_id, &done).await?;
    }
    if pending.len() > BATCH {
        return Ok(Erasure {
            customer_id: customer.id,
            customers: ids,
            conversations: done.len(),
            complete: false,
            already_erased: false,
            erased_at: None,
        });
    }
    let already_erased = customer.erased_at.is_some() && done.is_empty() && person.len() == 1;
    let mut stmts = ledger_redaction(tenant_id, &person);
    // The person's lead and its history go entirely (a lead is nothing without the person).
    let mut args: Vec<SqlValue> = vec![tenant_id.into()];
    let marks = in_list(&mut args, ids.iter().map(String::as_str));
    stmts.push(Statement::new(
        format!(
            "DELETE FROM lead_stage_history WHERE tenant_id = ?1 AND lead_id IN
               (SELECT id FROM leads WHERE tenant_id = ?1 AND customer_id IN ({marks}))"
        ),
        args.clone(),
    ));
    // Queued CRM pushes of the lead go too (records already in the tenant's CRM are the
    // tenant's to erase there; see the README).
    stmts.push(Statement::new(
        format!(
            "DELETE FROM crm_jobs WHERE tenant_id = ?1 AND kind = 'lead' AND local_id IN
               (SELECT id FROM leads WHERE tenant_id = ?1 AND customer_id IN ({marks}))"
        ),
        args.clone(),
    ));
    stmts.push(Statement::new(
        format!("DELETE FROM leads WHERE tenant_id = ?1 AND customer_id IN ({marks})"),
        args,
    ));
    let mut args: Vec<SqlValue> = vec![tenant_id.into(), now.into()];
    let marks = in_list(&mut args, ids.iter().map(String::as_str));
    stmts.push(Statement::new(
        format!(
            "UPDATE customers SET name = NULL, email = NULL, phone = NULL, external_id = 'erased:' || id,
               erased_at = COALESCE(erased_at, ?2), updated_at = ?2
             WHERE tenant_id = ?1 AND id IN ({marks})"
        ),
        args,
    ));
    db.batch(stmts).await?;
    let erased_at = customers::get(db, tenant_id, &customer.id).await?.erased_at;
    Ok(Erasure {
        customer_id: customer.id,
        customers: ids,
        conversations: done.len(),
        complete: true,
        already_erased,
        erased_at,
    })
}

/// Redacts a conversation's tenant-wide copies: message texts (the full-text index follows by
/// trigger), subject and preview, rating comments, summaries, survey comments and answers (the score
/// stays, unattributable text goes; unsent surveys are withdrawn), delivery rows (unsent ones are suppressed),
/// email threading, call summaries and recordings, outgoing webhook payloads (unsent ones are
/// failed). Run by the erasure and by the mirror outbox (`OutboxOp::Erase`); idempotent.
pub fn mirror_redaction(tenant_id: &str, conversation_id: &str, at: i64) -> Vec<Statement> {
    let t = tenant_id;
    let c = conversation_id;
    let text = super::ERASED_TEXT;
    vec![
        Statement::new(
            "UPDATE conversation_messages SET text = ?3, meta = NULL
             WHERE tenant_id = ?1 AND conversation_id = ?2 AND (text != ?3 OR meta IS NOT NULL)",
            params![t, c, text],
        ),
        Statement::new(
            "UPDATE conversations SET subject = NULL, last_message_preview = NULL, erased_at = COALESCE(erased_at, ?3)
             WHERE tenant_id = ?1 AND id = ?2",
            params![t, c, at],
        ),
        Statement::new(
            "UPDATE message_ratings SET comment = NULL WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "DELETE FROM conversation_summaries WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        // Reviews are about the team, but their words may quote the customer: scores stay.
        Statement::new(
            "UPDATE reviews SET comment = NULL,
               answers = (SELECT json_group_array(json_remove(value, '$.note')) FROM json_each(reviews.answers))
             WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "UPDATE surveys SET comment = NULL, answers = NULL,
               status = CASE WHEN status IN ('scheduled', 'sent') THEN 'cancelled' ELSE status END
             WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "UPDATE outbound_messages SET text = '', to_address = '',
               last_error = CASE WHEN status IN ('queued', 'sending') THEN 'customer erased' ELSE last_error END,
               status = CASE WHEN status IN ('queued', 'sending') THEN 'suppressed' ELSE status END
             WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "DELETE FROM email_threads WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "DELETE FROM crm_jobs WHERE tenant_id = ?1 AND kind = 'transcript' AND local_id = ?2 AND status != 'done'",
            params![t, c],
        ),
        Statement::new(
            "UPDATE voice_calls SET summary = NULL, recording_url = NULL WHERE tenant_id = ?1 AND conversation_id = ?2",
            params![t, c],
        ),
        Statement::new(
            "UPDATE webhook_deliveries SET payload = '{\"erased\":true}',
               last_error = CASE WHEN status IN ('queued', 'sending') THEN 'customer erased' ELSE last_error END,
               status = CASE WHEN status IN ('queued', 'sending') THEN 'failed' ELSE status END
             WHERE tenant_id = ?1 AND substr(event_id, 1, length(?2)) = ?2",
            params![t, super::event_prefix(c)],
        ),
    ]
}

/// The raw inbound webhooks kept for deduplication hold the person's address and words: their
/// bodies are emptied where the person's email or phone number appears (phone numbers by their
/// digits, which survive the form encoding Twilio uses). Short values are skipped so an
/// erasure can never match unrelated bodies.
fn ledger_redaction(tenant_id: &str, person: &[Customer]) -> Vec<Statement> {
    let mut needles: Vec<String> = Vec::new();
    for c in person {
        if let Some(e) = c
            .email
            .as_deref()
            .filter(|e| e.len() >= 5 && e.contains('@'))
        {
            needles.push(e.to_string());
        }
        let phones = [c.phone.as_deref(), phone_like(c)];
        for phone in phones.into_iter().flatten() {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 7 {
                needles.push(digits);
            }
        }
    }
    needles.sort();
    needles.dedup();
    needles
        .into_iter()
        .map(|n| {
            Statement::new(
                "UPDATE webhook_events SET body = '{}' WHERE tenant_id = ?1 AND instr(body, ?2) > 0",
                params![tenant_id, n],
            )
        })
        .collect()
}

/// A messaging identity's external id is its number (`+15551234567`, `whatsapp:+1555…`).
fn phone_like(c: &Customer) -> Option<&str> {
    matches!(c.kind.as_str(), "phone" | "whatsapp" | "sms").then_some(c.external_id.as_str())
}
