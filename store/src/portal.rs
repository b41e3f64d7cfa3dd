//! What the onboarding portal keeps (migration 0014): tenant admins, the setup links that
//! make them, each directory's wizard progress and attribute mapping, and the directory
//! views the wizard and dashboard read (tokens, recent requests, sync health).

use crate::action::on_open;
use chrono::{DateTime, Utc};

use crate::ids::{DirectoryId, EmailVerificationId, IdentityProvider, SetupLinkId, TenantAdminId, TenantId, TokenId};
use crate::scope::TenantScope;
use crate::secrets::SecretSlot;
use crate::{AuditOutcome, Store, StoreError, TokenRecord};

/// An admin of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantAdmin {
    pub tenant: TenantId,
    pub id: TenantAdminId,
    /// Lowercased.
    pub email: String,
    /// argon2id PHC string; `None` for an admin who signs in only with the tenant's
    /// OpenID Connect provider.
    pub password_hash: Option<String>,
    /// The `sub` of their ID tokens at the tenant's OpenID Connect provider.
    pub oidc_subject: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A disabled admin cannot sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When the admin proved they read `email`'s mail (or an operator confirmed it): only
    /// then is the email their sign-in name. Unique among confirmed admins and operators;
    /// before, several tenants may have an admin with the same email.
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// A tenant's OpenID Connect provider for admin sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub display_name: String,
    pub updated_at: DateTime<Utc>,
}

/// A setup link to store; the secret in the link is never stored, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSetupLink {
    pub id: SetupLinkId,
    pub digest: [u8; 32],
    /// `operator:<id>`, `admin:<id>`, `api-key:<id>` or `cli`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The address it was emailed to (`None`: shown to its maker to pass on).
    pub sent_to: Option<String>,
}

/// A stored setup link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLink {
    pub tenant: TenantId,
    pub id: SetupLinkId,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The admin whose account was made with it.
    pub used_by: Option<TenantAdminId>,
    /// Withdrawn before it was used: it opens nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The address it was emailed to.
    pub sent_to: Option<String>,
}

/// How a directory's setup was completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupCompletion {
    /// The wizard's scripted provisioning cycle passed.
    SelfTest,
    /// The identity provider itself provisioned successfully.
    IdentityProvider,
}

impl SetupCompletion {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupCompletion::SelfTest => "self-test",
            SetupCompletion::IdentityProvider => "idp",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "self-test" => Ok(SetupCompletion::SelfTest),
            "idp" => Ok(SetupCompletion::IdentityProvider),
            other => Err(StoreError::Corrupt(format!("unknown setup completion {other:?}"))),
        }
    }
}

/// What marking a directory's setup complete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupCompleted {
    /// Completed by this action: the directory is activated now.
    Now,
    /// Completed earlier; the first completion stays.
    Before,
    /// The tenant has no such directory (or it was deleted).
    NoDirectory,
}

/// A directory's wizard progress.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupState {
    /// The furthest step reached, 1 to 6 (`service::onboarding::Step`).
    pub step: u8,
    pub completed: Option<(DateTime<Utc>, SetupCompletion)>,
    /// The confirmed attribute mapping; `None` until the admin confirms one.
    pub attribute_mapping: Option<serde_json::Value>,
}

/// A SCIM request to a directory, as the wizard's live feed shows it (from the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRequest {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    /// `token:<id>` for an authenticated request.
    pub actor: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub latency_ms: i64,
    pub outcome: AuditOutcome,
    /// JSON kept with the record (the SCIM error of a failed request, its redacted body).
    pub detail: String,
    /// The user or group the request addressed or created.
    pub resource_id: Option<String>,
}

/// How a directory's provisioning has been going since some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncHealth {
    pub requests: i64,
    pub failures: i64,
    pub last_request_at: Option<DateTime<Utc>>,
}

