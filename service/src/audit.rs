//! The audit trail: what happened in a tenant, by whom, and how it ended.
//!
//! SCIM requests are recorded through an [`AuditLog`]: the request hands its record to a
//! queue and a writer task appends queued records to each tenant's hash chain in batches.
//! A request that changed data waits until its record is appended before its client is
//! answered ([`AuditLog::record_durably`]), so no acknowledged write lacks its record
//! after a crash; concurrent writers share the writer's transactions. Reads and requests
//! that changed nothing do not wait: a crash loses at most the last [`FLUSH_EVERY`] of
//! those. Admin and operator actions commit their record with their change (see
//! [`crate::actor::Actor::record`] and `store::TenantAction`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use store::{ChainReport, NewAuditRecord, Store, TenantId};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::ServiceError;
use crate::actor::Actor;
use crate::audit_checkpoints::{self, AuditSigner, CheckpointReason};

pub use store::AuditOutcome as Outcome;

/// How long a queued record may wait before the writer appends it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Records appended per tenant transaction at most.
const BATCH: usize = 2000;

/// Requests wait for room rather than lose a record when the writer falls this far behind.
const QUEUE: usize = 10_000;

enum Queued {
    /// A record, and who waits until it is appended.
    Record(TenantId, Box<NewAuditRecord>, Option<oneshot::Sender<()>>),
    Flush(oneshot::Sender<()>),
}

impl Queued {
    /// Someone waits for it: the writer appends at once instead of letting records gather.
    fn is_awaited(&self) -> bool {
        matches!(self, Queued::Record(_, _, Some(_)) | Queued::Flush(_))
    }
}

/// The handle requests record through; cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Queued>,
    /// Counts the batches the writer has appended, so that live views (the wizard's request
    /// feed) wake up when there is something new to read.
    appended: watch::Receiver<u64>,
    counts: Arc<QueueCounts>,
    /// Wakes the writer before its gathering window ends: someone waits for a record, or
    /// the queue is half full.
    hurry: Arc<Notify>,
}

/// What the writer has on its hands, for `/metrics`.
#[derive(Debug, Default)]
struct QueueCounts {
    /// Records queued or gathered and not yet appended (or given up on).
    waiting: AtomicU64,
    /// Records the writer gave up on after its retry (each also logged).
    lost: AtomicU64,
}

/// The audit writer's queue at one moment ([`AuditLog::backlog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditBacklog {
    /// Records waiting to be appended.
    pub waiting: u64,
    /// Records lost since the process started (the database refused them twice).
    pub lost: u64,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Queued::Record(tenant, record, _) => write!(f, "Record({tenant}, {})", record.action),
            Queued::Flush(_) => write!(f, "Flush"),
        }
    }
}

impl AuditLog {
    /// Starts the writer task; it ends when every handle is dropped, after writing what
    /// was queued.
    pub fn start(store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let (appended_sender, appended) = watch::channel(0);
        let counts = Arc::new(QueueCounts::default());
        let hurry = Arc::new(Notify::new());
        let writer = tokio::spawn(write_queued(store, receiver, appended_sender, counts.clone(), hurry.clone()));
        (Self { queue, appended, counts, hurry }, writer)
    }

    /// How many records wait to be appended, and how many were lost.
    pub fn backlog(&self) -> AuditBacklog {
        AuditBacklog {
            waiting: self.counts.waiting.load(Ordering::Relaxed),
            lost: self.counts.lost.load(Ordering::Relaxed),
        }
    }

    /// Changes after each batch of records is appended (by this process's writer).
    pub fn appended(&self) -> watch::Receiver<u64> {
        self.appended.clone()
    }

    /// Queues a record of `tenant`.
    pub async fn record(&self, tenant: TenantId, record: NewAuditRecord) {
        self.counts.waiting.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Queued::Record(tenant, Box::new(record), None)).await.is_err() {
            self.counts.waiting.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(%tenant, "the audit writer has stopped; a record was not kept");
            return;
        }
        // Requests would wait for room once the queue is full: the writer starts on it early.
        if self.queue.capacity() < QUEUE / 2 {
            self.hurry.notify_one();
        }
    }

    /// Queues a record of `tenant` and waits until the writer has appended it (or given up
    /// on it, which it logs): for a request that changed data, answered only after this.
    pub async fn record_durably(&self, tenant: TenantId, record: NewAuditRecord) {
        let (done, appended) = oneshot::channel();
        self.counts.waiting.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Queued::Record(tenant, Box::new(record), Some(done))).await.is_err() {
            self.counts.waiting.fetch_sub(1, Ordering::Relaxed);
            tracing::error!(%tenant, "the audit writer has stopped; a record was not kept");
            return;
        }
        self.hurry.notify_one();
        let _ = appended.await;
    }

    /// Waits until everything queued before this call is appended (tests, shutdown).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).await.is_ok() {
            self.hurry.notify_one();
            let _ = written.await;
        }
    }
}

