//! The ports and configuration one request runs against, assembled by the adapter.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ports::{
    Background, BlobStore, Clock, HttpClient, KvStore, Logger, Objects, Random, SqlDatabase, Timer,
};
use std::collections::HashMap;
use std::rc::Rc;

/// Which runtime is serving. Reported by `/v1/meta`; also decides capabilities such as WebSockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    Cloudflare,
    Spin,
    /// Native tests and benchmarks.
    Native,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Cloudflare => "cloudflare",
            RuntimeKind::Spin => "spin",
            RuntimeKind::Native => "native",
        }
    }

    /// Spin has no WebSockets; its clients use the SSE + POST path instead.
    pub fn supports_websockets(self) -> bool {
        !matches!(self, RuntimeKind::Spin)
    }
}

/// Configuration variables and secrets, by canonical lower-case name (`platform_admin_secret`).
/// Adapters fill it from wrangler vars/secrets (upper-cased names) or Spin variables.
#[derive(Clone, Debug, Default)]
pub struct Config(HashMap<String, String>);

impl Config {
    /// Every variable the core reads. Adapters load exactly these, so a typo in a name is a
    /// compile-time list entry rather than a silent `None` somewhere deep.
    pub const KNOWN: &'static [&'static str] = &[
        "diagnostics",
        "environment",
        // Local development only: tenant-chosen URLs may be http and local (fake providers).
        "allow_local_egress",
        // Tests only: how often open sockets re-check their credential (default a minute).
        "live_recheck_ms",
        "platform_admin_secret",
        // Key-encryption keys for tenant secrets at rest (`kid:base64`, newest first).
        "secrets_master_keys",
        "jwt_signing_keys",
        "gemini_api_key",
        "gemini_base_url",
        "gemini_model",
        "openai_api_key",
        "openai_base_url",
        "openai_model",
        "openai_embedding_model",
        "public_base_url",
        "twilio_base_url",
        "resend_base_url",
        // Account emails (sign-in links, invitations) for tenants without their own email
        // channel: the platform's Resend key and sender address.
        "resend_api_key",
        "email_from",
        "stripe_webhook_secret",
        "elevenlabs_base_url",
        // The platform's OAuth apps for tenants' CRM connections (and their endpoints, for
        // tests and sandboxes).
        "hubspot_client_id",
        "hubspot_client_secret",
        "hubspot_auth_url",
        "hubspot_api_url",
        "salesforce_client_id",
        "salesforce_client_secret",
        "salesforce_login_url",
    ];

    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a config from a lookup function over [`Config::KNOWN`]; empty values count as unset.
    pub fn load(mut lookup: impl FnMut(&str) -> Option<String>) -> Self {
        let mut map = HashMap::new();
        for name in Self::KNOWN {
            if let Some(v) = lookup(name).filter(|v| !v.is_empty()) {
                map.insert((*name).to_string(), v);
            }
        }
        Config(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    /// A boolean flag: `on`, `true`, `1` and `yes` are true.
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(str::to_ascii_lowercase).as_deref(),
            Some("on" | "true" | "1" | "yes")
        )
    }
}

/// Everything a request may touch. Optional ports are bindings a deployment may lack; handlers
/// ask for them through the accessors, which turn absence into a clear `binding_missing` error.
pub struct Platform {
    pub runtime: RuntimeKind,
    pub clock: Rc<dyn Clock>,
    pub random: Rc<dyn Random>,
    pub log: Rc<dyn Logger>,
    pub timer: Rc<dyn Timer>,
    pub background: Rc<dyn Background>,
    pub kv: Option<Rc<dyn KvStore>>,
    /// Files in conversations (R2 on Cloudflare, chunked key-value on Spin).
    pub blobs: Option<Rc<dyn BlobStore>>,
    pub db: Option<Rc<dyn SqlDatabase>>,
    pub objects: Option<Rc<dyn Objects>>,
    pub http: Option<Rc<dyn HttpClient>>,
    /// Outbound deliveries (Cloudflare Queues); `None` delivers inline.
    pub queue: Option<Rc<dyn crate::ports::Queue>>,
    pub config: Config,
    /// Tenants' vector indexes kept between requests (per isolate).
    pub vectors: Rc<crate::knowledge::cache::VectorCache>,
    /// Small values kept between requests (per isolate): credential records, feature flags.
    pub memo: Rc<crate::memo::Memo>,
}

impl Platform {
    pub fn kv(&self) -> ApiResult<&dyn KvStore> {
        self.kv
            .as_deref()
            .ok_or_else(|| missing("key-value store (CACHE)"))
    }

    pub fn db(&self) -> ApiResult<&dyn SqlDatabase> {
        self.db
            .as_deref()
            .ok_or_else(|| missing("SQL database (DB)"))
    }

    pub fn objects(&self) -> ApiResult<&dyn Objects> {
        self.objects
            .as_deref()
            .ok_or_else(|| missing("live objects (Durable Objects)"))
    }

    pub fn blobs(&self) -> ApiResult<&dyn BlobStore> {
        self.blobs
            .as_deref()
            .ok_or_else(|| missing("file storage (FILES)"))
    }

    pub fn http(&self) -> ApiResult<&dyn HttpClient> {
        self.http.as_deref().ok_or_else(|| missing("outbound HTTP"))
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

fn missing(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BindingMissing,
        format!("this deployment has no {what} configured"),
    )
}
