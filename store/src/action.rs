//! An action of a person or a job in a tenant (an admin saving a mapping, an operator adding
//! a directory, the retention job pruning the trail): its writes and its one audit record
//! commit in one transaction, so the trail never lacks a change that happened nor shows
//! one that did not.
//!
//! The writes are methods of [`TenantAction`], kept beside their tables' other statements
//! (`scope.rs`, `portal.rs`, `webhooks.rs`, `audit.rs`); the only way to make them durable
//! is [`TenantAction::commit`], which takes the audit record.

use crate::audit::NewAuditRecord;
use crate::ids::{DirectoryId, TenantId};
use crate::{Store, StoreError};

pub(crate) use crate::resources::transaction::{OpenTransaction, on_open};

/// The writes of one action in one tenant, not yet durable.
pub struct TenantAction<'s> {
    pub(crate) store: &'s Store,
    pub(crate) tenant: TenantId,
    pub(crate) open: OpenTransaction<'static>,
    /// Directories whose credentials or settings changed: every process's credential
    /// cache hears of them once the change is committed.
    pub(crate) access_changed: Vec<DirectoryId>,
    /// This process's SQLite writer turn, held for the whole action.
    _turn: Option<tokio::sync::MutexGuard<'s, ()>>,
}

impl std::fmt::Debug for TenantAction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantAction").field("tenant", &self.tenant).finish()
    }
}

impl<'s> TenantAction<'s> {
    /// Opens the action's transaction; on PostgreSQL it carries the tenant for row-level
    /// security.
    pub(crate) async fn begin(store: &'s Store, tenant: TenantId) -> Result<Self, StoreError> {
        let turn = store.write_turn().await;
        let open = crate::resources::transaction::begin_for_tenant(store, tenant).await?;
        Ok(Self { store, tenant, open, access_changed: Vec::new(), _turn: turn })
    }

    /// Appends the action's record to the tenant's audit trail and makes the record and
    /// every write of the action durable together. Dropping an action without committing
    /// it rolls all of it back.
    pub async fn commit(mut self, record: NewAuditRecord) -> Result<(), StoreError> {
        crate::audit::append_chained(&mut self.open, self.store.backend(), self.tenant, &[record]).await?;
        self.finish().await
    }

    /// As [`Self::commit`], for an action that is several things at once, each with its
    /// record (a webhook answer confirming a batch of events): all records, in order, and
    /// every write, durable together. With no record nothing is committed.
    pub async fn commit_all(mut self, records: &[NewAuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        crate::audit::append_chained(&mut self.open, self.store.backend(), self.tenant, records).await?;
        self.finish().await
    }

    /// Commits the writes without a record: for storage tests that set up data and count
    /// the trail's records themselves.
    #[cfg(feature = "test-support")]
    pub async fn commit_without_audit_for_tests(self) -> Result<(), StoreError> {
        self.finish().await
    }

    /// Commits what the transaction holds (inside this crate: writes that are records
    /// themselves, or a machine's credential, which [`Self::commit`]'s callers never
    /// make), then tells every process's credential cache which directories changed.
    pub(crate) async fn finish(self) -> Result<(), StoreError> {
        on_open!(self.open, tx => tx.commit().await?);
        let scope = self.store.tenant(self.tenant);
        for directory in self.access_changed {
            scope.announce_access_change(directory).await?;
        }
        Ok(())
    }
}
