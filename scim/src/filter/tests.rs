//! Precedence, literals, errors, limits and round-trip properties of the filter parser.

use proptest::prelude::*;

use super::{CompValue, CompareOp, Filter, ParseLimits};
use crate::path::AttrPath;

fn pr(attr: &str) -> Filter {
    Filter::Present(AttrPath::parse(attr).unwrap())
}

fn eq_num(attr: &str, value: serde_json::Number) -> Filter {
    Filter::Compare { path: AttrPath::parse(attr).unwrap(), op: CompareOp::Eq, value: CompValue::Number(value) }
}

fn error_of(text: &str) -> String {
    Filter::parse(text).unwrap_err().to_string()
}

#[test]
fn and_binds_tighter_than_or_on_the_left() {
    assert_eq!(
        Filter::parse("a pr and b pr or c pr").unwrap(),
        Filter::Or(vec![Filter::And(vec![pr("a"), pr("b")]), pr("c")])
    );
}

#[test]
fn and_binds_tighter_than_or_on_the_right() {
    assert_eq!(
        Filter::parse("a pr or b pr and c pr").unwrap(),
        Filter::Or(vec![pr("a"), Filter::And(vec![pr("b"), pr("c")])])
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        Filter::parse("a pr and (b pr or c pr)").unwrap(),
        Filter::And(vec![pr("a"), Filter::Or(vec![pr("b"), pr("c")])])
    );
}

#[test]
fn chains_of_the_same_operator_are_one_n_ary_node() {
    assert_eq!(
        Filter::parse("a pr or b pr or c pr and d pr and e pr").unwrap(),
        Filter::Or(vec![pr("a"), pr("b"), Filter::And(vec![pr("c"), pr("d"), pr("e")]),])
    );
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        Filter::parse("NOT (a PR) AND b Pr OR c pR").unwrap(),
        Filter::Or(vec![Filter::And(vec![Filter::Not(Box::new(pr("a"))), pr("b")]), pr("c"),])
    );
}

#[test]
fn explicit_grouping_of_the_same_operator_is_kept_and_printed() {
    let filter = Filter::parse("(a pr or b pr) or c pr").unwrap();
    assert_eq!(filter, Filter::Or(vec![Filter::Or(vec![pr("a"), pr("b")]), pr("c")]));
    assert_eq!(filter.to_string(), "(a pr or b pr) or c pr");
}

