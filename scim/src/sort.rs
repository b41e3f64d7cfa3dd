//! `sortBy` and `sortOrder` (RFC 7644 §3.4.2.3): sort resources by any attribute path,
//! including sub-attributes and extension attributes. A multi-valued attribute sorts by its
//! primary value, else its first; a complex value without a named sub-attribute by its
//! `value`. Strings compare by `caseExact`; numbers, booleans and dateTimes by value.
//! Resources without a value sort last in both orders; the sort is stable.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use crate::path::AttrPath;
use crate::schema::{AttrType, SchemaRegistry};

/// `sortOrder` (RFC 7644 §3.4.2.3); ascending by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `ascending`
    #[default]
    Ascending,
    /// `descending`
    Descending,
}

impl SortOrder {
    /// Parses `ascending` / `descending`, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("ascending") {
            Some(Self::Ascending)
        } else if s.eq_ignore_ascii_case("descending") {
            Some(Self::Descending)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    Bool(bool),
    Num(f64),
    Time(DateTime<FixedOffset>),
    Str(String),
}

impl Key {
    fn rank(&self) -> u8 {
        match self {
            Self::Bool(_) => 0,
            Self::Num(_) => 1,
            Self::Time(_) => 2,
            Self::Str(_) => 3,
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Num(a), Self::Num(b)) => a.total_cmp(b),
            (Self::Time(a), Self::Time(b)) => a.cmp(b),
            (Self::Str(a), Self::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn pick(value: &Value) -> Option<&Value> {
    match value {
        Value::Array(items) => {
            items.iter().find(|i| i.get("primary") == Some(&Value::Bool(true))).or_else(|| items.first())
        }
        Value::Null => None,
        other => Some(other),
    }
}

fn key_of(registry: &SchemaRegistry, resource_type: &str, by: &AttrPath, resource: &Map<String, Value>) -> Option<Key> {
    let def = registry.resolve(resource_type, by);
    let holder = match registry.extension_of(resource_type, by) {
        Some(urn) => get_ci(resource, urn)?.as_object()?,
        None => resource,
    };
    let mut v = pick(get_ci(holder, by.name())?)?;
    let sub = by.sub_attr().or_else(|| v.is_object().then_some("value"));
    if let Some(sub) = sub {
        v = pick(get_ci(v.as_object()?, sub)?)?;
    }
    let ty = def.map_or(AttrType::String, |d| d.ty());
    let case_exact = def.is_some_and(|d| d.case_exact());
    Some(match v {
        Value::Bool(b) => Key::Bool(*b),
        Value::Number(n) => Key::Num(n.as_f64()?),
        Value::String(s) if ty == AttrType::DateTime => {
            DateTime::parse_from_rfc3339(s).map_or_else(|_| Key::Str(s.clone()), Key::Time)
        }
        Value::String(s) if case_exact => Key::Str(s.clone()),
        Value::String(s) => Key::Str(s.to_lowercase()),
        _ => return None,
    })
}

/// Sorts `resources` of `resource_type` by `by` in `order`, stably, missing values last.
pub fn sort_resources(
    registry: &SchemaRegistry,
    resource_type: &str,
    resources: &mut [Map<String, Value>],
    by: &AttrPath,
    order: SortOrder,
) {
    let mut keyed: Vec<(Option<Key>, Map<String, Value>)> =
        resources.iter().map(|r| (key_of(registry, resource_type, by, r), r.clone())).collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match order {
            SortOrder::Ascending => a.cmp(b),
            SortOrder::Descending => b.cmp(a),
        },
    });
    for (slot, (_, r)) in resources.iter_mut().zip(keyed) {
        *slot = r;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objs(v: &Value) -> Vec<Map<String, Value>> {
        v.as_array().unwrap().iter().map(|o| o.as_object().cloned().unwrap()).collect()
    }

    fn ids(rs: &[Map<String, Value>]) -> Vec<&str> {
        rs.iter().map(|r| r["id"].as_str().unwrap()).collect()
    }

    #[test]
    fn user_name_sorts_case_insensitively_with_missing_last_in_both_orders() {
        let reg = SchemaRegistry::new();
        let mut rs = objs(&json!([
            {"id": "1", "userName": "bob"},
            {"id": "2"},
            {"id": "3", "userName": "Alice"},
        ]));
        let by = AttrPath::parse("username").unwrap();
        sort_resources(&reg, "User", &mut rs, &by, SortOrder::Ascending);
        assert_eq!(ids(&rs), ["3", "1", "2"]);
        sort_resources(&reg, "User", &mut rs, &by, SortOrder::Descending);
        assert_eq!(ids(&rs), ["1", "3", "2"]);
    }

    #[test]
    fn multi_valued_attribute_sorts_by_primary_value() {
        let reg = SchemaRegistry::new();
        let mut rs = objs(&json!([
            {"id": "1", "emails": [{"value": "a@x"}, {"value": "z@x", "primary": true}]},
            {"id": "2", "emails": [{"value": "m@x"}]},
        ]));
        let by = AttrPath::parse("emails").unwrap();
        sort_resources(&reg, "User", &mut rs, &by, SortOrder::Ascending);
        assert_eq!(ids(&rs), ["2", "1"]);
    }

    #[test]
    fn extension_attribute_sorts_within_its_extension_object() {
        let reg = SchemaRegistry::new();
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut rs = objs(&json!([
            {"id": "1", ext: {"department": "Sales"}},
            {"id": "2", ext: {"department": "Eng"}},
        ]));
        let by = AttrPath::parse(&format!("{ext}:department")).unwrap();
        sort_resources(&reg, "User", &mut rs, &by, SortOrder::Ascending);
        assert_eq!(ids(&rs), ["2", "1"]);
    }

    proptest::proptest! {
        #[test]
        fn sorting_twice_gives_the_same_order(names in proptest::collection::vec(proptest::option::of("[a-cA-C]{0,3}"), 0..12)) {
            let reg = SchemaRegistry::new();
            let mut rs: Vec<Map<String, Value>> = names.iter().enumerate().map(|(i, n)| {
                let mut m = Map::new();
                m.insert("id".into(), json!(i.to_string()));
                if let Some(n) = n { m.insert("userName".into(), json!(n)); }
                m
            }).collect();
            let by = AttrPath::parse("userName").unwrap();
            sort_resources(&reg, "User", &mut rs, &by, SortOrder::Ascending);
            let once = rs.clone();
            sort_resources(&reg, "User", &mut rs, &by, SortOrder::Ascending);
            proptest::prop_assert_eq!(&once, &rs);
            let missing_seen = rs.iter().position(|r| !r.contains_key("userName"));
            if let Some(first_missing) = missing_seen {
                proptest::prop_assert!(rs[first_missing..].iter().all(|r| !r.contains_key("userName")));
            }
        }
    }
}
