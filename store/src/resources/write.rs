//! The writes of a directory's resources, and the steps they are made of. Each write runs
//! in one [`WriteTransaction`] (see `transaction`), together with the change records it
//! makes; a step that fails returns its error, and the write hands it on, dropping (so
//! rolling back) the transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sqlx::types::Json;

use super::brake::Intent;
use super::transaction::{Ends, OpenTransaction, WriteTransaction, on_open};
use super::{
    CHUNK, CURRENT, Change, ChangeKind, ChangeSubject, Computed, DirectoryData, MemberDelta, MembershipOutcome,
    ResourceKind, ResourceRecord, ResourceRow, ResourceState, SELF_TEST_ID_PREFIX, Update, VERSION, WriteContext,
    placeholders, record_from_row,
};
use crate::StoreError;
use crate::ids::{DirectoryId, EventId, TenantId};

const NEXT_SEQ: &str =
    "UPDATE directories SET change_seq = change_seq + 1 WHERE tenant_id = $1 AND id = $2 RETURNING change_seq";

/// `$12` is the time of the write when an identity provider makes it (see
/// [`WriteContext::identity_provider_write`]), else NULL, which keeps the last one.
const UPDATE_STATE: &str = "UPDATE scim_resources SET name = $5, name_folded = $6, external_id = $7, \
             doc = $8, doc_folded = $9, version = version + 1, last_modified = $10, \
             idp_touched_at = COALESCE($12, idp_touched_at) \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4 AND version = $11";
const TOUCH: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4 AND version = $6";
const TOUCH_ANY_VERSION: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";

