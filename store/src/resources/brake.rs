//! The safety brake (migration 0030): mass deactivations and grants of privileged groups
//! are written, but their change records are held back from the vendor's product until a
//! tenant admin releases or discards them.
//!
//! The decision is made before a write's statements run ([`WriteTransaction::plan_hold`]),
//! with the directory locked: a write is held when its resource already has held changes
//! (a resource's events stay in order), when it deactivates or deletes a user while a
//! mass-revocation batch is open or the threshold is crossed by it, or when it adds
//! members to a privileged group. A held write's resource is snapshotted first (once per
//! batch), so that discarding can put it back; every change record the write makes,
//! including the membership removals of a user's deletion, goes to the batch instead of the
//! change log. Releasing appends them to the change log in the order they were made, with
//! the times they were made; discarding restores the snapshots and undoes the held
//! membership changes, without change records: the vendor's product never saw them.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sqlx::types::Json;

use super::transaction::{WriteTransaction, on_open};
use super::write::fold;
use super::{
    Change, ChangeKind, DirectoryData, MemberDelta, ResourceKind, SELF_TEST_ID_PREFIX, WriteContext, change_members,
};
use crate::ids::DirectoryId;
use crate::scope::TenantScope;
use crate::{NewAuditRecord, StoreError, TenantAction};

/// Revocations within this window count towards the threshold.
pub const BRAKE_WINDOW_MINUTES: i64 = 10;
/// How long a directory's count of active users is reused by the threshold check: counting
/// reads every user, and a burst of revocations would otherwise count once per revocation.
const POPULATION_TTL: StdDuration = StdDuration::from_secs(60);

/// A directory's brake settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrakeSettings {
    /// Whether mass revocations are held (privileged groups are held whenever one is marked).
    pub enabled: bool,
    /// More than this percent of the active users…
    pub percent: i32,
    /// …and at least this many, deactivated or deleted within the window.
    pub minimum: i32,
}

impl Default for BrakeSettings {
    fn default() -> Self {
        Self { enabled: true, percent: 10, minimum: 25 }
    }
}

/// Why a batch was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// The threshold was crossed: every later revocation of the directory is held too.
    MassRevocation,
    /// Members were added to a privileged group.
    PrivilegedGroup,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::MassRevocation => "mass_revocation",
            HoldReason::PrivilegedGroup => "privileged_group",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "mass_revocation" => Ok(HoldReason::MassRevocation),
            "privileged_group" => Ok(HoldReason::PrivilegedGroup),
            other => Err(StoreError::Corrupt(format!("unknown hold reason {other}"))),
        }
    }
}

/// A batch of held changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBatch {
    pub directory: DirectoryId,
    /// 1, 2, 3… per directory.
    pub number: i64,
    pub reason: HoldReason,
    pub opened_at: DateTime<Utc>,
    /// `open`, `released` or `discarded`.
    pub state: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    /// Change records held.
    pub changes: i64,
    /// Of them, deactivations and deletions of users.
    pub revocations: i64,
}

/// One held change record.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldChange {
    pub ordinal: i64,
    pub kind: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The resource's name when the change was made (userName, displayName; else its id).
    pub resource_name: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
    /// A membership change's members by name, as they were before the batch (a member
    /// deleted since is still named); empty for other changes.
    pub member_names: Vec<String>,
}

/// Each directory's active users as last counted, per process.
#[derive(Debug, Default)]
pub(crate) struct BrakePopulation(std::sync::Mutex<HashMap<DirectoryId, (Instant, i64)>>);

impl BrakePopulation {
    fn get(&self, directory: DirectoryId) -> Option<i64> {
        let counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.get(&directory).filter(|(at, _)| at.elapsed() < POPULATION_TTL).map(|(_, count)| *count)
    }

    fn put(&self, directory: DirectoryId, count: i64) {
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.retain(|_, (at, _)| at.elapsed() < POPULATION_TTL);
        counts.insert(directory, (Instant::now(), count));
    }
}

/// What a write is about to do, as far as the brake cares.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Intent {
    /// It deactivates or deletes a user.
    pub(super) revokes: bool,
    /// It may add members to a group.
    pub(super) grants: bool,
    /// It deletes a group (its members and grants go into the snapshot).
    pub(super) deletes_group: bool,
}

