//! The operator's webhook endpoints (migration 0023): deployment-wide, like API keys, so
//! they are reached from the store itself rather than a tenant scope.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::ids::OperatorWebhookId;
use crate::{Store, StoreError};

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorWebhook {
    pub id: OperatorWebhookId,
    pub url: String,
    pub secret: String,
    /// The Directory Sync event types it receives.
    pub events: Vec<String>,
    pub enabled: bool,
    /// The id of the last event delivered or given up on; `None`: from the first.
    pub cursor: Option<String>,
    /// Failed attempts at the next event.
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorDeliveryOutcome {
    Delivered,
    Failed,
    /// Given up on after the last attempt; the endpoint moved on.
    Dead,
}

impl OperatorDeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }
}

/// One attempt to deliver an event, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorDelivery {
    pub id: crate::DeliveryId,
    pub event_id: String,
    pub event_type: String,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub outcome: OperatorDeliveryOutcome,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

const COLUMNS: &str =
    "id, url, secret, events, enabled, cursor, attempts, next_attempt_at, last_error, created_at, updated_at";

type Row = (
    OperatorWebhookId,
    String,
    String,
    Json<Vec<String>>,
    bool,
    Option<String>,
    i32,
    Option<DateTime<Utc>>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn from_row(row: Row) -> OperatorWebhook {
    let (id, url, secret, Json(events), enabled, cursor, attempts, next_attempt_at, last_error, created_at, updated_at) =
        row;
    OperatorWebhook {
        id,
        url,
        secret,
        events,
        enabled,
        cursor,
        attempts,
        next_attempt_at,
        last_error,
        created_at,
        updated_at,
    }
}

impl Store {
    pub async fn insert_operator_webhook(&self, webhook: &OperatorWebhook) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO operator_webhooks \
             (id, url, secret, events, enabled, cursor, attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)";
        on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(webhook.id)
            .bind(&webhook.url)
            .bind(&webhook.secret)
            .bind(Json(&webhook.events))
            .bind(webhook.enabled)
            .bind(&webhook.cursor)
            .bind(webhook.created_at)
            .bind(webhook.updated_at)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Every endpoint, in id (creation) order.
    pub async fn operator_webhooks(&self) -> Result<Vec<OperatorWebhook>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM operator_webhooks ORDER BY id");
        let rows: Vec<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&query).fetch_all(pool).await?);
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn operator_webhook(&self, id: OperatorWebhookId) -> Result<Option<OperatorWebhook>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM operator_webhooks WHERE id = $1");
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(&query).bind(id).fetch_optional(pool).await?);
        Ok(row.map(from_row))
    }

    /// Changes an endpoint's target, types and state; `false` when there is none.
    pub async fn update_operator_webhook(&self, webhook: &OperatorWebhook) -> Result<bool, StoreError> {
        const QUERY: &str =
            "UPDATE operator_webhooks SET url = $2, events = $3, enabled = $4, updated_at = $5 WHERE id = $1";
        let updated = on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(webhook.id)
            .bind(&webhook.url)
            .bind(Json(&webhook.events))
            .bind(webhook.enabled)
            .bind(webhook.updated_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Deletes an endpoint and its delivery log; `false` when there was none.
    pub async fn delete_operator_webhook(&self, id: OperatorWebhookId) -> Result<bool, StoreError> {
        const LOG: &str = "DELETE FROM operator_webhook_deliveries WHERE endpoint_id = $1";
        const ENDPOINT: &str = "DELETE FROM operator_webhooks WHERE id = $1";
        let deleted = on_pool!(&self.pool, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(LOG).bind(id).execute(&mut *tx).await?;
            let deleted = sqlx::query(ENDPOINT).bind(id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            deleted
        });
        Ok(deleted == 1)
    }

    /// Takes (or renews) the delivery lease of an enabled endpoint for `owner` until
    /// `until`; `false` when another process holds it.
    pub async fn lease_operator_webhook(
        &self,
        id: OperatorWebhookId,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE operator_webhooks SET lease_owner = $1, lease_until = $2 WHERE id = $3 \
             AND enabled = $4 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $5)";
        let updated = on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(owner)
            .bind(until)
            .bind(id)
            .bind(true)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Logs an attempt and moves the endpoint on: past `delivered` (the event answered 2xx
    /// or was given up on) with its attempts reset, or to `attempts` failures and a retry
    /// not before `retry_at`. One transaction, so the log never shows a delivery the
    /// cursor does not reflect. Only by the lease's `owner`.
    pub async fn record_operator_delivery(
        &self,
        id: OperatorWebhookId,
        owner: &str,
        delivery: &OperatorDelivery,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        const LOG: &str = "INSERT INTO operator_webhook_deliveries \
             (endpoint_id, id, event_id, event_type, attempt, attempted_at, outcome, status_code, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        const MOVE_ON: &str = "UPDATE operator_webhooks SET cursor = $2, attempts = 0, next_attempt_at = NULL, \
             last_error = $3 WHERE id = $1 AND lease_owner = $4";
        const RETRY: &str = "UPDATE operator_webhooks SET attempts = $2, next_attempt_at = $3, last_error = $4 \
             WHERE id = $1 AND lease_owner = $5";
        let moves_on = delivery.outcome != OperatorDeliveryOutcome::Failed;
        on_pool!(&self.pool, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(LOG)
                .bind(id)
                .bind(delivery.id)
                .bind(&delivery.event_id)
                .bind(&delivery.event_type)
                .bind(delivery.attempt)
                .bind(delivery.attempted_at)
                .bind(delivery.outcome.as_str())
                .bind(delivery.status_code)
                .bind(&delivery.error)
                .execute(&mut *tx)
                .await?;
            if moves_on {
                sqlx::query(MOVE_ON).bind(id).bind(&delivery.event_id).bind(&delivery.error).bind(owner)
                    .execute(&mut *tx).await?;
            } else {
                sqlx::query(RETRY).bind(id).bind(delivery.attempt).bind(retry_at).bind(&delivery.error).bind(owner)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The endpoint's newest `limit` attempts, oldest first.
    pub async fn operator_webhook_deliveries(
        &self,
        id: OperatorWebhookId,
        limit: i64,
    ) -> Result<Vec<OperatorDelivery>, StoreError> {
        const QUERY: &str = "SELECT id, event_id, event_type, attempt, attempted_at, outcome, status_code, error \
             FROM operator_webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2";
        type DeliveryRow = (crate::DeliveryId, String, String, i32, DateTime<Utc>, String, Option<i32>, Option<String>);
        let rows: Vec<DeliveryRow> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(id).bind(limit).fetch_all(pool).await?);
        let mut deliveries = rows
            .into_iter()
            .map(|(id, event_id, event_type, attempt, attempted_at, outcome, status_code, error)| {
                let outcome = match outcome.as_str() {
                    "delivered" => OperatorDeliveryOutcome::Delivered,
                    "failed" => OperatorDeliveryOutcome::Failed,
                    "dead" => OperatorDeliveryOutcome::Dead,
                    other => return Err(StoreError::Corrupt(format!("delivery outcome {other}"))),
                };
                Ok(OperatorDelivery { id, event_id, event_type, attempt, attempted_at, outcome, status_code, error })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        deliveries.reverse();
        Ok(deliveries)
    }
}
