//! Alerts: conditions someone must act on, told to the tenant's admins and the operator's
//! support address by email and to the operator's alert webhook, once when they start,
//! again on a schedule while they last, and once more when they end.
//!
//! The conditions ([`conditions`], pure) are judged on facts read per tenant:
//! - a revocation not confirmed as applied within the deployment's SLA;
//! - a directory whose identity provider has sent nothing for longer than the directory's
//!   silence threshold since setup (Microsoft Entra ID: 3 hours unless set, as it syncs
//!   every 40 minutes; the others push only on change, so only a threshold the admin sets);
//! - a directory whose SCIM tokens all expire within 7 days (and no OAuth client that could
//!   fetch new ones): rotated tokens, whose successor lives on, do not count;
//! - a webhook endpoint failing for an hour (events held back since its first failure
//!   after its last delivery), or that gave up on events in the last 24 hours (dead letters
//!   not delivered by a replay); the same of the operator's own endpoints (the vendor's
//!   product), as the deployment's alerts, told to support and the alert webhook only;
//! - a burst of failed SCIM requests: at least 10 failures and more than the deployment's
//!   error-rate threshold of a directory's requests in the last 15 minutes.
//!
//! [`evaluate`] runs a round: opens an alert per new condition (one per subject, also with
//! several server processes: a unique index), resolves the alerts whose condition ended,
//! and sends what is due. A notification is claimed in the database before it is sent, so
//! one process sends it; one that cannot be sent is given back and tried next round.
//! Opening and resolving are recorded in the tenant's audit trail.

use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;
use serde_json::json;
pub use store::{Alert, AlertDirectory, EndpointHealth, OperatorWebhookHealth, Tenant, WebhookHealth};
use store::{DirectoryId, NewAlert, Revocation, RevocationQuery, Store};

use crate::actor::Actor;
use crate::branding::Branding;
use crate::mail::Mailer;
use crate::receipts::duration_text;
use crate::{Effects, ServiceError};

/// At least this many failed requests in the window before their rate counts.
pub const MIN_FAILED_REQUESTS: i64 = 10;
/// The window of the failed-request burst.
pub const ERROR_WINDOW_MINUTES: i64 = 15;
/// A directory's last tokens expiring within this many days raise an alert.
pub const TOKEN_WARNING_DAYS: i64 = 7;
/// An endpoint failing (without a delivery) this long raises an alert.
pub const WEBHOOK_FAILING_MINUTES: i64 = 60;
/// Dead letters of this many hours keep an endpoint's alert open.
pub const DEAD_LETTER_HOURS: i64 = 24;
/// Microsoft Entra ID provisions every 40 minutes: three missed cycles.
pub const ENTRA_SILENCE_HOURS: i32 = 3;
/// Overdue revocations read per tenant and round.
const MAX_OVERDUE: i64 = 1_000;

/// The deployment's alert settings (operator configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSettings {
    /// A revocation not confirmed within this time is overdue.
    pub revocation_sla: Duration,
    /// An open alert is told again after this long.
    pub repeat_every: Duration,
    /// Percent of a directory's requests in the window that may fail before an alert.
    pub error_rate_percent: u32,
    /// Email the tenant's admins (the support address is emailed when one is set).
    pub email_admins: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            revocation_sla: Duration::minutes(i64::from(crate::receipts::DEFAULT_SLA_MINUTES)),
            repeat_every: Duration::hours(4),
            error_rate_percent: 20,
            email_admins: true,
        }
    }
}

