//! Connecting a `google` directory to Google Workspace, asking for a run, and the
//! scheduler's runs: each is the product's own use case, audited in the tenant's trail.
//!
//! The connector writes with a token of the directory (labelled [`TOKEN_LABEL`], listed on
//! the directory's tokens page like any other): revoking it there stops the connector, and
//! every write it makes is recorded as that token's, as an identity provider's would be.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use store::{DirectoryId, GoogleRun, IdentityProvider, NewGoogleConnection, Store, TenantId};

use super::{GoogleConnection, GoogleError, GoogleOptions, KeyError, RunError, ServiceAccountKey};
use crate::actor::Actor;
use crate::directories::{self, TokenRequest};
use crate::scim_client::ScimClient;
use crate::{Effects, ServiceError};

/// The audit actions.
pub const CONNECTED: &str = "google.connected";
pub const RUN_REQUESTED: &str = "google.sync_requested";
pub const RUN_FINISHED: &str = "google.sync_run";
/// The label of the connector's token.
pub const TOKEN_LABEL: &str = "Google Workspace connector";
/// Minutes between scheduled runs unless the admin chooses: Google's Directory API quota
/// is generous, but a directory rarely needs more.
pub const DEFAULT_INTERVAL_MINUTES: i32 = 60;
/// How long a process holds a connection while it runs it (a run of 100,000 users takes
/// minutes); another process takes it over after that.
const LEASE_MINUTES: i64 = 30;
/// Connections one scheduler round runs (the rest wait for the next round).
pub const DUE_PER_ROUND: i64 = 20;
/// Runs shown on the dashboard.
pub const RUNS_SHOWN: i64 = 10;

/// The HTTP client the connector talks to Google and to this server's SCIM endpoint with.
pub fn http_client() -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|error| ServiceError::Internal(format!("the Google connector's HTTP client: {error}")))
}

/// What the admin gives to connect a directory.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The service account's key file, as downloaded (JSON).
    pub key_file: String,
    /// A Workspace admin's email: the service account acts as this admin.
    pub admin_email: String,
    /// Empty for `my_customer`.
    pub customer: String,
    pub interval_minutes: Option<i32>,
}

/// Why connecting was refused; every message can be shown to the admin as it is.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no such directory")]
    NoSuchDirectory,
    #[error("only a Google Workspace directory reads from Google; this one is provisioned by its identity provider")]
    NotGoogle,
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the admin's email must be the full address of a Google Workspace admin (like it-admin@acme.example)")]
    AdminEmail,
    #[error("runs are every 5 to 1,440 minutes")]
    Interval,
    #[error("the connection test failed: {0}")]
    Test(GoogleError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for ConnectError {
    fn from(error: store::StoreError) -> Self {
        ConnectError::Service(error.into())
    }
}

/// What connecting found: the service account and the first users Google listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub client_email: String,
    pub client_id: String,
    pub sample_users: Vec<String>,
}

/// Connects a `google` directory: checks the key, signs in to Google as `admin_email` and
/// reads the first users (so a wrong key, admin or delegation is told now, not at the first
/// run), issues the connector's token (revoking the one of a connection it replaces),
/// stores everything sealed, and asks for a first run at once.
#[allow(clippy::too_many_arguments)] // each is a separate fact of the request
pub async fn connect(
    store: &Store,
    options: &GoogleOptions,
    http: reqwest::Client,
    tenant: TenantId,
    directory: DirectoryId,
    request: ConnectRequest,
    actor: &Actor,
    effects: &Effects,
) -> Result<Connected, ConnectError> {
    let scope = store.tenant(tenant);
    let found = scope.directory(directory).await?.ok_or(ConnectError::NoSuchDirectory)?;
    if found.idp != IdentityProvider::Google {
        return Err(ConnectError::NotGoogle);
    }
    let admin_email = request.admin_email.trim().to_owned();
    let plausible = admin_email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !admin_email.contains(char::is_whitespace)
    });
    if !plausible {
        return Err(ConnectError::AdminEmail);
    }
    let interval = request.interval_minutes.unwrap_or(DEFAULT_INTERVAL_MINUTES);
    if !(5..=1440).contains(&interval) {
        return Err(ConnectError::Interval);
    }
    let key = ServiceAccountKey::parse(request.key_file.trim())?;
    let customer =
        if request.customer.trim().is_empty() { "my_customer".to_owned() } else { request.customer.trim().to_owned() };
    let connection = GoogleConnection { key, admin_email: admin_email.clone(), customer: customer.clone() };
    let now = effects.now();
    let sample_users = super::test_connection(http, options, &connection, 5, now).await.map_err(ConnectError::Test)?;

    let replaced = scope.google_connection(directory).await?;
    let token_request = TokenRequest { label: TOKEN_LABEL.to_owned(), read_only: false, expires_at: None };
    let token = directories::issue_token(store, tenant, directory, token_request, actor, effects)
        .await?
        .ok_or(ConnectError::NoSuchDirectory)?;
    if let Some(old) = &replaced {
        directories::revoke_token(store, tenant, directory, old.token, actor, now).await?;
    }
    let GoogleConnection { key, .. } = connection;
    let new = NewGoogleConnection {
        directory,
        client_email: key.client_email.clone(),
        client_id: key.client_id.clone(),
        private_key_id: key.private_key_id.clone(),
        key_file: request.key_file.trim().to_owned(),
        admin_email: admin_email.clone(),
        customer: customer.clone(),
        token: token.id,
        token_secret: token.secret,
        interval_minutes: interval,
        next_run_at: now,
        created_at: now,
    };
    let mut action = scope.begin_action().await?;
    action.put_google_connection(&new).await?;
    let detail = json!({
        "client_email": key.client_email,
        "client_id": key.client_id,
        "admin_email": admin_email,
        "customer": customer,
        "interval_minutes": interval,
        "replaced": replaced.is_some(),
    });
    action.commit(actor.record(CONNECTED, Some(directory), detail, now)).await?;
    Ok(Connected { client_email: key.client_email, client_id: key.client_id, sample_users })
}

