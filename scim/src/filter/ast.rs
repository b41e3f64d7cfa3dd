//! The filter syntax tree (RFC 7644 §3.4.2.2) and its canonical printing.
//!
//! [`Filter`] is an *unchecked* filter: it is well-formed, but its attribute paths have not
//! been resolved against a schema (see `check` for that). `And` and `Or` are n-ary: a chain
//! `a and b and c` is one node with three children. A parenthesised group is not a node of
//! its own; the tree shape carries the grouping.
//!
//! `Display` prints a canonical form that parses back to the same tree: keywords and
//! operators in lower case, one space between tokens, strings as JSON, and parentheses
//! exactly where precedence needs them (an `or` inside an `and`, or an `and`/`or` directly
//! inside one of the same kind).

use std::fmt;

use crate::path::AttrPath;

/// A parsed, unchecked SCIM filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All children hold. Always has at least two children when produced by the parser.
    And(Vec<Filter>),
    /// At least one child holds. Always has at least two children when produced by the parser.
    Or(Vec<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `attrPath pr`.
    Present(AttrPath),
    /// `attrPath op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The comparison operator.
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `attrPath[valFilter]`: some element of the multi-valued attribute `path` satisfies
    /// `filter`, whose paths are relative to that element.
    ValuePath {
        /// The multi-valued (or complex) attribute; never has a sub-attribute.
        path: AttrPath,
        /// The filter applied to one element at a time.
        filter: Box<Filter>,
    },
}

/// The comparison operators of RFC 7644 §3.4.2.2, Table 3 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

impl CompareOp {
    /// Every operator, in Table 3 order.
    pub const ALL: [CompareOp; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The operator's keyword, in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// Recognises an operator keyword, ignoring case.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `co`, `sw`, `ew`: operators on string content.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }

    /// `gt`, `ge`, `lt`, `le`: operators that need an ordering.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `compValue = false / null / true / number / string` (JSON literals, RFC 7159).
///
/// A dateTime is written as a string; whether it compares as a date comes from the
/// attribute's type, not from the literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, integer or decimal.
    Number(serde_json::Number),
    /// A JSON string, unescaped.
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write_json_string(f, s),
        }
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{08}' => f.write_str("\\b")?,
            '\u{0C}' => f.write_str("\\f")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl Filter {
    /// Whether this node needs parentheses as a child of `and` (`parent_is_and`) or `or`.
    fn needs_parens_under(&self, parent_is_and: bool) -> bool {
        match self {
            Self::Or(_) => true,
            Self::And(_) => parent_is_and,
            _ => false,
        }
    }

    fn write_chain(
        f: &mut fmt::Formatter<'_>,
        children: &[Filter],
        keyword: &str,
        is_and: bool,
    ) -> fmt::Result {
        for (i, child) in children.iter().enumerate() {
            if i > 0 {
                write!(f, " {keyword} ")?;
            }
            if child.needs_parens_under(is_and) {
                write!(f, "({child})")?;
            } else {
                write!(f, "{child}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(children) => Self::write_chain(f, children, "and", true),
            Self::Or(children) => Self::write_chain(f, children, "or", false),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::Present(path) => write!(f, "{path} pr"),
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