#[test]
fn canonical_print_uses_lower_case_and_minimal_parentheses() {
    let filter = Filter::parse(r#"(A Eq "x" AND b pr) OR NOT (c Gt 1)"#).unwrap();
    assert_eq!(filter.to_string(), r#"A eq "x" and b pr or not (c gt 1)"#);
}

#[test]
fn literals_true_false_null_are_case_insensitive_and_print_lower_case() {
    let filter = Filter::parse("a eq TRUE or b eq False or c eq null").unwrap();
    assert_eq!(filter.to_string(), "a eq true or b eq false or c eq null");
}

#[test]
fn numbers_keep_integer_and_decimal_forms() {
    assert_eq!(Filter::parse("a eq -42").unwrap(), eq_num("a", (-42).into()));
    assert_eq!(Filter::parse("a eq 2.5e3").unwrap(), eq_num("a", serde_json::Number::from_f64(2500.0).unwrap()));
}

#[test]
fn an_attribute_may_be_named_like_a_keyword() {
    assert_eq!(Filter::parse("not pr and and eq 1").unwrap(), Filter::And(vec![pr("not"), eq_num("and", 1.into())]));
}

#[test]
fn a_misspelt_operator_is_reported_at_its_column() {
    assert_eq!(
        error_of(r#"userName eqq "bjensen""#),
        r#"expected a comparison operator at column 10: userName eqq "bjensen""#
    );
}

#[test]
fn a_missing_value_is_reported_at_the_end() {
    assert_eq!(
        error_of("userName eq"),
        "expected a value (a string, number, true, false or null) but the filter ended \
         at column 12: userName eq"
    );
}

#[test]
fn a_bare_word_value_is_rejected_at_its_column() {
    assert_eq!(Filter::parse("userName eq bjensen").unwrap_err().column(), 13);
}

#[test]
fn an_unclosed_parenthesis_is_reported_at_the_end() {
    let err = Filter::parse(r#"(userName eq "a""#).unwrap_err();
    assert_eq!(err.message(), "expected ')'");
    assert_eq!(err.column(), 17);
}

#[test]
fn an_unbalanced_closing_parenthesis_is_reported() {
    let err = Filter::parse(r#"userName eq "a")"#).unwrap_err();
    assert_eq!(err.message(), "unbalanced ')' with no matching '('");
    assert_eq!(err.column(), 16);
}

#[test]
fn an_unclosed_bracket_is_reported() {
    assert_eq!(Filter::parse(r#"emails[type eq "work""#).unwrap_err().message(), "expected ']'");
}

#[test]
fn not_requires_parentheses() {
    let err = Filter::parse(r#"not userName eq "a""#).unwrap_err();
    assert_eq!(err.message(), "expected '(' after 'not'");
    assert_eq!(err.column(), 5);
}

#[test]
fn value_filters_do_not_nest() {
    let err = Filter::parse("emails[type[x pr]]").unwrap_err();
    assert_eq!(err.message(), "a value filter cannot contain another value filter");
    assert_eq!(err.column(), 12);
}

#[test]
fn a_sub_attribute_after_brackets_is_rejected_in_filters() {
    assert_eq!(Filter::parse(r#"emails[type eq "work"].value co "x""#).unwrap_err().column(), 23);
}

#[test]
fn a_value_filter_on_a_sub_attribute_is_rejected() {
    assert_eq!(
        Filter::parse("name.givenName[x pr]").unwrap_err().message(),
        "a value filter applies to an attribute, not a sub-attribute"
    );
}

#[test]
fn two_values_in_a_row_are_rejected() {
    assert_eq!(
        error_of(r#"a eq "x" "y""#),
        r#"expected 'and', 'or' or the end of the filter at column 10: a eq "x" "y""#
    );
}

#[test]
fn an_empty_filter_is_rejected() {
    assert_eq!(Filter::parse("").unwrap_err().column(), 1);
    assert_eq!(Filter::parse("a pr and").unwrap_err().column(), 9);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
    let limits = ParseLimits { max_len: usize::MAX, ..ParseLimits::DEFAULT };
    let err = Filter::parse_with_limits(&text, limits).unwrap_err();
    assert_eq!(err.message(), "filter nests deeper than 32 levels");
    assert_eq!(err.offset(), 32);
    let nots = format!("{}a pr{}", "not (".repeat(1000), ")".repeat(1000));
    assert!(Filter::parse(&nots).is_err());
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let text = format!("{}a pr{}", "(".repeat(32), ")".repeat(32));
    assert_eq!(Filter::parse(&text).unwrap(), pr("a"));
}

#[test]
fn overlong_input_is_rejected_before_lexing() {
    let text = format!(r#"a eq "{}""#, "x".repeat(9000));
    assert_eq!(Filter::parse(&text).unwrap_err().message(), "filter is longer than 8192 bytes");
}

#[test]
fn the_caret_form_points_under_the_column() {
    let err = Filter::parse(r#"userName eqq "bjensen""#).unwrap_err();
    assert_eq!(err.caret(), "userName eqq \"bjensen\"\n         ^ expected a comparison operator");
}

#[test]
fn patch_path_errors_point_into_the_whole_path() {
    let err = crate::path::PatchPath::parse(r#"members[value eq]"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a value (a string, number, true, false or null) at column 17: members[value eq]"
    );
    let err = crate::path::PatchPath::parse(r#"emails[type eq "work"].1x"#).unwrap_err();
    assert_eq!(err.to_string(), r#"expected a sub-attribute name at column 24: emails[type eq "work"].1x"#);
    let err = crate::path::PatchPath::parse("name.given name").unwrap_err();
    assert_eq!(err.to_string(), "expected the end of the path at column 12: name.given name");
}

#[test]
fn columns_count_characters_in_non_ascii_input() {
    let err = Filter::parse(r#"a eq "é" b"#).unwrap_err();
    assert_eq!(err.column(), 10);
}

// ---- properties ----

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
        1 => Just("$ref".to_owned()),
        1 => prop::sample::select(vec!["and", "or", "not", "pr", "eq", "true", "null"])
            .prop_map(str::to_owned),
    ]
    .prop_filter("$ref is a sub-attribute", |n| n != "$ref")
}

fn sub_name() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
        1 => Just("$ref".to_owned()),
    ]
}

fn uri() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.2,
        prop::sample::select(vec![
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:example:custom-1.0",
        ])
        .prop_map(str::to_owned),
    )
}

fn attr_path(with_sub: bool) -> impl Strategy<Value = AttrPath> {
    let sub = if with_sub { prop::option::of(sub_name()).boxed() } else { Just(None).boxed() };
    (uri(), name(), sub).prop_map(|(uri, name, sub)| AttrPath::new(uri.as_deref(), &name, sub.as_deref()).unwrap())
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", serde_json::Number::from_f64).prop_map(CompValue::Number),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        attr_path(true).prop_map(Filter::Present),
        (attr_path(true), prop::sample::select(CompareOp::ALL.to_vec()), comp_value())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
    ]
}

fn combine(inner: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    prop_oneof![
        prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
        prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
        inner.prop_map(|f| Filter::Not(Box::new(f))),
    ]
    .boxed()
}

/// Filters allowed inside brackets: no value paths.
fn val_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 16, 3, |inner| combine(inner.boxed()))
}

pub(crate) fn filter() -> impl Strategy<Value = Filter> {
    let value_path =
        (attr_path(false), val_filter()).prop_map(|(path, f)| Filter::ValuePath { path, filter: Box::new(f) });
    prop_oneof![3 => leaf(), 1 => value_path].prop_recursive(3, 24, 3, |inner| combine(inner.boxed()))
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_back_the_same_filter(f in filter()) {
        let printed = f.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(f), "printed: {}", printed);
    }

    #[test]
    fn patch_paths_print_and_parse_back(
        attr in attr_path(false),
        f in val_filter(),
        sub in prop::option::of(sub_name()),
    ) {
        let path = crate::path::PatchPath::Value { attr, filter: f, sub_attr: sub };
        let printed = path.to_string();
        prop_assert_eq!(crate::path::PatchPath::parse(&printed), Ok(path), "printed: {}", printed);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Filter::parse(&text);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "(", ")", "[", "]", ".", "not", "and", "or", "pr", "eq", "gt", "a", "b.c", "urn:x:y",
        "\"s\"", "\"\\u00\"", "1", "-", "-1.5e3", "true", "null", " ", "\"", "\\", "é",
    ]), 0..40)) {
        let text: String = parts.concat();
        let _ = Filter::parse(&text);
        let _ = crate::path::PatchPath::parse(&text);
    }
}

#[test]
fn a_filter_syntax_error_becomes_invalid_filter_naming_the_column() {
    let err: crate::error::ScimError = Filter::parse(r#"userName eqq "bjensen""#).unwrap_err().into();
    assert_eq!(err.status(), 400);
    assert_eq!(err.scim_type(), Some("invalidFilter"));
    assert_eq!(err.detail(), r#"expected a comparison operator at column 10: userName eqq "bjensen""#);
}

#[test]
fn a_patch_path_error_becomes_invalid_path() {
    let err: crate::error::ScimError = crate::path::PatchPath::parse("members[").unwrap_err().into();
    assert_eq!(err.scim_type(), Some("invalidPath"));
}

#[test]
fn a_filter_with_too_many_comparisons_or_value_filters_is_refused() {
    let limits = ParseLimits { max_clauses: 3, max_value_paths: 1, ..ParseLimits::DEFAULT };
    let three = r#"userName eq "a" or userName eq "b" or title pr"#;
    assert!(Filter::parse_with_limits(three, limits).is_ok());
    let four = r#"userName eq "a" or userName eq "b" or title pr or nickName pr"#;
    let error = Filter::parse_with_limits(four, limits).unwrap_err();
    assert!(error.to_string().contains("more than 3 comparisons"), "{error}");
    // Comparisons inside value filters count too.
    let inside = r#"emails[type eq "work" and value co "@" and primary eq true] and userName pr"#;
    let error = Filter::parse_with_limits(inside, limits).unwrap_err();
    assert!(error.to_string().contains("more than 3 comparisons"), "{error}");
    let two_paths = r#"emails[type eq "work"] or addresses[type eq "home"]"#;
    let error = Filter::parse_with_limits(two_paths, limits).unwrap_err();
    assert!(error.to_string().contains("more than 1 value filters"), "{error}");
}
