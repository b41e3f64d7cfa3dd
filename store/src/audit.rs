//! The audit trail of a tenant (migration 0013): append-only records chained by SHA-256,
//! so that editing, deleting or reordering one is detected by [`TenantScope::verify_audit_chain`].
//!
//! A record's hash covers every column (each length-prefixed, so no two records encode
//! alike) and the previous record's hash; the first record links to 32 zero bytes. The
//! chain head (the last sequence number and hash) is kept apart, so that deleting the
//! newest records is detected too.

use crate::action::on_open;
use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::ids::{AuditId, DirectoryId};
use crate::scope::TenantScope;

/// Whether the recorded request or action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "success" => Ok(AuditOutcome::Success),
            "failure" => Ok(AuditOutcome::Failure),
            other => Err(StoreError::Corrupt(format!("unknown audit outcome {other:?}"))),
        }
    }
}

/// A record to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditRecord {
    pub occurred_at: DateTime<Utc>,
    /// `token:<id>` (an identity provider), `operator:<id>`, `cli`, `system`.
    pub actor: String,
    /// What happened: `scim.request`, `directory.created`, `token.revoked`…
    pub action: String,
    pub directory: Option<DirectoryId>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<i64>,
    pub resource_id: Option<String>,
    pub outcome: AuditOutcome,
    /// Anything else worth keeping (for a failed request: its body with secrets redacted,
    /// and the response).
    pub detail: serde_json::Value,
}

/// Which records an audit page shows; every field narrows the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Records before this time.
    pub until: Option<DateTime<Utc>>,
    pub outcome: Option<AuditOutcome>,
    /// The start of an action (`token` finds `token.revoked` and `token.issued`) or, for
    /// SCIM requests, an HTTP method.
    pub operation: Option<String>,
    /// Records about any of these users or groups (by id); empty: any.
    pub resource_ids: Vec<String>,
    pub directory: Option<DirectoryId>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: AuditId,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub directory: Option<DirectoryId>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<i64>,
    pub resource_id: Option<String>,
    pub outcome: AuditOutcome,
    /// JSON, exactly as hashed.
    pub detail: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// The hash this record's content and link call for.
    pub fn expected_hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        let mut field = |bytes: Option<&[u8]>| match bytes {
            // Length-prefixed; absent values get a length no present value can have.
            Some(bytes) => {
                hasher.update((bytes.len() as u64).to_be_bytes());
                hasher.update(bytes);
            }
            None => hasher.update(u64::MAX.to_be_bytes()),
        };
        field(Some(&self.seq.to_be_bytes()));
        field(Some(self.id.to_string().as_bytes()));
        field(Some(timestamp(self.occurred_at).as_bytes()));
        field(Some(self.actor.as_bytes()));
        field(Some(self.action.as_bytes()));
        field(self.directory.map(|d| d.to_string()).as_deref().map(str::as_bytes));
        field(self.method.as_deref().map(str::as_bytes));
        field(self.path.as_deref().map(str::as_bytes));
        field(self.status.map(i32::to_be_bytes).as_ref().map(|b| &b[..]));
        field(self.latency_ms.map(i64::to_be_bytes).as_ref().map(|b| &b[..]));
        field(self.resource_id.as_deref().map(str::as_bytes));
        field(Some(self.outcome.as_str().as_bytes()));
        field(Some(self.detail.as_bytes()));
        field(Some(&self.prev_hash));
        hasher.finalize().into()
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The first place where a tenant's chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record numbered `expected` is missing (deleted, or moved to `found`).
    Gap { expected: i64, found: i64 },
    /// The record does not link to the hash of the one before it (reordered or replaced).
    Link { seq: i64 },
    /// The record's content does not match its hash (edited).
    Content { seq: i64 },
    /// The chain ends before the head says it does (the newest records were deleted), or
    /// the head does not match the last record.
    Head { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Gap { expected, found } => {
                write!(f, "record {expected} is missing (the next one found is {found})")
            }
            ChainBreak::Link { seq } => write!(f, "record {seq} does not link to the record before it"),
            ChainBreak::Content { seq } => write!(f, "record {seq} was changed after it was written"),
            ChainBreak::Head { head_seq, last_seq } => {
                write!(f, "the chain should end at record {head_seq} with its hash, but the last record is {last_seq}")
            }
        }
    }
}

