//! The transactions the resources are written in, and the connections they are read on.
//!
//! A write waits for its [`WriteTurn`] (this process's SQLite writer turn, or the batch it
//! belongs to), then begins its [`WriteTransaction`] in it: a transaction of its own that
//! carries the tenant (PostgreSQL) and has locked the directory's row, or a savepoint of
//! the batch's transaction, which already holds that lock. Dropping a write transaction
//! uncommitted rolls it back (to its savepoint, in a batch).

use crate::ids::{DirectoryId, TenantId};
use crate::{Pool, Store, StoreError};

use super::DirectoryData;
use super::write::DeferredChanges;

/// Locks the directory for this transaction, answering its last change number; no row
/// means the directory is gone (or deleted: a write that waited for the deletion's lock
/// finds nothing to write to).
const LOCK_DIRECTORY: &str = "UPDATE directories SET change_seq = change_seq \
     WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING change_seq";

/// PostgreSQL's row-level security on the SCIM tables reads the tenant from `app.tenant_id`
/// (migration 0006): for the rest of a write transaction, or for a read connection's
/// checkout (see [`ScopedConnection`]).
const SET_TENANT_FOR_TRANSACTION: &str = "SELECT set_config('app.tenant_id', $1, true)";
const SET_TENANT_FOR_CONNECTION: &str = "SELECT set_config('app.tenant_id', $1, false)";
const RESET_TENANT: &str = "RESET app.tenant_id";
/// The lookups and jobs that cannot know their tenant beforehand say so (migration 0039).
const SET_DEPLOYMENT_WIDE: &str = "SELECT set_config('app.deployment_wide', 'on', false)";
const RESET_DEPLOYMENT_WIDE: &str = "RESET app.deployment_wide";

/// An open transaction (or savepoint) on either backend; `'static` when it owns its
/// pooled connection, shorter when it is a savepoint borrowing a batch's transaction.
pub(crate) enum OpenTransaction<'c> {
    Sqlite(sqlx::Transaction<'c, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'c, sqlx::Postgres>),
}

/// Runs `$body` on an open transaction, whichever backend it is on (the transaction's twin
/// of `on_pool!`). `$body` is compiled once per backend and must have the same type on
/// both: a statement's result is reduced to what the caller needs (rows affected, decoded
/// rows) inside it, and its `?` stays outside.
macro_rules! on_open {
    ($open:expr, $tx:ident => $body:expr) => {
        match $open {
            $crate::resources::transaction::OpenTransaction::Sqlite($tx) => $body,
            $crate::resources::transaction::OpenTransaction::Postgres($tx) => $body,
        }
    };
}
pub(crate) use on_open;

impl OpenTransaction<'_> {
    pub(crate) fn backend(&self) -> crate::Backend {
        match self {
            OpenTransaction::Sqlite(_) => crate::Backend::Sqlite,
            OpenTransaction::Postgres(_) => crate::Backend::Postgres,
        }
    }
}

/// Begins a transaction on the store's write pool that carries the tenant (PostgreSQL).
pub(crate) async fn begin_for_tenant(store: &Store, tenant: TenantId) -> Result<OpenTransaction<'static>, StoreError> {
    Ok(match &store.write_pool {
        Pool::Sqlite(pool) => OpenTransaction::Sqlite(pool.begin().await?),
        Pool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query(SET_TENANT_FOR_TRANSACTION).bind(tenant.to_string()).execute(&mut *tx).await?;
            OpenTransaction::Postgres(tx)
        }
    })
}

/// Begins a transaction on the store's write pool that carries the tenant (PostgreSQL) and has
/// locked the directory's row; `NotFound` when the directory is gone. Also answers the
/// directory's last change number, which no other write can move until this one ends.
async fn begin_locked(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<(OpenTransaction<'static>, i64), StoreError> {
    let mut open = begin_for_tenant(store, tenant).await?;
    let last_seq: Option<i64> = on_open!(&mut open, tx => sqlx::query_scalar(LOCK_DIRECTORY)
        .bind(tenant)
        .bind(directory)
        .fetch_optional(&mut **tx)
        .await)?;
    let last_seq = last_seq.ok_or(StoreError::NotFound)?;
    Ok((open, last_seq))
}

/// One transaction shared by several writes of a directory, committed (or, when dropped
/// uncommitted, rolled back) as a whole. It holds the directory's lock from its start to
/// its end, as a single write does; reads by id through [`WriteBatch::data`] see its
/// uncommitted writes.
///
/// Because nothing else writes the directory meanwhile, the batch keeps what each write
/// would otherwise read or write again (the brake's state, the directory's change number)
/// and writes its change records together when it commits (see [`BatchState`]): a Bulk
/// request's operations hold the database's writer for fewer statements each.
pub struct WriteBatch {
    store: Store,
    tenant: TenantId,
    directory: DirectoryId,
    state: tokio::sync::Mutex<BatchState>,
    /// This process's SQLite writer turn, held for the whole batch.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatch").field("tenant", &self.tenant).field("directory", &self.directory).finish()
    }
}

