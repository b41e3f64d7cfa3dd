//! Webhooks: each of a tenant's endpoints receives the change events of the tenant's
//! directories, read from the same outbox as the event feed.
//!
//! - Order: per endpoint and directory, events go out one at a time in feed order; an
//!   event that fails is retried (exponential backoff) before any later event of that
//!   directory is sent. One server process works on an endpoint at a time (a lease).
//! - At least once: the cursor moves only after the endpoint answered 2xx (or the event
//!   was given up on), so a crash in between sends the event again, with the same id.
//! - Dead letters: after [`WebhookOptions::max_attempts`] the event is recorded as dead and
//!   the endpoint moves on; [`replay`] sends it again on request.
//! - Signatures: `Scim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! - Targets in private, loopback, link-local or otherwise internal address ranges are
//!   refused, at registration and again when connecting (so DNS cannot be pointed at them
//!   later), unless the operator allows them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
pub use store::{DeliveryAttempt, DeliveryId, DeliveryOutcome, WebhookId};
use store::{DirectoryId, NewWebhook, Store, TenantId, Webhook, WebhookCursor};

use crate::actor::Actor;
use crate::events::Event;
use crate::{Effects, ServiceError};

mod admin;
pub use admin::{
    DeadLetter, DirectoryProgress, EndpointActivity, EndpointOverview, dead_letters_in, delivery_log,
    endpoint_activity, endpoints_overview, replay,
};

/// How deliveries behave; the defaults suit production.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Deliver to private, loopback and link-local addresses (tests, on-premises targets).
    pub allow_private_targets: bool,
    /// Attempts at one event before it becomes a dead letter.
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles with every further failure.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_retry: Duration,
    /// How long an endpoint may take to answer.
    pub request_timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        // 12 attempts: about 4.5 hours from the first failure to the dead letter.
        Self {
            allow_private_targets: false,
            max_attempts: 12,
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A freshly registered endpoint: the signing secret is shown once.
#[derive(Debug, Clone)]
pub struct IssuedWebhook {
    pub id: WebhookId,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    InvalidTarget(String),
    #[error("the tenant has no webhook {0}")]
    UnknownWebhook(WebhookId),
    #[error("the endpoint has no dead letter {0}")]
    UnknownDeadLetter(DeliveryId),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for WebhookError {
    fn from(error: store::StoreError) -> Self {
        WebhookError::Service(error.into())
    }
}

/// Registers an endpoint of the tenant after checking where it points, and records
/// `webhook.created` with it.
pub async fn register_webhook(
    store: &Store,
    tenant: TenantId,
    url: &str,
    options: &WebhookOptions,
    actor: &Actor,
    effects: &Effects,
) -> Result<IssuedWebhook, WebhookError> {
    let now = effects.now();
    let parsed = checked_target(url, options).await?;
    let secret = format!("whsec_{}", effects.secret(32));
    let webhook = NewWebhook { id: effects.id(), url: parsed.to_string(), secret: secret.clone(), created_at: now };
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_webhook(&webhook).await?;
    let detail = serde_json::json!({ "webhook": webhook.id.to_string(), "url": url });
    action.commit(actor.record("webhook.created", None, detail, now)).await?;
    Ok(IssuedWebhook { id: webhook.id, secret })
}

/// A webhook target after checking where it points: an http(s) URL whose host resolves,
/// and (unless the operator allows them) to no internal address.
pub(crate) async fn checked_target(url: &str, options: &WebhookOptions) -> Result<reqwest::Url, WebhookError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| WebhookError::InvalidTarget(format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(WebhookError::InvalidTarget(format!("{url:?} must be an https:// (or http://) URL")));
    }
    let host = parsed.host_str().ok_or_else(|| WebhookError::InvalidTarget(format!("{url:?} has no host")))?;
    if !options.allow_private_targets {
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| WebhookError::InvalidTarget(format!("{host} does not resolve: {e}")))?
            .collect();
        if let Some(internal) = addresses.iter().find(|a| is_internal(a.ip())) {
            return Err(WebhookError::InvalidTarget(format!(
                "{host} resolves to {}, an internal address; the operator has not allowed internal targets",
                internal.ip()
            )));
        }
    }
    Ok(parsed)
}

