//! Properties of the dialect normalisers, checked over the whole table of cases in `cases`,
//! and the behaviours a table row cannot show (splitting, custom schemas, documentation).

use serde_json::{Value, json};

use super::cases::{ENT, Kind, USER, cases, normalize, patch};
use super::*;
use crate::filter::{CompValue, Filter};
use crate::path::PatchPath;
use crate::validate::{UnknownPolicy, validate};

#[test]
fn every_case_becomes_its_expected_body_and_reports_its_quirks() {
    for case in cases() {
        let out = normalize(case.dialect, case.kind, case.input.clone());
        assert_eq!(out.body, case.expected, "body of case: {}", case.name);
        assert_eq!(out.applied, case.applied, "applied quirks of case: {}", case.name);
    }
}

#[test]
fn every_listed_quirk_is_exercised_by_a_case_of_its_dialect() {
    let cases = cases();
    for dialect in Dialect::ALL {
        for quirk in dialect.quirks() {
            let exercised = cases.iter().any(|c| c.dialect == dialect && c.applied.contains(&quirk.name));
            assert!(exercised, "{dialect} quirk {} has no case", quirk.name);
        }
    }
}

#[test]
fn every_reported_quirk_is_listed_for_its_dialect() {
    for case in cases() {
        for name in case.applied {
            let listed = case.dialect.quirks().iter().any(|q| q.name == *name);
            assert!(listed, "case {} reports {name}, which {} does not list", case.name, case.dialect);
        }
    }
}

#[test]
fn normalising_a_normalised_body_changes_nothing() {
    for case in cases() {
        let again = normalize(case.dialect, case.kind, case.expected.clone());
        assert_eq!(again.body, case.expected, "second pass of case: {}", case.name);
        assert_eq!(again.applied, Vec::<&str>::new(), "second pass of case: {}", case.name);
    }
}

#[test]
fn generic_dialect_leaves_every_input_untouched() {
    for case in cases() {
        let out = normalize(Dialect::Generic, case.kind, case.input.clone());
        assert_eq!(out.body, case.input, "generic on case: {}", case.name);
        assert_eq!(out.applied, Vec::<&str>::new(), "generic on case: {}", case.name);
    }
}

#[test]
fn expected_bodies_are_rfc_input() {
    let registry = SchemaRegistry::new();
    for case in cases().into_iter().filter(|c| c.rfc_valid) {
        match case.kind {
            Kind::Resource(rt) => {
                let result = validate(&registry, rt, &case.expected, None, UnknownPolicy::Strict);
                assert!(result.is_ok(), "case {} does not validate: {:?}", case.name, result.err());
            }
            Kind::Patch(_) => assert_rfc_patch(case.name, &case.expected),
        }
    }
}

fn assert_rfc_patch(name: &str, body: &Value) {
    let ops = body["Operations"].as_array().unwrap();
    for op in ops {
        let op_name = op["op"].as_str().unwrap();
        assert!(["add", "remove", "replace"].contains(&op_name), "case {name}: op {op_name}");
        if let Some(path) = op.get("path") {
            let path = path.as_str().unwrap();
            assert!(PatchPath::parse(path).is_ok(), "case {name}: path {path}");
        }
    }
}

#[test]
fn entra_bodies_that_fail_strict_validation_pass_after_normalisation() {
    let registry = SchemaRegistry::new();
    let body = json!({
        "schemas": [USER, ENT],
        "userName": "bjensen",
        "active": "False",
        "emails": "b@x.org",
        ENT: { "manager": "123456" }
    });
    assert!(validate(&registry, "User", &body, None, UnknownPolicy::Strict).is_err());
    let out = normalize_resource(Dialect::Entra, &registry, "User", body);
    assert_eq!(out.applied, ["string_for_multi_valued", "string_for_complex", "string_booleans"]);
    let (valid, _) = validate(&registry, "User", &out.body, None, UnknownPolicy::Strict).unwrap();
    assert_eq!(valid.as_object()["active"], json!(false));
    assert_eq!(valid.as_object()[ENT]["manager"], json!({ "value": "123456" }));
}

#[test]
fn custom_extension_booleans_are_coerced_from_the_schema() {
    let acme = "urn:acme:params:scim:schemas:extension:2.0:User";
    let mut registry = SchemaRegistry::new();
    let schema = json!({ "id": acme, "attributes": [
        { "name": "remote", "type": "boolean" },
        { "name": "badge", "type": "string" }
    ] });
    registry.define_extension("User", &schema, false).unwrap();
    let body = json!({ "schemas": [USER, acme], "userName": "b", acme: { "remote": "True", "badge": "False" } });
    let out = normalize_resource(Dialect::Entra, &registry, "User", body);
    assert_eq!(out.body[acme], json!({ "remote": true, "badge": "False" }));
    let op = patch(json!([{ "op": "replace", "value": { format!("{acme}:remote"): "False" } }]));
    let out = normalize_patch(Dialect::Entra, &registry, "User", op);
    assert_eq!(out.body["Operations"][0]["value"], json!({ acme: { "remote": false } }));
    assert_eq!(out.applied, ["attribute_paths_as_value_keys", "string_booleans"]);
}

