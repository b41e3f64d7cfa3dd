//! Syntax errors that point at a place in the text they are about: filters (RFC 7644
//! §3.4.2.2) and attribute paths (§3.10). One implementation, tagged by grammar, so that a
//! filter error and a path error stay distinct types (they map to different `scimType`s)
//! without repeating the positioning code.

use std::marker::PhantomData;

/// A syntax error in text of the grammar `G`, with the byte offset where it was detected.
/// Displays as `expected a comparison operator at column 10: userName eqq "bjensen"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}: {input}")]
pub struct SyntaxError<G> {
    message: String,
    offset: usize,
    column: usize,
    input: String,
    grammar: PhantomData<G>,
}

/// Tags a [`SyntaxError`] in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterGrammar;

/// Tags a [`SyntaxError`] in an attribute path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathGrammar;

impl<G> SyntaxError<G> {
    pub(crate) fn new(message: impl Into<String>, input: &str, offset: usize) -> Self {
        Self {
            message: message.into(),
            offset,
            column: column_of(input, offset),
            input: input.to_owned(),
            grammar: PhantomData,
        }
    }

    /// The same error, reported as part of text of another grammar (a path inside a filter).
    pub(crate) fn regrammar<H>(self) -> SyntaxError<H> {
        SyntaxError {
            message: self.message,
            offset: self.offset,
            column: self.column,
            input: self.input,
            grammar: PhantomData,
        }
    }

    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset into the input where the error was detected.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// One-based column (in characters) of [`SyntaxError::offset`].
    pub fn column(&self) -> usize {
        self.column
    }

    /// The text the error is about.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The input and, on a second line, a caret under the error's column: for logs and
    /// operator-facing messages.
    pub fn caret(&self) -> String {
        format!("{}\n{}^ {}", self.input, " ".repeat(self.column - 1), self.message)
    }
}

/// One-based character column of a byte offset (clamped to the input).
pub(crate) fn column_of(input: &str, offset: usize) -> usize {
    let mut end = offset.min(input.len());
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    input[..end].chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_characters_not_bytes() {
        assert_eq!(column_of("é.x", 3), 3);
    }

    #[test]
    fn a_path_error_inside_a_filter_keeps_its_position_and_message() {
        let in_path = SyntaxError::<PathGrammar>::new("expected an attribute name", "emails[.x]", 7);
        let in_filter: SyntaxError<FilterGrammar> = in_path.clone().regrammar();
        assert_eq!(in_filter.to_string(), in_path.to_string());
        assert_eq!((in_filter.offset(), in_filter.column()), (7, 8));
    }
}
