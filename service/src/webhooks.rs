//! Webhooks: each of a tenant's endpoints receives the change events of the tenant's
//! directories, read from the same outbox as the event feed.
//!
//! - Order: per endpoint and resource (a user; a group with its membership changes; a
//!   directory), events go out one at a time in feed order: an event is sent only after
//!   every earlier event of its resource was delivered or given up on. An event that fails
//!   is retried (exponential backoff) and holds back the later events of its resource
//!   only; other resources' events flow on (see [`crate::delivery`]).
//! - Fairness: every endpoint is delivered by its own task, at most
//!   [`WebhookOptions::endpoint_concurrency`] resources at once, within its tenant's budget
//!   of requests in flight, so a slow or failing endpoint delays only itself.
//! - Revocations first: a user's deactivation or deletion is looked for beyond the batch
//!   being delivered and sent (with that user's earlier events) ahead of the backlog.
//! - One server process works on an endpoint at a time: it holds a lease, renewed while it
//!   works, and every round's outcome is written only while it still holds it.
//! - At least once: an event counts as delivered only once the endpoint answered 2xx (or it
//!   was given up on) and that was written; a crash in between sends it again, same id.
//! - Dead letters: after [`WebhookOptions::max_attempts`] the event is recorded as dead and
//!   its resource moves on; [`replay`] sends it again on request.
//! - Signatures: `Scim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! - Targets in private, loopback, link-local or otherwise internal address ranges are
//!   refused, at registration and again when connecting (so DNS cannot be pointed at them
//!   later), unless the operator allows them.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use store::{
    ChangeRecord, DirectoryId, NewWebhook, OutstandingEvent, OutstandingState, Settlement, Store, TenantId, Webhook,
};
pub use store::{DeliveryAttempt, DeliveryId, DeliveryOutcome, WebhookId};
use tokio::sync::Semaphore;

use crate::actor::Actor;
use crate::delivery::{self, Queued, Verdict};
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
    /// Resources whose events are sent to one endpoint at once (each resource's in order).
    pub endpoint_concurrency: usize,
    /// Requests in flight at once to all the endpoints of one tenant.
    pub tenant_budget: usize,
    /// Endpoints whose deliveries read or write the database at once (leases, rounds,
    /// outcomes), over all tenants: a hundred endpoints delivering at once must leave the
    /// connection pool to the identity providers' requests. Sending waits for no slot.
    pub database_slots: usize,
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
            endpoint_concurrency: 8,
            tenant_budget: 16,
            database_slots: 4,
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
        // A proxy from the environment (HTTP_PROXY…) would reach what the resolver refuses.
        .no_proxy()
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
/// broadcast, multicast, documentation, benchmarking (198.18.0.0/15), IETF-reserved
/// (192.0.0.0/24, 240.0.0.0/4) and 6to4-relay ranges: nothing a SaaS customer's public
/// webhook receiver lives in, and everything an attacker would aim a server-side request
/// at. IPv6 addresses that carry an IPv4 address to another network are refused whole:
/// NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4 (`2002::/16`), Teredo (`2001::/32`), and
/// the IPv4-compatible and -mapped forms are judged by their IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 88 && c == 99)
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let first = segments[0];
            // ::a.b.c.d (IPv4-compatible, deprecated): its IPv4 address decides.
            if segments[..6].iter().all(|s| *s == 0) && !v6.is_loopback() && !v6.is_unspecified() {
                return is_internal(IpAddr::V4(std::net::Ipv4Addr::from(v6.to_bits() as u32)));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x0064 && segments[1] == 0xff9b)
                || first == 0x2002
                || (first == 0x2001 && segments[1] == 0)
                || (first == 0x2001 && segments[1] == 0x0db8)
        }
    }
}

/// The resolver of every outbound client under the policy (webhooks, single sign-on).
pub(crate) fn public_only_resolver() -> Arc<impl reqwest::dns::Resolve + 'static> {
    Arc::new(PublicOnly)
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
    let digest = hex::encode(mac.finalize().into_bytes());
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
    /// Requests in flight to each tenant's endpoints: the tenant's budget.
    budgets: std::sync::Mutex<HashMap<TenantId, Arc<Semaphore>>>,
    /// Database work of deliveries in progress at once (`WebhookOptions::database_slots`).
    database: Semaphore,
}

