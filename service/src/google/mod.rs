//! The Google Workspace pull connector. Google Workspace provisions by SCIM only to apps
//! in its own catalogue, so a custom app cannot receive its pushes; instead the server
//! reads the customer's users and groups from the Admin SDK Directory API with a service
//! account the customer's admin authorises (domain-wide delegation, read-only scopes), and
//! turns them into the SCIM writes a pushing provider would send to the directory's own
//! endpoint.
//!
//! - [`credentials`]: the service account's key and the JWT it signs.
//! - [`api`]: the Directory API client (paging, retries, Google's errors).
//! - [`reconcile`]: one full reconciliation through the directory's SCIM endpoint.

pub mod api;
pub mod connections;
pub mod credentials;
pub mod reconcile;

use chrono::{DateTime, Utc};

pub use self::api::{DirectoryApi, GoogleDirectory, GoogleEndpoints, GoogleError, RetryPolicy};
pub use self::credentials::{KeyError, SCOPES, ServiceAccountKey};
pub use self::reconcile::{ReconcileError, Reconciled, SyncCounts, SyncFailure};
pub use store::GoogleRun;

use crate::scim_client::ScimClient;

/// How to reach Google and how patiently.
#[derive(Debug, Clone, Default)]
pub struct GoogleOptions {
    pub endpoints: GoogleEndpoints,
    pub retry: RetryPolicy,
}

/// What a connection reads with: the key, the admin it acts as, the customer.
#[derive(Debug)]
pub struct GoogleConnection {
    pub key: ServiceAccountKey,
    /// A Workspace admin's email: the service account acts as this admin.
    pub admin_email: String,
    /// `my_customer` (the admin's own account) unless another customer id is named.
    pub customer: String,
}

/// Why a run ended without reconciling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Google(#[from] GoogleError),
    #[error(transparent)]
    Directory(#[from] ReconcileError),
}

/// A finished run: what Google listed and what the directory was made to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub reconciled: Reconciled,
    /// Requests sent to Google (pages and retries).
    pub google_requests: u32,
}

/// Reads the whole directory from Google, then reconciles the SCIM directory behind
/// `scim` with it.
pub(crate) async fn run(
    http: reqwest::Client,
    options: &GoogleOptions,
    connection: &GoogleConnection,
    scim: &ScimClient,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let api = sign_in(http, options, connection, now).await?;
    let google = api.read_directory().await?;
    let reconciled = reconcile::reconcile(scim, &google).await?;
    Ok(RunOutcome { reconciled, google_requests: google.requests })
}

/// Signs in and reads the first users: the wizard's "test the connection". Answers the
/// primary emails read (at most `count`).
pub async fn test_connection(
    http: reqwest::Client,
    options: &GoogleOptions,
    connection: &GoogleConnection,
    count: u32,
    now: DateTime<Utc>,
) -> Result<Vec<String>, GoogleError> {
    let mut api = sign_in(http, options, connection, now).await?;
    Ok(api.first_users(count).await?.into_iter().map(|user| user.primary_email).collect())
}

/// A Directory API client signed in with `connection`'s key as its admin.
async fn sign_in(
    http: reqwest::Client,
    options: &GoogleOptions,
    connection: &GoogleConnection,
    now: DateTime<Utc>,
) -> Result<DirectoryApi, GoogleError> {
    DirectoryApi::sign_in(
        http,
        options.endpoints.clone(),
        options.retry,
        &connection.key,
        &connection.admin_email,
        &connection.customer,
        now,
    )
    .await
}