impl WriteBatch {
    /// The directory's data as seen from inside the batch.
    pub fn data(&self) -> DirectoryData<'_> {
        DirectoryData { store: &self.store, tenant: self.tenant, directory: self.directory, batch: Some(self) }
    }

    /// Writes the change records the batch's writes made, then makes every write of the
    /// batch durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        let BatchState { mut open, changes, .. } = self.state.into_inner();
        changes.write(&mut open, self.tenant, self.directory).await?;
        on_open!(open, tx => tx.commit().await)?;
        self.store.committed();
        Ok(())
    }

    /// The batch's state and open transaction, once no other write of the batch is using
    /// them.
    pub(super) async fn state(&self) -> tokio::sync::MutexGuard<'_, BatchState> {
        self.state.lock().await
    }
}

/// A batch's open transaction, and what its writes so far leave to the next write and to
/// the batch's commit. A write in the batch starts from it and hands its own back only
/// when it commits (releases its savepoint): one that rolled back leaves nothing behind.
pub(super) struct BatchState {
    pub(super) open: OpenTransaction<'static>,
    /// The directory's brake as the batch's last write left it, once read.
    brake: Option<super::brake::BrakeState>,
    changes: DeferredChanges,
}

impl<'a> DirectoryData<'a> {
    /// Opens a transaction for several writes of this directory (see [`WriteBatch`]);
    /// `NotFound` when the directory is gone.
    pub async fn begin_batch(&self) -> Result<WriteBatch, StoreError> {
        let turn = match &self.store.pool {
            Pool::Sqlite(_) => Some(std::sync::Arc::clone(&self.store.sqlite_writer).lock_owned().await),
            Pool::Postgres(_) => None,
        };
        let (open, last_seq) = begin_locked(self.store, self.tenant, self.directory).await?;
        let state = BatchState { open, brake: None, changes: DeferredChanges::after(last_seq) };
        Ok(WriteBatch {
            store: self.store.clone(),
            tenant: self.tenant,
            directory: self.directory,
            state: tokio::sync::Mutex::new(state),
            _turn: turn,
        })
    }

    /// Waits until this directory may be written: for this process's SQLite writer turn
    /// (nothing to wait for on PostgreSQL), or in a batch for the batch's transaction.
    pub(super) async fn write_turn(&self) -> WriteTurn<'a> {
        let held = match self.batch {
            Some(batch) => Held::Batch(batch.state().await),
            None => Held::Alone { _sqlite_turn: self.store.write_turn().await },
        };
        WriteTurn { data: *self, held }
    }
}

/// The right to write a directory, held while its [`WriteTransaction`] runs.
pub(super) struct WriteTurn<'a> {
    data: DirectoryData<'a>,
    held: Held<'a>,
}

enum Held<'a> {
    /// A write of its own, with this process's SQLite writer turn (none on PostgreSQL).
    Alone { _sqlite_turn: Option<tokio::sync::MutexGuard<'a, ()>> },
    /// A write inside a batch: the batch's transaction, which already holds the lock.
    Batch(tokio::sync::MutexGuard<'a, BatchState>),
}

impl WriteTurn<'_> {
    /// Begins the write's transaction: alone, one that carries the tenant and has locked
    /// the directory (`NotFound` when the directory is gone); in a batch, a savepoint of
    /// the batch's transaction.
    pub(super) async fn begin(&mut self) -> Result<WriteTransaction<'_>, StoreError> {
        let DirectoryData { store, tenant, directory, .. } = self.data;
        match &mut self.held {
            Held::Alone { .. } => {
                let (open, _) = begin_locked(store, tenant, directory).await?;
                Ok(WriteTransaction {
                    tenant,
                    directory,
                    open,
                    ends: Ends::Alone(store),
                    store,
                    brake: None,
                    hold: None,
                })
            }
            Held::Batch(batch) => {
                let BatchState { open: outer, brake, changes } = &mut **batch;
                let open = match outer {
                    OpenTransaction::Sqlite(outer) => {
                        OpenTransaction::Sqlite(sqlx::Acquire::begin(&mut **outer).await?)
                    }
                    OpenTransaction::Postgres(outer) => {
                        OpenTransaction::Postgres(sqlx::Acquire::begin(&mut **outer).await?)
                    }
                };
                // The write starts from the batch's state; `ends` hands its own back.
                let start = *brake;
                let ends = Ends::InBatch { deferred: changes.next_write(), batch_brake: brake, batch_changes: changes };
                Ok(WriteTransaction { tenant, directory, open, ends, store, brake: start, hold: None })
            }
        }
    }
}