#[test]
fn a_removal_too_long_for_one_filter_is_split_into_several_that_remove_the_same_members() {
    let ids: Vec<String> = (0..400).map(|i| format!("00000000-0000-0000-0000-{i:012}")).collect();
    let listed: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    let body = patch(json!([{ "op": "Remove", "path": "members", "value": listed }]));
    let out = normalize_patch(Dialect::Entra, &SchemaRegistry::new(), "Group", body);
    let ops = out.body["Operations"].as_array().unwrap();
    assert!(ops.len() > 1);
    let mut removed = Vec::new();
    for op in ops {
        assert_eq!(op["op"], "remove");
        let path = op["path"].as_str().unwrap();
        assert!(path.len() <= crate::filter::ParseLimits::DEFAULT.max_len);
        let PatchPath::Value { filter, .. } = PatchPath::parse(path).unwrap() else {
            panic!("not a value path: {path}");
        };
        let Filter::Or(terms) = filter else { panic!("not an or-filter: {path}") };
        for term in terms {
            let Filter::Compare { value: CompValue::String(id), .. } = term else { panic!("unexpected term") };
            removed.push(id);
        }
    }
    assert_eq!(removed, ids);
}

#[test]
fn dialect_names_round_trip_and_ignore_case() {
    for dialect in Dialect::ALL {
        assert_eq!(Dialect::from_idp(dialect.as_str()), Some(dialect));
        assert_eq!(Dialect::from_idp(&dialect.as_str().to_ascii_uppercase()), Some(dialect));
        assert_eq!(dialect.to_string(), dialect.as_str());
    }
    assert_eq!(Dialect::from_idp("azure"), None);
    assert_eq!(Dialect::from_idp(""), None);
}

#[test]
fn quirk_documentation_is_one_line_each_with_a_web_source() {
    for dialect in Dialect::ALL {
        assert!(!dialect.description().contains('\n'), "{dialect} description");
        let mut names: Vec<&str> = dialect.quirks().iter().map(|q| q.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), dialect.quirks().len(), "{dialect} lists a quirk twice");
        for q in dialect.quirks() {
            assert!(!q.description.contains('\n'), "{dialect} {} description", q.name);
            assert!(q.source.starts_with("https://"), "{dialect} {} source", q.name);
        }
    }
    assert_eq!(Dialect::Generic.quirks(), &[]);
}

#[test]
fn markdown_lists_every_dialect_and_every_quirk_with_its_source() {
    let md = quirks_markdown();
    for dialect in Dialect::ALL {
        assert!(md.contains(&format!("| `{dialect}` | {} |", dialect.description())), "{dialect}");
        for q in dialect.quirks() {
            let row = format!("| `{dialect}` | `{}` | {} | <{}> |", q.name, q.description, q.source);
            assert!(md.contains(&row), "missing row: {row}");
        }
    }
    let quirk_rows: usize = Dialect::ALL.iter().map(|d| d.quirks().len()).sum();
    let table_rows = md.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(table_rows, Dialect::ALL.len() + quirk_rows);
}

#[test]
fn bodies_of_the_wrong_shape_are_returned_as_they_came() {
    let registry = SchemaRegistry::new();
    for body in
        [json!(null), json!([1, 2]), json!("x"), json!({ "Operations": "nope" }), json!({ "Operations": [1, "a"] })]
    {
        for dialect in Dialect::ALL {
            let out = normalize_patch(dialect, &registry, "Group", body.clone());
            assert_eq!(out.body, body);
            assert_eq!(out.applied, Vec::<&str>::new());
            let out = normalize_resource(dialect, &registry, "User", body.clone());
            assert_eq!(out.body, body);
        }
    }
}

#[test]
fn a_member_id_too_long_for_any_filter_leaves_the_removal_untouched() {
    let id = "x".repeat(crate::filter::ParseLimits::DEFAULT.max_len);
    let body = patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": id }] }]));
    let out = normalize_patch(Dialect::Entra, &SchemaRegistry::new(), "Group", body.clone());
    assert_eq!(out.body, body);
    assert_eq!(out.applied, Vec::<&str>::new());
}

#[test]
fn the_readme_shows_the_quirks_tables() {
    let readme = include_str!("../../../README.md");
    assert!(readme.contains(&quirks_markdown()), "README.md must contain these tables:\n{}\nEND", quirks_markdown());
}
