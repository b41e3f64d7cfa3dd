//! The operator's webhook endpoints, as WorkOS has them (`/webhook_endpoints`): each
//! receives the Directory Sync events of every tenant ([`super::list_events`]'s order and
//! shapes) of the types it names, from its creation on.
//!
//! - Signature: `WorkOS-Signature: t=<milliseconds>, v1=<hex HMAC-SHA256(secret,
//!   "<t>.<body>")>`, over the exact body (compact JSON), which the SDKs' `constructEvent`
//!   verifies within three minutes of `t`.
//! - At least once, in order per resource (a user; a group with its membership events; a
//!   directory), as the per-tenant webhooks (see [`crate::delivery`]): a refused event is
//!   held back with the later events of its resource, and retried with the per-tenant
//!   webhooks' backoff until answered 2xx or given up on after
//!   [`WebhookOptions::max_attempts`] (logged as dead); other resources' events flow on.
//!   Deactivations and deletions go first within a batch. One server process delivers to an
//!   endpoint at a time (a lease, renewed while it works; outcomes are written only under it).
//! - Targets are checked as the per-tenant webhooks' are (no internal addresses unless the
//!   operator allows them).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashMap;

use store::{
    OperatorDelivery, OperatorDeliveryOutcome, OperatorOutstanding, OperatorSettlement, OperatorWebhook,
    OperatorWebhookId, OutstandingState, Store,
};
use uuid::Uuid;

use super::events::{event_place, events_by_id, is_event_type, last_event_id};
use super::objects::timestamp;
use super::{Cursor, EventQuery, Page, PageRequest, SyncError, SyncEvent, list_events, page_in_memory, store_cursor};
use crate::delivery::{self, Queued, Verdict};
use crate::webhooks::{WebhookError, WebhookOptions, checked_target, delivery_client, is_internal_literal};
use crate::{Effects, ServiceError};

const PREFIX: &str = "we_";

/// An endpoint as the SDKs read it (the secret included: the operator signs with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub object: &'static str,
    pub id: String,
    pub endpoint_url: String,
    pub secret: String,
    /// `enabled` or `disabled`.
    pub status: &'static str,
    pub events: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookEndpoint {
    fn of(webhook: &OperatorWebhook) -> Self {
        Self {
            object: "webhook_endpoint",
            id: endpoint_id(webhook.id),
            endpoint_url: webhook.url.clone(),
            secret: webhook.secret.clone(),
            status: if webhook.enabled { "enabled" } else { "disabled" },
            events: webhook.events.clone(),
            created_at: timestamp(webhook.created_at),
            updated_at: timestamp(webhook.updated_at),
        }
    }
}

fn endpoint_id(id: OperatorWebhookId) -> String {
    format!("{PREFIX}{}", id.as_uuid().simple())
}

fn parse_endpoint_id(text: &str) -> Option<OperatorWebhookId> {
    let simple = text.strip_prefix(PREFIX)?;
    let well_formed = simple.len() == 32 && simple.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| Uuid::parse_str(simple).ok().map(OperatorWebhookId::from)).flatten()
}

fn invalid(field: &'static str, message: impl Into<String>) -> SyncError {
    SyncError::Invalid { field, message: message.into() }
}

/// The event types named, checked: at least one, each a Directory Sync type.
fn checked_events(events: Vec<String>) -> Result<Vec<String>, SyncError> {
    if events.is_empty() {
        return Err(invalid("events", "name at least one event type the endpoint receives"));
    }
    if let Some(unknown) = events.iter().find(|name| !is_event_type(name)) {
        return Err(invalid("events", format!("`{unknown}` is not a Directory Sync event type")));
    }
    let mut events = events;
    events.dedup();
    Ok(events)
}

async fn checked_url(url: &str, options: &WebhookOptions) -> Result<String, SyncError> {
    match checked_target(url, options).await {
        Ok(parsed) => Ok(parsed.to_string()),
        Err(WebhookError::InvalidTarget(reason)) => Err(invalid("endpoint_url", reason)),
        Err(WebhookError::Service(error)) => Err(error.into()),
        Err(other) => Err(invalid("endpoint_url", other.to_string())),
    }
}

