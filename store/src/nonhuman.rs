//! Non-human identities (service accounts and agents): the row of `scim_nonhuman`
//! (migration 0017) each user with the extension
//! `urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User` has, written by the resource
//! writes in their transaction (`write_nonhuman` in `resources::write`), and the reads the
//! expiry sweeper and the owner flags make from it without scanning documents.

use chrono::{DateTime, Utc};
use scim::nonhuman::{NonHuman, NonHumanKind};
use serde_json::Value;

use crate::action::on_open;
use crate::ids::DirectoryId;
use crate::{Backend, StoreError, TenantAction, TenantScope};

/// Removes a user's row, answering the owner it named.
pub(crate) const DELETE_ROW: &str =
    "DELETE FROM scim_nonhuman WHERE tenant_id = $1 AND directory_id = $2 AND resource_id = $3 RETURNING owner_id";
const INSERT_ROW: &str = "INSERT INTO scim_nonhuman \
     (tenant_id, directory_id, resource_id, kind, owner_id, expires_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// Whether the directory offers the extension (migration 0043).
pub(crate) const OFFERED: &str = "SELECT nonhuman_extension FROM directories WHERE tenant_id = $1 AND id = $2";
/// The owner, if it is a user of the directory.
pub(crate) const OWNER: &str = "SELECT id FROM scim_resources \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User' AND id = $3";

/// Adds user `id`'s row to `scim_nonhuman`.
pub(crate) async fn insert_row(
    open: &mut crate::action::OpenTransaction<'_>,
    tenant: crate::TenantId,
    directory: DirectoryId,
    id: &str,
    row: &Row,
) -> Result<(), StoreError> {
    on_open!(open, tx => sqlx::query(INSERT_ROW)
        .bind(tenant)
        .bind(directory)
        .bind(id)
        .bind(row.kind.as_str())
        .bind(row.owner.as_deref())
        .bind(row.expires_at)
        .bind(row.active)
        .execute(&mut **tx)
        .await
        .map(drop))?;
    Ok(())
}

/// What `scim_nonhuman` keeps of a user.
pub(crate) struct Row {
    pub(crate) kind: NonHumanKind,
    pub(crate) owner: Option<String>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) active: bool,
}

/// The row of a user document; `None` without the extension. Documents reach the store
/// validated (`scim::validate` rejects a malformed extension), so one that does not parse
/// is indexed as no identity rather than failing the write.
pub(crate) fn row_of(doc: &Value) -> Option<Row> {
    let object = doc.as_object()?;
    let NonHuman { kind, owner, expires_at } = NonHuman::of(object).ok()??;
    let active = object.get("active").and_then(Value::as_bool).unwrap_or(true);
    Some(Row { kind, owner, expires_at, active })
}

/// How an identity's owner stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// The identity names no owner.
    NoOwner,
    Active,
    /// The owner's `active` is false.
    Deactivated,
    /// The owner was deleted.
    Gone,
}

impl OwnerState {
    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "none" => OwnerState::NoOwner,
            "active" => OwnerState::Active,
            "deactivated" => OwnerState::Deactivated,
            "gone" => OwnerState::Gone,
            other => return Err(StoreError::Corrupt(format!("unknown owner state {other:?}"))),
        })
    }

    /// Whether the identity needs a person's attention: nobody active answers for it.
    pub fn is_flagged(self) -> bool {
        matches!(self, OwnerState::Deactivated | OwnerState::Gone)
    }
}

/// A non-human identity as the dashboard and the support console list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonHumanIdentity {
    pub directory: DirectoryId,
    pub id: String,
    pub user_name: String,
    pub kind: NonHumanKind,
    pub active: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub owner_id: Option<String>,
    /// The owner's userName, while the owner exists.
    pub owner_name: Option<String>,
    pub owner_state: OwnerState,
}

/// An active identity past its expiry, for the sweeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredIdentity {
    pub directory: DirectoryId,
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

