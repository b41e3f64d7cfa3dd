//! Which attributes a write changed, with their values before and after: what the audit
//! trail keeps of every create, replace, PATCH and delete, so that "who set this user's
//! department to Sales, and what was it before?" has an answer.
//!
//! Attributes are compared at the top level of the resource, and one level into each
//! schema extension (an attribute whose name is the extension's URN), where they are
//! named `urn:…:User:department` as in a PATCH path (RFC 7644 §3.10). A complex or
//! multi-valued attribute is one value: `emails` before and after, not a diff of its
//! items. `schemas` and `meta` are bookkeeping and left out; so is `members`, which the
//! store keeps apart from the document (membership changes are recorded as deltas).

use serde_json::{Map, Value};

/// One attribute a write changed. `before` is `None` for an attribute the write added,
/// `after` is `None` for one it removed.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeChange {
    pub attribute: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

const LEFT_OUT: [&str; 4] = ["schemas", "meta", "members", "id"];

/// The attributes whose values differ between `before` and `after` (either may be empty:
/// a create, a delete), in attribute-name order.
pub fn attribute_changes(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<AttributeChange> {
    let mut changes = Vec::new();
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if LEFT_OUT.contains(&name.as_str()) {
            continue;
        }
        let (old, new) = (before.get(name), after.get(name));
        if old == new {
            continue;
        }
        let is_extension = name.starts_with("urn:");
        match (old, new) {
            (Some(Value::Object(old)), Some(Value::Object(new))) if is_extension => {
                changes.extend(attribute_changes(old, new).into_iter().map(|change| qualified(name, change)));
            }
            (Some(Value::Object(old)), None) if is_extension => {
                changes.extend(attribute_changes(old, &Map::new()).into_iter().map(|change| qualified(name, change)));
            }
            (None, Some(Value::Object(new))) if is_extension => {
                changes.extend(attribute_changes(&Map::new(), new).into_iter().map(|change| qualified(name, change)));
            }
            _ => changes.push(AttributeChange { attribute: name.clone(), before: old.cloned(), after: new.cloned() }),
        }
    }
    changes
}

fn qualified(urn: &str, change: AttributeChange) -> AttributeChange {
    AttributeChange { attribute: format!("{urn}:{}", change.attribute), ..change }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn a_changed_attribute_has_both_values_and_unchanged_ones_are_left_out() {
        let before = map(json!({"userName": "ada", "title": "Engineer", "active": true}));
        let after = map(json!({"userName": "ada", "title": "Manager", "active": true}));
        assert_eq!(
            attribute_changes(&before, &after),
            vec![AttributeChange {
                attribute: "title".into(),
                before: Some(json!("Engineer")),
                after: Some(json!("Manager"))
            }]
        );
    }

    #[test]
    fn added_and_removed_attributes_have_one_side_only() {
        let before = map(json!({"userName": "ada", "nickName": "A"}));
        let after = map(json!({"userName": "ada", "title": "Engineer"}));
        let changes = attribute_changes(&before, &after);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0], AttributeChange { attribute: "nickName".into(), before: Some(json!("A")), after: None });
        assert_eq!(
            changes[1],
            AttributeChange { attribute: "title".into(), before: None, after: Some(json!("Engineer")) }
        );
    }

    #[test]
    fn a_create_lists_every_attribute_and_a_delete_every_value_it_removed() {
        let user = map(json!({"userName": "ada", "active": true, "schemas": ["x"], "id": "1"}));
        let created = attribute_changes(&Map::new(), &user);
        assert_eq!(created.iter().map(|c| c.attribute.as_str()).collect::<Vec<_>>(), ["active", "userName"]);
        assert!(created.iter().all(|c| c.before.is_none()));
        let deleted = attribute_changes(&user, &Map::new());
        assert!(deleted.iter().all(|c| c.after.is_none() && c.before.is_some()));
    }

    #[test]
    fn extension_attributes_are_compared_one_by_one_under_their_urn() {
        let before = map(json!({ENTERPRISE: {"department": "R&D", "employeeNumber": "7"}}));
        let after = map(json!({ENTERPRISE: {"department": "Sales", "employeeNumber": "7"}}));
        assert_eq!(
            attribute_changes(&before, &after),
            vec![AttributeChange {
                attribute: format!("{ENTERPRISE}:department"),
                before: Some(json!("R&D")),
                after: Some(json!("Sales"))
            }]
        );
        let added = attribute_changes(&Map::new(), &after);
        assert_eq!(added.len(), 2);
        assert!(added.iter().all(|c| c.attribute.starts_with(ENTERPRISE) && c.before.is_none()));
        let removed = attribute_changes(&before, &map(json!({})));
        assert_eq!(removed.len(), 2);
        assert!(removed.iter().all(|c| c.after.is_none()));
    }

    #[test]
    fn a_multi_valued_attribute_is_one_value() {
        let before = map(json!({"emails": [{"value": "a@x.example", "primary": true}]}));
        let after = map(json!({"emails": [{"value": "b@x.example", "primary": true}]}));
        let changes = attribute_changes(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].attribute, "emails");
        assert_eq!(changes[0].after, Some(json!([{"value": "b@x.example", "primary": true}])));
    }

    #[test]
    fn bookkeeping_and_members_are_left_out() {
        let before = map(json!({"schemas": ["a"], "meta": {"version": "1"}, "members": [], "displayName": "T"}));
        let after =
            map(json!({"schemas": ["b"], "meta": {"version": "2"}, "members": [{"value": "u"}], "displayName": "T"}));
        assert!(attribute_changes(&before, &after).is_empty());
    }

    #[test]
    fn a_non_object_value_under_an_extension_urn_is_compared_whole() {
        let before = map(json!({ENTERPRISE: "odd"}));
        let after = map(json!({ENTERPRISE: {"department": "Sales"}}));
        let changes = attribute_changes(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].attribute, ENTERPRISE);
    }
}
