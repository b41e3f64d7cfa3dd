//! Every filter example of RFC 7644 §3.4.2.2 (the two case-insensitivity examples and the 17
//! of Figure 2) and every PATCH path example of §3.5.2 (Figure 8) and §3.5.2.2–§3.5.2.3,
//! copied from the RFC text (rfc7644.txt) with its line wraps joined by one space, each with
//! the tree the specification means.

use serde_json::json;

use super::check::{UnknownAttributes, check};
use super::eval::matches;
use super::test_schema::TestSchema;
use super::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, PatchPath};

fn path(text: &str) -> AttrPath {
    AttrPath::parse(text).unwrap()
}

fn cmp(attr: &str, op: CompareOp, value: &str) -> Filter {
    Filter::Compare { path: path(attr), op, value: CompValue::String(value.to_owned()) }
}

fn pr(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

fn value_path(attr: &str, filter: Filter) -> Filter {
    Filter::ValuePath { path: path(attr), filter: Box::new(filter) }
}

/// Parses `text`, checks it against `expected`, and checks the canonical print parses back.
fn assert_parses_to(text: &str, expected: &Filter) {
    let parsed = Filter::parse(text).unwrap();
    assert_eq!(&parsed, expected);
    assert_eq!(&Filter::parse(&parsed.to_string()).unwrap(), expected);
}

use CompareOp::{Co, Eq, Ge, Gt, Le, Lt, Ne, Sw};

#[test]
fn rfc7644_3_4_2_2_attribute_names_and_operators_are_case_insensitive() {
    // "the following two expressions will evaluate to the same logical value".
    let first = r#"userName Eq "john""#;
    let second = r#"Username eq "john""#;
    assert_parses_to(first, &cmp("userName", Eq, "john"));
    assert_parses_to(second, &cmp("Username", Eq, "john"));
    let Filter::Compare { path: other, .. } = Filter::parse(second).unwrap() else { panic!("expected a comparison") };
    assert!(path("userName").eq_ignore_case(&other));
    for (user, expected) in [(json!({"userName": "john"}), true), (json!({"userName": "bjensen"}), false)] {
        for text in [first, second] {
            let checked = check(&Filter::parse(text).unwrap(), &TestSchema, UnknownAttributes::Reject).unwrap();
            assert_eq!(matches(&checked, &user), expected, "{text} on {user}");
        }
    }
}

#[test]
fn rfc7644_3_4_2_2_username_eq_bjensen() {
    assert_parses_to(r#"userName eq "bjensen""#, &cmp("userName", Eq, "bjensen"));
}

#[test]
fn rfc7644_3_4_2_2_family_name_contains_o_malley() {
    assert_parses_to(r#"name.familyName co "O'Malley""#, &cmp("name.familyName", Co, "O'Malley"));
}

#[test]
fn rfc7644_3_4_2_2_username_starts_with_j() {
    assert_parses_to(r#"userName sw "J""#, &cmp("userName", Sw, "J"));
}

#[test]
fn rfc7644_3_4_2_2_fully_qualified_username_starts_with_j() {
    assert_parses_to(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        &cmp("urn:ietf:params:scim:schemas:core:2.0:User:userName", Sw, "J"),
    );
}

#[test]
fn rfc7644_3_4_2_2_title_present() {
    assert_parses_to("title pr", &pr("title"));
}

#[test]
fn rfc7644_3_4_2_2_last_modified_gt_ge_lt_le() {
    for (op, text) in [
        (Gt, r#"meta.lastModified gt "2011-05-13T04:42:34Z""#),
        (Ge, r#"meta.lastModified ge "2011-05-13T04:42:34Z""#),
        (Lt, r#"meta.lastModified lt "2011-05-13T04:42:34Z""#),
        (Le, r#"meta.lastModified le "2011-05-13T04:42:34Z""#),
    ] {
        assert_parses_to(text, &cmp("meta.lastModified", op, "2011-05-13T04:42:34Z"));
    }
}

#[test]
fn rfc7644_3_4_2_2_title_present_and_user_type_employee() {
    assert_parses_to(
        r#"title pr and userType eq "Employee""#,
        &Filter::And(vec![pr("title"), cmp("userType", Eq, "Employee")]),
    );
}

#[test]
fn rfc7644_3_4_2_2_title_present_or_user_type_intern() {
    assert_parses_to(
        r#"title pr or userType eq "Intern""#,
        &Filter::Or(vec![pr("title"), cmp("userType", Eq, "Intern")]),
    );
}

#[test]
fn rfc7644_3_4_2_2_schemas_eq_enterprise_urn() {
    assert_parses_to(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        &cmp("schemas", Eq, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
    );
}

#[test]
fn rfc7644_3_4_2_2_employee_and_parenthesised_or_of_emails() {
    assert_parses_to(
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        &Filter::And(vec![
            cmp("userType", Eq, "Employee"),
            Filter::Or(vec![cmp("emails", Co, "example.com"), cmp("emails.value", Co, "example.org")]),
        ]),
    );
}

#[test]
fn rfc7644_3_4_2_2_not_employee_and_not_of_emails() {
    let expected = Filter::And(vec![
        cmp("userType", Ne, "Employee"),
        Filter::Not(Box::new(Filter::Or(vec![
            cmp("emails", Co, "example.com"),
            cmp("emails.value", Co, "example.org"),
        ]))),
    ]);
    assert_parses_to(
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        &expected,
    );
    // Erratum 7319 (reported): the ABNF `*1"not" "("` has no SP, this example has one.
    // Both spellings are accepted.
    assert_parses_to(
        r#"userType ne "Employee" and not(emails co "example.com" or emails.value co "example.org")"#,
        &expected,
    );
}

#[test]
fn rfc7644_3_4_2_2_employee_and_parenthesised_email_type() {
    assert_parses_to(
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        &Filter::And(vec![cmp("userType", Eq, "Employee"), cmp("emails.type", Eq, "work")]),
    );
}

#[test]
fn rfc7644_3_4_2_2_employee_and_work_email_value_path() {
    assert_parses_to(
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        &Filter::And(vec![
            cmp("userType", Eq, "Employee"),
            value_path("emails", Filter::And(vec![cmp("type", Eq, "work"), cmp("value", Co, "@example.com")])),
        ]),
    );
}

#[test]
fn rfc7644_3_4_2_2_work_email_or_xmpp_ims_value_paths() {
    assert_parses_to(
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        &Filter::Or(vec![
            value_path("emails", Filter::And(vec![cmp("type", Eq, "work"), cmp("value", Co, "@example.com")])),
            value_path("ims", Filter::And(vec![cmp("type", Eq, "xmpp"), cmp("value", Co, "@foo.com")])),
        ]),
    );
}

#[test]
fn rfc7644_3_5_2_patch_path_members_is_an_attribute_path() {
    assert_eq!(PatchPath::parse("members").unwrap(), PatchPath::Attr(path("members")));
}

#[test]
fn rfc7644_3_5_2_patch_path_name_family_name_is_a_sub_attribute_path() {
    assert_eq!(PatchPath::parse("name.familyName").unwrap(), PatchPath::Attr(path("name.familyName")));
}

#[test]
fn rfc7644_3_5_2_patch_path_addresses_of_type_work() {
    assert_eq!(
        PatchPath::parse(r#"addresses[type eq "work"]"#).unwrap(),
        PatchPath::Value { attr: path("addresses"), filter: cmp("type", Eq, "work"), sub_attr: None }
    );
}

#[test]
fn rfc7644_3_5_2_patch_path_member_by_value() {
    assert_eq!(
        PatchPath::parse(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap(),
        PatchPath::Value {
            attr: path("members"),
            filter: cmp("value", Eq, "2819c223-7f76-453a-919d-413861904646"),
            sub_attr: None,
        }
    );
}

#[test]
fn rfc7644_3_5_2_patch_path_member_display_name_by_value() {
    let text = r#"members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName"#;
    let parsed = PatchPath::parse(text).unwrap();
    assert_eq!(
        parsed,
        PatchPath::Value {
            attr: path("members"),
            filter: cmp("value", Eq, "2819c223-7f76-453a-919d-413861904646"),
            sub_attr: Some("displayName".to_owned()),
        }
    );
    assert_eq!(parsed.to_string(), text);
}

#[test]
fn rfc7644_3_5_2_2_patch_remove_path_work_email_ending_in_example_com() {
    assert_eq!(
        PatchPath::parse(r#"emails[type eq "work" and value ew "example.com"]"#).unwrap(),
        PatchPath::Value {
            attr: path("emails"),
            filter: Filter::And(vec![cmp("type", Eq, "work"), cmp("value", CompareOp::Ew, "example.com"),]),
            sub_attr: None,
        }
    );
}

#[test]
fn rfc7644_3_5_2_2_patch_remove_path_member_by_value_without_space_after_eq() {
    // As printed in the remove-and-add example: no SP between `eq` and the value.
    assert_eq!(
        PatchPath::parse(r#"members[value eq"2819c223...919d-413861904646"]"#).unwrap(),
        PatchPath::Value {
            attr: path("members"),
            filter: cmp("value", Eq, "2819c223...919d-413861904646"),
            sub_attr: None,
        }
    );
}

#[test]
fn rfc7644_3_5_2_3_patch_replace_path_work_street_address() {
    assert_eq!(
        PatchPath::parse(r#"addresses[type eq "work"].streetAddress"#).unwrap(),
        PatchPath::Value {
            attr: path("addresses"),
            filter: cmp("type", Eq, "work"),
            sub_attr: Some("streetAddress".to_owned()),
        }
    );
}

#[test]
fn rfc7644_3_5_2_patch_path_bare_extension_urn_is_a_schema_when_known() {
    let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(
        PatchPath::parse_with_schemas(urn, |u| u.eq_ignore_ascii_case(urn)).unwrap(),
        PatchPath::Schema(urn.to_owned())
    );
    assert_eq!(
        PatchPath::parse_with_schemas(&format!("{urn}:manager"), |u| u.eq_ignore_ascii_case(urn)).unwrap(),
        PatchPath::Attr(path(&format!("{urn}:manager")))
    );
}
