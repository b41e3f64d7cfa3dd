//! Webhook endpoints of a tenant, how far each has got in each directory's change feed, and
//! the log of delivery attempts (migration 0012).

use crate::action::on_open;
use chrono::{DateTime, Utc};

use crate::ids::{DeliveryId, DirectoryId, EventId, TenantId, WebhookId};
use crate::scope::TenantScope;
use crate::{Store, StoreError};

/// An endpoint to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub id: WebhookId,
    pub url: String,
    /// Signs every delivery (HMAC-SHA256); shown to the admin once, kept for signing.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

/// A stored endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub tenant: TenantId,
    pub id: WebhookId,
    pub url: String,
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Where an endpoint is in one directory's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookCursor {
    pub directory: DirectoryId,
    /// Every event up to this sequence number is delivered or dead-lettered.
    pub delivered_seq: i64,
    /// Failed attempts at the event after `delivered_seq`.
    pub attempts: i32,
    /// Not before this time (backoff); `None`: now.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl WebhookCursor {
    pub fn start(directory: DirectoryId) -> Self {
        Self { directory, delivered_seq: 0, attempts: 0, next_attempt_at: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// It did not; the event will be tried again.
    Failed,
    /// It did not, and the event was given up on (a dead letter).
    Dead,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::Dead => "dead",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "delivered" => Ok(DeliveryOutcome::Delivered),
            "failed" => Ok(DeliveryOutcome::Failed),
            "dead" => Ok(DeliveryOutcome::Dead),
            other => Err(StoreError::Corrupt(format!("unknown delivery outcome {other:?}"))),
        }
    }
}

/// One attempt to deliver one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub id: DeliveryId,
    pub directory: DirectoryId,
    pub event: EventId,
    pub seq: i64,
    /// 1 for the first attempt at this event.
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub outcome: DeliveryOutcome,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

type WebhookRow = (TenantId, WebhookId, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn webhook_from_row((tenant, id, url, secret, created_at, disabled_at): WebhookRow) -> Webhook {
    Webhook { tenant, id, url, secret, created_at, disabled_at }
}

const WEBHOOK_COLUMNS: &str = "tenant_id, id, url, secret, created_at, disabled_at";

impl Store {
    /// Every endpoint that is not disabled, in every tenant: the delivery worker's list.
    pub async fn deliverable_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id");
        let rows: Vec<WebhookRow> = on_pool!(&self.pool, pool => sqlx::query_as(&query).fetch_all(pool).await?);
        Ok(rows.into_iter().map(webhook_from_row).collect())
    }

    /// Takes or renews the lease on an endpoint until `until`; false when another process
    /// holds an unexpired lease.
    pub async fn lease_webhook(
        &self,
        tenant: TenantId,
        endpoint: WebhookId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2 \
             WHERE tenant_id = $3 AND id = $4 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $5)";
        let updated = on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(owner)
            .bind(until)
            .bind(tenant)
            .bind(endpoint)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }
}

impl TenantScope<'_> {
    /// The tenant's endpoints, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY id");
        let rows: Vec<WebhookRow> =
            on_pool!(&self.store.pool, pool => sqlx::query_as(&query).bind(self.tenant).fetch_all(pool).await?);
        Ok(rows.into_iter().map(webhook_from_row).collect())
    }

    /// Where `endpoint` is in each of the tenant's directories (a directory it has not
    /// started on has no entry).
    pub async fn webhook_cursors(&self, endpoint: WebhookId) -> Result<Vec<WebhookCursor>, StoreError> {
        const QUERY: &str = "SELECT directory_id, delivered_seq, attempts, next_attempt_at FROM webhook_cursors \
             WHERE tenant_id = $1 AND endpoint_id = $2";
        type Row = (DirectoryId, i64, i32, Option<DateTime<Utc>>);
        let rows: Vec<Row> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(endpoint).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(directory, delivered_seq, attempts, next_attempt_at)| WebhookCursor {
                directory,
                delivered_seq,
                attempts,
                next_attempt_at,
            })
            .collect())
    }

    /// Logs an attempt and moves the endpoint's cursor in that directory, in one
    /// transaction: the log never shows a delivery the cursor does not reflect.
    pub async fn record_delivery(
        &self,
        endpoint: WebhookId,
        attempt: &DeliveryAttempt,
        cursor: &WebhookCursor,
    ) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO webhook_cursors \
             (tenant_id, endpoint_id, directory_id, delivered_seq, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, endpoint_id, directory_id) DO UPDATE SET \
             delivered_seq = excluded.delivered_seq, attempts = excluded.attempts, \
             next_attempt_at = excluded.next_attempt_at";
        // A delivery is the deliverer's bookkeeping, not an action of someone: no record.
        let mut action = self.begin_action().await?;
        action.log_delivery(endpoint, attempt).await?;
        on_open!(&mut action.open, tx => sqlx::query(UPSERT)
            .bind(self.tenant)
            .bind(endpoint)
            .bind(cursor.directory)
            .bind(cursor.delivered_seq)
            .bind(cursor.attempts)
            .bind(cursor.next_attempt_at)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        action.finish().await
    }

    /// The endpoint's delivery log, oldest first, at most `limit` of the newest attempts;
    /// with `outcome`, only those.
    pub async fn webhook_deliveries(
        &self,
        endpoint: WebhookId,
        outcome: Option<DeliveryOutcome>,
        limit: i64,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        const QUERY: &str = "SELECT id, directory_id, event_id, seq, attempt, attempted_at, outcome, status_code, \
             error FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 \
             AND ($3 IS NULL OR outcome = $3) ORDER BY id DESC LIMIT $4";
        type Row = (DeliveryId, DirectoryId, EventId, i64, i32, DateTime<Utc>, String, Option<i32>, Option<String>);
        let rows: Vec<Row> = on_pool!(&self.store.pool, pool => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(endpoint)
            .bind(outcome.map(DeliveryOutcome::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await?);
        let mut attempts = rows
            .into_iter()
            .map(|(id, directory, event, seq, attempt, attempted_at, outcome, status_code, error)| {
                Ok(DeliveryAttempt {
                    id,
                    directory,
                    event,
                    seq,
                    attempt,
                    attempted_at,
                    outcome: DeliveryOutcome::parse(&outcome)?,
                    status_code,
                    error,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        attempts.reverse();
        Ok(attempts)
    }
}

impl crate::TenantAction<'_> {
    /// Logs a delivery attempt to an endpoint. On its own (a replayed dead letter, sent out
    /// of order) it leaves the endpoint's cursor where it is.
    pub async fn log_delivery(&mut self, endpoint: WebhookId, attempt: &DeliveryAttempt) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, id, directory_id, event_id, \
             seq, attempt, attempted_at, outcome, status_code, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        on_open!(&mut self.open, tx => sqlx::query(INSERT)
            .bind(self.tenant)
            .bind(endpoint)
            .bind(attempt.id)
            .bind(attempt.directory)
            .bind(attempt.event)
            .bind(attempt.seq)
            .bind(attempt.attempt)
            .bind(attempt.attempted_at)
            .bind(attempt.outcome.as_str())
            .bind(attempt.status_code)
            .bind(&attempt.error)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn insert_webhook(&mut self, webhook: &NewWebhook) -> Result<(), StoreError> {
        const QUERY: &str =
            "INSERT INTO webhook_endpoints (tenant_id, id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)";
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(webhook.id)
            .bind(&webhook.url)
            .bind(&webhook.secret)
            .bind(webhook.created_at)
            .execute(&mut **tx)
            .await
            .map(drop)?);
        Ok(())
    }
}
