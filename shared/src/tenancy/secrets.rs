//! Tenant secrets at rest: provider keys (`tenant_secrets`) and identity secrets are stored
//! encrypted under a platform key, so a copy of the database (a backup, a leaked export, a
//! read-only SQL bug) reveals nothing.
//!
//! Envelope encryption with AES-256-GCM (RustCrypto's `aes-gcm`): every value gets its own
//! random data key; the data key is encrypted ("wrapped") under the platform's key-encryption
//! key, named by an id. Rotating the platform key means adding a new key first in
//! `SECRETS_MASTER_KEYS` (`kid:base64key,oldkid:base64key`) and re-wrapping the data keys
//! (`POST /v1/platform/secrets/rotate`); the values themselves are never re-encrypted. Both
//! layers authenticate the row they belong to (tenant and name as associated data), so a value
//! copied into another tenant's row does not decrypt.
//!
//! Stored form: `enc:v1:<kid>:<base64 nonce+wrapped key>:<base64 nonce+ciphertext>`. Values
//! written before encryption (no `enc:` prefix) are still read, and re-sealed by the rotation.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::params;
use crate::platform::Platform;
use crate::ports::{Random, Statement};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const PREFIX: &str = "enc:v1:";
const NONCE: usize = 12;

/// The platform's key-encryption keys; the first one seals, all of them open.
pub struct Sealer {
    keys: Vec<(String, Key<Aes256Gcm>)>,
}

impl Sealer {
    /// From `SECRETS_MASTER_KEYS`: `kid:base64(32 bytes)`, comma-separated, newest first.
    pub fn from_config(value: Option<&str>) -> ApiResult<Sealer> {
        let missing = || {
            ApiError::new(
                ErrorCode::BindingMissing,
                "tenant secrets need SECRETS_MASTER_KEYS (kid:base64 32-byte key) to be configured",
            )
        };
        let raw = value.ok_or_else(missing)?;
        let mut keys = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, b64) = part.split_once(':').ok_or_else(missing)?;
            let bytes = STANDARD.decode(b64.trim()).map_err(|_| missing())?;
            if kid.is_empty() || kid.contains(':') || bytes.len() != 32 {
                return Err(missing());
            }
            keys.push((kid.to_string(), *Key::<Aes256Gcm>::from_slice(&bytes)));
        }
        if keys.is_empty() {
            return Err(missing());
        }
        Ok(Sealer { keys })
    }

    /// The sealing key (`from_config` refuses an empty list).
    fn current(&self) -> ApiResult<&(String, Key<Aes256Gcm>)> {
        self.keys
            .first()
            .ok_or_else(|| ApiError::internal("no sealing key"))
    }

    /// Encrypts `plaintext` for the row named by `aad` (e.g. `tenant_id/name`).
    pub fn seal(&self, random: &dyn Random, aad: &str, plaintext: &str) -> ApiResult<String> {
        let (kid, kek) = self.current()?;
        let dek = random.bytes::<32>();
        let wrapped = encrypt(kek, &random.bytes::<NONCE>(), &dek, &wrap_aad(kid, aad))?;
        let sealed = encrypt(
            Key::<Aes256Gcm>::from_slice(&dek),
            &random.bytes::<NONCE>(),
            plaintext.as_bytes(),
            aad.as_bytes(),
        )?;
        Ok(format!(
            "{PREFIX}{kid}:{}:{}",
            STANDARD.encode(wrapped),
            STANDARD.encode(sealed)
        ))
    }

    /// Decrypts a stored value (a legacy plaintext value is returned as it is).
    pub fn open(&self, aad: &str, stored: &str) -> ApiResult<String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (kid, wrapped, sealed) = parts(rest).ok_or_else(corrupt)?;
        let dek = self.unwrap_key(kid, aad, &wrapped)?;
        let plain = decrypt(Key::<Aes256Gcm>::from_slice(&dek), &sealed, aad.as_bytes())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }

    /// Whether a stored value should be rewritten by a rotation (legacy plaintext, or wrapped
    /// under a key other than the current one).
    pub fn needs_rotation(&self, stored: &str) -> bool {
        match stored.strip_prefix(PREFIX).and_then(parts) {
            Some((kid, _, _)) => self.keys.first().is_none_or(|(k, _)| k != kid),
            None => true,
        }
    }

    /// The value re-wrapped under the current key (legacy plaintext is sealed).
    pub fn rotate(&self, random: &dyn Random, aad: &str, stored: &str) -> ApiResult<String> {
        let Some((kid, wrapped, sealed)) = stored.strip_prefix(PREFIX).and_then(parts) else {
            return self.seal(random, aad, stored);
        };
        let dek = self.unwrap_key(kid, aad, &wrapped)?;
        let (new_kid, kek) = self.current()?;
        let rewrapped = encrypt(kek, &random.bytes::<NONCE>(), &dek, &wrap_aad(new_kid, aad))?;
        Ok(format!(
            "{PREFIX}{new_kid}:{}:{}",
            STANDARD.encode(rewrapped),
            STANDARD.encode(sealed)
        ))
    }

    fn unwrap_key(&self, kid: &str, aad: &str, wrapped: &[u8]) -> ApiResult<Vec<u8>> {
        let (_, kek) =
            self.keys.iter().find(|(k, _)| k == kid).ok_or_else(|| {
                ApiError::internal(format!("secret sealed under unknown key {kid}"))
            })?;
        let dek = decrypt(kek, wrapped, &wrap_aad(kid, aad))?;
        if dek.len() == 32 {
            Ok(dek)
        } else {
            Err(corrupt())
        }
    }
}