async fn write_queued(
    store: Store,
    mut receiver: mpsc::Receiver<Queued>,
    appended: watch::Sender<u64>,
    counts: Arc<QueueCounts>,
    hurry: Arc<Notify>,
) {
    let mut pending: Vec<(TenantId, NewAuditRecord)> = Vec::new();
    // Told once the pending records are appended.
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    // Waits for one record, then sleeps for FLUSH_EVERY while records gather in the queue
    // (one wake-up of this task per batch: receiving each record as it came woke it once
    // per request), unless someone waits for one of them or the queue fills up (`hurry`):
    // then it takes what is queued and appends at once. A `hurry` rung while the writer was
    // not sleeping is kept by `Notify` and cuts the next window short: one early batch.
    while let Some(first) = receiver.recv().await {
        let mut queued = vec![first];
        if !queued[0].is_awaited() {
            tokio::select! {
                () = tokio::time::sleep(FLUSH_EVERY) => {}
                () = hurry.notified() => {}
            }
        }
        while let Ok(next) = receiver.try_recv() {
            queued.push(next);
        }
        for item in queued {
            match item {
                Queued::Record(tenant, record, done) => {
                    pending.push((tenant, *record));
                    waiting.extend(done);
                    if pending.len() >= BATCH {
                        append(&store, &mut pending, &mut waiting, &counts).await;
                    }
                }
                Queued::Flush(done) => {
                    append(&store, &mut pending, &mut waiting, &counts).await;
                    let _ = done.send(());
                }
            }
        }
        append(&store, &mut pending, &mut waiting, &counts).await;
        appended.send_modify(|batches| *batches = batches.wrapping_add(1));
    }
    append(&store, &mut pending, &mut waiting, &counts).await;
}

