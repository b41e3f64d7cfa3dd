//! Receipts: the vendor's product confirms each event it has applied, and for every user
//! deactivation and deletion the portal keeps a revocation record with its timeline —
//! handled and stored (the identity provider's request), delivered (the first 2xx webhook
//! answer or read of the feed), applied (the product's confirmation) — and the
//! time-to-revoke between the first and the last.
//!
//! A confirmation comes either through the operator API (`POST .../ack`, which an
//! integration calls once it has really revoked access) or as a 2xx webhook answer whose
//! JSON body says `"applied": true` (for an integration that revokes before it answers).
//! Each confirmation is an action of the product: it writes one audit record
//! (`revocation.applied` with the timeline, or `event.applied`) in its own transaction, so
//! the tamper-evident trail holds every revocation's proof.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use store::{Acknowledged, DirectoryId, Revocation, RevocationQuery, Store, TenantId};

use crate::actor::Actor;
use crate::{Effects, ServiceError};

/// The revocation SLA unless the operator sets another: 15 minutes.
pub const DEFAULT_SLA_MINUTES: u32 = 15;

/// Rows one offboarding read returns at most.
pub const MAX_ROWS: i64 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("no such event: {0}")]
    UnknownEvent(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for ReceiptError {
    fn from(error: store::StoreError) -> Self {
        ReceiptError::Service(error.into())
    }
}

/// What a confirmation recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventReceipt {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub seq: i64,
    pub kind: String,
    /// The first confirmation's time (a repeat keeps it).
    pub applied_at: DateTime<Utc>,
    /// The event had been confirmed before: nothing changed.
    pub already_applied: bool,
    /// For a deactivation or deletion: its record, with the timeline.
    pub revocation: Option<Revocation>,
}

/// Confirms that the product applied the event numbered `seq` of `directory` (its place in
/// the directory's feed: the event's `cursor`), `via` naming who said so (`api-key:<id>`).
/// Webhook answers are confirmed in batches by [`acknowledge_answers`].
pub async fn acknowledge(
    store: &Store,
    directory: DirectoryId,
    seq: i64,
    via: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<EventReceipt, ReceiptError> {
    let unknown = || ReceiptError::UnknownEvent(format!("{directory}/{seq}"));
    let tenant = store.directory_owner(directory).await?.ok_or_else(unknown)?;
    let scope = store.tenant(tenant);
    let change = scope.directory_data(directory).changes_numbered(&[seq]).await?.into_iter().next();
    // The self-test's changes are not the product's to confirm.
    let change = change.filter(|c| !c.resource_id.starts_with(store::SELF_TEST_ID_PREFIX)).ok_or_else(unknown)?;
    let now = effects.now();
    let mut action = scope.begin_action().await?;
    let confirmation = Confirmation { tenant, directory, via, actor, now };
    let (receipt, record) = confirmation.write(&mut action, &change, now).await?;
    // Already confirmed: nothing happened, the first confirmation and its record stand.
    if let Some(record) = record {
        action.commit(record).await?;
    }
    Ok(receipt)
}

/// Confirms a batch of events of one directory that a webhook answered with `"applied":
/// true`, each with the time of its answer (its delivery, if none was noted before), in
/// one transaction with one record per event newly confirmed (one transaction per event
/// made a busy deployment's deliveries wait on the database). The deliverers write these
/// before they settle the delivery, so that a failure between the two can only send the
/// events again (confirmed again, which changes nothing), never lose a confirmation. Events that are not the product's (gone with a purged directory, the
/// self-test's) are skipped. Returns how many were newly confirmed.
pub async fn acknowledge_answers(
    store: &Store,
    directory: DirectoryId,
    answers: &[(i64, DateTime<Utc>)],
    via: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<usize, ServiceError> {
    if answers.is_empty() {
        return Ok(0);
    }
    let Some(tenant) = store.directory_owner(directory).await? else {
        return Ok(0);
    };
    let scope = store.tenant(tenant);
    let seqs: Vec<i64> = answers.iter().map(|(seq, _)| *seq).collect();
    let changes: std::collections::HashMap<i64, store::ChangeRecord> = scope
        .directory_data(directory)
        .changes_numbered(&seqs)
        .await?
        .into_iter()
        .filter(|c| !c.resource_id.starts_with(store::SELF_TEST_ID_PREFIX))
        .map(|c| (c.seq, c))
        .collect();
    let now = effects.now();
    let mut action = scope.begin_action().await?;
    let confirmation = Confirmation { tenant, directory, via, actor, now };
    let mut records = Vec::new();
    for (seq, answered_at) in answers {
        let Some(change) = changes.get(seq) else { continue };
        if let (_, Some(record)) = confirmation.write(&mut action, change, *answered_at).await? {
            records.push(record);
        }
    }
    let confirmed = records.len();
    action.commit_all(&records).await?;
    Ok(confirmed)
}

/// Who confirms what, and when.
struct Confirmation<'a> {
    tenant: TenantId,
    directory: DirectoryId,
    via: &'a str,
    actor: &'a Actor,
    now: DateTime<Utc>,
}

impl Confirmation<'_> {
    /// Writes one confirmation into `action`: the receipt, and its audit record unless the
    /// event was confirmed before.
    async fn write(
        &self,
        action: &mut store::TenantAction<'_>,
        change: &store::ChangeRecord,
        delivered_at: DateTime<Utc>,
    ) -> Result<(EventReceipt, Option<store::NewAuditRecord>), ServiceError> {
        let Confirmation { tenant, directory, via, actor, now } = *self;
        let seq = change.seq;
        let acknowledged = action.acknowledge_event(directory, seq, now, delivered_at, via).await?;
        let receipt = match acknowledged {
            Acknowledged::Revocation { revocation, already } => EventReceipt {
                tenant,
                directory,
                seq,
                kind: change.kind.clone(),
                applied_at: revocation.applied_at.unwrap_or(now),
                already_applied: already,
                revocation: Some(revocation),
            },
            Acknowledged::Event { applied_at, already } => EventReceipt {
                tenant,
                directory,
                seq,
                kind: change.kind.clone(),
                applied_at,
                already_applied: already,
                revocation: None,
            },
        };
        if receipt.already_applied {
            return Ok((receipt, None));
        }
        let record = match &receipt.revocation {
            Some(revocation) => actor.record(
                "revocation.applied",
                Some(directory),
                json!({
                    "seq": seq,
                    "user_id": revocation.user_id,
                    "user_name": revocation.user_name,
                    "kind": revocation.kind,
                    "changed_at": revocation.changed_at.to_rfc3339(),
                    "delivered_at": revocation.delivered_at.map(|at| at.to_rfc3339()),
                    "applied_at": receipt.applied_at.to_rfc3339(),
                    "time_to_revoke_ms": (receipt.applied_at - revocation.changed_at).num_milliseconds(),
                    "via": via,
                }),
                now,
            ),
            None => actor.record(
                "event.applied",
                Some(directory),
                json!({ "seq": seq, "kind": change.kind, "via": via }),
                now,
            ),
        };
        Ok((receipt, Some(record)))
    }
}

