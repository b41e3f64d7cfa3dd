//! What a SCIM request asks for beyond its body: `If-Match`, `attributes` /
//! `excludedAttributes`, and the list parameters (RFC 7644 §3.4.2, §3.14; RFC 9865).
//! Parsed here once for every door that lists resources: the SCIM endpoints (query string
//! and `POST …/.search` body) and the operator API (query string).

use std::collections::HashMap;

use scim::error::ScimError;
use scim::path::AttrPath;
use scim::projection::Selection;
use scim::sort::SortOrder;
use serde_json::Value;

/// The `If-Match` precondition of a write (RFC 7644 §3.14).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// No `If-Match`: the write applies to the current version.
    #[default]
    None,
    /// `If-Match: *`: the resource must exist.
    Exists,
    /// `If-Match: "3", W/"4"`: the current version must be one of these.
    Versions(Vec<i64>),
}

impl Precondition {
    /// Parses an `If-Match` header. Weak tags are accepted and compared by value: clients
    /// echo what `meta.version` showed, whatever their library does to the prefix.
    pub fn from_if_match(header: Option<&str>) -> Result<Self, ScimError> {
        let Some(header) = header.map(str::trim) else {
            return Ok(Precondition::None);
        };
        if header == "*" {
            return Ok(Precondition::Exists);
        }
        let versions = header
            .split(',')
            .map(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag.strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .and_then(|t| t.parse::<i64>().ok())
                    // A tag this server never issued matches no version.
                    .unwrap_or(-1)
            })
            .collect();
        Ok(Precondition::Versions(versions))
    }

    /// Whether the current version satisfies the precondition.
    pub(crate) fn holds_for(&self, version: i64) -> bool {
        match self {
            Precondition::None | Precondition::Exists => true,
            Precondition::Versions(versions) => versions.contains(&version),
        }
    }

    /// Whether a concurrent change must fail the write rather than be retried on.
    pub(crate) fn is_conditional(&self) -> bool {
        matches!(self, Precondition::Versions(_))
    }
}

/// The `attributes` / `excludedAttributes` parameters (RFC 7644 §3.4.2.5).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

impl Projection {
    /// Parses the two comma-separated parameters. Giving both is ambiguous and refused.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Self, ScimError> {
        let attributes = parse_paths("attributes", attributes)?;
        let excluded = parse_paths("excludedAttributes", excluded)?;
        if !attributes.is_empty() && !excluded.is_empty() {
            return Err(ScimError::InvalidValue("give either attributes or excludedAttributes, not both".to_owned()));
        }
        Ok(Self { attributes, excluded })
    }

    /// `attributes` and `excludedAttributes` from a query string, by any case of their
    /// names.
    pub fn from_params(params: &HashMap<String, String>) -> Result<Self, ScimError> {
        Self::parse(param(params, "attributes"), param(params, "excludedAttributes"))
    }

    pub(crate) fn selection(&self) -> Selection<'_> {
        if !self.attributes.is_empty() {
            Selection::Only(&self.attributes)
        } else if !self.excluded.is_empty() {
            Selection::Excluding(&self.excluded)
        } else {
            Selection::Default
        }
    }

    /// Whether the client asked for a specific projection.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }
}

fn parse_paths(parameter: &str, value: Option<&str>) -> Result<Vec<AttrPath>, ScimError> {
    value
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| AttrPath::parse(p).map_err(|e| ScimError::InvalidValue(format!("{parameter}: {e}"))))
        .collect()
}

/// The parameters of a list or search request (RFC 7644 §3.4.2, §3.4.3; RFC 9865).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    /// RFC 9865: `Some("")` starts cursor paging; `Some(c)` continues after cursor `c`.
    pub cursor: Option<String>,
    pub projection: Projection,
}