/// What a condition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    RevocationOverdue,
    IdpSilent,
    TokenExpiring,
    WebhookFailing,
    ScimErrors,
    ChangesHeld,
    /// The deployment's own: an operator webhook endpoint (the vendor's product) failing.
    OperatorWebhookFailing,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::RevocationOverdue => "revocation_overdue",
            AlertKind::IdpSilent => "idp_silent",
            AlertKind::TokenExpiring => "token_expiring",
            AlertKind::WebhookFailing => "webhook_failing",
            AlertKind::ScimErrors => "scim_errors",
            AlertKind::ChangesHeld => "changes_held",
            AlertKind::OperatorWebhookFailing => "operator_webhook_failing",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::RevocationOverdue,
            Self::IdpSilent,
            Self::TokenExpiring,
            Self::WebhookFailing,
            Self::ScimErrors,
            Self::ChangesHeld,
            Self::OperatorWebhookFailing,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    /// What someone can do about it, for the message.
    pub fn advice(self) -> &'static str {
        match self {
            AlertKind::RevocationOverdue => {
                "The product has not confirmed that these people lost access. Check that its integration \
                 receives the events and acknowledges them once access is removed (Offboarding page)."
            }
            AlertKind::IdpSilent => {
                "Check the provisioning job in the identity provider: it may be stopped, quarantined, or \
                 using a revoked or expired token."
            }
            AlertKind::TokenExpiring => {
                "Rotate the token on the Tokens page and paste the new one into the identity provider \
                 before the old one expires."
            }
            AlertKind::WebhookFailing => {
                "Check that the endpoint is up and answers 2xx; held events are retried, dead letters can \
                 be replayed from the Webhooks page."
            }
            AlertKind::ScimErrors => {
                "Open the failures on the dashboard or in the support console: each shows the request, the \
                 answer and its cause."
            }
            AlertKind::ChangesHeld => {
                "Review the held changes on the directory's Safety brake page: release them if they are real \
                 (the product then receives them, in order), or discard them if the identity provider's scope \
                 was wrong (the directory is put back; fix the scope and its next sync sends what is real)."
            }
            AlertKind::OperatorWebhookFailing => {
                "Check that the product's endpoint is up and answers 2xx: every tenant's events wait for it. \
                 Held events are retried with backoff; events given up on are still in the event feed \
                 (GET /events) for the product to read."
            }
        }
    }
}

/// A condition that holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub kind: AlertKind,
    pub directory: Option<DirectoryId>,
    /// What it is about: one alert per subject is open at a time.
    pub subject: String,
    pub summary: String,
}

/// What the conditions read of one directory.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryFacts {
    pub directory: AlertDirectory,
    /// Requests and failures in the error window, and the last request ever.
    pub health: store::SyncHealth,
    /// The admin-issued tokens that are neither revoked nor expired.
    pub live_tokens: Vec<store::TokenRecord>,
}

/// What the conditions read of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantFacts {
    pub directories: Vec<DirectoryFacts>,
    /// Revocations not confirmed within the SLA.
    pub overdue: Vec<Revocation>,
    pub webhooks: Vec<WebhookHealth>,
    /// Open batches of changes held by the safety brake.
    pub held: Vec<store::HeldBatch>,
}