/// `POST /webhook_endpoints`: an enabled endpoint that receives `events` from now on.
pub async fn create_endpoint(
    store: &Store,
    options: &WebhookOptions,
    url: &str,
    events: Vec<String>,
    effects: &Effects,
) -> Result<WebhookEndpoint, SyncError> {
    let events = checked_events(events)?;
    let url = checked_url(url, options).await?;
    let now = effects.now();
    let webhook = OperatorWebhook {
        id: effects.id(),
        url,
        secret: format!("whsec_{}", effects.secret(32)),
        events,
        enabled: true,
        cursor: last_event_id(store).await?,
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    store.insert_operator_webhook(&webhook).await?;
    tracing::info!(endpoint = %webhook.id, url = %webhook.url, "operator webhook endpoint created");
    Ok(WebhookEndpoint::of(&webhook))
}

/// `GET /webhook_endpoints`.
pub async fn list_endpoints(
    store: &Store,
    page: &PageRequest<Cursor<String>>,
) -> Result<Page<WebhookEndpoint>, SyncError> {
    let request = store_cursor(page, parse_endpoint_id)?;
    let webhooks = store.operator_webhooks().await?;
    let page = page_in_memory(&request, webhooks, |webhook| webhook.id, |webhook| endpoint_id(webhook.id));
    Ok(Page { data: page.data.iter().map(WebhookEndpoint::of).collect(), before: page.before, after: page.after })
}

async fn find(store: &Store, id: &str) -> Result<OperatorWebhook, SyncError> {
    let not_found = || SyncError::NotFound(format!("webhook endpoint {id}"));
    let parsed = parse_endpoint_id(id).ok_or_else(not_found)?;
    store.operator_webhook(parsed).await?.ok_or_else(not_found)
}

/// What `PATCH /webhook_endpoints/{id}` changes; `None` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointChange {
    pub url: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<String>,
    pub events: Option<Vec<String>>,
}

/// `PATCH /webhook_endpoints/{id}`.
pub async fn update_endpoint(
    store: &Store,
    options: &WebhookOptions,
    id: &str,
    change: EndpointChange,
    effects: &Effects,
) -> Result<WebhookEndpoint, SyncError> {
    let mut webhook = find(store, id).await?;
    if let Some(url) = &change.url {
        webhook.url = checked_url(url, options).await?;
    }
    if let Some(events) = change.events {
        webhook.events = checked_events(events)?;
    }
    match change.status.as_deref() {
        None => {}
        Some("enabled") => webhook.enabled = true,
        Some("disabled") => webhook.enabled = false,
        Some(other) => return Err(invalid("status", format!("`{other}` is not a status: enabled or disabled"))),
    }
    webhook.updated_at = effects.now();
    if !store.update_operator_webhook(&webhook).await? {
        return Err(SyncError::NotFound(format!("webhook endpoint {id}")));
    }
    Ok(WebhookEndpoint::of(&webhook))
}

/// `DELETE /webhook_endpoints/{id}`: the endpoint and its delivery log.
pub async fn delete_endpoint(store: &Store, id: &str) -> Result<(), SyncError> {
    let webhook = find(store, id).await?;
    if !store.delete_operator_webhook(webhook.id).await? {
        return Err(SyncError::NotFound(format!("webhook endpoint {id}")));
    }
    Ok(())
}

/// The `WorkOS-Signature` header of `body` sent at `timestamp_ms`.
pub fn workos_signature(secret: &str, timestamp_ms: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp_ms.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = hex::encode(mac.finalize().into_bytes());
    format!("t={timestamp_ms}, v1={digest}")
}

/// How long a lease lasts without renewal.
const LEASE: Duration = Duration::seconds(60);

/// How often a process renews the leases it works under (well within [`LEASE`]).
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// Events read per endpoint and round.
const BATCH: i64 = 100;

/// The lane of an event: the user, the group (membership events are their group's) or the
/// directory it is about.
fn lane_of(event: &SyncEvent) -> String {
    let id = event.data.subject_id();
    match &event.data {
        super::EventData::User(_) => format!("user:{id}"),
        super::EventData::Group(_) | super::EventData::Membership(_) => format!("group:{id}"),
        super::EventData::Directory(_) => format!("directory:{id}"),
    }
}

/// An event of a round: whether it was held back before, and whether it is ahead of the
/// batch (a revocation, or an earlier event of its user).
#[derive(Debug, Clone)]
struct RoundEvent {
    event: SyncEvent,
    held: bool,
    ahead: bool,
}

