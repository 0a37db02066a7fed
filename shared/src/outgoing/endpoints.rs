//! A tenant's webhook endpoints: where events go, which ones, and the secret that signs them.
//! Secrets live sealed in `tenant_secrets` (so master-key rotation covers them) under
//! `webhook:<endpoint id>`; a rotated-out secret keeps signing beside the new one until
//! `previous_secret_until`, so receivers can switch without dropping a delivery.

use super::events::EventType;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::input::check;
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::platform::Platform;
use crate::ports::Row;
use crate::records::{self, FromRow, Listed, Listing};
use crate::tenancy::secrets;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Endpoints per tenant (each event is one delivery per subscribed endpoint).
pub const MAX_ENDPOINTS: i64 = 20;
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event types delivered here (`*` for all).
    pub events: Vec<String>,
    /// `active`, or `disabled` (by an admin, or automatically after persistent failure).
    pub status: String,
    pub disabled_reason: Option<String>,
    /// Deliveries in a row that used every attempt without success.
    pub consecutive_failures: i64,
    /// Until then the previous secret signs too (after a rotation).
    pub previous_secret_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An endpoint with its signing secret (shown on creation and rotation).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// An `https://` URL on the public internet.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Event types to deliver (`*` for all of them).
    pub events: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    #[schemars(with = "Option<String>")]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// `false` disables the endpoint; `true` enables it again (and clears its failure count).
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn check_events(events: &[String]) -> ApiResult<()> {
    if events.is_empty() || events.len() > EventType::ALL.len() + 1 {
        return Err(ApiError::validation(
            "events",
            "list one or more event types, or \"*\"",
        ));
    }
    for e in events {
        if e != "*" && EventType::parse(e).is_none() {
            return Err(ApiError::validation(
                "events",
                format!("unknown event type {e:?} (see GET /v1/webhooks/event-types)"),
            ));
        }
    }
    Ok(())
}

fn check_url(p: &Platform, url: &str) -> ApiResult<()> {
    check::text("url", url, 8, 2000)?;
    crate::egress::guard(p, "url", url)
}

impl FromRow for Endpoint {
    fn from_row(r: &Row) -> ApiResult<Endpoint> {
        Ok(Endpoint {
            id: r.text("id").unwrap_or_default(),
            url: r.text("url").unwrap_or_default(),
            description: r.text("description"),
            events: r
                .text("events")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            status: r.text("status").unwrap_or_default(),
            disabled_reason: r.text("disabled_reason"),
            consecutive_failures: r.int("consecutive_failures").unwrap_or(0),
            previous_secret_until: r.int("previous_secret_until"),
            created_at: r.int("created_at").unwrap_or(0),
            updated_at: r.int("updated_at").unwrap_or(0),
        })
    }
}

