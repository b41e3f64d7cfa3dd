//! The tenant scope: the only door to tenant-owned data. It carries the tenant id and puts
//! it into every query it runs, so a query without a tenant cannot be written outside this
//! crate (and the pools never leave it).

use crate::action::on_open;
use chrono::{DateTime, Utc};

use crate::ids::{DirectoryId, IdentityProvider, TenantId, TokenId};
use crate::{Store, StoreError};

/// Access to one tenant's data.
#[derive(Debug, Clone, Copy)]
pub struct TenantScope<'a> {
    pub(crate) store: &'a Store,
    pub(crate) tenant: TenantId,
}

/// A directory: one identity-provider connection of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub id: DirectoryId,
    pub idp: IdentityProvider,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub settings: DirectorySettings,
}

/// How a directory's SCIM endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectorySettings {
    /// Reject attributes that no schema defines (`true`), or keep them and report them as
    /// unmapped (`false`, the default: never lose what an identity provider sends).
    pub strict_attributes: bool,
    /// Sustained SCIM requests per second before the endpoint answers 429.
    pub rate_limit_per_second: u32,
    /// Offer the non-human identity extension (service accounts, agents) on the SCIM
    /// endpoint and index the users that carry it (`true`, the default); off, the endpoint
    /// has RFC 7643's schemas only and the extension's URN is an undeclared attribute.
    pub nonhuman_extension: bool,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        // Entra ID peaks near 1,000 requests a minute (17/s) and quarantines a job that keeps
        // getting 429s: the default is thirty times that, with bursts of ten seconds' worth.
        Self { strict_attributes: false, rate_limit_per_second: 500, nonhuman_extension: true }
    }
}

/// A bearer token to store. The token itself is never stored, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: TokenId,
    pub directory: DirectoryId,
    pub digest: [u8; 32],
    pub label: String,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The OAuth client whose client-credentials grant obtained the token; `None` for a
    /// token an admin issued. Such tokens are deleted a while after they expire.
    pub oauth_client: Option<String>,
    /// The wizard's self-test's own token: what it creates stays out of the vendor's
    /// product (see [`crate::SELF_TEST_ID_PREFIX`]).
    pub self_test: bool,
}

/// A stored token, as authentication and the tokens page see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub directory: DirectoryId,
    pub label: String,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A custom schema extension of a directory (RFC 7643 §3.3), as defined.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaExtension {
    pub urn: String,
    pub resource_type: crate::ResourceKind,
    pub required: bool,
    /// The RFC 7643 §7 schema representation.
    pub definition: serde_json::Value,
}

/// Stored OAuth client credentials, as the token endpoint checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientRecord {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub secret_digest: [u8; 32],
    /// The secret a rotation replaced, accepted until `previous_secret_until`.
    pub previous_secret_digest: Option<[u8; 32]>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A directory's OAuth client as its admins see it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientOverview {
    pub directory: DirectoryId,
    pub client_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last rotation of its secret.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the secret a rotation replaced is still accepted.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it last fetched an access token.
    pub last_token_at: Option<DateTime<Utc>>,
    /// Its access tokens that are neither expired nor revoked at the time asked.
    pub live_tokens: i64,
}

