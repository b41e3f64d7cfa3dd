//! Revocation records and event receipts (migration 0028): every user deactivation and
//! deletion, written with its change record, and when the vendor's product received and
//! confirmed it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::action::{OpenTransaction, on_open};
use crate::ids::{DirectoryId, TenantId};
use crate::resources::write::ChangeEntry;
use crate::scope::TenantScope;
use crate::{StoreError, TenantAction};

/// One user's deactivation or deletion and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub directory: DirectoryId,
    /// The change record's number in its directory.
    pub seq: i64,
    pub user_id: String,
    /// The user's userName (else email, else id) at the time.
    pub user_name: String,
    /// `user.deactivated` or `user.deleted`.
    pub kind: String,
    /// When the identity provider's request was handled, and the change stored with it.
    pub changed_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// `webhook:<id>`, `operator-webhook:<id>` or `feed`.
    pub delivered_via: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    /// `api-key:<id>`, `webhook:<id>` or `operator-webhook:<id>`.
    pub applied_via: Option<String>,
}

/// Which revocations to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationQuery {
    pub directory: Option<DirectoryId>,
    /// `Some(true)`: confirmed only; `Some(false)`: not confirmed yet.
    pub applied: Option<bool>,
    /// Changed before this time only (with `applied: Some(false)`: the overdue ones).
    pub changed_before: Option<DateTime<Utc>>,
    /// A part of the user's name or id, any case.
    pub user: Option<String>,
    pub limit: i64,
}

/// What an acknowledgement found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    /// A revocation, now (or already) confirmed.
    Revocation { revocation: Revocation, already: bool },
    /// Another event, now (or already) confirmed at `applied_at`.
    Event { applied_at: DateTime<Utc>, already: bool },
}

const COLUMNS: &str = "directory_id, seq, user_id, user_name, kind, changed_at, delivered_at, delivered_via, \
     applied_at, applied_via";