/// What verifying a tenant's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked (up to the first break).
    pub checked: i64,
    pub first_break: Option<ChainBreak>,
}

type AuditRow = (
    i64,
    AuditId,
    DateTime<Utc>,
    String,
    String,
    Option<DirectoryId>,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<i64>,
    Option<String>,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
);

const AUDIT_COLUMNS: &str = "seq, id, occurred_at, actor, action, directory_id, method, path, status, latency_ms, \
     resource_id, outcome, detail, prev_hash, hash";

pub(crate) fn hash_from(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("an audit hash is not 32 bytes".to_owned()))
}

fn record_from_row(row: AuditRow) -> Result<AuditRecord, StoreError> {
    let (
        seq,
        id,
        occurred_at,
        actor,
        action,
        directory,
        method,
        path,
        status,
        latency_ms,
        resource_id,
        outcome,
        detail,
        prev,
        hash,
    ) = row;
    Ok(AuditRecord {
        seq,
        id,
        occurred_at,
        actor,
        action,
        directory,
        method,
        path,
        status,
        latency_ms,
        resource_id,
        outcome: AuditOutcome::parse(&outcome)?,
        detail,
        prev_hash: hash_from(prev)?,
        hash: hash_from(hash)?,
    })
}

const ZERO: [u8; 32] = [0; 32];

/// Rows per PostgreSQL INSERT (one JSON parameter).
const ROWS_PER_POSTGRES_INSERT: usize = 1000;

/// Rows per SQLite INSERT: a fixed number, so the statement is prepared once per
/// connection; 16 parameters a row stays far below SQLite's limit of 32,766.
const ROWS_PER_SQLITE_INSERT: usize = 64;

/// `INSERT … VALUES (…), (…)` with `rows` rows of parameters.
///
/// The parameters are anonymous (`?`), not numbered (`$n`): sqlx asks SQLite for the name
/// of each parameter it binds, and SQLite finds a numbered parameter's name by walking the
/// statement's list of names, so binding a thousand numbered parameters took half a
/// million steps, a tenth of the server's CPU under a read load in a profile.
fn sqlite_insert(rows: usize) -> String {
    const COLUMNS: usize = 16;
    let row = format!("({})", vec!["?"; COLUMNS].join(", "));
    let values = vec![row; rows];
    format!("INSERT INTO audit_records (tenant_id, {AUDIT_COLUMNS}) VALUES {}", values.join(", "))
}

static SQLITE_INSERT_MANY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| sqlite_insert(ROWS_PER_SQLITE_INSERT));
static SQLITE_INSERT_ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sqlite_insert(1));

/// Writes chained records in a transaction of either backend.
trait InsertAuditRows {
    async fn insert_rows(&mut self, tenant: crate::TenantId, rows: &[AuditRecord]) -> Result<(), StoreError>;
}

impl InsertAuditRows for sqlx::Transaction<'_, sqlx::Sqlite> {
    async fn insert_rows(&mut self, tenant: crate::TenantId, rows: &[AuditRecord]) -> Result<(), StoreError> {
        let mut chunks = rows.chunks_exact(ROWS_PER_SQLITE_INSERT);
        for chunk in chunks.by_ref() {
            bind_rows(sqlx::query(&SQLITE_INSERT_MANY), tenant, chunk).execute(&mut **self).await?;
        }
        for row in chunks.remainder() {
            bind_rows(sqlx::query(&SQLITE_INSERT_ONE), tenant, std::slice::from_ref(row)).execute(&mut **self).await?;
        }
        Ok(())
    }
}

impl InsertAuditRows for sqlx::Transaction<'_, sqlx::Postgres> {
    async fn insert_rows(&mut self, tenant: crate::TenantId, rows: &[AuditRecord]) -> Result<(), StoreError> {
        for chunk in rows.chunks(ROWS_PER_POSTGRES_INSERT) {
            let json: Vec<serde_json::Value> = chunk.iter().map(row_json).collect();
            sqlx::query(INSERT_POSTGRES)
                .bind(tenant)
                .bind(serde_json::Value::Array(json).to_string())
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }
}

