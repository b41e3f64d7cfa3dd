//! What a SCIM request asks for beyond its body: `If-Match`, `attributes` /
//! `excludedAttributes`, and the list parameters (RFC 7644 §3.4.2, §3.14; RFC 9865).

use scim::error::ScimError;
use scim::path::AttrPath;
use scim::projection::Selection;
use scim::sort::SortOrder;

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
    pub(crate) fn sort_order(&self) -> Result<SortOrder, ScimError> {
        match self.sort_order.as_deref() {
            None => Ok(SortOrder::Ascending),
            Some(text) => SortOrder::parse(text).ok_or_else(|| {
                ScimError::InvalidValue(format!("sortOrder must be ascending or descending, not {text:?}"))
            }),
        }
    }
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
}
