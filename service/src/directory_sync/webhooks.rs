//! The operator's webhook endpoints, as WorkOS has them (`/webhook_endpoints`): each
//! receives the Directory Sync events of every tenant ([`super::list_events`]'s order and
//! shapes) of the types it names, from its creation on.
//!
//! - Signature: `WorkOS-Signature: t=<milliseconds>, v1=<hex HMAC-SHA256(secret,
//!   "<t>.<body>")>`, over the exact body (compact JSON), which the SDKs' `constructEvent`
//!   verifies within three minutes of `t`.
//! - At least once, in order: an endpoint's cursor moves only past an event answered 2xx or
//!   given up on after [`WebhookOptions::max_attempts`] (logged as dead); failures are
//!   retried with the per-tenant webhooks' backoff. One server process delivers to an
//!   endpoint at a time (a lease).
//! - Targets are checked as the per-tenant webhooks' are (no internal addresses unless the
//!   operator allows them).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use store::{OperatorDelivery, OperatorDeliveryOutcome, OperatorWebhook, OperatorWebhookId, Store};
use uuid::Uuid;

use super::events::{is_event_type, last_event_id};
use super::objects::timestamp;
use super::{Cursor, EventQuery, Page, PageRequest, SyncError, list_events, page_in_memory, store_cursor};
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
        attempts: 0,
        next_attempt_at: None,
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
    let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp_ms}, v1={digest}")
}

/// How long a lease lasts without renewal: longer than one pass over an endpoint.
const LEASE: Duration = Duration::seconds(120);

/// Events read per endpoint and pass.
const BATCH: i64 = 100;

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

impl OperatorDeliverer {
    pub fn new(store: Store, options: WebhookOptions, effects: Effects) -> Result<Self, ServiceError> {
        let client = delivery_client(&options)?;
        let owner = format!("process-{}", effects.uuid());
        Ok(Self { store, client, options, owner, effects })
    }

    /// One pass over every enabled endpoint this process can lease; how many events were
    /// delivered.
    pub async fn deliver_pending(&self) -> Result<usize, ServiceError> {
        let mut delivered = 0;
        for webhook in self.store.operator_webhooks().await?.into_iter().filter(|webhook| webhook.enabled) {
            let now = self.effects.now();
            if webhook.next_attempt_at.is_some_and(|at| at > now)
                || !self.store.lease_operator_webhook(webhook.id, &self.owner, now, now + LEASE).await?
            {
                continue;
            }
            delivered += self.deliver_endpoint(&webhook).await?;
        }
        Ok(delivered)
    }

    async fn deliver_endpoint(&self, webhook: &OperatorWebhook) -> Result<usize, ServiceError> {
        let query = EventQuery {
            events: webhook.events.clone(),
            after: webhook.cursor.clone(),
            limit: BATCH,
            ..EventQuery::default()
        };
        let events = match list_events(&self.store, &query).await {
            Ok(page) => page.data,
            Err(SyncError::Service(error)) => return Err(error),
            Err(other) => {
                // A cursor or type list the feed no longer takes: a bug, not a failure to retry fast.
                tracing::error!(endpoint = %webhook.id, error = %other, "cannot read the events of an operator webhook");
                return Ok(0);
            }
        };
        let mut delivered = 0;
        let mut attempts = webhook.attempts;
        for event in events {
            let attempt = attempts + 1;
            let sent_at = self.effects.now();
            let answer = self.send(webhook, &event, sent_at).await;
            let outcome = match &answer {
                Ok(status) if (200..300).contains(status) => OperatorDeliveryOutcome::Delivered,
                _ if attempt >= self.options.max_attempts => OperatorDeliveryOutcome::Dead,
                _ => OperatorDeliveryOutcome::Failed,
            };
            let (status_code, error) = match answer {
                Ok(status) if outcome == OperatorDeliveryOutcome::Delivered => (Some(i32::from(status)), None),
                Ok(status) => (Some(i32::from(status)), Some(format!("the endpoint answered {status}"))),
                Err(error) => (None, Some(error)),
            };
            let delivery = OperatorDelivery {
                id: self.effects.id(),
                event_id: event.id.clone(),
                event_type: event.event.to_owned(),
                attempt,
                attempted_at: sent_at,
                outcome,
                status_code,
                error,
            };
            let retry_at = sent_at + self.options.backoff(attempt);
            self.store.record_operator_delivery(webhook.id, &self.owner, &delivery, Some(retry_at)).await?;
            match outcome {
                OperatorDeliveryOutcome::Delivered => {
                    delivered += 1;
                    attempts = 0;
                }
                OperatorDeliveryOutcome::Dead => {
                    tracing::warn!(endpoint = %webhook.id, event = %event.id, "gave up on an event: dead letter");
                    attempts = 0;
                }
                // Later events wait for this one.
                OperatorDeliveryOutcome::Failed => break,
            }
        }
        Ok(delivered)
    }

    /// POSTs one event; the HTTP status, or why there was none.
    async fn send(
        &self,
        webhook: &OperatorWebhook,
        event: &super::SyncEvent,
        at: DateTime<Utc>,
    ) -> Result<u16, String> {
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
        Ok(response.status().as_u16())
    }
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
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(v1, format!("v1={expected}"));
    }

    #[test]
    fn event_types_are_checked() {
        assert!(checked_events(Vec::new()).is_err());
        assert!(checked_events(vec!["user.created".into()]).is_err());
        assert_eq!(checked_events(vec!["dsync.user.created".into()]).unwrap(), ["dsync.user.created"]);
    }
}
