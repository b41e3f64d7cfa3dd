//! Throwaway databases for tests, on both backends, so that every storage test runs against
//! real SQLite and real PostgreSQL (never a mock).
//!
//! PostgreSQL tests need a server: `TEST_POSTGRES_URL` names one as
//! `postgres://user@host:port` (no database); each test gets a database of its own on it.
//! `cargo xtask test` starts a throwaway cluster and sets the variable.

use std::path::PathBuf;

use sqlx::Connection;

use crate::{Backend, DatabaseUrl, Store, StoreError, StoreOptions};

/// The key a test database seals secrets with; processes the tests start get the same one
/// (`SECRETS_KEY_FILE`).
pub const TEST_SECRETS_KEY: [u8; 32] = [9; 32];

/// The environment variable that points the PostgreSQL tests at a server.
pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// A fresh, migrated database that lives as long as this value (SQLite files are deleted
/// on drop; PostgreSQL databases die with the throwaway cluster).
#[derive(Debug)]
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub store: Store,
    /// PostgreSQL: the role that owns the schema (the server's, in `url`, owns nothing).
    owner_url: Option<DatabaseUrl>,
    sqlite_dir: Option<PathBuf>,
}

/// Fresh ids for a test's own rows: `DirectoryId::fresh()`. In the product, ids come from
/// `service::Effects`, which the edges pass in.
pub trait FreshId {
    fn fresh() -> Self;
}

impl<K> FreshId for crate::Id<K> {
    fn fresh() -> Self {
        #[allow(clippy::disallowed_methods)] // test support draws its own ids
        crate::Id::from(uuid::Uuid::now_v7())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestDatabaseError {
    #[error(
        "{POSTGRES_URL_VAR} is not set: PostgreSQL tests need a server. Run `cargo xtask test`, \
         which starts one, or set {POSTGRES_URL_VAR}=postgres://user@host:port"
    )]
    NoPostgres,
    #[error("cannot create a test database: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot create a PostgreSQL test database: {0}")]
    Postgres(#[from] sqlx::Error),
}

impl TestDatabase {
    /// Creates an empty database on `backend` and applies the migrations.
    pub async fn create(backend: Backend) -> Result<Self, TestDatabaseError> {
        #[allow(clippy::disallowed_methods)] // a test database's name only has to be unique
        let name = format!("scim_test_{}", uuid::Uuid::new_v4().simple());
        let (url, sqlite_dir, schema_owner) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir)?;
                (format!("sqlite://{}", dir.join("portal.db").display()), Some(dir), None)
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_URL_VAR).map_err(|_| TestDatabaseError::NoPostgres)?;
                let server = server_part(&server);
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                TEST_ROLES
                    .get_or_try_init(|| async { sqlx::query(CREATE_TEST_ROLES).execute(&mut admin).await.map(drop) })
                    .await?;
                // The name is generated above from a UUID, so splicing it is safe.
                sqlx::query(&format!("CREATE DATABASE {name} OWNER {OWNER_ROLE_NAME}")).execute(&mut admin).await?;
                admin.close().await?;
                let owner: DatabaseUrl = format!("{}/{name}", with_user(server, OWNER_ROLE_NAME)).parse()?;
                (format!("{}/{name}", with_user(server, APP_ROLE_NAME)), None, Some(owner))
            }
        };
        let url: DatabaseUrl = url.parse()?;
        let options = StoreOptions {
            max_connections: 4,
            secret_keys: Some(crate::SecretKeys::new(&TEST_SECRETS_KEY, &[])),
            schema_owner: schema_owner.clone(),
            ..StoreOptions::default()
        };
        let store = Store::connect(&url, &options).await?;
        Ok(Self { url, store, sqlite_dir, owner_url: schema_owner })
    }
}

impl TestDatabase {
    /// The size of the SQLite database file (its write-ahead log apart); `None` on
    /// PostgreSQL.
    pub fn sqlite_file_size(&self) -> Option<u64> {
        self.sqlite_dir.as_ref().map(|dir| std::fs::metadata(dir.join("portal.db")).map_or(0, |file| file.len()))
    }

