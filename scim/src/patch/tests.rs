//! Unit tests of PATCH parsing and application (RFC 7644 §3.5.2). The RFC's own examples
//! are in `rfc_examples`.

use serde_json::{Map, Value, json};

use super::*;
use crate::schema::SchemaRegistry;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn babs() -> Value {
    json!({
        "schemas": [USER],
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}]
    })
}

fn body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})
}

fn patch_with(registry: &SchemaRegistry, rt: &str, resource: &Value, operations: Value) -> Result<Value, ScimError> {
    let request = PatchRequest::parse(&body(operations), registry, rt)?;
    apply(resource.as_object().unwrap(), &request, registry, rt).map(Value::Object)
}

fn patch(resource: &Value, operations: Value) -> Result<Value, ScimError> {
    patch_with(&SchemaRegistry::new(), "User", resource, operations)
}

fn patched(resource: &Value, operations: Value) -> Value {
    patch(resource, operations).unwrap()
}

fn scim_type(resource: &Value, operations: Value) -> Option<&'static str> {
    patch(resource, operations).unwrap_err().scim_type()
}

/// A registry whose User has an extension with an immutable and a required attribute.
fn acme_registry() -> SchemaRegistry {
    let mut registry = SchemaRegistry::new();
    let schema = json!({"id": ACME, "attributes": [
        {"name": "badge", "type": "string", "mutability": "immutable"},
        {"name": "site", "type": "string", "required": true},
        {"name": "level", "type": "integer"}
    ]});
    registry.define_extension("User", &schema, false).unwrap();
    registry
}

const ACME: &str = "urn:acme:params:scim:schemas:extension:2.0:User";

// Parsing

#[test]
fn parse_reads_op_ignoring_case_and_resolves_paths() {
    let request = PatchRequest::parse(
        &body(json!([{"op": "Replace", "path": "DisplayName", "value": "Babs"}, {"op": "ADD", "value": {}}])),
        &SchemaRegistry::new(),
        "User",
    )
    .unwrap();
    let kinds: Vec<PatchOpKind> = request.operations().iter().map(|o| o.op).collect();
    assert_eq!(kinds, [PatchOpKind::Replace, PatchOpKind::Add]);
    assert_eq!(request.operations()[0].to_string(), "replace DisplayName");
}

#[test]
fn parse_requires_the_patch_op_schema() {
    let bad = json!({"schemas": [USER], "Operations": [{"op": "remove", "path": "title"}]});
    let err = PatchRequest::parse(&bad, &SchemaRegistry::new(), "User").unwrap_err();
    assert_eq!(err, ScimError::InvalidSyntax(format!("\"schemas\" must contain {PATCH_OP_SCHEMA}")));
}

#[test]
fn parse_requires_a_non_empty_operations_array() {
    let registry = SchemaRegistry::new();
    let empty = PatchRequest::parse(&body(json!([])), &registry, "User").unwrap_err();
    assert_eq!(empty.scim_type(), Some("invalidSyntax"));
    let missing = json!({"schemas": [PATCH_OP_SCHEMA]});
    assert_eq!(PatchRequest::parse(&missing, &registry, "User").unwrap_err().scim_type(), Some("invalidSyntax"));
    assert_eq!(PatchRequest::new(Vec::new()).unwrap_err().scim_type(), Some("invalidSyntax"));
}

#[test]
fn an_unknown_op_is_invalid_syntax_naming_the_operation() {
    let err = patch(&babs(), json!([{"op": "add", "path": "title", "value": "x"}, {"op": "move", "path": "title"}]))
        .unwrap_err();
    assert_eq!(
        err,
        ScimError::InvalidSyntax(
            "operation 2: unknown op \"move\"; expected \"add\", \"remove\" or \"replace\"".into()
        )
    );
}

#[test]
fn remove_without_path_is_no_target() {
    assert_eq!(scim_type(&babs(), json!([{"op": "remove"}])), Some("noTarget"));
}