type AdminRow = (
    TenantId,
    TenantAdminId,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const ADMIN_COLUMNS: &str =
    "tenant_id, id, email, password_hash, oidc_subject, created_at, disabled_at, email_verified_at";

fn admin_from_row(
    (tenant, id, email, password_hash, oidc_subject, created_at, disabled_at, email_verified_at): AdminRow,
) -> TenantAdmin {
    TenantAdmin { tenant, id, email, password_hash, oidc_subject, created_at, disabled_at, email_verified_at }
}

/// A link that confirms an admin's email, as stored (its secret is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailVerification {
    pub tenant: TenantId,
    pub id: EmailVerificationId,
    pub admin: TenantAdminId,
    /// The address the link was sent to: it confirms this one only.
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// An email confirmation link to store: the SHA-256 digest of its secret.
#[derive(Debug, Clone)]
pub struct NewEmailVerification {
    pub id: EmailVerificationId,
    pub admin: TenantAdminId,
    pub email: String,
    pub digest: [u8; 32],
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

type VerificationRow =
    (TenantId, EmailVerificationId, TenantAdminId, String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

type LinkRow = (
    TenantId,
    SetupLinkId,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<TenantAdminId>,
    Option<DateTime<Utc>>,
    Option<String>,
);

const LINK_COLUMNS: &str = "tenant_id, id, created_by, created_at, expires_at, used_at, used_by, revoked_at, sent_to";

fn link_from_row(
    (tenant, id, created_by, created_at, expires_at, used_at, used_by, revoked_at, sent_to): LinkRow,
) -> SetupLink {
    SetupLink { tenant, id, created_by, created_at, expires_at, used_at, used_by, revoked_at, sent_to }
}

impl Store {
    /// The tenant admin whose confirmed sign-in name is this (lowercased) email, in
    /// whichever tenant. Admins who have not confirmed their email are not found: an
    /// email is nobody's sign-in name until its owner has read its mail.
    pub async fn tenant_admin_by_email(&self, email: &str) -> Result<Option<TenantAdmin>, StoreError> {
        let query =
            format!("SELECT {ADMIN_COLUMNS} FROM tenant_admins WHERE email = $1 AND email_verified_at IS NOT NULL");
        let row: Option<AdminRow> =
            as_deployment!(self, conn => sqlx::query_as(&query).bind(email).fetch_optional(&mut *conn).await?);
        Ok(row.map(admin_from_row))
    }

    /// The email confirmation link whose secret has this digest, in whichever tenant.
    pub async fn email_verification_by_digest(
        &self,
        digest: &[u8; 32],
    ) -> Result<Option<EmailVerification>, StoreError> {
        const QUERY: &str = "SELECT tenant_id, id, admin_id, email, created_at, expires_at, used_at \
             FROM admin_email_verifications WHERE digest = $1";
        let row: Option<VerificationRow> =
            as_deployment!(self, conn => sqlx::query_as(QUERY).bind(&digest[..]).fetch_optional(&mut *conn).await?);
        Ok(row.map(|(tenant, id, admin, email, created_at, expires_at, used_at)| EmailVerification {
            tenant,
            id,
            admin,
            email,
            created_at,
            expires_at,
            used_at,
        }))
    }

    /// The setup link whose secret has this digest, used or not, in whichever tenant.
    pub async fn setup_link_by_digest(&self, digest: &[u8; 32]) -> Result<Option<SetupLink>, StoreError> {
        let query = format!("SELECT {LINK_COLUMNS} FROM setup_links WHERE digest = $1");
        let row: Option<LinkRow> =
            as_deployment!(self, conn => sqlx::query_as(&query).bind(&digest[..]).fetch_optional(&mut *conn).await?);
        Ok(row.map(link_from_row))
    }
}

/// Moves a directory's wizard progress forward to `$1`, never back.
const REACH_STEP: &str = "UPDATE directories SET setup_step = CASE WHEN setup_step < $1 THEN $1 ELSE setup_step END \
     WHERE tenant_id = $2 AND id = $3";

impl TenantScope<'_> {
    /// The tenant's setup links, newest first.
    pub async fn setup_links(&self) -> Result<Vec<SetupLink>, StoreError> {
        let query =
            format!("SELECT {LINK_COLUMNS} FROM setup_links WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC");
        let rows: Vec<LinkRow> =
            as_tenant!(self, conn => sqlx::query_as(&query).bind(self.tenant).fetch_all(&mut *conn).await?);
        Ok(rows.into_iter().map(link_from_row).collect())
    }

    /// The tenant's admins, oldest first.
    pub async fn tenant_admins(&self) -> Result<Vec<TenantAdmin>, StoreError> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM tenant_admins WHERE tenant_id = $1 ORDER BY created_at, id");
        let rows: Vec<AdminRow> =
            as_tenant!(self, conn => sqlx::query_as(&query).bind(self.tenant).fetch_all(&mut *conn).await?);
        Ok(rows.into_iter().map(admin_from_row).collect())
    }

    /// The tenant admin with this id; another tenant's admin is `None`.
    pub async fn tenant_admin(&self, id: TenantAdminId) -> Result<Option<TenantAdmin>, StoreError> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM tenant_admins WHERE tenant_id = $1 AND id = $2");
        let row: Option<AdminRow> = as_tenant!(self, conn =>
            sqlx::query_as(&query).bind(self.tenant).bind(id).fetch_optional(&mut *conn).await?);
        Ok(row.map(admin_from_row))
    }

    /// The tenant's admin with this (lowercased) email, confirmed or not.
    pub async fn tenant_admin_with_email(&self, email: &str) -> Result<Option<TenantAdmin>, StoreError> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM tenant_admins WHERE tenant_id = $1 AND email = $2");
        let row: Option<AdminRow> = as_tenant!(self, conn =>
            sqlx::query_as(&query).bind(self.tenant).bind(email).fetch_optional(&mut *conn).await?);
        Ok(row.map(admin_from_row))
    }

    /// The tenant's admin whose ID tokens carry this subject, if any.
    pub async fn tenant_admin_by_subject(&self, subject: &str) -> Result<Option<TenantAdmin>, StoreError> {
        let query = format!("SELECT {ADMIN_COLUMNS} FROM tenant_admins WHERE tenant_id = $1 AND oidc_subject = $2");
        let row: Option<AdminRow> = as_tenant!(self, conn =>
            sqlx::query_as(&query).bind(self.tenant).bind(subject).fetch_optional(&mut *conn).await?);
        Ok(row.map(admin_from_row))
    }

    /// The tenant's OpenID Connect provider, if one is configured.
    pub async fn oidc_provider(&self) -> Result<Option<OidcProvider>, StoreError> {
        const QUERY: &str = "SELECT issuer, client_id, client_secret, display_name, updated_at \
             FROM tenant_oidc_providers WHERE tenant_id = $1";
        let row: Option<(String, String, String, String, DateTime<Utc>)> = as_tenant!(self, conn =>
            sqlx::query_as(QUERY).bind(self.tenant).fetch_optional(&mut *conn).await?);
        let Some((issuer, client_id, sealed, display_name, updated_at)) = row else {
            return Ok(None);
        };
        let client_secret = self.store.secret_keys()?.open(SecretSlot::OidcClient { tenant: self.tenant }, &sealed)?;
        Ok(Some(OidcProvider { issuer, client_id, client_secret, display_name, updated_at }))
    }

    /// A directory's wizard progress; `None` when the tenant has no such directory.
    pub async fn setup_state(&self, directory: DirectoryId) -> Result<Option<SetupState>, StoreError> {
        const QUERY: &str = "SELECT setup_step, setup_completed_at, setup_completed_by, attribute_mapping \
             FROM directories WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        type Row = (i32, Option<DateTime<Utc>>, Option<String>, Option<sqlx::types::Json<serde_json::Value>>);
        let row: Option<Row> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(directory).fetch_optional(pool).await?);
        let Some((step, completed_at, completed_by, mapping)) = row else { return Ok(None) };
        let step =
            u8::try_from(step).map_err(|_| StoreError::Corrupt(format!("directory {directory}: step {step}")))?;
        let completed = match (completed_at, completed_by) {
            (Some(at), Some(by)) => Some((at, SetupCompletion::parse(&by)?)),
            _ => None,
        };
        Ok(Some(SetupState { step, completed, attribute_mapping: mapping.map(|json| json.0) }))
    }

    /// Records that the admin reached `step` (progress only moves forward); false when the
    /// tenant has no such directory.
    pub async fn reach_setup_step(&self, directory: DirectoryId, step: u8) -> Result<bool, StoreError> {
        let updated = on_pool!(&self.store.pool, pool => sqlx::query(REACH_STEP)
            .bind(i32::from(step))
            .bind(self.tenant)
            .bind(directory)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(updated > 0)
    }

    /// The tokens an admin issued for a directory (not those of OAuth grants), newest first.
    pub async fn directory_tokens(&self, directory: DirectoryId) -> Result<Vec<TokenRecord>, StoreError> {
        const QUERY: &str = "SELECT id, label, read_only, created_at, expires_at, revoked_at, last_used_at \
             FROM directory_tokens WHERE tenant_id = $1 AND directory_id = $2 AND oauth_client_id IS NULL \
             ORDER BY created_at DESC, id DESC";
        let rows: Vec<crate::scope::TokenRow> = as_tenant!(self, conn =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(directory).fetch_all(&mut *conn).await?);
        Ok(rows.into_iter().map(|row| crate::scope::token_from_row(directory, row)).collect())
    }

    /// A directory's OAuth clients, newest first, with their last token request and the
    /// access tokens still live at `now`.
    pub async fn oauth_clients(
        &self,
        directory: DirectoryId,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::OAuthClientOverview>, StoreError> {
        const QUERY: &str = "SELECT c.client_id, c.label, c.created_at, c.revoked_at, c.rotated_at, \
             c.previous_secret_until, \
             (SELECT MAX(t.created_at) FROM directory_tokens t WHERE t.tenant_id = c.tenant_id \
              AND t.oauth_client_id = c.client_id), \
             (SELECT COUNT(*) FROM directory_tokens t WHERE t.tenant_id = c.tenant_id \
              AND t.oauth_client_id = c.client_id AND t.revoked_at IS NULL AND t.expires_at > $3) \
             FROM directory_oauth_clients c WHERE c.tenant_id = $1 AND c.directory_id = $2 \
             ORDER BY c.created_at DESC, c.client_id";
        type Row = (
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            i64,
        );
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .bind(now)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows
            .into_iter()
            .map(
                |(
                    client_id,
                    label,
                    created_at,
                    revoked_at,
                    rotated_at,
                    previous_secret_until,
                    last_token_at,
                    live_tokens,
                )| {
                    crate::OAuthClientOverview {
                        directory,
                        client_id,
                        label,
                        created_at,
                        revoked_at,
                        rotated_at,
                        previous_secret_until,
                        last_token_at,
                        live_tokens,
                    }
                },
            )
            .collect())
    }
}

