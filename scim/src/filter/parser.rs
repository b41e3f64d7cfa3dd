//! Recursive-descent parser for filters (RFC 7644 §3.4.2.2, Figure 1) and PATCH paths
//! (RFC 7644 §3.5.2).
//!
//! Grammar, as parsed (keywords and operators case-insensitive):
//!
//! ```text
//! filter    = or
//! or        = and *("or" and)
//! and       = unary *("and" unary)
//! unary     = "not" "(" or ")" / "(" or ")" / attrExp / valuePath
//! valuePath = attrPath "[" or "]"        ; no valuePath inside, paths relative
//! attrExp   = attrPath "pr" / attrPath compareOp compValue
//! compValue = "false" / "null" / "true" / number / string
//! patchPath = attrPath / attrPath "[" or "]" ["." ATTRNAME]
//! ```
//!
//! Precedence, tightest first (RFC 7644 §3.4.2.2: "and" binds tighter than "or"):
//!
//! | level | construct                  | associativity          |
//! |-------|----------------------------|------------------------|
//! | 1     | `( )`, `[ ]`, `not ( )`    | —                      |
//! | 2     | attribute operators        | —                      |
//! | 3     | `and`                      | n-ary (one flat node)  |
//! | 4     | `or`                       | n-ary (one flat node)  |
//!
//! So `a and b or c` is `(a and b) or c` and `a or b and c` is `a or (b and c)`.
//!
//! Limits: inputs longer than [`ParseLimits::max_len`] bytes and nesting (parentheses,
//! `not`, brackets) deeper than [`ParseLimits::max_depth`] are errors, so no input can
//! exhaust the stack; more than [`ParseLimits::max_clauses`] comparisons or presence tests
//! and more than [`ParseLimits::max_value_paths`] value filters are errors too, so no
//! filter costs the database more than a bounded query.

use super::lexer::{Token, TokenKind, tokenize};
use super::{CompValue, CompareOp, Filter, FilterError};
use crate::path::{AttrPath, PatchPath, PatchPathError};

/// Bounds on what the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Longest accepted input, in bytes.
    pub max_len: usize,
    /// Deepest accepted nesting of parentheses, `not` and value-path brackets.
    pub max_depth: usize,
    /// Most comparisons and presence tests (`pr`), those inside value filters included.
    pub max_clauses: usize,
    /// Most value filters (`emails[type eq "work"]`).
    pub max_value_paths: usize,
}

impl ParseLimits {
    /// 8 KiB, 32 levels, 200 clauses, 20 value filters: far beyond what any identity
    /// provider sends.
    pub const DEFAULT: ParseLimits =
        ParseLimits { max_len: 8 * 1024, max_depth: 32, max_clauses: 200, max_value_paths: 20 };
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Parses a filter under the given limits.
pub(crate) fn parse_filter(input: &str, limits: ParseLimits) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(input, limits)?;
    let filter = parser.or(0, false)?;
    parser.expect_end()?;
    Ok(filter)
}

