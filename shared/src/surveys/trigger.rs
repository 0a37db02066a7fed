//! Who gets a survey and sending it. A resolved conversation gets one when the tenant's
//! `surveys` flag is on, its channel is surveyed, it falls in the sample, and its customer was
//! not surveyed within the cool-down. Sending is a claim (`scheduled` → `sent`) in the same
//! batch as the outbound message that carries it on SMS, WhatsApp and email, so a survey is
//! never sent twice and never marked sent without its message; the widget simply shows a
//! `sent` survey.

use super::template::{say, Words};
use super::{survey_id, COLUMNS};
use crate::conversations::model::{Channel, Status};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::params;
use crate::platform::Platform;
use crate::ports::Statement;
use crate::records;
use serde_json::json;

/// Whether a conversation falls in a `percent` sample: decided by its id (the knowledge base's
/// hash; not a security decision, only a stable coin), so every retry of the decision agrees.
pub fn sampled(conversation_id: &str, percent: u32) -> bool {
    crate::knowledge::embed::fnv1a(conversation_id.as_bytes(), 0) % 100
        < u64::from(percent.min(100))
}

/// Why a resolved conversation got no survey (tests and logs).
#[derive(Debug, PartialEq, Eq)]
pub enum Skipped {
    FlagOff,
    Channel,
    NotSampled,
    CoolDown,
    Exists,
}

/// Called by the mirror flush when a conversation is resolved. Creates the survey (at most
/// once per conversation) and sends it now when there is no delay.
pub async fn on_resolved(
    p: &Platform,
    tenant_id: &str,
    conversation_id: &str,
) -> ApiResult<Result<String, Skipped>> {
    if !super::enabled(p, tenant_id).await? {
        return Ok(Err(Skipped::FlagOff));
    }
    let db = p.db()?;
    let (cfg, version) = crate::tenancy::store::config(db, tenant_id).await?;
    let s = &cfg.surveys;
    let conv = crate::conversations::mirror::get(db, tenant_id, conversation_id).await?;
    if !s.trigger.channels.contains(&conv.channel) {
        return Ok(Err(Skipped::Channel));
    }
    if !sampled(conversation_id, s.trigger.sample_percent) {
        return Ok(Err(Skipped::NotSampled));
    }
    let id = survey_id(conversation_id);
    let now = p.now_ms();
    let since = now - i64::from(s.trigger.cooldown_days) * crate::time::DAY_MS;
    let recent = db
        .query(
            "SELECT id FROM surveys WHERE tenant_id = ?1 AND customer_id = ?2 AND created_at > ?3 AND status != 'cancelled' LIMIT 2",
            &params![tenant_id, conv.customer_id.as_str(), since],
        )
        .await?;
    if recent.iter().any(|r| r.text("id").as_deref() == Some(&id)) {
        return Ok(Err(Skipped::Exists));
    }
    if s.trigger.cooldown_days > 0 && !recent.is_empty() {
        return Ok(Err(Skipped::CoolDown));
    }
    let mut agents: Vec<String> = conv.assignee_id.iter().cloned().collect();
    for r in db
        .query(
            "SELECT DISTINCT author_id FROM conversation_messages WHERE conversation_id = ?1 AND tenant_id = ?2 AND author_type = 'agent' LIMIT 20",
            &params![conversation_id, tenant_id],
        )
        .await?
    {
        if let Some(a) = r.text("author_id") {
            if !agents.contains(&a) {
                agents.push(a);
            }
        }
    }
    // The language the customer wrote in: recorded on the conversation, else read from their
    // latest analysed message, else the tenant's.
    let detected = db
        .query(
            "SELECT language FROM message_analysis WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY seq DESC LIMIT 1",
            &params![tenant_id, conversation_id],
        )
        .await?
        .first()
        .and_then(|r| r.text("language"));
    let language =
        crate::ai::phrases::language(conv.language.as_deref(), detected.as_deref(), &cfg.language);
    let template = s.active();
    let kind = template.scored().map(|q| q.kind.as_str());
    let send_at = now + i64::from(s.trigger.delay_minutes) * 60_000;
    let expires_at = send_at + i64::from(s.expires_hours) * 3_600_000;
    let created = db
        .execute(
            "INSERT INTO surveys (id, tenant_id, conversation_id, customer_id, channel, language, template_id, template,
               config_version, kind, status, agent_ids, send_at, expires_at, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'scheduled', ?11, ?12, ?13, ?14, ?14)
             ON CONFLICT (id) DO NOTHING",
            &params![
                id.as_str(), tenant_id, conversation_id, conv.customer_id.as_str(), conv.channel.as_str(),
                language, template.id.as_str(),
                serde_json::to_string(&template).unwrap_or_default(), version, kind,
                serde_json::to_string(&agents).unwrap_or_else(|_| "[]".into()), send_at, expires_at, now
            ],
        )
        .await?;
    if created == 0 {
        return Ok(Err(Skipped::Exists));
    }
    if send_at <= now {
        send(p, tenant_id, &id).await?;
    }
    Ok(Ok(id))
}

/// The outbound message id carrying a survey (one per conversation, so a retry sends nothing
/// twice).
pub fn outbound_id(conversation_id: &str) -> String {
    format!("out_{conversation_id}_survey")
}