impl ListQuery {
    /// The list parameters of a query string (RFC 7644 §3.4.2), by any case of their names:
    /// clients differ in the case they send.
    pub fn from_params(params: &HashMap<String, String>) -> Result<Self, ScimError> {
        let text = |name: &str| param(params, name).map(str::to_owned);
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            param(params, name)
                .map(|v| {
                    v.trim()
                        .parse::<i64>()
                        .map_err(|_| ScimError::InvalidValue(format!("{name} must be an integer, not {v:?}")))
                })
                .transpose()
        };
        Ok(ListQuery {
            filter: text("filter"),
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
            start_index: integer("startIndex")?,
            count: integer("count")?,
            cursor: text("cursor"),
            projection: Projection::from_params(params)?,
        })
    }

    /// The body of `POST …/.search` (RFC 7644 §3.4.3): the same parameters as JSON, with
    /// integers as numbers and the attribute lists as arrays (or comma-separated strings).
    pub fn from_search_body(body: &Value) -> Result<Self, ScimError> {
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            match body.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => {
                    v.as_i64().map(Some).ok_or_else(|| ScimError::InvalidValue(format!("{name} must be an integer")))
                }
            }
        };
        let list = |name: &str| -> Option<String> {
            match body.get(name) {
                Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            }
        };
        Ok(ListQuery {
            filter: text("filter"),
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
            start_index: integer("startIndex")?,
            count: integer("count")?,
            cursor: text("cursor"),
            projection: Projection::parse(list("attributes").as_deref(), list("excludedAttributes").as_deref())?,
        })
    }

    pub(crate) fn sort_order(&self) -> Result<SortOrder, ScimError> {
        match self.sort_order.as_deref() {
            None => Ok(SortOrder::Ascending),
            Some(text) => SortOrder::parse(text).ok_or_else(|| {
                ScimError::InvalidValue(format!("sortOrder must be ascending or descending, not {text:?}"))
            }),
        }
    }
}

/// A query parameter by any case of its name.
fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_strong_weak_and_lists() {
        assert_eq!(Precondition::from_if_match(None).ok(), Some(Precondition::None));
        assert_eq!(Precondition::from_if_match(Some("*")).ok(), Some(Precondition::Exists));
        assert_eq!(
            Precondition::from_if_match(Some("\"3\", W/\"4\", \"junk\"")).ok(),
            Some(Precondition::Versions(vec![3, 4, -1]))
        );
    }

    #[test]
    fn both_projection_parameters_are_refused() {
        assert!(Projection::parse(Some("userName"), Some("emails")).is_err());
        assert!(Projection::parse(Some("userName, name.givenName"), None).is_ok());
        assert!(Projection::parse(Some("bad path!"), None).is_err());
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn query_parameters_are_read_by_any_case_of_their_names() {
        let query = ListQuery::from_params(&params(&[
            ("FILTER", "userName eq \"bjensen\""),
            ("startindex", " 3"),
            ("Count", "10"),
            ("sortBy", "userName"),
            ("excludedattributes", "emails"),
        ]))
        .unwrap();
        assert_eq!(query.filter.as_deref(), Some("userName eq \"bjensen\""));
        assert_eq!((query.start_index, query.count), (Some(3), Some(10)));
        assert_eq!(query.sort_by.as_deref(), Some("userName"));
        assert_eq!(query.projection, Projection::parse(None, Some("emails")).unwrap());
    }

    #[test]
    fn a_count_that_is_not_an_integer_is_an_invalid_value() {
        let error = ListQuery::from_params(&params(&[("count", "ten")])).unwrap_err();
        assert_eq!((error.status(), error.detail()), (400, "count must be an integer, not \"ten\""));
    }

    #[test]
    fn a_search_body_takes_numbers_and_attribute_arrays() {
        // RFC 7644 §3.4.3, Figure 4.
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": 10
        });
        let query = ListQuery::from_search_body(&body).unwrap();
        assert_eq!(query.filter.as_deref(), Some("displayName sw \"smith\""));
        assert_eq!((query.start_index, query.count), (Some(1), Some(10)));
        assert_eq!(query.projection, Projection::parse(Some("displayName,userName"), None).unwrap());
        assert!(ListQuery::from_search_body(&serde_json::json!({"count": "10"})).is_err());
    }
}