/// The conditions that hold for a tenant with these facts at `now`.
pub fn conditions(facts: &TenantFacts, settings: &AlertSettings, now: DateTime<Utc>) -> Vec<Condition> {
    let mut found = Vec::new();
    for entry in &facts.directories {
        let directory = &entry.directory;
        let name = &directory.display_name;
        let overdue: Vec<&Revocation> = facts.overdue.iter().filter(|r| r.directory == directory.id).collect();
        if let Some(oldest) = overdue.iter().min_by_key(|r| r.changed_at) {
            let count = overdue.len();
            found.push(Condition {
                kind: AlertKind::RevocationOverdue,
                directory: Some(directory.id),
                subject: format!("revocations:{}", directory.id),
                summary: format!(
                    "{count} {} of ‘{name}’ not confirmed as revoked within {} (oldest: {}, {} ago)",
                    if count == 1 { "leaver" } else { "leavers" },
                    duration_text(settings.revocation_sla),
                    oldest.user_name,
                    duration_text(now - oldest.changed_at),
                ),
            });
        }
        let threshold = effective_silence_hours(directory.idp, directory.silence_alert_hours);
        if let (Some(setup), true) = (directory.setup_completed_at, threshold > 0) {
            let heard = entry.health.last_request_at.map_or(setup, |last| last.max(setup));
            let silent = now - heard;
            if silent > Duration::hours(i64::from(threshold)) {
                found.push(Condition {
                    kind: AlertKind::IdpSilent,
                    directory: Some(directory.id),
                    subject: format!("silence:{}", directory.id),
                    summary: format!(
                        "{} has sent nothing to ‘{name}’ for {} (the alert threshold is {threshold} h)",
                        directory.idp.display_name(),
                        duration_text(silent),
                    ),
                });
            }
        }
        // The token the directory lives on longest; a rotated token's successor counts.
        let longest = entry.live_tokens.iter().max_by_key(|t| t.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC));
        if let (Some(token), 0) = (longest, directory.active_oauth_clients)
            && let Some(expires_at) = token.expires_at
            && expires_at > now
            && expires_at - now <= Duration::days(TOKEN_WARNING_DAYS)
        {
            found.push(Condition {
                kind: AlertKind::TokenExpiring,
                directory: Some(directory.id),
                subject: format!("token-expiry:{}", directory.id),
                summary: format!(
                    "The SCIM token ‘{}’ of ‘{name}’ expires in {}, on {}; {} stops provisioning then",
                    token.label,
                    duration_text(expires_at - now),
                    expires_at.format("%-d %b %Y %H:%M UTC"),
                    directory.idp.display_name(),
                ),
            });
        }
        let (requests, failures) = (entry.health.requests, entry.health.failures);
        if failures >= MIN_FAILED_REQUESTS && failures * 100 > requests * i64::from(settings.error_rate_percent) {
            found.push(Condition {
                kind: AlertKind::ScimErrors,
                directory: Some(directory.id),
                subject: format!("scim-errors:{}", directory.id),
                summary: format!(
                    "{failures} of {requests} SCIM requests to ‘{name}’ failed in the last {ERROR_WINDOW_MINUTES} \
                     minutes ({} %; the alert threshold is {} %)",
                    failures * 100 / requests.max(1),
                    settings.error_rate_percent,
                ),
            });
        }
    }
    for batch in &facts.held {
        let name = facts
            .directories
            .iter()
            .find(|entry| entry.directory.id == batch.directory)
            .map_or("a directory", |entry| entry.directory.display_name.as_str());
        let ago = duration_text(now - batch.opened_at);
        let held = format!(
            "{} {} held for review",
            batch.changes,
            if batch.changes == 1 { "change is" } else { "changes are" }
        );
        let summary = match batch.reason {
            store::HoldReason::MassRevocation => format!(
                "A mass deactivation in ‘{name}’ crossed the safety brake {ago} ago: {held}, {} of them \
                 deactivations or deletions",
                batch.revocations,
            ),
            store::HoldReason::PrivilegedGroup => {
                format!("Members were added to a privileged group of ‘{name}’ {ago} ago: {held}")
            }
        };
        found.push(Condition {
            kind: AlertKind::ChangesHeld,
            directory: Some(batch.directory),
            subject: format!("held:{}:{}", batch.directory, batch.number),
            summary,
        });
    }
    for webhook in &facts.webhooks {
        if let Some(trouble) = endpoint_trouble(webhook, now) {
            found.push(Condition {
                kind: AlertKind::WebhookFailing,
                directory: None,
                subject: format!("webhook:{}", webhook.id),
                summary: format!("Webhook endpoint {} {trouble}", webhook.url),
            });
        }
    }
    found
}

/// The conditions of the deployment's own: the operator's webhook endpoints (the vendor's
/// product) failing for an hour or giving up on events.
pub fn operator_conditions(endpoints: &[OperatorWebhookHealth], now: DateTime<Utc>) -> Vec<Condition> {
    endpoints
        .iter()
        .filter_map(|endpoint| {
            let trouble = endpoint_trouble(endpoint, now)?;
            Some(Condition {
                kind: AlertKind::OperatorWebhookFailing,
                directory: None,
                subject: format!("operator-webhook:{}", endpoint.id),
                summary: format!("The product's webhook endpoint {} {trouble}", endpoint.url),
            })
        })
        .collect()
}

/// What is wrong with an endpoint, in words ("has failed for 2 h (3 events held back)"),
/// when it has failed for an hour with events held back or gave up on events lately.
fn endpoint_trouble<Id>(endpoint: &EndpointHealth<Id>, now: DateTime<Utc>) -> Option<String> {
    let failing_for = endpoint.failing_since.filter(|_| endpoint.held > 0).map(|since| now - since);
    let failing = failing_for.filter(|d| *d >= Duration::minutes(WEBHOOK_FAILING_MINUTES));
    if failing.is_none() && endpoint.dead_letters == 0 {
        return None;
    }
    let events = |count: i64| if count == 1 { "event" } else { "events" };
    let mut parts = Vec::new();
    if let Some(failing) = failing {
        parts.push(format!(
            "has failed for {} ({} {} held back)",
            duration_text(failing),
            endpoint.held,
            events(endpoint.held)
        ));
    }
    if endpoint.dead_letters > 0 {
        parts.push(format!(
            "gave up on {} {} in the last {DEAD_LETTER_HOURS} hours (dead letters)",
            endpoint.dead_letters,
            events(endpoint.dead_letters)
        ));
    }
    Some(parts.join(" and "))
}