impl crate::TenantAction<'_> {
    /// Withdraws one of the tenant's setup links that is not used (nor withdrawn) yet;
    /// `false` otherwise.
    pub async fn revoke_setup_link(&mut self, id: SetupLinkId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE setup_links SET revoked_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL AND revoked_at IS NULL";
        let updated = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(id)
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Disables (`Some(at)`) or enables (`None`) one of the tenant's admins; `false` when
    /// the tenant has no such admin.
    pub async fn set_admin_disabled(
        &mut self,
        id: TenantAdminId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE tenant_admins SET disabled_at = $3 WHERE tenant_id = $1 AND id = $2";
        let updated = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(id)
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Deletes one of the tenant's admins; `false` when the tenant has no such admin.
    pub async fn delete_admin(&mut self, id: TenantAdminId) -> Result<bool, StoreError> {
        const QUERY: &str = "DELETE FROM tenant_admins WHERE tenant_id = $1 AND id = $2";
        let deleted = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(deleted == 1)
    }

    /// Sets an admin's password hash; `false` when the tenant has no such admin.
    pub async fn set_admin_password(&mut self, id: TenantAdminId, password_hash: &str) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE tenant_admins SET password_hash = $3 WHERE tenant_id = $1 AND id = $2";
        let updated = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(id)
            .bind(password_hash)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// [`TenantScope::reach_setup_step`] as part of an action (saving the mapping moves the
    /// wizard on).
    pub async fn reach_setup_step(&mut self, directory: DirectoryId, step: u8) -> Result<bool, StoreError> {
        let updated = on_open!(&mut self.open, tx => sqlx::query(REACH_STEP)
            .bind(i32::from(step))
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(updated > 0)
    }

    pub async fn insert_setup_link(&mut self, link: &NewSetupLink) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO setup_links (tenant_id, id, digest, created_by, created_at, expires_at, sent_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(link.id)
            .bind(&link.digest[..])
            .bind(&link.created_by)
            .bind(link.created_at)
            .bind(link.expires_at)
            .bind(&link.sent_to)
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this setup link is already stored"))
    }

    /// Uses setup link `link` to make `admin`: `Ok(false)` when the
    /// link was used meanwhile (by a concurrent visit), [`StoreError::Conflict`] when the
    /// email belongs to an admin already. Expiry is the caller's check, at its own time.
    pub async fn redeem_setup_link(&mut self, link: SetupLinkId, admin: &TenantAdmin) -> Result<bool, StoreError> {
        const USE: &str = "UPDATE setup_links SET used_at = $1, used_by = $2 \
             WHERE tenant_id = $3 AND id = $4 AND used_at IS NULL AND revoked_at IS NULL";
        const INSERT: &str = "INSERT INTO tenant_admins \
             (tenant_id, id, email, password_hash, oidc_subject, created_at, email_verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let tenant = self.tenant;
        let redeemed: Result<bool, sqlx::Error> = on_open!(&mut self.open, tx => async {
            let used = sqlx::query(USE)
                .bind(admin.created_at)
                .bind(admin.id)
                .bind(tenant)
                .bind(link)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if used == 0 {
                return Ok(false);
            }
            sqlx::query(INSERT)
                .bind(tenant)
                .bind(admin.id)
                .bind(&admin.email)
                .bind(&admin.password_hash)
                .bind(&admin.oidc_subject)
                .bind(admin.created_at)
                .bind(admin.email_verified_at)
                .execute(&mut **tx)
                .await?;
            Ok(true)
        }.await);
        redeemed.map_err(|error| StoreError::on_unique_violation(error, "an admin with this email already exists"))
    }

    /// Stores a link that confirms an admin's email.
    pub async fn insert_email_verification(&mut self, link: &NewEmailVerification) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO admin_email_verifications \
             (tenant_id, id, admin_id, email, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(link.id)
            .bind(link.admin)
            .bind(&link.email)
            .bind(&link.digest[..])
            .bind(link.created_at)
            .bind(link.expires_at)
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this confirmation link is already stored"))
    }

    /// Makes `email` the sign-in name of admin `admin` (if it is still their email and not
    /// confirmed yet), and uses up confirmation link `link` if one was followed. `Ok(false)`
    /// when the admin's email changed, they were removed, or the link was used meanwhile;
    /// [`StoreError::Conflict`] when another admin confirmed the same email first.
    pub async fn confirm_admin_email(
        &mut self,
        admin: TenantAdminId,
        email: &str,
        link: Option<EmailVerificationId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const USE: &str = "UPDATE admin_email_verifications SET used_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND used_at IS NULL";
        const CONFIRM: &str = "UPDATE tenant_admins SET email_verified_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND email = $4 AND email_verified_at IS NULL";
        let tenant = self.tenant;
        let confirmed: Result<bool, sqlx::Error> = on_open!(&mut self.open, tx => async {
            if let Some(link) = link {
                let used =
                    sqlx::query(USE).bind(now).bind(tenant).bind(link).execute(&mut **tx).await?.rows_affected();
                if used == 0 {
                    return Ok(false);
                }
            }
            let updated = sqlx::query(CONFIRM)
                .bind(now)
                .bind(tenant)
                .bind(admin)
                .bind(email)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            Ok(updated == 1)
        }.await);
        confirmed.map_err(|error| StoreError::on_unique_violation(error, "another admin signs in with this email"))
    }

    /// Links an admin to their subject at the tenant's OpenID Connect provider; false
    /// when the admin is already linked to another subject (or does not exist).
    pub async fn link_admin_subject(&mut self, admin: TenantAdminId, subject: &str) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE tenant_admins SET oidc_subject = $1 \
             WHERE tenant_id = $2 AND id = $3 AND (oidc_subject IS NULL OR oidc_subject = $1)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(subject)
            .bind(self.tenant)
            .bind(admin)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()));
        let updated =
            result.map_err(|error| StoreError::on_unique_violation(error, "another admin has this subject"))?;
        Ok(updated > 0)
    }

    /// Sets (or replaces) the tenant's OpenID Connect provider.
    pub async fn set_oidc_provider(&mut self, provider: &OidcProvider) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO tenant_oidc_providers \
             (tenant_id, issuer, client_id, client_secret, display_name, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, \
             client_secret = excluded.client_secret, display_name = excluded.display_name, \
             updated_at = excluded.updated_at";
        let sealed =
            self.store.secret_keys()?.seal(SecretSlot::OidcClient { tenant: self.tenant }, &provider.client_secret)?;
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(&provider.issuer)
            .bind(&provider.client_id)
            .bind(&sealed)
            .bind(&provider.display_name)
            .bind(provider.updated_at)
            .execute(&mut **tx)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Removes the tenant's OpenID Connect provider; admins with a password still sign in.
    pub async fn remove_oidc_provider(&mut self) -> Result<bool, StoreError> {
        const QUERY: &str = "DELETE FROM tenant_oidc_providers WHERE tenant_id = $1";
        let deleted = on_open!(&mut self.open, tx =>
            sqlx::query(QUERY).bind(self.tenant).execute(&mut **tx).await?.rows_affected());
        Ok(deleted > 0)
    }

    /// Marks a directory's setup complete (the first completion stays), and says whether
    /// this was the first: the directory's activation, which its caller records.
    pub async fn complete_setup(
        &mut self,
        directory: DirectoryId,
        by: SetupCompletion,
        at: DateTime<Utc>,
    ) -> Result<SetupCompleted, StoreError> {
        // 6: the wizard's last step, the test sync.
        const FIRST: &str = "UPDATE directories SET setup_step = 6, setup_completed_at = $1, setup_completed_by = $2 \
             WHERE tenant_id = $3 AND id = $4 AND setup_completed_at IS NULL AND deleted_at IS NULL";
        const AGAIN: &str =
            "UPDATE directories SET setup_step = 6 WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        let first = on_open!(&mut self.open, tx => sqlx::query(FIRST)
            .bind(at)
            .bind(by.as_str())
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if first > 0 {
            return Ok(SetupCompleted::Now);
        }
        let again = on_open!(&mut self.open, tx => sqlx::query(AGAIN)
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(if again > 0 { SetupCompleted::Before } else { SetupCompleted::NoDirectory })
    }

    /// Stores a directory's confirmed attribute mapping; false when there is no such directory.
    pub async fn set_attribute_mapping(
        &mut self,
        directory: DirectoryId,
        mapping: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE directories SET attribute_mapping = $1 WHERE tenant_id = $2 AND id = $3";
        let updated = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(sqlx::types::Json(mapping))
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(updated > 0)
    }

    /// Changes which identity provider feeds a directory (its dialect and instructions).
    pub async fn set_directory_idp(
        &mut self,
        directory: DirectoryId,
        idp: IdentityProvider,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE directories SET idp = $1, display_name = $2 WHERE tenant_id = $3 AND id = $4";
        let updated = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(idp.as_str())
            .bind(idp.display_name())
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if updated > 0 {
            self.access_changed.push(directory);
        }
        Ok(updated > 0)
    }

    /// Brings a token's expiry forward to `at` (never later than it already was); false
    /// when the tenant has no such token. Every server process sees it at once.
    pub async fn expire_token_at(&mut self, token: TokenId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // Compared in SQL as the column's own type, so both backends agree.
        const QUERY: &str = "UPDATE directory_tokens SET expires_at = CASE \
             WHEN expires_at IS NULL OR expires_at > $1 THEN $1 ELSE expires_at END \
             WHERE tenant_id = $2 AND id = $3 RETURNING directory_id";
        let directory: Option<DirectoryId> = on_open!(&mut self.open, tx => sqlx::query_scalar(QUERY)
            .bind(at)
            .bind(self.tenant)
            .bind(token)
            .fetch_optional(&mut **tx)
            .await?);
        let Some(directory) = directory else { return Ok(false) };
        self.access_changed.push(directory);
        Ok(true)
    }
}