fn bind_rows<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    tenant: crate::TenantId,
    rows: &'q [AuditRecord],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for record in rows {
        query = query
            .bind(tenant)
            .bind(record.seq)
            .bind(record.id)
            .bind(record.occurred_at)
            .bind(&record.actor)
            .bind(&record.action)
            .bind(record.directory)
            .bind(&record.method)
            .bind(&record.path)
            .bind(record.status)
            .bind(record.latency_ms)
            .bind(&record.resource_id)
            .bind(record.outcome.as_str())
            .bind(&record.detail)
            .bind(&record.prev_hash[..])
            .bind(&record.hash[..]);
    }
    query
}

/// Inserts the rows of a JSON array (`$2`, see [`row_json`]) for tenant `$1`.
const INSERT_POSTGRES: &str = "INSERT INTO audit_records (tenant_id, seq, id, occurred_at, actor, action, \
     directory_id, method, path, status, latency_ms, resource_id, outcome, detail, prev_hash, hash) \
     SELECT $1, r.seq, r.id, r.occurred_at, r.actor, r.action, r.directory_id, r.method, r.path, r.status, \
     r.latency_ms, r.resource_id, r.outcome, r.detail, decode(r.prev_hash, 'hex'), decode(r.hash, 'hex') \
     FROM jsonb_to_recordset($2::jsonb) AS r(seq bigint, id uuid, occurred_at timestamptz, actor text, \
     action text, directory_id uuid, method text, path text, status integer, latency_ms bigint, \
     resource_id text, outcome text, detail text, prev_hash text, hash text)";

/// A record as a row of the PostgreSQL insert's JSON parameter.
fn row_json(record: &AuditRecord) -> serde_json::Value {
    serde_json::json!({
        "seq": record.seq,
        "id": record.id.to_string(),
        "occurred_at": record.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        "actor": record.actor,
        "action": record.action,
        "directory_id": record.directory.map(|d| d.to_string()),
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "latency_ms": record.latency_ms,
        "resource_id": record.resource_id,
        "outcome": record.outcome.as_str(),
        "detail": record.detail,
        "prev_hash": hex::encode(record.prev_hash),
        "hash": hex::encode(record.hash),
    })
}

/// Appends records to a tenant's chain inside an open transaction, in order: takes the
/// chain head (on PostgreSQL with a row lock, so appenders of one tenant queue there and
/// the chain has one order; SQLite has one writer anyway), links and hashes each record,
/// and moves the head.
pub(crate) async fn append_chained(
    open: &mut crate::action::OpenTransaction<'_>,
    backend: crate::Backend,
    tenant: crate::TenantId,
    records: &[NewAuditRecord],
) -> Result<(), StoreError> {
    const ENSURE_HEAD: &str =
        "INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING";
    const HEAD_SQLITE: &str = "SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1";
    const HEAD_POSTGRES: &str = "SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE";
    const MOVE_HEAD: &str = "UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE tenant_id = $3";
    if records.is_empty() {
        return Ok(());
    }
    let head_query = match backend {
        crate::Backend::Sqlite => HEAD_SQLITE,
        crate::Backend::Postgres => HEAD_POSTGRES,
    };
    on_open!(open, tx => {
        sqlx::query(ENSURE_HEAD).bind(tenant).bind(&ZERO[..]).execute(&mut **tx).await?;
        let (seq, hash): (i64, Vec<u8>) = sqlx::query_as(head_query).bind(tenant).fetch_one(&mut **tx).await?;
        let chained = chain(tenant, records, seq, hash_from(hash)?);
        tx.insert_rows(tenant, &chained).await?;
        let (last_seq, last_hash) = chained.last().map_or((seq, ZERO), |last| (last.seq, last.hash));
        sqlx::query(MOVE_HEAD).bind(last_seq).bind(&last_hash[..]).bind(tenant).execute(&mut **tx).await?;
    });
    Ok(())
}

/// The records as stored: numbered after `seq`, each linked to the hash before it.
fn chain(
    tenant: crate::TenantId,
    records: &[NewAuditRecord],
    mut seq: i64,
    mut prev_hash: [u8; 32],
) -> Vec<AuditRecord> {
    let mut chained = Vec::with_capacity(records.len());
    for new in records {
        seq += 1;
        let mut record = AuditRecord {
            seq,
            id: AuditId::of_numbered_row(tenant.as_uuid(), seq, new.occurred_at),
            // Stored to the microsecond on both backends: hashed as stored.
            occurred_at: new.occurred_at.trunc_subsecs(6),
            actor: new.actor.clone(),
            action: new.action.clone(),
            directory: new.directory,
            method: new.method.clone(),
            path: new.path.clone(),
            status: new.status,
            latency_ms: new.latency_ms,
            resource_id: new.resource_id.clone(),
            outcome: new.outcome,
            detail: new.detail.to_string(),
            prev_hash,
            hash: ZERO,
        };
        record.hash = record.expected_hash();
        prev_hash = record.hash;
        chained.push(record);
    }
    chained
}