#[test]
fn add_without_value_and_pathless_add_of_a_non_object_are_invalid_value() {
    assert_eq!(scim_type(&babs(), json!([{"op": "add", "path": "title"}])), Some("invalidValue"));
    assert_eq!(scim_type(&babs(), json!([{"op": "replace", "value": "x"}])), Some("invalidValue"));
}

#[test]
fn a_malformed_path_is_invalid_path_naming_the_column() {
    let err = patch(&babs(), json!([{"op": "remove", "path": "name.given name"}])).unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidPath"));
    assert!(err.detail().starts_with("operation 1: "), "{}", err.detail());
    assert!(err.detail().contains("column"), "{}", err.detail());
}

#[test]
fn an_unknown_attribute_is_invalid_path_naming_it_in_a_path_or_a_pathless_key() {
    let err = patch(&babs(), json!([{"op": "add", "path": "shoeSize", "value": 42}])).unwrap_err();
    assert_eq!(err, ScimError::InvalidPath("operation 1: unknown attribute 'shoeSize' for User".into()));
    let err = patch(&babs(), json!([{"op": "add", "value": {"shoeSize": 42}}])).unwrap_err();
    assert_eq!(err, ScimError::InvalidPath("operation 1 (add): unknown attribute 'shoeSize' for User".into()));
}

#[test]
fn an_unknown_sub_attribute_inside_a_value_is_kept_for_validation_to_judge() {
    let out = patched(&babs(), json!([{"op": "add", "path": "name", "value": {"nickname2": "B"}}]));
    assert_eq!(out["name"]["nickname2"], "B");
}

// add (RFC 7644 §3.5.2.1)

#[test]
fn add_sets_a_single_valued_attribute_under_its_schema_spelling() {
    let resource = json!({"schemas": [USER], "userName": "bjensen", "DISPLAYNAME": "old"});
    let out = patched(&resource, json!([{"op": "add", "path": "displayname", "value": "Babs"}]));
    assert_eq!(out, json!({"schemas": [USER], "userName": "bjensen", "displayName": "Babs"}));
}

#[test]
fn add_appends_to_a_multi_valued_attribute_from_an_array_or_a_single_value() {
    let out = patched(
        &babs(),
        json!([
            {"op": "add", "path": "emails", "value": [{"value": "a@example.com", "TYPE": "other"}]},
            {"op": "add", "path": "emails", "value": {"value": "b@example.com"}}
        ]),
    );
    let values: Vec<&str> = out["emails"].as_array().unwrap().iter().map(|e| e["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["bjensen@example.com", "babs@jensen.org", "a@example.com", "b@example.com"]);
    assert_eq!(out["emails"][2], json!({"value": "a@example.com", "type": "other"}));
}

#[test]
fn add_of_a_value_already_contained_changes_nothing() {
    let out = patched(
        &babs(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]}]),
    );
    assert_eq!(out, babs());
}

#[test]
fn add_merges_the_sub_attributes_of_a_complex_attribute() {
    let out =
        patched(&babs(), json!([{"op": "add", "path": "name", "value": {"middleName": "Jane", "GivenName": "Babs"}}]));
    assert_eq!(out["name"], json!({"givenName": "Babs", "familyName": "Jensen", "middleName": "Jane"}));
}

#[test]
fn add_of_a_sub_attribute_creates_the_complex_attribute() {
    let resource = json!({"schemas": [USER], "userName": "bjensen"});
    let out = patched(&resource, json!([{"op": "add", "path": "name.familyName", "value": "Jensen"}]));
    assert_eq!(out["name"], json!({"familyName": "Jensen"}));
}

#[test]
fn add_to_a_value_path_sub_attribute_sets_it_on_every_match() {
    let out =
        patched(&babs(), json!([{"op": "add", "path": "addresses[type eq \"work\"].postalCode", "value": "91608"}]));
    assert_eq!(out["addresses"][0]["postalCode"], "91608");
    assert_eq!(out["addresses"][0]["locality"], "Hollywood");
}

