//! The operator's webhook endpoints (migration 0023): deployment-wide, like API keys, so
//! they are reached from the store itself rather than a tenant scope.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::ids::{DirectoryId, OperatorWebhookId};
use crate::secrets::{SecretKeys, SecretSlot};
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
    /// The id of the last event dealt with (delivered, given up on, or held back in an
    /// [`OperatorOutstanding`]); `None`: from the first.
    pub cursor: Option<String>,
    /// Why the last failed attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An event of an operator endpoint that its cursor does not tell the state of (migration
/// 0027): held (passed without delivering it: refused, or behind a refused event of its
/// resource) or sent (delivered ahead of the cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorOutstanding {
    pub event_id: String,
    pub directory: DirectoryId,
    pub seq: i64,
    /// The member's index, for a membership event.
    pub member: Option<usize>,
    /// Its lane: `user:<id>`, `group:<id>` or `directory:<id>`.
    pub resource: String,
    pub state: crate::OutstandingState,
    pub attempts: i32,
    /// Not before (after a failure); `None`: as soon as its turn comes.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What one round of deliveries to an operator endpoint came to, written at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorSettlement {
    pub deliveries: Vec<OperatorDelivery>,
    /// Held and sent rows to write (replacing those of the same events).
    pub held: Vec<OperatorOutstanding>,
    /// Rows that go: held events delivered or given up on, sent ones the cursor reached.
    pub settled: Vec<String>,
    /// The cursor's new place.
    pub cursor_to: Option<String>,
    /// The endpoint's last error, when it changes (`Some(None)`: cleared).
    pub last_error: Option<Option<String>>,
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

const COLUMNS: &str = "id, url, secret, events, enabled, cursor, last_error, created_at, updated_at";

type Row = (
    OperatorWebhookId,
    String,
    String,
    Json<Vec<String>>,
    bool,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn from_row(keys: &SecretKeys, row: Row) -> Result<OperatorWebhook, StoreError> {
    let (id, url, secret, Json(events), enabled, cursor, last_error, created_at, updated_at) = row;
    let secret = keys.open(SecretSlot::OperatorWebhook { id }, &secret)?;
    Ok(OperatorWebhook { id, url, secret, events, enabled, cursor, last_error, created_at, updated_at })
}

impl Store {
    pub async fn insert_operator_webhook(&self, webhook: &OperatorWebhook) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO operator_webhooks \
             (id, url, secret, events, enabled, cursor, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let sealed = self.secret_keys()?.seal(SecretSlot::OperatorWebhook { id: webhook.id }, &webhook.secret)?;
        writing_on_pool!(self, pool => sqlx::query(QUERY)
            .bind(webhook.id)
            .bind(&webhook.url)
            .bind(&sealed)
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
        let keys = self.secret_keys()?;
        rows.into_iter().map(|row| from_row(keys, row)).collect()
    }

    pub async fn operator_webhook(&self, id: OperatorWebhookId) -> Result<Option<OperatorWebhook>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM operator_webhooks WHERE id = $1");
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(&query).bind(id).fetch_optional(pool).await?);
        let keys = self.secret_keys()?;
        row.map(|row| from_row(keys, row)).transpose()
    }

    /// Changes an endpoint's target, types and state; `false` when there is none.
    pub async fn update_operator_webhook(&self, webhook: &OperatorWebhook) -> Result<bool, StoreError> {
        const QUERY: &str =
            "UPDATE operator_webhooks SET url = $2, events = $3, enabled = $4, updated_at = $5 WHERE id = $1";
        let updated = writing_on_pool!(self, pool => sqlx::query(QUERY)
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
        let deleted = writing_on_pool!(self, pool => {
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
        let updated = writing_on_pool!(self, pool => sqlx::query(QUERY)
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

    /// The events the endpoint's cursor passed without delivering them, in event order per
    /// directory.
    pub async fn operator_webhook_outstanding(
        &self,
        id: OperatorWebhookId,
    ) -> Result<Vec<OperatorOutstanding>, StoreError> {
        const QUERY: &str = "SELECT event_id, directory_id, seq, member, resource, state, attempts, next_attempt_at \
             FROM operator_webhook_outstanding WHERE endpoint_id = $1 ORDER BY directory_id, seq, member";
        type OutstandingRow = (String, DirectoryId, i64, i32, String, String, i32, Option<DateTime<Utc>>);
        let rows: Vec<OutstandingRow> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(id).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(event_id, directory, seq, member, resource, state, attempts, next_attempt_at)| {
                Ok(OperatorOutstanding {
                    event_id,
                    directory,
                    seq,
                    member: usize::try_from(member).ok(),
                    resource,
                    state: crate::OutstandingState::parse(&state)?,
                    attempts,
                    next_attempt_at,
                })
            })
            .collect()
    }

    /// Writes what a round of deliveries to the endpoint came to, in one transaction and only
    /// while `owner` holds its lease (false, and nothing written, otherwise).
    pub async fn settle_operator_deliveries(
        &self,
        id: OperatorWebhookId,
        owner: &str,
        now: DateTime<Utc>,
        settlement: &OperatorSettlement,
    ) -> Result<bool, StoreError> {
        // Also locks the endpoint's row (PostgreSQL) until the commit.
        const HOLDS_LEASE: &str = "UPDATE operator_webhooks SET lease_owner = lease_owner \
             WHERE id = $1 AND lease_owner = $2 AND lease_until > $3";
        const LOG: &str = "INSERT INTO operator_webhook_deliveries \
             (endpoint_id, id, event_id, event_type, attempt, attempted_at, outcome, status_code, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        const HELD: &str = "INSERT INTO operator_webhook_outstanding \
             (endpoint_id, event_id, directory_id, seq, member, resource, state, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (endpoint_id, event_id) DO UPDATE SET \
             state = excluded.state, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at";
        const SETTLED: &str = "DELETE FROM operator_webhook_outstanding WHERE endpoint_id = $1 AND event_id = $2";
        const CURSOR: &str = "UPDATE operator_webhooks SET cursor = $2 WHERE id = $1";
        const LAST_ERROR: &str = "UPDATE operator_webhooks SET last_error = $2 WHERE id = $1";
        let written = writing_on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let leased = sqlx::query(HOLDS_LEASE).bind(id).bind(owner).bind(now).execute(&mut *tx).await?;
            if leased.rows_affected() != 1 {
                return Ok(false);
            }
            for delivery in &settlement.deliveries {
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
            }
            for held in &settlement.held {
                sqlx::query(HELD)
                    .bind(id)
                    .bind(&held.event_id)
                    .bind(held.directory)
                    .bind(held.seq)
                    .bind(held.member.and_then(|m| i32::try_from(m).ok()).unwrap_or(-1))
                    .bind(&held.resource)
                    .bind(held.state.as_str())
                    .bind(held.attempts)
                    .bind(held.next_attempt_at)
                    .execute(&mut *tx)
                    .await?;
            }
            for event in &settlement.settled {
                sqlx::query(SETTLED).bind(id).bind(event).execute(&mut *tx).await?;
            }
            if let Some(cursor) = &settlement.cursor_to {
                sqlx::query(CURSOR).bind(id).bind(cursor).execute(&mut *tx).await?;
            }
            if let Some(error) = &settlement.last_error {
                sqlx::query(LAST_ERROR).bind(id).bind(error).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            true
        });
        Ok(written)
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
