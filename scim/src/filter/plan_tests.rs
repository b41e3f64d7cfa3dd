//! Tests of `plan`: the shapes a renderer sees, and a property test that an in-memory
//! interpreter of the plan agrees with `eval` on schema-conformant documents.
//!
//! The interpreter reuses `eval`'s comparison of one stored value with one literal, so the
//! property checks the translation's structure (columns, JSON paths, `Any` scoping, `Not`
//! over missing values, `eq null`), not the string/number/date comparisons themselves.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::CompareOp;
use super::Filter;
use super::check::{AttrType, CheckedFilter, Location, TypedValue, UnknownAttributes, check};
use super::eval::{compare_one, get_key, is_present, matches};
use super::plan::{BindValue, IndexedColumns, Operand, Plan, Predicate, Test, plan};
use super::test_schema::{CUSTOM, ENTERPRISE, TestSchema};

fn columns() -> IndexedColumns {
    [
        ("id", "id"),
        ("externalId", "external_id"),
        ("userName", "user_name"),
        ("displayName", "display_name"),
        ("meta.created", "created"),
        ("meta.lastModified", "last_modified"),
        ("active", "active"),
    ]
    .into_iter()
    .try_fold(IndexedColumns::new(), |cols, (path, col)| cols.with(path, col))
    .unwrap()
}

/// Column name -> location, as the storage layer would fill the columns.
fn column_location(column: &str) -> Location {
    let (attr, sub) = match column {
        "id" => ("id", None),
        "external_id" => ("externalId", None),
        "user_name" => ("userName", None),
        "display_name" => ("displayName", None),
        "created" => ("meta", Some("created")),
        "last_modified" => ("meta", Some("lastModified")),
        "active" => ("active", None),
        other => panic!("unknown column {other}"),
    };
    Location { extension: None, attr: attr.to_owned(), sub: sub.map(str::to_owned) }
}

fn checked(text: &str) -> CheckedFilter {
    check(&Filter::parse(text).unwrap(), &TestSchema, UnknownAttributes::Reject).unwrap()
}

fn planned(text: &str) -> Plan {
    plan(&checked(text), &columns())
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

fn walk<'v>(from: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut here = from;
    for key in path {
        here = get_key(here, key)?;
    }
    (!here.is_null()).then_some(here)
}

/// Interprets `plan` over `doc` the way a SQL renderer must (two-valued predicates).
fn interpret(plan: &Plan, doc: &Value, element: Option<&Value>) -> bool {
    match plan {
        Plan::And(children) => children.iter().all(|c| interpret(c, doc, element)),
        Plan::Or(children) => children.iter().any(|c| interpret(c, doc, element)),
        Plan::Not(inner) => !interpret(inner, doc, element),
        Plan::Any { array, element: inner } => {
            let items: Vec<&Value> = match walk(doc, array) {
                None => Vec::new(),
                Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
                Some(single) => vec![single],
            };
            items.into_iter().any(|e| interpret(inner, doc, Some(e)))
        }
        Plan::Predicate(Predicate { operand, test }) => {
            let value = match operand {
                Operand::Column(c) => {
                    let loc = column_location(c);
                    let path: Vec<String> = loc.keys().into_iter().map(str::to_owned).collect();
                    walk(doc, &path)
                }
                Operand::Json(path) => walk(doc, path),
                Operand::Element(path) => element.and_then(|e| walk(e, path)),
            };
            let Some(value) = value else {
                return false;
            };
            match test {
                Test::Present => is_present(value),
                Test::Compare { op, value: bind, case_exact } => {
                    let (ty, literal) = match bind {
                        BindValue::Text(s) => (AttrType::String, TypedValue::String(s.clone())),
                        BindValue::Integer(i) => (AttrType::Integer, TypedValue::Integer(*i)),
                        BindValue::Decimal(d) => (AttrType::Decimal, TypedValue::Decimal(*d)),
                        BindValue::Boolean(b) => (AttrType::Boolean, TypedValue::Boolean(*b)),
                        BindValue::DateTime(d) => (AttrType::DateTime, TypedValue::DateTime(d.fixed_offset())),
                    };
                    compare_one(value, ty, *case_exact, *op, &literal)
                }
            }
        }
    }
}