/// Where a revocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// The product confirmed it.
    Applied,
    /// The product received it and has not confirmed it yet, within the SLA.
    Delivered,
    /// Not received yet, within the SLA.
    Pending,
    /// Not confirmed within the SLA.
    Overdue,
}

impl RevocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationStatus::Applied => "applied",
            RevocationStatus::Delivered => "delivered",
            RevocationStatus::Pending => "pending",
            RevocationStatus::Overdue => "overdue",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Applied, Self::Delivered, Self::Pending, Self::Overdue].into_iter().find(|s| s.as_str() == text)
    }

    /// Where `revocation` stands at `now` under `sla`.
    pub fn of(revocation: &Revocation, sla: Duration, now: DateTime<Utc>) -> Self {
        if revocation.applied_at.is_some() {
            RevocationStatus::Applied
        } else if now - revocation.changed_at > sla {
            RevocationStatus::Overdue
        } else if revocation.delivered_at.is_some() {
            RevocationStatus::Delivered
        } else {
            RevocationStatus::Pending
        }
    }
}

/// One leaver on the offboarding page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffboardingRow {
    pub revocation: Revocation,
    pub status: RevocationStatus,
    /// From the request to the confirmation.
    pub time_to_revoke: Option<Duration>,
}

/// Which leavers to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffboardingFilter {
    pub directory: Option<DirectoryId>,
    pub status: Option<RevocationStatus>,
    /// A part of the user's name or id.
    pub user: Option<String>,
}

