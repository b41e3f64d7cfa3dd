//! The operator's branding of the portal (migration 0041): one deployment-wide row, not a
//! tenant's data. No row: the product's defaults.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError};

/// The branding's words and colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandingSettings {
    pub product_name: String,
    /// `#rrggbb`, lowercase.
    pub accent_colour: String,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
}

/// An uploaded logo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandingLogo {
    /// Lowercase hex SHA-256 of `bytes`: the logo's URL names it.
    pub sha256: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The stored branding, without the logo's bytes (pages need only its URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBranding {
    pub settings: BrandingSettings,
    /// The logo's digest and content type.
    pub logo: Option<(String, String)>,
    pub updated_at: DateTime<Utc>,
    /// Who changed it last, as the audit names actors.
    pub updated_by: String,
}

type Row = (String, String, Option<String>, Option<String>, Option<String>, Option<String>, DateTime<Utc>, String);

impl Store {
    /// The branding, if the operator has set any.
    pub async fn branding(&self) -> Result<Option<StoredBranding>, StoreError> {
        const QUERY: &str = "SELECT product_name, accent_colour, support_email, support_url, logo_sha256, \
                             logo_content_type, updated_at, updated_by FROM branding WHERE id = 1";
        let row: Option<Row> = on_pool!(&self.pool, pool => sqlx::query_as(QUERY).fetch_optional(pool).await?);
        Ok(row.map(
            |(
                product_name,
                accent_colour,
                support_email,
                support_url,
                sha256,
                content_type,
                updated_at,
                updated_by,
            )| {
                StoredBranding {
                    settings: BrandingSettings { product_name, accent_colour, support_email, support_url },
                    logo: sha256.zip(content_type),
                    updated_at,
                    updated_by,
                }
            },
        ))
    }

    /// The logo whose digest is `sha256`, if it is the current one.
    pub async fn branding_logo(&self, sha256: &str) -> Result<Option<BrandingLogo>, StoreError> {
        const QUERY: &str = "SELECT logo_sha256, logo_content_type, logo_bytes FROM branding \
                             WHERE id = 1 AND logo_sha256 = $1";
        let row: Option<(String, String, Vec<u8>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(sha256).fetch_optional(pool).await?);
        Ok(row.map(|(sha256, content_type, bytes)| BrandingLogo { sha256, content_type, bytes }))
    }

    /// Sets the branding's words and colour; the logo stays.
    pub async fn save_branding_settings(
        &self,
        settings: &BrandingSettings,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO branding \
             (id, product_name, accent_colour, support_email, support_url, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET product_name = excluded.product_name, \
             accent_colour = excluded.accent_colour, support_email = excluded.support_email, \
             support_url = excluded.support_url, updated_at = excluded.updated_at, updated_by = excluded.updated_by";
        writing_on_pool!(self, pool => sqlx::query(QUERY)
            .bind(&settings.product_name)
            .bind(&settings.accent_colour)
            .bind(&settings.support_email)
            .bind(&settings.support_url)
            .bind(at)
            .bind(by)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Replaces the logo (`None`: removes it). Before any branding was saved, the row is
    /// made with `defaults` for the words and colour.
    pub async fn save_branding_logo(
        &self,
        defaults: &BrandingSettings,
        logo: Option<&BrandingLogo>,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO branding \
             (id, product_name, accent_colour, support_email, support_url, logo_sha256, logo_content_type, \
              logo_bytes, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET logo_sha256 = excluded.logo_sha256, \
             logo_content_type = excluded.logo_content_type, logo_bytes = excluded.logo_bytes, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by";
        writing_on_pool!(self, pool => sqlx::query(QUERY)
            .bind(&defaults.product_name)
            .bind(&defaults.accent_colour)
            .bind(&defaults.support_email)
            .bind(&defaults.support_url)
            .bind(logo.map(|logo| logo.sha256.as_str()))
            .bind(logo.map(|logo| logo.content_type.as_str()))
            .bind(logo.map(|logo| logo.bytes.as_slice()))
            .bind(at)
            .bind(by)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }
}