/// Appends pending records, tenant by tenant, each tenant's in queue order, then tells
/// those `waiting`.
async fn append(
    store: &Store,
    pending: &mut Vec<(TenantId, NewAuditRecord)>,
    waiting: &mut Vec<oneshot::Sender<()>>,
    counts: &QueueCounts,
) {
    let mut tenants: Vec<TenantId> = Vec::new();
    for (tenant, _) in pending.iter() {
        if !tenants.contains(tenant) {
            tenants.push(*tenant);
        }
    }
    for tenant in tenants {
        let records: Vec<NewAuditRecord> =
            pending.iter().filter(|(t, _)| *t == tenant).map(|(_, record)| record.clone()).collect();
        // One retry after a pause covers a database restart; after that the records are
        // logged, not kept, rather than holding up every later record.
        let mut result = store.tenant(tenant).append_audit(&records).await;
        if result.is_err() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            result = store.tenant(tenant).append_audit(&records).await;
        }
        if let Err(error) = result {
            tracing::error!(%error, %tenant, lost = records.len(), "cannot append to the audit trail");
            counts.lost.fetch_add(u64::try_from(records.len()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }
    counts.waiting.fetch_sub(u64::try_from(pending.len()).unwrap_or(0), Ordering::Relaxed);
    pending.clear();
    for done in waiting.drain(..) {
        let _ = done.send(());
    }
}

/// The newest records of a tenant matching `query`, below sequence number `before`.
pub async fn page(
    store: &Store,
    tenant: TenantId,
    query: &store::AuditQuery,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<store::AuditRecord>, ServiceError> {
    Ok(store.tenant(tenant).audit_page(query, before, limit).await?)
}

/// Audit filters as a person or a script writes them (each optional, empty means none).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditFilters {
    /// `YYYY-MM-DD` (from the start of that day, UTC) or an RFC 3339 time.
    pub since: Option<String>,
    /// `YYYY-MM-DD` (through the end of that day, UTC) or an RFC 3339 time.
    pub until: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// The start of an action such as `token` or `token.revoked`, or an HTTP method such as
    /// `PATCH`.
    pub operation: Option<String>,
    /// A user's or group's id, or (see [`AuditFilters::resolved_query`]) its userName,
    /// displayName or an email.
    pub resource: Option<String>,
    pub directory: Option<String>,
}

impl AuditFilters {
    /// The store's query, or a sentence saying which filter is wrong.
    pub fn to_query(&self) -> Result<store::AuditQuery, String> {
        fn given(value: &Option<String>) -> Option<&str> {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        fn time(value: &str, end_of_day: bool, name: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
            if let Ok(day) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
                return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
            }
            chrono::DateTime::parse_from_rfc3339(value)
                .map(|at| at.with_timezone(&chrono::Utc))
                .map_err(|_| format!("{name} must be a date like 2026-12-01 or a time like 2026-12-01T09:30:00Z"))
        }
        let outcome = match given(&self.outcome) {
            None => None,
            Some("success") => Some(store::AuditOutcome::Success),
            Some("failure") => Some(store::AuditOutcome::Failure),
            Some(_) => return Err("outcome must be success or failure".to_owned()),
        };
        let directory = given(&self.directory)
            .map(|id| id.parse().map_err(|_| "directory must be a directory id".to_owned()))
            .transpose()?;
        let bounded = |value: Option<&str>, name: &str| match value {
            Some(text) if text.chars().count() > 200 => Err(format!("{name} is longer than 200 characters")),
            other => Ok(other.map(str::to_owned)),
        };
        Ok(store::AuditQuery {
            since: given(&self.since).map(|v| time(v, false, "since")).transpose()?,
            until: given(&self.until).map(|v| time(v, true, "until")).transpose()?,
            outcome,
            operation: bounded(given(&self.operation), "operation")?,
            resource_ids: bounded(given(&self.resource), "resource")?.into_iter().collect(),
            directory,
        })
    }

    /// [`Self::to_query`], with a resource given by name found too: the records of the
    /// users and groups of `tenant` whose userName, displayName or an email it is, besides
    /// those of a resource with that id.
    pub async fn resolved_query(
        &self,
        store: &Store,
        tenant: TenantId,
    ) -> Result<Result<store::AuditQuery, String>, ServiceError> {
        let mut query = match self.to_query() {
            Ok(query) => query,
            Err(message) => return Ok(Err(message)),
        };
        if let Some(text) = query.resource_ids.first().cloned() {
            for id in store.tenant(tenant).resource_ids_named(&text, 100).await? {
                if !query.resource_ids.contains(&id) {
                    query.resource_ids.push(id);
                }
            }
        }
        Ok(Ok(query))
    }
}

/// One record as a JSON object (the JSON Lines export and the operator API).
pub fn record_json(record: &store::AuditRecord) -> Value {
    let detail: Value = serde_json::from_str(&record.detail).unwrap_or(Value::String(record.detail.clone()));
    serde_json::json!({
        "seq": record.seq,
        "id": record.id.to_string(),
        "occurred_at": record.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor": record.actor,
        "action": record.action,
        "directory": record.directory.map(|d| d.to_string()),
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "latency_ms": record.latency_ms,
        "resource_id": record.resource_id,
        "outcome": record.outcome.as_str(),
        "detail": detail,
        "hash": hex::encode(record.hash),
        "prev_hash": hex::encode(record.prev_hash),
    })
}

/// The CSV export's header row, and one record as a row of it.
pub const CSV_HEADER: [&str; 14] = [
    "seq",
    "occurred_at",
    "actor",
    "action",
    "directory",
    "method",
    "path",
    "status",
    "latency_ms",
    "resource_id",
    "outcome",
    "detail",
    "hash",
    "prev_hash",
];

/// A record as a CSV row (every cell [`crate::spreadsheet_safe`]).
pub fn record_csv_row(record: &store::AuditRecord) -> [String; 14] {
    [
        record.seq.to_string(),
        record.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        record.actor.clone(),
        record.action.clone(),
        record.directory.map(|d| d.to_string()).unwrap_or_default(),
        record.method.clone().unwrap_or_default(),
        record.path.clone().unwrap_or_default(),
        record.status.map(|s| s.to_string()).unwrap_or_default(),
        record.latency_ms.map(|l| l.to_string()).unwrap_or_default(),
        record.resource_id.clone().unwrap_or_default(),
        record.outcome.as_str().to_owned(),
        record.detail.clone(),
        hex::encode(record.hash),
        hex::encode(record.prev_hash),
    ]
    .map(crate::spreadsheet_safe)
}

/// How many days a tenant keeps its audit trail (`None`: forever).
pub async fn retention(store: &Store, tenant: TenantId) -> Result<Option<u32>, ServiceError> {
    Ok(store.tenant(tenant).audit_retention().await?)
}

/// The longest retention a tenant may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// The shortest retention a tenant may set unless the operator says otherwise, in days:
/// an admin cannot erase a trail of their own actions, or of staff reading their data,
/// after a day.
pub const DEFAULT_MINIMUM_RETENTION_DAYS: u32 = 90;

/// Why a retention period was refused.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(
        "Keep the audit trail for at least {minimum} days (the deployment's minimum), or leave it empty to keep it forever."
    )]
    BelowMinimum { minimum: u32 },
    #[error("Keep the audit trail for at most {MAX_RETENTION_DAYS} days, or leave it empty to keep it forever.")]
    AboveMaximum,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Sets how long a tenant keeps its audit trail (`None`: forever), and records who did;
