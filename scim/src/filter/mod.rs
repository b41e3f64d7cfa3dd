//! SCIM filters (RFC 7644 §3.4.2.2): lexing, parsing, printing.
//!
//! [`Filter::parse`] turns the text of a `filter` query parameter (or the bracketed part of
//! a PATCH path) into an unchecked [`Filter`]. Errors carry the byte offset and column and
//! read like `expected a comparison operator at column 10: userName eqq "bjensen"`.
//!
//! The pipeline: [`Filter::parse`] (syntax) -> [`check::check`] (schema: types, caseExact,
//! canonical locations) -> [`eval::matches`] (reference semantics over JSON) or
//! [`plan::plan`] (a parameterised plan for the SQL renderers).
//!
//! ```
//! use scim::filter::Filter;
//!
//! let filter = Filter::parse(r#"userType Eq "Employee" AND (emails CO "example.com" OR title PR)"#)?;
//! assert_eq!(
//!     filter.to_string(),
//!     r#"userType eq "Employee" and (emails co "example.com" or title pr)"#
//! );
//! # Ok::<(), scim::filter::FilterError>(())
//! ```
//!
//! Known limit: a schema URI prefix in a filter may hold letters, digits and `-_.:$`, which
//! covers every `urn:` schema; `http://…` schema URIs cannot be written as prefixes.

mod ast;
pub mod check;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod check_eval_tests;
pub mod eval;
mod lexer;
mod parser;
pub mod plan;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod plan_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod rfc_examples;
#[cfg(test)]
mod test_schema;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

pub use ast::{CompValue, CompareOp, Filter};
pub use parser::ParseLimits;
pub(crate) use parser::parse_patch_path;

use crate::path::PathError;
use crate::position::{FilterGrammar, SyntaxError};

/// A syntax error in a filter, with the byte offset where it was detected.
pub type FilterError = SyntaxError<FilterGrammar>;

/// A filter syntax error is `400 invalidFilter`; the detail names the column.
impl From<FilterError> for crate::error::ScimError {
    fn from(e: FilterError) -> Self {
        Self::InvalidFilter(e.to_string())
    }
}

/// A filter that does not fit the schema is `400 invalidFilter`; the detail names the
/// attribute.
impl From<check::CheckError> for crate::error::ScimError {
    fn from(e: check::CheckError) -> Self {
        Self::InvalidFilter(e.message().to_owned())
    }
}

impl From<PathError> for FilterError {
    fn from(e: PathError) -> Self {
        e.regrammar()
    }
}

impl Filter {
    /// Parses a filter with [`ParseLimits::DEFAULT`].
    pub fn parse(input: &str) -> Result<Self, FilterError> {
        parser::parse_filter(input, ParseLimits::DEFAULT)
    }

    /// Parses a filter with explicit limits.
    pub fn parse_with_limits(input: &str, limits: ParseLimits) -> Result<Self, FilterError> {
        parser::parse_filter(input, limits)
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