/// The HTTP client deliveries go out with: no redirects, the options' timeout, and
/// (unless internal targets are allowed) a resolver that refuses internal addresses.
pub(crate) fn delivery_client(options: &WebhookOptions) -> Result<reqwest::Client, ServiceError> {
    let mut client = reqwest::Client::builder()
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("scim-portal-webhooks/1");
    if !options.allow_private_targets {
        client = client.dns_resolver(Arc::new(PublicOnly));
    }
    client.build().map_err(|e| ServiceError::Internal(format!("webhook client: {e}")))
}

/// Whether `url` names an internal address literally (which no resolver sees).
pub(crate) fn is_internal_literal(url: &str) -> bool {
    let literal = reqwest::Url::parse(url).ok().and_then(|url| match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    });
    literal.is_some_and(is_internal)
}

impl WebhookOptions {
    /// The wait after the `attempt`-th failure: doubling from `first_retry`, capped.
    pub(crate) fn backoff(&self, attempt: i32) -> chrono::Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(30);
        let wait = self.first_retry.saturating_mul(1 << doublings).min(self.max_retry);
        chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
    }
}

/// Loopback, private (RFC 1918, RFC 4193), link-local, carrier-grade NAT, unspecified,
/// broadcast, multicast and documentation ranges: nothing a SaaS customer's public
/// webhook receiver lives in, and everything an attacker would aim a server-side request at.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves names for the delivery client, dropping internal addresses (all of them
/// internal: the connection fails), so a name cannot be re-pointed at one after
/// registration.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| !is_internal(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to internal addresses only").into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

/// `Scim-Signature` of a body sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={digest}")
}

/// Sends the tenants' pending events to their endpoints.
#[derive(Debug)]
pub struct Deliverer {
    store: Store,
    client: reqwest::Client,
    options: WebhookOptions,
    /// This process, as the holder of endpoint leases.
    owner: String,
    /// The time of each attempt, and the ids of the attempts logged.
    effects: Effects,
}

/// How long a lease lasts without renewal: longer than one pass over an endpoint.
const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// Events read per directory and pass.
const BATCH: i64 = 100;

impl Deliverer {
    pub fn new(store: Store, options: WebhookOptions, effects: Effects) -> Result<Self, ServiceError> {
        let client = delivery_client(&options)?;
        let owner = format!("process-{}", effects.uuid());
        Ok(Self { store, client, options, owner, effects })
    }

    /// One pass over every endpoint this process can lease. Returns how many events were
    /// delivered.
    pub async fn deliver_pending(&self) -> Result<usize, ServiceError> {
        let mut delivered = 0;
        for webhook in self.store.deliverable_webhooks().await? {
            let now = self.effects.now();
            if !self.store.lease_webhook(webhook.tenant, webhook.id, &self.owner, now, now + LEASE).await? {
                continue;
            }
            delivered += self.deliver_endpoint(&webhook).await?;
        }
        Ok(delivered)
    }

    async fn deliver_endpoint(&self, webhook: &Webhook) -> Result<usize, ServiceError> {
        let scope = self.store.tenant(webhook.tenant);
        let cursors = scope.webhook_cursors(webhook.id).await?;
        let mut delivered = 0;
        // A deleted directory's changes are delivered until its purge: the last of them is
        // its deletion.
        let mut directories: Vec<DirectoryId> = scope.directories().await?.iter().map(|d| d.id).collect();
        directories.extend(scope.deleted_directories().await?.iter().map(|d| d.directory.id));
        for directory in directories {
            let mut cursor = cursors
                .iter()
                .find(|c| c.directory == directory)
                .copied()
                .unwrap_or_else(|| WebhookCursor::start(directory));
            if cursor.next_attempt_at.is_some_and(|at| at > self.effects.now()) {
                continue;
            }
            let data = scope.directory_data(directory);
            for record in data.changes_after(cursor.delivered_seq, BATCH).await? {
                let (seq, event_id) = (record.seq, record.id);
                let attempt = cursor.attempts + 1;
                let event = Event::new(webhook.tenant, directory, record);
                let sent_at = self.effects.now();
                let answer = self.send(webhook, &event, attempt, sent_at).await;
                let outcome = match &answer {
                    Ok(status) if (200..300).contains(status) => DeliveryOutcome::Delivered,
                    _ if attempt >= self.options.max_attempts => DeliveryOutcome::Dead,
                    _ => DeliveryOutcome::Failed,
                };
                let (status_code, error) = match answer {
                    Ok(status) if outcome == DeliveryOutcome::Delivered => (Some(i32::from(status)), None),
                    Ok(status) => (Some(i32::from(status)), Some(format!("the endpoint answered {status}"))),
                    Err(error) => (None, Some(error)),
                };
                cursor = match outcome {
                    DeliveryOutcome::Failed => WebhookCursor {
                        attempts: attempt,
                        next_attempt_at: Some(sent_at + self.options.backoff(attempt)),
                        ..cursor
                    },
                    DeliveryOutcome::Delivered | DeliveryOutcome::Dead => {
                        WebhookCursor { delivered_seq: seq, attempts: 0, next_attempt_at: None, ..cursor }
                    }
                };
                let logged = DeliveryAttempt {
                    id: self.effects.id(),
                    directory,
                    event: event_id,
                    seq,
                    attempt,
                    attempted_at: sent_at,
                    outcome,
                    status_code,
                    error,
                };
                scope.record_delivery(webhook.id, &logged, &cursor).await?;
                match outcome {
                    DeliveryOutcome::Delivered => delivered += 1,
                    DeliveryOutcome::Dead => {
                        tracing::warn!(webhook = %webhook.id, event = %event_id, "webhook event dead-lettered");
                    }
                    // Later events of this directory wait for this one.
                    DeliveryOutcome::Failed => break,
                }
            }
        }
        Ok(delivered)
    }

