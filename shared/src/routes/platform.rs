//! Platform administration (the operator of the deployment, authenticated by the platform admin
//! secret): create tenants and change their tier, status and limits.

use crate::audit;
use crate::auth::api_keys::{self, ApiKey, KeyKind};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::ids::new_id;
use crate::input::{self, check};
use crate::pagination::PageRequest;
use crate::platform::Platform;
use crate::ratelimit::LimitOverrides;
use crate::router::Ctx;
use crate::tenancy::{store as tenants, Tenant, TenantConfig, TenantStatus, Tier};
use crate::users::{store::normalise_email, Role, User, UserStatus};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub tier: Option<Tier>,
    pub owner_email: String,
    pub owner_name: String,
    /// Origins allowed to use the public widget key.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub limits: Option<LimitOverrides>,
}

/// Returned once at creation: the only time the keys and identity secret are shown.
#[derive(Serialize, JsonSchema)]
pub struct TenantCreated {
    pub tenant: Tenant,
    pub owner: User,
    /// Secret key with the `admin` scope, for the tenant's servers.
    pub secret_key: String,
    /// Public widget key, for the tenant's web pages.
    pub public_key: String,
    /// Secret for customer identity verification (`user_hash`).
    pub identity_secret: String,
}

pub async fn create(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: CreateTenant = input::json(&req)?;
    let config = body.validate()?;
    let p = &cx.platform;
    let db = p.db()?;
    if tenants::slug_taken(db, &body.slug).await? {
        return Err(
            ApiError::new(ErrorCode::Conflict, "a tenant with this slug exists").with_field("slug"),
        );
    }
    let now = cx.now();
    let tenant = Tenant {
        id: new_id(&*p.random, "ten"),
        slug: body.slug.clone(),
        name: body.name.clone(),
        tier: body.tier.unwrap_or(Tier::Free),
        status: TenantStatus::Active,
        limits: body.limits.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let owner = User {
        id: new_id(&*p.random, "usr"),
        tenant_id: tenant.id.clone(),
        email: normalise_email(&body.owner_email),
        name: body.owner_name.clone(),
        role: Role::Owner,
        skills: Vec::new(),
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let starter = Starter::generate(p, &tenant.id, now)?;
    let mut stmts = tenants::insert_statements(&tenant, &starter.sealed_identity, &config)?;
    stmts.push(owner.insert_statement());
    stmts.push(starter.secret.0.insert_statement("platform-admin"));
    stmts.push(starter.public.0.insert_statement("platform-admin"));
    db.batch(stmts).await?;
    audit::record(
        cx,
        &tenant.id,
        "tenant.create",
        ("tenant", &tenant.id),
        None,
        Some(json!({
            "slug": tenant.slug, "tier": tenant.tier, "owner": owner.id,
            "keys": [starter.secret.0.prefix, starter.public.0.prefix]
        })),
    )
    .await?;
    Ok(Response::json(
        201,
        &TenantCreated {
            tenant,
            owner,
            secret_key: starter.secret.1,
            public_key: starter.public.1,
            identity_secret: starter.identity_secret,
        },
    ))
}

impl CreateTenant {
    /// Checks every field before anything is written; returns the tenant's first config.
    fn validate(&self) -> ApiResult<TenantConfig> {
        check::text("name", &self.name, 1, 100)?;
        check::slug("slug", &self.slug)?;
        check::email("owner_email", &self.owner_email)?;
        check::text("owner_name", &self.owner_name, 1, 100)?;
        if let Some(l) = &self.limits {
            l.validate()?;
        }
        let config = TenantConfig {
            allowed_origins: self.allowed_origins.clone(),
            ..TenantConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

/// The credentials a new tenant starts with: an admin secret key, a widget key and the
/// identity-verification secret (sealed at rest). Their plaintext is shown once, in the reply.
struct Starter {
    secret: (ApiKey, String),
    public: (ApiKey, String),
    identity_secret: String,
    sealed_identity: String,
}

impl Starter {
    fn generate(p: &Platform, tenant_id: &str, now: i64) -> ApiResult<Starter> {
        let identity_secret = format!("ids_{}", URL_SAFE_NO_PAD.encode(p.random.bytes::<32>()));
        let secret = api_keys::generate(
            &*p.random,
            tenant_id,
            KeyKind::Secret,
            "Default secret key",
            vec!["admin".into()],
            now,
        );
        let public = api_keys::generate(
            &*p.random,
            tenant_id,
            KeyKind::Public,
            "Default widget key",
            vec![],
            now,
        );
        let sealed_identity = crate::tenancy::secrets::sealer(p)?.seal(
            &*p.random,
            &crate::tenancy::secrets::identity_aad(tenant_id),
            &identity_secret,
        )?;
        Ok(Starter {
            secret,
            public,
            identity_secret,
            sealed_identity,
        })
    }
}

pub async fn list(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let page = PageRequest::from_request(&req)?;
    Ok(Response::json(
        200,
        &tenants::list(cx.platform.db()?, &page).await?,
    ))
}

pub async fn get(cx: &Ctx, req: Request) -> ApiResult<Response> {
    Ok(Response::json(
        200,
        &tenants::get_required(cx.platform.db()?, req.param("tenant_id")).await?,
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub status: Option<TenantStatus>,
    /// Limit overrides; `null` returns to the tier's defaults.
    #[serde(default, deserialize_with = "input::nullable")]
    #[schemars(with = "Option<LimitOverrides>")]
    pub limits: Option<Option<LimitOverrides>>,
}

/// Changes take effect on the tenant's next request: the version bump makes every edge re-read
/// the tenant's cached credentials.
pub async fn update(cx: &Ctx, req: Request) -> ApiResult<Response> {
    let body: UpdateTenant = input::json(&req)?;
    let db = cx.platform.db()?;
    let before = tenants::get_required(db, req.param("tenant_id")).await?;
    let mut t = before.clone();
    if let Some(n) = body.name {
        check::text("name", &n, 1, 100)?;
        t.name = n;
    }
    if let Some(tier) = body.tier {
        t.tier = tier;
    }
    if let Some(s) = body.status {
        t.status = s;
    }
    if let Some(l) = body.limits {
        if let Some(l) = &l {
            l.validate()?;
        }
        t.limits = l;
    }
    let updated = tenants::update(db, &t, cx.now()).await?;
    crate::objects::gate::call_observe(&cx.platform, &updated.id, updated.version).await?;
    audit::record(
        cx,
        &updated.id,
        "tenant.update",
        ("tenant", &updated.id),
        Some(json!({"name": before.name, "tier": before.tier, "status": before.status, "limits": before.limits})),
        Some(json!({"name": updated.name, "tier": updated.tier, "status": updated.status, "limits": updated.limits})),
    )
    .await?;
    Ok(Response::json(200, &updated))
}

#[derive(Serialize, JsonSchema)]
pub struct Rotated {
    /// Values re-wrapped (or sealed, if stored before encryption) in this call.
    pub rewrapped: usize,
    /// More remain: call again.
    pub more: bool,
}

/// After adding a new key first in `SECRETS_MASTER_KEYS`: re-wraps stored tenant secrets
/// under it, in batches, so the old key can be removed.
pub async fn rotate_secrets(cx: &Ctx, _req: Request) -> ApiResult<Response> {
    let (rewrapped, more) = crate::tenancy::secrets::rotate(&cx.platform, 500).await?;
    Ok(Response::json(200, &Rotated { rewrapped, more }))
}