/// Deactivations and deletions looked for beyond a full batch.
const URGENT_LOOKAHEAD: i64 = 50;

/// Earlier events of a user sent ahead with its revocation, at most.
const LANE_LOOKBACK: usize = 50;

/// Sends the deployment's events to the operator's endpoints.
#[derive(Debug)]
pub struct OperatorDeliverer {
    store: Store,
    client: reqwest::Client,
    options: WebhookOptions,
    /// This process, as the holder of endpoint leases.
    owner: String,
    effects: Effects,
}

/// An event's place in its directory's feed and the time its webhook answer confirmed it.
type Answer = (i64, DateTime<Utc>);

impl OperatorDeliverer {
    pub fn new(store: Store, options: WebhookOptions, effects: Effects) -> Result<Self, ServiceError> {
        let client = delivery_client(&options)?;
        let owner = format!("process-{}", effects.uuid());
        Ok(Self { store, client, options, owner, effects })
    }

    /// Every enabled endpoint this process can lease, all at once; how many events were
    /// delivered.
    pub async fn deliver_pending(&self) -> Result<usize, ServiceError> {
        let webhooks: Vec<OperatorWebhook> =
            self.store.operator_webhooks().await?.into_iter().filter(|webhook| webhook.enabled).collect();
        let rounds = futures_util::future::join_all(webhooks.iter().map(|webhook| self.deliver_endpoint(webhook)));
        let mut delivered = 0;
        for result in rounds.await {
            delivered += result?;
        }
        Ok(delivered)
    }