type IdentityRow =
    (DirectoryId, String, String, String, bool, Option<DateTime<Utc>>, Option<String>, Option<String>, String);

/// The identities with their owners; `{directory}` and `{flagged}` are conditions, the
/// owner's `active` is read from its document by the backend's JSON operator.
fn identities_sql(backend: Backend, directory: bool, flagged_only: bool) -> String {
    let owner_inactive = match backend {
        Backend::Sqlite => "json_extract(o.doc, '$.active') = 0",
        Backend::Postgres => "o.doc -> 'active' = 'false'::jsonb",
    };
    let owner_state = format!(
        "CASE WHEN n.owner_id IS NULL THEN 'none' WHEN o.id IS NULL THEN 'gone' \
         WHEN {owner_inactive} THEN 'deactivated' ELSE 'active' END"
    );
    let mut conditions = format!("n.tenant_id = $1 AND {}", in_use("n"));
    if directory {
        conditions.push_str(" AND n.directory_id = $3");
    }
    if flagged_only {
        conditions.push_str(&format!(" AND n.owner_id IS NOT NULL AND (o.id IS NULL OR {owner_inactive})"));
    }
    format!(
        "SELECT n.directory_id, n.resource_id, r.name, n.kind, n.active, n.expires_at, n.owner_id, o.name, \
         {owner_state} \
         FROM scim_nonhuman n \
         JOIN scim_resources r ON r.tenant_id = n.tenant_id AND r.directory_id = n.directory_id \
         AND r.id = n.resource_id \
         LEFT JOIN scim_resources o ON o.tenant_id = n.tenant_id AND o.directory_id = n.directory_id \
         AND o.id = n.owner_id AND o.resource_type = 'User' \
         WHERE {conditions} ORDER BY n.directory_id, r.name_folded, n.resource_id LIMIT $2"
    )
}

/// The condition that the directory of the `scim_nonhuman` row `alias` is in use: a deleted
/// directory's identities wait for its purge, neither expired by the sweeper nor flagged.
fn in_use(alias: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM directories d WHERE d.tenant_id = {alias}.tenant_id \
         AND d.id = {alias}.directory_id AND d.deleted_at IS NOT NULL)"
    )
}

/// The sweeper's read: a tenant's (`$1`) active identities expired at `$2`, at most `$3`.
fn expired_identities_sql() -> String {
    format!(
        "SELECT directory_id, resource_id, expires_at FROM scim_nonhuman n \
         WHERE tenant_id = $1 AND active AND expires_at IS NOT NULL AND expires_at <= $2 AND {} \
         ORDER BY expires_at, directory_id, resource_id LIMIT $3",
        in_use("n")
    )
}

/// What happens to a directory's non-human identities when their owner is deactivated or
/// deleted (migration 0042).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OwnerPolicy {
    /// They stay as they are, flagged on the dashboard and in the support console.
    #[default]
    Flag,
    /// They are deactivated.
    Deactivate,
    /// Their owner becomes this user (an id of the same directory).
    Reassign { fallback_owner: String },
}

impl OwnerPolicy {
    pub fn as_str(&self) -> &'static str {
        match self {
            OwnerPolicy::Flag => "flag",
            OwnerPolicy::Deactivate => "deactivate",
            OwnerPolicy::Reassign { .. } => "reassign",
        }
    }
}

fn owner_policy_from_row((policy, fallback_owner): (String, Option<String>)) -> Result<OwnerPolicy, StoreError> {
    match (policy.as_str(), fallback_owner) {
        ("deactivate", _) => Ok(OwnerPolicy::Deactivate),
        ("reassign", Some(fallback_owner)) => Ok(OwnerPolicy::Reassign { fallback_owner }),
        (other, _) => Err(StoreError::Corrupt(format!("unknown owner policy {other:?}"))),
    }
}