impl DirectoryData<'_> {
    /// Stores a new resource with version 1 (a group with its initial `members`) and its
    /// change records: [`Self::create_all`] of one, whose refusal is the name's conflict.
    pub async fn create(
        &self,
        kind: ResourceKind,
        id: &str,
        state: &ResourceState,
        members: &[String],
        change: &Change,
        context: &WriteContext,
    ) -> Result<(), StoreError> {
        let creation = super::Creation { kind, id, state, members, change, context };
        match self.create_all(&[creation]).await? {
            true => Ok(()),
            false => Err(StoreError::Conflict(name_conflict(kind))),
        }
    }

    /// Reads a resource and writes what `compute` makes of it, in one transaction with the
    /// directory locked: no other write of the directory can come in between, so the
    /// outcome never needs a retry and an `If-Match` check inside `compute` is exact.
    /// `compute` answering `Ok(None)` writes nothing (a retried request that changes
    /// nothing); its `Err` is handed back as the inner error.
    pub async fn modify<E, F>(
        &self,
        kind: ResourceKind,
        id: &str,
        context: &WriteContext,
        compute: F,
    ) -> Result<Result<(ResourceRecord, MembershipOutcome), E>, StoreError>
    where
        F: FnOnce(&ResourceRecord) -> Result<Option<Computed>, E>,
    {
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        let row: Option<ResourceRow> = on_open!(&mut write.open, tx => sqlx::query_as(CURRENT)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let current = record_from_row(kind, row);
        // Returning before the commit rolls the transaction back: it wrote nothing.
        let computed = match compute(&current) {
            Ok(Some(computed)) => computed,
            Ok(None) => return Ok(Ok((current, MembershipOutcome::default()))),
            Err(error) => return Ok(Err(error)),
        };
        if kind != ResourceKind::Group && !computed.members.is_empty() {
            return Err(StoreError::Corrupt("only groups have members".to_owned()));
        }
        write.plan_hold(kind, id, Intent::of_update(&computed.changes, &computed.members), context.at).await?;
        let update = Update {
            expected_version: Some(current.version),
            state: computed.state.as_ref(),
            members: &computed.members,
            changes: &computed.changes,
        };
        let lookups_changed =
            computed.state.as_ref().is_some_and(|state| lookup_values(&state.doc) != lookup_values(&current.doc));
        let outcome = write.apply_update(kind, id, &update, context, lookups_changed).await?;
        if !computed.records.is_empty() {
            crate::audit::append_chained(&mut write.open, self.store.backend(), self.tenant, &computed.records).await?;
        }
        write.commit().await?;
        let record = ResourceRecord {
            doc: computed.state.map_or_else(|| current.doc.clone(), |state| state.doc),
            version: current.version + 1,
            last_modified: context.at,
            ..current
        };
        Ok(Ok((record, outcome)))
    }

    /// Replaces a resource's state (when `state` is given) and applies membership deltas
    /// (groups only), if its version is still `expected_version`; bumps the version and
    /// `last_modified`, and records `changes` plus one record per membership delta.
    pub async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        update: &Update<'_>,
        context: &WriteContext,
    ) -> Result<MembershipOutcome, StoreError> {
        if kind != ResourceKind::Group && !update.members.is_empty() {
            return Err(StoreError::Corrupt("only groups have members".to_owned()));
        }
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        write.plan_hold(kind, id, Intent::of_update(update.changes, update.members), context.at).await?;
        let outcome = write.apply_update(kind, id, update, context, true).await?;
        write.commit().await?;
        Ok(outcome)
    }

    /// Deletes a resource (if its version is `expected_version`, when given), after
    /// removing it from every group it belongs to; each such group gets a new version and a
    /// `group.member_removed` record.
    pub async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
        change: &Change,
        context: &WriteContext,
    ) -> Result<(), StoreError> {
        const LEAVE_GROUPS: &str = "DELETE FROM scim_members \
             WHERE tenant_id = $1 AND directory_id = $2 AND member_id = $3 RETURNING group_id";
        const TOUCH_GROUP: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $4 \
             WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
        const DELETE: &str = "DELETE FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
        const MEMBERS: &str = "SELECT member_id FROM scim_members \
             WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 AND member_type = 'User'";
        const DROP_GRANTS: &str =
            "DELETE FROM group_roles WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3";
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        let current: Option<i64> = on_open!(&mut write.open, tx => sqlx::query_scalar(VERSION)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
        match (current, expected_version) {
            (None, _) => return Err(StoreError::NotFound),
            (Some(current), Some(expected)) if current != expected => {
                return Err(StoreError::VersionMismatch { current });
            }
            _ => {}
        }
        let intent =
            Intent { revokes: kind == ResourceKind::User, grants: false, deletes_group: kind == ResourceKind::Group };
        write.plan_hold(kind, id, intent, context.at).await?;
        let mut groups: Vec<String> = on_open!(&mut write.open, tx => sqlx::query_scalar(LEAVE_GROUPS)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .fetch_all(&mut **tx)
            .await)?;
        groups.sort();
        for group in &groups {
            on_open!(&mut write.open, tx => sqlx::query(TOUCH_GROUP)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(group)
                .bind(context.at)
                .execute(&mut **tx)
                .await
                .map(drop))?;
            let data = json!({ "group": group, "members": [id] });
            write.record_change(context, ChangeKind::GroupMemberRemoved, group, &data, None).await?;
        }
        if kind == ResourceKind::Group {
            // The group's members lose what it granted; its grants go with it.
            let members: Vec<String> = on_open!(&mut write.open, tx => sqlx::query_scalar(MEMBERS)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(id)
                .fetch_all(&mut **tx)
                .await)?;
            write.queue_if_granting(id, &members).await?;
            on_open!(&mut write.open, tx => sqlx::query(DROP_GRANTS)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(id)
                .execute(&mut **tx)
                .await
                .map(drop))?;
        }
        on_open!(&mut write.open, tx => sqlx::query(DELETE)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        write.record_change(context, change.kind, &change.resource_id, &change.data, change.view.as_ref()).await?;
        write.commit().await
    }
}

/// The steps of the writes above, each run inside the write's transaction (after the
/// directory is locked).
impl WriteTransaction<'_> {
    /// The writes of an update; answers the membership outcome. The lookup values are
    /// rewritten only when `lookups_changed`.
    async fn apply_update(
        &mut self,
        kind: ResourceKind,
        id: &str,
        update: &Update<'_>,
        context: &WriteContext,
        lookups_changed: bool,
    ) -> Result<MembershipOutcome, StoreError> {
        let Update { expected_version, state, members, changes } = *update;
        let folded = state.map(|state| fold(&state.doc));
        let updated = match (state, &folded, expected_version) {
            (Some(state), Some(folded), Some(expected_version)) => {
                on_open!(&mut self.open, tx => sqlx::query(UPDATE_STATE)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(id)
                    .bind(&state.name)
                    .bind(state.name.to_lowercase())
                    .bind(state.external_id.as_deref())
                    .bind(Json(&state.doc))
                    .bind(Json(folded))
                    .bind(context.at)
                    .bind(expected_version)
                    .bind(context.identity_provider_write())
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected()))
                .map_err(|error| StoreError::on_unique_violation(error, name_conflict(kind)))?
            }
            (None, _, Some(expected_version)) => on_open!(&mut self.open, tx => sqlx::query(TOUCH)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(context.at)
                .bind(expected_version)
                .execute(&mut **tx)
                .await
                .map(|done| done.rows_affected()))?,
            (None, _, None) => on_open!(&mut self.open, tx => sqlx::query(TOUCH_ANY_VERSION)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(context.at)
                .execute(&mut **tx)
                .await
                .map(|done| done.rows_affected()))?,
            // A new document is computed from a version; writing it needs that version.
            (Some(_), _, None) | (Some(_), None, _) => {
                return Err(StoreError::Corrupt("a new state needs the version it was computed from".into()));
            }
        };
        if updated == 0 {
            let current: Option<i64> = on_open!(&mut self.open, tx => sqlx::query_scalar(VERSION)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await)?;
            return Err(match current {
                Some(current) => StoreError::VersionMismatch { current },
                None => StoreError::NotFound,
            });
        }
        // Rewritten only when the looked-up values changed: most writes leave emails alone.
        if let Some(state) = state.filter(|_| lookups_changed) {
            self.write_lookup_values(id, &state.doc, true).await?;
        }
        if let Some(state) = state.filter(|_| kind == ResourceKind::User) {
            self.write_nonhuman(id, &state.doc, true).await?;
        }
        let mut outcome = MembershipOutcome::default();
        for delta in members {
            let (added, removed) = match delta {
                MemberDelta::Add(ids) => (self.add_members(id, ids).await?, Vec::new()),
                MemberDelta::Remove(ids) => (Vec::new(), self.remove_members(id, Some(ids.as_slice())).await?),
                MemberDelta::RemoveAll => (Vec::new(), self.remove_members(id, None).await?),
                MemberDelta::Replace(ids) => {
                    let wanted: HashSet<&String> = ids.iter().collect();
                    let old = self.remove_members(id, None).await?;
                    let old_set: HashSet<&String> = old.iter().collect();
                    let new = self.add_members(id, ids).await?;
                    let added = new.into_iter().filter(|m| !old_set.contains(m)).collect();
                    let removed = old.iter().filter(|m| !wanted.contains(m)).cloned().collect();
                    (added, removed)
                }
            };
            if !added.is_empty() {
                let data = json!({ "group": id, "members": added });
                self.record_change(context, ChangeKind::GroupMemberAdded, id, &data, None).await?;
            }
            if !removed.is_empty() {
                let data = json!({ "group": id, "members": removed });
                self.record_change(context, ChangeKind::GroupMemberRemoved, id, &data, None).await?;
            }
            outcome.added.extend(added);
            outcome.removed.extend(removed);
        }
        for change in changes {
            self.record_change(context, change.kind, &change.resource_id, &change.data, change.view.as_ref()).await?;
        }
        Ok(outcome)
    }

    /// Appends one change record, numbered after the directory's last, unless the safety
    /// brake holds it (see `brake`); `view` is what Directory Sync consumers read of it
    /// (see [`Change::view`]).
    pub(super) async fn record_change(
        &mut self,
        context: &WriteContext,
        kind: ChangeKind,
        resource_id: &str,
        payload: &Value,
        view: Option<&Value>,
    ) -> Result<(), StoreError> {
        if let Some(batch) = self.held_batch_for(resource_id).await? {
            // Neither published nor re-derived: the product learns of it on release.
            return self.hold_change(batch, context, kind, resource_id, payload, view).await;
        }
        self.publish_change(context, kind, resource_id, payload, view).await
    }

    /// Appends one change record to the change log (see [`Self::record_change`]), as the
    /// product is to see it while the user is suspended (see `suspensions`).
    pub(super) async fn publish_change(
        &mut self,
        context: &WriteContext,
        kind: ChangeKind,
        resource_id: &str,
        payload: &Value,
        view: Option<&Value>,
    ) -> Result<(), StoreError> {
        let (kind, suspended_view) = self.as_published(kind, resource_id, view).await?;
        self.append_published(context, kind, resource_id, payload, suspended_view.as_ref().or(view)).await
    }

    /// Appends a change record whose kind and view the caller made (a suspension's own).
    pub(super) async fn publish_as_is(&mut self, context: &WriteContext, change: &Change) -> Result<(), StoreError> {
        self.append_published(context, change.kind, &change.resource_id, &change.data, change.view.as_ref()).await
    }

    async fn append_published(
        &mut self,
        context: &WriteContext,
        kind: ChangeKind,
        resource_id: &str,
        payload: &Value,
        view: Option<&Value>,
    ) -> Result<(), StoreError> {
        let entry = ChangeEntry {
            kind: kind.as_str(),
            subject: ChangeSubject::Resource(kind.resource_kind()),
            resource_id,
            payload,
            view,
        };
        match &mut self.ends {
            Ends::InBatch { deferred, .. } => {
                deferred.append(&mut self.open, (self.tenant, self.directory), context, &entry).await?;
            }
            Ends::Alone(_) => append_change(&mut self.open, self.tenant, self.directory, context, &entry).await?,
        }
        // What the vendor's product now holds of the user, for the next re-derivation to
        // compare with (see `republish`). A creation stored it with the row; a deletion
        // leaves no row.
        if let Some(normalized) = published_view(view).filter(|_| kind.resource_kind() == ResourceKind::User)
            && !matches!(kind, ChangeKind::UserCreated | ChangeKind::UserDeleted)
        {
            self.set_published_view(resource_id, normalized).await?;
        }
        // Members of a group that grants roles may have gained or lost roles: the worker
        // re-derives them.
        if matches!(kind, ChangeKind::GroupMemberAdded | ChangeKind::GroupMemberRemoved) {
            self.queue_if_granting(resource_id, &super::change_members(payload)).await?;
        }
        Ok(())
    }

    /// Rewrites a resource's lookup values; `replace` first removes the ones it had.
    pub(super) async fn write_lookup_values(&mut self, id: &str, doc: &Value, replace: bool) -> Result<(), StoreError> {
        if replace {
            on_open!(&mut self.open, tx => sqlx::query(
                "DELETE FROM scim_resource_values WHERE tenant_id = $1 AND directory_id = $2 AND resource_id = $3",
            )
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        }
        for (attribute, value) in lookup_values(doc) {
            on_open!(&mut self.open, tx => sqlx::query(
                "INSERT INTO scim_resource_values (tenant_id, directory_id, resource_id, attribute, value_folded) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .bind(attribute)
            .bind(value)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        }
        Ok(())
    }

    /// Rewrites a user's row of `scim_nonhuman` (migration 0017), after checking that a
    /// newly named owner is another user of the directory; see [`crate::nonhuman`].
    /// `replace` first removes the row the user had. An owner deleted since it was named is
    /// kept (the identity is flagged, and can still be written to, and deactivated by the
    /// expiry sweeper).
    pub(super) async fn write_nonhuman(&mut self, id: &str, doc: &Value, replace: bool) -> Result<(), StoreError> {
        let mut previous_owner: Option<String> = None;
        if replace {
            let removed: Option<Option<String>> = on_open!(&mut self.open, tx => sqlx::query_scalar(
                crate::nonhuman::DELETE_ROW,
            )
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await)?;
            previous_owner = removed.flatten();
        }
        let Some(row) = crate::nonhuman::row_of(doc) else {
            return Ok(());
        };
        // A directory that does not offer the extension keeps its URN as an undeclared
        // attribute of the user, not an identity (read under the directory's lock, which
        // `set_nonhuman_extension` takes too).
        let offered: bool = on_open!(&mut self.open, tx => sqlx::query_scalar(crate::nonhuman::OFFERED)
            .bind(self.tenant)
            .bind(self.directory)
            .fetch_one(&mut **tx)
            .await)?;
        if !offered {
            return Ok(());
        }
        if let Some(owner) = row.owner.as_ref().filter(|owner| previous_owner.as_ref() != Some(*owner)) {
            let found: Option<String> = on_open!(&mut self.open, tx => sqlx::query_scalar(crate::nonhuman::OWNER)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(owner)
                .fetch_optional(&mut **tx)
                .await)?;
            if found.is_none() {
                return Err(StoreError::UnknownOwner(owner.clone()));
            }
        }
        if row.owner.as_deref() == Some(id) {
            return Err(StoreError::UnknownOwner(id.to_owned()));
        }
        crate::nonhuman::insert_row(&mut self.open, self.tenant, self.directory, id, &row).await
    }

    /// Sets the view the vendor's product last received of user `id`.
    pub(super) async fn set_published_view(&mut self, id: &str, view: &Value) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE scim_resources SET published_view = $4 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User' AND id = $3";
        on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(id)
            .bind(Json(view))
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Queues `users` for re-derivation if `group` grants roles (most groups grant none,
    /// and then this is one indexed lookup).
    pub(super) async fn queue_if_granting(&mut self, group: &str, users: &[String]) -> Result<(), StoreError> {
        const GRANTS: &str =
            "SELECT COUNT(*) FROM group_roles WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3";
        if users.is_empty() {
            return Ok(());
        }
        let grants: i64 = on_open!(&mut self.open, tx => sqlx::query_scalar(GRANTS)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(group)
            .fetch_one(&mut **tx)
            .await)?;
        if grants == 0 {
            return Ok(());
        }
        for chunk in users.chunks(CHUNK) {
            let values = (0..chunk.len()).map(|i| format!("($1, $2, ${})", 3 + i)).collect::<Vec<_>>().join(", ");
            let insert = format!(
                "INSERT INTO republish_queue (tenant_id, directory_id, user_id) VALUES {values} ON CONFLICT DO NOTHING"
            );
            on_open!(&mut self.open, tx => {
                let mut q = sqlx::query(&insert).bind(self.tenant).bind(self.directory);
                for user in chunk {
                    q = q.bind(user);
                }
                q.execute(&mut **tx).await.map(drop)
            })?;
        }
        Ok(())
    }

    /// Adds members to a group; answers the ids newly added, in order. Every id must name a
    /// resource of the directory other than the group itself.
    pub(super) async fn add_members(&mut self, group: &str, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let mut wanted: Vec<&String> = ids.iter().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.iter().any(|member| member.as_str() == group) {
            return Err(StoreError::UnknownMembers(vec![group.to_owned()]));
        }
        let mut added: Vec<String> = Vec::new();
        for chunk in wanted.chunks(CHUNK) {
            let select = format!(
                // Agents and applications are not members (scim_members keeps users and
                // groups): their ids are unknown members here.
                "SELECT id, resource_type FROM scim_resources \
                 WHERE tenant_id = $1 AND directory_id = $2 AND resource_type IN ('User', 'Group') AND id IN ({})",
                placeholders(3, chunk.len())
            );
            let found: Vec<(String, String)> = on_open!(&mut self.open, tx => {
                let mut q = sqlx::query_as(&select).bind(self.tenant).bind(self.directory);
                for member in chunk {
                    q = q.bind(*member);
                }
                q.fetch_all(&mut **tx).await
            })?;
            if found.len() != chunk.len() {
                let known: HashSet<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
                let missing = chunk.iter().filter(|m| !known.contains(m.as_str())).map(|m| (*m).clone()).collect();
                return Err(StoreError::UnknownMembers(missing));
            }
            let values = (0..found.len())
                .map(|i| format!("($1, $2, $3, ${}, ${})", 4 + 2 * i, 5 + 2 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let insert = format!(
                "INSERT INTO scim_members (tenant_id, directory_id, group_id, member_id, member_type) \
                 VALUES {values} ON CONFLICT DO NOTHING RETURNING member_id"
            );
            let inserted: Vec<String> = on_open!(&mut self.open, tx => {
                let mut q = sqlx::query_scalar(&insert).bind(self.tenant).bind(self.directory).bind(group);
                for (member, member_type) in &found {
                    q = q.bind(member).bind(member_type);
                }
                q.fetch_all(&mut **tx).await
            })?;
            added.extend(inserted);
        }
        added.sort();
        Ok(added)
    }

    /// Removes members (all of them with `None`); answers the ids that were members, in
    /// order.
    pub(super) async fn remove_members(
        &mut self,
        group: &str,
        ids: Option<&[String]>,
    ) -> Result<Vec<String>, StoreError> {
        let mut removed: Vec<String> = Vec::new();
        match ids {
            None => {
                let delete = "DELETE FROM scim_members \
                     WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 RETURNING member_id";
                let gone: Vec<String> = on_open!(&mut self.open, tx => sqlx::query_scalar(delete)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(group)
                    .fetch_all(&mut **tx)
                    .await)?;
                removed.extend(gone);
            }
            Some(ids) => {
                for chunk in ids.chunks(CHUNK) {
                    let delete = format!(
                        "DELETE FROM scim_members WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 \
                         AND member_id IN ({}) RETURNING member_id",
                        placeholders(4, chunk.len())
                    );
                    let gone: Vec<String> = on_open!(&mut self.open, tx => {
                        let mut q = sqlx::query_scalar(&delete).bind(self.tenant).bind(self.directory).bind(group);
                        for member in chunk {
                            q = q.bind(member);
                        }
                        q.fetch_all(&mut **tx).await
                    })?;
                    removed.extend(gone);
                }
            }
        }
        removed.sort();
        Ok(removed)
    }
}

/// One change record to append (see [`append_change`]).
pub(crate) struct ChangeEntry<'e> {
    pub(crate) kind: &'e str,
    pub(crate) subject: ChangeSubject,
    pub(crate) resource_id: &'e str,
    pub(crate) payload: &'e Value,
    pub(crate) view: Option<&'e Value>,
}

/// Appends a change record of `directory` in the open transaction, numbered after the
/// directory's last (bumping the number locks the directory's row, so numbers follow
/// commit order), with its place in the deployment-wide order unless it is the
/// self-test's. A write in a batch numbers its records from the batch's count instead and
/// leaves them to the batch's commit (see [`DeferredChanges`]); both end in
/// [`insert_change_rows`], the one way change records are written.
pub(crate) async fn append_change(
    open: &mut OpenTransaction<'_>,
    tenant: TenantId,
    directory: DirectoryId,
    context: &WriteContext,
    entry: &ChangeEntry<'_>,
) -> Result<(), StoreError> {
    let seq: i64 = on_open!(&mut *open, tx => sqlx::query_scalar(NEXT_SEQ)
        .bind(tenant)
        .bind(directory)
        .fetch_one(&mut **tx)
        .await)?;
    let row = ChangeRow::new(directory, seq, context, entry)?;
    insert_change_rows(open, tenant, directory, std::slice::from_ref(&row)).await?;
    record_revocation_of(open, (tenant, directory, seq), entry, context).await
}

/// Writes the revocation record of a change record (see `revocations`), if it is one.
async fn record_revocation_of(
    open: &mut OpenTransaction<'_>,
    numbered: (TenantId, DirectoryId, i64),
    entry: &ChangeEntry<'_>,
    context: &WriteContext,
) -> Result<(), StoreError> {
    if crate::revocations::is_revocation(entry.kind) {
        crate::revocations::record_revocation(open, numbered, entry, context.at).await?;
    }
    Ok(())
}

/// One change record, numbered, as its row is written.
struct ChangeRow {
    seq: i64,
    id: EventId,
    kind: String,
    subject: &'static str,
    resource_id: String,
    actor: String,
    at: DateTime<Utc>,
    payload: Box<RawValue>,
    view: Option<Box<RawValue>>,
}

impl ChangeRow {
    fn new(
        directory: DirectoryId,
        seq: i64,
        context: &WriteContext,
        entry: &ChangeEntry<'_>,
    ) -> Result<Self, StoreError> {
        let raw = |value: &Value| {
            serde_json::value::to_raw_value(value)
                .map_err(|error| StoreError::Corrupt(format!("a change record does not serialise: {error}")))
        };
        Ok(Self {
            seq,
            id: EventId::of_numbered_row(directory.as_uuid(), seq, context.at),
            kind: entry.kind.to_owned(),
            subject: entry.subject.as_str(),
            resource_id: entry.resource_id.to_owned(),
            actor: context.actor.clone(),
            at: context.at,
            payload: raw(entry.payload)?,
            view: entry.view.map(raw).transpose()?,
        })
    }

    /// The self-test's changes never reach the vendor's product.
    fn reaches_the_product(&self) -> bool {
        !self.resource_id.starts_with(SELF_TEST_ID_PREFIX)
    }
}

/// Rows per statement when change records are written together (9 values each). Few
/// enough that binding stays cheap: sqlx looks each parameter's number up by name, which
/// SQLite finds by walking the statement's list of names, so binding a statement costs the
/// square of its parameters (500 rows a statement spent a fifth of a Bulk load's CPU in
/// `sqlite3_bind_parameter_name`).
const CHANGE_ROWS_PER_STATEMENT: usize = 50;

/// Writes change records of `directory` (numbered, in order) and their places in the
/// deployment-wide order: on SQLite after the last position (one writer), on PostgreSQL
/// the writing transaction's id, which readers take only once every older transaction
/// has ended (migration 0020).
async fn insert_change_rows(
    open: &mut OpenTransaction<'_>,
    tenant: TenantId,
    directory: DirectoryId,
    rows: &[ChangeRow],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(CHANGE_ROWS_PER_STATEMENT) {
        let values: Vec<String> =
            (0..chunk.len()).map(|n| format!("($1, $2, {})", placeholders(3 + 9 * n, 9))).collect();
        let statement = format!(
            "INSERT INTO directory_changes (tenant_id, directory_id, seq, id, kind, resource_type, resource_id, \
             actor, occurred_at, data, view) VALUES {}",
            values.join(", ")
        );
        on_open!(&mut *open, tx => {
            let mut query = sqlx::query(&statement).bind(tenant).bind(directory);
            for row in chunk {
                query = query
                    .bind(row.seq)
                    .bind(row.id)
                    .bind(&row.kind)
                    .bind(row.subject)
                    .bind(&row.resource_id)
                    .bind(&row.actor)
                    .bind(row.at)
                    .bind(Json(&row.payload))
                    .bind(row.view.as_ref().map(Json));
            }
            query.execute(&mut **tx).await.map(drop)
        })?;
        let published = chunk.iter().filter(|row| row.reaches_the_product()).count();
        if published == 0 {
            continue;
        }
        // SQLite's rows start with their offset after the last position.
        let numbered = open.backend() == crate::Backend::Sqlite;
        let statement = if numbered {
            // The positions after the last: SQLite reads the subquery once, and
            // buffers what the SELECT yields before inserting into the table it reads.
            let values: Vec<String> = (0..published).map(|n| format!("({})", placeholders(3 + 4 * n, 4))).collect();
            format!(
                "INSERT INTO deployment_events (position, tenant_id, directory_id, seq, kind, occurred_at) \
                 SELECT (SELECT COALESCE(MAX(position), 0) FROM deployment_events) + v.column1, $1, $2, \
                 v.column2, v.column3, v.column4 FROM (VALUES {}) AS v",
                values.join(", ")
            )
        } else {
            let values: Vec<String> = (0..published)
                .map(|n| format!("(pg_current_xact_id()::text::bigint, $1, $2, {})", placeholders(3 + 3 * n, 3)))
                .collect();
            format!(
                "INSERT INTO deployment_events (position, tenant_id, directory_id, seq, kind, occurred_at) \
                 VALUES {}",
                values.join(", ")
            )
        };
        on_open!(&mut *open, tx => {
            let mut query = sqlx::query(&statement).bind(tenant).bind(directory);
            for (offset, row) in (1_i64..).zip(chunk.iter().filter(|row| row.reaches_the_product())) {
                if numbered {
                    query = query.bind(offset);
                }
                query = query.bind(row.seq).bind(&row.kind).bind(row.at);
            }
            query.execute(&mut **tx).await.map(drop)
        })?;
    }
    Ok(())
}

/// Change records a batch's writes numbered but have not written yet (see
/// [`WriteBatch`](super::WriteBatch)): the batch holds the directory's lock throughout, so
/// it counts the directory's change numbers itself and writes the records, and the
/// directory's last number, once when it commits, in a few statements instead of four for
/// each record.
pub(crate) struct DeferredChanges {
    /// The directory's last change number, counting the records here.
    last_seq: i64,
    rows: Vec<ChangeRow>,
}

impl DeferredChanges {
    /// None yet, after the directory's `last_seq`.
    pub(super) fn after(last_seq: i64) -> Self {
        Self { last_seq, rows: Vec::new() }
    }

    /// Where the batch's next write starts counting.
    pub(super) fn next_write(&self) -> Self {
        Self::after(self.last_seq)
    }

    /// Takes on what a later write of the batch numbered (it committed).
    pub(super) fn absorb(&mut self, later: Self) {
        self.last_seq = later.last_seq;
        self.rows.extend(later.rows);
    }

    /// Numbers a change record after the last and keeps it for [`Self::write`].
    async fn append(
        &mut self,
        open: &mut OpenTransaction<'_>,
        (tenant, directory): (TenantId, DirectoryId),
        context: &WriteContext,
        entry: &ChangeEntry<'_>,
    ) -> Result<(), StoreError> {
        let seq = self.last_seq + 1;
        self.rows.push(ChangeRow::new(directory, seq, context, entry)?);
        self.last_seq = seq;
        record_revocation_of(open, (tenant, directory, seq), entry, context).await
    }

    /// Writes the records and the directory's last change number, in the batch's
    /// transaction.
    pub(super) async fn write(
        self,
        open: &mut OpenTransaction<'_>,
        tenant: TenantId,
        directory: DirectoryId,
    ) -> Result<(), StoreError> {
        const SET_SEQ: &str = "UPDATE directories SET change_seq = $3 WHERE tenant_id = $1 AND id = $2";
        if self.rows.is_empty() {
            return Ok(());
        }
        insert_change_rows(open, tenant, directory, &self.rows).await?;
        on_open!(&mut *open, tx => sqlx::query(SET_SEQ)
            .bind(tenant)
            .bind(directory)
            .bind(self.last_seq)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }
}

/// The lower-cased values a resource is looked up by (see migration 0007): every
/// `emails[].value`.
pub(super) fn lookup_values(doc: &Value) -> Vec<(&'static str, String)> {
    doc.get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|email| email.get("value").and_then(Value::as_str))
        .map(|value| ("emails", value.to_lowercase()))
        .collect()
}

/// The normalized view a change's `view` publishes, if it carries one.
pub(super) fn published_view(view: Option<&Value>) -> Option<&Value> {
    view.and_then(|view| view.get("normalized"))
}

fn name_conflict(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "a user with this userName already exists in the directory",
        ResourceKind::Group => "this group already exists",
        ResourceKind::Agent => "an agent with this name already exists in the directory",
        ResourceKind::AgenticApplication => "an agentic application with this name already exists in the directory",
    }
}

/// The document with every string value lower-cased (Unicode-aware, as the filter
/// evaluator does), for case-insensitive filters in SQL.
pub(crate) fn fold(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(fold).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fold(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_lower_cases_strings_beyond_ascii_and_keeps_keys() {
        let doc = json!({"userName": "ÅSA", "name": {"familyName": "STRAßE"}, "emails": [{"value": "A@B.C", "primary": true}]});
        assert_eq!(
            fold(&doc),
            json!({"userName": "åsa", "name": {"familyName": "straße"}, "emails": [{"value": "a@b.c", "primary": true}]})
        );
    }
}
