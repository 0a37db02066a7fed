//! CRM pushes as jobs: one row per (provider, lead) and (provider, transcript), keyed so a
//! change while one is queued only pushes the newest state once. Drained by the queue
//! (`{"crm": id}`) and the cron sweep; Spin and native tests push inline. Retried with backoff
//! on network errors, rate limits and 5xx; an expired token is refreshed and the push tried
//! again at once.

use super::connection;
use super::{hubspot, record, salesforce, Provider, PushError};
use crate::error::ApiResult;
use crate::params;
use crate::platform::Platform;
use serde_json::json;

/// Attempts before a job is marked failed.
const MAX_ATTEMPTS: i64 = 8;

/// Longest a claimed job may be in flight before the sweep may claim it again.
const LEASE_MS: i64 = 60_000;

/// The longest transcript pushed (characters).
const MAX_TRANSCRIPT: usize = 60_000;

fn backoff_ms(attempts: i64) -> i64 {
    (5_000i64 << (2 * attempts.clamp(0, 7))).min(6 * 3_600_000)
}

fn job_id(provider: Provider, kind: &str, local_id: &str) -> String {
    format!("crm_{}_{kind}_{local_id}", provider.as_str())
}

/// Queues a push of `local_id` (`lead` or `transcript`) to every connected CRM.
pub async fn enqueue(p: &Platform, tenant_id: &str, kind: &str, local_id: &str) -> ApiResult<()> {
    let providers = connection::connected(p, tenant_id).await?;
    if providers.is_empty() {
        return Ok(());
    }
    let now = p.now_ms();
    let mut ids = Vec::new();
    for provider in providers {
        let id = job_id(provider, kind, local_id);
        p.db()?
            .execute(
                "INSERT INTO crm_jobs (id, tenant_id, provider, kind, local_id, status, attempts, next_attempt_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6, ?6)
                 ON CONFLICT (id) DO UPDATE SET status = 'queued', attempts = 0, next_attempt_at = ?6, last_error = NULL, updated_at = ?6",
                &params![id.as_str(), tenant_id, provider.as_str(), kind, local_id, now],
            )
            .await?;
        ids.push(id);
    }
    dispatch(p, &ids).await;
    Ok(())
}

/// Logs instead of failing: the change that asked for the push has been made either way, and
/// `POST /v1/crm/{provider}/sync` pushes everything again.
pub async fn enqueue_logged(p: &Platform, tenant_id: &str, kind: &str, local_id: &str) {
    if let Err(e) = enqueue(p, tenant_id, kind, local_id).await {
        p.log.log(
            &json!({"level": "error", "msg": "CRM push not queued", "kind": kind, "id": local_id, "error": e.message})
                .to_string(),
        );
    }
}

/// On the queue when there is one, else now.
async fn dispatch(p: &Platform, ids: &[String]) {
    if p.queue.is_some() {
        crate::jobs::enqueue(p, "crm", ids, 0).await;
    } else {
        for id in ids {
            consume(p, id).await;
        }
    }
}

/// Re-dispatches due jobs whose queue message was lost or whose retry is due.
pub async fn sweep(p: &Platform, limit: i64) -> ApiResult<usize> {
    let ids = crate::jobs::due(p, "crm_jobs", limit).await?;
    for id in &ids {
        consume(p, id).await;
    }
    Ok(ids.len())
}

/// Runs one job if it is due (a duplicate queue message finds it claimed or done).
pub async fn consume(p: &Platform, id: &str) {
    if let Err(e) = run(p, id).await {
        p.log.log(
            &json!({"level": "error", "msg": "CRM job failed to run", "job": id, "error": e.message})
                .to_string(),
        );
    }
}