/// Where notifications go.
#[derive(Debug, Clone, Default)]
pub struct AlertChannels {
    pub mailer: Option<Mailer>,
    /// The operator's support address.
    pub support_address: Option<Mailbox>,
    /// The operator's alert webhook, signed with its secret (header `Alert-Signature`).
    pub webhook: Option<AlertWebhook>,
    /// The portal's address, for links in the messages.
    pub public_base: String,
}

/// The configuration the channels are made from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelSettings<'a> {
    pub smtp_url: Option<&'a str>,
    pub mail_from: &'a str,
    pub support_email: Option<&'a str>,
    pub webhook_url: Option<&'a str>,
    pub webhook_secret: Option<&'a str>,
    pub public_base: &'a str,
}

impl AlertChannels {
    /// The channels `settings` ask for; a setting that cannot work is refused now (at
    /// start-up) rather than at the first alert.
    pub fn configure(settings: &ChannelSettings<'_>) -> Result<Self, String> {
        let mailer = match settings.smtp_url {
            Some(url) => Some(Mailer::new(url, settings.mail_from).map_err(|e| format!("SMTP_URL / MAIL_FROM: {e}"))?),
            None => None,
        };
        let support_address = match settings.support_email {
            Some(address) => Some(crate::mail::mailbox(address).map_err(|e| format!("SUPPORT_EMAIL: {e}"))?),
            None => None,
        };
        let webhook = match (settings.webhook_url, settings.webhook_secret) {
            (None, _) => None,
            (Some(_), None) => return Err("ALERT_WEBHOOK_URL needs ALERT_WEBHOOK_SECRET to sign with".to_owned()),
            (Some(url), Some(secret)) => {
                url::Url::parse(url).map_err(|e| format!("ALERT_WEBHOOK_URL {url:?}: {e}"))?;
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()
                    .map_err(|e| format!("the alert webhook's HTTP client: {e}"))?;
                Some(AlertWebhook { url: url.to_owned(), secret: secret.to_owned(), client })
            }
        };
        Ok(Self { mailer, support_address, webhook, public_base: settings.public_base.to_owned() })
    }
}

/// The operator's alert webhook.
#[derive(Debug, Clone)]
pub struct AlertWebhook {
    pub url: String,
    pub secret: String,
    pub client: reqwest::Client,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub opened: usize,
    pub resolved: usize,
    /// Notifications sent (opened, repeated, resolved), per alert.
    pub notified: usize,
    /// Notifications that could not be sent (tried again next round).
    pub failed: usize,
}

/// Reads a tenant's facts.
pub async fn tenant_facts(
    store: &Store,
    tenant: store::TenantId,
    settings: &AlertSettings,
    now: DateTime<Utc>,
) -> Result<TenantFacts, ServiceError> {
    let scope = store.tenant(tenant);
    let since = now - Duration::minutes(ERROR_WINDOW_MINUTES);
    let mut directories = Vec::new();
    for directory in scope.alert_directories().await? {
        let health = scope.directory_sync_health(directory.id, since).await?;
        let live_tokens = scope
            .directory_tokens(directory.id)
            .await?
            .into_iter()
            .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > now))
            .collect();
        directories.push(DirectoryFacts { directory, health, live_tokens });
    }
    let query = RevocationQuery {
        applied: Some(false),
        changed_before: Some(now - settings.revocation_sla),
        limit: MAX_OVERDUE,
        ..RevocationQuery::default()
    };
    let overdue = scope.revocations(&query).await?;
    let webhooks = scope.webhook_health(now - Duration::hours(DEAD_LETTER_HOURS)).await?;
    let held = scope.held_batches(None, true, 100).await?;
    Ok(TenantFacts { directories, overdue, webhooks, held })
}

