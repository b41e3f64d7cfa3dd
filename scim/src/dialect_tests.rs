//! One case per quirk, with a body of the shape that identity provider sends, plus
//! pass-through cases that must stay untouched.

use serde_json::{Value, json};

use super::*;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

enum Kind {
    Resource,
    Patch,
}

struct Case {
    dialect: Dialect,
    resource_type: &'static str,
    kind: Kind,
    input: Value,
    expected: Value,
    applied: &'static [&'static str],
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": operations})
}

fn cases() -> Vec<Case> {
    vec![
        // Entra ID: a deactivation as its provisioning logs show it.
        Case {
            dialect: Dialect::Entra,
            resource_type: "User",
            kind: Kind::Patch,
            input: patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            expected: patch(json!([{"op": "replace", "path": "active", "value": false}])),
            applied: &["entra-boolean-strings", "entra-capitalised-ops"],
        },
        // Entra ID: attribute updates without path, dotted and extension keys.
        Case {
            dialect: Dialect::Entra,
            resource_type: "User",
            kind: Kind::Patch,
            input: patch(json!([{"op": "Replace", "value": {
                "displayName": "Babs Jensen",
                "name.givenName": "Babs",
                "name.familyName": "Jensen",
                format!("{ENT}:department"): "Sales",
                "active": "True"
            }}])),
            expected: patch(json!([{"op": "replace", "value": {
                "displayName": "Babs Jensen",
                "name": {"givenName": "Babs", "familyName": "Jensen"},
                ENT: {"department": "Sales"},
                "active": true
            }}])),
            applied: &["entra-boolean-strings", "entra-capitalised-ops", "entra-dotted-value-keys"],
        },
        // Entra ID: the manager as an id string.
        Case {
            dialect: Dialect::Entra,
            resource_type: "User",
            kind: Kind::Patch,
            input: patch(json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "2819c223-7f76"}])),
            expected: patch(
                json!([{"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "2819c223-7f76"}}]),
            ),
            applied: &["entra-capitalised-ops", "entra-manager-string"],
        },
        // Entra ID: a create with a string email and a string boolean.
        Case {
            dialect: Dialect::Entra,
            resource_type: "User",
            kind: Kind::Resource,
            input: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT], "userName": "b@x.io",
                "active": "True", "emails": "b@x.io", "phoneNumbers": [{"value": "1", "type": "work", "primary": "true"}],
                ENT: {"manager": "boss"}}),
            expected: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT], "userName": "b@x.io",
                "active": true, "emails": [{"value": "b@x.io"}], "phoneNumbers": [{"value": "1", "type": "work", "primary": true}],
                ENT: {"manager": {"value": "boss"}}}),
            applied: &["entra-boolean-strings", "entra-manager-string", "entra-string-for-multi-valued"],
        },
        // Entra ID: removing members by value list.
        Case {
            dialect: Dialect::Entra,
            resource_type: "Group",
            kind: Kind::Patch,
            input: patch(json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u\"2"}]}])),
            expected: patch(json!([{"op": "remove", "path": "members[value eq \"u1\" or value eq \"u\\\"2\"]"}])),
            applied: &["entra-capitalised-ops", "entra-remove-members-by-value"],
        },
        // Entra ID: filtered sub-attribute paths of its default mappings are RFC form.
        Case {
            dialect: Dialect::Entra,
            resource_type: "User",
            kind: Kind::Patch,
            input: patch(json!([
                {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
                {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"},
                {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "True"}
            ])),
            expected: patch(json!([
                {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
                {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"},
                {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}
            ])),
            applied: &["entra-boolean-strings"],
        },
        // Okta: group push renames with the group's id in the value.
        Case {
            dialect: Dialect::Okta,
            resource_type: "Group",
            kind: Kind::Patch,
            input: patch(json!([{"op": "replace", "value": {"id": "abf4dd94", "displayName": "Test SCIMv2"}}])),
            expected: patch(json!([{"op": "replace", "value": {"displayName": "Test SCIMv2"}}])),
            applied: &["okta-id-in-replace-value"],
        },
        // Okta: deactivation by PATCH and group pushes are RFC form: untouched.
        Case {
            dialect: Dialect::Okta,
            resource_type: "Group",
            kind: Kind::Patch,
            input: patch(json!([{"op": "remove", "path": "members[value eq \"89bb1940\"]"},
                {"op": "add", "path": "members", "value": [{"value": "23a35c27", "display": "dade.murphy@example.com"}]}])),
            expected: patch(json!([{"op": "remove", "path": "members[value eq \"89bb1940\"]"},
                {"op": "add", "path": "members", "value": [{"value": "23a35c27", "display": "dade.murphy@example.com"}]}])),
            applied: &[],
        },
        // Okta: a PUT with the full user, active false: untouched.
        Case {
            dialect: Dialect::Okta,
            resource_type: "User",
            kind: Kind::Resource,
            input: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "23a35c27", "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"}, "active": false, "password": "1mz050nq",
                "emails": [{"value": "test.user@okta.local", "primary": true, "type": "work"}]}),
            expected: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "23a35c27", "userName": "test.user@okta.local",
                "name": {"givenName": "Test", "familyName": "User"}, "active": false, "password": "1mz050nq",
                "emails": [{"value": "test.user@okta.local", "primary": true, "type": "work"}]}),
            applied: &[],
        },
        // Generic is strict: Entra's shapes pass through for validation to judge.
        Case {
            dialect: Dialect::Generic,
            resource_type: "User",
            kind: Kind::Patch,
            input: patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            expected: patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            applied: &[],
        },
        Case {
            dialect: Dialect::Google,
            resource_type: "User",
            kind: Kind::Resource,
            input: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "active": "True"}),
            expected: json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "active": "True"}),
            applied: &[],
        },
    ]
}