impl TenantScope<'_> {
    /// Appends records that stand alone (SCIM requests, views) to the tenant's chain, in
    /// order, in one transaction. An action that changes data commits its record with its
    /// writes instead ([`crate::TenantAction::commit`]).
    pub async fn append_audit(&self, records: &[NewAuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut action = self.begin_action().await?;
        append_chained(&mut action.open, self.store.backend(), self.tenant, records).await?;
        action.finish().await
    }

    /// Records after `after_seq`, oldest first, at most `limit`.
    pub async fn audit_records(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let query = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_records WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<AuditRow> = as_tenant!(self, conn => sqlx::query_as(&query)
            .bind(self.tenant)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(record_from_row).collect()
    }

    /// The newest SCIM requests to one of the tenant's directories (newest first), those
    /// after `after_seq` only, at most `limit`.
    pub async fn directory_requests(
        &self,
        directory: DirectoryId,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<crate::DirectoryRequest>, StoreError> {
        const QUERY: &str = "SELECT seq, occurred_at, actor, method, path, status, latency_ms, outcome, detail, \
             resource_id FROM audit_records WHERE tenant_id = $1 AND seq > $2 AND directory_id = $3 \
             AND action = 'scim.request' ORDER BY seq DESC LIMIT $4";
        type Row = (
            i64,
            DateTime<Utc>,
            String,
            Option<String>,
            Option<String>,
            Option<i32>,
            Option<i64>,
            String,
            String,
            Option<String>,
        );
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(after_seq)
            .bind(directory)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter()
            .map(|(seq, occurred_at, actor, method, path, status, latency_ms, outcome, detail, resource_id)| {
                Ok(crate::DirectoryRequest {
                    resource_id,
                    seq,
                    occurred_at,
                    actor,
                    method: method.unwrap_or_default(),
                    path: path.unwrap_or_default(),
                    status: status.unwrap_or_default(),
                    latency_ms: latency_ms.unwrap_or_default(),
                    outcome: AuditOutcome::parse(&outcome)?,
                    detail,
                })
            })
            .collect()
    }

    /// How many SCIM requests a directory received since `since`, how many failed, and
    /// when the last one came.
    pub async fn directory_sync_health(
        &self,
        directory: DirectoryId,
        since: DateTime<Utc>,
    ) -> Result<crate::SyncHealth, StoreError> {
        // The wizard self-test's requests about its own resources (ids `selftest-…`) count
        // as requests, but its deliberate 404 (reading the user it deleted) is no failure.
        const COUNTS: &str = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'failure' \
             AND (resource_id IS NULL OR resource_id NOT LIKE 'selftest-%') THEN 1 ELSE 0 END), 0) \
             FROM audit_records WHERE tenant_id = $1 AND occurred_at >= $2 AND directory_id = $3 \
             AND action = 'scim.request'";
        const LAST: &str = "SELECT occurred_at FROM audit_records WHERE tenant_id = $1 AND directory_id = $2 \
             AND action = 'scim.request' ORDER BY seq DESC LIMIT 1";
        let (requests, failures): (i64, i64) = as_tenant!(self, conn => sqlx::query_as(COUNTS)
            .bind(self.tenant)
            .bind(since)
            .bind(directory)
            .fetch_one(&mut *conn)
            .await?);
        let last_request_at: Option<DateTime<Utc>> = as_tenant!(self, conn => sqlx::query_scalar(LAST)
            .bind(self.tenant)
            .bind(directory)
            .fetch_optional(&mut *conn)
            .await?);
        Ok(crate::SyncHealth { requests, failures, last_request_at })
    }

    /// The directory's SCIM requests and failures since `since` in buckets of
    /// `bucket_seconds`: (bucket index from `since`, requests, failures), buckets without
    /// requests left out. Failures leave out the wizard self-test's deliberate one, as
    /// [`Self::directory_sync_health`] does.
    pub async fn directory_request_buckets(
        &self,
        directory: DirectoryId,
        since: DateTime<Utc>,
        bucket_seconds: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let epoch = match self.store.backend() {
            crate::Backend::Sqlite => "CAST(strftime('%s', occurred_at) AS INTEGER)",
            crate::Backend::Postgres => "CAST(EXTRACT(EPOCH FROM occurred_at) AS BIGINT)",
        };
        // Parameters in the order they appear: SQLite numbers `$n` by first appearance.
        let query = format!(
            "SELECT bucket, COUNT(*), COALESCE(SUM(failed), 0) FROM (SELECT ({epoch} - $1) / $2 AS bucket, \
             CASE WHEN outcome = 'failure' AND (resource_id IS NULL OR resource_id NOT LIKE 'selftest-%') \
             THEN 1 ELSE 0 END AS failed FROM audit_records WHERE tenant_id = $3 AND occurred_at >= $4 \
             AND directory_id = $5 AND action = 'scim.request') AS requests GROUP BY bucket ORDER BY bucket"
        );
        let rows: Vec<(i64, i64, i64)> = as_tenant!(self, conn => sqlx::query_as(&query)
            .bind(since.timestamp())
            .bind(bucket_seconds.max(1))
            .bind(self.tenant)
            .bind(since)
            .bind(directory)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows)
    }

    /// The kind and name (a user's userName, a group's displayName) of those of `ids` that
    /// are stored in one of the tenant's directories: what the trail shows instead of ids.
    pub async fn resource_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, crate::ResourceKind, String)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for the whole page of records: the ids travel as one JSON array.
        let query = match self.store.backend() {
            crate::Backend::Sqlite => {
                "SELECT id, resource_type, name FROM scim_resources WHERE tenant_id = $1 \
                 AND id IN (SELECT value FROM json_each($2))"
            }
            crate::Backend::Postgres => {
                "SELECT id, resource_type, name FROM scim_resources WHERE tenant_id = $1 \
                 AND id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))"
            }
        };
        let ids = serde_json::to_string(ids).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let rows: Vec<(String, String, String)> = as_tenant!(self, conn => sqlx::query_as(query)
            .bind(self.tenant)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(|(id, kind, name)| Ok((id, crate::ResourceKind::parse(&kind)?, name))).collect()
    }

    /// The users and groups of the tenant (in any directory) whose userName or displayName,
    /// or one of whose emails, is `text` (any case): what an audit search by name finds.
    pub async fn resource_ids_named(&self, text: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        const QUERY: &str = "SELECT id FROM scim_resources WHERE tenant_id = $1 AND name_folded = $2 \
             UNION SELECT resource_id FROM scim_resource_values \
             WHERE tenant_id = $1 AND attribute = 'emails' AND value_folded = $2 LIMIT $3";
        let folded = text.trim().to_lowercase();
        let ids: Vec<String> = as_tenant!(self, conn => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(&folded)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        Ok(ids)
    }

    /// The newest records matching `query` with a sequence number below `before` (all when
    /// `None`), newest first, at most `limit`: keyset paging that stays as fast on the
    /// millionth record as on the first (the key is the primary key).
    pub async fn audit_page(
        &self,
        query: &AuditQuery,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_records WHERE tenant_id = $1");
        let mut slot = 1;
        let mut next = || {
            slot += 1;
            format!("${slot}")
        };
        let conditions = [
            before.map(|_| format!("seq < {}", next())),
            query.since.map(|_| format!("occurred_at >= {}", next())),
            query.until.map(|_| format!("occurred_at < {}", next())),
            query.outcome.map(|_| format!("outcome = {}", next())),
            // The start of an action, or the HTTP method of SCIM requests: bound twice.
            query.operation.as_ref().map(|_| format!("(action LIKE {} ESCAPE '\\' OR method = {})", next(), next())),
            (!query.resource_ids.is_empty()).then(|| {
                let slots: Vec<String> = query.resource_ids.iter().map(|_| next()).collect();
                format!("resource_id IN ({})", slots.join(", "))
            }),
            query.directory.map(|_| format!("directory_id = {}", next())),
        ];
        for condition in conditions.into_iter().flatten() {
            sql.push_str(" AND ");
            sql.push_str(&condition);
        }
        let sql = format!("{sql} ORDER BY seq DESC LIMIT {}", limit.clamp(1, 10_000));
        let rows: Vec<AuditRow> = as_tenant!(self, conn => {
            let mut statement = sqlx::query_as(&sql).bind(self.tenant);
            if let Some(before) = before {
                statement = statement.bind(before);
            }
            if let Some(since) = query.since {
                statement = statement.bind(since);
            }
            if let Some(until) = query.until {
                statement = statement.bind(until);
            }
            if let Some(outcome) = query.outcome {
                statement = statement.bind(outcome.as_str());
            }
            if let Some(operation) = &query.operation {
                let escaped = operation.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                statement = statement.bind(format!("{escaped}%")).bind(operation.to_uppercase());
            }
            for resource in &query.resource_ids {
                statement = statement.bind(resource.clone());
            }
            if let Some(directory) = query.directory {
                statement = statement.bind(directory);
            }
            statement.fetch_all(&mut *conn).await?
        });
        rows.into_iter().map(record_from_row).collect()
    }

    /// Where the kept part of the tenant's chain starts: (last deleted sequence number, its
    /// hash); (0, zero bytes) before any deletion.
    pub async fn audit_start(&self) -> Result<(i64, [u8; 32]), StoreError> {
        const QUERY: &str = "SELECT pruned_seq, pruned_hash FROM audit_chain_heads WHERE tenant_id = $1";
        let row: Option<(i64, Vec<u8>)> =
            as_tenant!(self, conn => sqlx::query_as(QUERY).bind(self.tenant).fetch_optional(&mut *conn).await?);
        match row {
            Some((seq, hash)) => Ok((seq, hash_from(hash)?)),
            None => Ok((0, ZERO)),
        }
    }

    /// Whether the tenant has records from before `before` (what retention would delete).
    pub async fn audit_has_records_before(&self, before: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "SELECT 1 FROM audit_records WHERE tenant_id = $1 AND occurred_at < $2 LIMIT 1";
        let found: Option<i32> = as_tenant!(self, conn => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(before)
            .fetch_optional(&mut *conn)
            .await?);
        Ok(found.is_some())
    }

    /// How many days the tenant keeps its audit trail (`None`: forever).
    pub async fn audit_retention(&self) -> Result<Option<u32>, StoreError> {
        const QUERY: &str = "SELECT audit_retention_days FROM tenants WHERE id = $1";
        let days: Option<Option<i32>> = on_pool!(&self.store.pool, pool =>
            sqlx::query_scalar(QUERY).bind(self.tenant).fetch_optional(pool).await?);
        Ok(days.flatten().and_then(|days| u32::try_from(days).ok()))
    }

    /// Where the tenant's chain ends: (last sequence number, its hash).
    pub async fn audit_head(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        const QUERY: &str = "SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1";
        let row: Option<(i64, Vec<u8>)> =
            as_tenant!(self, conn => sqlx::query_as(QUERY).bind(self.tenant).fetch_optional(&mut *conn).await?);
        row.map(|(seq, hash)| Ok((seq, hash_from(hash)?))).transpose()
    }

    /// Walks the tenant's chain from the first record to the head and reports the first
    /// break. Records appended while the walk goes on (a live server) are walked too: the
    /// walk ends when the records it reached end where the head says the chain ends.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport, StoreError> {
        const PAGE: i64 = 1000;
        let (mut last_seq, mut last_hash) = self.audit_start().await?;
        loop {
            let walked_from = last_seq;
            loop {
                let page = self.audit_records(last_seq, PAGE).await?;
                let full = page.len() as i64 == PAGE;
                for record in page {
                    let broken = if record.seq != last_seq + 1 {
                        Some(ChainBreak::Gap { expected: last_seq + 1, found: record.seq })
                    } else if record.prev_hash != last_hash {
                        Some(ChainBreak::Link { seq: record.seq })
                    } else if record.expected_hash() != record.hash {
                        Some(ChainBreak::Content { seq: record.seq })
                    } else {
                        None
                    };
                    if broken.is_some() {
                        return Ok(ChainReport { checked: last_seq, first_break: broken });
                    }
                    (last_seq, last_hash) = (record.seq, record.hash);
                }
                if !full {
                    break;
                }
            }
            let head = self.audit_head().await?.unwrap_or((0, ZERO));
            // The head moved on while this walk read: walk the new records too. A head
            // beyond records that did not grow means the newest records are gone.
            if head.0 > last_seq && last_seq > walked_from {
                continue;
            }
            let first_break =
                (head != (last_seq, last_hash)).then_some(ChainBreak::Head { head_seq: head.0, last_seq });
            return Ok(ChainReport { checked: last_seq, first_break });
        }
    }
}