/// How long a lease lasts without renewal.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// How often a process renews the leases it works under: well within [`LEASE`], so that a
/// lease it works under never lapses while it is alive.
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// Events read per directory and round.
const BATCH: i64 = 100;

/// Deactivations and deletions looked for beyond a round's batch, each sent with its
/// user's earlier events ahead of the backlog.
const URGENT_LOOKAHEAD: i64 = 50;

/// The lane of a change: its resource (a membership change is its group's).
fn lane_of(record: &ChangeRecord) -> String {
    format!("{}:{}", record.resource_type.as_str(), record.resource_id)
}

/// An event of a round: a change, and whether it was held back before.
#[derive(Debug, Clone)]
struct RoundEvent {
    record: ChangeRecord,
    held: bool,
}

impl Deliverer {
    pub fn new(store: Store, options: WebhookOptions, effects: Effects) -> Result<Self, ServiceError> {
        let client = delivery_client(&options)?;
        let owner = format!("process-{}", effects.uuid());
        let database = Semaphore::new(options.database_slots.max(1));
        Ok(Self { store, client, options, owner, effects, budgets: std::sync::Mutex::new(HashMap::new()), database })
    }

    /// Delivers until the process stops: every endpoint has its own task, so a slow or
    /// failing endpoint delays only itself. Looks for work every second, and at once when
    /// this process commits a change.
    pub async fn run(self: Arc<Self>) {
        // Dropping the set (when the server stops) aborts every endpoint's task.
        let mut tasks = tokio::task::JoinSet::new();
        let mut running: HashMap<tokio::task::Id, (TenantId, WebhookId)> = HashMap::new();
        let mut commits = self.store.watch_commits();
        loop {
            while let Some(done) = tasks.try_join_next_with_id() {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(error) => {
                        tracing::error!(%error, "a webhook delivery task failed");
                        error.id()
                    }
                };
                running.remove(&id);
            }
            match self.store.deliverable_webhooks().await {
                Ok(webhooks) => {
                    for webhook in webhooks {
                        let key = (webhook.tenant, webhook.id);
                        if running.values().any(|busy| *busy == key) {
                            continue;
                        }
                        let deliverer = Arc::clone(&self);
                        let task = tasks.spawn(async move {
                            if let Err(error) = deliverer.deliver_endpoint(&webhook).await {
                                tracing::warn!(webhook = %webhook.id, %error, "webhook deliveries failed; retrying");
                            }
                        });
                        running.insert(task.id(), key);
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot list the webhook endpoints; retrying"),
            }
            commits.mark_unchanged();
            let _ = tokio::time::timeout(Duration::from_secs(1), commits.changed()).await;
            // A burst of commits wakes this loop once per pause, not once per commit.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Delivers what is pending to every endpoint this process can lease, all endpoints at
    /// once, and returns when each is done; how many events were delivered.
    pub async fn deliver_pending(&self) -> Result<usize, ServiceError> {
        let webhooks = self.store.deliverable_webhooks().await?;
        let rounds = futures_util::future::join_all(webhooks.iter().map(|webhook| self.deliver_endpoint(webhook)));
        let mut delivered = 0;
        for result in rounds.await {
            delivered += result?;
        }
        Ok(delivered)
    }

    /// Delivers an endpoint's pending events under its lease, renewed while the work goes
    /// on; stops (with nothing half-written) if the lease is lost.
    async fn deliver_endpoint(&self, webhook: &Webhook) -> Result<usize, ServiceError> {
        if !self.renew_lease(webhook).await? {
            return Ok(0);
        }
        let keep_lease = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match self.renew_lease(webhook).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => tracing::warn!(webhook = %webhook.id, %error, "cannot renew a webhook lease"),
                }
            }
        };
        tokio::select! {
            delivered = self.deliver_leased(webhook) => delivered,
            () = keep_lease => {
                tracing::warn!(webhook = %webhook.id, "lost the lease on a webhook endpoint; another process delivers");
                Ok(0)
            }
        }
    }

