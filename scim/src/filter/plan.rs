//! A backend-neutral, parameterised query plan for a checked filter (RFC 7644 §3.4.2.2),
//! for the storage layer to render as SQL with bind parameters.
//!
//! [`plan`] maps a [`CheckedFilter`] to a [`Plan`]: a tree of `And`/`Or`/`Not` over
//! [`Predicate`]s and [`Plan::Any`] nodes. Values never appear as text: each comparison
//! carries a typed [`BindValue`] that a renderer must pass as a bind parameter.
//!
//! # How a renderer must treat each node
//!
//! The plan has the two-valued semantics of [`super::eval::matches`], which is the oracle
//! for every renderer. SQL is three-valued, so:
//!
//! - [`Plan::Predicate`]: must render to an expression that is **false, never NULL**, when
//!   the operand is missing or JSON `null` (e.g. `COALESCE(<expr>, FALSE)`), so that
//!   [`Plan::Not`] negates it correctly.
//! - [`Plan::And`] / [`Plan::Or`]: `(a AND b AND …)` / `(a OR b OR …)`; never empty.
//! - [`Plan::Not`]: `NOT (…)`.
//! - [`Plan::Any`]: `EXISTS (SELECT 1 FROM <each element of the JSON array at `array`>
//!   WHERE <element plan>)`, e.g. `json_each(doc, '$."emails"')` on SQLite or
//!   `jsonb_array_elements(doc #> '{emails}')` on PostgreSQL. `null` elements are skipped;
//!   a non-array value at `array` counts as a single element. Inside it, operands are
//!   [`Operand::Element`] and refer to the current element.
//! - [`Operand::Column`]: a dedicated column the caller declared in [`IndexedColumns`] for a
//!   single-valued attribute. [`Operand::Json`]: the value at that key path in the stored
//!   document (keys are canonical; render them as bind parameters or properly quoted JSON
//!   path segments, never splice user text).
//! - [`Test::Present`]: not NULL, not `''`, and for a JSON array or object: one of its
//!   members is present (`[]`, `{}` and `{"value": null}` are not present).
//! - [`Test::Compare`] on [`BindValue::Text`]: when `case_exact` is false compare
//!   `lower(x)` with `lower(?)`; `co`/`sw`/`ew` are substring tests (with `LIKE`, escape
//!   `%`, `_` and the escape character in the bound pattern); `gt`… are lexicographic.
//!   The stored value must be a JSON string (a number or boolean never equals text).
//!   Lower-casing must be Unicode-aware, as `eval` is (`str::to_lowercase`): PostgreSQL's
//!   `lower()` is, SQLite's built-in `lower()` folds ASCII only (register a function or
//!   store a lower-cased copy). Ordering must be by code point (`COLLATE "C"` on
//!   PostgreSQL; SQLite's default `BINARY` compares UTF-8 bytes, which agrees).
//! - [`BindValue::DateTime`]: compare chronologically, not as text (e.g. cast both sides
//!   to `timestamptz`, or to `unixepoch(…, 'subsec')` on SQLite); the value is bound in UTC.
//! - [`BindValue::Integer`] / [`BindValue::Decimal`]: numeric comparison; the stored value
//!   must be a JSON number. [`BindValue::Boolean`]: `eq`/`ne` only, stored value a JSON
//!   boolean.

use chrono::{DateTime, Utc};

use super::CompareOp;
use super::check::{CheckedFilter, CheckedNode, Location, Target, TypedValue};
use crate::path::{AttrPath, PathError};

/// The single-valued attributes the storage layer keeps in dedicated columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexedColumns {
    /// (location as lower-cased text, column name)
    entries: Vec<(String, String)>,
}

impl IndexedColumns {
    /// No dedicated columns: everything is read from the JSON document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that the attribute at `path` (canonical, e.g. `meta.lastModified`, or
    /// `urn:…:enterprise:2.0:User:employeeNumber` for an extension) is stored in `column`.
    pub fn with(mut self, path: &str, column: &str) -> Result<Self, PathError> {
        let path = AttrPath::parse(path)?;
        self.entries.push((path.to_string().to_ascii_lowercase(), column.to_owned()));
        Ok(self)
    }

    /// The column holding `location`, if any.
    pub fn column_for(&self, location: &Location) -> Option<&str> {
        let key = location.to_string().to_ascii_lowercase();
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, c)| c.as_str())
    }
}

/// A query plan; see the module documentation for how to render each node.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// All hold (at least two children).
    And(Vec<Plan>),
    /// Any holds (at least two children).
    Or(Vec<Plan>),
    /// Negation (two-valued).
    Not(Box<Plan>),
    /// A test of one operand.
    Predicate(Predicate),
    /// Some element of the JSON array at `array` satisfies `element`.
    Any {
        /// JSON object keys from the document root to the array.
        array: Vec<String>,
        /// Evaluated per element; its operands are [`Operand::Element`].
        element: Box<Plan>,
    },
}

