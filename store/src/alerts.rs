//! Alerts (migration 0029) and the facts their conditions are judged on: a tenant's open
//! and recent alerts, opening one per condition, claiming a notification so that one
//! server process sends it, resolving; and per directory or endpoint what the conditions
//! read (setup, silence threshold, tokens, webhook attempts). The deployment's own alerts
//! (migration 0031: about the operator's webhook endpoints, which no tenant owns) live the
//! same life in `operator_alerts`, reached from the store itself.

use crate::action::on_open;
use crate::ids::{AlertId, DirectoryId, IdentityProvider, OperatorWebhookId, TenantId, WebhookId};
use crate::scope::TenantScope;
use crate::{Store, StoreError, TenantAction};
use chrono::{DateTime, Utc};

/// One alert of a tenant, or of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `None`: the deployment's own (about the operator's webhook endpoints).
    pub tenant: Option<TenantId>,
    pub id: AlertId,
    pub directory: Option<DirectoryId>,
    /// `revocation_overdue`, `idp_silent`, `token_expiring`, `webhook_failing`, `scim_errors`,
    /// `changes_held`; the deployment's: `operator_webhook_failing`.
    pub kind: String,
    /// What the condition is about (one open alert per subject).
    pub subject: String,
    /// The condition in words, as last seen.
    pub summary: String,
    pub opened_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    pub notifications: i64,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_sent: bool,
}

/// An alert to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub id: AlertId,
    pub directory: Option<DirectoryId>,
    pub kind: String,
    pub subject: String,
    pub summary: String,
    pub opened_at: DateTime<Utc>,
}

/// What the alert conditions read of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDirectory {
    pub id: DirectoryId,
    pub display_name: String,
    pub idp: IdentityProvider,
    /// When setup completed (the self-test passed or the identity provider's first request).
    pub setup_completed_at: Option<DateTime<Utc>>,
    /// The admin's silence threshold in hours; `None`: the provider's default; `Some(0)`: off.
    pub silence_alert_hours: Option<i32>,
    /// Active OAuth clients (an identity provider holding one fetches fresh tokens itself).
    pub active_oauth_clients: i64,
}

/// What the alert conditions read of a webhook endpoint: a tenant's ([`WebhookHealth`]) or
/// the operator's ([`OperatorWebhookHealth`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth<Id> {
    pub id: Id,
    pub url: String,
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// The first failed attempt after the last delivery (`None`: no failure since).
    pub failing_since: Option<DateTime<Utc>>,
    /// Events held back: refused, or behind a refused event of their resource.
    pub held: i64,
    /// Events given up on since the time asked for and not delivered by a replay since.
    pub dead_letters: i64,
}

pub type WebhookHealth = EndpointHealth<WebhookId>;
pub type OperatorWebhookHealth = EndpointHealth<OperatorWebhookId>;

const COLUMNS: &str = "id, directory_id, kind, subject, summary, opened_at, notified_at, notifications, \
     resolved_at, resolution_sent";

type Row = (
    AlertId,
    Option<DirectoryId>,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i64,
    Option<DateTime<Utc>>,
    bool,
);

fn from_row(tenant: Option<TenantId>, row: Row) -> Alert {
    let (id, directory, kind, subject, summary, opened_at, notified_at, notifications, resolved_at, resolution_sent) =
        row;
    Alert {
        tenant,
        id,
        directory,
        kind,
        subject,
        summary,
        opened_at,
        notified_at,
        notifications,
        resolved_at,
        resolution_sent,
    }
}