/// The platform's sealer (`SECRETS_MASTER_KEYS`).
pub fn sealer(p: &Platform) -> ApiResult<Sealer> {
    Sealer::from_config(p.config.get("secrets_master_keys"))
}

/// A tenant secret's value (provider keys, webhook secrets), if set.
pub async fn get(p: &Platform, tenant_id: &str, name: &str) -> ApiResult<Option<String>> {
    let rows = p
        .db()?
        .query(
            "SELECT value FROM tenant_secrets WHERE tenant_id = ?1 AND name = ?2",
            &params![tenant_id, name],
        )
        .await?;
    match rows.first().and_then(|r| r.text("value")) {
        Some(v) => sealer(p)?.open(&secret_aad(tenant_id, name), &v).map(Some),
        None => Ok(None),
    }
}

/// Stores (or replaces) a tenant secret, sealed.
pub async fn put(
    p: &Platform,
    tenant_id: &str,
    name: &str,
    value: &str,
    now: i64,
) -> ApiResult<()> {
    let sealed = sealer(p)?.seal(&*p.random, &secret_aad(tenant_id, name), value)?;
    p.db()?
        .execute(
            "INSERT INTO tenant_secrets (tenant_id, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            &params![tenant_id, name, sealed.as_str(), now],
        )
        .await?;
    Ok(())
}

/// The tenant's identity secret (verifies customers' `user_hash`).
pub async fn identity(p: &Platform, tenant_id: &str) -> ApiResult<Option<String>> {
    let rows = p
        .db()?
        .query(
            "SELECT identity_secret FROM tenants WHERE id = ?1",
            &params![tenant_id],
        )
        .await?;
    match rows.first().and_then(|r| r.text("identity_secret")) {
        Some(v) => sealer(p)?.open(&identity_aad(tenant_id), &v).map(Some),
        None => Ok(None),
    }
}

/// Re-wraps up to `limit` stored secrets not under the current key (and seals legacy plaintext
/// ones); returns how many were rewritten and whether more remain.
pub async fn rotate(p: &Platform, limit: usize) -> ApiResult<(usize, bool)> {
    let s = sealer(p)?;
    let db = p.db()?;
    let mut writes = Vec::new();
    let mut more = false;
    let rows = db
        .query("SELECT tenant_id, name, value FROM tenant_secrets", &[])
        .await?;
    for r in &rows {
        let (Some(t), Some(n), Some(v)) = (r.text("tenant_id"), r.text("name"), r.text("value"))
        else {
            continue;
        };
        if !s.needs_rotation(&v) {
            continue;
        }
        if writes.len() >= limit {
            more = true;
            break;
        }
        let rotated = s.rotate(&*p.random, &secret_aad(&t, &n), &v)?;
        writes.push(Statement::new(
            "UPDATE tenant_secrets SET value = ?3 WHERE tenant_id = ?1 AND name = ?2 AND value = ?4",
            params![t.as_str(), n.as_str(), rotated.as_str(), v.as_str()],
        ));
    }
    let rows = db
        .query("SELECT id, identity_secret FROM tenants", &[])
        .await?;
    for r in &rows {
        let (Some(t), Some(v)) = (r.text("id"), r.text("identity_secret")) else {
            continue;
        };
        if !s.needs_rotation(&v) {
            continue;
        }
        if writes.len() >= limit {
            more = true;
            break;
        }
        let rotated = s.rotate(&*p.random, &identity_aad(&t), &v)?;
        writes.push(Statement::new(
            "UPDATE tenants SET identity_secret = ?2 WHERE id = ?1 AND identity_secret = ?3",
            params![t.as_str(), rotated.as_str(), v.as_str()],
        ));
    }
    let n = writes.len();
    if n > 0 {
        db.batch(writes).await?;
    }
    Ok((n, more))
}