/// A test on one operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    /// What is tested.
    pub operand: Operand,
    /// How.
    pub test: Test,
}

/// Where a predicate reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A dedicated column, named as the caller declared it.
    Column(String),
    /// JSON object keys from the document root.
    Json(Vec<String>),
    /// JSON object keys from the current element of the enclosing [`Plan::Any`]; empty
    /// for the element itself (multi-valued simple attributes such as `schemas`).
    Element(Vec<String>),
}

/// What a predicate checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// The value is present (not null, `''`, `[]` or `{}`).
    Present,
    /// The value compares true with a bound parameter.
    Compare {
        /// The operator.
        op: CompareOp,
        /// The bind parameter.
        value: BindValue,
        /// Whether a text comparison is case-sensitive.
        case_exact: bool,
    },
}

/// A typed bind parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// A string, reference or binary value.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A decimal.
    Decimal(f64),
    /// A boolean.
    Boolean(bool),
    /// A dateTime, normalised to UTC.
    DateTime(DateTime<Utc>),
}

/// Translates a checked filter into a plan, using `columns` for single-valued attributes.
pub fn plan(filter: &CheckedFilter, columns: &IndexedColumns) -> Plan {
    Planner { columns }.node(filter.root(), &Scope::Root)
}

/// Where operands are read from.
enum Scope {
    /// The document root.
    Root,
    /// The current element of an `Any`.
    Element,
}

struct Planner<'a> {
    columns: &'a IndexedColumns,
}

impl Planner<'_> {
    fn node(&self, filter: &CheckedNode, scope: &Scope) -> Plan {
        match filter {
            CheckedNode::And(children) => Plan::And(children.iter().map(|c| self.node(c, scope)).collect()),
            CheckedNode::Or(children) => Plan::Or(children.iter().map(|c| self.node(c, scope)).collect()),
            CheckedNode::Not(inner) => Plan::Not(Box::new(self.node(inner, scope))),
            CheckedNode::Present(target) => self.test(target, Test::Present, scope),
            CheckedNode::Compare { target, op, value } => {
                let bind = match value {
                    // `eq null` is "not present", `ne null` is "present".
                    TypedValue::Null => {
                        let present = self.test(target, Test::Present, scope);
                        return if *op == CompareOp::Eq { Plan::Not(Box::new(present)) } else { present };
                    }
                    TypedValue::String(s) => BindValue::Text(s.clone()),
                    TypedValue::Boolean(b) => BindValue::Boolean(*b),
                    TypedValue::Integer(i) => BindValue::Integer(*i),
                    TypedValue::Decimal(d) => BindValue::Decimal(*d),
                    TypedValue::DateTime(d) => BindValue::DateTime(d.with_timezone(&Utc)),
                };
                let test = Test::Compare { op: *op, value: bind, case_exact: target.case_exact };
                self.test(target, test, scope)
            }
            // A single-valued complex attribute is planned as an array of one (a non-array
            // value counts as a single element): its value filter then also requires the
            // attribute to exist, as the evaluator does. Its inner filter alone would not:
            // `name[not (givenName eq "x")]` would match every user without a name.
            CheckedNode::ValuePath { location, filter, .. } => {
                let keys = self.keys(location, false);
                Plan::Any { array: keys, element: Box::new(self.node(filter, &Scope::Element)) }
            }
        }
    }

    /// JSON keys of `location` in `scope`; with `top_only`, without the sub-attribute.
    fn keys(&self, location: &Location, top_only: bool) -> Vec<String> {
        let mut keys = Vec::new();
        let own = location.keys();
        let take = if top_only && location.sub.is_some() { own.len() - 1 } else { own.len() };
        keys.extend(own.into_iter().take(take).map(str::to_owned));
        keys
    }

    fn test(&self, target: &Target, test: Test, scope: &Scope) -> Plan {
        let location = &target.location;
        if matches!(scope, Scope::Element) {
            return predicate(Operand::Element(self.keys(location, false)), test);
        }
        if target.multi_valued {
            let element_keys = location.sub.iter().cloned().collect();
            return Plan::Any {
                array: self.keys(location, true),
                element: Box::new(predicate(Operand::Element(element_keys), test)),
            };
        }
        if matches!(scope, Scope::Root)
            && let Some(column) = self.columns.column_for(location)
        {
            return predicate(Operand::Column(column.to_owned()), test);
        }
        predicate(Operand::Json(self.keys(location, false)), test)
    }
}

fn predicate(operand: Operand, test: Test) -> Plan {
    Plan::Predicate(Predicate { operand, test })
}