    /// Delivers under the endpoint's lease, renewed while the work goes on.
    async fn deliver_endpoint(&self, webhook: &OperatorWebhook) -> Result<usize, ServiceError> {
        let lease = || {
            let now = self.effects.now();
            self.store.lease_operator_webhook(webhook.id, &self.owner, now, now + LEASE)
        };
        if !lease().await? {
            return Ok(0);
        }
        let keep_lease = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match lease().await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => tracing::warn!(endpoint = %webhook.id, %error, "cannot renew a webhook lease"),
                }
            }
        };
        let work = async {
            let mut delivered = 0;
            let mut cursor = webhook.cursor.clone();
            loop {
                let Some(round) = self.round(webhook, cursor.clone()).await? else { return Ok(delivered) };
                delivered += round.delivered;
                if !round.more {
                    return Ok(delivered);
                }
                cursor = round.cursor;
            }
        };
        tokio::select! {
            delivered = work => delivered,
            () = keep_lease => Ok(0),
        }
    }

    /// One round: the held lanes that are due and the next batch after the cursor, in
    /// lanes; the outcome written at once. `None` when the lease was lost.
    async fn round(
        &self,
        webhook: &OperatorWebhook,
        cursor: Option<String>,
    ) -> Result<Option<OperatorRound>, ServiceError> {
        let now = self.effects.now();
        let rows = self.store.operator_webhook_outstanding(webhook.id).await?;
        let known: HashMap<&str, OutstandingState> =
            rows.iter().map(|row| (row.event_id.as_str(), row.state)).collect();
        let mut held_lanes: HashMap<&str, Vec<&OperatorOutstanding>> = HashMap::new();
        for row in rows.iter().filter(|row| row.state == OutstandingState::Held) {
            held_lanes.entry(row.resource.as_str()).or_default().push(row);
        }
        let due = |lane: &[&OperatorOutstanding]| {
            lane.first().is_some_and(|head| head.next_attempt_at.is_none_or(|at| at <= now))
        };
        let query =
            EventQuery { events: webhook.events.clone(), after: cursor.clone(), limit: BATCH, ..EventQuery::default() };
        let batch = match list_events(&self.store, &query).await {
            Ok(page) => page.data,
            Err(SyncError::Service(error)) => return Err(error),
            Err(other) => {
                // A cursor or type list the feed no longer takes: a bug, not a failure to retry fast.
                tracing::error!(endpoint = %webhook.id, error = %other, "cannot read the events of an operator webhook");
                return Ok(Some(OperatorRound { delivered: 0, cursor, more: false }));
            }
        };
        let batch_end = batch.last().map(|event| event.id.clone());
        // Beyond a full batch: deactivations and deletions, with their users' earlier events.
        let ahead = match &batch_end {
            Some(end) if batch.len() as i64 == BATCH => self.revocations_ahead(webhook, end).await?,
            _ => Vec::new(),
        };

        let mut settlement = OperatorSettlement::default();
        let mut queue: Vec<Queued<RoundEvent>> = Vec::new();
        let due_rows: Vec<&OperatorOutstanding> =
            held_lanes.values().filter(|lane| due(lane)).flat_map(|lane| lane.iter().copied()).collect();
        if !due_rows.is_empty() {
            let ids: Vec<String> = due_rows.iter().map(|row| row.event_id.clone()).collect();
            let mut found = events_by_id(&self.store, &ids).await.map_err(|error| match error {
                SyncError::Service(error) => error,
                other => ServiceError::Internal(other.to_string()),
            })?;
            for row in due_rows {
                match found.remove(&row.event_id) {
                    Some(event) => {
                        let event = RoundEvent { event, held: true, ahead: false };
                        queue.push(Queued { event, attempts: row.attempts });
                    }
                    // Its directory was purged: nothing left to deliver.
                    None => settlement.settled.push(row.event_id.clone()),
                }
            }
        }
        for event in batch.iter().cloned() {
            match known.get(event.id.as_str()) {
                // Delivered ahead of the cursor, which now reaches it.
                Some(OutstandingState::Sent) => {
                    settlement.settled.push(event.id);
                    continue;
                }
                // Held already: its lane retries it.
                Some(OutstandingState::Held) => continue,
                None => {}
            }
            let lane = lane_of(&event);
            match held_lanes.get(lane.as_str()) {
                Some(held) if !due(held) => settlement.held.push(held_row(&event, lane, 0, None)),
                _ => queue.push(Queued { event: RoundEvent { event, held: false, ahead: false }, attempts: 0 }),
            }
        }
        for event in ahead.into_iter().filter(|event| !known.contains_key(event.id.as_str())) {
            let lane = lane_of(&event);
            match held_lanes.get(lane.as_str()) {
                // Its user is waiting for a refused event: the revocation waits there too.
                Some(held) if !due(held) => {}
                _ => queue.push(Queued { event: RoundEvent { event, held: false, ahead: true }, attempts: 0 }),
            }
        }
        let lanes = delivery::into_lanes(queue, |e| lane_of(&e.event), |e| e.event.revokes_access());
        // Events the endpoint said it applied (a 2xx answer with `"applied": true`).
        let confirmed = std::sync::Mutex::new(Vec::new());
        let mut revocations_delivered = Vec::new();
        let reports = delivery::run_lanes(
            lanes,
            self.options.endpoint_concurrency,
            self.options.max_attempts,
            &self.effects,
            |event: &RoundEvent, _attempt| {
                let event = event.event.clone();
                let confirmed = &confirmed;
                async move {
                    let answer = self.send(webhook, &event, self.effects.now()).await?;
                    if answer.applied {
                        let answered_at = self.effects.now();
                        let mut confirmed = confirmed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        confirmed.push((event.id.clone(), answered_at));
                    }
                    Ok(answer.status)
                }
            },
        )
        .await;

        // Where the cursor will be: held events delivered beyond it are marked sent.
        let end_at = match batch_end.as_deref().or(cursor.as_deref()).and_then(event_place) {
            Some((directory, seq, _)) => self.store.feed_position(directory, seq).await?,
            None => None,
        };
        let mut delivered = 0;
        for report in reports {
            for sent in report.sent {
                let RoundEvent { event, held, ahead } = sent.event;
                let outcome = match sent.verdict {
                    Verdict::Delivered => OperatorDeliveryOutcome::Delivered,
                    Verdict::Failed => OperatorDeliveryOutcome::Failed,
                    Verdict::Dead => OperatorDeliveryOutcome::Dead,
                };
                if sent.error.is_some() {
                    settlement.last_error = Some(sent.error.clone());
                }
                settlement.deliveries.push(OperatorDelivery {
                    id: self.effects.id(),
                    event_id: event.id.clone(),
                    event_type: event.event.to_owned(),
                    attempt: sent.attempt,
                    attempted_at: sent.at,
                    outcome,
                    status_code: sent.status_code,
                    error: sent.error,
                });
                match sent.verdict {
                    Verdict::Failed => {
                        let retry_at = sent.at + self.options.backoff(sent.attempt);
                        settlement.held.push(held_row(&event, lane_of(&event), sent.attempt, Some(retry_at)));
                    }
                    Verdict::Delivered | Verdict::Dead => {
                        if sent.verdict == Verdict::Delivered {
                            delivered += 1;
                            if event.revokes_access() {
                                revocations_delivered.push((event.id.clone(), sent.at));
                            }
                        } else {
                            tracing::warn!(endpoint = %webhook.id, event = %event.id, "gave up on an event: dead letter");
                        }
                        if held && !self.beyond(&event.id, end_at).await? {
                            settlement.settled.push(event.id);
                        } else if held || ahead {
                            // The cursor must not send it again when it gets there.
                            let mut row = held_row(&event, lane_of(&event), 0, None);
                            row.state = OutstandingState::Sent;
                            settlement.held.push(row);
                        }
                    }
                }
            }
            for waiting in report.waiting.into_iter().filter(|waiting| !waiting.event.held) {
                let event = waiting.event.event;
                settlement.held.push(held_row(&event, lane_of(&event), 0, None));
            }
        }
        settlement.cursor_to.clone_from(&batch_end);
        // Receipts before the settlement (see `webhooks::Deliverer`): a failure between the
        // two sends events again, which is harmless, and loses no confirmation.
        self.note_receipts(
            webhook,
            revocations_delivered,
            confirmed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .await?;
        if settlement != OperatorSettlement::default()
            && !self.store.settle_operator_deliveries(webhook.id, &self.owner, self.effects.now(), &settlement).await?
        {
            return Ok(None);
        }
        let more = batch.len() as i64 == BATCH;
        Ok(Some(OperatorRound { delivered, cursor: batch_end.or(cursor), more }))
    }

    /// Whether event `id` comes after the place `end` in the feed (`None`: the start).
    async fn beyond(&self, id: &str, end: Option<store::FeedPosition>) -> Result<bool, ServiceError> {
        let Some((directory, seq, _)) = event_place(id) else { return Ok(false) };
        Ok(match (self.store.feed_position(directory, seq).await?, end) {
            (Some(at), Some(end)) => at > end,
            (Some(_), None) => true,
            (None, _) => false,
        })
    }

    /// The deactivations and deletions after the event `after` (beyond the batch being
    /// sent) of the types the endpoint receives, each preceded by its user's events between
    /// `after` and it: sent ahead of the backlog, in feed order.
    async fn revocations_ahead(&self, webhook: &OperatorWebhook, after: &str) -> Result<Vec<SyncEvent>, ServiceError> {
        let wants = |name: &str| webhook.events.iter().any(|wanted| wanted == name);
        let mut kinds = Vec::new();
        if wants("dsync.user.updated") {
            kinds.push("user.deactivated".to_owned());
        }
        if wants("dsync.user.deleted") {
            kinds.push("user.deleted".to_owned());
        }
        let Some((directory, seq, _)) = event_place(after) else { return Ok(Vec::new()) };
        let Some(from) = self.store.feed_position(directory, seq).await? else { return Ok(Vec::new()) };
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let query =
            store::FeedQuery { from: Some(from), kinds, limit: URGENT_LOOKAHEAD, ..store::FeedQuery::default() };
        let mut ids = Vec::new();
        for entry in self.store.deployment_feed(&query).await?.into_iter().filter(|entry| entry.at > from) {
            let data = self.store.tenant(entry.at.tenant).directory_data(entry.at.directory);
            let Some(revocation) = data.changes_numbered(&[entry.at.seq]).await?.into_iter().next() else { continue };
            let mut lane = data
                .resource_changes_between(revocation.resource_type, &revocation.resource_id, 0, revocation.seq)
                .await?;
            // Only the events after `after`, and of the types the endpoint receives.
            lane.reverse();
            lane.truncate(LANE_LOOKBACK);
            lane.reverse();
            for change in lane {
                let Some(at) = self.store.feed_position(entry.at.directory, change.seq).await? else { continue };
                if at > from && super::events::event_type(&change.kind).is_some_and(wants) {
                    ids.push((at, super::events::change_event_id(entry.at.directory, change.seq)));
                }
            }
        }
        ids.sort();
        ids.dedup();
        let texts: Vec<String> = ids.iter().map(|(_, id)| id.clone()).collect();
        let mut found = events_by_id(&self.store, &texts).await.map_err(|error| match error {
            SyncError::Service(error) => error,
            other => ServiceError::Internal(other.to_string()),
        })?;
        Ok(texts.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Notes the first delivery of the deactivations and deletions delivered, and records
    /// the confirmations the endpoint gave in its answers.
    async fn note_receipts(
        &self,
        webhook: &OperatorWebhook,
        delivered: Vec<(String, DateTime<Utc>)>,
        confirmed: Vec<(String, DateTime<Utc>)>,
    ) -> Result<(), ServiceError> {
        let via = format!("operator-webhook:{}", webhook.id);
        for (event, at) in delivered {
            let Some((directory, seq, _)) = event_place(&event) else { continue };
            if let Some(tenant) = self.store.directory_owner(directory).await? {
                self.store.tenant(tenant).mark_revocations_delivered(directory, &[seq], at, &via).await?;
            }
        }
        // One transaction per directory, in the order the events were answered.
        let mut by_directory: Vec<(store::DirectoryId, Vec<Answer>)> = Vec::new();
        for (event, at) in confirmed {
            let Some((directory, seq, _)) = event_place(&event) else { continue };
            match by_directory.iter_mut().find(|(known, _)| *known == directory) {
                Some((_, answers)) => answers.push((seq, at)),
                None => by_directory.push((directory, vec![(seq, at)])),
            }
        }
        for (directory, answers) in by_directory {
            let system = crate::Actor::System;
            crate::receipts::acknowledge_answers(&self.store, directory, &answers, &via, &system, &self.effects)
                .await?;
        }
        Ok(())
    }

    /// POSTs one event; the endpoint's answer, or why there was none.
    async fn send(
        &self,
        webhook: &OperatorWebhook,
        event: &super::SyncEvent,
        at: DateTime<Utc>,
    ) -> Result<crate::webhooks::EndpointAnswer, String> {
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        // A URL with an IP literal does not go through the resolver.
        if !self.options.allow_private_targets && is_internal_literal(&webhook.url) {
            return Err("the endpoint is an internal address".to_owned());
        }
        let response = self
            .client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("workos-signature", workos_signature(&webhook.secret, at.timestamp_millis(), &body))
            .body(body)
            .send()
            .await
            .map_err(
                |e| if e.is_timeout() { "the endpoint did not answer in time".to_owned() } else { e.to_string() },
            )?;
        Ok(crate::webhooks::EndpointAnswer::read(response).await)
    }
}

/// A held row for an event.
fn held_row(
    event: &SyncEvent,
    resource: String,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
) -> OperatorOutstanding {
    // Ids the feed made parse; a malformed one would name no directory and be settled as gone.
    let (directory, seq, member) = event_place(&event.id).unwrap_or((store::DirectoryId::from(Uuid::nil()), 0, None));
    OperatorOutstanding {
        event_id: event.id.clone(),
        directory,
        seq,
        member,
        resource,
        state: OutstandingState::Held,
        attempts,
        next_attempt_at,
    }
}

/// What one round of deliveries to an operator endpoint came to.
struct OperatorRound {
    delivered: usize,
    cursor: Option<String>,
    more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_ids_round_trip() {
        let id = OperatorWebhookId::from(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0042));
        assert_eq!(parse_endpoint_id(&endpoint_id(id)), Some(id));
        assert_eq!(parse_endpoint_id("we_nope"), None);
        assert_eq!(parse_endpoint_id("directory_01930000000070008000000000000042"), None);
    }

    #[test]
    fn the_signature_is_the_one_the_sdks_compute() {
        // HMAC-SHA256("whsec_test", "1700000000000.{}"), as WebCrypto computes it.
        let header = workos_signature("whsec_test", 1_700_000_000_000, b"{}");
        let (t, v1) = header.split_once(", ").unwrap();
        assert_eq!(t, "t=1700000000000");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1700000000000.{}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(v1, format!("v1={expected}"));
    }

    #[test]
    fn event_types_are_checked() {
        assert!(checked_events(Vec::new()).is_err());
        assert!(checked_events(vec!["user.created".into()]).is_err());
        assert_eq!(checked_events(vec!["dsync.user.created".into()]).unwrap(), ["dsync.user.created"]);
    }
}