#[test]
fn add_to_a_type_eq_value_path_without_a_match_creates_the_element_as_entra_expects() {
    let out = patched(
        &babs(),
        json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}]),
    );
    assert_eq!(out["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
}

#[test]
fn add_to_a_non_eq_value_path_without_a_match_is_no_target() {
    let ops = json!([{"op": "add", "path": "emails[value ew \"example.org\"].display", "value": "x"}]);
    let err = patch(&babs(), ops).unwrap_err();
    assert_eq!(err.scim_type(), Some("noTarget"));
    assert!(err.detail().ends_with("no value of emails matches [value ew \"example.org\"]"), "{}", err.detail());
}

#[test]
fn add_of_an_extension_attribute_lists_the_extension_in_schemas() {
    let out = patched(
        &babs(),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "26118915"}}]),
    );
    assert_eq!(out[ENTERPRISE], json!({"manager": {"value": "26118915"}}));
    assert_eq!(out["schemas"], json!([USER, ENTERPRISE]));
}

#[test]
fn add_of_a_bare_extension_urn_adds_each_attribute_of_the_object() {
    let resource = json!({"schemas": [USER, ENTERPRISE], "userName": "b", ENTERPRISE: {"costCenter": "4130"}});
    let out = patched(
        &resource,
        json!([{"op": "add", "path": ENTERPRISE.to_lowercase(), "value": {"Department": "Tour", "manager": {"value": "9"}}}]),
    );
    assert_eq!(out[ENTERPRISE], json!({"costCenter": "4130", "department": "Tour", "manager": {"value": "9"}}));
    assert_eq!(out["schemas"], json!([USER, ENTERPRISE]));
}

#[test]
fn a_pathless_value_takes_dotted_and_urn_qualified_keys() {
    let out = patched(
        &babs(),
        json!([{"op": "replace", "value": {
            "name.givenName": "Babs",
            format!("{ENTERPRISE}:department"): "Tour",
            ENTERPRISE: {"employeeNumber": "701984"},
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Guide",
            "schemas": ["ignored"]
        }}]),
    );
    assert_eq!(out["name"]["givenName"], "Babs");
    assert_eq!(out["title"], "Guide");
    assert_eq!(out[ENTERPRISE], json!({"department": "Tour", "employeeNumber": "701984"}));
    assert_eq!(out["schemas"], json!([USER, ENTERPRISE]));
}

#[test]
fn a_value_of_the_wrong_type_is_invalid_value() {
    let err = patch(&babs(), json!([{"op": "replace", "path": "active", "value": "yes"}])).unwrap_err();
    assert_eq!(err, ScimError::InvalidValue("operation 1 (replace active): active must be of type boolean".into()));
    assert_eq!(scim_type(&babs(), json!([{"op": "add", "path": "title", "value": ["a"]}])), Some("invalidValue"));
    let wrong_sub = json!([{"op": "add", "path": "emails", "value": [{"value": "x@y", "primary": "yes"}]}]);
    assert_eq!(scim_type(&babs(), wrong_sub), Some("invalidValue"));
}

#[test]
fn a_scalar_for_a_complex_attribute_is_invalid_value() {
    let ops = json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager"), "value": "26118915"}]);
    let err = patch(&babs(), ops).unwrap_err();
    assert_eq!(err.scim_type(), Some("invalidValue"));
    assert!(err.detail().contains("must be an object of sub-attributes"), "{}", err.detail());
}

// replace (RFC 7644 §3.5.2.3)

#[test]
fn replace_of_a_multi_valued_attribute_replaces_every_value() {
    let out = patched(&babs(), json!([{"op": "replace", "path": "emails", "value": [{"value": "new@example.com"}]}]));
    assert_eq!(out["emails"], json!([{"value": "new@example.com"}]));
}

