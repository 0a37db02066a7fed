//! Surveys: the customer's side (the widget reads and answers its conversation's survey; the
//! email link opens `/survey`) and the tenant's (results, responses, CSV). Every route needs
//! the tenant's `surveys` flag; the reports need `analytics` too.

use super::conversations::conversation;
use crate::auth::Actor;
use crate::conversations::model::Channel;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::input;
use crate::pagination::PageRequest;
use crate::router::Ctx;
use crate::surveys::results::{self, Filter, ListFilter};
use crate::surveys::template::{say, Words};
use crate::surveys::{self, link, respond, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Question id → answer: a whole number for scales (CSAT 1–5, NPS 0–10, CES 1–7, custom),
    /// an option id for choices, text for comments.
    #[schemars(with = "BTreeMap<String, Value>")]
    pub answers: BTreeMap<String, Value>,
}

/// The calling customer's survey for the path's conversation (404 when there is none to show).
async fn customers_survey(cx: &Ctx, req: &Request) -> ApiResult<surveys::Survey> {
    let principal = cx.principal()?;
    let Actor::Customer { customer_id, .. } = &principal.actor else {
        return Err(ApiError::forbidden(
            "only the conversation's customer answers its survey",
        ));
    };
    let tenant_id = principal.tenant_id();
    // The conversation must be the caller's (the gateway checked the token against the path).
    let _ = conversation(cx, req)?;
    if !surveys::enabled(&cx.platform, tenant_id).await? {
        return Err(crate::surveys::trigger::no_survey());
    }
    let conversation_id = req.param("conversation_id");
    let mut found = surveys::for_conversation(&cx.platform, tenant_id, conversation_id).await?;
    // A delayed survey whose time has come is sent now rather than at the next sweep.
    if let Some(s) = &found {
        if s.status == State::Scheduled && s.send_at <= cx.now() {
            crate::surveys::trigger::send(&cx.platform, tenant_id, &s.id).await?;
            found = surveys::for_conversation(&cx.platform, tenant_id, conversation_id).await?;
        }
    }
    match found {
        Some(s)
            if &s.customer_id == customer_id
                && matches!(s.status, State::Sent | State::Responded | State::Expired) =>
        {
            Ok(s)
        }
        _ => Err(crate::surveys::trigger::no_survey()),
    }
}

/// `GET /v1/conversations/{id}/survey`: what the widget shows after the conversation is resolved.
pub async fn get_for_customer(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let s = customers_survey(cx, &req).await?;
    Ok(Response::json(200, &s.customer_view()))
}

/// `POST /v1/conversations/{id}/survey`: the customer's answers, recorded once.
pub async fn answer(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: Answer = input::json(&req)?;
    let s = customers_survey(cx, &req).await?;
    let tenant_id = cx.tenant_id()?;
    let (s, duplicate) =
        respond::record(&cx.platform, tenant_id, &s.id, &body.answers, "widget").await?;
    Ok(Response::json(
        200,
        &respond::Recorded {
            survey: s.customer_view(),
            duplicate,
        },
    ))
}

fn channel(req: &Request) -> ApiResult<Option<Channel>> {
    match req.query_param("channel") {
        Some(c) => Channel::parse(&c)
            .map(Some)
            .ok_or_else(|| ApiError::validation("channel", "a channel name")),
        None => Ok(None),
    }
}

async fn require_reports(cx: &Ctx) -> ApiResult<&str> {
    let tenant_id = cx.tenant_id()?;
    surveys::require_enabled(&cx.platform, tenant_id).await?;
    crate::tenancy::flags::require(&cx.platform, tenant_id, "analytics").await?;
    Ok(tenant_id)
}

/// `GET /v1/surveys/results`.
pub async fn results(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = require_reports(cx).await?;
    let days: i64 = match req.query_param("days") {
        Some(d) => d
            .parse()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| ApiError::validation("days", "1 to 365"))?,
        None => 30,
    };
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, tenant_id).await?;
    let now = cx.now();
    let f = Filter {
        from: now - days * crate::time::DAY_MS,
        to: now + 1,
        channel: channel(&req)?,
        agent_id: req.query_param("agent_id"),
        utc_offset_minutes: cfg.business_hours.utc_offset_minutes,
    };
    Ok(Response::json(
        200,
        &results::results(&cx.platform, tenant_id, &f).await?,
    ))
}