type Row = (
    DirectoryId,
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

fn from_row(row: Row) -> Revocation {
    let (directory, seq, user_id, user_name, kind, changed_at, delivered_at, delivered_via, applied_at, applied_via) =
        row;
    Revocation {
        directory,
        seq,
        user_id,
        user_name,
        kind,
        changed_at,
        delivered_at,
        delivered_via,
        applied_at,
        applied_via,
    }
}

/// Whether a change kind takes a user's access away.
pub fn is_revocation(kind: &str) -> bool {
    matches!(kind, "user.deactivated" | "user.deleted")
}

/// Writes the revocation record of a change record being appended (see
/// `resources::write::append_change`).
pub(crate) async fn record_revocation(
    open: &mut OpenTransaction<'_>,
    (tenant, directory, seq): (TenantId, DirectoryId, i64),
    entry: &ChangeEntry<'_>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (kind, user_id, payload) = (entry.kind, entry.resource_id, entry.payload);
    const INSERT: &str = "INSERT INTO revocations (tenant_id, directory_id, seq, user_id, user_name, kind, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let normalized = entry.view.and_then(|view| view.get("normalized"));
    let text = |value: Option<&Value>| value.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let user_name = text(payload.get("userName"))
        .or_else(|| text(normalized.and_then(|n| n.get("username"))))
        .or_else(|| text(normalized.and_then(|n| n.get("email"))))
        .unwrap_or_else(|| user_id.to_owned());
    on_open!(&mut *open, tx => sqlx::query(INSERT)
        .bind(tenant)
        .bind(directory)
        .bind(seq)
        .bind(user_id)
        .bind(&user_name)
        .bind(kind)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map(drop))?;
    Ok(())
}

impl TenantScope<'_> {
    /// The tenant's revocations that match, newest first.
    pub async fn revocations(&self, query: &RevocationQuery) -> Result<Vec<Revocation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM revocations WHERE tenant_id = $1 \
             AND ($2 IS NULL OR directory_id = $2) \
             AND ($3 IS NULL OR ($3 = (applied_at IS NOT NULL))) \
             AND ($4 IS NULL OR changed_at < $4) \
             AND ($5 IS NULL OR LOWER(user_name) LIKE $5 OR LOWER(user_id) LIKE $5) \
             ORDER BY changed_at DESC, seq DESC LIMIT $6"
        );
        let pattern = query.user.as_ref().map(|user| format!("%{}%", user.to_lowercase().replace(['%', '_'], "")));
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .bind(query.directory)
            .bind(query.applied)
            .bind(query.changed_before)
            .bind(pattern)
            .bind(query.limit)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Notes that the revocations numbered `seqs` in `directory` reached the product (the
    /// first delivery counts).
    pub async fn mark_revocations_delivered(
        &self,
        directory: DirectoryId,
        seqs: &[i64],
        at: DateTime<Utc>,
        via: &str,
    ) -> Result<(), StoreError> {
        const UPDATE: &str = "UPDATE revocations SET delivered_at = $4, delivered_via = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND seq = $3 AND delivered_at IS NULL";
        if seqs.is_empty() {
            return Ok(());
        }
        // Bookkeeping of the deliverer, not an action of someone: no record.
        let mut action = self.begin_action().await?;
        for seq in seqs {
            on_open!(&mut action.open, tx => sqlx::query(UPDATE)
                .bind(self.tenant)
                .bind(directory)
                .bind(seq)
                .bind(at)
                .bind(via)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        action.finish().await
    }
}

impl TenantAction<'_> {
    /// Confirms that the product applied the event numbered `seq` in `directory` (a change
    /// record that exists: the caller checked). A repeat keeps the first confirmation. A
    /// revocation not noted as delivered yet is delivered at `delivered_at` (the webhook
    /// answer that carried the confirmation, or the confirmation itself).
    pub async fn acknowledge_event(
        &mut self,
        directory: DirectoryId,
        seq: i64,
        at: DateTime<Utc>,
        delivered_at: DateTime<Utc>,
        via: &str,
    ) -> Result<Acknowledged, StoreError> {
        const APPLY: &str = "UPDATE revocations SET applied_at = $4, applied_via = $5, \
             delivered_at = COALESCE(delivered_at, $6), delivered_via = COALESCE(delivered_via, $5) \
             WHERE tenant_id = $1 AND directory_id = $2 AND seq = $3 AND applied_at IS NULL";
        const RECEIPT: &str = "INSERT INTO event_receipts (tenant_id, directory_id, seq, applied_at, applied_via) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, directory_id, seq) DO NOTHING";
        const RECEIPT_AT: &str =
            "SELECT applied_at FROM event_receipts WHERE tenant_id = $1 AND directory_id = $2 AND seq = $3";
        let revocation =
            format!("SELECT {COLUMNS} FROM revocations WHERE tenant_id = $1 AND directory_id = $2 AND seq = $3");
        let applied = on_open!(&mut self.open, tx => sqlx::query(APPLY)
            .bind(self.tenant)
            .bind(directory)
            .bind(seq)
            .bind(at)
            .bind(via)
            .bind(delivered_at.min(at))
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        let row: Option<Row> = on_open!(&mut self.open, tx => sqlx::query_as(&revocation)
            .bind(self.tenant)
            .bind(directory)
            .bind(seq)
            .fetch_optional(&mut **tx)
            .await)?;
        if let Some(row) = row {
            return Ok(Acknowledged::Revocation { revocation: from_row(row), already: applied == 0 });
        }
        let inserted = on_open!(&mut self.open, tx => sqlx::query(RECEIPT)
            .bind(self.tenant)
            .bind(directory)
            .bind(seq)
            .bind(at)
            .bind(via)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        let applied_at: DateTime<Utc> = on_open!(&mut self.open, tx => sqlx::query_scalar(RECEIPT_AT)
            .bind(self.tenant)
            .bind(directory)
            .bind(seq)
            .fetch_one(&mut **tx)
            .await)?;
        Ok(Acknowledged::Event { applied_at, already: inserted == 0 })
    }
}