impl TenantScope<'_> {
    /// A directory's owner policy ([`OwnerPolicy::Flag`] unless one was set).
    pub async fn owner_policy(&self, directory: DirectoryId) -> Result<OwnerPolicy, StoreError> {
        const QUERY: &str = "SELECT policy, fallback_owner FROM nonhuman_owner_policies \
             WHERE tenant_id = $1 AND directory_id = $2";
        let row: Option<(String, Option<String>)> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_optional(&mut *conn)
            .await?);
        row.map_or(Ok(OwnerPolicy::Flag), owner_policy_from_row)
    }

    /// The tenant's directories in use whose policy is not [`OwnerPolicy::Flag`].
    pub async fn owner_policies(&self) -> Result<Vec<(DirectoryId, OwnerPolicy)>, StoreError> {
        let query = format!(
            "SELECT n.directory_id, n.policy, n.fallback_owner FROM nonhuman_owner_policies n \
             WHERE n.tenant_id = $1 AND {} ORDER BY n.directory_id",
            in_use("n")
        );
        let rows: Vec<(DirectoryId, String, Option<String>)> =
            as_tenant!(self, conn => sqlx::query_as(&query).bind(self.tenant).fetch_all(&mut *conn).await?);
        rows.into_iter()
            .map(|(directory, policy, fallback)| Ok((directory, owner_policy_from_row((policy, fallback))?)))
            .collect()
    }

    /// The identities of one directory whose owner is deactivated or deleted (at most
    /// `limit`), for the sweeper to apply the directory's owner policy to.
    pub async fn ownerless_in_directory(
        &self,
        directory: DirectoryId,
        limit: i64,
    ) -> Result<Vec<NonHumanIdentity>, StoreError> {
        self.identities_of(directory, true, limit).await
    }

    /// The non-human identities of one directory (at most `limit`, by userName), each with
    /// its owner's state.
    pub async fn nonhuman_identities(
        &self,
        directory: DirectoryId,
        limit: i64,
    ) -> Result<Vec<NonHumanIdentity>, StoreError> {
        self.identities_of(directory, false, limit).await
    }

    async fn identities_of(
        &self,
        directory: DirectoryId,
        flagged_only: bool,
        limit: i64,
    ) -> Result<Vec<NonHumanIdentity>, StoreError> {
        let sql = identities_sql(self.store.backend(), true, flagged_only);
        let rows: Vec<IdentityRow> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .bind(limit)
            .bind(directory)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(identity_from_row).collect()
    }

    /// The tenant's non-human identities whose owner is deactivated or deleted, in every
    /// directory (at most `limit`), read through the owner index.
    pub async fn ownerless_nonhuman_identities(&self, limit: i64) -> Result<Vec<NonHumanIdentity>, StoreError> {
        let sql = identities_sql(self.store.backend(), false, true);
        let rows: Vec<IdentityRow> =
            as_tenant!(self, conn => sqlx::query_as(&sql).bind(self.tenant).bind(limit).fetch_all(&mut *conn).await?);
        rows.into_iter().map(identity_from_row).collect()
    }

    /// The tenant's active non-human identities whose expiry is at or before `now`, oldest
    /// expiry first (at most `limit`), read through the expiry index.
    pub async fn expired_nonhuman_identities(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ExpiredIdentity>, StoreError> {
        let query = expired_identities_sql();
        let rows: Vec<(DirectoryId, String, DateTime<Utc>)> = as_tenant!(self, conn => sqlx::query_as(&query)
            .bind(self.tenant)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows.into_iter().map(|(directory, id, expires_at)| ExpiredIdentity { directory, id, expires_at }).collect())
    }
}

