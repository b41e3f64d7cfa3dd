//! The Google Workspace pull connector's connections and runs (migration 0047): one
//! connection per directory, with its service account key and its directory token sealed
//! at rest, and every run's counts and failures. The scheduler finds due connections
//! across tenants and leases each to one server process at a time.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::action::on_open;
use crate::ids::{DirectoryId, GoogleRunId, TenantId, TokenId};
use crate::secrets::SecretSlot;
use crate::{Store, StoreError, TenantAction, TenantScope};

/// A connection as it is made or replaced.
#[derive(Clone)]
pub struct NewGoogleConnection {
    pub directory: DirectoryId,
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    /// The key file's JSON text (sealed when stored).
    pub key_file: String,
    pub admin_email: String,
    pub customer: String,
    pub token: TokenId,
    /// The token's secret (sealed when stored).
    pub token_secret: String,
    pub interval_minutes: i32,
    pub next_run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewGoogleConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the key nor the token.
        f.debug_struct("NewGoogleConnection")
            .field("directory", &self.directory)
            .field("client_email", &self.client_email)
            .field("admin_email", &self.admin_email)
            .finish_non_exhaustive()
    }
}

/// A connection as the portal shows it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleConnection {
    pub directory: DirectoryId,
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub admin_email: String,
    pub customer: String,
    pub token: TokenId,
    pub interval_minutes: i32,
    pub next_run_at: DateTime<Utc>,
    /// Who asked for the run due now (`None`: the next run is the schedule's).
    pub requested_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a run needs to sign in and write: opened from their seals.
pub struct GoogleSecrets {
    pub key_file: String,
    pub token_secret: String,
}

impl std::fmt::Debug for GoogleSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GoogleSecrets(..)")
    }
}

/// One finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleRun {
    pub id: GoogleRunId,
    pub directory: DirectoryId,
    /// `schedule`, or who asked (`admin:<id>`, `operator:<id>`).
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub succeeded: bool,
    pub counts: Value,
    pub failures: Value,
    pub error: Option<String>,
    pub google_requests: i32,
}

const COLUMNS: &str = "directory_id, client_email, client_id, private_key_id, admin_email, customer, token_id, \
     interval_minutes, next_run_at, requested_by, created_at";

type ConnectionRow =
    (DirectoryId, String, String, String, String, String, TokenId, i32, DateTime<Utc>, Option<String>, DateTime<Utc>);

fn connection_of(row: ConnectionRow) -> GoogleConnection {
    let (
        directory,
        client_email,
        client_id,
        private_key_id,
        admin_email,
        customer,
        token,
        interval_minutes,
        next_run_at,
        requested_by,
        created_at,
    ) = row;
    GoogleConnection {
        directory,
        client_email,
        client_id,
        private_key_id,
        admin_email,
        customer,
        token,
        interval_minutes,
        next_run_at,
        requested_by,
        created_at,
    }
}

const RUN_COLUMNS: &str =
    "id, directory_id, trigger, started_at, finished_at, outcome, counts, failures, error, google_requests";

type RunRow = (
    GoogleRunId,
    DirectoryId,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Json<Value>,
    Json<Value>,
    Option<String>,
    i32,
);

fn run_of(row: RunRow) -> GoogleRun {
    let (id, directory, trigger, started_at, finished_at, outcome, counts, failures, error, google_requests) = row;
    GoogleRun {
        id,
        directory,
        trigger,
        started_at,
        finished_at,
        succeeded: outcome == "succeeded",
        counts: counts.0,
        failures: failures.0,
        error,
        google_requests,
    }
}

impl TenantScope<'_> {
    /// The directory's connection, if it has one.
    pub async fn google_connection(&self, directory: DirectoryId) -> Result<Option<GoogleConnection>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM google_connections WHERE tenant_id = $1 AND directory_id = $2");
        let row: Option<ConnectionRow> = as_tenant!(self, conn =>
            sqlx::query_as(&query).bind(self.tenant).bind(directory).fetch_optional(&mut *conn).await?);
        Ok(row.map(connection_of))
    }

    /// The connection's key file and token secret, opened.
    pub async fn google_secrets(&self, directory: DirectoryId) -> Result<Option<GoogleSecrets>, StoreError> {
        const QUERY: &str =
            "SELECT key_file, token_secret FROM google_connections WHERE tenant_id = $1 AND directory_id = $2";
        let row: Option<(String, String)> = as_tenant!(self, conn =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(directory).fetch_optional(&mut *conn).await?);
        let Some((key_file, token_secret)) = row else { return Ok(None) };
        let keys = self.store.secret_keys()?;
        Ok(Some(GoogleSecrets {
            key_file: keys.open(SecretSlot::GoogleKey { tenant: self.tenant, directory }, &key_file)?,
            token_secret: keys.open(SecretSlot::GoogleToken { tenant: self.tenant, directory }, &token_secret)?,
        }))
    }

    /// The directory's latest runs, newest first.
    pub async fn google_runs(&self, directory: DirectoryId, limit: i64) -> Result<Vec<GoogleRun>, StoreError> {
        let query = format!(
            "SELECT {RUN_COLUMNS} FROM google_sync_runs WHERE tenant_id = $1 AND directory_id = $2 \
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<RunRow> = as_tenant!(self, conn =>
            sqlx::query_as(&query).bind(self.tenant).bind(directory).bind(limit).fetch_all(&mut *conn).await?);
        Ok(rows.into_iter().map(run_of).collect())
    }

    /// Takes the connection's lease for `owner` until `until` if nobody holds an unexpired
    /// one; false otherwise.
    pub async fn lease_google_connection(
        &self,
        directory: DirectoryId,
        owner: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE google_connections SET lease_owner = $3, lease_until = $4 \
             WHERE tenant_id = $1 AND directory_id = $2 \
             AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until < $5)";
        let mut action = self.begin_action().await?;
        let taken = on_open!(&mut action.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .bind(owner)
            .bind(until)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        action.finish().await?;
        Ok(taken == 1)
    }
}

