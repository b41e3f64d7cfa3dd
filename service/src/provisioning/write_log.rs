//! What one SCIM request changed, kept for its audit record: per resource written, the
//! attributes with their values before and after ([`scim::diff`]) and the members added
//! or removed. Filled by the write paths after each commit, so it lists only what is
//! stored; a Bulk request lists each of its operations once the whole request has
//! committed.

use std::sync::{Arc, Mutex, PoisonError};

use scim::diff::attribute_changes;
use serde_json::{Map, Value, json};
use store::{MemberDelta, ResourceKind};

/// The changes of one request; clones share them (the HTTP layer keeps one to read after
/// the handler has run).
#[derive(Debug, Clone, Default)]
pub struct WriteLog(Arc<Mutex<Vec<Value>>>);

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

impl WriteLog {
    /// Notes a committed write of `id`: its document before and after (empty for a create
    /// or a delete) and the membership deltas applied with it.
    pub(super) fn note(
        &self,
        write: WriteKind,
        kind: ResourceKind,
        id: &str,
        before: &Value,
        after: &Value,
        members: &[MemberDelta],
    ) {
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
        if !members.is_empty() {
            entry["members"] = Value::Array(members.iter().map(member_delta).collect());
        }
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
    }

    /// Everything noted so far, oldest first.
    pub fn entries(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Moves what `other` noted to the end of this log (the writes of a Bulk request,
    /// noted apart until their transaction has committed).
    pub(super) fn append(&self, other: &WriteLog) {
        let moved = std::mem::take(&mut *other.0.lock().unwrap_or_else(PoisonError::into_inner));
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend(moved);
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
        let log = WriteLog::default();
        let shared = log.clone();
        shared.note(
            WriteKind::Updated,
            ResourceKind::Group,
            "g1",
            &json!({"displayName": "Team", "schemas": ["a"]}),
            &json!({"displayName": "Team A", "schemas": ["a"]}),
            &[MemberDelta::Add(vec!["u1".into()]), MemberDelta::Remove(vec!["u2".into()])],
        );
        assert_eq!(
            log.entries(),
            vec![json!({
                "resourceType": "Group", "id": "g1", "write": "updated",
                "attributes": [{"attribute": "displayName", "before": "Team", "after": "Team A"}],
                "members": [{"op": "add", "ids": ["u1"]}, {"op": "remove", "ids": ["u2"]}],
            })]
        );
    }

    #[test]
    fn a_create_has_no_before_values() {
        let log = WriteLog::default();
        log.note(WriteKind::Created, ResourceKind::User, "u1", &Value::Null, &json!({"userName": "ada"}), &[]);
        assert_eq!(log.entries()[0]["attributes"], json!([{"attribute": "userName", "before": null, "after": "ada"}]));
        assert!(log.entries()[0].get("members").is_none());
    }
}