/// Parses a PATCH path (see [`PatchPath`]).
pub(crate) fn parse_patch_path(input: &str) -> Result<PatchPath, PatchPathError> {
    let mut parser = Parser::new(input, ParseLimits::DEFAULT)?;
    let Some(token) = parser.next() else {
        return Err(FilterError::new("expected an attribute path", input, 0).into());
    };
    if token.kind != TokenKind::Word {
        return Err(FilterError::new("expected an attribute path", input, token.start).into());
    }
    let attr = AttrPath::parse_at(&input[token.start..token.end], input, token.start)?;
    if parser.peek_kind() != Some(&TokenKind::LBracket) {
        parser.expect_end_of_path()?;
        return Ok(PatchPath::Attr(attr));
    }
    let filter = parser.value_path_filter(&attr, token.start, 0)?;
    let mut sub_attr = None;
    if let Some(dot) = parser.peek().cloned()
        && dot.kind == TokenKind::Dot
    {
        parser.pos += 1;
        let sub = match parser.next() {
            Some(t) if t.kind == TokenKind::Word => t,
            other => {
                let at = other.map_or(input.len(), |t| t.start);
                return Err(FilterError::new("expected a sub-attribute name", input, at).into());
            }
        };
        let text = &input[sub.start..sub.end];
        let sub_path = AttrPath::parse_at(text, input, sub.start)?;
        if sub_path.uri().is_some() || sub_path.sub_attr().is_some() {
            return Err(FilterError::new("expected a single sub-attribute name", input, sub.start).into());
        }
        sub_attr = Some(text.to_owned());
    }
    parser.expect_end_of_path()?;
    Ok(PatchPath::Value { attr, filter, sub_attr })
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    limits: ParseLimits,
    /// Comparisons and presence tests so far.
    clauses: usize,
    /// Value filters so far.
    value_paths: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, limits: ParseLimits) -> Result<Self, FilterError> {
        if input.len() > limits.max_len {
            return Err(FilterError::new(
                format!("filter is longer than {} bytes", limits.max_len),
                input,
                limits.max_len,
            ));
        }
        Ok(Self { input, tokens: tokenize(input)?, pos: 0, limits, clauses: 0, value_paths: 0 })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_kind(&self) -> Option<&TokenKind> {
        self.peek().map(|t| &t.kind)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn text(&self, token: &Token) -> &'a str {
        &self.input[token.start..token.end]
    }

    /// Whether the token at `pos + ahead` is the word `keyword` (ignoring case).
    fn is_keyword_at(&self, ahead: usize, keyword: &str) -> bool {
        self.tokens
            .get(self.pos + ahead)
            .is_some_and(|t| t.kind == TokenKind::Word && self.text(t).eq_ignore_ascii_case(keyword))
    }

    /// Byte offset of the current token, or the end of input.
    fn here(&self) -> usize {
        self.peek().map_or(self.input.len(), |t| t.start)
    }

    fn error(&self, message: impl Into<String>, at: usize) -> FilterError {
        FilterError::new(message, self.input, at)
    }

    fn enter(&self, depth: usize, at: usize) -> Result<usize, FilterError> {
        if depth >= self.limits.max_depth {
            return Err(self.error(format!("filter nests deeper than {} levels", self.limits.max_depth), at));
        }
        Ok(depth + 1)
    }

    fn expect_end(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(t) if t.kind == TokenKind::RParen => Err(self.error("unbalanced ')' with no matching '('", t.start)),
            Some(t) if t.kind == TokenKind::RBracket => Err(self.error("unbalanced ']' with no matching '['", t.start)),
            Some(t) => Err(self.error("expected 'and', 'or' or the end of the filter", t.start)),
        }
    }

    fn expect_end_of_path(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(self.error("expected the end of the path", t.start)),
        }
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<(), FilterError> {
        match self.peek() {
            Some(t) if &t.kind == kind => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.error(format!("expected {what}"), self.here())),
        }
    }

    /// `or = and *("or" and)`.
    fn or(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let first = self.and(depth, in_value)?;
        if !self.is_keyword_at(0, "or") {
            return Ok(first);
        }
        let mut children = vec![first];
        while self.is_keyword_at(0, "or") {
            self.pos += 1;
            children.push(self.and(depth, in_value)?);
        }
        Ok(Filter::Or(children))
    }

    /// `and = unary *("and" unary)`.
    fn and(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let first = self.unary(depth, in_value)?;
        if !self.is_keyword_at(0, "and") {
            return Ok(first);
        }
        let mut children = vec![first];
        while self.is_keyword_at(0, "and") {
            self.pos += 1;
            children.push(self.unary(depth, in_value)?);
        }
        Ok(Filter::And(children))
    }

    /// `unary = "not" "(" or ")" / "(" or ")" / attrExp / valuePath`.
    fn unary(&mut self, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error("expected an attribute path, 'not' or '(' but the filter ended", self.input.len()));
        };
        match token.kind {
            TokenKind::LParen => {
                let depth = self.enter(depth, token.start)?;
                self.pos += 1;
                let inner = self.or(depth, in_value)?;
                self.expect(&TokenKind::RParen, "')'")?;
                Ok(inner)
            }
            TokenKind::Word if self.is_not_keyword() => {
                let depth = self.enter(depth, token.start)?;
                self.pos += 1;
                self.expect(&TokenKind::LParen, "'(' after 'not'")?;
                let inner = self.or(depth, in_value)?;
                self.expect(&TokenKind::RParen, "')'")?;
                Ok(Filter::Not(Box::new(inner)))
            }
            TokenKind::Word => self.attr_expression(&token, depth, in_value),
            _ => Err(self.error("expected an attribute path, 'not' or '('", token.start)),
        }
    }

    /// A word `not` starts a negation unless it is an attribute called `not` (followed by
    /// an operator, `pr` or `[`).
    fn is_not_keyword(&self) -> bool {
        if !self.is_keyword_at(0, "not") {
            return false;
        }
        match self.tokens.get(self.pos + 1) {
            Some(t) if t.kind == TokenKind::Word => {
                let next = self.text(t);
                !(next.eq_ignore_ascii_case("pr") || CompareOp::from_keyword(next).is_some())
            }
            Some(t) => t.kind != TokenKind::LBracket,
            None => true,
        }
    }

    fn attr_expression(&mut self, token: &Token, depth: usize, in_value: bool) -> Result<Filter, FilterError> {
        self.pos += 1;
        let path = AttrPath::parse_at(self.text(token), self.input, token.start)?;
        if self.peek_kind() == Some(&TokenKind::LBracket) {
            if in_value {
                return Err(self.error("a value filter cannot contain another value filter", self.here()));
            }
            self.value_paths += 1;
            if self.value_paths > self.limits.max_value_paths {
                let message = format!("filter has more than {} value filters", self.limits.max_value_paths);
                return Err(self.error(message, token.start));
            }
            let filter = self.value_path_filter(&path, token.start, depth)?;
            if let Some(t) = self.peek()
                && t.kind == TokenKind::Dot
            {
                return Err(self.error(
                    "a sub-attribute after ']' is only allowed in PATCH paths; \
                     write the attribute inside the brackets",
                    t.start,
                ));
            }
            return Ok(Filter::ValuePath { path, filter: Box::new(filter) });
        }
        self.clauses += 1;
        if self.clauses > self.limits.max_clauses {
            let message = format!("filter has more than {} comparisons", self.limits.max_clauses);
            return Err(self.error(message, token.start));
        }
        let Some(op_token) = self.next() else {
            return Err(self.error("expected a comparison operator but the filter ended", self.input.len()));
        };
        let word = if op_token.kind == TokenKind::Word { self.text(&op_token) } else { "" };
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(self.error("expected a comparison operator", op_token.start));
        };
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `"[" or "]"` after `path` (which starts at `path_at`); the brackets count as a level.
    fn value_path_filter(&mut self, path: &AttrPath, path_at: usize, depth: usize) -> Result<Filter, FilterError> {
        if path.sub_attr().is_some() {
            return Err(self.error("a value filter applies to an attribute, not a sub-attribute", path_at));
        }
        let depth = self.enter(depth, self.here())?;
        self.pos += 1;
        let filter = self.or(depth, true)?;
        self.expect(&TokenKind::RBracket, "']'")?;
        Ok(filter)
    }

    fn comp_value(&mut self) -> Result<CompValue, FilterError> {
        const EXPECTED: &str = "expected a value (a string, number, true, false or null)";
        let Some(token) = self.next() else {
            return Err(self.error(format!("{EXPECTED} but the filter ended"), self.input.len()));
        };
        match token.kind {
            TokenKind::Str(s) => Ok(CompValue::String(s)),
            TokenKind::Num(n) => Ok(CompValue::Number(n)),
            TokenKind::Word => {
                let word = self.text(&token);
                if word.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else {
                    Err(self.error(EXPECTED, token.start))
                }
            }
            _ => Err(self.error(EXPECTED, token.start)),
        }
    }
}