#[test]
fn an_indexed_single_valued_attribute_becomes_a_column_predicate() {
    assert_eq!(
        planned(r#"userName eq "bjensen""#),
        Plan::Predicate(Predicate {
            operand: Operand::Column("user_name".to_owned()),
            test: Test::Compare { op: CompareOp::Eq, value: BindValue::Text("bjensen".to_owned()), case_exact: false },
        })
    );
}

#[test]
fn a_date_time_literal_is_bound_in_utc() {
    let Plan::Predicate(Predicate { operand, test }) = planned(r#"meta.lastModified gt "2011-05-13T06:42:34+02:00""#)
    else {
        panic!("expected a predicate");
    };
    assert_eq!(operand, Operand::Column("last_modified".to_owned()));
    let Test::Compare { value: BindValue::DateTime(d), .. } = test else {
        panic!("expected a dateTime comparison");
    };
    assert_eq!(d.to_rfc3339(), "2011-05-13T04:42:34+00:00");
}

#[test]
fn an_unindexed_extension_attribute_becomes_a_json_path_under_its_urn() {
    let Plan::Predicate(Predicate { operand, .. }) = planned(r#"manager.value eq "m1""#) else {
        panic!("expected a predicate");
    };
    assert_eq!(operand, Operand::Json(keys(&[ENTERPRISE, "manager", "value"])));
}

#[test]
fn a_multi_valued_comparison_becomes_any_over_the_elements_sub_attribute() {
    assert_eq!(
        planned(r#"emails co "example.com""#),
        Plan::Any {
            array: keys(&["emails"]),
            element: Box::new(Plan::Predicate(Predicate {
                operand: Operand::Element(keys(&["value"])),
                test: Test::Compare {
                    op: CompareOp::Co,
                    value: BindValue::Text("example.com".to_owned()),
                    case_exact: false,
                },
            })),
        }
    );
}

#[test]
fn a_value_path_becomes_one_any_whose_element_plan_holds_the_whole_inner_filter() {
    let Plan::Any { array, element } = planned(r#"emails[type eq "work" and value pr]"#) else {
        panic!("expected Any");
    };
    assert_eq!(array, keys(&["emails"]));
    let Plan::And(children) = *element else {
        panic!("expected And");
    };
    assert_eq!(
        children[1],
        Plan::Predicate(Predicate { operand: Operand::Element(keys(&["value"])), test: Test::Present })
    );
}

#[test]
fn eq_null_becomes_not_present() {
    assert_eq!(
        planned("displayName eq null"),
        Plan::Not(Box::new(Plan::Predicate(Predicate {
            operand: Operand::Column("display_name".to_owned()),
            test: Test::Present,
        })))
    );
}

#[test]
fn a_value_filter_on_a_single_valued_complex_attribute_reads_inside_it() {
    assert_eq!(
        planned(r#"name[givenName sw "a"]"#),
        Plan::Any {
            array: keys(&["name"]),
            element: Box::new(Plan::Predicate(Predicate {
                operand: Operand::Element(keys(&["givenName"])),
                test: Test::Compare { op: CompareOp::Sw, value: BindValue::Text("a".to_owned()), case_exact: false },
            })),
        }
    );
}

/// Found by the store's differential test: planned as its inner filter alone, a negated
/// value filter on a single-valued complex attribute matched resources without it.
#[test]
fn a_negated_value_filter_needs_the_single_valued_attribute_to_exist() {
    let without_name = json!({"userName": "bjensen"});
    let with_name = json!({"userName": "bjensen", "name": {"givenName": "Babs"}});
    for text in [r#"name[not (givenName eq "Barbara")]"#, r#"name[givenName eq null]"#] {
        let filter = checked(text);
        let planned = plan(&filter, &columns());
        for doc in [&without_name, &with_name] {
            assert_eq!(interpret(&planned, doc, None), matches(&filter, doc), "{text} on {doc}");
        }
        assert!(!interpret(&planned, &without_name, None), "{text} matched a user without a name");
    }
    assert!(interpret(&plan(&checked(r#"name[not (givenName eq "Barbara")]"#), &columns()), &with_name, None));
}

// ---- agreement with eval ----

const LEAVES: &[&str] = &[
    r#"userName eq "alice""#,
    r#"userName sw "A""#,
    r#"userName co "LI""#,
    r#"userName gt "b""#,
    "userName pr",
    r#"userName ne "bob""#,
    "displayName pr",
    "displayName eq null",
    "displayName ne null",
    r#"title eq "boss""#,
    "title pr",
    "active eq true",
    "active ne false",
    "emails pr",
    "emails eq null",
    r#"emails co "example""#,
    r#"emails.value ew ".ORG""#,
    r#"emails.type eq "work""#,
    r#"emails.type ne "work""#,
    r#"emails[type eq "work" and value co "a"]"#,
    "emails[not (primary eq true)]",
    "emails[value pr or type eq null]",
    r#"name.givenName eq "Alice""#,
    r#"name[givenName sw "a"]"#,
    r#"meta.created gt "2020-01-01T00:00:00Z""#,
    r#"meta.lastModified le "2021-06-01T02:00:00+02:00""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
    "loginCount gt 3",
    "score le 2.5",
    r#"externalId eq "X1""#,
    r#"id eq "abc""#,
    r#"manager.value eq "m1""#,
    r#"manager eq "M1""#,
    "employeeNumber eq null",
];

fn filter_text() -> impl Strategy<Value = String> {
    prop::sample::select(LEAVES).prop_map(str::to_owned).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop_oneof![
        Just(Value::Null),
        prop::sample::select(options).prop_map(|s| Value::String(s.to_owned())),
    ])
}

fn email() -> impl Strategy<Value = Value> {
    (
        pick(&["a@example.com", "b@x.org", "A@EXAMPLE.ORG", ""]),
        pick(&["work", "home", "Work"]),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(value, ty, primary)| {
            let mut m = Map::new();
            value.map(|v| m.insert("value".to_owned(), v));
            ty.map(|v| m.insert("type".to_owned(), v));
            primary.map(|v| m.insert("primary".to_owned(), Value::Bool(v)));
            Value::Object(m)
        })
}

const DATES: &[&str] =
    &["2019-12-31T23:00:00Z", "2020-01-01T01:00:00+02:00", "2021-06-01T00:00:00Z", "2021-06-01T00:00:00.5Z"];

fn document() -> impl Strategy<Value = Value> {
    let core = (
        pick(&["alice", "Alice", "bob", "ALICE@x.org"]),
        pick(&["", "Al"]),
        pick(&["boss", "", "Boss"]),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(email(), 0..3)),
        pick(&["Alice", "al", "Bob"]),
        (prop::sample::select(DATES), prop::sample::select(DATES)),
    );
    let rest = (
        prop::option::of(prop::collection::vec(prop::sample::select(vec![super::test_schema::CORE, ENTERPRISE]), 0..3)),
        prop::option::of(0..6i64),
        prop::option::of(prop::sample::select(vec![1.0f64, 2.5, 3.75])),
        pick(&["m1", "M1"]),
        pick(&["701984"]),
        pick(&["abc", "ABC"]),
        pick(&["X1", "x1"]),
    );
    (core, rest).prop_map(
        |(
            (user_name, display_name, title, active, emails, given, (created, modified)),
            (schemas, logins, score, manager, employee_number, id, external_id),
        )| {
            let mut doc = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    doc.insert(k.to_owned(), v);
                }
            };
            put("id", id);
            put("externalId", external_id);
            put("userName", user_name);
            put("displayName", display_name);
            put("title", title);
            put("active", active.map(Value::Bool));
            put("emails", emails.map(Value::Array));
            put("name", given.map(|g| json!({ "givenName": g })));
            put("meta", Some(json!({"created": created, "lastModified": modified})));
            put("schemas", schemas.map(|s| json!(s)));
            put(CUSTOM, Some(json!({"loginCount": logins, "score": score})));
            put(
                ENTERPRISE,
                Some(json!({"manager": manager.map(|m| json!({"value": m})), "employeeNumber": employee_number})),
            );
            Value::Object(doc)
        },
    )
}

proptest! {
    #[test]
    fn interpreting_the_plan_agrees_with_eval(text in filter_text(), doc in document()) {
        let filter = checked(&text);
        let expected = matches(&filter, &doc);
        let actual = interpret(&plan(&filter, &columns()), &doc, None);
        prop_assert_eq!(actual, expected, "filter: {}\ndoc: {}", text, doc);
    }

    #[test]
    fn the_plan_is_the_same_with_or_without_indexed_columns(text in filter_text(), doc in document()) {
        let filter = checked(&text);
        let with = interpret(&plan(&filter, &columns()), &doc, None);
        let without = interpret(&plan(&filter, &IndexedColumns::new()), &doc, None);
        prop_assert_eq!(with, without);
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec!["", "alice", "2020-01-01T00:00:00Z", "work", "not a date"]).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "userName",
                        "emails",
                        "value",
                        "type",
                        "primary",
                        "meta",
                        "created",
                        "name",
                        "givenName",
                        "schemas",
                        ENTERPRISE,
                        "manager",
                        "active",
                    ]),
                    inner
                ),
                0..4
            )
            .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #[test]
    fn eval_and_plan_never_panic_on_documents_that_ignore_the_schema(
        text in filter_text(),
        doc in any_json(),
    ) {
        let filter = checked(&text);
        let _ = matches(&filter, &doc);
        let _ = interpret(&plan(&filter, &columns()), &doc, None);
    }
}