/// Sends a scheduled survey: `sent` for the widget; on messaging channels, `sent` together with
/// the outbound message that carries it. A conversation reopened since is not surveyed.
pub async fn send(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<()> {
    let db = p.db()?;
    let now = p.now_ms();
    let rows = db
        .query(
            &format!("SELECT {COLUMNS}, ?3 AS now FROM surveys WHERE tenant_id = ?1 AND id = ?2 AND status = 'scheduled'"),
            &params![tenant_id, id, now],
        )
        .await?;
    let Some(survey) = records::first::<super::Survey>(&rows)? else {
        return Ok(());
    };
    let cancel = |why: &'static str| async move {
        p.log.log(
            &json!({"level": "info", "msg": "survey not sent", "survey": id, "why": why})
                .to_string(),
        );
        db.execute(
            "UPDATE surveys SET status = 'cancelled', updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND status = 'scheduled'",
            &params![tenant_id, id, now],
        )
        .await
        .map(|_| ())
    };
    match crate::conversations::mirror::get(db, tenant_id, &survey.conversation_id).await {
        Ok(c) if c.status == Status::Resolved => {}
        Ok(_) => return Ok(cancel("reopened").await?),
        Err(e) if e.code == ErrorCode::NotFound => return Ok(cancel("conversation gone").await?),
        Err(e) => return Err(e),
    }
    let claim = Statement::new(
        "UPDATE surveys SET status = 'sent', sent_at = ?3, updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND status = 'scheduled'",
        params![tenant_id, id, now],
    );
    let text = match survey.channel {
        Channel::Web => {
            db.batch(vec![claim]).await?;
            return Ok(());
        }
        Channel::Sms | Channel::Whatsapp => sms_text(&survey),
        Channel::Email => {
            let (cfg, _) = crate::tenancy::store::config(db, tenant_id).await?;
            let Some(base) = crate::channels::config::public_base(p, &cfg.channels) else {
                return Ok(cancel("no public_base_url for the survey link").await?);
            };
            let keys = crate::auth::jwt::JwtKeys::from_config(p.config.get("jwt_signing_keys"))?;
            let token = super::link::issue(&keys, tenant_id, id, survey.expires_at, now)?;
            email_text(
                &survey,
                &format!("{}/survey?t={token}", base.trim_end_matches('/')),
            )
        }
        _ => return Ok(cancel("channel").await?),
    };
    let out = outbound_id(&survey.conversation_id);
    let record = Statement::new(
        "INSERT INTO outbound_messages (id, tenant_id, conversation_id, seq, channel, to_address, text, status, attempts, next_attempt_at, created_at, updated_at)
         SELECT ?1, ?2, ?3, 0, ?4, c.external_id, ?5, 'queued', 0, ?6, ?6, ?6 FROM customers c WHERE c.id = ?7 AND c.tenant_id = ?2
         ON CONFLICT (id) DO NOTHING",
        params![out.as_str(), tenant_id, survey.conversation_id.as_str(), survey.channel.as_str(), text.as_str(), now, survey.customer_id.as_str()],
    );
    let changed = db.batch(vec![claim, record]).await?;
    if changed.get(1).copied().unwrap_or(0) > 0 {
        if p.queue.is_some() {
            crate::channels::outbound::enqueue(p, std::slice::from_ref(&out)).await;
        } else {
            let _ = crate::channels::outbound::deliver(p, &out).await;
        }
    }
    Ok(())
}

/// The SMS/WhatsApp survey: the score question and how to answer it.
pub fn sms_text(s: &super::Survey) -> String {
    let t = s.template();
    let l = t.localised(&s.language);
    match t
        .scored()
        .and_then(|q| l.questions.iter().find(|x| x.id == q.id))
    {
        Some(q) => format!(
            "{} {} {}",
            l.intro,
            q.text,
            say(Words::ReplyWithNumber, &s.language)
                .replace("{min}", &q.min.unwrap_or(0).to_string())
                .replace("{max}", &q.max.unwrap_or(0).to_string())
        ),
        None => l.intro,
    }
}

fn email_text(s: &super::Survey, link: &str) -> String {
    let l = s.template().localised(&s.language);
    let first = l.questions.first().map(|q| q.text.as_str()).unwrap_or("");
    format!(
        "{}\n\n{first}\n\n{}\n{link}",
        l.intro,
        say(Words::EmailLink, &s.language)
    )
}

/// Sends surveys whose delay has passed (the cron sweep; the sweep route on Spin).
pub async fn sweep(p: &Platform, limit: i64) -> ApiResult<usize> {
    let rows = p
        .db()?
        .query(
            "SELECT tenant_id, id FROM surveys WHERE status = 'scheduled' AND send_at <= ?1 ORDER BY send_at LIMIT ?2",
            &params![p.now_ms(), limit],
        )
        .await?;
    let mut sent = 0;
    for r in &rows {
        let (Some(t), Some(id)) = (r.text("tenant_id"), r.text("id")) else {
            continue;
        };
        match send(p, &t, &id).await {
            Ok(()) => sent += 1,
            Err(e) => p.log.log(
                &json!({"level": "warn", "msg": "survey send failed", "survey": id, "error": e.message})
                    .to_string(),
            ),
        }
    }
    Ok(sent)
}

/// A 404 for a conversation without a survey the caller may see.
pub fn no_survey() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "this conversation has no survey")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_stable_and_close_to_its_share() {
        let ids: Vec<String> = (0..2000).map(|i| format!("cnv_{i:05}")).collect();
        let hits = ids.iter().filter(|i| sampled(i, 30)).count();
        assert!((450..=750).contains(&hits), "{hits} of 2000 at 30 %");
        assert!(ids.iter().all(|i| sampled(i, 100)));
        assert!(!ids.iter().any(|i| sampled(i, 0)));
        assert_eq!(sampled("cnv_x", 50), sampled("cnv_x", 50));
    }
}