impl crate::TenantAction<'_> {
    /// Sets how many days the tenant keeps its audit trail (`None`: forever).
    pub async fn set_audit_retention(&mut self, days: Option<u32>) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE tenants SET audit_retention_days = $1 WHERE id = $2";
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(days.and_then(|days| i32::try_from(days).ok()))
            .bind(self.tenant)
            .execute(&mut **tx)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Deletes the tenant's records older than `before` and moves the chain's start past
    /// them, in the action; returns how many were deleted and the last deleted
    /// sequence number. Records are deleted from the oldest on, up to the last record
    /// before `before` in sequence order, so the kept part stays one unbroken chain.
    pub async fn prune_audit(&mut self, before: DateTime<Utc>) -> Result<(u64, i64), StoreError> {
        const LOCK_SQLITE: &str = "SELECT seq FROM audit_chain_heads WHERE tenant_id = $1";
        const LOCK_POSTGRES: &str = "SELECT seq FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE";
        // The first record at or after the cut-off; everything before it in sequence goes.
        const FIRST_KEPT: &str = "SELECT MIN(seq) FROM audit_records WHERE tenant_id = $1 AND occurred_at >= $2";
        const LAST: &str = "SELECT MAX(seq) FROM audit_records WHERE tenant_id = $1";
        const HASH_OF: &str = "SELECT hash FROM audit_records WHERE tenant_id = $1 AND seq = $2";
        // In ranges of records, so that no statement runs into the statement timeout on a
        // trail of millions.
        const DELETE: &str = "DELETE FROM audit_records WHERE tenant_id = $1 AND seq <= $2 AND seq > $3";
        const FIRST: &str = "SELECT MIN(seq) FROM audit_records WHERE tenant_id = $1";
        const RANGE: i64 = 20_000;
        const MOVE_START: &str = "UPDATE audit_chain_heads SET pruned_seq = $1, pruned_hash = $2 WHERE tenant_id = $3";
        let lock = match self.store.backend() {
            crate::Backend::Sqlite => LOCK_SQLITE,
            crate::Backend::Postgres => LOCK_POSTGRES,
        };
        on_open!(&mut self.open, tx => {
            let head: Option<i64> = sqlx::query_scalar(lock).bind(self.tenant).fetch_optional(&mut **tx).await?;
            if head.is_none() {
                return Ok((0, 0));
            }
            let first_kept: Option<i64> =
                sqlx::query_scalar(FIRST_KEPT).bind(self.tenant).bind(before).fetch_one(&mut **tx).await?;
            let last_deleted = match first_kept {
                Some(first) => first - 1,
                None => sqlx::query_scalar::<_, Option<i64>>(LAST).bind(self.tenant).fetch_one(&mut **tx).await?.unwrap_or(0),
            };
            let hash: Option<Vec<u8>> =
                sqlx::query_scalar(HASH_OF).bind(self.tenant).bind(last_deleted).fetch_optional(&mut **tx).await?;
            // Nothing older than the cut-off is left (or it was pruned already).
            let Some(hash) = hash else { return Ok((0, 0)) };
            let first: i64 =
                sqlx::query_scalar::<_, Option<i64>>(FIRST).bind(self.tenant).fetch_one(&mut **tx).await?.unwrap_or(1);
            let mut deleted = 0;
            let mut below = first - 1;
            while below < last_deleted {
                let upto = (below + RANGE).min(last_deleted);
                deleted += sqlx::query(DELETE)
                    .bind(self.tenant)
                    .bind(upto)
                    .bind(below)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                below = upto;
            }
            sqlx::query(MOVE_START).bind(last_deleted).bind(&hash[..]).bind(self.tenant).execute(&mut **tx).await?;
            Ok((deleted, last_deleted))
        })
    }
}