/// One round over every tenant, then over the deployment's own alerts (see the module
/// documentation).
pub async fn evaluate(
    store: &Store,
    settings: &AlertSettings,
    channels: &AlertChannels,
    effects: &Effects,
) -> Result<Round, ServiceError> {
    let mut round = Round::default();
    // Read once a round: every email of the round is signed with it.
    let branding = crate::branding::current(store).await?;
    for summary in store.tenant_summaries().await? {
        let tenant = summary.tenant;
        let now = effects.now();
        let facts = tenant_facts(store, tenant.id, settings, now).await?;
        let current = conditions(&facts, settings, now);
        let book = Book::Tenant { store, tenant: &tenant };
        book.run(&current, settings, channels, &branding, effects, now, &mut round).await?;
    }
    let now = effects.now();
    let endpoints = store.operator_webhook_health(now - Duration::hours(DEAD_LETTER_HOURS)).await?;
    let current = operator_conditions(&endpoints, now);
    Book::Deployment(store).run(&current, settings, channels, &branding, effects, now, &mut round).await?;
    Ok(round)
}

/// Where a round's alerts are kept and who is told: a tenant's (opening and resolving are
/// recorded in its audit trail; its admins are emailed) or the deployment's own (about the
/// operator's webhook endpoints: logged, told to support and the alert webhook only).
enum Book<'a> {
    Tenant { store: &'a Store, tenant: &'a Tenant },
    Deployment(&'a Store),
}