/// OAuth client credentials to store: the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOAuthClient {
    pub directory: DirectoryId,
    pub client_id: String,
    pub secret_digest: [u8; 32],
    pub label: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) type TokenRow =
    (TokenId, String, bool, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl<'a> TenantScope<'a> {
    pub(crate) fn new(store: &'a Store, tenant: TenantId) -> Self {
        Self { store, tenant }
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// Opens an action: writes that commit together with their audit record (see
    /// [`crate::TenantAction`]).
    pub async fn begin_action(&self) -> Result<crate::TenantAction<'a>, StoreError> {
        crate::TenantAction::begin(self.store, self.tenant).await
    }

    /// Access to the SCIM resources of one of the tenant's directories. Every statement
    /// it runs is scoped by this tenant and that directory; a directory of another tenant
    /// simply has no data here.
    pub fn directory_data(&self, directory: DirectoryId) -> crate::DirectoryData<'a> {
        crate::DirectoryData::new(self.store, self.tenant, directory)
    }

    /// The tenant's directory with this id; another tenant's directory, and a deleted one,
    /// is `None`.
    pub async fn directory(&self, id: DirectoryId) -> Result<Option<Directory>, StoreError> {
        let query = format!(
            "SELECT {DIRECTORY_COLUMNS} FROM directories WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
        );
        let row: Option<DirectoryRow> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(&query).bind(self.tenant).bind(id).fetch_optional(pool).await?);
        row.map(directory_from_row).transpose()
    }

    /// The tenant's directories (not the deleted ones), oldest first.
    pub async fn directories(&self) -> Result<Vec<Directory>, StoreError> {
        let query = format!(
            "SELECT {DIRECTORY_COLUMNS} FROM directories WHERE tenant_id = $1 AND deleted_at IS NULL \
             ORDER BY created_at, id"
        );
        let rows: Vec<DirectoryRow> =
            on_pool!(&self.store.pool, pool => sqlx::query_as(&query).bind(self.tenant).fetch_all(pool).await?);
        rows.into_iter().map(directory_from_row).collect()
    }

    /// A directory's custom schema extensions, in the order they were defined.
    pub async fn schema_extensions(&self, directory: DirectoryId) -> Result<Vec<SchemaExtension>, StoreError> {
        const QUERY: &str = "SELECT urn, resource_type, required, definition FROM directory_schema_extensions \
             WHERE tenant_id = $1 AND directory_id = $2 ORDER BY created_at, urn";
        let rows: Vec<(String, String, bool, sqlx::types::Json<serde_json::Value>)> = on_pool!(&self.store.pool, pool => sqlx::query_as(QUERY).bind(self.tenant).bind(directory).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(urn, resource_type, required, definition)| {
                Ok(SchemaExtension {
                    urn,
                    resource_type: crate::ResourceKind::parse(&resource_type)?,
                    required,
                    definition: definition.0,
                })
            })
            .collect()
    }

    /// Stores a short-lived token the server mints for a machine (an OAuth client's access
    /// token, the self-test's token): not a person's action, so it has no audit record of
    /// its own (the self-test records its run; the grant is logged).
    pub async fn mint_token(&self, token: &NewToken) -> Result<(), StoreError> {
        let mut action = self.begin_action().await?;
        action.insert_token(token).await?;
        action.finish().await
    }

    /// The token of `directory` whose digest this is, whatever its state (the caller decides
    /// what expired or revoked means at its own time).
    pub async fn token_by_digest(
        &self,
        directory: DirectoryId,
        digest: &[u8; 32],
    ) -> Result<Option<TokenRecord>, StoreError> {
        const QUERY: &str = "SELECT id, label, read_only, created_at, expires_at, revoked_at, last_used_at \
             FROM directory_tokens WHERE tenant_id = $1 AND directory_id = $2 AND digest = $3";
        let row: Option<TokenRow> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .bind(&digest[..])
            .fetch_optional(&mut *conn)
            .await?);
        Ok(row.map(|row| token_from_row(directory, row)))
    }

    /// Records that a token was used at `at`.
    pub async fn mark_token_used(&self, token: TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE directory_tokens SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3";
        // The cache first: the requests that arrive while this one waits for the writer
        // turn see the new last use and write nothing. Marked after the write, every request
        // of that wait wrote it too, each in its own turn (at 14,000 reads a second, dozens
        // a minute, queued behind each other).
        self.store.access_cache.mark_used(token, at);
        writing_as_tenant!(self, conn => sqlx::query(QUERY)
            .bind(at)
            .bind(self.tenant)
            .bind(token)
            .execute(&mut *conn)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Tells this process's credential cache, and on PostgreSQL every other process's, that
    /// what a directory's tokens open has changed. Called after the change is committed, so
    /// a lookup that starts later reads the new state.
    pub(crate) async fn announce_access_change(&self, directory: DirectoryId) -> Result<(), StoreError> {
        self.store.access_cache.evict_directory(directory);
        if let crate::Pool::Postgres(pool) = &self.store.pool {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::access_cache::CHANNEL)
                .bind(directory.to_string())
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}

impl crate::TenantAction<'_> {
    /// The tenant's directories (deleted ones aside), counted with the tenant's row locked
    /// until the action ends, so that two actions adding directories at once count one
    /// after the other.
    pub async fn count_directories_locked(&mut self) -> Result<i64, StoreError> {
        const LOCK: &str = "UPDATE tenants SET id = id WHERE id = $1";
        const COUNT: &str = "SELECT COUNT(*) FROM directories WHERE tenant_id = $1 AND deleted_at IS NULL";
        let count = on_open!(&mut self.open, tx => {
            sqlx::query(LOCK).bind(self.tenant).execute(&mut **tx).await?;
            sqlx::query_scalar(COUNT).bind(self.tenant).fetch_one(&mut **tx).await?
        });
        Ok(count)
    }

    /// Adds a directory and its route.
    pub async fn create_directory(&mut self, directory: &Directory) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO directories \
             (tenant_id, id, idp, display_name, created_at, unknown_attributes, rate_limit_per_second, \
             nonhuman_extension) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        const ROUTE: &str = "INSERT INTO directory_routes (directory_id, tenant_id) VALUES ($1, $2)";
        on_open!(&mut self.open, tx => {
            sqlx::query(INSERT)
                .bind(self.tenant)
                .bind(directory.id)
                .bind(directory.idp.as_str())
                .bind(&directory.display_name)
                .bind(directory.created_at)
                .bind(if directory.settings.strict_attributes { "strict" } else { "preserve" })
                .bind(i64::from(directory.settings.rate_limit_per_second))
                .bind(directory.settings.nonhuman_extension)
                .execute(&mut **tx)
                .await?;
            sqlx::query(ROUTE).bind(directory.id).bind(self.tenant).execute(&mut **tx).await?;
        });
        Ok(())
    }

    /// Changes how a directory's endpoint behaves (its rate limit and unknown-attribute
    /// policy; the non-human identity extension has its own
    /// [`TenantAction::set_nonhuman_extension`]); false when the tenant has no such
    /// directory. Takes effect on the next request in every server process.
    pub async fn update_directory_settings(
        &mut self,
        directory: DirectoryId,
        settings: &DirectorySettings,
    ) -> Result<bool, StoreError> {
        const UPDATE: &str = "UPDATE directories SET unknown_attributes = $1, rate_limit_per_second = $2 \
             WHERE tenant_id = $3 AND id = $4";
        let updated = on_open!(&mut self.open, tx => sqlx::query(UPDATE)
            .bind(if settings.strict_attributes { "strict" } else { "preserve" })
            .bind(i64::from(settings.rate_limit_per_second))
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if updated == 0 {
            return Ok(false);
        }
        self.access_changed.push(directory);
        Ok(true)
    }

    /// Stores a token of one of the tenant's directories.
    pub async fn insert_token(&mut self, token: &NewToken) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO directory_tokens \
             (tenant_id, directory_id, id, digest, label, read_only, created_at, expires_at, oauth_client_id, \
             self_test) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(token.directory)
            .bind(token.id)
            .bind(&token.digest[..])
            .bind(&token.label)
            .bind(token.read_only)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(&token.oauth_client)
            .bind(token.self_test)
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this token is already stored"))
    }

    /// Adds a custom schema extension to one of the tenant's directories (validated by the
    /// caller against the directory's schemas).
    pub async fn add_schema_extension(
        &mut self,
        directory: DirectoryId,
        extension: &SchemaExtension,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO directory_schema_extensions \
             (tenant_id, directory_id, urn, resource_type, required, definition, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = on_open!(&mut self.open, tx => sqlx::query(INSERT)
            .bind(self.tenant)
            .bind(directory)
            .bind(&extension.urn)
            .bind(extension.resource_type.as_str())
            .bind(extension.required)
            .bind(sqlx::types::Json(&extension.definition))
            .bind(at)
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| {
            StoreError::on_unique_violation(error, "this schema is already defined for the directory")
        })?;
        self.access_changed.push(directory);
        Ok(())
    }

    /// Stores OAuth client credentials of one of the tenant's directories, with the route
    /// the token endpoint finds them by.
    pub async fn insert_oauth_client(&mut self, client: &NewOAuthClient) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO directory_oauth_clients \
             (tenant_id, directory_id, client_id, secret_digest, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        const ROUTE: &str = "INSERT INTO oauth_client_routes (client_id, tenant_id) VALUES ($1, $2)";
        let tenant = self.tenant;
        let result: Result<(), sqlx::Error> = on_open!(&mut self.open, tx => async {
            sqlx::query(INSERT)
                .bind(tenant)
                .bind(client.directory)
                .bind(&client.client_id)
                .bind(&client.secret_digest[..])
                .bind(&client.label)
                .bind(client.created_at)
                .execute(&mut **tx)
                .await?;
            sqlx::query(ROUTE).bind(&client.client_id).bind(tenant).execute(&mut **tx).await?;
            Ok(())
        }.await);
        result.map_err(|error| StoreError::on_unique_violation(error, "this client id is already taken"))
    }

    /// Replaces an OAuth client's secret; the replaced one is accepted until
    /// `previous_until` (`None`: not at all). `false` when the directory has no such client,
    /// or it is revoked.
    pub async fn rotate_oauth_client_secret(
        &mut self,
        directory: DirectoryId,
        client_id: &str,
        new_digest: &[u8; 32],
        previous_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const ROTATE: &str = "UPDATE directory_oauth_clients SET \
             previous_secret_digest = CASE WHEN $5 IS NULL THEN NULL ELSE secret_digest END, \
             previous_secret_until = $5, secret_digest = $4, rotated_at = $6 \
             WHERE tenant_id = $1 AND directory_id = $2 AND client_id = $3 AND revoked_at IS NULL";
        let rotated = on_open!(&mut self.open, tx => sqlx::query(ROTATE)
            .bind(self.tenant)
            .bind(directory)
            .bind(client_id)
            .bind(&new_digest[..])
            .bind(previous_until)
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(rotated == 1)
    }

    /// Revokes the live access tokens an OAuth client of the directory minted, at `at`;
    /// returns how many. Every server process stops accepting them at once.
    pub async fn revoke_oauth_access_tokens(
        &mut self,
        directory: DirectoryId,
        client_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const REVOKE: &str = "UPDATE directory_tokens SET revoked_at = $4 \
             WHERE tenant_id = $1 AND directory_id = $2 AND oauth_client_id = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $4)";
        let revoked = on_open!(&mut self.open, tx => sqlx::query(REVOKE)
            .bind(self.tenant)
            .bind(directory)
            .bind(client_id)
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if revoked > 0 {
            self.access_changed.push(directory);
        }
        Ok(revoked)
    }

    /// Revokes an OAuth client of the directory and the access tokens it minted, at `at`;
    /// `None` when the directory has no such client, else how many access tokens were
    /// revoked (a revoked client's first revocation time stays).
    pub async fn revoke_oauth_client(
        &mut self,
        directory: DirectoryId,
        client_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        const REVOKE: &str = "UPDATE directory_oauth_clients SET revoked_at = COALESCE(revoked_at, $4), \
             previous_secret_digest = NULL, previous_secret_until = NULL \
             WHERE tenant_id = $1 AND directory_id = $2 AND client_id = $3";
        let found = on_open!(&mut self.open, tx => sqlx::query(REVOKE)
            .bind(self.tenant)
            .bind(directory)
            .bind(client_id)
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if found == 0 {
            return Ok(None);
        }
        Ok(Some(self.revoke_oauth_access_tokens(directory, client_id, at).await?))
    }

    /// Revokes a token issued for one of the tenant's directories at `at` (the first
    /// revocation time stays); returns whether that directory had such a token. Every
    /// server process stops accepting it at once (see `access_cache`).
    pub async fn revoke_token(
        &mut self,
        directory: DirectoryId,
        token: TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // An OAuth client's access tokens are not the directory's to revoke one by one (the
        // tokens page does not list them either).
        const QUERY: &str = "UPDATE directory_tokens SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE tenant_id = $2 AND directory_id = $3 AND id = $4 AND oauth_client_id IS NULL";
        let revoked = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(at)
            .bind(self.tenant)
            .bind(directory)
            .bind(token)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if revoked == 0 {
            return Ok(false);
        }
        self.access_changed.push(directory);
        Ok(true)
    }
}

pub(crate) fn token_from_row(
    directory: DirectoryId,
    (id, label, read_only, created_at, expires_at, revoked_at, last_used_at): TokenRow,
) -> TokenRecord {
    TokenRecord { id, directory, label, read_only, created_at, expires_at, revoked_at, last_used_at }
}

/// The columns of `directories` a [`DirectoryRow`] holds, in its order.
pub(crate) const DIRECTORY_COLUMNS: &str =
    "id, idp, display_name, created_at, unknown_attributes, rate_limit_per_second, nonhuman_extension";

pub(crate) type DirectoryRow = (DirectoryId, String, String, DateTime<Utc>, String, i64, bool);

pub(crate) fn directory_from_row(
    (id, idp, display_name, created_at, unknown_attributes, rate_limit, nonhuman_extension): DirectoryRow,
) -> Result<Directory, StoreError> {
    let idp = idp.parse().map_err(|e| StoreError::Corrupt(format!("directory {id}: {e}")))?;
    let rate_limit_per_second = u32::try_from(rate_limit)
        .map_err(|_| StoreError::Corrupt(format!("directory {id}: rate limit {rate_limit}")))?;
    let settings = DirectorySettings {
        strict_attributes: unknown_attributes == "strict",
        rate_limit_per_second,
        nonhuman_extension,
    };
    Ok(Directory { id, idp, display_name, created_at, settings })
}
