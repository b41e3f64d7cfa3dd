use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::error::ScimError;
use crate::schema::SchemaRegistry;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn bjensen() -> Map<String, Value> {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}],
        "active": true
    })
    .as_object()
    .cloned()
    .unwrap()
}

fn request(resource_type: &str, operations: Value) -> Result<PatchRequest, ScimError> {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
    PatchRequest::parse(&body, &SchemaRegistry::new(), resource_type)
}

fn patch_user(doc: &Map<String, Value>, operations: Value) -> Result<Map<String, Value>, ScimError> {
    let request = request("User", operations)?;
    apply(doc, &request, &SchemaRegistry::new(), "User")
}

fn ok(doc: &Map<String, Value>, operations: Value) -> Map<String, Value> {
    patch_user(doc, operations).unwrap_or_else(|e| panic!("{e}"))
}

// RFC 7644 §3.5.2.1: "add" without path merges the value's attributes.
#[test]
fn rfc7644_3_5_2_1_add_without_path_merges_attributes() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}]),
    );
    assert_eq!(patched["nickName"], "Babs", "names are matched ignoring case and stored canonically");
    assert_eq!(patched["emails"].as_array().unwrap().len(), 2, "an equal value is not added twice");
}

// RFC 7644 §3.5.2.1: "add" of members to a group.
#[test]
fn rfc7644_3_5_2_1_add_members_becomes_a_member_operation() {
    let mut request = request(
        "Group",
        json!([{"op": "add", "path": "members", "value": [{
            "display": "Babs Jensen",
            "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
            "value": "2819c223-7f76-453a-919d-413861904646"
        }]}]),
    )
    .unwrap();
    let members = request.take_member_operations().unwrap();
    assert_eq!(members, vec![MemberOperation::Add(vec!["2819c223-7f76-453a-919d-413861904646".into()])]);
    assert!(request.operations().is_empty());
}

// RFC 7644 §3.5.2.2: remove one member, all members, and remove-then-add.
#[test]
fn rfc7644_3_5_2_2_member_removals() {
    let mut one =
        request("Group", json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-...413861904646\"]"}]))
            .unwrap();
    assert_eq!(
        one.take_member_operations().unwrap(),
        vec![MemberOperation::Remove(vec!["2819c223-7f76-...413861904646".into()])]
    );
    let mut all = request("Group", json!([{"op": "remove", "path": "members"}])).unwrap();
    assert_eq!(all.take_member_operations().unwrap(), vec![MemberOperation::RemoveAll]);
    let mut both = request(
        "Group",
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "2819c223"}, {"value": "902c246b"}]}
        ]),
    )
    .unwrap();
    assert_eq!(
        both.take_member_operations().unwrap(),
        vec![MemberOperation::RemoveAll, MemberOperation::Add(vec!["2819c223".into(), "902c246b".into()])]
    );
}

// RFC 7644 §3.5.2.2: remove values selected by a filter.
#[test]
fn rfc7644_3_5_2_2_remove_with_a_value_filter() {
    let patched =
        ok(&bjensen(), json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]));
    assert_eq!(patched["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
    // Removing what is not there is no error (idempotent).
    let again =
        ok(&patched, json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]));
    assert_eq!(again, patched);
}