impl Book<'_> {
    /// Opens an alert per new condition, resolves those whose condition ended, and sends
    /// what is due.
    #[allow(clippy::too_many_arguments)] // the round's inputs, as `evaluate` holds them
    async fn run(
        &self,
        current: &[Condition],
        settings: &AlertSettings,
        channels: &AlertChannels,
        branding: &Branding,
        effects: &Effects,
        now: DateTime<Utc>,
        round: &mut Round,
    ) -> Result<(), ServiceError> {
        let open = self.open_alerts().await?;
        for condition in current.iter().filter(|c| !open.iter().any(|a| a.subject == c.subject)) {
            let alert = NewAlert {
                id: effects.id(),
                directory: condition.directory,
                kind: condition.kind.as_str().to_owned(),
                subject: condition.subject.clone(),
                summary: condition.summary.clone(),
                opened_at: now,
            };
            if self.open(&alert).await? {
                round.opened += 1;
            }
        }
        for alert in open.iter().filter(|a| !current.iter().any(|c| c.subject == a.subject)) {
            if self.resolve(alert, now).await? {
                round.resolved += 1;
            }
        }
        // Read once, and only when something is to be told.
        let mut admins: Option<Vec<Mailbox>> = None;
        for alert in self.open_alerts().await? {
            let due = alert.notified_at.is_none_or(|at| now - at >= settings.repeat_every);
            if !due {
                continue;
            }
            let summary = current.iter().find(|c| c.subject == alert.subject).map_or(&alert.summary, |c| &c.summary);
            if !self.claim_notification(&alert, now, summary).await? {
                continue;
            }
            let phase = if alert.notified_at.is_none() { Phase::Opened } else { Phase::Repeated };
            let alert = Alert { summary: summary.clone(), ..alert };
            let admins = self.recipients(&mut admins, settings).await?;
            match notify(channels, branding, self.tenant(), &alert, phase, admins, now).await {
                Ok(()) => round.notified += 1,
                Err(error) => {
                    tracing::warn!(%error, tenant = self.label(), alert = %alert.id, "an alert could not be sent; retrying next round");
                    self.release_notification(&alert, now).await?;
                    round.failed += 1;
                }
            }
        }
        for alert in self.unannounced_resolutions().await? {
            if !self.mark_resolution_sent(alert.id, true).await? {
                continue;
            }
            let admins = self.recipients(&mut admins, settings).await?;
            match notify(channels, branding, self.tenant(), &alert, Phase::Resolved, admins, now).await {
                Ok(()) => round.notified += 1,
                Err(error) => {
                    tracing::warn!(%error, tenant = self.label(), alert = %alert.id, "a resolved alert could not be told; retrying next round");
                    self.mark_resolution_sent(alert.id, false).await?;
                    round.failed += 1;
                }
            }
        }
        Ok(())
    }

    fn tenant(&self) -> Option<&Tenant> {
        match self {
            Book::Tenant { tenant, .. } => Some(tenant),
            Book::Deployment(_) => None,
        }
    }

    /// For the log.
    fn label(&self) -> &str {
        self.tenant().map_or("(deployment)", |tenant| tenant.slug.as_str())
    }

    async fn open_alerts(&self) -> Result<Vec<Alert>, ServiceError> {
        Ok(match self {
            Book::Tenant { store, tenant } => store.tenant(tenant.id).open_alerts().await?,
            Book::Deployment(store) => store.open_operator_alerts().await?,
        })
    }

    async fn unannounced_resolutions(&self) -> Result<Vec<Alert>, ServiceError> {
        Ok(match self {
            Book::Tenant { store, tenant } => store.tenant(tenant.id).unannounced_resolutions().await?,
            Book::Deployment(store) => store.unannounced_operator_resolutions().await?,
        })
    }

    /// Opens an alert; `false`: one about its subject is open (another process, or an
    /// earlier round, opened it).
    async fn open(&self, alert: &NewAlert) -> Result<bool, ServiceError> {
        let detail = json!({ "alert": alert.id.to_string(), "kind": alert.kind, "summary": alert.summary });
        match self {
            Book::Tenant { store, tenant } => {
                let mut action = store.tenant(tenant.id).begin_action().await?;
                if !action.open_alert(alert).await? {
                    return Ok(false);
                }
                action.commit(Actor::System.record("alert.opened", alert.directory, detail, alert.opened_at)).await?;
            }
            Book::Deployment(store) => {
                if !store.open_operator_alert(alert).await? {
                    return Ok(false);
                }
                tracing::warn!(alert = %alert.id, kind = %alert.kind, summary = %alert.summary, "deployment alert opened");
            }
        }
        Ok(true)
    }

    /// Resolves an open alert; `false`: another process did.
    async fn resolve(&self, alert: &Alert, now: DateTime<Utc>) -> Result<bool, ServiceError> {
        let lasted = duration_text(now - alert.opened_at);
        match self {
            Book::Tenant { store, tenant } => {
                let mut action = store.tenant(tenant.id).begin_action().await?;
                if !action.resolve_alert(alert.id, now).await? {
                    return Ok(false);
                }
                let detail = json!({ "alert": alert.id.to_string(), "kind": alert.kind, "summary": alert.summary,
                                     "lasted": lasted });
                action.commit(Actor::System.record("alert.resolved", alert.directory, detail, now)).await?;
            }
            Book::Deployment(store) => {
                if !store.resolve_operator_alert(alert.id, now).await? {
                    return Ok(false);
                }
                tracing::info!(alert = %alert.id, kind = %alert.kind, %lasted, "deployment alert resolved");
            }
        }
        Ok(true)
    }

    /// Claims the alert's next notification (see `claim_alert_notification`).
    async fn claim_notification(&self, alert: &Alert, now: DateTime<Utc>, summary: &str) -> Result<bool, ServiceError> {
        Ok(match self {
            Book::Tenant { store, tenant } => {
                store.tenant(tenant.id).claim_alert_notification(alert.id, alert.notified_at, now, summary).await?
            }
            Book::Deployment(store) => {
                store.claim_operator_alert_notification(alert.id, alert.notified_at, now, summary).await?
            }
        })
    }

    /// Gives a claimed notification back: the next round tries again.
    async fn release_notification(&self, alert: &Alert, claimed_at: DateTime<Utc>) -> Result<(), ServiceError> {
        match self {
            Book::Tenant { store, tenant } => {
                store.tenant(tenant.id).release_alert_notification(alert.id, alert.notified_at, claimed_at).await?;
            }
            Book::Deployment(store) => {
                store.release_operator_alert_notification(alert.id, alert.notified_at, claimed_at).await?;
            }
        }
        Ok(())
    }

    async fn mark_resolution_sent(&self, alert: store::AlertId, sent: bool) -> Result<bool, ServiceError> {
        Ok(match self {
            Book::Tenant { store, tenant } => store.tenant(tenant.id).mark_resolution_sent(alert, sent).await?,
            Book::Deployment(store) => store.mark_operator_resolution_sent(alert, sent).await?,
        })
    }

    /// The tenant's admins as recipients (none for the deployment's alerts, and none when
    /// the settings say not to email them), read into `read` the first time.
    async fn recipients<'r>(
        &self,
        read: &'r mut Option<Vec<Mailbox>>,
        settings: &AlertSettings,
    ) -> Result<&'r [Mailbox], ServiceError> {
        if read.is_none() {
            let admins = match self {
                Book::Tenant { store, tenant } if settings.email_admins => {
                    store.tenant(tenant.id).tenant_admins().await?
                }
                _ => Vec::new(),
            };
            *read = Some(admins.iter().filter_map(|admin| crate::mail::mailbox(&admin.email).ok()).collect());
        }
        Ok(read.as_deref().unwrap_or_default())
    }
}