fn list_filter(req: &Request) -> ApiResult<ListFilter> {
    Ok(ListFilter {
        channel: channel(req)?,
        agent_id: req.query_param("agent_id"),
        kind: match req.query_param("kind") {
            Some(k) if crate::surveys::template::Kind::parse(&k).is_some() => Some(k),
            Some(_) => return Err(ApiError::validation("kind", "csat, nps or ces")),
            None => None,
        },
        conversation_id: req.query_param("conversation_id"),
    })
}

/// `GET /v1/surveys/responses`.
pub async fn responses(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = require_reports(cx).await?;
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &results::responses(&cx.platform, tenant_id, &list_filter(&req)?, &page).await?,
    ))
}

const EXPORT_MAX: usize = 10_000;

/// `GET /v1/surveys/responses/export`: every matching answer as CSV.
pub async fn export(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = require_reports(cx).await?;
    let f = list_filter(&req)?;
    let (p, f) = (&cx.platform, &f);
    let items = crate::records::collect(EXPORT_MAX, |page| async move {
        results::responses(p, tenant_id, f, &page).await
    })
    .await?;
    let n = items.len();
    let mut out = String::from(results::CSV_HEADER);
    out.push_str("\r\n");
    for s in &items {
        out.push_str(&results::csv_row(s));
        out.push_str("\r\n");
    }
    crate::audit::record(
        cx,
        tenant_id,
        "survey.export",
        ("surveys", "csv"),
        None,
        Some(serde_json::json!({ "rows": n })),
    )
    .await?;
    Ok(
        Response::text(200, "text/csv; charset=utf-8", out).with_header(
            "content-disposition",
            "attachment; filename=\"survey-responses.csv\"",
        ),
    )
}

fn html(status: u16, body: String) -> Response {
    Response::text(status, "text/html; charset=utf-8", body)
        .with_header("content-security-policy", link::PAGE_CSP)
}

/// The survey a link's token names, checked against the store (an answered or withdrawn
/// survey's link shows a message, not the form).
async fn from_token(cx: &Ctx, token: &str) -> Result<surveys::Survey, Response> {
    let fail = |code: ErrorCode| {
        let status = ApiError::new(code, "").status();
        html(status, link::message_page("en", say(Words::Expired, "en")))
    };
    let keys = crate::auth::jwt::JwtKeys::from_config(cx.platform.config.get("jwt_signing_keys"))
        .map_err(|_| fail(ErrorCode::InvalidToken))?;
    let claims = link::verify(&keys, token, cx.now()).map_err(|e| fail(e.code))?;
    surveys::get(&cx.platform, &claims.tid, &claims.sid)
        .await
        .map_err(|_| fail(ErrorCode::InvalidToken))
}

/// `GET /survey?t=…`: the email survey's page. Opening it records nothing.
pub async fn page(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let token = req.query_param("t").unwrap_or_default();
    let s = match from_token(cx, &token).await {
        Ok(s) => s,
        Err(page) => return Ok(page),
    };
    let lang = s.language.clone();
    Ok(match s.status {
        State::Sent => {
            let mut preset = BTreeMap::new();
            if let (Some(q), Some(score)) = (s.template().scored(), req.query_param("score")) {
                preset.insert(q.id.clone(), Value::String(score));
            }
            html(
                200,
                link::form_page(&lang, &token, &s.template().localised(&lang), &preset, None),
            )
        }
        State::Responded => html(
            200,
            link::message_page(&lang, &s.template().localised(&lang).thanks),
        ),
        _ => html(
            ApiError::new(ErrorCode::Conflict, "").status(),
            link::message_page(&lang, say(Words::Expired, &lang)),
        ),
    })
}

/// `POST /survey` (the page's form): records the answers once and thanks the customer; a
/// rejected answer shows the form again with the reason.
pub async fn submit(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let (token, answers) = link::parse_form(&req.body);
    let token = token.unwrap_or_default();
    let s = match from_token(cx, &token).await {
        Ok(s) => s,
        Err(page) => return Ok(page),
    };
    let lang = s.language.clone();
    let source = if s.channel == Channel::Email {
        "email"
    } else {
        "link"
    };
    match respond::record(&cx.platform, &s.tenant_id, &s.id, &answers, source).await {
        Ok((s, _)) => Ok(html(
            200,
            link::message_page(&lang, &s.template().localised(&lang).thanks),
        )),
        Err(e) if e.code == ErrorCode::ValidationFailed => Ok(html(
            e.status(),
            link::form_page(
                &lang,
                &token,
                &s.template().localised(&lang),
                &answers,
                Some(&e.message),
            ),
        )),
        Err(e) if e.code == ErrorCode::Conflict => Ok(html(
            e.status(),
            link::message_page(&lang, say(Words::Expired, &lang)),
        )),
        Err(e) => Err(e),
    }
}
