//! API key management (owners, or secret keys with `keys:manage`).

use crate::audit;
use crate::auth::api_keys::{self, ApiKey, KeyKind};
use crate::auth::{credentials, permissions};
use crate::error::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::input::{self, check};
use crate::pagination::PageRequest;
use crate::router::Ctx;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &api_keys::list(cx.platform.db()?, cx.tenant_id()?, &page).await?,
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    pub kind: KeyKind,
    /// Scopes for a secret key (e.g. `conversations:read`, or `admin` for everything). Public
    /// keys take none: they can only start widget sessions.
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
pub struct KeyCreated {
    pub key: ApiKey,
    /// The full key. Shown once; store it now.
    pub secret: String,
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: CreateKey = input::json(&req)?;
    check::text("name", &body.name, 1, 80)?;
    let known = permissions::known_scopes();
    if body.kind == KeyKind::Public && !body.scopes.is_empty() {
        return Err(ApiError::validation("scopes", "public keys take no scopes"));
    }
    if body.scopes.len() > known.len() {
        return Err(ApiError::validation("scopes", "too many scopes"));
    }
    for (i, s) in body.scopes.iter().enumerate() {
        if !known.contains(&s.as_str()) {
            return Err(ApiError::validation(
                format!("scopes[{i}]"),
                format!("unknown scope {s:?}"),
            ));
        }
    }
    // No key may be made stronger than the credential making it.
    if !cx.principal()?.holds_scopes(&body.scopes) {
        return Err(ApiError::forbidden(
            "a new key's scopes must be within the calling credential's own",
        )
        .with_field("scopes"));
    }
    let p = &cx.platform;
    let tenant_id = cx.tenant_id()?;
    let (key, secret) = api_keys::generate(
        &*p.random,
        tenant_id,
        body.kind,
        &body.name,
        body.scopes,
        cx.now(),
    );
    let (_, actor) = cx.principal()?.actor_ref();
    let s = key.insert_statement(&actor);
    p.db()?.execute(&s.sql, &s.params).await?;
    audit::record(
        cx,
        tenant_id,
        "api_key.create",
        ("api_key", &key.id),
        None,
        Some(json!({
            "prefix": key.prefix, "kind": key.kind, "scopes": key.scopes, "name": key.name
        })),
    )
    .await?;
    Ok(Response::json(201, &KeyCreated { key, secret }))
}

/// Revokes a key. Effective on the next request everywhere (the tenant version moves).
pub async fn revoke(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let tenant_id = cx.tenant_id()?;
    let p = &cx.platform;
    let db = p.db()?;
    let before = api_keys::get(db, tenant_id, req.param("key_id")).await?;
    if !cx.principal()?.holds_scopes(&before.scopes) {
        return Err(ApiError::forbidden(
            "this credential cannot revoke a key with more authority than its own",
        ));
    }
    api_keys::revoke(db, tenant_id, &before.id, cx.now()).await?;
    credentials::forget(p, &credentials::key_cache_key(&before.prefix)).await;
    credentials::tenant_changed(p, tenant_id).await?;
    let after = api_keys::get(db, tenant_id, &before.id).await?;
    audit::record(
        cx,
        tenant_id,
        "api_key.revoke",
        ("api_key", &before.id),
        Some(json!({"revoked_at": before.revoked_at})),
        Some(json!({"revoked_at": after.revoked_at, "prefix": after.prefix})),
    )
    .await?;
    Ok(Response::json(200, &after))
}