impl Intent {
    /// The intent of an update that records `changes` and applies `members`.
    pub(super) fn of_update(changes: &[Change], members: &[MemberDelta]) -> Self {
        Self {
            revokes: changes.iter().any(|change| change.kind == ChangeKind::UserDeactivated),
            grants: members.iter().any(|delta| match delta {
                MemberDelta::Add(ids) | MemberDelta::Replace(ids) => !ids.is_empty(),
                MemberDelta::Remove(_) | MemberDelta::RemoveAll => false,
            }),
            deletes_group: false,
        }
    }
}

/// The directory's brake as a write found it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BrakeState {
    settings: BrakeSettings,
    decided_at: Option<DateTime<Utc>>,
    open: Option<(i64, HoldReason)>,
}

type StateRow = (bool, i32, i32, Option<DateTime<Utc>>, Option<i64>, Option<String>);

impl WriteTransaction<'_> {
    async fn brake_state(&mut self) -> Result<BrakeState, StoreError> {
        if let Some(state) = self.brake {
            return Ok(state);
        }
        const QUERY: &str = "SELECT d.brake_enabled, d.brake_percent, d.brake_minimum, d.brake_decided_at, \
             b.number, b.reason FROM directories d LEFT JOIN held_batches b \
             ON b.tenant_id = d.tenant_id AND b.directory_id = d.id AND b.state = 'open' \
             WHERE d.tenant_id = $1 AND d.id = $2";
        let row: Option<StateRow> = on_open!(&mut self.open, tx => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .fetch_optional(&mut **tx)
            .await)?;
        let Some((enabled, percent, minimum, decided_at, number, reason)) = row else {
            return Err(StoreError::NotFound);
        };
        let open = match (number, reason) {
            (Some(number), Some(reason)) => Some((number, HoldReason::parse(&reason)?)),
            _ => None,
        };
        let state = BrakeState { settings: BrakeSettings { enabled, percent, minimum }, decided_at, open };
        self.brake = Some(state);
        Ok(state)
    }

    /// Decides whether the write about to be made to resource `id` is held, opening a
    /// batch and snapshotting the resource when it is (see the module's documentation).
    pub(super) async fn plan_hold(
        &mut self,
        kind: ResourceKind,
        id: &str,
        intent: Intent,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.hold = None;
        if id.starts_with(SELF_TEST_ID_PREFIX) {
            return Ok(());
        }
        let state = self.brake_state().await?;
        let mut hold = None;
        if let Some((number, reason)) = state.open
            && ((intent.revokes && reason == HoldReason::MassRevocation) || self.has_held_changes(number, id).await?)
        {
            hold = Some(number);
        }
        if hold.is_none() && intent.grants && kind == ResourceKind::Group && self.is_privileged(id).await? {
            hold = Some(match state.open {
                Some((number, _)) => number,
                None => self.open_batch(HoldReason::PrivilegedGroup, at).await?,
            });
        }
        if hold.is_none() && intent.revokes && state.settings.enabled && self.threshold_crossed(&state, id, at).await? {
            hold = Some(match state.open {
                Some((number, _)) => self.escalate(number).await?,
                None => self.open_batch(HoldReason::MassRevocation, at).await?,
            });
        }
        if let Some(number) = hold {
            self.snapshot(number, id, intent.deletes_group).await?;
        }
        self.hold = hold;
        Ok(())
    }

    /// The batch a change record of `resource_id` goes to, if it is held: this write's,
    /// or the open batch's when the resource has held changes there (a write whose hold
    /// was not planned, such as a re-derivation of roles).
    pub(super) async fn held_batch_for(&mut self, resource_id: &str) -> Result<Option<i64>, StoreError> {
        if self.hold.is_some() {
            return Ok(self.hold);
        }
        let Some((number, _)) = self.brake_state().await?.open else {
            return Ok(None);
        };
        Ok(self.has_held_changes(number, resource_id).await?.then_some(number))
    }

    /// Stores a change record in a batch instead of the change log.
    pub(super) async fn hold_change(
        &mut self,
        number: i64,
        context: &WriteContext,
        kind: ChangeKind,
        resource_id: &str,
        payload: &Value,
        view: Option<&Value>,
    ) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO held_changes (tenant_id, directory_id, batch, ordinal, kind, resource_type, \
             resource_id, actor, occurred_at, data, view) VALUES ($1, $2, $3, \
             (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM held_changes \
              WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3), $4, $5, $6, $7, $8, $9, $10)";
        on_open!(&mut self.open, tx => sqlx::query(INSERT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .bind(kind.as_str())
            .bind(kind.resource_kind().as_str())
            .bind(resource_id)
            .bind(&context.actor)
            .bind(context.at)
            .bind(Json(payload))
            .bind(view.map(Json))
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    async fn has_held_changes(&mut self, number: i64, id: &str) -> Result<bool, StoreError> {
        const QUERY: &str = "SELECT 1 FROM held_changes \
             WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3 AND resource_id = $4 LIMIT 1";
        let found: Option<i32> = on_open!(&mut self.open, tx => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
        Ok(found.is_some())
    }

    async fn is_privileged(&mut self, group: &str) -> Result<bool, StoreError> {
        const QUERY: &str =
            "SELECT 1 FROM privileged_groups WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3";
        let found: Option<i32> = on_open!(&mut self.open, tx => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(group)
            .fetch_optional(&mut **tx)
            .await)?;
        Ok(found.is_some())
    }

    /// Whether revoking user `id` crosses the threshold: the users whose revocations were
    /// published in the window (since the last decision on a batch), with this one, are at
    /// least the minimum and more than the percentage of the users who were active at the
    /// window's start.
    async fn threshold_crossed(&mut self, state: &BrakeState, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        // Users, not events: Okta deactivates a leaver, then deletes them.
        const RECENT: &str = "SELECT COUNT(DISTINCT user_id) FROM revocations \
             WHERE tenant_id = $1 AND directory_id = $2 AND changed_at > $3 AND user_id <> $4 \
             AND user_id NOT LIKE 'selftest-%'";
        let window_start = at - Duration::minutes(BRAKE_WINDOW_MINUTES);
        let since = state.decided_at.map_or(window_start, |decided| decided.max(window_start));
        let recent: i64 = on_open!(&mut self.open, tx => sqlx::query_scalar(RECENT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(since)
            .bind(id)
            .fetch_one(&mut **tx)
            .await)?;
        let revoked = recent + 1;
        if revoked < i64::from(state.settings.minimum) {
            return Ok(false);
        }
        let active = match self.store.brake_population.get(self.directory) {
            Some(active) => active,
            None => {
                let active = self.count_active_users().await?;
                self.store.brake_population.put(self.directory, active);
                active
            }
        };
        // The users active before the window's revocations (this one is still active).
        let population = active + recent;
        Ok(revoked * 100 > i64::from(state.settings.percent) * population)
    }

    async fn count_active_users(&mut self) -> Result<i64, StoreError> {
        let active = match self.open.backend() {
            crate::Backend::Sqlite => "COALESCE(json_extract(doc, '$.active'), 1) != 0",
            crate::Backend::Postgres => "COALESCE(doc -> 'active', 'true'::jsonb) != 'false'::jsonb",
        };
        let query = format!(
            "SELECT COUNT(*) FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 \
             AND resource_type = 'User' AND id NOT LIKE 'selftest-%' AND {active}"
        );
        let count: i64 = on_open!(&mut self.open, tx => sqlx::query_scalar(&query)
            .bind(self.tenant)
            .bind(self.directory)
            .fetch_one(&mut **tx)
            .await)?;
        Ok(count)
    }

    async fn open_batch(&mut self, reason: HoldReason, at: DateTime<Utc>) -> Result<i64, StoreError> {
        const INSERT: &str = "INSERT INTO held_batches (tenant_id, directory_id, number, reason, opened_at, state) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(number), 0) + 1 FROM held_batches \
             WHERE tenant_id = $1 AND directory_id = $2), $3, $4, 'open') RETURNING number";
        let number: i64 = on_open!(&mut self.open, tx => sqlx::query_scalar(INSERT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(reason.as_str())
            .bind(at)
            .fetch_one(&mut **tx)
            .await)?;
        if let Some(state) = self.brake.as_mut() {
            state.open = Some((number, reason));
        }
        Ok(number)
    }

    /// A privileged-group batch that a mass revocation joins holds later revocations too.
    async fn escalate(&mut self, number: i64) -> Result<i64, StoreError> {
        const UPDATE: &str = "UPDATE held_batches SET reason = 'mass_revocation' \
             WHERE tenant_id = $1 AND directory_id = $2 AND number = $3";
        on_open!(&mut self.open, tx => sqlx::query(UPDATE)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        if let Some(state) = self.brake.as_mut() {
            state.open = Some((number, HoldReason::MassRevocation));
        }
        Ok(number)
    }

    /// Keeps the resource as it is now (before the held write), once per batch; a group
    /// about to be deleted also keeps its members and role grants.
    async fn snapshot(&mut self, number: i64, id: &str, deletes_group: bool) -> Result<(), StoreError> {
        const COPY: &str = "INSERT INTO held_resources (tenant_id, directory_id, batch, resource_type, resource_id, \
             name, external_id, doc, version, created_at, last_modified, published_view) \
             SELECT tenant_id, directory_id, $3, resource_type, id, name, external_id, doc, version, created_at, \
             last_modified, published_view FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND id = $4 \
             ON CONFLICT DO NOTHING";
        const MEMBERS: &str = "SELECT member_id, member_type FROM scim_members \
             WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 ORDER BY member_id";
        const GRANTS: &str = "SELECT role_slug FROM group_roles \
             WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 ORDER BY role_slug";
        const KEEP: &str = "UPDATE held_resources SET members = $5, grants = $6 \
             WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3 AND resource_id = $4";
        on_open!(&mut self.open, tx => sqlx::query(COPY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        if deletes_group {
            let members: Vec<(String, String)> = on_open!(&mut self.open, tx => sqlx::query_as(MEMBERS)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(id)
                .fetch_all(&mut **tx)
                .await)?;
            let grants: Vec<String> = on_open!(&mut self.open, tx => sqlx::query_scalar(GRANTS)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(id)
                .fetch_all(&mut **tx)
                .await)?;
            let members: Vec<Value> = members.into_iter().map(|(id, kind)| json!([id, kind])).collect();
            on_open!(&mut self.open, tx => sqlx::query(KEEP)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(number)
                .bind(id)
                .bind(Json(&members))
                .bind(Json(&grants))
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        Ok(())
    }

    /// The open batch numbered `number`, or `NotFound`.
    async fn require_open(&mut self, number: i64) -> Result<(), StoreError> {
        const QUERY: &str = "SELECT 1 FROM held_batches \
             WHERE tenant_id = $1 AND directory_id = $2 AND number = $3 AND state = 'open'";
        let found: Option<i32> = on_open!(&mut self.open, tx => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .fetch_optional(&mut **tx)
            .await)?;
        found.map(drop).ok_or(StoreError::NotFound)
    }

    async fn close_batch(
        &mut self,
        number: i64,
        state: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const CLOSE: &str = "UPDATE held_batches SET state = $4, decided_at = $5, decided_by = $6 \
             WHERE tenant_id = $1 AND directory_id = $2 AND number = $3";
        const DECIDED: &str = "UPDATE directories SET brake_decided_at = $3 WHERE tenant_id = $1 AND id = $2";
        on_open!(&mut self.open, tx => sqlx::query(CLOSE)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .bind(state)
            .bind(at)
            .bind(actor)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        on_open!(&mut self.open, tx => sqlx::query(DECIDED)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        self.brake = None;
        Ok(())
    }
}

type HeldRow = (i64, String, String, String, String, DateTime<Utc>, Json<Value>, Option<Json<Value>>);

type SnapshotRow = (
    String,
    String,
    String,
    Option<String>,
    Json<Value>,
    i64,
    DateTime<Utc>,
    Option<Json<Value>>,
    Option<Json<Vec<(String, String)>>>,
    Option<Json<Vec<String>>>,
    i64,
);

impl DirectoryData<'_> {
    /// Publishes an open batch's changes, in the order and with the times they were made;
    /// `NotFound` when no such batch is open. The audit record commits with them.
    pub async fn release_held(
        &self,
        number: i64,
        actor: &str,
        at: DateTime<Utc>,
        record: &NewAuditRecord,
    ) -> Result<usize, StoreError> {
        const HELD: &str = "SELECT ordinal, kind, resource_type, resource_id, actor, occurred_at, data, view \
             FROM held_changes WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3 ORDER BY ordinal";
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        write.require_open(number).await?;
        let held: Vec<HeldRow> = on_open!(&mut write.open, tx => sqlx::query_as(HELD)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .fetch_all(&mut **tx)
            .await)?;
        write.close_batch(number, "released", actor, at).await?;
        for (_, kind, _, resource_id, change_actor, occurred_at, Json(data), view) in &held {
            let kind = ChangeKind::parse(kind)?;
            let context = WriteContext { actor: change_actor.clone(), at: *occurred_at };
            write.publish_change(&context, kind, resource_id, data, view.as_ref().map(|Json(view)| view)).await?;
        }
        crate::audit::append_chained(&mut write.open, self.store.backend(), self.tenant, std::slice::from_ref(record))
            .await?;
        write.commit().await?;
        Ok(held.len())
    }

    /// Puts every resource of an open batch back as it was before its first held change
    /// and undoes the held membership changes, without change records; `NotFound` when no
    /// such batch is open. The audit record commits with it.
    pub async fn discard_held(
        &self,
        number: i64,
        actor: &str,
        at: DateTime<Utc>,
        record: &NewAuditRecord,
    ) -> Result<usize, StoreError> {
        const SNAPSHOTS: &str = "SELECT s.resource_type, s.resource_id, s.name, s.external_id, s.doc, s.version, \
             s.created_at, s.published_view, s.members, s.grants, \
             (SELECT COUNT(*) FROM held_changes h WHERE h.tenant_id = s.tenant_id AND h.directory_id = s.directory_id \
              AND h.batch = s.batch AND h.resource_id = s.resource_id) \
             FROM held_resources s WHERE s.tenant_id = $1 AND s.directory_id = $2 AND s.batch = $3 \
             ORDER BY s.resource_type DESC, s.resource_id";
        const MEMBERSHIP: &str = "SELECT ordinal, kind, resource_type, resource_id, actor, occurred_at, data, view \
             FROM held_changes WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3 \
             AND kind IN ('group.member_added', 'group.member_removed') ORDER BY ordinal DESC";
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        write.require_open(number).await?;
        let snapshots: Vec<SnapshotRow> = on_open!(&mut write.open, tx => sqlx::query_as(SNAPSHOTS)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .fetch_all(&mut **tx)
            .await)?;
        // Rows first (users before groups), so that owners and members exist again before
        // anything refers to them.
        for snapshot in &snapshots {
            write.restore_row(snapshot, at).await?;
        }
        for (kind, id, _, _, Json(doc), ..) in &snapshots {
            write.write_lookup_values(id, doc, true).await?;
            if kind == ResourceKind::User.as_str() {
                write.write_nonhuman(id, doc, true).await?;
            }
        }
        for (_, id, _, _, _, _, _, _, members, grants, _) in &snapshots {
            if let Some(Json(members)) = members {
                let ids: Vec<String> = members.iter().map(|(member, _)| member.clone()).collect();
                write.restore_members(id, &ids).await?;
            }
            if let Some(Json(grants)) = grants {
                write.restore_grants(id, grants).await?;
            }
        }
        let membership: Vec<HeldRow> = on_open!(&mut write.open, tx => sqlx::query_as(MEMBERSHIP)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(number)
            .fetch_all(&mut **tx)
            .await)?;
        for (_, kind, _, group, _, _, Json(data), _) in &membership {
            let members = change_members(data);
            if kind == ChangeKind::GroupMemberAdded.as_str() {
                write.remove_members(group, Some(&members)).await?;
            } else {
                write.restore_members(group, &members).await?;
            }
        }
        write.close_batch(number, "discarded", actor, at).await?;
        crate::audit::append_chained(&mut write.open, self.store.backend(), self.tenant, std::slice::from_ref(record))
            .await?;
        write.commit().await?;
        self.store.brake_population.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.directory);
        Ok(snapshots.len())
    }
}

impl WriteTransaction<'_> {
    /// Puts a snapshotted row back (re-inserting a deleted one), with a version beyond any
    /// the held writes reached, so an ETag of a held state no longer matches.
    async fn restore_row(&mut self, snapshot: &SnapshotRow, at: DateTime<Utc>) -> Result<(), StoreError> {
        // Deleted by a held change, it is inserted again; its name may have been taken
        // since, which the unique index refuses: the discard fails as a whole, with the reason.
        const UPSERT: &str = "INSERT INTO scim_resources (tenant_id, directory_id, resource_type, id, name, \
             name_folded, external_id, doc, doc_folded, version, created_at, last_modified, published_view) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (tenant_id, directory_id, id) DO UPDATE SET name = excluded.name, \
             name_folded = excluded.name_folded, external_id = excluded.external_id, doc = excluded.doc, \
             doc_folded = excluded.doc_folded, version = excluded.version, last_modified = excluded.last_modified, \
             published_view = excluded.published_view";
        let (kind, id, name, external_id, Json(doc), version, created_at, published, _, _, held) = snapshot;
        let folded = fold(doc);
        let version = version + held + 1;
        let published = published.as_ref().map(|Json(view)| Json(view));
        on_open!(&mut self.open, tx => sqlx::query(UPSERT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(kind)
            .bind(id)
            .bind(name)
            .bind(name.to_lowercase())
            .bind(external_id.as_deref())
            .bind(Json(doc))
            .bind(Json(&folded))
            .bind(version)
            .bind(created_at)
            .bind(at)
            .bind(published)
            .execute(&mut **tx)
            .await
            .map(drop))
        .map_err(|error| {
            StoreError::on_unique_violation(
                error,
                "a deleted resource cannot be restored: its name is taken by a resource created since",
            )
        })?;
        Ok(())
    }

    /// Adds `members` back to `group`, those that still exist (with their type).
    async fn restore_members(&mut self, group: &str, members: &[String]) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO scim_members (tenant_id, directory_id, group_id, member_id, member_type) \
             SELECT r.tenant_id, r.directory_id, $3, r.id, r.resource_type FROM scim_resources r \
             WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.id = $4 AND r.id <> $3 \
             AND EXISTS (SELECT 1 FROM scim_resources g WHERE g.tenant_id = $1 AND g.directory_id = $2 AND g.id = $3) \
             ON CONFLICT DO NOTHING";
        self.for_each_of_group(INSERT, group, members).await
    }

    /// Gives a deleted group back the role grants it had (of the roles that still exist).
    async fn restore_grants(&mut self, group: &str, roles: &[String]) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO group_roles (tenant_id, directory_id, group_id, role_slug) \
             SELECT $1, $2, $3, slug FROM roles WHERE slug = $4 ON CONFLICT DO NOTHING";
        self.for_each_of_group(INSERT, group, roles).await
    }

    /// Runs `statement` with (tenant, directory, `group`, item) for each of `items`.
    async fn for_each_of_group(&mut self, statement: &str, group: &str, items: &[String]) -> Result<(), StoreError> {
        for item in items {
            on_open!(&mut self.open, tx => sqlx::query(statement)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(group)
                .bind(item)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        Ok(())
    }
}

type BatchRow = (DirectoryId, i64, String, DateTime<Utc>, String, Option<DateTime<Utc>>, Option<String>, i64, i64);

fn batch_from_row(row: BatchRow) -> Result<HeldBatch, StoreError> {
    let (directory, number, reason, opened_at, state, decided_at, decided_by, changes, revocations) = row;
    Ok(HeldBatch {
        directory,
        number,
        reason: HoldReason::parse(&reason)?,
        opened_at,
        state,
        decided_at,
        decided_by,
        changes,
        revocations,
    })
}

const BATCH_COLUMNS: &str = "b.directory_id, b.number, b.reason, b.opened_at, b.state, b.decided_at, b.decided_by, \
     (SELECT COUNT(*) FROM held_changes h WHERE h.tenant_id = b.tenant_id AND h.directory_id = b.directory_id \
      AND h.batch = b.number), \
     (SELECT COUNT(*) FROM held_changes h WHERE h.tenant_id = b.tenant_id AND h.directory_id = b.directory_id \
      AND h.batch = b.number AND h.kind IN ('user.deactivated', 'user.deleted'))";

impl TenantScope<'_> {
    /// A directory's brake settings; `None` when there is no such directory.
    pub async fn brake_settings(&self, directory: DirectoryId) -> Result<Option<BrakeSettings>, StoreError> {
        const QUERY: &str = "SELECT brake_enabled, brake_percent, brake_minimum FROM directories \
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        let row: Option<(bool, i32, i32)> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_optional(&mut *conn)
            .await?);
        Ok(row.map(|(enabled, percent, minimum)| BrakeSettings { enabled, percent, minimum }))
    }

    /// The ids of a directory's privileged groups.
    pub async fn privileged_groups(&self, directory: DirectoryId) -> Result<Vec<String>, StoreError> {
        const QUERY: &str =
            "SELECT group_id FROM privileged_groups WHERE tenant_id = $1 AND directory_id = $2 ORDER BY group_id";
        let rows: Vec<String> = as_tenant!(self, conn => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows)
    }

    /// The tenant's held batches (of one directory, when given), open ones only when
    /// `open_only`, newest first.
    pub async fn held_batches(
        &self,
        directory: Option<DirectoryId>,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<HeldBatch>, StoreError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM held_batches b WHERE b.tenant_id = $1 \
             AND ($2 IS NULL OR b.directory_id = $2) AND ($3 = false OR b.state = 'open') \
             ORDER BY b.opened_at DESC, b.number DESC LIMIT $4"
        );
        let rows: Vec<BatchRow> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .bind(directory)
            .bind(open_only)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(batch_from_row).collect()
    }

    /// One held batch; `None` when there is none.
    pub async fn held_batch(&self, directory: DirectoryId, number: i64) -> Result<Option<HeldBatch>, StoreError> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM held_batches b WHERE b.tenant_id = $1 AND b.directory_id = $2 \
             AND b.number = $3"
        );
        let row: Option<BatchRow> = as_tenant!(self, conn => sqlx::query_as(&sql)
            .bind(self.tenant)
            .bind(directory)
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?);
        row.map(batch_from_row).transpose()
    }

    /// The documents that resources among `ids` had before the open batch of the directory
    /// held changes of them: what the vendor's product last received of them, for the read
    /// API to answer with while the changes are held. Empty when no batch is open.
    pub async fn held_documents(
        &self,
        directory: DirectoryId,
        ids: &[String],
    ) -> Result<HashMap<String, Value>, StoreError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(super::CHUNK) {
            let sql = format!(
                "SELECT s.resource_id, s.doc FROM held_resources s JOIN held_batches b \
                 ON b.tenant_id = s.tenant_id AND b.directory_id = s.directory_id AND b.number = s.batch \
                 WHERE s.tenant_id = $1 AND s.directory_id = $2 AND b.state = 'open' AND s.resource_id IN ({})",
                super::placeholders(3, chunk.len())
            );
            let rows: Vec<(String, Json<Value>)> = as_tenant!(self, conn => {
                let mut query = sqlx::query_as(&sql).bind(self.tenant).bind(directory);
                for id in chunk {
                    query = query.bind(id);
                }
                query.fetch_all(&mut *conn).await?
            });
            found.extend(rows.into_iter().map(|(id, Json(doc))| (id, doc)));
        }
        Ok(found)
    }

    /// The membership changes held in the directory's open batch, newest first: `(added,
    /// group, members)`, to undo in this order for the memberships the product last
    /// received. Empty when no batch is open.
    pub async fn held_memberships(
        &self,
        directory: DirectoryId,
    ) -> Result<Vec<(bool, String, Vec<String>)>, StoreError> {
        const QUERY: &str = "SELECT h.kind, h.resource_id, h.data FROM held_changes h JOIN held_batches b \
             ON b.tenant_id = h.tenant_id AND b.directory_id = h.directory_id AND b.number = h.batch \
             WHERE h.tenant_id = $1 AND h.directory_id = $2 AND b.state = 'open' \
             AND h.kind IN ('group.member_added', 'group.member_removed') ORDER BY h.ordinal DESC";
        let rows: Vec<(String, String, Json<Value>)> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_all(&mut *conn)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(kind, group, Json(data))| {
                (kind == ChangeKind::GroupMemberAdded.as_str(), group, change_members(&data))
            })
            .collect())
    }

    /// A batch's held changes in the order they were made, from `after` (an ordinal).
    pub async fn held_changes(
        &self,
        directory: DirectoryId,
        number: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<HeldChange>, StoreError> {
        const QUERY: &str = "SELECT ordinal, kind, resource_type, resource_id, actor, occurred_at, data, view \
             FROM held_changes WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3 AND ordinal > $4 \
             ORDER BY ordinal LIMIT $5";
        const NAMES: &str = "SELECT resource_id, name FROM held_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND batch = $3";
        let (rows, names): (Vec<HeldRow>, Vec<(String, String)>) = as_tenant!(self, conn => {
            let rows = sqlx::query_as(QUERY)
                .bind(self.tenant)
                .bind(directory)
                .bind(number)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            let names = sqlx::query_as(NAMES).bind(self.tenant).bind(directory).bind(number).fetch_all(&mut *conn).await?;
            (rows, names)
        });
        let names: HashMap<String, String> = names.into_iter().collect();
        Ok(rows
            .into_iter()
            .map(|(ordinal, kind, resource_type, resource_id, actor, occurred_at, Json(data), _)| {
                let resource_name = data
                    .get("userName")
                    .or_else(|| data.get("displayName"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| names.get(&resource_id).cloned())
                    .unwrap_or_else(|| resource_id.clone());
                let member_names = change_members(&data)
                    .into_iter()
                    .map(|member| names.get(&member).cloned().unwrap_or(member))
                    .collect();
                HeldChange {
                    ordinal,
                    kind,
                    resource_type,
                    resource_id,
                    resource_name,
                    actor,
                    occurred_at,
                    data,
                    member_names,
                }
            })
            .collect())
    }
}

impl TenantAction<'_> {
    /// Sets a directory's brake settings; `false`: no such directory.
    pub async fn set_brake_settings(
        &mut self,
        directory: DirectoryId,
        settings: BrakeSettings,
    ) -> Result<bool, StoreError> {
        const UPDATE: &str = "UPDATE directories SET brake_enabled = $3, brake_percent = $4, brake_minimum = $5 \
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL";
        let updated = on_open!(&mut self.open, tx => sqlx::query(UPDATE)
            .bind(self.tenant)
            .bind(directory)
            .bind(settings.enabled)
            .bind(settings.percent)
            .bind(settings.minimum)
            .execute(&mut **tx)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated == 1)
    }

    /// Marks a group of the directory privileged (or not); `false`: no such group.
    pub async fn set_group_privileged(
        &mut self,
        directory: DirectoryId,
        group: &str,
        privileged: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const EXISTS: &str = "SELECT 1 FROM scim_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'Group' AND id = $3";
        const MARK: &str = "INSERT INTO privileged_groups (tenant_id, directory_id, group_id, marked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        const UNMARK: &str =
            "DELETE FROM privileged_groups WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3";
        let found: Option<i32> = on_open!(&mut self.open, tx => sqlx::query_scalar(EXISTS)
            .bind(self.tenant)
            .bind(directory)
            .bind(group)
            .fetch_optional(&mut **tx)
            .await)?;
        if found.is_none() {
            return Ok(false);
        }
        if privileged {
            on_open!(&mut self.open, tx => sqlx::query(MARK)
                .bind(self.tenant)
                .bind(directory)
                .bind(group)
                .bind(at)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        } else {
            on_open!(&mut self.open, tx => sqlx::query(UNMARK)
                .bind(self.tenant)
                .bind(directory)
                .bind(group)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        Ok(true)
    }
}