#[cfg(feature = "test-support")]
impl TenantScope<'_> {
    /// The query plans of the sweeper's read and of the support console's read, for tests
    /// that both search by index instead of scanning the tenant's identities or users. On
    /// PostgreSQL, with sequential scans discouraged (on a handful of rows the planner
    /// rightly prefers them): the plans show that an index can answer.
    pub async fn explain_nonhuman_reads(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let expired = expired_identities_sql().replace("$3", "100");
        let backend = self.store.backend();
        let ownerless = identities_sql(backend, false, true).replace("$2", "100");
        let mut plans = Vec::new();
        for (sql, with_time) in [(expired.as_str(), true), (ownerless.as_str(), false)] {
            let lines: Vec<String> = match &self.store.pool {
                crate::Pool::Sqlite(pool) => {
                    let explained = format!("EXPLAIN QUERY PLAN {sql}");
                    let query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explained).bind(self.tenant);
                    let query = if with_time { query.bind(now) } else { query };
                    query.fetch_all(pool).await?.into_iter().map(|(_, _, _, detail)| detail).collect()
                }
                crate::Pool::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
                    let explained = format!("EXPLAIN {sql}");
                    let query = sqlx::query_as::<_, (String,)>(&explained).bind(self.tenant);
                    let query = if with_time { query.bind(now) } else { query };
                    let lines = query.fetch_all(&mut *tx).await?.into_iter().map(|(line,)| line).collect();
                    tx.rollback().await?;
                    lines
                }
            };
            plans.push(lines.join("\n"));
        }
        Ok(plans)
    }
}

fn identity_from_row(
    (directory, id, user_name, kind, active, expires_at, owner_id, owner_name, owner_state): IdentityRow,
) -> Result<NonHumanIdentity, StoreError> {
    Ok(NonHumanIdentity {
        directory,
        id,
        user_name,
        kind: NonHumanKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown identity kind {kind:?}")))?,
        active,
        expires_at,
        owner_id,
        owner_name,
        owner_state: OwnerState::parse(&owner_state)?,
    })
}

impl TenantAction<'_> {
    /// Sets a directory's owner policy; false when the tenant has no such directory in use.
    pub async fn set_owner_policy(
        &mut self,
        directory: DirectoryId,
        policy: &OwnerPolicy,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const EXISTS: &str = "SELECT COUNT(*) FROM directories WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        const DELETE: &str = "DELETE FROM nonhuman_owner_policies WHERE tenant_id = $1 AND directory_id = $2";
        const UPSERT: &str = "INSERT INTO nonhuman_owner_policies \
             (tenant_id, directory_id, policy, fallback_owner, changed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, directory_id) DO UPDATE SET policy = excluded.policy, \
             fallback_owner = excluded.fallback_owner, changed_at = excluded.changed_at";
        let tenant = self.tenant;
        let fallback = match policy {
            OwnerPolicy::Reassign { fallback_owner } => Some(fallback_owner.clone()),
            OwnerPolicy::Flag | OwnerPolicy::Deactivate => None,
        };
        on_open!(&mut self.open, tx => {
            let exists: i64 = sqlx::query_scalar(EXISTS).bind(tenant).bind(directory).fetch_one(&mut **tx).await?;
            if exists == 0 {
                return Ok(false);
            }
            match policy {
                OwnerPolicy::Flag => {
                    sqlx::query(DELETE).bind(tenant).bind(directory).execute(&mut **tx).await?;
                }
                OwnerPolicy::Deactivate | OwnerPolicy::Reassign { .. } => {
                    sqlx::query(UPSERT)
                        .bind(tenant)
                        .bind(directory)
                        .bind(policy.as_str())
                        .bind(&fallback)
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        });
        Ok(true)
    }
}

/// What [`TenantAction::set_nonhuman_extension`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonhumanExtensionChange {
    /// The tenant has no such directory in use.
    NoDirectory,
    /// Not turned off: this many users of the directory are service accounts or agents,
    /// whose expiry and owners would no longer be watched.
    InUse { identities: i64 },
    /// In force now; turning it on indexed this many users that already carried the
    /// extension's attributes (kept as undeclared while it was off).
    Changed { indexed: u64 },
}

