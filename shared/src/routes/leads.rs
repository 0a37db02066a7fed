//! `/v1/leads`: list (filters, cursor pages), capture, read with history, change (fields,
//! stage, owner) and the CSV export. Every route needs the tenant's `leads` flag.

use crate::audit;
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input::{self, check};
use crate::leads::store::{self, Capture, Filter};
use crate::leads::{self, Stage};
use crate::pagination::PageRequest;
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

/// A lead captured through the API (a tenant's own form, a sales tool).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    /// The customer the lead is (see `GET /v1/customers/{id}`).
    pub customer_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub stage: Option<Stage>,
    /// A user id, or null to put the lead back in the pool.
    #[serde(default, deserialize_with = "crate::input::nullable")]
    #[schemars(with = "Option<String>")]
    pub owner_id: Option<Option<String>>,
    /// Proposed fields (from the AI) to take as the lead's values.
    #[serde(default)]
    pub accept: Vec<String>,
    /// Proposed fields to drop.
    #[serde(default)]
    pub reject: Vec<String>,
}

fn check_fields(
    name: &Option<String>,
    email: &Option<String>,
    phone: &Option<String>,
    company: &Option<String>,
) -> ApiResult<()> {
    if let Some(n) = name {
        check::text("name", n, 1, 200)?;
    }
    if let Some(e) = email {
        check::email("email", e)?;
    }
    if let Some(p) = phone {
        let digits = p.chars().filter(char::is_ascii_digit).count();
        if !p.starts_with('+')
            || !(8..=15).contains(&digits)
            || !p[1..]
                .chars()
                .all(|c| c.is_ascii_digit() || " -().".contains(c))
        {
            return Err(ApiError::validation(
                "phone",
                "an international number: + and 8 to 15 digits",
            ));
        }
    }
    if let Some(c) = company {
        check::text("company", c, 1, 200)?;
    }
    Ok(())
}

fn e164(phone: Option<String>) -> Option<String> {
    phone.map(|p| {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    })
}

fn actor(cx: &Ctx) -> ApiResult<String> {
    let (kind, id) = cx.principal()?.actor_ref();
    Ok(format!("{kind}:{id}"))
}

fn lead_id(req: &Request) -> ApiResult<&str> {
    let id = req.param("lead_id");
    if !crate::ids::looks_like(id, "lead") {
        return Err(ApiError::not_found("lead"));
    }
    Ok(id)
}

fn filter(req: &Request) -> ApiResult<Filter> {
    Ok(Filter {
        stage: match req.query_param("stage") {
            Some(s) => Some(Stage::parse(&s).ok_or_else(|| {
                ApiError::validation("stage", "new, qualified, contacted, won or lost")
            })?),
            None => None,
        },
        owner_id: req.query_param("owner_id"),
        min_score: match req.query_param("min_score") {
            Some(s) => Some(
                s.parse()
                    .map_err(|_| ApiError::validation("min_score", "a whole number"))?,
            ),
            None => None,
        },
    })
}

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &store::list(&cx.platform, tenant_id, &filter(&req)?, &page).await?,
    ))
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    let body: LeadInput = input::json(&req)?;
    check_fields(&body.name, &body.email, &body.phone, &body.company)?;
    // 404 for a customer the tenant never met (or another tenant's).
    crate::conversations::customers::get(cx.platform.db()?, tenant_id, &body.customer_id).await?;
    let (lead, _created) = store::capture(
        &cx.platform,
        tenant_id,
        Capture {
            customer_id: body.customer_id,
            name: body.name,
            email: body.email.map(|e| e.to_lowercase()),
            phone: e164(body.phone),
            company: body.company,
            source: "api",
            overwrite: true,
            ..Capture::default()
        },
    )
    .await?;
    // 201 either way: the answer is the person's lead, new or merged into.
    Ok(Response::json(201, &lead))
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    Ok(Response::json(
        200,
        &store::detail(&cx.platform, tenant_id, lead_id(&req)?).await?,
    ))
}

pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    let id = lead_id(&req)?;
    let body: LeadPatch = input::json(&req)?;
    check_fields(&body.name, &body.email, &body.phone, &body.company)?;
    let lead = store::get(&cx.platform, tenant_id, id).await?;
    let p = &cx.platform;
    if body.name.is_some() || body.email.is_some() || body.phone.is_some() || body.company.is_some()
    {
        store::capture(
            p,
            tenant_id,
            Capture {
                customer_id: lead.customer_id.clone(),
                name: body.name,
                email: body.email.map(|e| e.to_lowercase()),
                phone: e164(body.phone),
                company: body.company,
                source: "api",
                overwrite: true,
                ..Capture::default()
            },
        )
        .await?;
    }
    if !body.accept.is_empty() || !body.reject.is_empty() {
        store::settle_proposals(p, tenant_id, id, &body.accept, &body.reject).await?;
    }
    if let Some(owner) = &body.owner_id {
        store::set_owner(p, tenant_id, id, owner.as_deref()).await?;
    }
    if let Some(stage) = body.stage {
        store::set_stage(p, tenant_id, id, stage, &actor(cx)?).await?;
    }
    let after = store::detail(p, tenant_id, id).await?;
    audit::record(
        cx,
        tenant_id,
        "lead.update",
        ("lead", id),
        Some(json!({"stage": lead.stage, "owner_id": lead.owner_id})),
        Some(json!({"stage": after.lead.stage, "owner_id": after.lead.owner_id})),
    )
    .await?;
    Ok(Response::json(200, &after))
}

/// The most leads one export holds.
const EXPORT_MAX: usize = 10_000;

pub async fn export(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    let f = filter(&req)?;
    let (p, f) = (&cx.platform, &f);
    let items = crate::records::collect(EXPORT_MAX, |page| async move {
        store::list(p, tenant_id, f, &page).await
    })
    .await?;
    let n = items.len();
    let mut out = String::from(leads::csv::HEADER);
    out.push_str("\r\n");
    for l in &items {
        out.push_str(&leads::csv::row(l));
        out.push_str("\r\n");
    }
    audit::record(
        cx,
        tenant_id,
        "lead.export",
        ("leads", "csv"),
        None,
        Some(json!({ "rows": n })),
    )
    .await?;
    Ok(Response::text(200, "text/csv; charset=utf-8", out)
        .with_header("content-disposition", "attachment; filename=\"leads.csv\""))
}

/// The widget's pre-chat form, as the visitor filled it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormSubmission {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// The visitor ticked the consent box (required when the form has consent wording).
    #[serde(default)]
    pub consent: bool,
}

/// `PUT /v1/conversations/{id}/lead`: the conversation's customer submits the pre-chat form.
/// Only the fields the tenant's form shows are accepted; the consent stored is the tenant's
/// wording at this moment, never text from the browser.
pub async fn submit_form(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let principal = cx.principal()?;
    let crate::auth::Actor::Customer { customer_id, .. } = &principal.actor else {
        return Err(ApiError::forbidden(
            "only the conversation's customer fills its form",
        ));
    };
    let tenant_id = cx.tenant_id()?;
    leads::require_enabled(&cx.platform, tenant_id).await?;
    let (cfg, _) = crate::tenancy::store::config(cx.platform.db()?, tenant_id).await?;
    let form = cfg
        .leads
        .form
        .ok_or_else(|| ApiError::not_found("lead form"))?;
    let body: FormSubmission = input::json(&req)?;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (name, email, phone, company) = (
        clean(body.name),
        clean(body.email),
        clean(body.phone),
        clean(body.company),
    );
    for (field, value) in [
        ("name", &name),
        ("email", &email),
        ("phone", &phone),
        ("company", &company),
    ] {
        let shown = form.fields.iter().any(|f| f == field);
        if value.is_some() && !shown {
            return Err(ApiError::validation(field, "not a field of this form"));
        }
        if value.is_none() && form.required.iter().any(|f| f == field) {
            return Err(ApiError::validation(field, "required"));
        }
    }
    check_fields(&name, &email, &phone, &company)?;
    if !form.consent_text.is_empty() && !body.consent {
        return Err(ApiError::validation(
            "consent",
            "the visitor must agree to continue",
        ));
    }
    let conversation_id = req.param("conversation_id").to_string();
    let meta =
        crate::conversations::client::Conversation::new(&cx.platform, tenant_id, &conversation_id)
            .meta()
            .await?;
    let now = cx.now();
    store::capture(
        &cx.platform,
        tenant_id,
        Capture {
            customer_id: customer_id.clone(),
            conversation_id: Some(conversation_id),
            channel: Some(meta.channel),
            name,
            email: email.map(|e| e.to_lowercase()),
            phone: e164(phone),
            company,
            source: "form",
            consent: (!form.consent_text.is_empty()).then(|| crate::leads::store::Consent {
                text: form.consent_text.clone(),
                at: now,
            }),
            overwrite: true,
            ..Capture::default()
        },
    )
    .await?;
    Ok(Response::new(204))
}
