//! Secrets the product must use again, sealed at rest: webhook signing secrets (tenants'
//! and the operator's endpoints) and tenants' OpenID Connect client secrets. Credentials
//! that are only checked (tokens, API keys, links, sessions) are stored as digests instead.
//!
//! A sealed value is `sealed:v1:<key id>:<base64 of nonce ‖ ciphertext>`, XChaCha20-Poly1305
//! with a random 192-bit nonce, and the row it belongs to (table, tenant, id) as associated
//! data, so a sealed value copied into another row or tenant does not open. The key comes
//! from the server's configuration, never from the database; earlier keys are kept to open
//! what they sealed until [`Store::reseal_secrets`] has sealed everything with the current
//! one (the server does at start). Values written before sealing existed are read as they
//! are and sealed by the same pass.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::{DirectoryId, OperatorWebhookId, Store, StoreError, TenantId, WebhookId};

const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// One key: its short id (in every value it sealed) and its cipher.
#[derive(Clone)]
struct SecretKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SecretKey {
    fn new(bytes: &[u8; 32]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"scim-portal secrets key id\n");
        hasher.update(bytes);
        let id = hex::encode(&hasher.finalize()[..4]);
        Self { id, cipher: XChaCha20Poly1305::new(bytes.into()) }
    }
}

/// The keys secrets are sealed with: the current one, and earlier ones that still open
/// what they sealed.
#[derive(Clone)]
pub struct SecretKeys {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let previous: Vec<&str> = self.previous.iter().map(|key| key.id.as_str()).collect();
        f.debug_struct("SecretKeys").field("current", &self.current.id).field("previous", &previous).finish()
    }
}

/// Which row a secret belongs to: the associated data of its seal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretSlot {
    TenantWebhook {
        tenant: TenantId,
        id: WebhookId,
    },
    OperatorWebhook {
        id: OperatorWebhookId,
    },
    OidcClient {
        tenant: TenantId,
    },
    /// A directory's Google service account key file (migration 0047).
    GoogleKey {
        tenant: TenantId,
        directory: DirectoryId,
    },
    /// The directory token its Google connector writes with.
    GoogleToken {
        tenant: TenantId,
        directory: DirectoryId,
    },
}

impl SecretSlot {
    fn associated_data(self) -> String {
        match self {
            SecretSlot::TenantWebhook { tenant, id } => format!("webhook_endpoints.secret\n{tenant}\n{id}"),
            SecretSlot::OperatorWebhook { id } => format!("operator_webhooks.secret\n{id}"),
            SecretSlot::OidcClient { tenant } => format!("tenant_oidc_providers.client_secret\n{tenant}"),
            SecretSlot::GoogleKey { tenant, directory } => {
                format!("google_connections.key_file\n{tenant}\n{directory}")
            }
            SecretSlot::GoogleToken { tenant, directory } => {
                format!("google_connections.token_secret\n{tenant}\n{directory}")
            }
        }
    }
}

impl SecretKeys {
    /// The current key and the earlier ones, each 32 bytes.
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        Self { current: SecretKey::new(current), previous: previous.iter().map(SecretKey::new).collect() }
    }

    /// The current key's id (in every value it seals).
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// `plain` sealed for `slot` with the current key.
    pub(crate) fn seal(&self, slot: SecretSlot, plain: &str) -> Result<String, StoreError> {
        // A nonce is no secret a test needs to choose; drawn here, next to its only use, so
        // that no caller can reuse one.
        #[allow(clippy::disallowed_types)]
        let nonce = XChaCha20Poly1305::generate_nonce(&mut chacha20poly1305::aead::OsRng);
        let aad = slot.associated_data();
        let sealed = self
            .current
            .cipher
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| StoreError::Corrupt("a secret could not be sealed".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}:{}", self.current.id, STANDARD.encode(bytes)))
    }

    /// The secret `stored` for `slot` holds: opened when sealed, as is when it was written
    /// before sealing existed.
    pub(crate) fn open(&self, slot: SecretSlot, stored: &str) -> Result<String, StoreError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let corrupt = |why: &str| StoreError::Corrupt(format!("a sealed secret {why}"));
        let (key_id, body) = rest.split_once(':').ok_or_else(|| corrupt("has no key id"))?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id)
            .ok_or_else(|| corrupt(&format!("was sealed with key {key_id}, which is not configured")))?;
        let bytes = STANDARD.decode(body).map_err(|_| corrupt("is not base64"))?;
        if bytes.len() < NONCE_BYTES {
            return Err(corrupt("is too short"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = slot.associated_data();
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| corrupt("does not open: altered, or moved from another row"))?;
        String::from_utf8(plain).map_err(|_| corrupt("is not text"))
    }

    /// Whether `stored` is sealed with the current key already.
    fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).is_some_and(|(id, _)| id == self.current.id)
    }
}

