//! Property tests of PATCH application over generated `add`/`replace`/`remove` operations
//! on a User: an operation (and a request whose operations touch different attributes)
//! applied twice leaves the state of applying it once, multi-valued attributes keep their
//! invariants, and a failure names an operation of the request.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::schema::SchemaRegistry;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn start() -> impl Strategy<Value = Map<String, Value>> {
    let plain = json!({"schemas": [USER], "userName": "bjensen"});
    let full = json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "bjensen",
        "displayName": "Babs",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "a@x.org", "type": "work", "primary": true},
            {"value": "b@x.org", "type": "home"},
            {"value": "c@x.org", "type": "work"}
        ],
        ENTERPRISE: {"department": "Tour", "manager": {"value": "9"}}
    });
    prop_oneof![Just(plain), Just(full)].prop_map(|v| v.as_object().cloned().unwrap_or_default())
}

fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["Babs", "Barbara", "B"])
}

fn address() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a@x.org", "b@x.org", "c@x.org"])
}

fn kind() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["add", "replace", "Add", "Replace"])
}

fn email_type() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["work", "home"])
}

fn email() -> impl Strategy<Value = Value> {
    (address(), email_type(), prop::option::of(any::<bool>())).prop_map(|(value, ty, primary)| {
        let mut email = json!({"value": value, "type": ty});
        if let (Some(primary), Some(obj)) = (primary, email.as_object_mut()) {
            obj.insert("primary".to_owned(), json!(primary));
        }
        email
    })
}

/// One generated operation and the attribute it touches. Operations on different
/// attributes do not see each other's values.
fn operation() -> impl Strategy<Value = (&'static str, Value)> {
    let department = format!("{ENTERPRISE}:department");
    let manager = format!("{ENTERPRISE}:manager");
    let writes = prop_oneof![
        (kind(), word()).prop_map(|(op, w)| ("displayName", json!({"op": op, "path": "displayName", "value": w}))),
        (kind(), any::<bool>()).prop_map(|(op, b)| ("active", json!({"op": op, "path": "active", "value": b}))),
        (kind(), word()).prop_map(|(op, w)| ("name", json!({"op": op, "path": "name.givenName", "value": w}))),
        (kind(), word()).prop_map(|(op, w)| ("name", json!({"op": op, "path": "name", "value": {"familyName": w}}))),
        (kind(), prop::collection::vec(email(), 0..3))
            .prop_map(|(op, emails)| ("emails", json!({"op": op, "path": "emails", "value": emails}))),
        (kind(), email()).prop_map(|(op, email)| ("emails", json!({"op": op, "path": "emails", "value": email}))),
        (kind(), email_type(), address()).prop_map(|(op, ty, value)| {
            ("emails", json!({"op": op, "path": format!("emails[type eq \"{ty}\"].value"), "value": value}))
        }),
        (kind(), email_type(), any::<bool>()).prop_map(|(op, ty, primary)| {
            ("emails", json!({"op": op, "path": format!("emails[type eq \"{ty}\"].primary"), "value": primary}))
        }),
        (kind(), email_type(), address()).prop_map(|(op, ty, value)| {
            let path = format!("emails[type eq \"{ty}\"]");
            ("emails", json!({"op": op, "path": path, "value": {"type": ty, "value": value}}))
        }),
        (kind(), word()).prop_map(move |(op, w)| ("enterprise", json!({"op": op, "path": department, "value": w}))),
        (kind(), word())
            .prop_map(move |(op, w)| ("enterprise", json!({"op": op, "path": manager, "value": {"value": w}}))),
        (kind(), word()).prop_map(|(op, w)| {
            ("enterprise", json!({"op": op, "value": {format!("{ENTERPRISE}:costCenter"): w}}))
        }),
        (kind(), word()).prop_map(|(op, w)| ("pathless", json!({"op": op, "value": {"nickName": w, "TITLE": w}}))),
    ];
    let removes = prop_oneof![
        Just(("displayName", "displayName".to_owned())),
        Just(("name", "name.givenName".to_owned())),
        Just(("emails", "emails".to_owned())),
        email_type().prop_map(|ty| ("emails", format!("emails[type eq \"{ty}\"]"))),
        address().prop_map(|value| ("emails", format!("emails[value eq \"{value}\"]"))),
        email_type().prop_map(|ty| ("emails", format!("emails[type eq \"{ty}\"].primary"))),
        Just(("enterprise", ENTERPRISE.to_owned())),
        Just(("enterprise", format!("{ENTERPRISE}:department"))),
        Just(("enterprise", format!("{ENTERPRISE}:manager.value"))),
    ]
    .prop_map(|(key, path)| (key, json!({"op": "remove", "path": path})));
    prop_oneof![3 => writes, 1 => removes]
}