async fn run(p: &Platform, id: &str) -> ApiResult<()> {
    let db = p.db()?;
    let now = p.now_ms();
    let claimed = db
        .execute(
            "UPDATE crm_jobs SET status = 'sending', attempts = attempts + 1, next_attempt_at = ?3, updated_at = ?2
             WHERE id = ?1 AND status IN ('queued', 'sending') AND next_attempt_at <= ?2",
            &params![id, now, now + LEASE_MS],
        )
        .await?;
    if claimed == 0 {
        return Ok(());
    }
    let rows = db
        .query(
            "SELECT tenant_id, provider, kind, local_id, attempts FROM crm_jobs WHERE id = ?1",
            &params![id],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let tenant_id = row.text("tenant_id").unwrap_or_default();
    let Some(provider) = row.text("provider").as_deref().and_then(Provider::parse) else {
        return Ok(());
    };
    let kind = row.text("kind").unwrap_or_default();
    let local_id = row.text("local_id").unwrap_or_default();
    let attempts = row.int("attempts").unwrap_or(1);
    let mut outcome = push(p, &tenant_id, provider, &kind, &local_id, false).await;
    if matches!(outcome, Err(PushError::Unauthorized)) {
        outcome = push(p, &tenant_id, provider, &kind, &local_id, true).await;
        if matches!(outcome, Err(PushError::Unauthorized)) {
            connection::mark_error(
                p,
                &tenant_id,
                provider,
                "the CRM refused a fresh access token",
            )
            .await?;
        }
    }
    let now = p.now_ms();
    match outcome {
        Ok(()) => {
            db.batch(vec![
                crate::ports::Statement::new(
                    "UPDATE crm_jobs SET status = 'done', last_error = NULL, updated_at = ?2 WHERE id = ?1 AND status = 'sending'",
                    params![id, now],
                ),
                crate::ports::Statement::new(
                    "UPDATE crm_connections SET last_sync_at = ?3 WHERE tenant_id = ?1 AND provider = ?2",
                    params![tenant_id.as_str(), provider.as_str(), now],
                ),
            ])
            .await?;
        }
        Err(e) => {
            let retry = matches!(e, PushError::Retry(_)) && attempts < MAX_ATTEMPTS;
            let delay = backoff_ms(attempts);
            db.execute(
                "UPDATE crm_jobs SET status = ?2, last_error = ?3, next_attempt_at = ?4, updated_at = ?5 WHERE id = ?1 AND status = 'sending'",
                &params![id, if retry { "queued" } else { "failed" }, e.message(), now + delay, now],
            )
            .await?;
            if retry && p.queue.is_some() {
                crate::jobs::enqueue(p, "crm", &[id.to_string()], delay).await;
            }
        }
    }
    Ok(())
}

fn api_error(e: crate::error::ApiError) -> PushError {
    PushError::Retry(e.message)
}

async fn link(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    kind: &str,
    local_id: &str,
) -> Result<Option<String>, PushError> {
    let rows = p
        .db()
        .map_err(api_error)?
        .query(
            "SELECT remote_id FROM crm_links WHERE tenant_id = ?1 AND provider = ?2 AND kind = ?3 AND local_id = ?4",
            &params![tenant_id, provider.as_str(), kind, local_id],
        )
        .await
        .map_err(|e| PushError::Retry(e.0))?;
    Ok(rows.first().and_then(|r| r.text("remote_id")))
}

async fn save_link(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    kind: &str,
    local_id: &str,
    remote: &str,
) -> Result<(), PushError> {
    p.db()
        .map_err(api_error)?
        .execute(
            "INSERT INTO crm_links (tenant_id, provider, kind, local_id, remote_id, synced_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (tenant_id, provider, kind, local_id) DO UPDATE SET remote_id = excluded.remote_id, synced_at = excluded.synced_at",
            &params![tenant_id, provider.as_str(), kind, local_id, remote, p.now_ms()],
        )
        .await
        .map_err(|e| PushError::Retry(e.0))?;
    Ok(())
}

async fn push(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    kind: &str,
    local_id: &str,
    refresh: bool,
) -> Result<(), PushError> {
    let (token, instance) = connection::access(p, tenant_id, provider, refresh)
        .await
        .map_err(|e| match e.code {
            crate::error::ErrorCode::Conflict
            | crate::error::ErrorCode::NotFound
            | crate::error::ErrorCode::NotSupported => PushError::Refused(e.message),
            _ => PushError::Retry(e.message),
        })?;
    match kind {
        "lead" => push_lead(
            p,
            tenant_id,
            provider,
            local_id,
            &token,
            instance.as_deref(),
        )
        .await
        .map(|_| ()),
        "transcript" => {
            push_transcript(
                p,
                tenant_id,
                provider,
                local_id,
                &token,
                instance.as_deref(),
            )
            .await
        }
        _ => Err(PushError::Refused(format!("unknown CRM job kind {kind}"))),
    }
}

/// Pushes a lead; returns the remote id (`None` when the lead no longer exists, e.g. erased).
async fn push_lead(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    lead_id: &str,
    token: &str,
    instance: Option<&str>,
) -> Result<Option<String>, PushError> {
    let lead = match crate::leads::store::get(p, tenant_id, lead_id).await {
        Ok(l) => l,
        Err(e) if e.code == crate::error::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(api_error(e)),
    };
    let (cfg, _) = crate::tenancy::store::config(p.db().map_err(api_error)?, tenant_id)
        .await
        .map_err(api_error)?;
    let props = record::properties(provider, &cfg.crm, &lead);
    let linked = link(p, tenant_id, provider, "lead", lead_id).await?;
    let remote = match provider {
        Provider::Hubspot => hubspot::upsert_contact(p, token, linked.as_deref(), &props).await?,
        Provider::Salesforce => {
            let instance = instance.ok_or_else(|| {
                PushError::Refused("Salesforce connection without an instance URL".into())
            })?;
            salesforce::upsert_lead(p, instance, token, linked.as_deref(), &props).await?
        }
    };
    save_link(p, tenant_id, provider, "lead", lead_id, &remote).await?;
    Ok(Some(remote))
}

/// Pushes a resolved conversation's transcript onto its customer's lead, once.
async fn push_transcript(
    p: &Platform,
    tenant_id: &str,
    provider: Provider,
    conversation_id: &str,
    token: &str,
    instance: Option<&str>,
) -> Result<(), PushError> {
    if link(p, tenant_id, provider, "transcript", conversation_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let db = p.db().map_err(api_error)?;
    let rows = db
        .query(
            "SELECT l.id AS lead_id, c.channel, c.created_at FROM conversations c JOIN leads l ON l.tenant_id = c.tenant_id AND l.customer_id = c.customer_id
             WHERE c.tenant_id = ?1 AND c.id = ?2",
            &params![tenant_id, conversation_id],
        )
        .await
        .map_err(|e| PushError::Retry(e.0))?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let lead_id = row.text("lead_id").unwrap_or_default();
    let remote = match link(p, tenant_id, provider, "lead", &lead_id).await? {
        Some(r) => r,
        None => match push_lead(p, tenant_id, provider, &lead_id, token, instance).await? {
            Some(r) => r,
            None => return Ok(()),
        },
    };
    let messages = db
        .query(
            "SELECT author_type, text FROM conversation_messages WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY seq LIMIT 500",
            &params![tenant_id, conversation_id],
        )
        .await
        .map_err(|e| PushError::Retry(e.0))?;
    let lines: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            let who = match m.text("author_type").as_deref() {
                Some("customer") => "Customer",
                Some("ai") => "Assistant",
                Some("agent") => "Agent",
                _ => "System",
            };
            (who.to_string(), m.text("text").unwrap_or_default())
        })
        .collect();
    let channel = row.text("channel").unwrap_or_default();
    let title = format!("PrismAI conversation {conversation_id} ({channel})");
    let text = record::transcript(&title, &lines, MAX_TRANSCRIPT);
    let at = p.now_ms();
    let note = match provider {
        Provider::Hubspot => hubspot::add_note(p, token, &remote, &text, at).await?,
        Provider::Salesforce => {
            let instance = instance.ok_or_else(|| {
                PushError::Refused("Salesforce connection without an instance URL".into())
            })?;
            salesforce::add_task(p, instance, token, &remote, &title, &text, at).await?
        }
    };
    save_link(p, tenant_id, provider, "transcript", conversation_id, &note).await
}
