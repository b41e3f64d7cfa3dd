//! Group membership changes taken out of a PATCH request (RFC 7644 §3.5.2.1–3 examples on
//! `members`), so that the service applies them to its member table instead of to a
//! document holding every member.

use serde_json::{Map, Value};

use super::{PatchOpKind, PatchOperation};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, PatchPath};
use crate::schema::builtin::GROUP;

/// A change to a group's members, by member id (the `value` sub-attribute, RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOperation {
    /// Add these members (already present ones stay once).
    Add(Vec<String>),
    /// Remove these members (absent ones are ignored).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// The members become exactly these.
    Replace(Vec<String>),
}

/// One operation split into what stays for `apply` and the member change it carried.
#[derive(Debug, Default)]
pub(super) struct Split {
    pub(super) rest: Option<PatchOperation>,
    pub(super) members: Option<MemberOperation>,
}

pub(super) fn split(op: &PatchOperation) -> Result<Split, ScimError> {
    let keep = || Ok(Split { rest: Some(op.clone()), members: None });
    match &op.path {
        None => split_pathless(op),
        Some(PatchPath::Attr(path)) if is_members(path) => {
            if let Some(sub) = path.sub_attr() {
                return Err(ScimError::InvalidPath(format!(
                    "members.{sub} cannot be patched: add, remove or replace whole members"
                )));
            }
            if op.op != PatchOpKind::Remove && op.value.is_none() {
                return Err(ScimError::InvalidValue(format!("{} needs a \"value\"", op.op)));
            }
            // RFC 7643 §2.5: a null value unassigns.
            let value = op.value.as_ref().filter(|v| !v.is_null());
            let change = match (op.op, value) {
                (_, None) => MemberOperation::RemoveAll,
                (PatchOpKind::Add, Some(value)) => MemberOperation::Add(ids(value)?),
                (PatchOpKind::Replace, Some(value)) => MemberOperation::Replace(ids(value)?),
                // Entra's older PATCH form names the members to remove in the value; reading
                // it as "remove all" would empty the group.
                (PatchOpKind::Remove, Some(value)) => MemberOperation::Remove(ids(value)?),
            };
            Ok(Split { rest: None, members: Some(change) })
        }
        Some(PatchPath::Value { attr, filter, sub_attr }) if is_members(attr) => {
            if op.op != PatchOpKind::Remove {
                return Err(ScimError::InvalidPath(format!(
                    "{} of members[…] is not supported: add or replace members without a filter",
                    op.op
                )));
            }
            if let Some(sub) = sub_attr {
                return Err(ScimError::InvalidPath(format!(
                    "members[…].{sub} cannot be patched: sub-attributes of members are immutable (RFC 7643 §4.2)"
                )));
            }
            let mut ids = Vec::new();
            filter_ids(filter, &mut ids)?;
            Ok(Split { rest: None, members: Some(MemberOperation::Remove(dedup(ids))) })
        }
        Some(_) => keep(),
    }
}

/// `add`/`replace` without path: a `members` key of the value becomes a member operation.
fn split_pathless(op: &PatchOperation) -> Result<Split, ScimError> {
    let Some(Value::Object(attrs)) = &op.value else {
        return Ok(Split { rest: Some(op.clone()), members: None });
    };
    let mut rest = Map::new();
    let mut change = None;
    for (key, value) in attrs {
        let Ok(path) = AttrPath::parse(key) else {
            // Not a path at all: `apply` reports it with the others.
            rest.insert(key.clone(), value.clone());
            continue;
        };
        if !is_members(&path) {
            rest.insert(key.clone(), value.clone());
            continue;
        }
        if path.sub_attr().is_some() {
            return Err(ScimError::InvalidPath(format!("{key} cannot be patched: patch whole members")));
        }
        if change.is_some() {
            return Err(ScimError::InvalidValue("members is given twice".to_owned()));
        }
        change = Some(match (op.op, value) {
            (_, Value::Null) => MemberOperation::RemoveAll,
            (PatchOpKind::Add, value) => MemberOperation::Add(ids(value)?),
            (_, value) => MemberOperation::Replace(ids(value)?),
        });
    }
    if change.is_none() {
        return Ok(Split { rest: Some(op.clone()), members: None });
    }
    let rest = (!rest.is_empty()).then_some(PatchOperation { op: op.op, path: None, value: Some(Value::Object(rest)) });
    Ok(Split { rest, members: change })
}

/// `members` or `urn:ietf:params:scim:schemas:core:2.0:Group:members`, any case.
fn is_members(path: &AttrPath) -> bool {
    path.name().eq_ignore_ascii_case("members") && path.uri().is_none_or(|uri| uri.eq_ignore_ascii_case(GROUP))
}

/// The ids of a list of members (or of one member object): each one's string `value`.
fn ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let members: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let ids = members
        .into_iter()
        .map(|member| {
            member
                .as_object()
                .and_then(|m| super::get_ignore_case(m, "value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ScimError::InvalidValue(format!("each member needs a string \"value\" (its id), not {member}"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dedup(ids))
}

/// The ids of `value eq "x"` comparisons joined by `or`; any other filter on members is
/// refused, since the service selects members by id only.
fn filter_ids(filter: &Filter, out: &mut Vec<String>) -> Result<(), ScimError> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(id) }
            if path.uri().is_none() && path.sub_attr().is_none() && path.name().eq_ignore_ascii_case("value") =>
        {
            out.push(id.clone());
            Ok(())
        }
        Filter::Or(children) => children.iter().try_for_each(|c| filter_ids(c, out)),
        other => Err(ScimError::InvalidFilter(format!(
            "members[{other}] is not supported: select members by id, as members[value eq \"…\"], \
             optionally joined with or"
        ))),
    }
}