/// Up to five operations, at most one per attribute.
fn distinct_operations() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(operation(), 1..6).prop_map(|ops| {
        let mut seen = Vec::new();
        ops.into_iter()
            .filter(|(key, _)| {
                let first = !seen.contains(key);
                seen.push(*key);
                first
            })
            .map(|(_, op)| op)
            .collect()
    })
}

/// Up to five operations on any attributes.
fn any_operations() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(operation().prop_map(|(_, op)| op), 1..6)
}

fn request(operations: Vec<Value>) -> PatchRequest {
    let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
    PatchRequest::parse(&body, &SchemaRegistry::new(), "User").unwrap()
}

fn multi_valued_invariants_hold(resource: &Map<String, Value>) -> Result<(), String> {
    let Some(emails) = resource.get("emails") else {
        return Ok(());
    };
    let emails = emails.as_array().ok_or("emails is not an array")?;
    if emails.is_empty() {
        return Err("emails is an empty array instead of absent".to_owned());
    }
    let primaries = emails.iter().filter(|e| e["primary"] == json!(true)).count();
    if primaries > 1 {
        return Err(format!("{primaries} primary emails"));
    }
    let without_primary = |e: &Value| {
        let mut e = e.clone();
        if let Some(obj) = e.as_object_mut() {
            obj.remove("primary");
        }
        e
    };
    for (i, a) in emails.iter().enumerate() {
        if emails[..i].iter().any(|b| without_primary(a) == without_primary(b)) {
            return Err(format!("duplicate email {a}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn applying_one_operation_twice_leaves_the_state_of_applying_it_once(
        start in start(),
        (_, operation) in operation(),
    ) {
        let registry = SchemaRegistry::new();
        let request = request(vec![operation]);
        if let Ok(once) = apply(&start, &request, &registry, "User") {
            let twice = apply(&once, &request, &registry, "User");
            prop_assert_eq!(twice, Ok(once));
        }
    }

    // Operations run in sequence (RFC 7644 §3.5.2), so a request is idempotent when its
    // operations touch different attributes. It need not be otherwise: in
    // `[add emails[type eq "work"].display, add emails {"type": "work", …}]` the second run
    // gives the email added by the first run a display name.
    #[test]
    fn applying_a_request_on_distinct_attributes_twice_leaves_the_state_of_applying_it_once(
        start in start(),
        operations in distinct_operations(),
    ) {
        let registry = SchemaRegistry::new();
        let request = request(operations);
        if let Ok(once) = apply(&start, &request, &registry, "User") {
            let twice = apply(&once, &request, &registry, "User");
            prop_assert_eq!(twice, Ok(once));
        }
    }

    #[test]
    fn every_write_leaves_at_most_one_primary_no_duplicates_and_schemas_in_line(
        start in start(),
        operations in any_operations(),
    ) {
        let registry = SchemaRegistry::new();
        // Only writes settle a multi-valued attribute; a `remove` of a sub-attribute may
        // leave two values equal, which the next write of the attribute folds.
        let writes: Vec<Value> = operations.into_iter().filter(|op| op["op"] != "remove").collect();
        prop_assume!(!writes.is_empty());
        if let Ok(out) = apply(&start, &request(writes), &registry, "User") {
            prop_assert_eq!(multi_valued_invariants_hold(&out), Ok(()));
            let schemas = out.get("schemas").cloned().unwrap_or_default();
            let has_extension = out.get(ENTERPRISE).is_some();
            let lists_extension = schemas.as_array().is_some_and(|s| s.contains(&json!(ENTERPRISE)));
            prop_assert_eq!(has_extension, lists_extension);
        }
    }

    #[test]
    fn a_request_that_fails_names_an_operation_within_it(
        start in start(),
        operations in any_operations(),
    ) {
        let registry = SchemaRegistry::new();
        let count = operations.len();
        if let Err(err) = apply(&start, &request(operations), &registry, "User") {
            let number: Option<usize> = err
                .detail()
                .strip_prefix("operation ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok());
            prop_assert!(number.is_some_and(|n| (1..=count).contains(&n)), "{}", err.detail());
        }
    }
}