/// How a [`WriteTransaction`] ends, and what it hands on when it commits.
pub(super) enum Ends<'t> {
    /// A write of its own: its commit wakes the change feed's readers of this store.
    Alone(&'t Store),
    /// A savepoint of a batch, whose commit tells the readers. Its change records wait in
    /// `deferred` (numbered after the batch's); committing hands them and the brake's
    /// state on to the batch.
    InBatch {
        deferred: DeferredChanges,
        batch_brake: &'t mut Option<super::brake::BrakeState>,
        batch_changes: &'t mut DeferredChanges,
    },
}

/// The open transaction of one write of a directory; its steps (in `write`) run in it.
pub(super) struct WriteTransaction<'t> {
    pub(super) tenant: TenantId,
    pub(super) directory: DirectoryId,
    pub(super) open: OpenTransaction<'t>,
    pub(super) ends: Ends<'t>,
    pub(super) store: &'t Store,
    /// The directory's safety brake, once read (see `brake`).
    pub(super) brake: Option<super::brake::BrakeState>,
    /// The held batch this write's change records go to, when the brake holds it.
    pub(super) hold: Option<i64>,
}

impl WriteTransaction<'_> {
    /// Makes the write durable and wakes the change feed's readers; in a batch, makes it
    /// part of the batch, whose commit does both.
    pub(super) async fn commit(self) -> Result<(), StoreError> {
        on_open!(self.open, tx => tx.commit().await)?;
        match self.ends {
            Ends::Alone(store) => store.committed(),
            Ends::InBatch { deferred, batch_brake, batch_changes } => {
                *batch_brake = self.brake;
                batch_changes.absorb(deferred);
            }
        }
        Ok(())
    }
}

/// A pooled PostgreSQL connection checked out with a row-level security setting for the
/// statements of one call: a tenant ([`for_tenant`](Self::for_tenant), see `as_tenant!`),
/// or every tenant's rows of the credential and people tables
/// ([`deployment_wide`](Self::deployment_wide), for the few lookups that find the tenant
/// and the deployment's own jobs, see `as_deployment!`). No pooled connection may keep the
/// setting after its checkout (a query that forgot to set one must see nothing), so
/// [`release`](Self::release) resets it, and a checkout that ends any other way (an error,
/// a cancelled request) closes the connection instead of returning it to the pool.
pub(crate) struct ScopedConnection {
    pub(crate) connection: sqlx::pool::PoolConnection<sqlx::Postgres>,
    /// The statement that clears the setting.
    reset_with: &'static str,
    reset: bool,
}

impl ScopedConnection {
    pub(crate) async fn for_tenant(pool: &sqlx::PgPool, tenant: TenantId) -> Result<Self, StoreError> {
        Self::checkout(pool, sqlx::query(SET_TENANT_FOR_CONNECTION).bind(tenant.to_string()), RESET_TENANT).await
    }

    pub(crate) async fn deployment_wide(pool: &sqlx::PgPool) -> Result<Self, StoreError> {
        Self::checkout(pool, sqlx::query(SET_DEPLOYMENT_WIDE), RESET_DEPLOYMENT_WIDE).await
    }

    async fn checkout(
        pool: &sqlx::PgPool,
        set: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        reset_with: &'static str,
    ) -> Result<Self, StoreError> {
        let connection = pool.acquire().await?;
        let mut checkout = Self { connection, reset_with, reset: false };
        set.execute(&mut *checkout.connection).await?;
        Ok(checkout)
    }

    pub(crate) async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query(self.reset_with).execute(&mut *self.connection).await?;
        self.reset = true;
        Ok(())
    }
}

impl Drop for ScopedConnection {
    fn drop(&mut self) {
        if !self.reset {
            self.connection.close_on_drop();
        }
    }
}