/// The tenant's open alerts (of one directory and the tenant's webhooks, when a directory
/// is given), oldest first.
pub async fn open_alerts(
    store: &Store,
    tenant: store::TenantId,
    directory: Option<DirectoryId>,
) -> Result<Vec<Alert>, ServiceError> {
    let open = store.tenant(tenant).open_alerts().await?;
    Ok(open.into_iter().filter(|a| directory.is_none() || a.directory.is_none() || a.directory == directory).collect())
}

/// The tenant's name and slug, for the pages that list its alerts.
pub async fn tenant(store: &Store, tenant: store::TenantId) -> Result<Option<Tenant>, ServiceError> {
    Ok(store.tenant_by_id(tenant).await?)
}

/// Every tenant's open alerts with their tenant, and the deployment's own (`None`), oldest
/// first.
pub async fn open_across_tenants(store: &Store) -> Result<Vec<(Option<Tenant>, Alert)>, ServiceError> {
    let mut found: Vec<(Option<Tenant>, Alert)> =
        store.open_operator_alerts().await?.into_iter().map(|alert| (None, alert)).collect();
    for summary in store.tenant_summaries().await? {
        for alert in store.tenant(summary.tenant.id).open_alerts().await? {
            found.push((Some(summary.tenant.clone()), alert));
        }
    }
    found.sort_by_key(|(_, alert)| alert.opened_at);
    Ok(found)
}

/// A directory's silence threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilenceThreshold {
    /// What the admin set: `None` for the provider's default, `Some(0)` for never.
    pub hours: Option<i32>,
    /// What applies: 0 for never.
    pub effective_hours: i32,
    pub idp: store::IdentityProvider,
}

/// The longest silence threshold, a year.
pub const MAX_SILENCE_HOURS: i32 = 8_760;

