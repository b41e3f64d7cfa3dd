//! The reference semantics of a checked filter over a JSON resource (RFC 7644 §3.4.2.2).
//!
//! This evaluator is the oracle the storage layer's SQL translation is tested against, so
//! every rule is spelled out here:
//!
//! - Values at a [`Location`] are found by object keys compared ignoring ASCII case; a
//!   multi-valued attribute contributes each element (and each element's sub-attribute).
//!   `null` values are skipped.
//! - A comparison matches if **any** value matches. An attribute without values matches no
//!   comparison, `ne` included (`x ne "a"` is false when `x` is absent).
//! - `eq null` holds when the target is not present, `ne null` when it is.
//! - Strings compare after lower-casing both sides unless `caseExact`; `gt`/`ge`/`lt`/`le`
//!   on strings are lexicographic by Unicode scalar value.
//! - dateTime values compare chronologically (unparseable stored values match nothing);
//!   integers and decimals numerically; booleans with `eq`/`ne` only.
//! - `pr`: some value is neither null, `""`, nor an array or object without a present
//!   member (`[]`, `{}`, `{"value": null}`).
//! - A value path holds if one element satisfies the whole inner filter.

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use super::CompareOp;
use super::check::{AttrType, CheckedFilter, CheckedNode, Location, Target, TypedValue};

/// Whether `resource` matches `filter`.
pub fn matches(filter: &CheckedFilter, resource: &Value) -> bool {
    node_matches(filter.root(), resource)
}

/// Whether `resource` satisfies one checked node. Inside a value path the node's locations
/// are relative to one element, so PATCH evaluates `emails[type eq "work"]` by calling this
/// with the inner node on each element of `emails`.
pub(crate) fn node_matches(node: &CheckedNode, resource: &Value) -> bool {
    match node {
        CheckedNode::And(children) => children.iter().all(|c| node_matches(c, resource)),
        CheckedNode::Or(children) => children.iter().any(|c| node_matches(c, resource)),
        CheckedNode::Not(inner) => !node_matches(inner, resource),
        CheckedNode::Present(target) => values_at(resource, &target.location).into_iter().any(is_present),
        CheckedNode::Compare { target, op, value } => compare_any(resource, target, *op, value),
        CheckedNode::ValuePath { location, filter, .. } => {
            values_at(resource, location).into_iter().any(|element| node_matches(filter, element))
        }
    }
}

/// A case-insensitive object key lookup (attribute names are case-insensitive).
pub(crate) fn get_key<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    let map = object.as_object()?;
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Pushes `value`, or each element if it is an array; skips nulls.
fn push_flat<'v>(out: &mut Vec<&'v Value>, value: &'v Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|v| !v.is_null())),
        other => out.push(other),
    }
}

/// Every non-null value at `location`, multi-valued attributes flattened.
pub(crate) fn values_at<'v>(resource: &'v Value, location: &Location) -> Vec<&'v Value> {
    let base = match &location.extension {
        Some(ext) => match get_key(resource, ext) {
            Some(b) => b,
            None => return Vec::new(),
        },
        None => resource,
    };
    let mut top = Vec::new();
    if let Some(v) = get_key(base, &location.attr) {
        push_flat(&mut top, v);
    }
    let Some(sub) = &location.sub else {
        return top;
    };
    let mut out = Vec::new();
    for element in top {
        if let Some(v) = get_key(element, sub) {
            push_flat(&mut out, v);
        }
    }
    out
}

/// `pr` for one value: not null, `""` or `[]`, and an object only if one of its members is
/// present ("a non-empty node for complex attributes", RFC 7644 §3.4.2.2, Table 3).
pub(crate) fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

fn compare_any(resource: &Value, target: &Target, op: CompareOp, literal: &TypedValue) -> bool {
    let values = values_at(resource, &target.location);
    if *literal == TypedValue::Null {
        let present = values.into_iter().any(is_present);
        return if op == CompareOp::Eq { !present } else { present };
    }
    values.into_iter().any(|v| compare_one(v, target.ty, target.case_exact, op, literal))
}

/// Compares one stored value with a typed literal.
pub(crate) fn compare_one(stored: &Value, ty: AttrType, case_exact: bool, op: CompareOp, literal: &TypedValue) -> bool {
    match (literal, stored) {
        (TypedValue::String(lit), Value::String(s)) => {
            if case_exact {
                compare_str(s, lit, op)
            } else {
                compare_str(&s.to_lowercase(), &lit.to_lowercase(), op)
            }
        }
        (TypedValue::Boolean(lit), Value::Bool(b)) => ordered(b.cmp(lit), op),
        (TypedValue::Integer(lit), Value::Number(n)) => match n.as_i64() {
            Some(i) => ordered(i.cmp(lit), op),
            None => n.as_f64().and_then(|f| f.partial_cmp(&(*lit as f64))).is_some_and(|o| ordered(o, op)),
        },
        (TypedValue::Decimal(lit), Value::Number(n)) => {
            n.as_f64().and_then(|f| f.partial_cmp(lit)).is_some_and(|o| ordered(o, op))
        }
        (TypedValue::DateTime(lit), Value::String(s)) if ty == AttrType::DateTime => {
            DateTime::parse_from_rfc3339(s).is_ok_and(|d| ordered(d.cmp(lit), op))
        }
        _ => false,
    }
}

fn compare_str(stored: &str, literal: &str, op: CompareOp) -> bool {
    match op {
        CompareOp::Co => stored.contains(literal),
        CompareOp::Sw => stored.starts_with(literal),
        CompareOp::Ew => stored.ends_with(literal),
        _ => ordered(stored.cmp(literal), op),
    }
}

/// Applies an ordering operator (`eq`, `ne`, `gt`, …) to `stored.cmp(literal)`.
pub(crate) fn ordered(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