    /// POSTs one event; the HTTP status, or why there was none.
    async fn send(&self, webhook: &Webhook, event: &Event, attempt: i32, at: DateTime<Utc>) -> Result<u16, String> {
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        // A URL with an IP literal does not go through the resolver.
        if !self.options.allow_private_targets && is_internal_literal(&webhook.url) {
            return Err("the endpoint is an internal address".to_owned());
        }
        let response = self
            .client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("scim-event-id", &event.id)
            .header("scim-event-type", &event.kind)
            .header("scim-delivery-attempt", attempt.to_string())
            .header("scim-signature", signature(&webhook.secret, at.timestamp(), &body))
            .body(body)
            .send()
            .await
            .map_err(
                |e| if e.is_timeout() { "the endpoint did not answer in time".to_owned() } else { e.to_string() },
            )?;
        Ok(response.status().as_u16())
    }

    /// Sends a dead-lettered event again (out of order, by nature; same event id) and
    /// returns the attempt, for the caller to log with its record (see [`replay`]); a
    /// failure leaves the dead letter as it was.
    pub(crate) async fn resend_dead_letter(
        &self,
        tenant: TenantId,
        endpoint: WebhookId,
        dead_letter: DeliveryId,
    ) -> Result<DeliveryAttempt, WebhookError> {
        let now = self.effects.now();
        let scope = self.store.tenant(tenant);
        let webhook = scope
            .webhooks()
            .await?
            .into_iter()
            .find(|w| w.id == endpoint)
            .ok_or(WebhookError::UnknownWebhook(endpoint))?;
        let dead = scope
            .webhook_deliveries(endpoint, Some(DeliveryOutcome::Dead), i64::MAX)
            .await?
            .into_iter()
            .find(|d| d.id == dead_letter)
            .ok_or(WebhookError::UnknownDeadLetter(dead_letter))?;
        let record = scope
            .directory_data(dead.directory)
            .changes_after(dead.seq - 1, 1)
            .await?
            .into_iter()
            .next()
            .ok_or(WebhookError::UnknownDeadLetter(dead_letter))?;
        let event = Event::new(tenant, dead.directory, record);
        let answer = self.send(&webhook, &event, dead.attempt + 1, now).await;
        let delivered = matches!(answer, Ok(status) if (200..300).contains(&status));
        let (status_code, error) = match answer {
            Ok(status) => (Some(i32::from(status)), (!delivered).then(|| format!("the endpoint answered {status}"))),
            Err(error) => (None, Some(error)),
        };
        Ok(DeliveryAttempt {
            id: self.effects.id(),
            directory: dead.directory,
            event: dead.event,
            seq: dead.seq,
            attempt: dead.attempt + 1,
            attempted_at: now,
            outcome: if delivered { DeliveryOutcome::Delivered } else { DeliveryOutcome::Failed },
            status_code,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // What a receiver computes to check it: HMAC-SHA256 keyed with the secret over the
        // timestamp, a dot and the raw body.
        let signed = signature("Jefe", 0, b"what do ya want for nothing?");
        assert!(signed.starts_with("t=0,v1="));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(signed, format!("t=0,v1={expected}"));
        assert_ne!(signature("other", 0, b"x"), signature("Jefe", 0, b"x"));
    }
}
