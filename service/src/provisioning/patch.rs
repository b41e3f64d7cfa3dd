//! `PATCH /Users/{id}` and `PATCH /Groups/{id}` (RFC 7644 §3.5.2): the operations are
//! applied by the protocol core to a copy of the stored document, the result is validated
//! like a replace, and written only if nothing changed in between. A group's `members` are
//! never loaded: member operations become deltas the store applies in the same
//! transaction, so a group of 100,000 members gains or loses one cheaply.

use chrono::{DateTime, Utc};
use scim::dialect::normalize_patch;
use scim::error::ScimError;
use scim::patch::{MemberOperation, PatchRequest, apply};
use scim::validate::validate;
use serde_json::{Map, Value};
use store::{MemberDelta, ResourceKind, StoreError, Update};

use super::representation::not_found;
use super::write_summary::{WriteKind, WriteSummary, Written};
use super::writes::{prepared_state, write_error};
use super::{Endpoint, Precondition, Projection, Versioned};

impl Endpoint {
    /// Applies a PatchOp body. Returns the patched resource, or `None` (204 No Content) for
    /// a group whose membership changed and no projection was asked for: its full
    /// representation would list every member.
    pub async fn patch(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        precondition: &Precondition,
        projection: &Projection,
        now: DateTime<Utc>,
    ) -> Written<Option<Versioned>> {
        let (request, members) = match self.parse_patch(kind, body) {
            Ok(parsed) => parsed,
            Err(error) => return Written::failed(error),
        };
        if request.operations().is_empty() && !members.is_empty() && !precondition.is_conditional() {
            // Membership only: nothing is computed from the document, so there is no
            // version to race on and nothing to read first.
            let update = Update { expected_version: None, state: None, members: &members, changes: &[] };
            let changes = match self.data().update(kind, id, &update, &self.context(now)).await {
                Ok(_) => WriteSummary::of(WriteKind::Updated, kind, id, &Value::Null, &Value::Null, &members),
                Err(StoreError::NotFound) => return Written::failed(not_found(kind, id)),
                Err(error) => return Written::failed(write_error(error)),
            };
            if projection.is_default() {
                return Written::committed(changes, Ok(None));
            }
            return Written::committed(changes, self.get(kind, id, projection).await.map(Some));
        }
        let membership_changed = !members.is_empty();
        let rewritten = self
            .rewrite(kind, id, precondition, now, |current| {
                let stored: Map<String, Value> = current.doc.as_object().cloned().unwrap_or_default();
                let patched = apply(&stored, &request, self.registry(), kind.as_str())?;
                let (validated, _) = validate(
                    self.registry(),
                    kind.as_str(),
                    &Value::Object(patched),
                    Some(&stored),
                    self.unknown_policy(),
                )?;
                let mut doc = validated.into_object();
                doc.remove("password");
                Ok((Some(prepared_state(kind, doc)?), members))
            })
            .await;
        let (record, changes) = match rewritten {
            Ok(rewritten) => rewritten,
            Err(error) => return Written::failed(error),
        };
        if kind == ResourceKind::Group && membership_changed && projection.is_default() {
            return Written::committed(changes, Ok(None));
        }
        Written::committed(changes, self.respond(record, projection).await.map(Some))
    }

    /// The PatchOp body, normalised from the directory's dialect and parsed; a group's
    /// member operations are taken out as deltas.
    fn parse_patch(&self, kind: ResourceKind, body: &Value) -> Result<(PatchRequest, Vec<MemberDelta>), ScimError> {
        self.require_write()?;
        let normalized = normalize_patch(self.dialect(), self.registry(), kind.as_str(), body.clone());
        if !normalized.applied.is_empty() {
            tracing::debug!(directory = %self.caller.directory, quirks = ?normalized.applied, "normalised the PATCH");
        }
        let mut request = PatchRequest::parse(&normalized.body, self.registry(), kind.as_str())?;
        let members: Vec<MemberDelta> = match kind {
            ResourceKind::Group => request.take_member_operations()?.into_iter().map(member_delta).collect(),
            ResourceKind::User | ResourceKind::Agent | ResourceKind::AgenticApplication => Vec::new(),
        };
        Ok((request, members))
    }
}

fn member_delta(operation: MemberOperation) -> MemberDelta {
    match operation {
        MemberOperation::Add(ids) => MemberDelta::Add(ids),
        MemberOperation::Remove(ids) => MemberDelta::Remove(ids),
        MemberOperation::RemoveAll => MemberDelta::RemoveAll,
        MemberOperation::Replace(ids) => MemberDelta::Replace(ids),
    }
}
