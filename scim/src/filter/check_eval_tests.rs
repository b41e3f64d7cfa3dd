//! Tests of `check` (schema rules) and `eval` (matching semantics).

use serde_json::{Value, json};

use super::Filter;
use super::check::{AttrType, CheckedFilter, CheckedNode, UnknownAttributes, check};
use super::eval::matches;
use super::test_schema::{ENTERPRISE, TestSchema};

fn checked(text: &str) -> CheckedFilter {
    check(
        &Filter::parse(text).unwrap(),
        &TestSchema,
        UnknownAttributes::Reject,
    )
    .unwrap()
}

fn check_error(text: &str) -> String {
    check(
        &Filter::parse(text).unwrap(),
        &TestSchema,
        UnknownAttributes::Reject,
    )
    .unwrap_err()
    .to_string()
}

fn babs() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "O'Malley"},
        "title": "",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"},
        ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Smith"}},
        "urn:example:params:scim:schemas:extension:acme:1.0:User": {"loginCount": 12, "score": 2.5}
    })
}

fn is_match(text: &str) -> bool {
    matches(&checked(text), &babs())
}

#[test]
fn an_unknown_attribute_is_rejected_naming_it() {
    assert_eq!(
        check_error(r#"nickname eq "x""#),
        "unknown attribute 'nickname' in filter"
    );
}

#[test]
fn an_unknown_attribute_is_accepted_as_a_string_when_permissive() {
    let filter = Filter::parse(r#"nickname eq "x""#).unwrap();
    let checked = check(&filter, &TestSchema, UnknownAttributes::TreatAsString).unwrap();
    assert!(!matches(&checked, &babs()));
}

#[test]
fn ordering_a_boolean_is_rejected() {
    assert_eq!(
        check_error("active gt true"),
        "operator 'gt' is not allowed on 'active', a boolean attribute"
    );
}

#[test]
fn contains_on_a_date_time_is_rejected() {
    assert_eq!(
        check_error(r#"meta.created co "2010""#),
        "operator 'co' is not allowed on 'meta.created', a dateTime attribute"
    );
}

#[test]
fn a_date_time_literal_must_be_rfc_3339() {
    assert_eq!(
        check_error(r#"meta.created gt "yesterday""#),
        "'meta.created' is a dateTime attribute and \"yesterday\" is not an RFC 3339 date-time"
    );
}

#[test]
fn a_number_compared_with_a_string_attribute_is_rejected() {
    assert_eq!(
        check_error("userName eq 12"),
        "'userName' is a string attribute and cannot be compared with 12"
    );
}

#[test]
fn a_value_filter_on_a_simple_attribute_is_rejected() {
    assert_eq!(
        check_error("userName[value pr]"),
        "'userName' is not a complex attribute, so it takes no value filter"
    );
}

#[test]
fn comparisons_carry_the_resolved_type_case_exactness_and_canonical_location() {
    let CheckedNode::Compare { target, .. } = checked(r#"EMAILS.VALUE eq "x""#).root().clone()
    else {
        panic!("expected a comparison");
    };
    assert_eq!(target.location.to_string(), "emails.value");
    assert_eq!(target.ty, AttrType::String);
    assert!(!target.case_exact);
    assert!(target.multi_valued);
}

#[test]
fn a_complex_attribute_compared_with_a_value_compares_its_value_sub_attribute() {
    let CheckedNode::Compare { target, .. } = checked(r#"emails co "example.com""#).root().clone()
    else {
        panic!("expected a comparison");
    };
    assert_eq!(target.location.to_string(), "emails.value");
}

#[test]
fn an_extension_attribute_is_located_under_its_urn() {
    let CheckedNode::Compare { target, .. } =
        checked(&format!(r#"{ENTERPRISE}:manager.value eq "26118915""#))
            .root()
            .clone()
    else {
        panic!("expected a comparison");
    };
    assert_eq!(target.location.keys(), vec![ENTERPRISE, "manager", "value"]);
}

#[test]
fn string_equality_ignores_case_unless_case_exact() {
    assert!(is_match(r#"userName eq "BJENSEN@example.com""#));
    assert!(!is_match(r#"id eq "2819C223-7F76-453A-919D-413861904646""#));
    assert!(is_match(r#"id eq "2819c223-7f76-453a-919d-413861904646""#));
}

#[test]
fn rfc_examples_match_the_example_user() {
    assert!(is_match(r#"name.familyName co "o'malley""#));
    assert!(is_match(r#"userName sw "b""#));
    assert!(is_match(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "B""#
    ));
    assert!(is_match(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
    assert!(!is_match(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
    assert!(is_match(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
    ));
    assert!(is_match(
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
    ));
    assert!(!is_match(
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
    ));
    assert!(is_match(
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
    ));
}

#[test]
fn date_times_compare_chronologically_across_offsets() {
    assert!(is_match(r#"meta.created eq "2010-01-23T06:56:22+02:00""#));
    assert!(is_match(r#"meta.created lt "2010-01-23T04:56:23.5Z""#));
}

#[test]
fn numbers_compare_numerically() {
    assert!(is_match(
        "urn:example:params:scim:schemas:extension:acme:1.0:User:loginCount gt 9"
    ));
    assert!(is_match("score ge 2.5 and score lt 10"));
}

#[test]
fn an_integral_decimal_literal_is_accepted_for_an_integer_attribute() {
    assert!(is_match("loginCount eq 1.2e1"));
    assert_eq!(
        check_error("loginCount eq 2.5"),
        "'loginCount' is an integer attribute and cannot be compared with 2.5"
    );
}

#[test]
fn booleans_compare_with_eq_and_ne() {
    assert!(is_match("active eq true"));
    assert!(is_match("active ne false"));
}

#[test]
fn present_excludes_null_empty_string_empty_array_and_absent() {
    assert!(is_match("userName pr"));
    assert!(!is_match("title pr"));
    assert!(!is_match("displayName pr"));
    let doc = json!({"userName": "x", "emails": [], "displayName": null});
    assert!(!matches(&checked("emails pr"), &doc));
    assert!(!matches(&checked("displayName pr"), &doc));
    assert!(matches(&checked("userName pr"), &doc));
    let hollow = json!({"name": {"givenName": null, "familyName": ""}});
    assert!(!matches(&checked("name pr"), &hollow));
}

#[test]
fn eq_null_means_not_present() {
    assert!(is_match("displayName eq null"));
    assert!(!is_match("userName eq null"));
    assert!(is_match("userName ne null"));
}

#[test]
fn ne_on_an_absent_attribute_does_not_match() {
    assert!(!is_match(r#"displayName ne "x""#));
}

#[test]
fn a_multi_valued_comparison_matches_if_any_value_matches() {
    assert!(is_match(r#"emails.type eq "home""#));
    assert!(is_match(r#"emails.value ew "jensen.org""#));
}

#[test]
fn a_value_filter_is_scoped_to_one_element() {
    // The work address is at example.com, the home address at jensen.org: no single
    // element is both "home" and at example.com, though the attribute has both.
    assert!(!is_match(
        r#"emails[type eq "home" and value co "example.com"]"#
    ));
    assert!(is_match(
        r#"emails.type eq "home" and emails.value co "example.com""#
    ));
    assert!(is_match(r#"emails[type eq "home" and value co "jensen"]"#));
}

#[test]
fn attribute_names_in_documents_are_matched_ignoring_case() {
    let doc = json!({"USERNAME": "alice"});
    assert!(matches(&checked(r#"userName eq "Alice""#), &doc));
}
