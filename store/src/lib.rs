//! Persistence for the portal and the SCIM service, on SQLite (the embedded default) or
//! PostgreSQL (production).
//!
//! The connection pools never leave this crate: callers hold a [`Store`] and reach data
//! through its methods. Deployment-wide data (tenants, operators) is reached from the
//! store itself; tenant-owned data will only be reachable through a tenant scope, so that
//! a query without a tenant cannot be written.
//!
//! Migrations live in `migrations/sqlite` and `migrations/postgres` at the workspace root
//! (same file names in both), are embedded at compile time and applied by [`Store::connect`].

/// Runs the same query expression on whichever pool the store has. The expression is
/// compiled once per backend, so it must type-check for both (ids, times and flags do).
macro_rules! on_pool {
    ($pool:expr, $conn:ident => $body:expr) => {
        match $pool {
            $crate::Pool::Sqlite($conn) => $body,
            $crate::Pool::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` on one pooled connection; on PostgreSQL one checked out by `$acquire` (a
/// `resources::ScopedConnection` constructor given the pool as `$pool`) and reset before it
/// goes back.
macro_rules! on_scoped_connection {
    ($store:expr, |$pool:ident| $acquire:expr, $conn:ident => $body:expr) => {
        on_scoped_connection!(@on &$store.pool, |$pool| $acquire, $conn => $body)
    };
    // On the given `Pool` (the store's `write_pool`, for writes).
    (@on $pools:expr, |$pool:ident| $acquire:expr, $conn:ident => $body:expr) => {
        match $pools {
            crate::Pool::Sqlite(pool) => {
                let mut $conn = pool.acquire().await?;
                $body
            }
            crate::Pool::Postgres($pool) => {
                let mut checkout = $acquire.await?;
                let result = {
                    let $conn: &mut sqlx::PgConnection = &mut checkout.connection;
                    $body
                };
                checkout.release().await?;
                result
            }
        }
    };
}

/// Runs reads on one connection that carries the tenant for row-level security.
macro_rules! as_tenant {
    ($data:expr, $conn:ident => $body:expr) => {
        on_scoped_connection!(
            $data.store,
            |pool| $crate::resources::ScopedConnection::for_tenant(pool, $data.tenant),
            $conn => $body
        )
    };
}

/// `on_pool!` for a write that is no tenant action: in this process's writer turn (see
/// `Store::write_turn`, not reentrant), on the write pool. `$store` is the `Store`.
macro_rules! writing_on_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        let _turn = $store.write_turn().await;
        on_pool!(&$store.write_pool, $pool => $body)
    }};
}

/// `as_tenant!` for a write: in this process's writer turn, on the write pool.
macro_rules! writing_as_tenant {
    ($data:expr, $conn:ident => $body:expr) => {{
        let _turn = $data.store.write_turn().await;
        on_scoped_connection!(
            @on &$data.store.write_pool,
            |pool| $crate::resources::ScopedConnection::for_tenant(pool, $data.tenant),
            $conn => $body
        )
    }};
}

/// Runs statements on one connection that sees every tenant's rows of the credential and
/// people tables (PostgreSQL row-level security, migration 0039): only for lookups that
/// find a tenant from a secret, an email or an id, and for the deployment's own jobs. Each
/// use says why in its doc comment.
macro_rules! as_deployment {
    ($store:expr, $conn:ident => $body:expr) => {
        on_scoped_connection!($store, |pool| $crate::resources::ScopedConnection::deployment_wide(pool), $conn => $body)
    };
}

/// `as_deployment!` for a write: in this process's writer turn, on the write pool.
macro_rules! writing_as_deployment {
    ($store:expr, $conn:ident => $body:expr) => {{
        let _turn = $store.write_turn().await;
        on_scoped_connection!(
            @on &$store.write_pool,
            |pool| $crate::resources::ScopedConnection::deployment_wide(pool),
            $conn => $body
        )
    }};
}

mod access_cache;
mod action;
mod alerts;
mod api_keys;
mod audit;
mod audit_checkpoints;
mod branding;
mod deleted_directories;
mod deployment_events;
mod error;
mod filter_sql;
mod google;
mod idempotency;
mod ids;
mod nonhuman;
mod operator_webhooks;
mod operators;
mod portal;
mod portal_links;
mod resource_kind;
mod resources;
mod revocations;
mod roles;
mod scope;
mod secrets;
mod sessions;
mod stale_users;
mod tenants;
mod url;
mod wal_checkpoint;
mod webhooks;

#[cfg(feature = "test-support")]
pub mod testing;

pub use action::TenantAction;
pub use alerts::{Alert, AlertDirectory, EndpointHealth, NewAlert, OperatorWebhookHealth, WebhookHealth};
pub use api_keys::{ApiKeyRecord, NewApiKey};
pub use audit::{AuditOutcome, AuditQuery, AuditRecord, ChainBreak, ChainReport, NewAuditRecord};
pub use audit_checkpoints::AuditCheckpoint;
pub use branding::{BrandingLogo, BrandingSettings, StoredBranding};
pub use deleted_directories::{DeletedDirectory, PURGE_CHUNK};
pub use deployment_events::{FeedEntry, FeedPosition, FeedQuery};
pub use error::StoreError;
pub use filter_sql::indexed_columns;
pub use google::{GoogleConnection, GoogleRun, GoogleSecrets, NewGoogleConnection};
pub use idempotency::Reservation;
pub use ids::{
    AlertId, ApiKeyId, AuditId, DeliveryId, DirectoryId, EmailVerificationId, EventId, GoogleRunId, Id,
    IdentityProvider, InvalidSlug, OperatorId, OperatorWebhookId, PortalLinkId, SetupLinkId, TenantAdminId, TenantId,
    TenantSlug, TokenId, UnknownIdentityProvider, WebhookId,
};
pub use nonhuman::{ExpiredIdentity, NonHumanIdentity, NonhumanExtensionChange, OwnerPolicy, OwnerState};
pub use operator_webhooks::{
    OperatorDelivery, OperatorDeliveryOutcome, OperatorOutstanding, OperatorSettlement, OperatorWebhook,
};
pub use operators::{Operator, OperatorRole};
pub use portal::{
    DirectoryRequest, EmailVerification, NewEmailVerification, NewSetupLink, OidcProvider, SetupCompleted,
    SetupCompletion, SetupLink, SetupState, SyncHealth, TenantAdmin,
};
pub use portal_links::{NewPortalLink, PortalLink};
pub use resource_kind::ResourceKind;
pub use resources::{
    BRAKE_WINDOW_MINUTES, BrakeSettings, Change, ChangeKind, ChangeRecord, ChangeSubject, Computed, Creation,
    DirectoryChangeKind, DirectoryData, GroupRef, HeldBatch, HeldChange, HoldReason, ListPage, ListSpec, Member,
    MemberDelta, MembershipOutcome, PageSpec, RepublishOutcome, Republished, ResourceRecord, ResourceState,
    SELF_TEST_ID_PREFIX, SortField, SortKey, StoredChange, SuspensionOutcome, SuspensionRecord, Update,
    UserToRepublish, WriteBatch, WriteContext, change_members,
};
pub use revocations::{Acknowledged, Revocation, RevocationQuery, is_revocation};
pub use roles::{RepublishJob, Role};
pub use scope::{
    Directory, DirectorySettings, NewOAuthClient, NewToken, OAuthClientOverview, OAuthClientRecord, SchemaExtension,
    TenantScope, TokenRecord,
};
pub use secrets::SecretKeys;
pub use sessions::SessionRow;
pub use stale_users::{StaleUser, StaleUsers};
pub use tenants::{DirectoryAccess, Tenant, TenantSummary};
pub use url::{Backend, DatabaseUrl};
pub use webhooks::{
    DeliveryAttempt, DeliveryOutcome, EndpointLag, NewWebhook, OutstandingEvent, OutstandingState, Settlement, Webhook,
    WebhookCursor,
};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Pool sizing and timeouts. The defaults suit one server process on a small machine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Upper bound of open connections in the pool (PostgreSQL). SQLite uses the same
    /// number of readers; its writes are serialised by the database itself.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing with an error
    /// instead of queueing forever.
    pub acquire_timeout: Duration,
    /// The longest a statement may run on PostgreSQL before the server cancels it
    /// (`statement_timeout`), so that no request or job holds a connection and its locks
    /// for long; zero turns it off. Migrations run without it.
    pub statement_timeout: Duration,
    /// How long a verified token is trusted without reading the database again (see
    /// `access_cache`); zero turns the cache off. Revocation through any server process
    /// on PostgreSQL, or through this process on SQLite, takes effect at once regardless.
    pub credential_cache_ttl: Duration,
    /// The keys webhook signing secrets and OpenID Connect client secrets are sealed with
    /// (see `secrets`). Without them such secrets cannot be written, nor sealed ones read.
    pub secret_keys: Option<SecretKeys>,
    /// PostgreSQL: the role that owns the schema (`DATABASE_OWNER_URL`, same database).
    /// Migrations run as it, and it grants the server's own role (the database URL's)
    /// reading and writing rows and nothing more, so the server cannot alter a table or
    /// turn its row-level security off. `None`: the server's role migrates (when the
    /// schema is behind) and owns what it makes, and start-up warns about that.
    pub schema_owner: Option<DatabaseUrl>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            // Under the 30 s a request may take, so a stuck query fails the request cleanly.
            statement_timeout: Duration::from_secs(25),
            credential_cache_ttl: Duration::from_secs(5),
            schema_owner: None,
            secret_keys: None,
        }
    }
}

/// The handle to the database. Cheap to clone: it holds a connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Where writes get their connection, in the writer turn. SQLite: a pool of its own,
    /// which only the turn's holder uses, so a connection is always free to it. On the
    /// shared pool a write waited in the queue of readers for a connection while holding
    /// the turn, and every writer waited behind it: with 64 `startIndex` pages of a million
    /// users in flight (a few seconds in that queue each), a burst of requests noting their
    /// token's use queued one after another and reached the 30 s request timeout.
    /// PostgreSQL: the shared pool (it has no turn).
    write_pool: Pool,
    /// SQLite has one writer at a time; a writer that finds the database locked sleeps in
    /// growing steps (up to 100 ms) before it retries. Queueing this process's writers
    /// here instead hands the lock over without those sleeps. Other processes still wait
    /// on the busy timeout.
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    access_cache: std::sync::Arc<access_cache::AccessCache>,
    /// Bumped after every committed write of SCIM data in this process, so that long-polling
    /// readers of the change feed wake at once instead of at their next poll.
    commits: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Keeps other processes' credential changes flowing into `access_cache` (PostgreSQL).
    access_listener: access_cache::SharedListener,
    /// Each directory's active users, as the safety brake last counted them.
    brake_population: std::sync::Arc<resources::BrakePopulation>,
    /// What secrets are sealed with (`None`: not configured; see `secrets`).
    secret_keys: Option<std::sync::Arc<SecretKeys>>,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The connection pool at one moment ([`Store::pool_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open, in use or idle.
    pub open: u32,
    /// Open connections no one holds.
    pub idle: u32,
    /// The most the pool opens (`DATABASE_MAX_CONNECTIONS`).
    pub max: u32,
}

/// What the operator's status view shows about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentOverview {
    pub backend: Backend,
    /// The newest migration applied to this database.
    pub schema_version: i64,
    pub tenant_count: i64,
}

/// Brings the PostgreSQL schema up to date, as `owner` when given (then granting the
/// server's role what it needs), else as the server's role, and only when a migration is
/// missing: a server whose role owns nothing starts without the right to create anything.
/// Migrations run on a connection of their own without the statement timeout: building an
/// index on a large table may take longer.
async fn migrate_postgres(server: &PgConnectOptions, owner: Option<&DatabaseUrl>) -> Result<(), StoreError> {
    use sqlx::Connection as _;
    let Some(owner) = owner else {
        let mut migrating = sqlx::PgConnection::connect_with(server).await?;
        if !schema_is_current(&mut migrating).await? {
            POSTGRES_MIGRATIONS.run(&mut migrating).await?;
        }
        return Ok(migrating.close().await?);
    };
    let mut migrating = sqlx::PgConnection::connect_with(&PgConnectOptions::from_str(owner.as_str())?).await?;
    POSTGRES_MIGRATIONS.run(&mut migrating).await?;
    // The role name comes from the operator's own URL; quoted as an identifier.
    let role = format!("\"{}\"", server.get_username().replace('"', "\"\""));
    let schema: String = sqlx::query_scalar("SELECT quote_ident(current_schema())").fetch_one(&mut migrating).await?;
    // Server processes starting together grant together; PostgreSQL refuses concurrent
    // changes of one object's privileges ("tuple concurrently updated"), so they take turns.
    let mut granting = migrating.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(GRANT_LOCK).execute(&mut *granting).await?;
    for grant in [
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"),
        format!("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
        format!("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}"),
    ] {
        sqlx::query(&grant).execute(&mut *granting).await?;
    }
    granting.commit().await?;
    Ok(migrating.close().await?)
}

/// The advisory lock the owner's grants are made under (an arbitrary constant).
const GRANT_LOCK: i64 = 0x5C1A_0939;

/// Whether every migration this build knows is applied already.
async fn schema_is_current(connection: &mut sqlx::PgConnection) -> Result<bool, StoreError> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL").fetch_one(&mut *connection).await?;
    if !exists {
        return Ok(false);
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&mut *connection).await?;
    Ok(POSTGRES_MIGRATIONS.iter().all(|migration| applied.contains(&migration.version)))
}

impl Store {
    /// Opens the database (creating a SQLite file and its folder if missing) and applies
    /// every pending migration, so that a started server always has the schema it needs.
    pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let sqlite_writer = std::sync::Arc::default();
        let (pool, write_pool) = match url.backend() {
            Backend::Sqlite => {
                if let Some(dir) = url.sqlite_parent_dir() {
                    std::fs::create_dir_all(&dir)
                        .map_err(|source| StoreError::CreateDirectory { path: dir, source })?;
                }
                let connect = SqliteConnectOptions::from_str(url.as_str())?
                    .create_if_missing(true)
                    // WAL lets readers proceed while one writer commits.
                    .journal_mode(SqliteJournalMode::Wal)
                    // In WAL mode NORMAL is durable against application crashes; only a
                    // power loss can roll back the last transactions.
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Keeps the planner's statistics fresh (SQLite's recommendation for
                    // long-lived connections); bounded so closing stays quick.
                    .optimize_on_close(true, 400)
                    // The store checkpoints the write-ahead log itself (`wal_checkpoint`).
                    .pragma("wal_autocheckpoint", "0")
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    // A connection to a local file cannot have been dropped by a peer, and
                    // sqlx's check before each acquire is a round trip to the connection's
                    // worker thread: an eighth of the server's CPU in a profile of reads.
                    .test_before_acquire(false)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect.clone())
                    .await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
                // Two, though one writer holds the turn at a time: a connection goes back to
                // its pool in a task of its own after the write, and with one the next
                // holder waited for that task to be scheduled among the requests'.
                let write_pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .test_before_acquire(false)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await?;
                wal_checkpoint::spawn(pool.clone(), std::sync::Arc::clone(&sqlite_writer));
                (Pool::Sqlite(pool), Pool::Sqlite(write_pool))
            }
            Backend::Postgres => {
                let connect = PgConnectOptions::from_str(url.as_str())?;
                migrate_postgres(&connect, options.schema_owner.as_ref()).await?;
                let connect = if options.statement_timeout.is_zero() {
                    connect
                } else {
                    let milliseconds = options.statement_timeout.as_millis().to_string();
                    connect.options([("statement_timeout", milliseconds.as_str())])
                };
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await?;
                let bypasses: bool =
                    sqlx::query_scalar("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
                        .fetch_one(&pool)
                        .await?;
                if bypasses {
                    tracing::warn!(
                        "the database role is a superuser or has BYPASSRLS: row-level security does not apply to it, \
                         and tenant isolation rests on the storage layer alone; run the server as a role without both"
                    );
                }
                let owned: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = current_user",
                )
                .fetch_one(&pool)
                .await?;
                if owned > 0 {
                    tracing::warn!(
                        owned_tables = owned,
                        "the server's database role owns the schema, so it could turn row-level security off; \
                         set DATABASE_OWNER_URL to the owning role and give the server a role that owns nothing \
                         (README: Security)"
                    );
                }
                (Pool::Postgres(pool.clone()), Pool::Postgres(pool))
            }
        };
        let access_cache = std::sync::Arc::new(access_cache::AccessCache::new(options.credential_cache_ttl));
        let access_listener = match &pool {
            Pool::Postgres(pool) if !options.credential_cache_ttl.is_zero() => {
                let connect = pool.connect_options().as_ref().clone();
                let cache = std::sync::Arc::downgrade(&access_cache);
                Some(std::sync::Arc::new(access_cache::listen_for_changes(connect, cache)))
            }
            _ => None,
        };
        let commits = std::sync::Arc::new(tokio::sync::watch::Sender::new(0));
        Ok(Self {
            pool,
            write_pool,
            sqlite_writer,
            access_cache,
            access_listener,
            commits,
            brake_population: std::sync::Arc::default(),
            secret_keys: options.secret_keys.clone().map(std::sync::Arc::new),
        })
    }

    /// Waits for this process's turn to write, on SQLite; nothing to wait for on PostgreSQL.
    /// Every write in this process takes it, small deployment-level ones too (sessions,
    /// operator accounts, a key's or token's last use): a write outside the turn waits on
    /// SQLite's busy handler instead, which retries in sleeps between the turn's holders and
    /// under back-to-back batches (a million users re-derived) ran out of its 5 s, failing
    /// the request that only wanted to note its key's use. In the turn a write takes its
    /// connection from `write_pool` (its own on SQLite, so it never waits in the readers'
    /// queue while other writers wait for it); `writing_on_pool!`, `writing_as_tenant!` and
    /// `writing_as_deployment!` take both for a write that is no tenant action. The turn is
    /// not reentrant: take it only where no caller holds it (an open action or write
    /// transaction does).
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.sqlite_writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// The newest migration this build carries (the schema version of a migrated
    /// database).
    pub fn latest_schema_version() -> i64 {
        SQLITE_MIGRATIONS.iter().map(|migration| migration.version).max().unwrap_or(0)
    }

    /// Changes whenever this process commits a write of SCIM data (other processes' writes
    /// do not show here: readers must also poll).
    pub fn watch_commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    pub(crate) fn committed(&self) {
        self.commits.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// How many connections the pool holds, how many of them wait unused, and its bound
    /// (for `/metrics`).
    pub fn pool_usage(&self) -> PoolUsage {
        let (open, idle, max) = on_pool!(&self.pool, pool =>
            (pool.size(), pool.num_idle(), pool.options().get_max_connections()));
        PoolUsage { open, idle: u32::try_from(idle).unwrap_or(u32::MAX), max }
    }

    /// Succeeds when the database answers a query; the readiness probe calls it.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(&self.pool, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop)?);
        Ok(())
    }

    /// The schema version and the size of the deployment, read in one round trip.
    pub async fn deployment_overview(&self) -> Result<DeploymentOverview, StoreError> {
        // `_sqlx_migrations` is sqlx's own ledger of applied migrations.
        const QUERY: &str = "SELECT \
            (SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success) AS schema_version, \
            (SELECT COUNT(*) FROM tenants) AS tenant_count";
        let (schema_version, tenant_count): (i64, i64) =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).fetch_one(pool).await?);
        Ok(DeploymentOverview { backend: self.backend(), schema_version, tenant_count })
    }

    /// Waits for the connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        if let Some(listener) = &self.access_listener {
            listener.stop();
        }
        on_pool!(&self.pool, pool => pool.close().await);
        on_pool!(&self.write_pool, pool => pool.close().await);
    }
}