impl TenantAction<'_> {
    /// Makes or replaces the directory's connection.
    pub async fn put_google_connection(&mut self, connection: &NewGoogleConnection) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO google_connections (tenant_id, directory_id, client_email, client_id, \
             private_key_id, key_file, admin_email, customer, token_id, token_secret, interval_minutes, next_run_at, \
             requested_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'setup', $13) \
             ON CONFLICT (tenant_id, directory_id) DO UPDATE SET client_email = excluded.client_email, \
             client_id = excluded.client_id, private_key_id = excluded.private_key_id, key_file = excluded.key_file, \
             admin_email = excluded.admin_email, customer = excluded.customer, token_id = excluded.token_id, \
             token_secret = excluded.token_secret, interval_minutes = excluded.interval_minutes, \
             next_run_at = excluded.next_run_at, requested_by = excluded.requested_by";
        let keys = self.store.secret_keys()?;
        let (tenant, directory) = (self.tenant, connection.directory);
        let key_file = keys.seal(SecretSlot::GoogleKey { tenant, directory }, &connection.key_file)?;
        let token_secret = keys.seal(SecretSlot::GoogleToken { tenant, directory }, &connection.token_secret)?;
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(tenant)
            .bind(directory)
            .bind(&connection.client_email)
            .bind(&connection.client_id)
            .bind(&connection.private_key_id)
            .bind(&key_file)
            .bind(&connection.admin_email)
            .bind(&connection.customer)
            .bind(connection.token)
            .bind(&token_secret)
            .bind(connection.interval_minutes)
            .bind(connection.next_run_at)
            .bind(connection.created_at)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Asks for a run now, by `who`; false when the directory has no connection.
    pub async fn request_google_run(
        &mut self,
        directory: DirectoryId,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE google_connections SET next_run_at = $3, requested_by = $4 \
             WHERE tenant_id = $1 AND directory_id = $2";
        let changed = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .bind(now)
            .bind(who)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// Records a finished run, schedules the next one at `next_run_at` and releases the
    /// lease `owner` held; false (nothing written) when `owner` lost the lease meanwhile.
    pub async fn finish_google_run(
        &mut self,
        run: &GoogleRun,
        owner: &str,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const RELEASE: &str = "UPDATE google_connections SET lease_owner = NULL, lease_until = NULL, \
             next_run_at = $4, requested_by = NULL WHERE tenant_id = $1 AND directory_id = $2 AND lease_owner = $3";
        const INSERT: &str = "INSERT INTO google_sync_runs (tenant_id, directory_id, id, trigger, started_at, \
             finished_at, outcome, counts, failures, error, google_requests) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        let released = on_open!(&mut self.open, tx => sqlx::query(RELEASE)
            .bind(self.tenant)
            .bind(run.directory)
            .bind(owner)
            .bind(next_run_at)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if released == 0 {
            return Ok(false);
        }
        on_open!(&mut self.open, tx => sqlx::query(INSERT)
            .bind(self.tenant)
            .bind(run.directory)
            .bind(run.id)
            .bind(&run.trigger)
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(if run.succeeded { "succeeded" } else { "failed" })
            .bind(Json(&run.counts))
            .bind(Json(&run.failures))
            .bind(run.error.as_deref())
            .bind(run.google_requests)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(true)
    }

    /// Removes the directory's connection (its runs stay); false when it had none.
    pub async fn delete_google_connection(&mut self, directory: DirectoryId) -> Result<bool, StoreError> {
        const QUERY: &str = "DELETE FROM google_connections WHERE tenant_id = $1 AND directory_id = $2";
        let deleted = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(deleted == 1)
    }
}

impl Store {
    /// The connections due at `now` across tenants (not leased by another process),
    /// longest waiting first, at most `limit`.
    pub async fn due_google_connections(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(TenantId, DirectoryId)>, StoreError> {
        const QUERY: &str = "SELECT tenant_id, directory_id FROM google_connections \
             WHERE next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY next_run_at, tenant_id, directory_id LIMIT $2";
        as_deployment!(self, conn => Ok(sqlx::query_as(QUERY).bind(now).bind(limit).fetch_all(&mut *conn).await?))
    }
}