#[test]
fn replace_of_a_complex_attribute_leaves_unspecified_sub_attributes_unchanged() {
    let out = patched(&babs(), json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]));
    assert_eq!(out["name"], json!({"givenName": "Babs", "familyName": "Jensen"}));
}

#[test]
fn replace_of_a_value_path_replaces_the_matching_values_whole() {
    let out = patched(
        &babs(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "b@home.org", "type": "home"}}]),
    );
    assert_eq!(out["emails"][1], json!({"value": "b@home.org", "type": "home"}));
    assert_eq!(out["emails"][0]["value"], "bjensen@example.com");
}

#[test]
fn replace_of_a_value_path_without_a_match_is_no_target() {
    let ops =
        json!([{"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "x@y", "type": "other"}}]);
    assert_eq!(scim_type(&babs(), ops), Some("noTarget"));
}

#[test]
fn replace_of_a_type_eq_value_path_sub_attribute_without_a_match_adds_the_element() {
    let out =
        patched(&babs(), json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "o@x.org"}]));
    assert_eq!(out["emails"][2], json!({"type": "other", "value": "o@x.org"}));
}

#[test]
fn replace_of_an_absent_attribute_adds_it() {
    let out = patched(&babs(), json!([{"op": "replace", "path": "nickName", "value": "Babs"}]));
    assert_eq!(out["nickName"], "Babs");
}

#[test]
fn a_null_value_unassigns() {
    let out = patched(
        &babs(),
        json!([{"op": "replace", "path": "name.familyName", "value": null}, {"op": "replace", "value": {"addresses": null}}]),
    );
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    assert_eq!(out.get("addresses"), None);
}

// remove (RFC 7644 §3.5.2.2)

#[test]
fn remove_unassigns_an_attribute_and_a_sub_attribute() {
    let out =
        patched(&babs(), json!([{"op": "remove", "path": "addresses"}, {"op": "remove", "path": "name.givenName"}]));
    assert_eq!(out.get("addresses"), None);
    assert_eq!(out["name"], json!({"familyName": "Jensen"}));
}

#[test]
fn removing_something_absent_succeeds_and_changes_nothing() {
    let ops = json!([
        {"op": "remove", "path": "nickName"},
        {"op": "remove", "path": "phoneNumbers[type eq \"fax\"]"},
        {"op": "remove", "path": "name.middleName"},
        {"op": "remove", "path": ENTERPRISE},
        {"op": "remove", "path": format!("{ENTERPRISE}:manager.value")}
    ]);
    assert_eq!(patched(&babs(), ops), babs());
}

#[test]
fn remove_of_matching_values_unassigns_the_attribute_when_none_remain() {
    let out = patched(&babs(), json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]));
    assert_eq!(out["emails"], json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]));
    let out = patched(&out, json!([{"op": "remove", "path": "emails[value pr]"}]));
    assert_eq!(out.get("emails"), None);
}