/// Asks for a full run of the directory's connector now (an admin's or support's "Sync
/// now"); false when the directory has no connection.
pub async fn request_run(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.request_google_run(directory, &actor.audit_name(), now).await? {
        return Ok(false);
    }
    action.commit(actor.record(RUN_REQUESTED, Some(directory), json!({}), now)).await?;
    Ok(true)
}

/// Runs the connections that are due (at most `limit`), one after another, each leased
/// to `owner` while it runs; answers the runs recorded. `scim_base` is this server's own
/// address, where the directories' endpoints are.
pub async fn run_due(
    store: &Store,
    options: &GoogleOptions,
    http: reqwest::Client,
    scim_base: &str,
    owner: &str,
    effects: &Effects,
    limit: i64,
) -> Result<Vec<GoogleRun>, ServiceError> {
    let mut runs = Vec::new();
    for (tenant, directory) in store.due_google_connections(effects.now(), limit).await? {
        if let Some(run) = run_one(store, options, http.clone(), scim_base, owner, effects, tenant, directory).await? {
            runs.push(run);
        }
    }
    Ok(runs)
}

#[allow(clippy::too_many_arguments)] // each is a separate fact of the run
async fn run_one(
    store: &Store,
    options: &GoogleOptions,
    http: reqwest::Client,
    scim_base: &str,
    owner: &str,
    effects: &Effects,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<GoogleRun>, ServiceError> {
    let scope = store.tenant(tenant);
    let started_at = effects.now();
    if !scope
        .lease_google_connection(directory, owner, started_at + Duration::minutes(LEASE_MINUTES), started_at)
        .await?
    {
        return Ok(None);
    }
    let (Some(connection), Some(secrets)) =
        (scope.google_connection(directory).await?, scope.google_secrets(directory).await?)
    else {
        return Ok(None);
    };
    let outcome = match ServiceAccountKey::parse(&secrets.key_file) {
        Ok(key) => {
            let google = GoogleConnection {
                key,
                admin_email: connection.admin_email.clone(),
                customer: connection.customer.clone(),
            };
            let scim = ScimClient::new(
                http.clone(),
                format!("{}/scim/v2/{directory}", scim_base.trim_end_matches('/')),
                secrets.token_secret,
            );
            super::run(http, options, &google, &scim, started_at).await
        }
        Err(error) => Err(RunError::Google(GoogleError::Key(error))),
    };
    let (counts, failures, error, google_requests) = match outcome {
        Ok(outcome) => (
            serde_json::to_value(&outcome.reconciled.counts).unwrap_or_default(),
            serde_json::to_value(&outcome.reconciled.failures).unwrap_or_default(),
            None,
            i32::try_from(outcome.google_requests).unwrap_or(i32::MAX),
        ),
        Err(error) => (json!({}), json!([]), Some(error.to_string()), 0),
    };
    let finished_at = effects.now();
    let run = GoogleRun {
        id: effects.id(),
        directory,
        trigger: connection.requested_by.clone().unwrap_or_else(|| "schedule".to_owned()),
        started_at,
        finished_at,
        succeeded: error.is_none(),
        counts,
        failures,
        error,
        google_requests,
    };
    let next_run_at = finished_at + Duration::minutes(i64::from(connection.interval_minutes));
    let mut action = scope.begin_action().await?;
    if !action.finish_google_run(&run, owner, next_run_at).await? {
        // Another process took the lease over (this run outlived it): its run counts.
        return Ok(None);
    }
    let detail = json!({
        "run": run.id.to_string(),
        "trigger": run.trigger,
        "outcome": if run.succeeded { "succeeded" } else { "failed" },
        "counts": run.counts,
        "error": run.error,
    });
    let mut record = Actor::System.record(RUN_FINISHED, Some(directory), detail, finished_at);
    if !run.succeeded {
        record.outcome = store::AuditOutcome::Failure;
    }
    action.commit(record).await?;
    Ok(Some(run))
}