impl TenantScope<'_> {
    /// The tenant's open alerts, oldest first.
    pub async fn open_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 AND resolved_at IS NULL ORDER BY opened_at, id");
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows.into_iter().map(|row| from_row(Some(self.tenant), row)).collect())
    }

    /// The tenant's alerts resolved but whose "resolved" notification has not gone out.
    pub async fn unannounced_resolutions(&self) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 AND resolved_at IS NOT NULL \
             AND resolution_sent = false AND notifications > 0 ORDER BY resolved_at, id"
        );
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows.into_iter().map(|row| from_row(Some(self.tenant), row)).collect())
    }

    /// The tenant's newest alerts, open or resolved, newest first.
    pub async fn recent_alerts(&self, limit: i64) -> Result<Vec<Alert>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM alerts WHERE tenant_id = $1 ORDER BY opened_at DESC, id DESC LIMIT $2");
        let rows: Vec<Row> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows.into_iter().map(|row| from_row(Some(self.tenant), row)).collect())
    }

    /// Claims the next notification of an open alert: true for exactly one caller among
    /// server processes that saw it last notified at `previous`. The summary is updated.
    pub async fn claim_alert_notification(
        &self,
        alert: AlertId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        summary: &str,
    ) -> Result<bool, StoreError> {
        const FIRST: &str = "UPDATE alerts SET notified_at = $3, notifications = notifications + 1, summary = $4 \
             WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NULL AND notified_at IS NULL";
        const AGAIN: &str = "UPDATE alerts SET notified_at = $3, notifications = notifications + 1, summary = $4 \
             WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NULL AND notified_at = $5";
        // Bookkeeping of the notifier, not an action of someone: no record.
        let mut action = self.begin_action().await?;
        let claimed = on_open!(&mut action.open, tx => {
            let statement = sqlx::query(if previous.is_some() { AGAIN } else { FIRST })
                .bind(self.tenant)
                .bind(alert)
                .bind(at)
                .bind(summary);
            let statement = match previous {
                Some(previous) => statement.bind(previous),
                None => statement,
            };
            statement.execute(&mut **tx).await.map(|done| done.rows_affected())
        })?;
        action.finish().await?;
        Ok(claimed == 1)
    }

    /// Gives a claimed notification back (it could not be sent): the next round tries again.
    pub async fn release_alert_notification(
        &self,
        alert: AlertId,
        previous: Option<DateTime<Utc>>,
        claimed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const RELEASE: &str = "UPDATE alerts SET notified_at = $4, notifications = notifications - 1 \
             WHERE tenant_id = $1 AND id = $2 AND notified_at = $3";
        let mut action = self.begin_action().await?;
        on_open!(&mut action.open, tx => sqlx::query(RELEASE)
            .bind(self.tenant)
            .bind(alert)
            .bind(claimed_at)
            .bind(previous)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        action.finish().await
    }

    /// Claims (`sent: true`) or gives back (`sent: false`) the "resolved" notification of a
    /// resolved alert; true for the one caller that changed it.
    pub async fn mark_resolution_sent(&self, alert: AlertId, sent: bool) -> Result<bool, StoreError> {
        const MARK: &str = "UPDATE alerts SET resolution_sent = $3 \
             WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NOT NULL AND resolution_sent = $4";
        let mut action = self.begin_action().await?;
        let changed = on_open!(&mut action.open, tx => sqlx::query(MARK)
            .bind(self.tenant)
            .bind(alert)
            .bind(sent)
            .bind(!sent)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        action.finish().await?;
        Ok(changed == 1)
    }

    /// The tenant's directories in use, with what the alert conditions read of them.
    pub async fn alert_directories(&self) -> Result<Vec<AlertDirectory>, StoreError> {
        const QUERY: &str = "SELECT d.id, d.display_name, d.idp, d.setup_completed_at, d.silence_alert_hours, \
             (SELECT COUNT(*) FROM directory_oauth_clients c WHERE c.tenant_id = d.tenant_id \
              AND c.directory_id = d.id AND c.revoked_at IS NULL) \
             FROM directories d WHERE d.tenant_id = $1 AND d.deleted_at IS NULL ORDER BY d.created_at, d.id";
        type DirectoryRow = (DirectoryId, String, String, Option<DateTime<Utc>>, Option<i32>, i64);
        let rows: Vec<DirectoryRow> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter()
            .map(|(id, display_name, idp, setup_completed_at, silence_alert_hours, active_oauth_clients)| {
                let idp = idp.parse().map_err(|e| StoreError::Corrupt(format!("directory {id}: {e}")))?;
                Ok(AlertDirectory {
                    id,
                    display_name,
                    idp,
                    setup_completed_at,
                    silence_alert_hours,
                    active_oauth_clients,
                })
            })
            .collect()
    }

    /// The health of each of the tenant's enabled webhook endpoints; dead letters counted
    /// since `dead_since`.
    pub async fn webhook_health(&self, dead_since: DateTime<Utc>) -> Result<Vec<WebhookHealth>, StoreError> {
        const ENDPOINTS: &str = "SELECT id, url FROM webhook_endpoints \
             WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY created_at, id";
        const LAST_DELIVERED: &str = "SELECT MAX(attempted_at) FROM webhook_deliveries \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND outcome = 'delivered'";
        const FAILING_SINCE: &str = "SELECT MIN(attempted_at) FROM webhook_deliveries \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND outcome = 'failed' AND ($3 IS NULL OR attempted_at > $3)";
        const HELD: &str = "SELECT COUNT(*) FROM webhook_outstanding \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND state = 'held'";
        const DEAD: &str = "SELECT COUNT(*) FROM webhook_deliveries d \
             WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.outcome = 'dead' AND d.attempted_at >= $3 \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries r WHERE r.tenant_id = d.tenant_id \
                 AND r.endpoint_id = d.endpoint_id AND r.event_id = d.event_id AND r.outcome = 'delivered' \
                 AND r.attempted_at >= d.attempted_at)";
        as_tenant!(self, conn => {
            let endpoints: Vec<(WebhookId, String)> =
                sqlx::query_as(ENDPOINTS).bind(self.tenant).fetch_all(&mut *conn).await?;
            let mut health = Vec::with_capacity(endpoints.len());
            for (id, url) in endpoints {
                let last_delivered_at: Option<DateTime<Utc>> =
                    sqlx::query_scalar(LAST_DELIVERED).bind(self.tenant).bind(id).fetch_one(&mut *conn).await?;
                let failing_since: Option<DateTime<Utc>> = sqlx::query_scalar(FAILING_SINCE)
                    .bind(self.tenant)
                    .bind(id)
                    .bind(last_delivered_at)
                    .fetch_one(&mut *conn)
                    .await?;
                let held: i64 = sqlx::query_scalar(HELD).bind(self.tenant).bind(id).fetch_one(&mut *conn).await?;
                let dead_letters: i64 = sqlx::query_scalar(DEAD)
                    .bind(self.tenant)
                    .bind(id)
                    .bind(dead_since)
                    .fetch_one(&mut *conn)
                    .await?;
                health.push(WebhookHealth { id, url, last_delivered_at, failing_since, held, dead_letters });
            }
            Ok(health)
        })
    }
}

impl TenantAction<'_> {
    /// Opens an alert unless one about the same subject is open (then `false`: another
    /// process, or an earlier round, opened it).
    pub async fn open_alert(&mut self, alert: &NewAlert) -> Result<bool, StoreError> {
        const INSERT: &str = "INSERT INTO alerts (tenant_id, id, directory_id, kind, subject, summary, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
        let inserted = on_open!(&mut self.open, tx => sqlx::query(INSERT)
            .bind(self.tenant)
            .bind(alert.id)
            .bind(alert.directory)
            .bind(&alert.kind)
            .bind(&alert.subject)
            .bind(&alert.summary)
            .bind(alert.opened_at)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Resolves an open alert (`false`: it was resolved already).
    pub async fn resolve_alert(&mut self, alert: AlertId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const UPDATE: &str =
            "UPDATE alerts SET resolved_at = $3 WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NULL";
        let resolved = on_open!(&mut self.open, tx => sqlx::query(UPDATE)
            .bind(self.tenant)
            .bind(alert)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(resolved == 1)
    }

    /// Sets how long a directory's identity provider may be silent before an alert
    /// (`None`: the provider's default; `Some(0)`: never). `false`: no such directory.
    pub async fn set_silence_alert_hours(
        &mut self,
        directory: DirectoryId,
        hours: Option<i32>,
    ) -> Result<bool, StoreError> {
        const UPDATE: &str = "UPDATE directories SET silence_alert_hours = $3 \
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        let updated = on_open!(&mut self.open, tx => sqlx::query(UPDATE)
            .bind(self.tenant)
            .bind(directory)
            .bind(hours)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated == 1)
    }
}

/// The deployment's own alerts (`operator_alerts`): the same statements as a tenant's,
/// without a tenant.
impl Store {
    /// The deployment's open alerts, oldest first.
    pub async fn open_operator_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let sql =
            format!("SELECT {OPERATOR_COLUMNS} FROM operator_alerts WHERE resolved_at IS NULL ORDER BY opened_at, id");
        let rows: Vec<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|row| from_row(None, row)).collect())
    }

    /// The deployment's alerts resolved but whose "resolved" notification has not gone out.
    pub async fn unannounced_operator_resolutions(&self) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {OPERATOR_COLUMNS} FROM operator_alerts WHERE resolved_at IS NOT NULL \
             AND resolution_sent = false AND notifications > 0 ORDER BY resolved_at, id"
        );
        let rows: Vec<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|row| from_row(None, row)).collect())
    }

    /// Opens a deployment alert unless one about the same subject is open (`false`).
    pub async fn open_operator_alert(&self, alert: &NewAlert) -> Result<bool, StoreError> {
        const INSERT: &str = "INSERT INTO operator_alerts (id, kind, subject, summary, opened_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        let inserted = writing_on_pool!(self, pool => sqlx::query(INSERT)
            .bind(alert.id)
            .bind(&alert.kind)
            .bind(&alert.subject)
            .bind(&alert.summary)
            .bind(alert.opened_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(inserted == 1)
    }

    /// Resolves an open deployment alert; `true` for the one caller that did.
    pub async fn resolve_operator_alert(&self, alert: AlertId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const UPDATE: &str = "UPDATE operator_alerts SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL";
        let resolved = writing_on_pool!(self, pool =>
            sqlx::query(UPDATE).bind(alert).bind(at).execute(pool).await?.rows_affected());
        Ok(resolved == 1)
    }

    /// As [`TenantScope::claim_alert_notification`], for a deployment alert.
    pub async fn claim_operator_alert_notification(
        &self,
        alert: AlertId,
        previous: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        summary: &str,
    ) -> Result<bool, StoreError> {
        const CLAIM: &str = "UPDATE operator_alerts SET notified_at = $2, notifications = notifications + 1, \
             summary = $3 WHERE id = $1 AND resolved_at IS NULL \
             AND (notified_at = $4 OR (notified_at IS NULL AND $5))";
        let claimed = writing_on_pool!(self, pool => sqlx::query(CLAIM)
            .bind(alert)
            .bind(at)
            .bind(summary)
            .bind(previous)
            .bind(previous.is_none())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(claimed == 1)
    }

    /// As [`TenantScope::release_alert_notification`], for a deployment alert.
    pub async fn release_operator_alert_notification(
        &self,
        alert: AlertId,
        previous: Option<DateTime<Utc>>,
        claimed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const RELEASE: &str = "UPDATE operator_alerts SET notified_at = $3, notifications = notifications - 1 \
             WHERE id = $1 AND notified_at = $2";
        writing_on_pool!(self, pool =>
            sqlx::query(RELEASE).bind(alert).bind(claimed_at).bind(previous).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// As [`TenantScope::mark_resolution_sent`], for a deployment alert.
    pub async fn mark_operator_resolution_sent(&self, alert: AlertId, sent: bool) -> Result<bool, StoreError> {
        const MARK: &str = "UPDATE operator_alerts SET resolution_sent = $2 \
             WHERE id = $1 AND resolved_at IS NOT NULL AND resolution_sent = $3";
        let changed = writing_on_pool!(self, pool =>
            sqlx::query(MARK).bind(alert).bind(sent).bind(!sent).execute(pool).await?.rows_affected());
        Ok(changed == 1)
    }

    /// The health of each of the operator's enabled webhook endpoints; dead letters counted
    /// since `dead_since`.
    pub async fn operator_webhook_health(
        &self,
        dead_since: DateTime<Utc>,
    ) -> Result<Vec<OperatorWebhookHealth>, StoreError> {
        const ENDPOINTS: &str = "SELECT id, url FROM operator_webhooks WHERE enabled ORDER BY created_at, id";
        const LAST_DELIVERED: &str = "SELECT MAX(attempted_at) FROM operator_webhook_deliveries WHERE endpoint_id = $1 AND outcome = 'delivered'";
        const FAILING_SINCE: &str = "SELECT MIN(attempted_at) FROM operator_webhook_deliveries \
             WHERE endpoint_id = $1 AND outcome = 'failed' AND ($2 IS NULL OR attempted_at > $2)";
        const HELD: &str =
            "SELECT COUNT(*) FROM operator_webhook_outstanding WHERE endpoint_id = $1 AND state = 'held'";
        const DEAD: &str = "SELECT COUNT(*) FROM operator_webhook_deliveries d \
             WHERE d.endpoint_id = $1 AND d.outcome = 'dead' AND d.attempted_at >= $2 \
             AND NOT EXISTS (SELECT 1 FROM operator_webhook_deliveries r WHERE r.endpoint_id = d.endpoint_id \
                 AND r.event_id = d.event_id AND r.outcome = 'delivered' AND r.attempted_at >= d.attempted_at)";
        on_pool!(&self.pool, pool => {
            let endpoints: Vec<(OperatorWebhookId, String)> = sqlx::query_as(ENDPOINTS).fetch_all(pool).await?;
            let mut health = Vec::with_capacity(endpoints.len());
            for (id, url) in endpoints {
                let last_delivered_at: Option<DateTime<Utc>> =
                    sqlx::query_scalar(LAST_DELIVERED).bind(id).fetch_one(pool).await?;
                let failing_since: Option<DateTime<Utc>> =
                    sqlx::query_scalar(FAILING_SINCE).bind(id).bind(last_delivered_at).fetch_one(pool).await?;
                let held: i64 = sqlx::query_scalar(HELD).bind(id).fetch_one(pool).await?;
                let dead_letters: i64 = sqlx::query_scalar(DEAD).bind(id).bind(dead_since).fetch_one(pool).await?;
                health.push(EndpointHealth { id, url, last_delivered_at, failing_since, held, dead_letters });
            }
            Ok(health)
        })
    }
}

/// A deployment alert's columns, in [`Row`]'s order (it has no directory).
const OPERATOR_COLUMNS: &str = "id, NULL, kind, subject, summary, opened_at, notified_at, notifications, \
     resolved_at, resolution_sent";