#[test]
fn remove_of_a_sub_attribute_of_matching_values_keeps_the_values() {
    let out = patched(&babs(), json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
    assert_eq!(out["emails"][0], json!({"value": "bjensen@example.com", "type": "work"}));
}

#[test]
fn remove_of_a_multi_valued_attribute_with_listed_values_removes_only_those() {
    let ops = json!([{"op": "Remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]);
    let out = patched(&babs(), ops);
    assert_eq!(out["emails"], json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]));
}

#[test]
fn remove_of_a_required_attribute_is_mutability() {
    let err = patch(&babs(), json!([{"op": "remove", "path": "userName"}])).unwrap_err();
    assert_eq!(
        err,
        ScimError::Mutability("operation 1 (remove userName): userName is required and cannot be removed".into())
    );
    assert_eq!(scim_type(&babs(), json!([{"op": "replace", "value": {"userName": null}}])), Some("mutability"));
}

#[test]
fn remove_of_a_bare_extension_drops_its_data_and_its_schema_urn() {
    let resource = json!({"schemas": [USER, ENTERPRISE], "userName": "b", ENTERPRISE: {"department": "Tour"}});
    let out = patched(&resource, json!([{"op": "remove", "path": ENTERPRISE}]));
    assert_eq!(out, json!({"schemas": [USER], "userName": "b"}));
}

#[test]
fn removing_the_last_extension_attribute_drops_the_extension() {
    let resource = json!({"schemas": [USER, ENTERPRISE], "userName": "b", ENTERPRISE: {"department": "Tour"}});
    let out = patched(&resource, json!([{"op": "remove", "path": "department"}]));
    assert_eq!(out, json!({"schemas": [USER], "userName": "b"}));
}

// Mutability (RFC 7644 §3.5.2, RFC 7643 §2.2)

#[test]
fn read_only_attributes_cannot_be_targeted() {
    for ops in [
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        json!([{"op": "add", "path": "meta.version", "value": "W/\"1\""}]),
        json!([{"op": "remove", "path": "groups"}]),
        json!([{"op": "replace", "value": {"ID": "x"}}]),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.displayName"), "value": "Boss"}]),
    ] {
        assert_eq!(scim_type(&babs(), ops.clone()), Some("mutability"), "{ops}");
    }
}

#[test]
fn a_read_only_sub_attribute_inside_a_value_is_ignored() {
    let ops =
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "9", "displayName": "Boss"}}]);
    assert_eq!(patched(&babs(), ops)[ENTERPRISE], json!({"manager": {"value": "9"}}));
}

#[test]
fn an_immutable_attribute_can_be_set_once_but_not_changed_or_removed() {
    let registry = acme_registry();
    let resource = json!({"schemas": [USER], "userName": "b"});
    let set = json!([{"op": "add", "path": format!("{ACME}:badge"), "value": "B-1"}]);
    let once = patch_with(&registry, "User", &resource, set.clone()).unwrap();
    assert_eq!(once[ACME], json!({"badge": "B-1"}));
    assert_eq!(patch_with(&registry, "User", &once, set).unwrap(), once);
    let change = json!([{"op": "replace", "path": "badge", "value": "B-2"}]);
    assert_eq!(patch_with(&registry, "User", &once, change).unwrap_err().scim_type(), Some("mutability"));
    let remove = json!([{"op": "remove", "path": format!("{ACME}:badge")}]);
    assert_eq!(patch_with(&registry, "User", &once, remove).unwrap_err().scim_type(), Some("mutability"));
}

#[test]
fn a_required_extension_attribute_cannot_be_removed_with_its_extension() {
    let registry = acme_registry();
    let resource = json!({"schemas": [USER, ACME], "userName": "b", ACME: {"site": "HQ"}});
    let err = patch_with(&registry, "User", &resource, json!([{"op": "remove", "path": ACME}])).unwrap_err();
    assert_eq!(err.scim_type(), Some("mutability"));
}

#[test]
fn an_immutable_sub_attribute_of_a_member_cannot_be_changed() {
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g", "members": [{"value": "a"}]});
    let ops = json!([{"op": "replace", "path": "members[value eq \"a\"].value", "value": "b"}]);
    let err = patch_with(&SchemaRegistry::new(), "Group", &group, ops).unwrap_err();
    assert_eq!(err.scim_type(), Some("mutability"));
    assert!(err.detail().ends_with("members.value is immutable: it can be set once, not changed"), "{}", err.detail());
}

// primary (RFC 7644 §3.5.2, RFC 7643 §2.4)

#[test]
fn setting_primary_on_a_value_takes_it_from_the_others() {
    let ops = json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "primary": true}]}]);
    let out = patched(&babs(), ops);
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][2], json!({"value": "new@example.com", "primary": true}));
}