/// refused below the deployment's minimum (`minimum_days`) and above ten years.
pub async fn set_retention(
    store: &Store,
    tenant: TenantId,
    days: Option<u32>,
    minimum_days: u32,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), RetentionError> {
    if let Some(days) = days {
        if days < minimum_days.max(1) {
            return Err(RetentionError::BelowMinimum { minimum: minimum_days.max(1) });
        }
        if days > MAX_RETENTION_DAYS {
            return Err(RetentionError::AboveMaximum);
        }
    }
    let mut action = store.tenant(tenant).begin_action().await.map_err(ServiceError::from)?;
    action.set_audit_retention(days).await.map_err(ServiceError::from)?;
    let record = actor.record("audit.retention_set", None, serde_json::json!({ "days": days }), now);
    action.commit(record).await.map_err(ServiceError::from)?;
    Ok(())
}

/// The retention job: deletes each tenant's records older than its retention period (never
/// less than the deployment's minimum, whatever was set before the minimum was), and
/// records in the same trail that it did (how many, through which sequence number, and
/// the hash the kept chain now starts from). The chain's head is signed just before and
/// just after (`audit_checkpoints`). Returns the number deleted per tenant.
pub async fn enforce_retention(
    store: &Store,
    signer: &AuditSigner,
    minimum_days: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(TenantId, u64)>, ServiceError> {
    let mut pruned = Vec::new();
    for (tenant, days) in store.audit_retention_settings().await? {
        let days = days.max(minimum_days).max(1);
        let cut_off = now - chrono::Duration::days(i64::from(days));
        if !store.tenant(tenant).audit_has_records_before(cut_off).await? {
            continue;
        }
        audit_checkpoints::checkpoint(store, signer, tenant, CheckpointReason::BeforePrune, now).await?;
        // The pruning and its record commit together; a run that deletes nothing leaves
        // no record (and rolls back).
        let mut action = store.tenant(tenant).begin_action().await?;
        let (deleted, through) = action.prune_audit(cut_off).await?;
        if deleted > 0 {
            let detail = serde_json::json!({ "deleted": deleted, "through_seq": through, "retention_days": days });
            action.commit(Actor::System.record("audit.retention_pruned", None, detail, now)).await?;
            tracing::info!(%tenant, deleted, "audit retention enforced");
            audit_checkpoints::checkpoint(store, signer, tenant, CheckpointReason::AfterPrune, now).await?;
            pruned.push((tenant, deleted));
        }
    }
    Ok(pruned)
}

/// Walks a tenant's chain and reports the first record that breaks it.
pub async fn verify_chain(store: &Store, tenant: TenantId) -> Result<ChainReport, ServiceError> {
    Ok(store.tenant(tenant).verify_audit_chain().await?)
}

/// Keys whose values are secrets wherever they appear in a body.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "authorization",
    "api_key",
    "apikey",
];

/// A secret's name, or one ending in it (`apiToken`, `clientSecret`, `oldPassword`).
fn is_secret(name: &str) -> bool {
    // Bytes, ignoring ASCII case: every key is ASCII, and this runs for each word of every
    // audited request's query (no lowercased copy of each).
    let name = name.as_bytes();
    SECRET_KEYS.iter().any(|secret| {
        name.len() >= secret.len() && name[name.len() - secret.len()..].eq_ignore_ascii_case(secret.as_bytes())
    })
}

/// A request's path and query as kept in the trail, redacted like bodies: the value of a
/// query parameter named like a secret (`access_token`, `password`…), and every quoted
/// value of a `filter` that names a secret attribute (`password eq "…"`), become
/// `[redacted]`. A query with nothing to redact is kept exactly as sent.
pub fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else { return path_and_query.to_owned() };
    let secret =
        |key: &str, value: &str| is_secret(key) || (key.eq_ignore_ascii_case("filter") && names_a_secret(value));
    // Nearly every query has nothing to redact: look before copying its pairs.
    if !url::form_urlencoded::parse(query.as_bytes()).any(|(key, value)| secret(&key, &value)) {
        return path_and_query.to_owned();
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| {
            let kept = if is_secret(&key) {
                "[redacted]".to_owned()
            } else if secret(&key, &value) {
                redact_quoted(&value)
            } else {
                value.into_owned()
            };
            (key.into_owned(), kept)
        })
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{query}")
}

