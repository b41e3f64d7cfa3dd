//! Admin Portal links (migration 0022): single-use, short-lived sign-ins to a tenant's
//! setup wizard that the vendor's product asks for through the WorkOS-compatible API
//! (`POST /portal/generate_link`). Only the digest of a link's secret is stored.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::action::on_open;
use crate::ids::{PortalLinkId, TenantId};
use crate::{Store, StoreError};

/// An Admin Portal link to store; the secret in the link is never stored, only its SHA-256
/// digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPortalLink {
    pub id: PortalLinkId,
    pub digest: [u8; 32],
    /// `api-key:<id>`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    /// The vendor's id of the person it signed in to its own product.
    pub external_user_id: Option<String>,
    /// The customer's IT contacts the vendor named.
    pub it_contact_emails: Vec<String>,
}

/// A stored Admin Portal link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLink {
    pub tenant: TenantId,
    pub id: PortalLinkId,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    pub external_user_id: Option<String>,
    pub it_contact_emails: Vec<String>,
    pub used_at: Option<DateTime<Utc>>,
}

type LinkRow = (
    TenantId,
    PortalLinkId,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
    Json<Vec<String>>,
    Option<DateTime<Utc>>,
);

fn link_from_row(row: LinkRow) -> PortalLink {
    let (tenant, id, created_by, created_at, expires_at, return_url, success_url, external_user_id, contacts, used_at) =
        row;
    PortalLink {
        tenant,
        id,
        created_by,
        created_at,
        expires_at,
        return_url,
        success_url,
        external_user_id,
        it_contact_emails: contacts.0,
        used_at,
    }
}

impl Store {
    /// The Admin Portal link whose secret has this digest, used or not, in whichever tenant
    /// (the visitor presents only the secret).
    pub async fn portal_link_by_digest(&self, digest: &[u8; 32]) -> Result<Option<PortalLink>, StoreError> {
        const QUERY: &str = "SELECT tenant_id, id, created_by, created_at, expires_at, return_url, success_url, \
             external_user_id, it_contact_emails, used_at FROM portal_links WHERE digest = $1";
        let row: Option<LinkRow> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(&digest[..]).fetch_optional(pool).await?);
        Ok(row.map(link_from_row))
    }
}

impl crate::TenantAction<'_> {
    /// Stores a new Admin Portal link of this tenant (its intent is the directory sync
    /// wizard, the only one there is).
    pub async fn insert_portal_link(&mut self, link: &NewPortalLink) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO portal_links (tenant_id, id, digest, intent, created_by, created_at, \
             expires_at, return_url, success_url, external_user_id, it_contact_emails) \
             VALUES ($1, $2, $3, 'dsync', $4, $5, $6, $7, $8, $9, $10)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(link.id)
            .bind(&link.digest[..])
            .bind(&link.created_by)
            .bind(link.created_at)
            .bind(link.expires_at)
            .bind(&link.return_url)
            .bind(&link.success_url)
            .bind(&link.external_user_id)
            .bind(Json(&link.it_contact_emails))
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this portal link is already stored"))
    }

    /// Marks link `link` used at `at`: `Ok(false)` when it was used already (by a
    /// concurrent visit), so that two visits racing with one link sign in once. Expiry is
    /// the caller's check, at its own time.
    pub async fn use_portal_link(&mut self, link: PortalLinkId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE portal_links SET used_at = $1 WHERE tenant_id = $2 AND id = $3 AND used_at IS NULL";
        let used = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(at)
            .bind(self.tenant)
            .bind(link)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(used > 0)
    }
}
