//! Local suspensions (migration 0045): a tenant admin stops a user in the vendor's product
//! while its identity provider cannot be reached. The row is the override: every change
//! record of the user published while it exists carries the suspended view
//! ([`scim::normalized::suspended_view`], applied in `publish_change`), and a de- or
//! reactivation by the identity provider is published as an update (the product's state
//! stays `suspended`). The SCIM document the identity provider reads is never touched.
//! Suspending and lifting are writes of their own, under the directory's lock like any
//! write, each with its change record and audit record in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::transaction::WriteTransaction;
use super::transaction::on_open;
use super::{
    CURRENT, Change, DirectoryData, ResourceKind, ResourceRecord, ResourceRow, WriteContext, placeholders,
    record_from_row,
};
use crate::StoreError;
use crate::audit::NewAuditRecord;

/// A user's suspension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionRecord {
    pub suspended_at: DateTime<Utc>,
    /// The audit name of who suspended it.
    pub suspended_by: String,
    pub reason: String,
}

impl SuspensionRecord {
    /// What the vendor's product reads of it.
    pub fn normalized(&self) -> scim::normalized::Suspension {
        scim::normalized::Suspension {
            suspended_at: self.suspended_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            reason: self.reason.clone(),
        }
    }
}

/// What [`DirectoryData::set_suspension`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspensionOutcome {
    /// Suspended or lifted, with its change and audit records.
    Done,
    AlreadySuspended,
    NotSuspended,
}

type SuspensionRow = (String, DateTime<Utc>, String, String);

const ONE: &str = "SELECT resource_id, suspended_at, suspended_by, reason FROM user_suspensions \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_id = $3";

fn from_row((_, suspended_at, suspended_by, reason): SuspensionRow) -> SuspensionRecord {
    SuspensionRecord { suspended_at, suspended_by, reason }
}

impl DirectoryData<'_> {
    /// The users among `ids` that are suspended, with their suspensions.
    pub async fn suspensions(&self, ids: &[String]) -> Result<HashMap<String, SuspensionRecord>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let query = format!(
            "SELECT resource_id, suspended_at, suspended_by, reason FROM user_suspensions \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_id IN ({})",
            placeholders(3, ids.len())
        );
        let rows: Vec<SuspensionRow> = as_tenant!(self, conn => {
            let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(&mut *conn).await?
        });
        Ok(rows.into_iter().map(|row| (row.0.clone(), from_row(row))).collect())
    }

    /// Suspends user `id` (`suspension` given) or lifts its suspension (`None`), with the
    /// directory locked: `compute` sees the user and the suspension it has now and answers
    /// the change record to publish as it is (the caller computes the view the product is to
    /// see) and the audit record. Nothing is written when the user is already in the state
    /// asked for.
    pub async fn set_suspension<E, F>(
        &self,
        id: &str,
        suspension: Option<&SuspensionRecord>,
        context: &WriteContext,
        compute: F,
    ) -> Result<Result<SuspensionOutcome, E>, StoreError>
    where
        F: FnOnce(&ResourceRecord, Option<&SuspensionRecord>) -> Result<(Change, NewAuditRecord), E>,
    {
        const INSERT: &str = "INSERT INTO user_suspensions \
             (tenant_id, directory_id, resource_id, suspended_at, suspended_by, reason) VALUES ($1, $2, $3, $4, $5, $6)";
        const DELETE: &str =
            "DELETE FROM user_suspensions WHERE tenant_id = $1 AND directory_id = $2 AND resource_id = $3";
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        let row: Option<ResourceRow> = on_open!(&mut write.open, tx => sqlx::query_as(CURRENT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(ResourceKind::User.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let current = record_from_row(ResourceKind::User, row);
        let existing = write.suspension(id).await?;
        match (suspension, &existing) {
            (Some(_), Some(_)) => return Ok(Ok(SuspensionOutcome::AlreadySuspended)),
            (None, None) => return Ok(Ok(SuspensionOutcome::NotSuspended)),
            _ => {}
        }
        let (change, record) = match compute(&current, existing.as_ref()) {
            Ok(computed) => computed,
            Err(error) => return Ok(Err(error)),
        };
        let (tenant, directory) = (self.tenant, self.directory);
        match suspension {
            Some(new) => on_open!(&mut write.open, tx => sqlx::query(INSERT)
                .bind(tenant)
                .bind(directory)
                .bind(id)
                .bind(new.suspended_at)
                .bind(&new.suspended_by)
                .bind(&new.reason)
                .execute(&mut **tx)
                .await
                .map(drop))?,
            None => on_open!(&mut write.open, tx => sqlx::query(DELETE)
                .bind(tenant)
                .bind(directory)
                .bind(id)
                .execute(&mut **tx)
                .await
                .map(drop))?,
        }
        write.publish_as_is(context, &change).await?;
        crate::audit::append_chained(&mut write.open, self.store.backend(), self.tenant, &[record]).await?;
        write.commit().await?;
        Ok(Ok(SuspensionOutcome::Done))
    }
}

impl WriteTransaction<'_> {
    /// User `id`'s suspension, read in this transaction.
    pub(super) async fn suspension(&mut self, id: &str) -> Result<Option<SuspensionRecord>, StoreError> {
        let row: Option<SuspensionRow> = on_open!(&mut self.open, tx => sqlx::query_as(ONE)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
        Ok(row.map(from_row))
    }

    /// A user change's kind and view as the product is to see them: while the user is
    /// suspended its view says so, and the identity provider's de- or reactivation is an
    /// update (the product's state stays `suspended`).
    pub(super) async fn as_published(
        &mut self,
        kind: super::ChangeKind,
        resource_id: &str,
        view: Option<&Value>,
    ) -> Result<(super::ChangeKind, Option<Value>), StoreError> {
        use super::ChangeKind::{UserDeactivated, UserReactivated, UserUpdated};
        let Some(view) = view.filter(|_| matches!(kind, UserUpdated | UserDeactivated | UserReactivated)) else {
            return Ok((kind, None));
        };
        let Some(suspension) = self.suspension(resource_id).await? else {
            return Ok((kind, None));
        };
        let mut view = view.clone();
        scim::normalized::suspended_view(&mut view, &suspension.normalized());
        Ok((UserUpdated, Some(view)))
    }
}
