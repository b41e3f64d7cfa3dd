//! Creating, replacing and deleting users and groups. Each write is one storage
//! transaction that also records the change (the outbox of the audit trail and the event
//! feed), and is checked against the version it was computed from.

use chrono::{DateTime, Utc};
use scim::dialect::{Dialect, normalize_resource};
use scim::error::ScimError;
use scim::validate::{UnknownPolicy, validate};
use serde_json::{Map, Value, json};
use store::{
    Change, ChangeKind, Computed, Creation, MemberDelta, ResourceKind, ResourceRecord, ResourceState, StoreError,
    WriteContext,
};

use super::representation::not_found;
use super::views::change_view;
use super::write_summary::{WriteKind, WriteSummary, Written};
use super::{Endpoint, Precondition, Projection, ProvisioningError, Versioned, truncate_to_millis};

/// A new resource, validated, with its id, change record and summary (see
/// [`Endpoint::prepare_new`]).
pub(super) struct NewResource {
    record: ResourceRecord,
    state: ResourceState,
    /// A group's initial members.
    members: Vec<String>,
    change: Change,
    context: WriteContext,
    summary: WriteSummary,
}

impl NewResource {
    /// What the store takes to create it.
    fn creation(&self) -> Creation<'_> {
        Creation {
            kind: self.record.kind,
            id: &self.record.id,
            state: &self.state,
            members: &self.members,
            change: &self.change,
            context: &self.context,
        }
    }

    /// The stored record and what storing it changed, once [`Endpoint::store_all_prepared`]
    /// stored it.
    pub(super) fn stored(self) -> (ResourceRecord, WriteSummary) {
        (self.record, self.summary)
    }
}

/// A validated body, split into what the store keeps where.
pub(super) struct Prepared {
    pub(super) state: ResourceState,
    /// A group's `members` values from the body (`None` when the body has none).
    pub(super) members: Option<Vec<String>>,
}

impl Endpoint {
    pub(super) fn unknown_policy(&self) -> UnknownPolicy {
        if self.directory.settings.strict_attributes { UnknownPolicy::Strict } else { UnknownPolicy::Preserve }
    }

    /// How this directory's identity provider deviates from the RFCs.
    pub(super) fn dialect(&self) -> Dialect {
        Dialect::from_idp(self.directory.idp.as_str()).unwrap_or(Dialect::Generic)
    }

    pub(super) fn context(&self, now: DateTime<Utc>) -> WriteContext {
        WriteContext { actor: format!("token:{}", self.caller.token), at: truncate_to_millis(now) }
    }

    /// Validates a POST or PUT body (with `existing`, the stored document it replaces).
    pub(super) fn prepare(
        &self,
        kind: ResourceKind,
        body: &Value,
        existing: Option<&Map<String, Value>>,
    ) -> Result<Prepared, ScimError> {
        let normalized = normalize_resource(self.dialect(), self.registry(), kind.as_str(), body.clone());
        if !normalized.applied.is_empty() {
            tracing::debug!(directory = %self.caller.directory, quirks = ?normalized.applied, "normalised the body");
        }
        let (validated, report) =
            validate(self.registry(), kind.as_str(), &normalized.body, existing, self.unknown_policy())?;
        if !report.unmapped.is_empty() {
            tracing::debug!(directory = %self.caller.directory, unmapped = ?report.unmapped, "kept unmapped attributes");
        }
        let mut doc = validated.into_object();
        // `password` is write-only and `returned: never`; this service provisions
        // identities, it does not authenticate them, so it keeps no password at all.
        doc.remove("password");
        let members = match kind {
            ResourceKind::Group => doc.remove("members").map(|members| member_ids(&members)).transpose()?,
            _ => None,
        };
        prepared_state(kind, doc).map(|state| Prepared { state, members })
    }

