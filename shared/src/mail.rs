//! Account emails: sign-in links and invitations. They go out through Resend with the tenant's
//! own email channel when it has one (its sender address and `resend_api_key` secret), else
//! with the platform's (`RESEND_API_KEY`, `EMAIL_FROM`). Unlike conversation replies they are
//! sent inline, not queued: the person is waiting for the link, and a failure is reported to
//! whoever asked so they can try again.

use crate::channels::config::RESEND_API_KEY;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Method, Request};
use crate::platform::Platform;
use serde_json::json;

pub struct Letter<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Resend's `Idempotency-Key`: a retried request sends one email.
    pub idempotency_key: &'a str,
}

/// Who sends a tenant's account emails, if anyone can.
pub async fn sender(p: &Platform, tenant_id: &str) -> ApiResult<Option<(String, String)>> {
    let (cfg, _) = crate::tenancy::store::config(p.db()?, tenant_id).await?;
    if let Some(email) = cfg.channels.email {
        if let Some(key) = crate::tenancy::secrets::get(p, tenant_id, RESEND_API_KEY).await? {
            let from = match email.from_name {
                Some(n) => format!(
                    "{} <{}>",
                    n.replace(['"', '<', '>'], ""),
                    email.from_address
                ),
                None => email.from_address,
            };
            return Ok(Some((from, key)));
        }
    }
    Ok(
        match (p.config.get("resend_api_key"), p.config.get("email_from")) {
            (Some(key), Some(from)) => Some((from.to_string(), key.to_string())),
            _ => None,
        },
    )
}

/// Sends one account email for a tenant.
pub async fn send(p: &Platform, tenant_id: &str, letter: &Letter<'_>) -> ApiResult<()> {
    let (from, key) = sender(p, tenant_id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Conflict,
            "no email sender: set up the tenant's email channel or the platform's RESEND_API_KEY and EMAIL_FROM",
        )
    })?;
    let body =
        json!({ "from": from, "to": [letter.to], "subject": letter.subject, "text": letter.text });
    let req = Request::new(
        Method::Post,
        &format!("{}/emails", crate::channels::resend::base(p)),
    )
    .with_header("authorization", &format!("Bearer {key}"))
    .with_header("content-type", "application/json")
    .with_header("idempotency-key", letter.idempotency_key)
    .with_body(body.to_string().into_bytes());
    let reply = crate::channels::outbound::call_provider(p, req)
        .await
        .map_err(|e| {
            let why = match e {
                crate::channels::outbound::SendError::Retry(m, _)
                | crate::channels::outbound::SendError::Fatal(m) => m,
            };
            ApiError::new(ErrorCode::UpstreamError, format!("email: {why}"))
        })?;
    if !(200..300).contains(&reply.status) {
        return Err(ApiError::new(
            ErrorCode::UpstreamError,
            format!("email provider answered {}", reply.status),
        ));
    }
    Ok(())
}