    /// Runs raw SQL as `tenant` (row-level security lets it see that tenant's rows only):
    /// for tests that tamper with stored data behind the store's back. Returns the rows
    /// affected.
    pub async fn execute_as_tenant(&self, tenant: crate::TenantId, sql: &str) -> Result<u64, StoreError> {
        let scope = self.store.tenant(tenant);
        Ok(as_tenant!(scope, conn => sqlx::query(sql).execute(&mut *conn).await?.rows_affected()))
    }

    /// Options that connect as the server does in a two-role deployment: `url`'s role, with
    /// the owner migrating and granting (PostgreSQL).
    pub fn owner_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: 2,
            secret_keys: Some(crate::SecretKeys::new(&TEST_SECRETS_KEY, &[])),
            schema_owner: self.owner_url.clone(),
            ..StoreOptions::default()
        }
    }

    /// Runs raw SQL as the schema's owner (PostgreSQL; on SQLite the one connection there
    /// is): for tests that change the schema itself, as only a migration could, such as a
    /// trigger that injects a failure.
    pub async fn execute_as_owner(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(match (&self.store.pool, &self.owner_url) {
            (crate::Pool::Postgres(_), Some(owner)) => {
                let mut connection = sqlx::PgConnection::connect(owner.as_str()).await?;
                let affected = sqlx::query(sql).execute(&mut connection).await?.rows_affected();
                connection.close().await?;
                affected
            }
            _ => on_pool!(&self.store.pool, pool => sqlx::query(sql).execute(pool).await?.rows_affected()),
        })
    }

    /// The first column of the rows `sql` answers as text, read as the schema's owner (for
    /// tests of the schema's settings, such as a table's storage parameters).
    pub async fn texts_as_owner(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        Ok(match (&self.store.pool, &self.owner_url) {
            (crate::Pool::Postgres(_), Some(owner)) => {
                let mut connection = sqlx::PgConnection::connect(owner.as_str()).await?;
                let texts = sqlx::query_scalar(sql).fetch_all(&mut connection).await?;
                connection.close().await?;
                texts
            }
            _ => on_pool!(&self.store.pool, pool => sqlx::query_scalar(sql).fetch_all(pool).await?),
        })
    }

    /// Runs raw SQL that sees every tenant's rows (row-level security's deployment-wide
    /// setting, as the store's cross-tenant lookups use it): for tests that tamper across
    /// tenants as someone with database access would. Returns the rows affected.
    pub async fn execute_deployment_wide(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(as_deployment!(self.store, conn => sqlx::query(sql).execute(&mut *conn).await?.rows_affected()))
    }

    /// Runs raw SQL through the store's own pool (with its statement timeout), for tests of
    /// the pool's settings.
    pub async fn execute_raw(store: &Store, sql: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(&store.pool, pool => sqlx::query(sql).execute(pool).await?.rows_affected()))
    }

    /// The options the SQLite library was compiled with (`PRAGMA compile_options`, without
    /// the `SQLITE_` prefix); empty on PostgreSQL.
    pub async fn sqlite_compile_options(&self) -> Result<Vec<String>, StoreError> {
        let crate::Pool::Sqlite(pool) = &self.store.pool else { return Ok(Vec::new()) };
        Ok(sqlx::query_scalar("PRAGMA compile_options").fetch_all(pool).await?)
    }

    /// Refreshes the planner's statistics (both backends), as autovacuum or
    /// `optimize_on_close` would in a long-running deployment.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        // As the owner: PostgreSQL skips, with only a warning, tables the caller does not own,
        // and the server's role owns none.
        self.execute_as_owner("ANALYZE").await?;
        // A SQLite connection reads the statistics when it loads the schema, and ANALYZE on
        // one connection leaves the others of the pool planning with what they read before
        // (a plan would then depend on which connection a test's statement lands on). Every
        // connection rereads them, all held at once so that each is reached.
        if let crate::Pool::Sqlite(pool) = &self.store.pool {
            let mut held = Vec::new();
            for _ in 0..pool.options().get_max_connections() {
                let mut connection = pool.acquire().await?;
                sqlx::query("ANALYZE sqlite_schema").execute(&mut *connection).await?;
                held.push(connection);
            }
        }
        Ok(())
    }

    /// The tenants that the store's idle PostgreSQL connections still carry for row-level
    /// security (there must be none). Checks out every connection the pool may hold at
    /// once, so each idle one is looked at; empty on SQLite.
    pub async fn tenants_left_on_pooled_connections(&self) -> Result<Vec<String>, StoreError> {
        let crate::Pool::Postgres(pool) = &self.store.pool else { return Ok(Vec::new()) };
        let mut checked_out = Vec::new();
        let mut tenants = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            let mut connection = pool.acquire().await?;
            let tenant: String = sqlx::query_scalar("SELECT COALESCE(current_setting('app.tenant_id', true), '')")
                .fetch_one(&mut *connection)
                .await?;
            if !tenant.is_empty() {
                tenants.push(tenant);
            }
            checked_out.push(connection);
        }
        Ok(tenants)
    }
}

