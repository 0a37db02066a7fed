//! API keys. Format: `pk_<id>_<secret>` (public widget key) or `sk_<id>_<secret>` (secret,
//! server-to-server), where `<id>` is 16 base32 characters (the lookup handle, shown in lists and
//! logs as the key's prefix) and `<secret>` is 256 random bits. Only SHA-256 of the whole key is
//! stored: keys are high-entropy, so a fast hash is enough and no salt is needed; the
//! comparison is constant-time.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult};
use crate::ids::{base32, new_id};
use crate::pagination::{Page, PageRequest};
use crate::params;
use crate::ports::{Random, Row, SqlDatabase, Statement};
use crate::records::{self, FromRow, Listed, Listing};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    Public,
    Secret,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Public => "public",
            KeyKind::Secret => "secret",
        }
    }
    fn marker(self) -> &'static str {
        match self {
            KeyKind::Public => "pk",
            KeyKind::Secret => "sk",
        }
    }
}

/// A stored key (without its secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKey {
    pub id: String,
    pub tenant_id: String,
    pub kind: KeyKind,
    /// The public handle `pk_…`/`sk_…` (first part of the key); safe to show and log.
    pub prefix: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    #[serde(skip_serializing, default)]
    #[schemars(skip)]
    pub hash: String,
}

/// A full key split into its parts.
pub struct ParsedKey<'a> {
    pub kind: KeyKind,
    pub prefix: &'a str,
}

/// Parses the shape of a presented key (no lookup). `None` for anything malformed.
pub fn parse(key: &str) -> Option<ParsedKey<'_>> {
    let kind = match key.get(..3)? {
        "pk_" => KeyKind::Public,
        "sk_" => KeyKind::Secret,
        _ => return None,
    };
    let rest = &key[3..];
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 16
        || secret.len() != 43
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    {
        return None;
    }
    Some(ParsedKey {
        kind,
        prefix: &key[..3 + 16],
    })
}

pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Constant-time check of a presented key against a stored hash.
pub fn verify(key: &str, stored_hash: &str) -> bool {
    hash(key).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// A new key and the row to store for it. The full key is returned once and never again.
pub fn generate(
    random: &dyn Random,
    tenant_id: &str,
    kind: KeyKind,
    name: &str,
    scopes: Vec<String>,
    now: i64,
) -> (ApiKey, String) {
    let id_part = base32(&random.bytes::<10>());
    let secret = URL_SAFE_NO_PAD.encode(random.bytes::<32>());
    let prefix = format!("{}_{id_part}", kind.marker());
    let full = format!("{prefix}_{secret}");
    let key = ApiKey {
        id: new_id(random, "key"),
        tenant_id: tenant_id.to_string(),
        kind,
        prefix,
        name: name.to_string(),
        scopes,
        created_at: now,
        revoked_at: None,
        hash: hash(&full),
    };
    (key, full)
}

const COLUMNS: &str = "id, tenant_id, kind, prefix, hash, name, scopes, created_at, revoked_at";

impl FromRow for ApiKey {
    fn from_row(r: &Row) -> ApiResult<ApiKey> {
        let bad = || ApiError::internal("corrupt api key row");
        Ok(ApiKey {
            id: r.text("id").ok_or_else(bad)?,
            tenant_id: r.text("tenant_id").ok_or_else(bad)?,
            kind: match r.text("kind").as_deref() {
                Some("public") => KeyKind::Public,
                Some("secret") => KeyKind::Secret,
                _ => return Err(bad()),
            },
            prefix: r.text("prefix").ok_or_else(bad)?,
            hash: r.text("hash").ok_or_else(bad)?,
            name: r.text("name").ok_or_else(bad)?,
            scopes: r
                .text("scopes")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            created_at: r.int("created_at").ok_or_else(bad)?,
            revoked_at: r.int("revoked_at"),
        })
    }
}

impl Listed for ApiKey {
    fn sort_key(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

impl ApiKey {
    pub fn insert_statement(&self, created_by: &str) -> Statement {
        Statement::new(
            format!("INSERT INTO api_keys ({COLUMNS}, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                self.id.as_str(), self.tenant_id.as_str(), self.kind.as_str(), self.prefix.as_str(),
                self.hash.as_str(), self.name.as_str(),
                serde_json::to_string(&self.scopes).unwrap_or_else(|_| "[]".into()),
                self.created_at, self.revoked_at, created_by
            ],
        )
    }
}

pub async fn by_prefix(db: &dyn SqlDatabase, prefix: &str) -> ApiResult<Option<ApiKey>> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM api_keys WHERE prefix = ?1"),
            &params![prefix],
        )
        .await?;
    records::first(&rows)
}

pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<ApiKey> {
    let rows = db
        .query(
            &format!("SELECT {COLUMNS} FROM api_keys WHERE tenant_id = ?1 AND id = ?2"),
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("api key"))
}

pub async fn list(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    page: &PageRequest,
) -> ApiResult<Page<ApiKey>> {
    let listing = Listing {
        table: "api_keys",
        columns: COLUMNS,
    };
    records::page(db, &listing, Some(tenant_id), page).await
}

/// Marks a key revoked (idempotent: revoking twice keeps the first time).
pub async fn revoke(db: &dyn SqlDatabase, tenant_id: &str, id: &str, now: i64) -> ApiResult<()> {
    db.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) WHERE tenant_id = ?1 AND id = ?2",
        &params![tenant_id, id, now],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    #[test]
    fn generated_keys_parse_and_verify() {
        let r = SeqRandom::default();
        let (k, full) = generate(&r, "ten_x", KeyKind::Secret, "ci", vec![], 0);
        let p = parse(&full).expect("parses");
        assert_eq!(p.kind, KeyKind::Secret);
        assert_eq!(p.prefix, k.prefix);
        assert!(verify(&full, &k.hash));
        let mut tampered = full.clone();
        tampered.pop();
        tampered.push('A');
        assert!(!verify(&tampered, &k.hash));
        assert!(!full.contains(&k.hash));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in [
            "",
            "sk_",
            "xx_aaaaaaaaaaaaaaaa_",
            "sk_short_x",
            "sk_AAAAAAAAAAAAAAAA_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "pk_aaaaaaaaaaaaaaaa_é",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