    /// `POST /Users` and `POST /Groups`.
    pub async fn create(
        &self,
        kind: ResourceKind,
        body: &Value,
        projection: &Projection,
        now: DateTime<Utc>,
    ) -> Written<Versioned> {
        match self.store_new(kind, body, now).await {
            Ok((record, changes)) => Written::committed(changes, self.respond(record, projection).await),
            Err(error) => Written::failed(error),
        }
    }

    /// Validates and stores a new resource.
    async fn store_new(
        &self,
        kind: ResourceKind,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<(ResourceRecord, WriteSummary), ProvisioningError> {
        let new = self.prepare_new(kind, body, now).await?;
        self.store_prepared(new).await
    }

    /// Validates a new resource and makes everything its creation stores, without touching
    /// the directory's data: a Bulk request prepares its creations this way before it takes
    /// the database's writer, which then only stores them.
    pub(super) async fn prepare_new(
        &self,
        kind: ResourceKind,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<NewResource, ProvisioningError> {
        self.require_write()?;
        let prepared = self.prepare(kind, body, None)?;
        let context = self.context(now);
        let shaping = self.shaping().await?;
        let record = ResourceRecord {
            kind,
            id: self.new_resource_id()?,
            doc: Value::Object(object(&prepared.state.doc)),
            version: 1,
            created_at: context.at,
            last_modified: context.at,
        };
        let change = Change {
            kind: ChangeKind::created(kind),
            resource_id: record.id.clone(),
            data: self.event_state(&record),
            view: change_view(kind, &record.id, None, Some(&record.doc), shaping, &[]),
        };
        let members = prepared.members.unwrap_or_default();
        let added = if members.is_empty() { Vec::new() } else { vec![MemberDelta::Add(members.clone())] };
        let summary = WriteSummary::of(WriteKind::Created, kind, &record.id, &Value::Null, &record.doc, &added);
        Ok(NewResource { record, state: prepared.state, members, change, context, summary })
    }

    /// Stores a new resource [`Self::prepare_new`] made: the stored record, and what the
    /// write changed.
    pub(super) async fn store_prepared(
        &self,
        new: NewResource,
    ) -> Result<(ResourceRecord, WriteSummary), ProvisioningError> {
        let NewResource { record, state, members, change, context, summary } = new;
        self.data().create(record.kind, &record.id, &state, &members, &change, &context).await.map_err(write_error)?;
        Ok((record, summary))
    }

    /// Stores new resources [`Self::prepare_new`] made, all or none (see
    /// [`store::DirectoryData::create_all`]): `false` when none was stored because one of
    /// them is to be answered with its own error (its userName is taken, an owner or member
    /// is unknown), so that the caller stores them one by one.
    pub(super) async fn store_all_prepared(&self, news: &[&NewResource]) -> Result<bool, ProvisioningError> {
        let creations: Vec<Creation<'_>> = news.iter().map(|new| new.creation()).collect();
        match self.data().create_all(&creations).await.map_err(write_error) {
            Ok(stored) => Ok(stored),
            Err(ProvisioningError::Protocol(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// `PUT /Users/{id}` and `PUT /Groups/{id}`: replaces every attribute the client may
    /// write; a group's `members` become exactly the body's list.
    pub async fn replace(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        precondition: &Precondition,
        projection: &Projection,
        now: DateTime<Utc>,
    ) -> Written<Versioned> {
        if let Err(error) = self.require_write() {
            return Written::failed(error);
        }
        let rewritten = self
            .rewrite(kind, id, precondition, now, |current| {
                let prepared = self.prepare(kind, body, Some(&object(&current.doc)))?;
                let members = match kind {
                    ResourceKind::Group => vec![MemberDelta::Replace(prepared.members.unwrap_or_default())],
                    _ => Vec::new(),
                };
                Ok((Some(prepared.state), members))
            })
            .await;
        match rewritten {
            Ok((record, changes)) => Written::committed(changes, self.respond(record, projection).await),
            Err(error) => Written::failed(error),
        }
    }

    /// `DELETE /Users/{id}` and `DELETE /Groups/{id}`; the resource leaves its groups.
    pub async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        precondition: &Precondition,
        now: DateTime<Utc>,
    ) -> Written<()> {
        self.delete_stored(kind, id, precondition, now).await.into()
    }

    async fn delete_stored(
        &self,
        kind: ResourceKind,
        id: &str,
        precondition: &Precondition,
        now: DateTime<Utc>,
    ) -> Result<((), WriteSummary), ProvisioningError> {
        self.require_write()?;
        let context = self.context(now);
        let current = self.current(kind, id, precondition).await?;
        let shaping = self.shaping().await?;
        let groups = self.role_groups(kind, id).await?;
        let change = Change {
            kind: ChangeKind::deleted(kind),
            resource_id: id.to_owned(),
            data: json!({ "id": id }),
            view: change_view(kind, id, Some(&current.doc), None, shaping, &groups),
        };
        let expected = precondition.is_conditional().then_some(current.version);
        match self.data().delete(kind, id, expected, &change, &context).await {
            Ok(()) => Ok(((), WriteSummary::of(WriteKind::Deleted, kind, id, &current.doc, &Value::Null, &[]))),
            Err(StoreError::NotFound) => Err(not_found(kind, id).into()),
            Err(StoreError::VersionMismatch { .. }) => Err(stale().into()),
            Err(error) => Err(error.into()),
        }
    }

    /// The stored record, checked against the precondition.
    pub(super) async fn current(
        &self,
        kind: ResourceKind,
        id: &str,
        precondition: &Precondition,
    ) -> Result<ResourceRecord, ProvisioningError> {
        let record = self.data().resource(kind, id).await?.ok_or_else(|| not_found(kind, id))?;
        if !precondition.holds_for(record.version) {
            return Err(stale().into());
        }
        Ok(record)
    }

    /// Writes what `compute` derives from the stored resource (a new state and membership
    /// deltas), with the directory locked from the read to the commit: the `If-Match`
    /// check is exact and concurrent writers never make a request fail or retry. A result
    /// equal to what is stored writes nothing (an identity provider retrying a write), and
    /// its summary is empty.
    pub(super) async fn rewrite<F>(
        &self,
        kind: ResourceKind,
        id: &str,
        precondition: &Precondition,
        now: DateTime<Utc>,
        compute: F,
    ) -> Result<(ResourceRecord, WriteSummary), ProvisioningError>
    where
        F: FnOnce(&ResourceRecord) -> Result<(Option<ResourceState>, Vec<MemberDelta>), ScimError>,
    {
        let context = self.context(now);
        let shaping = self.shaping().await?;
        let groups = self.role_groups(kind, id).await?;
        // The document before and after, and the membership deltas, of a write that
        // happens: summarised once it has committed.
        let mut written: Option<(Value, Vec<MemberDelta>)> = None;
        let outcome = self
            .data()
            .modify(kind, id, &context, |current| {
                if !precondition.holds_for(current.version) {
                    return Err(stale());
                }
                let (state, members) = compute(current)?;
                if kind == ResourceKind::User
                    && self.directory.settings.nonhuman_extension
                    && let Some(state) = &state
                {
                    scim::nonhuman::check_activation(current.doc.as_object(), &object(&state.doc), now)?;
                }
                let unchanged = state.as_ref().is_none_or(|s| s.doc == current.doc);
                if unchanged && members.is_empty() {
                    return Ok(None);
                }
                let updated = ResourceRecord {
                    doc: state.as_ref().map_or_else(|| current.doc.clone(), |s| s.doc.clone()),
                    version: current.version + 1,
                    last_modified: context.at,
                    ..current.clone()
                };
                written = Some((current.doc.clone(), members.clone()));
                let changes = if unchanged {
                    Vec::new()
                } else {
                    vec![Change {
                        kind: change_kind(current, &updated),
                        resource_id: current.id.clone(),
                        data: self.event_state(&updated),
                        view: change_view(kind, &current.id, Some(&current.doc), Some(&updated.doc), shaping, &groups),
                    }]
                };
                Ok(Some(Computed {
                    state: if unchanged { None } else { state },
                    members,
                    changes,
                    records: Vec::new(),
                }))
            })
            .await;
        match outcome {
            Ok(Ok((record, _))) => {
                let changes = written.map_or_else(WriteSummary::default, |(before, members)| {
                    WriteSummary::of(WriteKind::Updated, kind, id, &before, &record.doc, &members)
                });
                Ok((record, changes))
            }
            Ok(Err(error)) => Err(error.into()),
            Err(StoreError::NotFound) => Err(not_found(kind, id).into()),
            Err(error) => Err(write_error(error)),
        }
    }

    /// The representation of a record as the client asked for it, with the `groups` or
    /// `members` it needs loaded: the answer to a read or a successful write.
    pub(super) async fn respond(
        &self,
        record: ResourceRecord,
        projection: &Projection,
    ) -> Result<Versioned, ProvisioningError> {
        let related = self.related(record.kind, std::slice::from_ref(&record), projection).await?;
        let version = record.version;
        Ok(Versioned { body: self.render(record, &related, projection), version })
    }
}

/// Which event a change of `before` into `after` is.
pub(super) fn change_kind(before: &ResourceRecord, after: &ResourceRecord) -> ChangeKind {
    let active = |r: &ResourceRecord| r.doc.get("active").and_then(Value::as_bool).unwrap_or(true);
    ChangeKind::updated(before.kind, active(before), active(after))
}

/// The name and external id the store indexes, from a validated document.
pub(super) fn prepared_state(kind: ResourceKind, doc: Map<String, Value>) -> Result<ResourceState, ScimError> {
    let name_attribute = kind.name_attribute();
    let name = doc
        .get(name_attribute)
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ScimError::InvalidValue(format!("{name_attribute} is required and must not be empty")))?
        .to_owned();
    let external_id = doc.get("externalId").and_then(Value::as_str).map(str::to_owned);
    Ok(ResourceState { name, external_id, doc: Value::Object(doc) })
}

/// The ids in a `members` value: `[{"value": "<id>", …}, …]`.
pub(super) fn member_ids(members: &Value) -> Result<Vec<String>, ScimError> {
    let Value::Array(items) = members else {
        return Err(ScimError::InvalidValue("members must be an array".to_owned()));
    };
    items
        .iter()
        .map(|item| {
            item.get("value").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
                ScimError::InvalidValue("every member needs a string \"value\" (the member's id)".into())
            })
        })
        .collect()
}

fn object(doc: &Value) -> Map<String, Value> {
    match doc {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    }
}

/// Maps the storage outcomes a write can meet to what the client is told.
pub(super) fn write_error(error: StoreError) -> ProvisioningError {
    match error {
        StoreError::Conflict(message) => ScimError::Uniqueness(message.to_owned()).into(),
        StoreError::UnknownMembers(ids) => ScimError::InvalidValue(format!(
            "members must be users or groups of this directory (and not the group itself); unknown: {}",
            ids.join(", ")
        ))
        .into(),
        StoreError::UnknownOwner(owner) => ScimError::InvalidValue(format!(
            "{}:owner.value must be the id of another user of this directory; unknown: {owner}",
            scim::schema::builtin::NONHUMAN_USER
        ))
        .into(),
        StoreError::NotFound => ScimError::NotFound("this directory no longer exists".to_owned()).into(),
        StoreError::VersionMismatch { .. } => stale().into(),
        other => other.into(),
    }
}

pub(super) fn stale() -> ScimError {
    ScimError::PreconditionFailed("the resource has changed: its version no longer matches If-Match".to_owned())
}