/// Keeps the first of equal ids, in order.
fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::MemberOperation::{Add, Remove, RemoveAll, Replace};
    use super::*;
    use crate::patch::PatchRequest;
    use crate::schema::SchemaRegistry;

    fn request(operations: Value) -> PatchRequest {
        let body = json!({"schemas": [crate::patch::PATCH_OP_SCHEMA], "Operations": operations});
        PatchRequest::parse(&body, &SchemaRegistry::new(), "Group").unwrap()
    }

    fn take(operations: Value) -> Result<(Vec<MemberOperation>, PatchRequest), ScimError> {
        let mut req = request(operations);
        let taken = req.take_member_operations()?;
        Ok((taken, req))
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn add_members_becomes_an_add_of_their_ids() {
        let (taken, rest) =
            take(json!([{"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}, {"value": "a"}]}]))
                .unwrap();
        assert_eq!(taken, [Add(ids(&["a", "b"]))]);
        assert_eq!(rest.operations(), []);
    }

    #[test]
    fn remove_by_value_filter_and_or_of_value_filters_become_removes() {
        let (taken, _) = take(json!([
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "remove", "path": "members[value eq \"b\" or VALUE eq \"c\"]"}
        ]))
        .unwrap();
        assert_eq!(taken, [Remove(ids(&["a"])), Remove(ids(&["b", "c"]))]);
    }

    #[test]
    fn remove_members_without_filter_removes_all_and_with_a_value_list_only_those() {
        let (taken, _) = take(json!([
            {"op": "remove", "path": "members"},
            {"op": "Remove", "path": "members", "value": [{"value": "x"}]}
        ]))
        .unwrap();
        assert_eq!(taken, [RemoveAll, Remove(ids(&["x"]))]);
    }

    #[test]
    fn replace_members_is_the_new_full_list() {
        let (taken, _) = take(json!([
            {"op": "replace", "path": "members", "value": [{"value": "a"}]},
            {"op": "replace", "path": "members", "value": []}
        ]))
        .unwrap();
        assert_eq!(taken, [Replace(ids(&["a"])), Replace(vec![])]);
    }

    #[test]
    fn a_pathless_value_keeps_its_other_attributes_and_the_numbering_of_later_operations() {
        let (taken, rest) = take(json!([
            {"op": "replace", "value": {"displayName": "Ops", "Members": [{"value": "a"}]}},
            {"op": "add", "value": {"members": [{"value": "b"}]}},
            {"op": "add", "path": "members", "value": [{"value": "c"}]},
            {"op": "replace", "path": "displayName", "value": 7}
        ]))
        .unwrap();
        assert_eq!(taken, [Replace(ids(&["a"])), Add(ids(&["b"])), Add(ids(&["c"]))]);
        assert_eq!(rest.operations().len(), 2);
        assert_eq!(rest.operations()[0].value, Some(json!({"displayName": "Ops"})));
        let err = crate::patch::apply(&Map::new(), &rest, &SchemaRegistry::new(), "Group").unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"));
        assert!(err.detail().starts_with("operation 4 (replace displayName): "), "{}", err.detail());
    }

    #[test]
    fn a_urn_qualified_members_path_is_recognised() {
        let (taken, _) = take(json!([
            {"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": [{"value": "a"}]}
        ]))
        .unwrap();
        assert_eq!(taken, [Add(ids(&["a"]))]);
    }

    #[test]
    fn a_filter_on_another_sub_attribute_is_invalid_filter() {
        let err = take(json!([{"op": "remove", "path": "members[type eq \"User\"]"}])).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidFilter"));
        assert!(err.detail().contains("select members by id"), "{}", err.detail());
        // `display` is not a sub-attribute of members in RFC 7643 §8.7.1, so parsing
        // already refuses it.
        let body = json!({"schemas": [crate::patch::PATCH_OP_SCHEMA],
            "Operations": [{"op": "remove", "path": "members[display eq \"x\"]"}]});
        let err = PatchRequest::parse(&body, &SchemaRegistry::new(), "Group").unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidFilter"));
    }

    #[test]
    fn a_sub_attribute_of_selected_members_is_invalid_path() {
        let err =
            take(json!([{"op": "replace", "path": "members[value eq \"x\"].type", "value": "User"}])).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidPath"));
        let err = take(json!([{"op": "remove", "path": "members[value eq \"x\"].type"}])).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidPath"));
        assert!(err.detail().starts_with("operation 1 (remove members[value eq \"x\"].type): "), "{}", err.detail());
    }

    #[test]
    fn a_member_without_a_string_value_is_invalid_value_and_leaves_the_request_unchanged() {
        let mut req = request(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}]},
            {"op": "add", "path": "members", "value": [{"display": "Babs"}]}
        ]));
        let before = req.clone();
        let err = req.take_member_operations().unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"));
        assert!(err.detail().starts_with("operation 2 (add members): "), "{}", err.detail());
        assert_eq!(req, before);
    }

    #[test]
    fn operations_on_other_attributes_stay() {
        let (taken, rest) = take(json!([{"op": "replace", "path": "displayName", "value": "Ops"}])).unwrap();
        assert_eq!(taken, []);
        assert_eq!(rest.operations().len(), 1);
    }
}
