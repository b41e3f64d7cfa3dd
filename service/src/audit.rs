//! The audit trail: what happened in a tenant, by whom, and how it ended.
//!
//! SCIM requests are recorded through an [`AuditLog`]: the request hands its record to a
//! queue and a writer task appends queued records to each tenant's hash chain in batches,
//! so that recording adds no database round trip to the request. A crash loses what was
//! still queued (at most [`FLUSH_EVERY`] of requests); every change those requests made
//! is also in the directory's change records, written in the change's own transaction.
//! Admin actions are rare and appended at once ([`record_now`]).

use std::time::Duration;

use serde_json::Value;
use store::{ChainReport, NewAuditRecord, Store, TenantId};
use tokio::sync::{mpsc, oneshot, watch};

use crate::ServiceError;

/// How long a queued record may wait before the writer appends it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Records appended per tenant transaction at most.
const BATCH: usize = 2000;

/// Requests wait for room rather than lose a record when the writer falls this far behind.
const QUEUE: usize = 10_000;

enum Queued {
    Record(TenantId, Box<NewAuditRecord>),
    Flush(oneshot::Sender<()>),
}

/// The handle requests record through; cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Queued>,
    /// Counts the batches the writer has appended, so that live views (the wizard's request
    /// feed) wake up when there is something new to read.
    appended: watch::Receiver<u64>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Queued::Record(tenant, record) => write!(f, "Record({tenant}, {})", record.action),
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
        let writer = tokio::spawn(write_queued(store, receiver, appended_sender));
        (Self { queue, appended }, writer)
    }

    /// Changes after each batch of records is appended (by this process's writer).
    pub fn appended(&self) -> watch::Receiver<u64> {
        self.appended.clone()
    }

    /// Queues a record of `tenant`.
    pub async fn record(&self, tenant: TenantId, record: NewAuditRecord) {
        if self.queue.send(Queued::Record(tenant, Box::new(record))).await.is_err() {
            tracing::error!(%tenant, "the audit writer has stopped; a record was not kept");
        }
    }

    /// Waits until everything queued before this call is appended (tests, shutdown).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_queued(store: Store, mut receiver: mpsc::Receiver<Queued>, appended: watch::Sender<u64>) {
    let mut pending: Vec<(TenantId, NewAuditRecord)> = Vec::new();
    // Waits for one record, then lets records gather for FLUSH_EVERY before taking them
    // all: one wake-up of this task per batch, not per request.
    while let Some(first) = receiver.recv().await {
        tokio::time::sleep(FLUSH_EVERY).await;
        let mut queued = vec![first];
        while let Ok(next) = receiver.try_recv() {
            queued.push(next);
        }
        for item in queued {
            match item {
                Queued::Record(tenant, record) => {
                    pending.push((tenant, *record));
                    if pending.len() >= BATCH {
                        append(&store, &mut pending).await;
                    }
                }
                Queued::Flush(done) => {
                    append(&store, &mut pending).await;
                    let _ = done.send(());
                }
            }
        }
        append(&store, &mut pending).await;
        appended.send_modify(|batches| *batches = batches.wrapping_add(1));
    }
    append(&store, &mut pending).await;
}

/// Appends pending records, tenant by tenant, each tenant's in queue order.
async fn append(store: &Store, pending: &mut Vec<(TenantId, NewAuditRecord)>) {
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
        }
    }
    pending.clear();
}

/// Appends one record at once (admin and operator actions).
pub async fn record_now(store: &Store, tenant: TenantId, record: NewAuditRecord) -> Result<(), ServiceError> {
    Ok(store.tenant(tenant).append_audit(&[record]).await?)
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

fn is_secret(name: &str) -> bool {
    SECRET_KEYS.iter().any(|secret| name.eq_ignore_ascii_case(secret))
}

/// A request body as kept for a failed request: secrets replaced wherever they are, also
/// as the `value` of a PATCH operation whose `path` names a secret.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            // `urn:…:User:password` and `password` name the same attribute.
            let secret_path = map
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case("path"))
                .and_then(|(_, path)| path.as_str())
                .is_some_and(|path| is_secret(path.rsplit(':').next().unwrap_or(path)));
            Value::Object(
                map.iter()
                    .map(|(key, value)| {
                        let secret = is_secret(key) || (secret_path && key.eq_ignore_ascii_case("value"));
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
}