// RFC 7644 §3.5.2.3: replace all members.
#[test]
fn rfc7644_3_5_2_3_replace_members() {
    let mut request = request(
        "Group",
        json!([{"op": "replace", "path": "members", "value": [
            {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223", "value": "2819c223"},
            {"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d", "value": "08e1d05d"}
        ]}]),
    )
    .unwrap();
    assert_eq!(
        request.take_member_operations().unwrap(),
        vec![MemberOperation::Replace(vec!["2819c223".into(), "08e1d05d".into()])]
    );
}

// RFC 7644 §3.5.2.3: replace the value selected by a filter, and one of its sub-attributes.
#[test]
fn rfc7644_3_5_2_3_replace_with_a_value_filter() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {
            "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
            "region": "CA", "postalCode": "91608", "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true
        }}]),
    );
    assert_eq!(patched["addresses"][0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(patched["addresses"][0]["postalCode"], "91608");
    let street = ok(
        &patched,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    );
    assert_eq!(street["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(street["addresses"][0]["locality"], "Hollywood");
}

// RFC 7644 §3.5.2.3: replace without path replaces the listed attributes.
#[test]
fn rfc7644_3_5_2_3_replace_without_path() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(patched["nickName"], "Babs");
    assert_eq!(patched["emails"].as_array().unwrap().len(), 2);
    assert_eq!(patched["userName"], "bjensen");
}

#[test]
fn op_names_are_read_ignoring_case() {
    let patched = ok(&bjensen(), json!([{"op": "Replace", "path": "active", "value": false}]));
    assert_eq!(patched["active"], false);
}

#[test]
fn dotted_and_extension_keys_in_a_value_object_are_paths() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "replace", "value": {
            "name.givenName": "Babs",
            format!("{ENT}:department"): "Sales",
            ENT: {"employeeNumber": "42"}
        }}]),
    );
    assert_eq!(patched["name"]["givenName"], "Babs");
    assert_eq!(patched["name"]["familyName"], "Jensen");
    assert_eq!(patched[ENT], json!({"department": "Sales", "employeeNumber": "42"}));
    assert_eq!(patched["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT]));
}

#[test]
fn extension_paths_add_and_remove() {
    let patched =
        ok(&bjensen(), json!([{"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "boss-id"}}]));
    assert_eq!(patched[ENT]["manager"]["value"], "boss-id");
    let removed = ok(&patched, json!([{"op": "remove", "path": format!("{ENT}:manager")}]));
    assert!(removed.get(ENT).is_none(), "an empty extension is dropped");
    assert_eq!(removed["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
    let whole = ok(&bjensen(), json!([{"op": "add", "path": ENT, "value": {"costCenter": "4130"}}]));
    assert_eq!(whole[ENT]["costCenter"], "4130");
    let gone = ok(&whole, json!([{"op": "remove", "path": ENT}]));
    assert!(gone.get(ENT).is_none());
}

#[test]
fn a_filtered_sub_attribute_with_no_match_creates_the_typed_value() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}]),
    );
    assert_eq!(patched["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    let locality =
        ok(&bjensen(), json!([{"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Burbank"}]));
    assert_eq!(locality["addresses"][0]["locality"], "Burbank");
    assert_eq!(locality["addresses"].as_array().unwrap().len(), 1);
}

#[test]
fn a_filter_without_a_match_is_no_target() {
    let error =
        patch_user(&bjensen(), json!([{"op": "replace", "path": "emails[value eq \"x\"]", "value": {"value": "y"}}]));
    assert!(matches!(error, Err(ScimError::NoTarget(_))), "{error:?}");
}

#[test]
fn primary_moves_to_the_last_value_set() {
    let patched = ok(
        &bjensen(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "primary": true}]}]),
    );
    let primaries: Vec<&Value> =
        patched["emails"].as_array().unwrap().iter().filter(|e| e["primary"] == true).collect();
    assert_eq!(primaries, vec![&json!({"value": "new@example.com", "primary": true})]);
    let flagged = ok(&bjensen(), json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]));
    assert_eq!(flagged["emails"][0]["primary"], false);
    assert_eq!(flagged["emails"][1]["primary"], true);
}