/// The tenant's revocations that match `filter`, newest first, at most [`MAX_ROWS`].
pub async fn offboarding(
    store: &Store,
    tenant: TenantId,
    filter: &OffboardingFilter,
    sla: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<OffboardingRow>, ServiceError> {
    let mut query = RevocationQuery {
        directory: filter.directory,
        user: filter.user.clone().filter(|user| !user.trim().is_empty()),
        limit: MAX_ROWS,
        ..RevocationQuery::default()
    };
    match filter.status {
        Some(RevocationStatus::Applied) => query.applied = Some(true),
        Some(RevocationStatus::Overdue) => {
            query.applied = Some(false);
            query.changed_before = Some(now - sla);
        }
        Some(RevocationStatus::Delivered | RevocationStatus::Pending) => query.applied = Some(false),
        None => {}
    }
    let rows = store.tenant(tenant).revocations(&query).await?;
    Ok(rows
        .into_iter()
        .map(|revocation| {
            let status = RevocationStatus::of(&revocation, sla, now);
            let time_to_revoke = revocation.applied_at.map(|at| at - revocation.changed_at);
            OffboardingRow { revocation, status, time_to_revoke }
        })
        .filter(|row| filter.status.is_none_or(|wanted| wanted == row.status))
        .collect())
}

/// A tenant with revocations the product has not confirmed, for support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnappliedRevocations {
    pub tenant: store::Tenant,
    pub unapplied: usize,
    /// Of those, past the SLA.
    pub overdue: usize,
    pub oldest: DateTime<Utc>,
}

/// Every tenant with unconfirmed revocations, those with overdue ones first.
pub async fn unapplied_by_tenant(
    store: &Store,
    sla: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<UnappliedRevocations>, ServiceError> {
    let mut found = Vec::new();
    for summary in store.tenant_summaries().await? {
        let tenant = summary.tenant;
        let query = RevocationQuery { applied: Some(false), limit: MAX_ROWS, ..RevocationQuery::default() };
        let open = store.tenant(tenant.id).revocations(&query).await?;
        let Some(oldest) = open.iter().map(|r| r.changed_at).min() else { continue };
        let overdue = open.iter().filter(|r| now - r.changed_at > sla).count();
        found.push(UnappliedRevocations { tenant, unapplied: open.len(), overdue, oldest });
    }
    found.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.oldest.cmp(&b.oldest)));
    Ok(found)
}

/// Human words for a duration: `412 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    if seconds == 0 {
        return format!("{} ms", duration.num_milliseconds().max(0));
    }
    // A whole number of the larger unit drops the zero ("15 min", not "15 min 0 s").
    let two = |large: i64, large_unit: &str, small: i64, small_unit: &str| match small {
        0 => format!("{large} {large_unit}"),
        _ => format!("{large} {large_unit} {small} {small_unit}"),
    };
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => two(seconds / 60, "min", seconds % 60, "s"),
        3600..86400 => two(seconds / 3600, "h", (seconds % 3600) / 60, "min"),
        _ => two(seconds / 86400, "d", (seconds % 86400) / 3600, "h"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn revocation(delivered: Option<i64>, applied: Option<i64>) -> Revocation {
        let at = |minute: i64| Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap() + Duration::minutes(minute);
        Revocation {
            directory: DirectoryId::from(uuid::Uuid::nil()),
            seq: 1,
            user_id: "u".into(),
            user_name: "bob".into(),
            kind: "user.deactivated".into(),
            changed_at: at(0),
            delivered_at: delivered.map(at),
            delivered_via: None,
            applied_at: applied.map(at),
            applied_via: None,
        }
    }

    #[test]
    fn a_revocation_is_overdue_once_the_sla_passes_unconfirmed() {
        let sla = Duration::minutes(15);
        let now = |minute: i64| Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap() + Duration::minutes(minute);
        assert_eq!(RevocationStatus::of(&revocation(None, None), sla, now(5)), RevocationStatus::Pending);
        assert_eq!(RevocationStatus::of(&revocation(Some(1), None), sla, now(5)), RevocationStatus::Delivered);
        assert_eq!(RevocationStatus::of(&revocation(Some(1), None), sla, now(16)), RevocationStatus::Overdue);
        assert_eq!(RevocationStatus::of(&revocation(Some(1), Some(20)), sla, now(30)), RevocationStatus::Applied);
        for status in ["applied", "delivered", "pending", "overdue"] {
            assert_eq!(RevocationStatus::parse(status).map(RevocationStatus::as_str), Some(status));
        }
        assert_eq!(RevocationStatus::parse("late"), None);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_text(Duration::seconds(42)), "42 s");
        assert_eq!(duration_text(Duration::seconds(185)), "3 min 5 s");
        assert_eq!(duration_text(Duration::minutes(130)), "2 h 10 min");
        assert_eq!(duration_text(Duration::hours(76)), "3 d 4 h");
        assert_eq!(duration_text(Duration::minutes(15)), "15 min");
        assert_eq!(duration_text(Duration::hours(2)), "2 h");
        assert_eq!(duration_text(Duration::milliseconds(412)), "412 ms");
        assert_eq!(duration_text(Duration::seconds(-3)), "0 ms");
    }
}
