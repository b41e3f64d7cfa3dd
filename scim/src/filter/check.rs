//! Checking a parsed filter against the schema (RFC 7644 §3.4.2.2, "Filtering"; RFC 7643
//! §2.3 attribute types, §2.4 multi-valued attributes).
//!
//! [`check`] turns an unchecked [`Filter`] into a [`CheckedFilter`]: every attribute path is
//! resolved (case-insensitively) to its canonical spelling and JSON location, every
//! comparison carries the attribute's type and `caseExact`, and every literal is converted
//! to a [`TypedValue`] of that type. The rules enforced:
//!
//! | attribute type               | `eq` `ne` | `co` `sw` `ew` | `gt` `ge` `lt` `le` | `pr` |
//! |------------------------------|-----------|----------------|---------------------|------|
//! | string, reference            | yes       | yes            | yes (lexicographic) | yes  |
//! | dateTime                     | yes       | no             | yes (chronological) | yes  |
//! | integer, decimal             | yes       | no             | yes (numeric)       | yes  |
//! | boolean, binary              | yes       | no             | no (RFC: 400)       | yes  |
//! | complex with a `value` sub-attribute | compares `value` (RFC 7644 §3.4.2.2) | | | yes |
//! | other complex                | no        | no             | no                  | yes  |
//!
//! A `null` literal is accepted with `eq` (meaning "not present") and `ne` ("present") only.
//! A dateTime literal must be an RFC 3339 string (the type comes from the attribute, never
//! from the literal). Unknown attributes are an `invalidFilter` error naming the attribute,
//! unless [`UnknownAttributes::TreatAsString`] is chosen.
//!
//! The schema is reached through the small [`AttrResolver`] trait so that this module does
//! not depend on how the registry stores its definitions.

use std::fmt;

use chrono::{DateTime, FixedOffset};

use super::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;

/// The attribute data types of RFC 7643 §2.3: the schema's own type, so the checker and
/// the registry cannot disagree.
pub use crate::schema::AttrType;

/// What the checker needs to know about one attribute or sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrInfo {
    /// The canonical spelling of the (sub-)attribute's own name, as stored in resources.
    pub name: String,
    /// Its data type.
    pub ty: AttrType,
    /// Whether it is multi-valued.
    pub multi_valued: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// For a top-level attribute of an extension schema: that schema's URN, the key under
    /// which the attribute is stored in the resource. `None` for core attributes.
    pub extension: Option<String>,
}

/// Resolves attribute paths of one resource type against a schema.
pub trait AttrResolver {
    /// The attribute `path` names (its `uri`, `name` and `sub_attr` matched ignoring case),
    /// or `None` if unknown. For `name.sub` this is the sub-attribute's definition.
    fn resolve(&self, path: &AttrPath) -> Option<AttrInfo>;
}

/// What to do with attribute paths the schema does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownAttributes {
    /// Fail with `invalidFilter` naming the attribute (the default).
    #[default]
    Reject,
    /// Treat it as a single-valued, case-insensitive string stored where the path says;
    /// it simply matches nothing in resources that lack it.
    TreatAsString,
}

/// Where a value lives in a stored resource document, in canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The extension URN the attribute is stored under, if any.
    pub extension: Option<String>,
    /// The top-level attribute (or, inside a value filter, the element's sub-attribute).
    pub attr: String,
    /// The sub-attribute, if any.
    pub sub: Option<String>,
}

impl Location {
    /// The JSON object keys leading to the value, outermost first (arrays are crossed
    /// implicitly: a multi-valued attribute contributes each of its elements).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys = Vec::with_capacity(3);
        if let Some(ext) = &self.extension {
            keys.push(ext.as_str());
        }
        keys.push(self.attr.as_str());
        if let Some(sub) = &self.sub {
            keys.push(sub.as_str());
        }
        keys
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ext) = &self.extension {
            write!(f, "{ext}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A resolved attribute reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Where the values are.
    pub location: Location,
    /// The type of the addressed (sub-)attribute.
    pub ty: AttrType,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Whether the top-level attribute is multi-valued: then the location yields one value
    /// per element, and a comparison matches if any of them does.
    pub multi_valued: bool,
}

/// A literal converted to the type of the attribute it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// `null` (only with `eq`/`ne`).
    Null,
    /// For string, reference and binary attributes.
    String(String),
    /// For boolean attributes.
    Boolean(bool),
    /// For integer attributes.
    Integer(i64),
    /// For decimal attributes.
    Decimal(f64),
    /// For dateTime attributes.
    DateTime(DateTime<FixedOffset>),
}