impl Store {
    /// The keys secrets are sealed with; an error when none are configured.
    pub(crate) fn secret_keys(&self) -> Result<&SecretKeys, StoreError> {
        self.secret_keys
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt("no key to seal and open secrets with is configured".to_owned()))
    }

    /// Seals every secret that is not sealed with the current key (written before sealing
    /// existed, or with an earlier key); returns how many. Run at start, before serving:
    /// afterwards an earlier key can be dropped from the configuration.
    pub async fn reseal_secrets(&self) -> Result<u64, StoreError> {
        let keys = self.secret_keys()?.clone();
        // Read and written on one deployment-wide connection (row-level security, migration
        // 0039): a start should not cost a query per tenant.
        writing_as_deployment!(self, conn => {
            let mut stored: Vec<(SecretSlot, String)> = Vec::new();
            let operator: Vec<(OperatorWebhookId, String)> = sqlx::query_as("SELECT id, secret FROM operator_webhooks").fetch_all(&mut *conn).await?;
            stored.extend(operator.into_iter().map(|(id, secret)| (SecretSlot::OperatorWebhook { id }, secret)));
            let tenants: Vec<(TenantId, WebhookId, String)> = sqlx::query_as("SELECT tenant_id, id, secret FROM webhook_endpoints").fetch_all(&mut *conn).await?;
            stored
                .extend(tenants.into_iter().map(|(tenant, id, secret)| (SecretSlot::TenantWebhook { tenant, id }, secret)));
            let providers: Vec<(TenantId, String)> = sqlx::query_as("SELECT tenant_id, client_secret FROM tenant_oidc_providers").fetch_all(&mut *conn).await?;
            stored.extend(providers.into_iter().map(|(tenant, secret)| (SecretSlot::OidcClient { tenant }, secret)));
            let google: Vec<(TenantId, DirectoryId, String, String)> = sqlx::query_as("SELECT tenant_id, directory_id, key_file, token_secret FROM google_connections").fetch_all(&mut *conn).await?;
            for (tenant, directory, key_file, token_secret) in google {
                stored.push((SecretSlot::GoogleKey { tenant, directory }, key_file));
                stored.push((SecretSlot::GoogleToken { tenant, directory }, token_secret));
            }

            let mut resealed = 0;
            for (slot, old) in stored.into_iter().filter(|(_, stored)| !keys.is_current(stored)) {
                let new = keys.seal(slot, &keys.open(slot, &old)?)?;
                // Only if unchanged since it was read (a concurrent write sealed it already).
                match slot {
                    SecretSlot::OperatorWebhook { id } => {
                        sqlx::query("UPDATE operator_webhooks SET secret = $1 WHERE secret = $2 AND id = $3")
                            .bind(&new).bind(&old).bind(id).execute(&mut *conn).await
                    }
                    SecretSlot::TenantWebhook { tenant, id } => {
                        sqlx::query("UPDATE webhook_endpoints SET secret = $1 WHERE secret = $2 AND tenant_id = $3 AND id = $4")
                            .bind(&new).bind(&old).bind(tenant).bind(id).execute(&mut *conn).await
                    }
                    SecretSlot::OidcClient { tenant } => {
                        sqlx::query("UPDATE tenant_oidc_providers SET client_secret = $1 WHERE client_secret = $2 AND tenant_id = $3")
                            .bind(&new).bind(&old).bind(tenant).execute(&mut *conn).await
                    }
                    SecretSlot::GoogleKey { tenant, directory } => {
                        sqlx::query("UPDATE google_connections SET key_file = $1 WHERE key_file = $2 AND tenant_id = $3 AND directory_id = $4")
                            .bind(&new).bind(&old).bind(tenant).bind(directory).execute(&mut *conn).await
                    }
                    SecretSlot::GoogleToken { tenant, directory } => {
                        sqlx::query("UPDATE google_connections SET token_secret = $1 WHERE token_secret = $2 AND tenant_id = $3 AND directory_id = $4")
                            .bind(&new).bind(&old).bind(tenant).bind(directory).execute(&mut *conn).await
                    }
                }
                .map(drop)?;
                resealed += 1;
            }
            Ok::<u64, StoreError>(resealed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u8) -> TenantId {
        format!("0199f000-0000-7000-8000-0000000000{n:02}").parse().unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_in_its_own_slot_and_with_a_known_key() {
        let keys = SecretKeys::new(&[1; 32], &[]);
        let (w1, w2): (WebhookId, WebhookId) = (
            "0199f000-0000-7000-8000-0000000000a1".parse().unwrap(),
            "0199f000-0000-7000-8000-0000000000a2".parse().unwrap(),
        );
        let slot = SecretSlot::TenantWebhook { tenant: tenant(1), id: w1 };
        let sealed = keys.seal(slot, "whsec_abc").unwrap();
        assert!(sealed.starts_with(&format!("sealed:v1:{}:", keys.current_id())), "{sealed}");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, keys.seal(slot, "whsec_abc").unwrap(), "a fresh nonce every time");
        assert_eq!(keys.open(slot, &sealed).unwrap(), "whsec_abc");
        for elsewhere in [
            SecretSlot::TenantWebhook { tenant: tenant(2), id: w1 },
            SecretSlot::TenantWebhook { tenant: tenant(1), id: w2 },
            SecretSlot::OperatorWebhook { id: "0199f000-0000-7000-8000-0000000000a1".parse().unwrap() },
        ] {
            assert!(keys.open(elsewhere, &sealed).is_err(), "{elsewhere:?}");
        }
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(keys.open(slot, &String::from_utf8(altered).unwrap()).is_err());
        assert!(SecretKeys::new(&[2; 32], &[]).open(slot, &sealed).is_err(), "another key");
        assert_eq!(keys.open(slot, "plain from before").unwrap(), "plain from before");
    }

    #[test]
    fn an_earlier_key_opens_what_it_sealed_until_everything_is_resealed() {
        let old = SecretKeys::new(&[1; 32], &[]);
        let slot = SecretSlot::OidcClient { tenant: tenant(1) };
        let sealed = old.seal(slot, "client-secret").unwrap();
        let rotated = SecretKeys::new(&[2; 32], &[[1; 32]]);
        assert_eq!(rotated.open(slot, &sealed).unwrap(), "client-secret");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal(slot, "client-secret").unwrap()));
        assert_ne!(old.current_id(), rotated.current_id());
    }
}
