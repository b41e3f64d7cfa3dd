//! Splits a filter (RFC 7644 §3.4.2.2) into tokens with byte spans.
//!
//! Token classes:
//!
//! | token    | text                                              |
//! |----------|---------------------------------------------------|
//! | `Word`   | a letter or `$`, then letters, digits, `-_:.$`: attribute paths (URN prefixes included), keywords, operators, `true`/`false`/`null` |
//! | `Str`    | a JSON string with all JSON escapes, decoded      |
//! | `Num`    | a JSON number (`-`, fraction, exponent)           |
//! | `(` `)` `[` `]` `.` | punctuation; `.` only where a word cannot continue (after `]`) |
//!
//! Whitespace between tokens is skipped. The lexer does not know keywords: whether a word is
//! `and` or an attribute called `and` is the parser's call, by position.

use super::FilterError;

/// What a token is; words keep only their span (the text is in the input).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Word,
    Str(String),
    Num(serde_json::Number),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
}

/// One token and its byte span `start..end` in the input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'$'
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.' | b'$')
}

fn is_number_char(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
}

/// Tokenises the whole input.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                TokenKind::LParen
            }
            b')' => {
                i += 1;
                TokenKind::RParen
            }
            b'[' => {
                i += 1;
                TokenKind::LBracket
            }
            b']' => {
                i += 1;
                TokenKind::RBracket
            }
            b'.' => {
                i += 1;
                TokenKind::Dot
            }
            b'"' => {
                i = string_end(input, start)?;
                TokenKind::Str(decode_string(input, start, i)?)
            }
            c if c == b'-' || c.is_ascii_digit() => {
                while i < bytes.len() && is_number_char(bytes[i]) {
                    i += 1;
                }
                TokenKind::Num(decode_number(input, start, i)?)
            }
            c if is_word_start(c) => {
                while i < bytes.len() && is_word_char(bytes[i]) {
                    i += 1;
                }
                TokenKind::Word
            }
            _ => {
                let found = input[start..].chars().next().unwrap_or('?');
                return Err(FilterError::new(
                    format!("unexpected character '{found}'"),
                    input,
                    start,
                ));
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(tokens)
}

/// Byte offset just past the closing quote of the string starting at `start`.
fn string_end(input: &str, start: usize) -> Result<usize, FilterError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(FilterError::new("unterminated string", input, start))
}

fn decode_string(input: &str, start: usize, end: usize) -> Result<String, FilterError> {
    serde_json::from_str::<String>(&input[start..end]).map_err(|e| {
        // serde_json counts columns from 1 within the slice, which is a single line unless
        // the string holds a raw newline (itself an error at that character).
        let offset = if e.line() == 1 {
            start + e.column().saturating_sub(1)
        } else {
            start
        };
        FilterError::new(
            format!("invalid string: {}", serde_message(&e)),
            input,
            offset.min(end),
        )
    })
}

/// Decodes a JSON number (RFC 8259 §6). Integers stay integers; decimals are parsed with
/// Rust's correctly rounded `f64` parser so that printing and re-parsing is exact.
fn decode_number(input: &str, start: usize, end: usize) -> Result<serde_json::Number, FilterError> {
    let text = &input[start..end];
    let invalid = || FilterError::new(format!("invalid number '{text}'"), input, start);
    if !is_json_number(text) {
        return Err(invalid());
    }
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(n) = text.parse::<i64>() {
            return Ok(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Ok(n.into());
        }
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .ok_or_else(|| FilterError::new(format!("number '{text}' is out of range"), input, start))
}

/// `number = [ "-" ] int [ frac ] [ exp ]` from RFC 8259 §6.
fn is_json_number(text: &str) -> bool {
    fn digits(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    }
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => i = digits(b, i),
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        let after = digits(b, i + 1);
        if after == i + 1 {
            return false;
        }
        i = after;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let after = digits(b, i);
        if after == i {
            return false;
        }
        i = after;
    }
    i == b.len()
}

/// serde_json's message without its trailing " at line L column C".
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn a_urn_qualified_path_is_one_word() {
        let tokens =
            tokenize("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"").unwrap();
        assert_eq!(tokens.len(), 3);
        assert_eq!((tokens[0].start, tokens[0].end), (0, 51));
    }

    #[test]
    fn strings_decode_every_json_escape() {
        assert_eq!(
            kinds(r#""a\"b\\c\/d\be\ff\ng\rh\ti\u00e9\ud83d\ude00""#),
            vec![TokenKind::Str(
                "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti\u{e9}\u{1F600}".to_owned()
            )]
        );
    }

    #[test]
    fn numbers_accept_sign_fraction_and_exponent() {
        assert_eq!(
            kinds("-12 3.5 1e3 -2.5E-2"),
            vec![
                TokenKind::Num((-12).into()),
                TokenKind::Num(serde_json::Number::from_f64(3.5).unwrap()),
                TokenKind::Num(serde_json::Number::from_f64(1000.0).unwrap()),
                TokenKind::Num(serde_json::Number::from_f64(-0.025).unwrap()),
            ]
        );
    }

    #[test]
    fn a_dot_after_a_bracket_is_its_own_token() {
        assert_eq!(
            kinds("a[b pr].c"),
            vec![
                TokenKind::Word,
                TokenKind::LBracket,
                TokenKind::Word,
                TokenKind::Word,
                TokenKind::RBracket,
                TokenKind::Dot,
                TokenKind::Word,
            ]
        );
    }

    #[test]
    fn an_unterminated_string_points_at_its_opening_quote() {
        let err = tokenize("userName eq \"bjensen").unwrap_err();
        assert_eq!(err.column(), 13);
        assert_eq!(err.message(), "unterminated string");
    }

    #[test]
    fn an_invalid_escape_points_inside_the_string() {
        let err = tokenize(r#"a eq "x\qy""#).unwrap_err();
        assert_eq!(err.offset(), 8);
    }

    #[test]
    fn a_malformed_number_is_rejected() {
        let err = tokenize("a eq 01").unwrap_err();
        assert_eq!(err.message(), "invalid number '01'");
        assert_eq!(err.column(), 6);
    }

    #[test]
    fn a_stray_character_is_rejected_with_its_column() {
        let err = tokenize("a eq 1 & b pr").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected character '&' at column 8: a eq 1 & b pr"
        );
    }
}