#[test]
fn every_case_normalises_as_expected() {
    let registry = SchemaRegistry::new();
    for (n, case) in cases().into_iter().enumerate() {
        let normalized = match case.kind {
            Kind::Resource => normalize_resource(case.dialect, &registry, case.resource_type, case.input),
            Kind::Patch => normalize_patch(case.dialect, &registry, case.resource_type, case.input),
        };
        assert_eq!(normalized.body, case.expected, "case {n}");
        assert_eq!(normalized.applied, case.applied, "case {n}");
    }
}

#[test]
fn every_quirk_is_exercised_by_a_case() {
    let registry = SchemaRegistry::new();
    let mut exercised = Vec::new();
    for case in cases() {
        let normalized = match case.kind {
            Kind::Resource => normalize_resource(case.dialect, &registry, case.resource_type, case.input),
            Kind::Patch => normalize_patch(case.dialect, &registry, case.resource_type, case.input),
        };
        exercised.extend(normalized.applied);
    }
    for dialect in [Dialect::Entra, Dialect::Okta] {
        for quirk in dialect.quirks() {
            assert!(exercised.contains(&quirk.name), "{} is not exercised", quirk.name);
            assert!(quirk.source.starts_with("https://"), "{} has no source", quirk.name);
        }
    }
}

#[test]
fn idp_keys_round_trip_and_the_table_lists_every_quirk() {
    for key in ["okta", "entra", "google", "onelogin", "jumpcloud", "ping", "rippling", "generic"] {
        assert_eq!(Dialect::from_idp(key).map(Dialect::as_str), Some(key));
    }
    assert_eq!(Dialect::from_idp("azure"), None);
    let table = quirks_markdown();
    assert_eq!(table.lines().count(), 2 + ENTRA_QUIRKS.len() + OKTA_QUIRKS.len());
}

#[test]
fn the_readme_shows_the_quirks_table() {
    let readme = include_str!("../../README.md");
    assert!(readme.contains(&quirks_markdown()), "README.md must contain this table:\n{}", quirks_markdown());
}
