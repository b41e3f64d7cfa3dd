//! What a SCIM write changed, kept for its audit record: per resource written, the
//! attributes with their values before and after ([`scim::diff`]) and the members added
//! or removed. Each write returns its summary with its result ([`Written`]), built after
//! its commit, so it lists only what is stored; a Bulk request lists each of its operations
//! once the whole request has committed.

use scim::diff::attribute_changes;
use serde_json::{Map, Value, json};
use store::{MemberDelta, ResourceKind};

use super::ProvisioningError;

/// The changes of one request, oldest first: one entry per resource written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteSummary(Vec<Value>);

/// A write's result and what it changed. They are apart because a write can commit and its
/// request still fail (the answer is read back after the commit): what changed is audited
/// either way.
#[derive(Debug)]
#[must_use]
pub struct Written<T> {
    pub result: Result<T, ProvisioningError>,
    pub changes: WriteSummary,
}

impl<T> Written<T> {
    /// A write that committed `changes` and answered with `result`.
    pub(super) fn committed(changes: WriteSummary, result: Result<T, ProvisioningError>) -> Self {
        Self { result, changes }
    }

    /// A write that failed before it committed anything.
    pub(super) fn failed(error: impl Into<ProvisioningError>) -> Self {
        Self { result: Err(error.into()), changes: WriteSummary::default() }
    }

    /// The result, with what changed added to `changes` (a Bulk request's summary).
    pub(super) fn result_noting_in(self, changes: &mut WriteSummary) -> Result<T, ProvisioningError> {
        changes.0.extend(self.changes.0);
        self.result
    }
}

impl<T> From<Result<(T, WriteSummary), ProvisioningError>> for Written<T> {
    /// A write with nothing to read back: it committed its changes, or failed and
    /// changed nothing.
    fn from(stored: Result<(T, WriteSummary), ProvisioningError>) -> Self {
        match stored {
            Ok((value, changes)) => Self::committed(changes, Ok(value)),
            Err(error) => Self::failed(error),
        }
    }
}

/// What a write did to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WriteKind {
    Created,
    Updated,
    Deleted,
}

impl WriteKind {
    fn as_str(self) -> &'static str {
        match self {
            WriteKind::Created => "created",
            WriteKind::Updated => "updated",
            WriteKind::Deleted => "deleted",
        }
    }
}

impl WriteSummary {
    /// The summary of one committed write of `id`: its document before and after (empty for
    /// a create or a delete) and the membership deltas applied with it.
    pub(super) fn of(
        write: WriteKind,
        kind: ResourceKind,
        id: &str,
        before: &Value,
        after: &Value,
        members: &[MemberDelta],
    ) -> Self {
        let empty = Map::new();
        let attributes: Vec<Value> =
            attribute_changes(before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty))
                .into_iter()
                .map(|change| json!({"attribute": change.attribute, "before": change.before, "after": change.after}))
                .collect();
        let mut entry = json!({
            "resourceType": kind.as_str(),
            "id": id,
            "write": write.as_str(),
            "attributes": attributes,
        });
        // What people call it, kept so the trail can say "Deactivated Bob Jones" even once
        // the resource is gone (a membership-only write has no document: its name is
        // looked up when the record is shown).
        let document = if after.is_object() { after } else { before };
        if let Some(name) = document.get(kind.name_attribute()).and_then(Value::as_str) {
            entry["name"] = json!(name);
        }
        if let (ResourceKind::User, Some(display)) = (kind, document.get("displayName").and_then(Value::as_str)) {
            entry["displayName"] = json!(display);
        }
        if !members.is_empty() {
            entry["members"] = Value::Array(members.iter().map(member_delta).collect());
        }
        Self(vec![entry])
    }

    /// One entry per resource written, oldest first.
    pub fn entries(&self) -> &[Value] {
        &self.0
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn member_delta(delta: &MemberDelta) -> Value {
    match delta {
        MemberDelta::Add(ids) => json!({"op": "add", "ids": ids}),
        MemberDelta::Remove(ids) => json!({"op": "remove", "ids": ids}),
        MemberDelta::RemoveAll => json!({"op": "removeAll"}),
        MemberDelta::Replace(ids) => json!({"op": "replace", "ids": ids}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_notes_the_changed_attributes_and_member_deltas() {
        let summary = WriteSummary::of(
            WriteKind::Updated,
            ResourceKind::Group,
            "g1",
            &json!({"displayName": "Team", "schemas": ["a"]}),
            &json!({"displayName": "Team A", "schemas": ["a"]}),
            &[MemberDelta::Add(vec!["u1".into()]), MemberDelta::Remove(vec!["u2".into()])],
        );
        assert_eq!(
            summary.entries(),
            [json!({
                "resourceType": "Group", "id": "g1", "write": "updated", "name": "Team A",
                "attributes": [{"attribute": "displayName", "before": "Team", "after": "Team A"}],
                "members": [{"op": "add", "ids": ["u1"]}, {"op": "remove", "ids": ["u2"]}],
            })]
        );
    }

    #[test]
    fn a_create_has_no_before_values() {
        let summary = WriteSummary::of(
            WriteKind::Created,
            ResourceKind::User,
            "u1",
            &Value::Null,
            &json!({"userName": "ada"}),
            &[],
        );
        assert_eq!(
            summary.entries()[0]["attributes"],
            json!([{"attribute": "userName", "before": null, "after": "ada"}])
        );
        assert!(summary.entries()[0].get("members").is_none());
        assert_eq!(summary.entries()[0]["name"], "ada");
    }

    #[test]
    fn a_deleted_user_keeps_its_names_from_before() {
        let before = json!({"userName": "bob@globex.example", "displayName": "Bob Jones"});
        let summary = WriteSummary::of(WriteKind::Deleted, ResourceKind::User, "u1", &before, &Value::Null, &[]);
        assert_eq!(summary.entries()[0]["name"], "bob@globex.example");
        assert_eq!(summary.entries()[0]["displayName"], "Bob Jones");
    }
}