/// Why a silence threshold was not set.
#[derive(Debug, thiserror::Error)]
pub enum SilenceThresholdError {
    #[error("no such directory")]
    NoSuchDirectory,
    #[error("the threshold is a whole number of hours from 0 (never) to {MAX_SILENCE_HOURS}, or empty for the default")]
    Invalid,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for SilenceThresholdError {
    fn from(error: store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

/// A directory's silence threshold (`None`: no such directory of the tenant).
pub async fn silence_threshold(
    store: &Store,
    tenant: store::TenantId,
    directory: DirectoryId,
) -> Result<Option<SilenceThreshold>, ServiceError> {
    let directories = store.tenant(tenant).alert_directories().await?;
    Ok(directories.into_iter().find(|d| d.id == directory).map(|d| SilenceThreshold {
        hours: d.silence_alert_hours,
        effective_hours: effective_silence_hours(d.idp, d.silence_alert_hours),
        idp: d.idp,
    }))
}

/// The threshold that applies: the admin's, else the provider's default (0: never).
pub fn effective_silence_hours(idp: store::IdentityProvider, hours: Option<i32>) -> i32 {
    match hours {
        Some(hours) => hours,
        None if idp == store::IdentityProvider::Entra => ENTRA_SILENCE_HOURS,
        None => 0,
    }
}

/// Sets a directory's silence threshold from the admin's text (empty: the provider's
/// default; 0: never), recorded in the tenant's trail.
pub async fn set_silence_threshold(
    store: &Store,
    actor: &Actor,
    tenant: store::TenantId,
    directory: DirectoryId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<SilenceThreshold, SilenceThresholdError> {
    let hours = match text.trim() {
        "" => None,
        text => Some(
            text.parse::<i32>()
                .ok()
                .filter(|h| (0..=MAX_SILENCE_HOURS).contains(h))
                .ok_or(SilenceThresholdError::Invalid)?,
        ),
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.set_silence_alert_hours(directory, hours).await? {
        return Err(SilenceThresholdError::NoSuchDirectory);
    }
    let detail = json!({ "silence_alert_hours": hours });
    action.commit(actor.record("directory.silence_alert_set", Some(directory), detail, now)).await?;
    silence_threshold(store, tenant, directory).await?.ok_or(SilenceThresholdError::NoSuchDirectory)
}

/// Which notification of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Opened,
    Repeated,
    Resolved,
}

impl Phase {
    fn event_type(self) -> &'static str {
        match self {
            Phase::Opened => "alert.opened",
            Phase::Repeated => "alert.repeated",
            Phase::Resolved => "alert.resolved",
        }
    }

    fn subject_prefix(self) -> &'static str {
        match self {
            Phase::Opened => "Alert",
            Phase::Repeated => "Still open",
            Phase::Resolved => "Resolved",
        }
    }
}

/// Sends one notification on every configured channel: about `tenant` to its `admins` and
/// support, or (`None`) about the deployment's own endpoints to support.
async fn notify(
    channels: &AlertChannels,
    branding: &Branding,
    tenant: Option<&Tenant>,
    alert: &Alert,
    phase: Phase,
    admins: &[Mailbox],
    now: DateTime<Utc>,
) -> Result<(), String> {
    let kind = AlertKind::parse(&alert.kind);
    if let Some(mailer) = &channels.mailer {
        let (name, about) = match tenant {
            Some(tenant) => {
                (tenant.display_name.as_str(), format!("Tenant: {} ({})", tenant.display_name, tenant.slug.as_str()))
            }
            None => ("Deployment", "About: the deployment's own webhook endpoints (the operator API's)".to_owned()),
        };
        let subject = format!("[{name}] {}: {}", phase.subject_prefix(), alert.summary);
        let timing = match phase {
            Phase::Opened => format!("Opened {}.", alert.opened_at.format("%-d %b %Y %H:%M UTC")),
            Phase::Repeated => format!(
                "Opened {}; still open after {}.",
                alert.opened_at.format("%-d %b %Y %H:%M UTC"),
                duration_text(now - alert.opened_at)
            ),
            Phase::Resolved => format!(
                "Resolved {}, after {}.",
                alert.resolved_at.unwrap_or(now).format("%-d %b %Y %H:%M UTC"),
                duration_text(alert.resolved_at.unwrap_or(now) - alert.opened_at)
            ),
        };
        let advice = match (phase, kind) {
            (Phase::Resolved, _) | (_, None) => String::new(),
            (_, Some(kind)) => format!("\n\nWhat to do: {}", kind.advice()),
        };
        let body = |link: &str| {
            format!(
                "{}\n\n{about}\n{timing}{advice}\n\nSee it in the portal: {}{link}\n",
                alert.summary, channels.public_base
            )
        };
        if !admins.is_empty() {
            mailer.send(branding, admins, &subject, &body("/admin")).await.map_err(|e| e.to_string())?;
        }
        if let Some(support) = &channels.support_address {
            let link = tenant.map_or_else(|| "/support".to_owned(), |t| format!("/support?tenant={}", t.slug.as_str()));
            mailer
                .send(branding, std::slice::from_ref(support), &subject, &body(&link))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    if let Some(webhook) = &channels.webhook {
        let payload = json!({
            "id": format!("alert_{}_{}", alert.id, alert.notifications.max(1)),
            "type": phase.event_type(),
            "created_at": now,
            "data": {
                "alert_id": alert.id.to_string(),
                "tenant": tenant.map(|t| t.slug.as_str()),
                "tenant_name": tenant.map(|t| t.display_name.as_str()),
                "directory_id": alert.directory.map(|d| d.to_string()),
                "kind": alert.kind,
                "subject": alert.subject,
                "summary": alert.summary,
                "opened_at": alert.opened_at,
                "resolved_at": alert.resolved_at,
            },
        });
        let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
        let signature = crate::webhooks::signature(&webhook.secret, now.timestamp(), &body);
        let answer = webhook
            .client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("Alert-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the alert webhook could not be reached: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("the alert webhook answered {}", answer.status()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
