//! What a tenant's admins (and the operator API) do with the tenant's endpoints: see how
//! far each got in each directory, read its delivery log and dead letters, register one,
//! replay a dead letter. Every change is recorded in the tenant's audit trail with the
//! actor who made it, in the same call, so no caller can forget it.

use chrono::{DateTime, Utc};
use serde_json::json;
use store::{
    DeliveryAttempt, DeliveryId, DeliveryOutcome, DirectoryId, OutstandingEvent, OutstandingState, Store, TenantId,
    WebhookCursor, WebhookId,
};

use super::{Deliverer, WebhookError, WebhookOptions};
use crate::actor::Actor;
use crate::{Effects, ServiceError};

/// How far an endpoint got in one directory's change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryProgress {
    pub directory: DirectoryId,
    /// The identity provider feeding the directory, to name it for people.
    pub idp: store::IdentityProvider,
    /// Every event up to this sequence number is delivered, dead-lettered or held back
    /// (0: none yet).
    pub delivered_seq: i64,
    /// Events held back: refused, or waiting behind a refused event of their resource.
    pub held_back: usize,
    /// Users, groups (or the directory) whose events wait for a refused one.
    pub failing_resources: usize,
    /// When the first of those is tried again (`None`: nothing is waiting).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One endpoint of a tenant, without its secret, with its progress per directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointOverview {
    pub id: WebhookId,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Every directory of the tenant, including those the endpoint has not started on.
    pub directories: Vec<DirectoryProgress>,
}

/// A dead-lettered event and whether a replay has since delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub attempt: DeliveryAttempt,
    /// When a replay delivered it; `None` while it is still undelivered.
    pub replayed_at: Option<DateTime<Utc>>,
}

/// An endpoint's recent attempts and dead letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointActivity {
    pub attempts: Vec<DeliveryAttempt>,
    pub dead_letters: Vec<DeadLetter>,
}

/// Attempts read to find dead letters and their replays: a replay older than this many
/// attempts is not seen, so such a dead letter shows as not yet replayed.
const DEAD_LETTER_WINDOW: i64 = 2000;

/// The tenant's endpoints, oldest first, with their progress in each directory.
pub async fn endpoints_overview(store: &Store, tenant: TenantId) -> Result<Vec<EndpointOverview>, ServiceError> {
    let scope = store.tenant(tenant);
    let directories = scope.directories().await?;
    let mut overview = Vec::new();
    for webhook in scope.webhooks().await? {
        let cursors = scope.webhook_cursors(webhook.id).await?;
        let outstanding = scope.webhook_outstanding(webhook.id).await?;
        let progress = directories
            .iter()
            .map(|directory| {
                let cursor = cursors
                    .iter()
                    .find(|c| c.directory == directory.id)
                    .copied()
                    .unwrap_or_else(|| WebhookCursor::start(directory.id));
                let held: Vec<&OutstandingEvent> = outstanding
                    .iter()
                    .filter(|row| row.directory == directory.id && row.state == OutstandingState::Held)
                    .collect();
                let resources: std::collections::HashSet<&str> = held.iter().map(|row| row.resource.as_str()).collect();
                DirectoryProgress {
                    directory: directory.id,
                    idp: directory.idp,
                    delivered_seq: cursor.delivered_seq,
                    held_back: held.len(),
                    failing_resources: resources.len(),
                    next_attempt_at: held.iter().filter_map(|row| row.next_attempt_at).min(),
                }
            })
            .collect();
        overview.push(EndpointOverview {
            id: webhook.id,
            url: webhook.url,
            created_at: webhook.created_at,
            disabled_at: webhook.disabled_at,
            directories: progress,
        });
    }
    Ok(overview)
}

/// Fails with [`WebhookError::UnknownWebhook`] unless `endpoint` is one of the tenant's.
async fn owned(store: &Store, tenant: TenantId, endpoint: WebhookId) -> Result<(), WebhookError> {
    if store.tenant(tenant).webhooks().await?.iter().any(|w| w.id == endpoint) {
        Ok(())
    } else {
        Err(WebhookError::UnknownWebhook(endpoint))
    }
}