impl TenantAction<'_> {
    /// Turns a directory's non-human identity extension on or off (migration 0043), with
    /// the directory locked as a SCIM write locks it, so no write sees half of the change.
    /// Off is refused while any user of the directory is a service account or agent. On
    /// indexes the users whose documents already carry the extension: they become
    /// identities the sweeper and the owner flags see (one whose attributes do not read as
    /// an identity, say an unknown `kind`, is left a plain user).
    pub async fn set_nonhuman_extension(
        &mut self,
        directory: DirectoryId,
        offered: bool,
    ) -> Result<NonhumanExtensionChange, StoreError> {
        const LOCK: &str = "UPDATE directories SET change_seq = change_seq \
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        const CURRENT: &str = "SELECT nonhuman_extension FROM directories WHERE tenant_id = $1 AND id = $2";
        // The users carrying the extension, and the agents and applications that only a
        // directory offering non-human identities serves (off, they could not be reached).
        const IDENTITIES: &str = "SELECT (SELECT COUNT(*) FROM scim_nonhuman WHERE tenant_id = $1 AND directory_id = $2) \
             + (SELECT COUNT(*) FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 \
                AND resource_type IN ('Agent', 'AgenticApplication'))";
        const SET: &str = "UPDATE directories SET nonhuman_extension = $3 WHERE tenant_id = $1 AND id = $2";
        let tenant = self.tenant;
        let locked = on_open!(&mut self.open, tx =>
            sqlx::query(LOCK).bind(tenant).bind(directory).execute(&mut **tx).await?.rows_affected());
        if locked == 0 {
            return Ok(NonhumanExtensionChange::NoDirectory);
        }
        let current: bool = on_open!(&mut self.open, tx => sqlx::query_scalar(CURRENT).bind(tenant).bind(directory).fetch_one(&mut **tx).await?);
        if current == offered {
            return Ok(NonhumanExtensionChange::Changed { indexed: 0 });
        }
        if !offered {
            let identities: i64 = on_open!(&mut self.open, tx =>
                sqlx::query_scalar(IDENTITIES).bind(tenant).bind(directory).fetch_one(&mut **tx).await?);
            if identities > 0 {
                return Ok(NonhumanExtensionChange::InUse { identities });
            }
        }
        on_open!(&mut self.open, tx =>
            sqlx::query(SET).bind(tenant).bind(directory).bind(offered).execute(&mut **tx).await.map(drop))?;
        self.access_changed.push(directory);
        let indexed = if offered { self.index_nonhuman(directory).await? } else { 0 };
        Ok(NonhumanExtensionChange::Changed { indexed })
    }

    /// Indexes the users of a directory whose documents carry the extension, which were
    /// written while it was off; answers how many.
    async fn index_nonhuman(&mut self, directory: DirectoryId) -> Result<u64, StoreError> {
        // The documents are JSON text on SQLite and JSONB on PostgreSQL; LIKE on the text
        // finds the candidates, and `row_of` reads each one exactly.
        let document_text = match self.open.backend() {
            Backend::Sqlite => "doc",
            Backend::Postgres => "doc::text",
        };
        let query = format!(
            "SELECT id, doc FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 \
             AND resource_type = 'User' AND {document_text} LIKE $3"
        );
        let pattern = format!("%\"{}\"%", scim::schema::builtin::NONHUMAN_USER);
        let tenant = self.tenant;
        let candidates: Vec<(String, sqlx::types::Json<Value>)> = on_open!(&mut self.open, tx =>
            sqlx::query_as(&query).bind(tenant).bind(directory).bind(&pattern).fetch_all(&mut **tx).await?);
        let mut indexed = 0;
        for (id, doc) in candidates {
            let Some(row) = row_of(&doc.0) else { continue };
            insert_row(&mut self.open, tenant, directory, &id, &row).await?;
            indexed += 1;
        }
        Ok(indexed)
    }
}
