//! Webhook endpoints of a tenant, how far each has got in each directory's change feed (a
//! cursor, and the events held back or sent ahead of it: migration 0027), and the log of
//! delivery attempts (migration 0012).

use crate::action::on_open;
use chrono::{DateTime, Utc};

use crate::ids::{DeliveryId, DirectoryId, EventId, TenantId, WebhookId};
use crate::scope::TenantScope;
use crate::secrets::{SecretKeys, SecretSlot};
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

/// Where an endpoint is in one directory's feed: every event up to `delivered_seq` has been
/// dealt with (delivered, given up on, or held back in [`OutstandingEvent`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookCursor {
    pub directory: DirectoryId,
    pub delivered_seq: i64,
}

impl WebhookCursor {
    pub fn start(directory: DirectoryId) -> Self {
        Self { directory, delivered_seq: 0 }
    }
}

/// Why an event an endpoint's cursor does not reflect has a row (migration 0027).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutstandingState {
    /// Behind the cursor, not delivered: refused, or behind a refused event of its
    /// resource. Retried in resource order.
    Held,
    /// Ahead of the cursor, already delivered (a revocation taken out of a backlog): the
    /// cursor skips it.
    Sent,
}

impl OutstandingState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutstandingState::Held => "held",
            OutstandingState::Sent => "sent",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "held" => Ok(OutstandingState::Held),
            "sent" => Ok(OutstandingState::Sent),
            other => Err(StoreError::Corrupt(format!("unknown outstanding state {other:?}"))),
        }
    }
}

/// An event of one directory that an endpoint's cursor does not tell the state of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingEvent {
    pub directory: DirectoryId,
    pub seq: i64,
    /// The lane it belongs to: `User:<id>`, `Group:<id>` or `Directory:<id>`.
    pub resource: String,
    pub state: OutstandingState,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Not before this time (backoff after a failure); `None`: as soon as its turn comes.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What one round of deliveries to an endpoint in one directory came to, written at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// The attempts made, for the log.
    pub attempts: Vec<DeliveryAttempt>,
    /// Rows to write (replacing a row of the same event).
    pub outstanding: Vec<OutstandingEvent>,
    /// Events whose rows go: delivered, or given up on.
    pub settled: Vec<i64>,
    /// Move the cursor to here (never back).
    pub cursor_to: Option<i64>,
    /// Deactivations and deletions delivered (2xx): their revocation records note the
    /// first delivery, as `webhook:<endpoint>`.
    pub revocations_delivered: Vec<(i64, DateTime<Utc>)>,
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

/// How far an endpoint is behind its tenant's directories (for `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointLag {
    pub endpoint: WebhookId,
    /// When the oldest change the endpoint has not yet received happened: the first one
    /// past its cursor in any directory, or a held one (`None`: it has received them all).
    pub oldest_undelivered_at: Option<DateTime<Utc>>,
    /// Events held back: refused, or behind a refused event of their resource.
    pub held: i64,
}