    /// A turn at the database for deliveries (see `WebhookOptions::database_slots`).
    async fn database_turn(&self) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphore is never closed, so a permit always comes.
        #[allow(clippy::expect_used)]
        self.database.acquire().await.expect("the delivery semaphore is never closed")
    }

    async fn renew_lease(&self, webhook: &Webhook) -> Result<bool, ServiceError> {
        let _turn = self.database_turn().await;
        let now = self.effects.now();
        Ok(self.store.lease_webhook(webhook.tenant, webhook.id, &self.owner, now, now + LEASE).await?)
    }

    async fn deliver_leased(&self, webhook: &Webhook) -> Result<usize, ServiceError> {
        let scope = self.store.tenant(webhook.tenant);
        let turn = self.database_turn().await;
        let cursors = scope.webhook_cursors(webhook.id).await?;
        let outstanding = scope.webhook_outstanding(webhook.id).await?;
        let mut delivered = 0;
        // A deleted directory's changes are delivered until its purge: the last of them is
        // its deletion.
        let mut directories: Vec<DirectoryId> = scope.directories().await?.iter().map(|d| d.id).collect();
        directories.extend(scope.deleted_directories().await?.iter().map(|d| d.directory.id));
        drop(turn);
        for directory in directories {
            let mut cursor = cursors.iter().find(|c| c.directory == directory).map_or(0, |c| c.delivered_seq);
            let mut rows: Vec<OutstandingEvent> =
                outstanding.iter().filter(|row| row.directory == directory).cloned().collect();
            loop {
                let Some(round) = self.directory_round(webhook, directory, cursor, &rows).await? else {
                    return Ok(delivered);
                };
                delivered += round.delivered;
                if !round.more {
                    break;
                }
                cursor = round.cursor;
                let _turn = self.database_turn().await;
                rows = scope.webhook_outstanding(webhook.id).await?;
                rows.retain(|row| row.directory == directory);
            }
        }
        Ok(delivered)
    }

    /// One round in one directory: the held lanes that are due, the next batch of events
    /// after the cursor, and the deactivations and deletions beyond it, in lanes; then the
    /// outcome written at once. `None` when the lease was lost.
    async fn directory_round(
        &self,
        webhook: &Webhook,
        directory: DirectoryId,
        cursor: i64,
        rows: &[OutstandingEvent],
    ) -> Result<Option<Round>, ServiceError> {
        let data = self.store.tenant(webhook.tenant).directory_data(directory);
        let turn = self.database_turn().await;
        let now = self.effects.now();
        let known: HashSet<i64> = rows.iter().map(|row| row.seq).collect();
        let mut held_lanes: HashMap<&str, Vec<&OutstandingEvent>> = HashMap::new();
        for row in rows.iter().filter(|row| row.state == OutstandingState::Held) {
            held_lanes.entry(row.resource.as_str()).or_default().push(row);
        }
        // Rows come in event order, so each lane's first row is the one it waits on.
        let due = |lane: &[&OutstandingEvent]| {
            lane.first().is_some_and(|head| head.next_attempt_at.is_none_or(|at| at <= now))
        };

        let batch = data.changes_after(cursor, BATCH).await?;
        let batch_end = batch.last().map_or(cursor, |record| record.seq);
        let mut fresh: Vec<ChangeRecord> = batch.iter().filter(|r| !known.contains(&r.seq)).cloned().collect();
        let urgent = data.revocations_after(batch_end, URGENT_LOOKAHEAD).await?;
        let mut urgent_lanes: HashMap<String, &ChangeRecord> = HashMap::new();
        for record in &urgent {
            urgent_lanes.insert(lane_of(record), record);
        }
        for record in urgent_lanes.values() {
            let lane =
                data.resource_changes_between(record.resource_type, &record.resource_id, batch_end, record.seq).await?;
            fresh.extend(lane.into_iter().filter(|r| !known.contains(&r.seq)));
        }

        let mut settlement = Settlement::default();
        let mut queue: Vec<Queued<RoundEvent>> = Vec::new();
        let due_rows: Vec<&OutstandingEvent> =
            held_lanes.values().filter(|lane| due(lane)).flat_map(|lane| lane.iter().copied()).collect();
        if !due_rows.is_empty() {
            let seqs: Vec<i64> = due_rows.iter().map(|row| row.seq).collect();
            let records: HashMap<i64, ChangeRecord> =
                data.changes_numbered(&seqs).await?.into_iter().map(|r| (r.seq, r)).collect();
            for row in due_rows {
                match records.get(&row.seq) {
                    Some(record) => {
                        queue.push(Queued {
                            event: RoundEvent { record: record.clone(), held: true },
                            attempts: row.attempts,
                        });
                    }
                    // Purged with its deleted directory: nothing left to deliver.
                    None => settlement.settled.push(row.seq),
                }
            }
        }
        fresh.sort_by_key(|record| record.seq);
        fresh.dedup_by_key(|record| record.seq);
        for record in fresh {
            let lane = lane_of(&record);
            match held_lanes.get(lane.as_str()) {
                // Behind an event of its resource that is waiting for its next attempt.
                Some(held) if !due(held) => settlement.outstanding.push(OutstandingEvent {
                    directory,
                    seq: record.seq,
                    resource: lane,
                    state: OutstandingState::Held,
                    attempts: 0,
                    next_attempt_at: None,
                }),
                _ => queue.push(Queued { event: RoundEvent { record, held: false }, attempts: 0 }),
            }
        }
        queue.sort_by_key(|queued| queued.event.record.seq);
        let lanes = delivery::into_lanes(
            queue,
            |event| lane_of(&event.record),
            |event| store::is_revocation(&event.record.kind),
        );
        // Sending needs no turn at the database.
        drop(turn);
        let budget = self.budget(webhook.tenant);
        // Events the endpoint said it applied (a 2xx answer with `"applied": true`).
        let confirmed = std::sync::Mutex::new(Vec::new());
        let reports = delivery::run_lanes(
            lanes,
            self.options.endpoint_concurrency,
            self.options.max_attempts,
            &self.effects,
            |event: &RoundEvent, attempt| {
                let budget = Arc::clone(&budget);
                let seq = event.record.seq;
                let event = Event::new(webhook.tenant, directory, event.record.clone());
                let confirmed = &confirmed;
                async move {
                    // The semaphore is never closed, so a permit always comes.
                    let _permit = budget.acquire_owned().await;
                    let answer = self.send(webhook, &event, attempt, self.effects.now()).await?;
                    if answer.applied {
                        let answered_at = self.effects.now();
                        confirmed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((seq, answered_at));
                    }
                    Ok(answer.status)
                }
            },
        )
        .await;

        let mut delivered = 0;
        for report in reports {
            for sent in report.sent {
                let RoundEvent { record, held } = sent.event;
                let outcome = match sent.verdict {
                    Verdict::Delivered => DeliveryOutcome::Delivered,
                    Verdict::Failed => DeliveryOutcome::Failed,
                    Verdict::Dead => DeliveryOutcome::Dead,
                };
                settlement.attempts.push(DeliveryAttempt {
                    id: self.effects.id(),
                    directory,
                    event: record.id,
                    seq: record.seq,
                    attempt: sent.attempt,
                    attempted_at: sent.at,
                    outcome,
                    status_code: sent.status_code,
                    error: sent.error,
                });
                match sent.verdict {
                    Verdict::Failed => settlement.outstanding.push(OutstandingEvent {
                        directory,
                        seq: record.seq,
                        resource: lane_of(&record),
                        state: OutstandingState::Held,
                        attempts: sent.attempt,
                        next_attempt_at: Some(sent.at + self.options.backoff(sent.attempt)),
                    }),
                    Verdict::Delivered | Verdict::Dead => {
                        if sent.verdict == Verdict::Delivered {
                            delivered += 1;
                            if store::is_revocation(&record.kind) {
                                settlement.revocations_delivered.push((record.seq, sent.at));
                            }
                        } else {
                            tracing::warn!(webhook = %webhook.id, event = %record.id, "webhook event dead-lettered");
                        }
                        if held && record.seq <= batch_end {
                            settlement.settled.push(record.seq);
                        } else if record.seq > batch_end {
                            // Ahead of the cursor (sent ahead, or held there and now delivered): it
                            // must not be sent again when the cursor gets there.
                            settlement.outstanding.push(OutstandingEvent {
                                directory,
                                seq: record.seq,
                                resource: lane_of(&record),
                                state: OutstandingState::Sent,
                                attempts: 0,
                                next_attempt_at: None,
                            });
                        }
                    }
                }
            }
            for waiting in report.waiting {
                if !waiting.event.held {
                    let record = waiting.event.record;
                    settlement.outstanding.push(OutstandingEvent {
                        directory,
                        seq: record.seq,
                        resource: lane_of(&record),
                        state: OutstandingState::Held,
                        attempts: 0,
                        next_attempt_at: None,
                    });
                }
            }
        }
        settlement.cursor_to = (batch_end > cursor).then_some(batch_end);
        let _turn = self.database_turn().await;
        // Confirmations first: settled first, a confirmation that then failed to be written
        // would be lost (the event is not sent again). Written first, a settlement that
        // fails sends the event again, and its second confirmation changes nothing.
        let via = format!("webhook:{}", webhook.id);
        let answers = confirmed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::receipts::acknowledge_answers(&self.store, directory, &answers, &via, &Actor::System, &self.effects)
            .await?;
        let nothing = settlement == Settlement::default();
        let scope = self.store.tenant(webhook.tenant);
        if !nothing
            && !scope.settle_deliveries(webhook.id, directory, &self.owner, self.effects.now(), &settlement).await?
        {
            return Ok(None);
        }
        let more = batch.len() as i64 == BATCH || urgent.len() as i64 == URGENT_LOOKAHEAD;
        Ok(Some(Round { delivered, cursor: batch_end, more }))
    }

    /// The tenant's budget of requests in flight.
    fn budget(&self, tenant: TenantId) -> Arc<Semaphore> {
        let mut budgets = self.budgets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(budgets.entry(tenant).or_insert_with(|| Arc::new(Semaphore::new(self.options.tenant_budget.max(1)))))
    }

    /// POSTs one event; the endpoint's answer, or why there was none.
    async fn send(
        &self,
        webhook: &Webhook,
        event: &Event,
        attempt: i32,
        at: DateTime<Utc>,
    ) -> Result<EndpointAnswer, String> {
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
        Ok(EndpointAnswer::read(response).await)
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
        let answer = self.send(&webhook, &event, dead.attempt + 1, now).await.map(|answer| answer.status);
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

/// What an endpoint answered: its status, and whether its body confirmed that the event
/// was applied (`{"applied": true}`, read from at most [`ANSWER_LIMIT`] bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EndpointAnswer {
    pub status: u16,
    pub applied: bool,
}

/// The most of an answer's body read for its `applied` flag.
const ANSWER_LIMIT: usize = 4096;

impl EndpointAnswer {
    pub(crate) async fn read(mut response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Self { status, applied: false };
        }
        let mut body = Vec::new();
        while body.len() <= ANSWER_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        let applied = serde_json::from_slice::<serde_json::Value>(&body)
            .is_ok_and(|answer| answer.get("applied") == Some(&serde_json::Value::Bool(true)));
        Self { status, applied }
    }
}

/// What one round of deliveries in one directory came to.
#[derive(Debug, Clone, Copy)]
struct Round {
    delivered: usize,
    /// Where the cursor is now.
    cursor: i64,
    /// The round read a full batch: there may be more.
    more: bool,
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
            "198.18.0.1",
            "198.19.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "192.88.99.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "::10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2001:4860::8888",
        ] {
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
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(signed, format!("t=0,v1={expected}"));
        assert_ne!(signature("other", 0, b"x"), signature("Jefe", 0, b"x"));
    }
}
