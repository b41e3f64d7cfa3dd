//! Robustness of everything that reads client input: arbitrary text and arbitrary JSON of
//! roughly the right shape go through the parsers, PATCH, validation, the dialects,
//! projection and sorting, and every call must return (an error is fine, a panic is not:
//! a panic would be a 500, and identity providers retry 5xx forever).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use scim::dialect::{Dialect, normalize_patch, normalize_resource};
use scim::filter::Filter;
use scim::filter::check::{UnknownAttributes, check};
use scim::patch::{PatchRequest, apply};
use scim::path::{AttrPath, PatchPath};
use scim::projection::{Selection, project};
use scim::schema::SchemaRegistry;
use scim::sort::{SortOrder, sort_resources};
use scim::validate::{UnknownPolicy, validate};
use serde_json::{Map, Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "schemas",
            "userName",
            "emails",
            "value",
            "type",
            "primary",
            "name",
            "givenName",
            "familyName",
            "members",
            "manager",
            "active",
            "displayName",
            "addresses",
            "locality",
            "id",
            "meta",
            "groups",
            "password",
            "externalId",
            ENT,
            "department",
            "name.givenName",
            "x509Certificates",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z$.:]{1,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        prop::sample::select(vec!["True", "false", "", "2026-11-25T09:00:00Z", "work", "a@b.c", ENT])
            .prop_map(|s| Value::String(s.to_owned())),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn path_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "userName",
            "name.givenName",
            "emails",
            "emails[type eq \"work\"]",
            "emails[type eq \"work\"].value",
            "members",
            "members[value eq \"x\"]",
            "addresses[type eq \"home\" and primary eq true].locality",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "emails[",
            "emails[value]",
            "]",
            "",
            "meta.version",
            "groups",
            "id",
            "not(x pr)",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,30}",
    ]
}

fn patch_body() -> impl Strategy<Value = Value> {
    let operation = (
        prop::sample::select(vec!["add", "remove", "replace", "Add", "Replace", "Remove", "move", ""]),
        prop::option::of(path_text()),
        prop::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut operation = Map::new();
            operation.insert("op".into(), json!(op));
            if let Some(path) = path {
                operation.insert("path".into(), json!(path));
            }
            if let Some(value) = value {
                operation.insert("value".into(), value);
            }
            Value::Object(operation)
        });
    prop::collection::vec(operation, 0..5).prop_map(
        |operations| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}),
    )
}

fn user_like() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..8).prop_map(|pairs| {
        let mut object: Map<String, Value> = pairs.into_iter().collect();
        object.insert("schemas".into(), json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT]));
        object.entry("userName").or_insert(json!("bjensen"));
        Value::Object(object)
    })
}

const DIALECTS: [Dialect; 3] = [Dialect::Entra, Dialect::Okta, Dialect::Generic];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn text_parsers_never_panic(text in "[ -~]{0,60}", path in path_text()) {
        let registry = SchemaRegistry::new();
        let schema = registry.for_resource_type("User");
        if let Ok(filter) = Filter::parse(&text) {
            let _ = check(&filter, &schema, UnknownAttributes::Reject);
            let _ = check(&filter, &schema, UnknownAttributes::TreatAsString);
        }
        let _ = AttrPath::parse(&text);
        let _ = PatchPath::parse(&path);
        let _ = PatchPath::parse_with_schemas(&path, |urn| urn.eq_ignore_ascii_case(ENT));
    }

    #[test]
    fn patch_never_panics(body in patch_body(), resource in user_like(), dialect in prop::sample::select(DIALECTS.to_vec())) {
        let registry = SchemaRegistry::new();
        for resource_type in ["User", "Group"] {
            let normalized = normalize_patch(dialect, &registry, resource_type, body.clone());
            if let Ok(mut request) = PatchRequest::parse(&normalized.body, &registry, resource_type) {
                let _ = request.take_member_operations();
                let stored = resource.as_object().cloned().unwrap_or_default();
                if let Ok(patched) = apply(&stored, &request, &registry, resource_type) {
                    let _ = validate(&registry, resource_type, &Value::Object(patched), Some(&stored), UnknownPolicy::Preserve);
                }
            }
        }
    }

    #[test]
    fn validation_projection_and_sorting_never_panic(
        resource in user_like(),
        other in user_like(),
        dialect in prop::sample::select(DIALECTS.to_vec()),
        selected in prop::collection::vec(path_text(), 0..3),
        sort_by in path_text(),
    ) {
        let registry = SchemaRegistry::new();
        let normalized = normalize_resource(dialect, &registry, "User", resource.clone());
        for policy in [UnknownPolicy::Strict, UnknownPolicy::Preserve] {
            let _ = validate(&registry, "User", &normalized.body, other.as_object(), policy);
        }
        let paths: Vec<AttrPath> = selected.iter().filter_map(|p| AttrPath::parse(p).ok()).collect();
        let object = resource.as_object().cloned().unwrap_or_default();
        for selection in [Selection::Default, Selection::Only(&paths), Selection::Excluding(&paths)] {
            let _ = project(&registry, "User", object.clone(), selection);
        }
        if let Ok(by) = AttrPath::parse(&sort_by) {
            let mut resources = vec![object, other.as_object().cloned().unwrap_or_default()];
            sort_resources(&registry, "User", &mut resources, &by, SortOrder::Descending);
        }
    }
}