#[test]
fn remove_with_a_value_list_removes_just_those() {
    let patched = ok(&bjensen(), json!([{"op": "remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]));
    assert_eq!(patched["emails"].as_array().unwrap().len(), 1);
    let everything = ok(&bjensen(), json!([{"op": "remove", "path": "emails"}]));
    assert!(everything.get("emails").is_none());
}

#[test]
fn errors_name_the_operation_and_leave_nothing_applied() {
    let doc = bjensen();
    let error = patch_user(
        &doc,
        json!([{"op": "replace", "path": "nickName", "value": "Babs"}, {"op": "replace", "path": "nope", "value": 1}]),
    );
    match error {
        Err(ScimError::InvalidPath(detail)) => assert!(detail.starts_with("operation 2:"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(patch_user(&doc, json!([{"op": "remove"}])), Err(ScimError::NoTarget(_))));
    assert!(matches!(
        patch_user(&doc, json!([{"op": "replace", "path": "id", "value": "x"}])),
        Err(ScimError::Mutability(_))
    ));
    assert!(matches!(
        patch_user(&doc, json!([{"op": "replace", "path": "groups", "value": []}])),
        Err(ScimError::Mutability(_))
    ));
    assert!(matches!(patch_user(&doc, json!([{"op": "add", "path": "nickName"}])), Err(ScimError::InvalidValue(_))));
    assert!(matches!(patch_user(&doc, json!([{"op": "move", "path": "nickName"}])), Err(ScimError::InvalidSyntax(_))));
    assert!(matches!(
        patch_user(&doc, json!([{"op": "add", "path": "emails[", "value": 1}])),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(
        patch_user(&doc, json!([{"op": "add", "path": "emails.value", "value": "x"}])),
        Err(ScimError::InvalidPath(_))
    ));
    assert!(matches!(patch_user(&doc, json!([])), Err(ScimError::InvalidSyntax(_))));
    let no_schema =
        PatchRequest::parse(&json!({"Operations": [{"op": "remove", "path": "x"}]}), &SchemaRegistry::new(), "User");
    assert!(matches!(no_schema, Err(ScimError::InvalidSyntax(_))));
}

#[test]
fn read_only_attributes_in_a_value_object_are_ignored() {
    let patched =
        ok(&bjensen(), json!([{"op": "replace", "value": {"id": "other", "meta": {}, "displayName": "Babs"}}]));
    assert_eq!(patched["displayName"], "Babs");
    assert!(patched.get("id").is_none() && patched.get("meta").is_none());
}

#[test]
fn member_filters_other_than_value_equality_are_refused() {
    let mut display = request("Group", json!([{"op": "remove", "path": "members[display eq \"x\"]"}])).unwrap();
    assert!(matches!(display.take_member_operations(), Err(ScimError::InvalidFilter(_))));
    let mut pair =
        request("Group", json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}])).unwrap();
    assert_eq!(pair.take_member_operations().unwrap(), vec![MemberOperation::Remove(vec!["a".into(), "b".into()])]);
    let mut mixed =
        request("Group", json!([{"op": "replace", "value": {"displayName": "Ops", "members": [{"value": "a"}]}}]))
            .unwrap();
    assert_eq!(mixed.take_member_operations().unwrap(), vec![MemberOperation::Replace(vec!["a".into()])]);
    assert_eq!(mixed.operations().len(), 1, "the displayName part stays");
}

fn operation_strategy() -> impl Strategy<Value = Value> {
    let paths = prop::sample::select(vec![
        "nickName",
        "title",
        "name.givenName",
        "emails",
        "emails[type eq \"work\"].value",
        "emails[type eq \"home\"]",
        "addresses[type eq \"work\"].locality",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ]);
    let values = prop::sample::select(vec![json!("a"), json!("B"), json!({"value": "x@y.z", "type": "home"})]);
    (prop::sample::select(vec!["add", "replace", "remove"]), paths, values).prop_map(|(op, path, value)| {
        if op == "remove" { json!({"op": op, "path": path}) } else { json!({"op": op, "path": path, "value": value}) }
    })
}

proptest! {
    /// Applying a request twice gives the state applying it once gave (IdPs retry).
    #[test]
    fn applying_a_request_twice_changes_nothing_more(operations in prop::collection::vec(operation_strategy(), 1..5)) {
        let once = patch_user(&bjensen(), Value::Array(operations.clone()));
        if let Ok(once) = once {
            let twice = patch_user(&once, Value::Array(operations));
            if let Ok(twice) = twice {
                // `add` to a multi-valued attribute appends only values not already there.
                prop_assert_eq!(once, twice);
            }
        }
    }
}