/// The endpoint's newest attempts (at most `limit`, newest first); with `outcome`, only those.
pub async fn delivery_log(
    store: &Store,
    tenant: TenantId,
    endpoint: WebhookId,
    outcome: Option<DeliveryOutcome>,
    limit: i64,
) -> Result<Vec<DeliveryAttempt>, WebhookError> {
    owned(store, tenant, endpoint).await?;
    let mut attempts = store.tenant(tenant).webhook_deliveries(endpoint, outcome, limit.max(1)).await?;
    attempts.reverse();
    Ok(attempts)
}

/// The endpoint's newest `limit` attempts and its dead letters (at most `limit`), newest first.
pub async fn endpoint_activity(
    store: &Store,
    tenant: TenantId,
    endpoint: WebhookId,
    limit: usize,
) -> Result<EndpointActivity, WebhookError> {
    let log = delivery_log(store, tenant, endpoint, None, DEAD_LETTER_WINDOW).await?;
    let dead_letters = dead_letters_in(&log).into_iter().take(limit).collect();
    Ok(EndpointActivity { attempts: log.into_iter().take(limit).collect(), dead_letters })
}

/// The dead letters of a log (newest first, as the log is), each with the time a later
/// attempt delivered the same event, if one did.
pub fn dead_letters_in(log_newest_first: &[DeliveryAttempt]) -> Vec<DeadLetter> {
    log_newest_first
        .iter()
        .enumerate()
        .filter(|(_, attempt)| attempt.outcome == DeliveryOutcome::Dead)
        .map(|(index, dead)| {
            // Later attempts come before it in a newest-first log.
            let replayed_at = log_newest_first[..index]
                .iter()
                .filter(|later| later.event == dead.event && later.outcome == DeliveryOutcome::Delivered)
                .map(|later| later.attempted_at)
                .min();
            DeadLetter { attempt: dead.clone(), replayed_at }
        })
        .collect()
}

/// Sends a dead letter again (see [`Deliverer::resend_dead_letter`]); logs the attempt and
/// records `webhook.dead_letter_replayed` with whether it was delivered, in one
/// transaction. Returns that.
pub async fn replay(
    store: &Store,
    options: &WebhookOptions,
    tenant: TenantId,
    endpoint: WebhookId,
    dead_letter: DeliveryId,
    actor: &Actor,
    effects: &Effects,
) -> Result<bool, WebhookError> {
    let now = effects.now();
    let deliverer = Deliverer::new(store.clone(), options.clone(), effects.clone())?;
    // The request to the receiver cannot sit inside a transaction; its logged attempt and
    // the record of who asked commit together once it has an answer.
    let attempt = deliverer.resend_dead_letter(tenant, endpoint, dead_letter).await?;
    let delivered = attempt.outcome == DeliveryOutcome::Delivered;
    let detail = json!({"webhook": endpoint.to_string(), "delivery": dead_letter.to_string(), "delivered": delivered});
    let mut action = store.tenant(tenant).begin_action().await?;
    action.log_delivery(endpoint, &attempt).await?;
    action.commit(actor.record("webhook.dead_letter_replayed", None, detail, now)).await?;
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use store::EventId;
    use store::testing::FreshId as _;

    use super::*;

    fn attempt(event: EventId, seq: i64, minute: u32, outcome: DeliveryOutcome) -> DeliveryAttempt {
        DeliveryAttempt {
            id: DeliveryId::fresh(),
            directory: DirectoryId::fresh(),
            event,
            seq,
            attempt: 1,
            attempted_at: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 1, 10, minute, 0).unwrap(),
            outcome,
            status_code: Some(500),
            error: None,
        }
    }

    #[test]
    fn a_dead_letter_counts_as_replayed_only_when_a_later_attempt_delivered_its_event() {
        let (poison, other) = (EventId::fresh(), EventId::fresh());
        // Newest first: a failed replay, a delivered replay, another event's dead letter,
        // then the dead letter itself.
        let log = [
            attempt(poison, 2, 9, DeliveryOutcome::Failed),
            attempt(poison, 2, 8, DeliveryOutcome::Delivered),
            attempt(other, 3, 7, DeliveryOutcome::Dead),
            attempt(poison, 2, 5, DeliveryOutcome::Dead),
            attempt(other, 3, 1, DeliveryOutcome::Delivered),
        ];

        let dead = dead_letters_in(&log);

        assert_eq!(dead.len(), 2);
        assert_eq!((dead[0].attempt.event, dead[0].replayed_at), (other, None), "delivered before it died");
        assert_eq!((dead[1].attempt.event, dead[1].replayed_at), (poison, Some(log[1].attempted_at)));
    }
}