/// The tests run as this role, which (unlike the `postgres` superuser) row-level security
/// applies to and which owns nothing, as the server's role in production (README,
/// Security: two roles).
const APP_ROLE_NAME: &str = "scim_app";
/// Owns each test database and its schema; migrations run as it.
const OWNER_ROLE_NAME: &str = "scim_owner";
const CREATE_TEST_ROLES: &str = "DO $$ BEGIN \
     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scim_owner') THEN \
     CREATE ROLE scim_owner LOGIN NOSUPERUSER NOBYPASSRLS; END IF; \
     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scim_app') THEN \
     CREATE ROLE scim_app LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$";
/// Created once per test process (the tests of a binary run in parallel).
static TEST_ROLES: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// `postgres://postgres@h:p` -> `postgres://<user>@h:p`
fn with_user(server: &str, user: &str) -> String {
    let after_scheme = server.find("://").map_or(0, |i| i + 3);
    match server[after_scheme..].find('@') {
        Some(at) => format!("{}{user}{}", &server[..after_scheme], &server[after_scheme + at..]),
        None => format!("{}{user}@{}", &server[..after_scheme], &server[after_scheme..]),
    }
}

/// `postgres://u@h:p/db?x` -> `postgres://u@h:p`
fn server_part(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// Runs a test story, failing it (instead of hanging the run) if it takes over a minute.
/// Stories run on a multi-threaded runtime, as the server does in production.
pub async fn within_time_limit(story: impl std::future::Future<Output = ()>) {
    within_seconds(60, story).await;
}

/// The same with a limit of `seconds`, for the few stress stories whose own work (thousands
/// of requests to a debug build) takes most of a minute on a loaded two-core machine: the
/// limit catches a hang, it does not time the work.
#[allow(clippy::panic)] // test support: failing the test is the point
pub async fn within_seconds(seconds: u64, story: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(std::time::Duration::from_secs(seconds), story).await.is_err() {
        panic!("the test did not finish within {seconds} s: something waits forever");
    }
}

/// Defines one test per backend for an `async fn(TestDatabase)` story:
/// `backend_tests!(lifecycle_story);` yields `lifecycle_story::sqlite` and
/// `lifecycle_story::postgres`.
#[macro_export]
macro_rules! backend_tests {
    // A stress story with a longer limit than the minute (see `within_seconds`).
    (limit_seconds = $seconds:literal; $($story:ident),+ $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::TestDatabase::create($crate::Backend::Sqlite)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                $crate::testing::within_seconds($seconds, super::$story(db)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::testing::TestDatabase::create($crate::Backend::Postgres)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                $crate::testing::within_seconds($seconds, super::$story(db)).await;
            }
        }
    )+};
    // Every other story: a hang limit of one minute (see `within_time_limit`).
    ($($story:ident),+ $(,)?) => {
        $crate::backend_tests!(limit_seconds = 60; $($story),+);
    };
}

#[cfg(test)]
mod tests {
    use super::{server_part, with_user};

    #[test]
    fn the_user_is_replaced_or_added() {
        assert_eq!(with_user("postgres://postgres@h:1", "app"), "postgres://app@h:1");
        assert_eq!(with_user("postgres://h:1", "app"), "postgres://app@h:1");
    }

    #[test]
    fn server_part_drops_database_and_parameters() {
        assert_eq!(server_part("postgres://u@h:1/db?sslmode=disable"), "postgres://u@h:1");
        assert_eq!(server_part("postgres://u@h:1"), "postgres://u@h:1");
        assert_eq!(server_part("postgres://u@h:1/"), "postgres://u@h:1");
    }
}