#[test]
fn of_several_primary_values_written_at_once_the_last_wins() {
    let ops = json!([{"op": "replace", "path": "emails", "value": [
        {"value": "a@x.org", "primary": true}, {"value": "b@x.org", "primary": true}
    ]}]);
    assert_eq!(
        patched(&babs(), ops)["emails"],
        json!([{"value": "a@x.org", "primary": false}, {"value": "b@x.org", "primary": true}])
    );
}

#[test]
fn setting_primary_through_a_value_path_moves_it() {
    let out = patched(&babs(), json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]));
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][1]["primary"], true);
}

#[test]
fn adding_a_contained_value_as_primary_marks_the_existing_value() {
    let ops = json!([{"op": "add", "path": "emails", "value": {"value": "babs@jensen.org", "type": "home", "primary": true}}]);
    let out = patched(&babs(), ops);
    assert_eq!(out["emails"].as_array().map(Vec::len), Some(2));
    assert_eq!(out["emails"][1]["primary"], true);
    assert_eq!(out["emails"][0]["primary"], false);
}

// All or nothing (RFC 7644 §3.5.2)

#[test]
fn a_failing_operation_fails_the_whole_request_and_names_it() {
    let registry = SchemaRegistry::new();
    let resource = babs();
    let ops = json!([
        {"op": "replace", "path": "title", "value": "Guide"},
        {"op": "replace", "path": "emails[type eq \"fax\"]", "value": {"value": "x"}}
    ]);
    let request = PatchRequest::parse(&body(ops), &registry, "User").unwrap();
    let err = apply(resource.as_object().unwrap(), &request, &registry, "User").unwrap_err();
    assert_eq!(
        err,
        ScimError::NoTarget(
            "operation 2 (replace emails[type eq \"fax\"]): no value of emails matches [type eq \"fax\"]".into()
        )
    );
    assert_eq!(resource, babs());
}

#[test]
fn operations_apply_in_order_each_to_the_result_of_the_last() {
    let out = patched(
        &babs(),
        json!([
            {"op": "remove", "path": "emails"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@x.org"},
            {"op": "replace", "path": "emails[type eq \"work\"].display", "value": "Work"}
        ]),
    );
    assert_eq!(out["emails"], json!([{"type": "work", "value": "w@x.org", "display": "Work"}]));
}

#[test]
fn a_request_built_from_operations_is_resolved_when_applied() {
    let registry = SchemaRegistry::new();
    let request = PatchRequest::new(vec![PatchOperation {
        op: PatchOpKind::Add,
        path: Some(crate::path::PatchPath::parse("nickName").unwrap()),
        value: Some(json!("Babs")),
    }])
    .unwrap();
    let out = apply(&Map::new(), &request, &registry, "User").unwrap();
    assert_eq!(Value::Object(out), json!({"nickName": "Babs"}));
    let bad = PatchRequest::new(vec![PatchOperation { op: PatchOpKind::Remove, path: None, value: None }]).unwrap();
    assert_eq!(apply(&Map::new(), &bad, &registry, "User").unwrap_err().scim_type(), Some("noTarget"));
}

#[test]
fn an_unknown_resource_type_is_not_found() {
    let request =
        PatchRequest::new(vec![PatchOperation { op: PatchOpKind::Add, path: None, value: Some(json!({})) }]).unwrap();
    assert_eq!(apply(&Map::new(), &request, &SchemaRegistry::new(), "Printer").unwrap_err().status(), 404);
}

#[test]
fn schemas_inside_an_extension_value_names_the_extension_and_is_skipped() {
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let registry = crate::schema::SchemaRegistry::new();
    let body = serde_json::json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
        {"op": "add", "path": ent, "value": {"schemas": [ent], "employeeNumber": "42"}}
    ]});
    let request = PatchRequest::parse(&body, &registry, "User").unwrap();
    let doc = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b"});
    let patched = apply(doc.as_object().unwrap(), &request, &registry, "User").unwrap();
    assert_eq!(patched[ent], serde_json::json!({"employeeNumber": "42"}));
}