/// Associated data for a tenant secret's row.
pub fn secret_aad(tenant_id: &str, name: &str) -> String {
    format!("tenant_secret/{tenant_id}/{name}")
}

/// Associated data for a tenant's identity secret.
pub fn identity_aad(tenant_id: &str) -> String {
    format!("identity_secret/{tenant_id}")
}

fn wrap_aad(kid: &str, aad: &str) -> Vec<u8> {
    format!("dek/{kid}/{aad}").into_bytes()
}

fn parts(rest: &str) -> Option<(&str, Vec<u8>, Vec<u8>)> {
    let mut it = rest.splitn(3, ':');
    let kid = it.next()?;
    let wrapped = STANDARD.decode(it.next()?).ok()?;
    let sealed = STANDARD.decode(it.next()?).ok()?;
    Some((kid, wrapped, sealed))
}

fn corrupt() -> ApiError {
    ApiError::internal("a stored secret could not be decrypted")
}

fn encrypt(
    key: &Key<Aes256Gcm>,
    nonce: &[u8; NONCE],
    msg: &[u8],
    aad: &[u8],
) -> ApiResult<Vec<u8>> {
    let ct = Aes256Gcm::new(key)
        .encrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        .map_err(|_| ApiError::internal("encryption failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

fn decrypt(key: &Key<Aes256Gcm>, data: &[u8], aad: &[u8]) -> ApiResult<Vec<u8>> {
    let (nonce, ct) = (data.get(..NONCE), data.get(NONCE..));
    let (Some(nonce), Some(ct)) = (nonce, ct) else {
        return Err(corrupt());
    };
    Aes256Gcm::new(key)
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| corrupt())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;
    use crate::testing::SeqRandom;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

    #[test]
    fn sealed_values_open_only_for_their_row_and_survive_rotation() {
        let r = SeqRandom::default();
        let s1 = Sealer::from_config(Some(K1)).unwrap();
        let aad = secret_aad("ten_a", "openai");
        let sealed = s1.seal(&r, &aad, "sk-live-123").unwrap();
        assert!(sealed.starts_with("enc:v1:k1:") && !sealed.contains("sk-live"));
        assert_eq!(s1.open(&aad, &sealed).unwrap(), "sk-live-123");
        // Copied into another tenant's row: refused.
        assert!(s1.open(&secret_aad("ten_b", "openai"), &sealed).is_err());
        // Tampered: refused.
        let mut bad = sealed.clone();
        bad.pop();
        bad.push('A');
        assert!(s1.open(&aad, &bad).is_err());
        // Rotation: k2 first, k1 still known; the value re-wraps under k2 and still opens,
        // also after k1 is retired.
        let both = Sealer::from_config(Some(&format!("{K2},{K1}"))).unwrap();
        assert!(both.needs_rotation(&sealed));
        let rotated = both.rotate(&r, &aad, &sealed).unwrap();
        assert!(rotated.starts_with("enc:v1:k2:") && !both.needs_rotation(&rotated));
        let only2 = Sealer::from_config(Some(K2)).unwrap();
        assert_eq!(only2.open(&aad, &rotated).unwrap(), "sk-live-123");
        assert!(only2.open(&aad, &sealed).is_err(), "k1 retired");
        // Legacy plaintext is read as is and sealed by a rotation.
        assert_eq!(only2.open(&aad, "plain").unwrap(), "plain");
        assert!(only2.needs_rotation("plain"));
        let sealed_legacy = only2.rotate(&r, &aad, "plain").unwrap();
        assert_eq!(only2.open(&aad, &sealed_legacy).unwrap(), "plain");
    }

    #[test]
    fn bad_key_configuration_is_refused() {
        for bad in [
            None,
            Some(""),
            Some("k1"),
            Some("k1:short"),
            Some(":AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        ] {
            assert!(Sealer::from_config(bad).is_err(), "{bad:?}");
        }
    }
}