type WebhookRow = (TenantId, WebhookId, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn webhook_from_row(
    keys: &SecretKeys,
    (tenant, id, url, secret, created_at, disabled_at): WebhookRow,
) -> Result<Webhook, StoreError> {
    let secret = keys.open(SecretSlot::TenantWebhook { tenant, id }, &secret)?;
    Ok(Webhook { tenant, id, url, secret, created_at, disabled_at })
}

const WEBHOOK_COLUMNS: &str = "tenant_id, id, url, secret, created_at, disabled_at";

impl Store {
    /// Every endpoint that is not disabled, in every tenant: the delivery worker's list.
    pub async fn deliverable_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let query = format!("SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id");
        let rows: Vec<WebhookRow> = as_deployment!(self, conn => sqlx::query_as(&query).fetch_all(&mut *conn).await?);
        let keys = self.secret_keys()?;
        rows.into_iter().map(|row| webhook_from_row(keys, row)).collect()
    }

    /// The tenants with at least one endpoint that is not disabled.
    pub async fn tenants_with_webhooks(&self) -> Result<Vec<TenantId>, StoreError> {
        const QUERY: &str =
            "SELECT DISTINCT tenant_id FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY tenant_id";
        Ok(as_deployment!(self, conn => sqlx::query_scalar(QUERY).fetch_all(&mut *conn).await?))
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
        // In this process's queue of SQLite writers: outside it, a write only retries on
        // SQLite's busy timeout while the queued writers hand the lock to each other, and
        // under load it waited out the whole timeout ("database is locked").
        let updated = writing_as_deployment!(self, conn => sqlx::query(QUERY)
            .bind(owner)
            .bind(until)
            .bind(tenant)
            .bind(endpoint)
            .bind(now)
            .execute(&mut *conn)
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
            as_tenant!(self, conn => sqlx::query_as(&query).bind(self.tenant).fetch_all(&mut *conn).await?);
        let keys = self.store.secret_keys()?;
        rows.into_iter().map(|row| webhook_from_row(keys, row)).collect()
    }

    /// How far behind each of the tenant's delivering endpoints is. Per directory (deleted
    /// ones too: their events are delivered), the first change past the cursor that was
    /// not sent ahead of it, found through the primary key, and the held ones; so the
    /// cost grows with endpoints × directories, not with the backlog. An endpoint of a
    /// tenant without directories is listed with nothing to deliver.
    pub async fn webhook_lag(&self) -> Result<Vec<EndpointLag>, StoreError> {
        const QUERY: &str = "SELECT w.id, \
               (SELECT c.occurred_at FROM directory_changes c \
                 WHERE c.tenant_id = d.tenant_id AND c.directory_id = d.id AND c.seq > COALESCE(k.delivered_seq, 0) \
                   AND NOT EXISTS (SELECT 1 FROM webhook_outstanding s WHERE s.tenant_id = c.tenant_id \
                       AND s.endpoint_id = w.id AND s.directory_id = c.directory_id AND s.seq = c.seq \
                       AND s.state = 'sent') \
                 ORDER BY c.seq LIMIT 1), \
               (SELECT MIN(c.occurred_at) FROM webhook_outstanding h JOIN directory_changes c \
                   ON c.tenant_id = h.tenant_id AND c.directory_id = h.directory_id AND c.seq = h.seq \
                 WHERE h.tenant_id = w.tenant_id AND h.endpoint_id = w.id AND h.directory_id = d.id \
                   AND h.state = 'held'), \
               (SELECT COUNT(*) FROM webhook_outstanding h WHERE h.tenant_id = w.tenant_id \
                   AND h.endpoint_id = w.id AND h.directory_id = d.id AND h.state = 'held') \
             FROM webhook_endpoints w \
             LEFT JOIN directories d ON d.tenant_id = w.tenant_id \
             LEFT JOIN webhook_cursors k ON k.tenant_id = w.tenant_id AND k.endpoint_id = w.id \
                 AND k.directory_id = d.id \
             WHERE w.tenant_id = $1 AND w.disabled_at IS NULL \
             ORDER BY w.id";
        type Row = (WebhookId, Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64);
        let rows: Vec<Row> =
            as_tenant!(self, conn => sqlx::query_as(QUERY).bind(self.tenant).fetch_all(&mut *conn).await?);
        let mut lags: Vec<EndpointLag> = Vec::new();
        for (endpoint, next, held_since, held) in rows {
            let oldest = next.into_iter().chain(held_since).min();
            match lags.last_mut() {
                Some(lag) if lag.endpoint == endpoint => {
                    lag.oldest_undelivered_at = lag.oldest_undelivered_at.into_iter().chain(oldest).min();
                    lag.held += held;
                }
                _ => lags.push(EndpointLag { endpoint, oldest_undelivered_at: oldest, held }),
            }
        }
        Ok(lags)
    }

    /// Where `endpoint` is in each of the tenant's directories (a directory it has not
    /// started on has no entry).
    pub async fn webhook_cursors(&self, endpoint: WebhookId) -> Result<Vec<WebhookCursor>, StoreError> {
        const QUERY: &str =
            "SELECT directory_id, delivered_seq FROM webhook_cursors WHERE tenant_id = $1 AND endpoint_id = $2";
        let rows: Vec<(DirectoryId, i64)> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(endpoint).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(directory, delivered_seq)| WebhookCursor { directory, delivered_seq }).collect())
    }

    /// Events of the endpoint that its cursors do not reflect, in event order per directory.
    pub async fn webhook_outstanding(&self, endpoint: WebhookId) -> Result<Vec<OutstandingEvent>, StoreError> {
        const QUERY: &str = "SELECT directory_id, seq, resource, state, attempts, next_attempt_at \
             FROM webhook_outstanding WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY directory_id, seq";
        type Row = (DirectoryId, i64, String, String, i32, Option<DateTime<Utc>>);
        let rows: Vec<Row> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(QUERY).bind(self.tenant).bind(endpoint).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(directory, seq, resource, state, attempts, next_attempt_at)| {
                Ok(OutstandingEvent {
                    directory,
                    seq,
                    resource,
                    state: OutstandingState::parse(&state)?,
                    attempts,
                    next_attempt_at,
                })
            })
            .collect()
    }

    /// Writes what a round of deliveries in `directory` came to, in one transaction and only
    /// while `owner` holds the endpoint's lease (false, and nothing written, otherwise): the
    /// attempts, the held and sent rows, the rows settled, and the cursor, which only moves
    /// forward (sent rows it passes go).
    pub async fn settle_deliveries(
        &self,
        endpoint: WebhookId,
        directory: DirectoryId,
        owner: &str,
        now: DateTime<Utc>,
        settlement: &Settlement,
    ) -> Result<bool, StoreError> {
        // Touching the lease row also locks it (PostgreSQL) until the commit, so a process
        // taking an expired lease over waits for this round to be written.
        const HOLDS_LEASE: &str = "UPDATE webhook_endpoints SET lease_owner = lease_owner \
             WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND lease_until > $4";
        const OUTSTANDING: &str = "INSERT INTO webhook_outstanding \
             (tenant_id, endpoint_id, directory_id, seq, resource, state, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, endpoint_id, directory_id, seq) \
             DO UPDATE SET resource = excluded.resource, state = excluded.state, attempts = excluded.attempts, \
             next_attempt_at = excluded.next_attempt_at";
        const SETTLED: &str = "DELETE FROM webhook_outstanding WHERE tenant_id = $1 AND endpoint_id = $2 AND directory_id = $3 AND seq = $4";
        const CURSOR: &str = "INSERT INTO webhook_cursors (tenant_id, endpoint_id, directory_id, delivered_seq) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, endpoint_id, directory_id) DO UPDATE SET \
             delivered_seq = CASE WHEN excluded.delivered_seq > webhook_cursors.delivered_seq \
             THEN excluded.delivered_seq ELSE webhook_cursors.delivered_seq END";
        const PASSED: &str = "DELETE FROM webhook_outstanding WHERE tenant_id = $1 AND endpoint_id = $2 \
             AND directory_id = $3 AND state = 'sent' AND seq <= $4";
        // A delivery is the deliverer's bookkeeping, not an action of someone: no record.
        let mut action = self.begin_action().await?;
        let leased = on_open!(&mut action.open, tx => sqlx::query(HOLDS_LEASE)
            .bind(self.tenant)
            .bind(endpoint)
            .bind(owner)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected() == 1))?;
        if !leased {
            return Ok(false);
        }
        for attempt in &settlement.attempts {
            action.log_delivery(endpoint, attempt).await?;
        }
        for row in &settlement.outstanding {
            on_open!(&mut action.open, tx => sqlx::query(OUTSTANDING)
                .bind(self.tenant)
                .bind(endpoint)
                .bind(row.directory)
                .bind(row.seq)
                .bind(&row.resource)
                .bind(row.state.as_str())
                .bind(row.attempts)
                .bind(row.next_attempt_at)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        for seq in &settlement.settled {
            on_open!(&mut action.open, tx => sqlx::query(SETTLED)
                .bind(self.tenant)
                .bind(endpoint)
                .bind(directory)
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        const DELIVERED: &str = "UPDATE revocations SET delivered_at = $4, delivered_via = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND seq = $3 AND delivered_at IS NULL";
        let via = format!("webhook:{endpoint}");
        for (seq, at) in &settlement.revocations_delivered {
            on_open!(&mut action.open, tx => sqlx::query(DELIVERED)
                .bind(self.tenant)
                .bind(directory)
                .bind(seq)
                .bind(at)
                .bind(&via)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        if let Some(cursor) = settlement.cursor_to {
            on_open!(&mut action.open, tx => sqlx::query(CURSOR)
                .bind(self.tenant)
                .bind(endpoint)
                .bind(directory)
                .bind(cursor)
                .execute(&mut **tx)
                .await
                .map(drop))?;
            on_open!(&mut action.open, tx => sqlx::query(PASSED)
                .bind(self.tenant)
                .bind(endpoint)
                .bind(directory)
                .bind(cursor)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        action.finish().await?;
        Ok(true)
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
        let sealed = self
            .store
            .secret_keys()?
            .seal(SecretSlot::TenantWebhook { tenant: self.tenant, id: webhook.id }, &webhook.secret)?;
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(webhook.id)
            .bind(&webhook.url)
            .bind(&sealed)
            .bind(webhook.created_at)
            .execute(&mut **tx)
            .await
            .map(drop)?);
        Ok(())
    }
}