/// A filter whose paths are resolved and whose literals are typed. Only [`check`] builds
/// one, so holding a `CheckedFilter` proves the filter fits the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedFilter {
    root: CheckedNode,
}

impl CheckedFilter {
    /// The checked tree.
    pub fn root(&self) -> &CheckedNode {
        &self.root
    }
}

/// A node of a [`CheckedFilter`].
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedNode {
    /// All hold.
    And(Vec<CheckedNode>),
    /// Any holds.
    Or(Vec<CheckedNode>),
    /// Negation.
    Not(Box<CheckedNode>),
    /// The target has a present value (see [`crate::filter::eval`] for the exact rule).
    Present(Target),
    /// Some value of the target compares true.
    Compare {
        /// The resolved attribute.
        target: Target,
        /// The operator (allowed for the type).
        op: CompareOp,
        /// The literal, typed.
        value: TypedValue,
    },
    /// Some element of the multi-valued (or complex) attribute at `location` satisfies
    /// `filter`, whose locations are relative to the element.
    ValuePath {
        /// The attribute whose elements are tested (no sub-attribute).
        location: Location,
        /// Whether that attribute is multi-valued (else its single object is the element).
        multi_valued: bool,
        /// Evaluated against one element at a time.
        filter: Box<CheckedNode>,
    },
}

/// Why a filter does not fit the schema; maps to `400 invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CheckError {
    message: String,
    attribute: String,
}

impl CheckError {
    fn new(attribute: &AttrPath, message: String) -> Self {
        Self { message, attribute: attribute.to_string() }
    }

    /// The readable explanation, naming the attribute.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The attribute path the error is about, as written in the filter.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }
}

/// Resolves and types `filter` against `schema`.
pub fn check(
    filter: &Filter,
    schema: &dyn AttrResolver,
    unknown: UnknownAttributes,
) -> Result<CheckedFilter, CheckError> {
    let root = Checker { schema, unknown }.node(filter, None)?;
    Ok(CheckedFilter { root })
}

struct Checker<'a> {
    schema: &'a dyn AttrResolver,
    unknown: UnknownAttributes,
}

/// The attribute path of the enclosing value filter, if any (paths inside are relative).
type Scope<'s> = Option<&'s AttrPath>;

impl Checker<'_> {
    fn node(&self, filter: &Filter, scope: Scope<'_>) -> Result<CheckedNode, CheckError> {
        Ok(match filter {
            Filter::And(children) => CheckedNode::And(self.all(children, scope)?),
            Filter::Or(children) => CheckedNode::Or(self.all(children, scope)?),
            Filter::Not(inner) => CheckedNode::Not(Box::new(self.node(inner, scope)?)),
            Filter::Present(path) => CheckedNode::Present(self.target(path, scope)?),
            Filter::Compare { path, op, value } => self.compare(path, *op, value, scope)?,
            Filter::ValuePath { path, filter } => {
                let info = self.info(path)?;
                if info.ty != AttrType::Complex {
                    return Err(CheckError::new(
                        path,
                        format!("'{path}' is not a complex attribute, so it takes no value filter"),
                    ));
                }
                CheckedNode::ValuePath {
                    location: Location { extension: info.extension, attr: info.name, sub: None },
                    multi_valued: info.multi_valued,
                    filter: Box::new(self.node(filter, Some(path))?),
                }
            }
        })
    }

    fn all(&self, children: &[Filter], scope: Scope<'_>) -> Result<Vec<CheckedNode>, CheckError> {
        children.iter().map(|c| self.node(c, scope)).collect()
    }

    fn info(&self, path: &AttrPath) -> Result<AttrInfo, CheckError> {
        if let Some(info) = self.schema.resolve(path) {
            return Ok(info);
        }
        match self.unknown {
            UnknownAttributes::Reject => Err(CheckError::new(path, format!("unknown attribute '{path}' in filter"))),
            UnknownAttributes::TreatAsString => Ok(AttrInfo {
                name: path.sub_attr().unwrap_or(path.name()).to_owned(),
                ty: AttrType::String,
                multi_valued: false,
                case_exact: false,
                extension: path.uri().map(str::to_owned),
            }),
        }
    }

    /// Resolves `path` (relative to `scope` inside a value filter) to a target.
    fn target(&self, path: &AttrPath, scope: Scope<'_>) -> Result<Target, CheckError> {
        if let Some(parent) = scope {
            if path.uri().is_some() || path.sub_attr().is_some() {
                return Err(CheckError::new(
                    path,
                    format!("inside '{parent}[…]' write a plain sub-attribute name, not '{path}'"),
                ));
            }
            let full = parent.with_sub_attr(path.name()).map_err(|e| CheckError::new(path, e.message().to_owned()))?;
            let info = self.info(&full)?;
            return Ok(Target {
                location: Location { extension: None, attr: info.name, sub: None },
                ty: info.ty,
                case_exact: info.case_exact,
                multi_valued: info.multi_valued,
            });
        }
        let top = self.info(&path.parent())?;
        let (ty, case_exact, sub) = match path.sub_attr() {
            Some(_) => {
                let sub = self.info(path)?;
                (sub.ty, sub.case_exact, Some(sub.name))
            }
            None => (top.ty, top.case_exact, None),
        };
        Ok(Target {
            location: Location { extension: top.extension, attr: top.name, sub },
            ty,
            case_exact,
            multi_valued: top.multi_valued,
        })
    }

    fn compare(
        &self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
        scope: Scope<'_>,
    ) -> Result<CheckedNode, CheckError> {
        let mut target = self.target(path, scope)?;
        if target.ty == AttrType::Complex {
            // RFC 7644 §3.4.2.2: a complex attribute compared with a value compares its
            // `value` sub-attribute (`emails co "example.com"`).
            // Sub-attributes are never complex (RFC 7643 §2.3.8), so only a top-level
            // path can take the implicit `value`.
            let value_path =
                if scope.is_none() && target.location.sub.is_none() { path.with_sub_attr("value").ok() } else { None };
            let Some(info) = value_path.as_ref().and_then(|p| self.schema.resolve(p)) else {
                return Err(CheckError::new(
                    path,
                    format!("'{path}' is complex and has no 'value' sub-attribute to compare"),
                ));
            };
            target.location.sub = Some(info.name);
            target.ty = info.ty;
            target.case_exact = info.case_exact;
        }
        let value = typed(path, target.ty, op, value)?;
        Ok(CheckedNode::Compare { target, op, value })
    }
}