/// Whether a filter's text names a secret attribute anywhere (outside its quoted values too).
fn names_a_secret(filter: &str) -> bool {
    filter
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '.'))
        .any(|word| is_secret(word.rsplit([':', '.']).next().unwrap_or(word)))
}

/// A filter with every double-quoted value (escapes included) replaced by `"[redacted]"`.
fn redact_quoted(filter: &str) -> String {
    let mut out = String::with_capacity(filter.len());
    let mut chars = filter.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        out.push_str("\"[redacted]\"");
        let mut escaped = false;
        for inner in chars.by_ref() {
            match (escaped, inner) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => break,
                _ => {}
            }
        }
    }
    out
}

/// A request body as kept for a failed request: secrets replaced wherever they are, also
/// as the `value` of a PATCH operation whose `path` names a secret.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            // A PATCH operation (`path`, `value`) or a recorded change (`attribute`,
            // `before`, `after`) of a secret attribute; `urn:…:User:password` and
            // `password` name the same attribute.
            let secret_path = map
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("path") || key.as_str() == "attribute")
                .and_then(|(_, path)| path.as_str())
                .is_some_and(|path| is_secret(path.rsplit(':').next().unwrap_or(path)));
            Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        let carries_the_value =
                            ["value", "before", "after"].iter().any(|k| key.eq_ignore_ascii_case(k));
                        let secret = is_secret(key) || (secret_path && carries_the_value);
                        let kept = if secret { Value::String("[redacted]".to_owned()) } else { redact(value) };
                        (key.clone(), kept)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_query_are_redacted_and_other_queries_kept_as_sent() {
        assert_eq!(
            redact_query("/scim/v2/d/Users?filter=password%20eq%20%22hunter2%22&count=5"),
            "/scim/v2/d/Users?filter=password+eq+%22%5Bredacted%5D%22&count=5"
        );
        assert_eq!(
            redact_query(r#"/scim/v2/d/Users?filter=userName eq "a\"b" and urn:x:User:password eq "p\"w""#),
            "/scim/v2/d/Users?filter=userName+eq+%22%5Bredacted%5D%22+and+urn%3Ax%3AUser%3Apassword+eq+%22%5Bredacted%5D%22"
        );
        assert_eq!(redact_query("/x?access_token=abc&startIndex=1"), "/x?access_token=%5Bredacted%5D&startIndex=1");
        let plain = "/scim/v2/d/Users?filter=userName%20eq%20%22ada%22&startIndex=1";
        assert_eq!(redact_query(plain), plain);
        assert_eq!(redact_query("/scim/v2/d/Users"), "/scim/v2/d/Users");
    }
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_nothing_else() {
        let body = json!({
            "userName": "bjensen",
            "Password": "hunter2",
            "Operations": [{"op": "replace", "value": {"password": "x", "title": "Boss"}},
                           {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "y"},
                           {"op": "replace", "path": "title", "value": "Chief"}],
            "client_secret": "s", "nested": {"Token": {"deep": 1}}
        });
        assert_eq!(
            redact(&body),
            json!({
                "userName": "bjensen",
                "Password": "[redacted]",
                "Operations": [{"op": "replace", "value": {"password": "[redacted]", "title": "Boss"}},
                               {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "[redacted]"},
                               {"op": "replace", "path": "title", "value": "Chief"}],
                "client_secret": "[redacted]", "nested": {"Token": "[redacted]"}
            })
        );
    }

    #[test]
    fn recorded_changes_of_a_secret_attribute_lose_both_values() {
        let changes = json!([
            {"attribute": "urn:acme:params:scim:schemas:extension:2.0:User:apiToken", "before": "old", "after": "new"},
            {"attribute": "title", "before": "Engineer", "after": "Manager"}
        ]);
        assert_eq!(
            redact(&changes),
            json!([
                {"attribute": "urn:acme:params:scim:schemas:extension:2.0:User:apiToken", "before": "[redacted]", "after": "[redacted]"},
                {"attribute": "title", "before": "Engineer", "after": "Manager"}
            ])
        );
    }
}
