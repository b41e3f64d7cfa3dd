//! Attribute paths (RFC 7644 §3.4.2.2, Figure 1; §3.10) and PATCH paths (RFC 7644 §3.5.2).
//!
//! ```text
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! subAttr   = "." ATTRNAME
//! ATTRNAME  = ALPHA *(nameChar)          ; also "$ref", which RFC 7643 uses as a name
//! nameChar  = "-" / "_" / DIGIT / ALPHA
//! PATH      = attrPath / valuePath [subAttr]   ; PATCH only
//! ```
//!
//! A URI prefix is itself full of dots and colons
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`), so the
//! prefix ends at the *last* colon: attribute names never contain one.
//!
//! Attribute names are case-insensitive (RFC 7643 §2.1). [`AttrPath`] keeps the spelling it
//! was given, so that printing is faithful, and its `PartialEq` is exact; use
//! [`AttrPath::eq_ignore_case`] or [`AttrPath::key`] to compare or index by meaning.

use std::fmt;

use crate::filter::{Filter, FilterError};
use crate::position::{PathGrammar, SyntaxError};

/// An error in an attribute path, with the byte offset where it was detected.
pub type PathError = SyntaxError<PathGrammar>;

/// `[URI ":"] ATTRNAME ["." ATTRNAME]`: a reference to an attribute or a sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    uri: Option<String>,
    name: String,
    sub_attr: Option<String>,
}

impl AttrPath {
    /// Parses a whole string as an attribute path.
    pub fn parse(input: &str) -> Result<Self, PathError> {
        Self::parse_at(input, input, 0)
    }

    /// Parses `text`, which starts at byte `base` of `whole` (for error positions).
    pub(crate) fn parse_at(text: &str, whole: &str, base: usize) -> Result<Self, PathError> {
        if text.is_empty() {
            return Err(PathError::new("expected an attribute name", whole, base));
        }
        let (uri, rest, rest_at) = match text.rfind(':') {
            Some(colon) => {
                let uri = &text[..colon];
                validate_uri(uri, whole, base)?;
                (Some(uri.to_owned()), &text[colon + 1..], base + colon + 1)
            }
            None => (None, text, base),
        };
        let (name, sub_attr) = match rest.find('.') {
            Some(dot) => (&rest[..dot], Some(&rest[dot + 1..])),
            None => (rest, None),
        };
        validate_name(name, whole, rest_at)?;
        if let Some(sub) = sub_attr {
            let sub_at = rest_at + name.len() + 1;
            if let Some(extra) = sub.find('.') {
                return Err(PathError::new("an attribute path has at most one sub-attribute", whole, sub_at + extra));
            }
            validate_name(sub, whole, sub_at)?;
        }
        Ok(Self { uri, name: name.to_owned(), sub_attr: sub_attr.map(str::to_owned) })
    }

    /// Builds a path from parts, checking each one against the grammar.
    pub fn new(uri: Option<&str>, name: &str, sub_attr: Option<&str>) -> Result<Self, PathError> {
        if let Some(uri) = uri {
            validate_uri(uri, uri, 0)?;
        }
        validate_name(name, name, 0)?;
        if let Some(sub) = sub_attr {
            validate_name(sub, sub, 0)?;
        }
        Ok(Self { uri: uri.map(str::to_owned), name: name.to_owned(), sub_attr: sub_attr.map(str::to_owned) })
    }

    /// The schema URI prefix, if the path was written fully qualified.
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// The top-level attribute name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sub-attribute name, if any.
    pub fn sub_attr(&self) -> Option<&str> {
        self.sub_attr.as_deref()
    }

    /// The same path with `sub` as its sub-attribute (replacing any existing one).
    pub fn with_sub_attr(&self, sub: &str) -> Result<Self, PathError> {
        validate_name(sub, sub, 0)?;
        Ok(Self { uri: self.uri.clone(), name: self.name.clone(), sub_attr: Some(sub.to_owned()) })
    }

    /// The same path without its sub-attribute.
    pub fn parent(&self) -> Self {
        Self { uri: self.uri.clone(), name: self.name.clone(), sub_attr: None }
    }

    /// Equality as SCIM defines it: attribute names and schema URIs are case-insensitive.
    pub fn eq_ignore_case(&self, other: &Self) -> bool {
        fn opt_eq(a: Option<&str>, b: Option<&str>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
        }
        opt_eq(self.uri(), other.uri())
            && self.name.eq_ignore_ascii_case(&other.name)
            && opt_eq(self.sub_attr(), other.sub_attr())
    }

    /// A lower-cased rendering, equal for two paths exactly when [`AttrPath::eq_ignore_case`]
    /// holds: use it as a map key.
    pub fn key(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for AttrPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whether `c` may appear in an attribute name after its first character.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn validate_name(name: &str, whole: &str, at: usize) -> Result<(), PathError> {
    if name == "$ref" {
        return Ok(());
    }
    let mut chars = name.char_indices();
    match chars.next() {
        None => return Err(PathError::new("expected an attribute name", whole, at)),
        Some((_, c)) if !c.is_ascii_alphabetic() => {
            return Err(PathError::new(format!("an attribute name must start with a letter, found '{c}'"), whole, at));
        }
        Some(_) => {}
    }
    for (i, c) in chars {
        if !is_name_char(c) {
            return Err(PathError::new(format!("unexpected character '{c}' in attribute name"), whole, at + i));
        }
    }
    Ok(())
}

/// A schema URI: non-empty, starts with a letter (a scheme), and holds only the characters
/// that appear in URNs and URLs (no spaces, quotes or brackets).
fn validate_uri(uri: &str, whole: &str, at: usize) -> Result<(), PathError> {
    let mut chars = uri.char_indices();
    match chars.next() {
        None => {
            return Err(PathError::new("expected a schema URI before ':'", whole, at));
        }
        Some((_, c)) if !c.is_ascii_alphabetic() => {
            return Err(PathError::new(format!("a schema URI must start with a letter, found '{c}'"), whole, at));
        }
        Some(_) => {}
    }
    for (i, c) in chars {
        let ok = c.is_ascii_alphanumeric() || "-_.:/%+~!$&'*,;=@".contains(c);
        if !ok {
            return Err(PathError::new(format!("unexpected character '{c}' in schema URI"), whole, at + i));
        }
    }
    Ok(())
}

/// The target of a PATCH operation (RFC 7644 §3.5.2):
/// `PATH = attrPath / valuePath [subAttr]`, or a bare schema URN that names a whole
/// extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// `userName`, `name.familyName`, `urn:…:User:manager.value`.
    Attr(AttrPath),
    /// `members[value eq "2819c223…"]`, `emails[type eq "work"].value`.
    Value {
        /// The multi-valued attribute (no sub-attribute).
        attr: AttrPath,
        /// Selects elements of `attr`; its paths are relative to an element.
        filter: Filter,
        /// The sub-attribute of the selected elements, if any.
        sub_attr: Option<String>,
    },
    /// A whole schema extension, named by its URN.
    Schema(String),
}

/// An error in a PATCH path: either part of the path or the filter inside brackets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchPathError {
    /// The attribute path or the sub-attribute after the brackets.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The filter inside the brackets (positions are into the whole PATCH path).
    #[error(transparent)]
    Filter(#[from] FilterError),
}

/// A malformed PATCH path is `400 invalidPath` (RFC 7644 §3.5.2); the detail names the
/// column.
impl From<PatchPathError> for crate::error::ScimError {
    fn from(e: PatchPathError) -> Self {
        Self::InvalidPath(e.to_string())
    }
}

/// A malformed attribute path in a PATCH operation is `400 invalidPath` (RFC 7644 §3.5.2).
/// Elsewhere (e.g. the `attributes` parameter) callers map it themselves.
impl From<PathError> for crate::error::ScimError {
    fn from(e: PathError) -> Self {
        Self::InvalidPath(e.to_string())
    }
}

impl PatchPath {
    /// Parses a PATCH path. A bare URN cannot be told apart from `uri:attr` without
    /// knowing the schemas, so this never yields [`PatchPath::Schema`]; use
    /// [`PatchPath::parse_with_schemas`] where the registry is at hand.
    pub fn parse(input: &str) -> Result<Self, PatchPathError> {
        crate::filter::parse_patch_path(input)
    }

    /// Like [`PatchPath::parse`], but a path equal (case-insensitively) to a URN for which
    /// `is_schema` holds becomes [`PatchPath::Schema`].
    pub fn parse_with_schemas(input: &str, is_schema: impl Fn(&str) -> bool) -> Result<Self, PatchPathError> {
        if input.contains(':') && !input.contains('[') && is_schema(input) {
            return Ok(Self::Schema(input.to_owned()));
        }
        Self::parse(input)
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Attr(path) => write!(f, "{path}"),
            Self::Value { attr, filter, sub_attr } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(sub) = sub_attr {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
            Self::Schema(urn) => f.write_str(urn),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn a_simple_name_has_no_uri_and_no_sub_attribute() {
        let path = AttrPath::parse("userName").unwrap();
        assert_eq!(path.uri(), None);
        assert_eq!(path.name(), "userName");
        assert_eq!(path.sub_attr(), None);
    }

    #[test]
    fn a_dotted_name_splits_into_name_and_sub_attribute() {
        let path = AttrPath::parse("name.familyName").unwrap();
        assert_eq!(path.name(), "name");
        assert_eq!(path.sub_attr(), Some("familyName"));
    }

    #[test]
    fn a_urn_prefix_ends_at_the_last_colon_even_with_dots_in_the_version() {
        let path = AttrPath::parse(&format!("{ENTERPRISE}:manager.value")).unwrap();
        assert_eq!(path.uri(), Some(ENTERPRISE));
        assert_eq!(path.name(), "manager");
        assert_eq!(path.sub_attr(), Some("value"));
    }

    #[test]
    fn a_core_schema_prefix_is_accepted_on_a_simple_attribute() {
        let path = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
        assert_eq!(path.uri(), Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert_eq!(path.name(), "userName");
    }

    #[test]
    fn dollar_ref_is_accepted_as_a_sub_attribute() {
        let path = AttrPath::parse("members.$ref").unwrap();
        assert_eq!(path.sub_attr(), Some("$ref"));
    }

    #[test]
    fn names_with_dash_underscore_and_digits_are_accepted() {
        let path = AttrPath::parse("x-custom_attr2").unwrap();
        assert_eq!(path.name(), "x-custom_attr2");
    }

    #[test]
    fn a_name_starting_with_a_digit_is_rejected_at_its_column() {
        let err = AttrPath::parse("name.1st").unwrap_err();
        assert_eq!(err.column(), 6);
        assert_eq!(err.to_string(), "an attribute name must start with a letter, found '1' at column 6: name.1st");
    }

    #[test]
    fn two_sub_attributes_are_rejected_at_the_second_dot() {
        let err = AttrPath::parse("a.b.c").unwrap_err();
        assert_eq!(err.offset(), 3);
    }

    #[test]
    fn an_empty_path_is_rejected() {
        assert_eq!(AttrPath::parse("").unwrap_err().column(), 1);
    }

    #[test]
    fn a_trailing_colon_is_rejected_for_a_missing_name() {
        let err = AttrPath::parse("urn:x:").unwrap_err();
        assert_eq!(err.message(), "expected an attribute name");
        assert_eq!(err.offset(), 6);
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "userName",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "members.$ref",
        ] {
            assert_eq!(AttrPath::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn comparison_ignoring_case_treats_differently_cased_names_as_equal() {
        let a = AttrPath::parse("Name.FamilyName").unwrap();
        let b = AttrPath::parse("name.familyname").unwrap();
        assert_ne!(a, b);
        assert!(a.eq_ignore_case(&b));
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn the_constructor_validates_each_part() {
        let path = AttrPath::new(Some(ENTERPRISE), "manager", Some("value")).unwrap();
        assert_eq!(path.to_string(), format!("{ENTERPRISE}:manager.value"));
        assert!(AttrPath::new(None, "bad name", None).is_err());
    }
}