/// An integer literal, also when written as an integral decimal (`3.0`, `1e2`).
fn integral(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // The range check keeps the cast exact: every integral f64 in it is an i64.
    let in_range = f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f);
    in_range.then_some(f as i64)
}

/// The type's name with its indefinite article, for messages.
fn a_type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "a string",
        AttrType::Boolean => "a boolean",
        AttrType::Decimal => "a decimal",
        AttrType::Integer => "an integer",
        AttrType::DateTime => "a dateTime",
        AttrType::Reference => "a reference",
        AttrType::Binary => "a binary",
        AttrType::Complex => "a complex",
    }
}

/// Checks that `op` applies to `ty` and converts the literal.
fn typed(path: &AttrPath, ty: AttrType, op: CompareOp, value: &CompValue) -> Result<TypedValue, CheckError> {
    let mismatch = || {
        CheckError::new(path, format!("'{path}' is {} attribute and cannot be compared with {value}", a_type_name(ty)))
    };
    let op_allowed = match ty {
        AttrType::String | AttrType::Reference => true,
        AttrType::DateTime | AttrType::Integer | AttrType::Decimal => !op.is_substring(),
        AttrType::Boolean | AttrType::Binary | AttrType::Complex => {
            matches!(op, CompareOp::Eq | CompareOp::Ne)
        }
    };
    if !op_allowed {
        return Err(CheckError::new(
            path,
            format!("operator '{op}' is not allowed on '{path}', {} attribute", a_type_name(ty)),
        ));
    }
    match (ty, value) {
        (_, CompValue::Null) if matches!(op, CompareOp::Eq | CompareOp::Ne) => Ok(TypedValue::Null),
        (_, CompValue::Null) => Err(mismatch()),
        (AttrType::String | AttrType::Reference | AttrType::Binary, CompValue::String(s)) => {
            Ok(TypedValue::String(s.clone()))
        }
        (AttrType::Boolean, CompValue::Bool(b)) => Ok(TypedValue::Boolean(*b)),
        (AttrType::Integer, CompValue::Number(n)) => integral(n).map(TypedValue::Integer).ok_or_else(mismatch),
        (AttrType::Decimal, CompValue::Number(n)) => n.as_f64().map(TypedValue::Decimal).ok_or_else(mismatch),
        (AttrType::DateTime, CompValue::String(s)) => {
            DateTime::parse_from_rfc3339(s).map(TypedValue::DateTime).map_err(|_| {
                CheckError::new(
                    path,
                    format!("'{path}' is a dateTime attribute and \"{s}\" is not an RFC 3339 date-time"),
                )
            })
        }
        _ => Err(mismatch()),
    }
}