impl Listed for Endpoint {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

const COLUMNS: &str = "id, url, description, events, status, disabled_reason, consecutive_failures, previous_secret_until, created_at, updated_at";

pub fn secret_name(endpoint_id: &str) -> String {
    format!("webhook:{endpoint_id}")
}

fn previous_name(endpoint_id: &str) -> String {
    format!("webhook:{endpoint_id}:previous")
}

/// A new signing secret: 24 random bytes, as Standard Webhooks writes them.
fn new_secret(p: &Platform) -> String {
    format!("whsec_{}", STANDARD.encode(p.random.bytes::<24>()))
}

pub async fn list(p: &Platform, tenant_id: &str, page: &PageRequest) -> ApiResult<Page<Endpoint>> {
    let listing = Listing {
        table: "webhook_endpoints",
        columns: COLUMNS,
    };
    records::page(p.db()?, &listing, Some(tenant_id), page).await
}

pub async fn get(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Endpoint> {
    let rows = p
        .db()?
        .query(
            &format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

pub async fn create(
    p: &Platform,
    tenant_id: &str,
    input: &EndpointInput,
) -> ApiResult<EndpointWithSecret> {
    check_url(p, &input.url)?;
    check_events(&input.events)?;
    if let Some(d) = &input.description {
        check::text("description", d, 0, 200)?;
    }
    let db = p.db()?;
    let count = db
        .query(
            "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE tenant_id = ?1",
            &params![tenant_id],
        )
        .await?
        .first()
        .and_then(|r| r.int("n"))
        .unwrap_or(0);
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("a tenant has at most {MAX_ENDPOINTS} webhook endpoints"),
        ));
    }
    let id = new_id(&*p.random, "whe");
    let now = p.now_ms();
    let secret = new_secret(p);
    // The secret first: an endpoint row never exists without one.
    secrets::put(p, tenant_id, &secret_name(&id), &secret, now).await?;
    db.execute(
        "INSERT INTO webhook_endpoints (id, tenant_id, url, description, events, status, consecutive_failures, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', 0, ?6, ?6)",
        &params![
            id.as_str(), tenant_id, input.url.as_str(), input.description.clone(),
            serde_json::to_string(&input.events).unwrap_or_else(|_| "[]".into()), now
        ],
    )
    .await?;
    super::memo_forget(p, tenant_id);
    Ok(EndpointWithSecret {
        endpoint: get(p, tenant_id, &id).await?,
        secret,
    })
}

pub async fn update(
    p: &Platform,
    tenant_id: &str,
    id: &str,
    patch: &EndpointPatch,
) -> ApiResult<Endpoint> {
    let mut e = get(p, tenant_id, id).await?;
    if let Some(url) = &patch.url {
        check_url(p, url)?;
        e.url = url.clone();
    }
    if let Some(events) = &patch.events {
        check_events(events)?;
        e.events = events.clone();
    }
    if let Some(d) = &patch.description {
        if let Some(d) = d {
            check::text("description", d, 0, 200)?;
        }
        e.description = d.clone();
    }
    match patch.enabled {
        Some(true) => {
            e.status = "active".into();
            e.disabled_reason = None;
            e.consecutive_failures = 0;
        }
        Some(false) => {
            e.status = "disabled".into();
            e.disabled_reason = Some("disabled by an admin".into());
        }
        None => {}
    }
    p.db()?
        .execute(
            "UPDATE webhook_endpoints SET url = ?3, description = ?4, events = ?5, status = ?6, disabled_reason = ?7,
               consecutive_failures = ?8, updated_at = ?9 WHERE tenant_id = ?1 AND id = ?2",
            &params![
                tenant_id, id, e.url.as_str(), e.description.clone(),
                serde_json::to_string(&e.events).unwrap_or_else(|_| "[]".into()),
                e.status.as_str(), e.disabled_reason.clone(), e.consecutive_failures, p.now_ms()
            ],
        )
        .await?;
    super::memo_forget(p, tenant_id);
    get(p, tenant_id, id).await
}

pub async fn delete(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<Endpoint> {
    let e = get(p, tenant_id, id).await?;
    p.db()?
        .batch(vec![
            crate::ports::Statement::new(
                "DELETE FROM webhook_endpoints WHERE tenant_id = ?1 AND id = ?2",
                params![tenant_id, id],
            ),
            crate::ports::Statement::new(
                "DELETE FROM tenant_secrets WHERE tenant_id = ?1 AND name IN (?2, ?3)",
                params![tenant_id, secret_name(id), previous_name(id)],
            ),
            // Pending deliveries have nowhere to go; the log of past ones goes with the endpoint.
            crate::ports::Statement::new(
                "DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND endpoint_id = ?2",
                params![tenant_id, id],
            ),
        ])
        .await?;
    super::memo_forget(p, tenant_id);
    Ok(e)
}

/// The endpoint's current secret.
pub async fn secret(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<String> {
    get(p, tenant_id, id).await?;
    secrets::get(p, tenant_id, &secret_name(id))
        .await?
        .ok_or_else(|| ApiError::internal("webhook endpoint without a secret"))
}

/// The secrets that sign a delivery now: the current one, and the previous one while its
/// overlap lasts.
pub async fn signing_secrets(
    p: &Platform,
    tenant_id: &str,
    e: &Endpoint,
) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(s) = secrets::get(p, tenant_id, &secret_name(&e.id)).await? {
        out.push(s);
    }
    if e.previous_secret_until.is_some_and(|t| t > p.now_ms()) {
        if let Some(s) = secrets::get(p, tenant_id, &previous_name(&e.id)).await? {
            out.push(s);
        }
    }
    Ok(out)
}

/// A new secret; the old one keeps signing for [`ROTATION_OVERLAP_MS`].
pub async fn rotate(p: &Platform, tenant_id: &str, id: &str) -> ApiResult<EndpointWithSecret> {
    let old = secret(p, tenant_id, id).await?;
    let now = p.now_ms();
    let new = new_secret(p);
    secrets::put(p, tenant_id, &previous_name(id), &old, now).await?;
    secrets::put(p, tenant_id, &secret_name(id), &new, now).await?;
    p.db()?
        .execute(
            "UPDATE webhook_endpoints SET previous_secret_until = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND id = ?2",
            &params![tenant_id, id, now + ROTATION_OVERLAP_MS, now],
        )
        .await?;
    Ok(EndpointWithSecret {
        endpoint: get(p, tenant_id, id).await?,
        secret: new,
    })
}
