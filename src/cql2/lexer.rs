//! CQL2 text tokens. One left-to-right pass, no backtracking: each byte is
//! looked at a bounded number of times, so lexing is linear in the input.

use super::error::{Cql2Error, ErrorKind};

/// A token kind. Keywords are [`Tok::Ident`]s; the parser recognises them
/// case-insensitively, so that a quoted identifier can never be a keyword.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    /// An unsigned number; a sign is a separate token.
    Number(f64),
    /// A character literal with escapes resolved.
    Str(String),
    /// An unquoted identifier or keyword, as written.
    Ident(&'a str),
    /// A double-quoted identifier, quotes removed.
    Quoted(String),
    Eof,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub pos: usize,
}

/// Words that are never property names unless double-quoted.
const RESERVED: &[&str] = &[
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "DIV",
];

/// Whether `word` is a keyword that cannot be a bare property name.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// `identifierStart` of the CQL2 BNF.
pub(crate) fn is_ident_start(c: char) -> bool {
    matches!(c,
        ':' | '_' | 'A'..='Z' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFE}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// `identifierPart` of the CQL2 BNF.
pub(crate) fn is_ident_part(c: char) -> bool {
    is_ident_start(c)
        || matches!(c, '.' | '0'..='9' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
///
/// # Errors
/// An unknown character, an unterminated string or quoted identifier, a
/// malformed or out-of-range number, each with its byte offset.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, Cql2Error> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while let Some(c) = src.get(i..).and_then(|s| s.chars().next()) {
        let pos = i;
        let single = |tok: Tok<'static>| (tok, 1usize);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            ',' => single(Tok::Comma),
            '=' => single(Tok::Eq),
            '+' => single(Tok::Plus),
            '-' => single(Tok::Minus),
            '*' => single(Tok::Star),
            '/' => single(Tok::Slash),
            '%' => single(Tok::Percent),
            '^' => single(Tok::Caret),
            '<' => match bytes.get(i + 1) {
                Some(b'>') => (Tok::Ne, 2),
                Some(b'=') => (Tok::Le, 2),
                _ => (Tok::Lt, 1),
            },
            '>' => match bytes.get(i + 1) {
                Some(b'=') => (Tok::Ge, 2),
                _ => (Tok::Gt, 1),
            },
            // Not in the BNF, but common (and accepted by earlier versions of this server).
            '!' if bytes.get(i + 1) == Some(&b'=') => (Tok::Ne, 2),
            '0'..='9' | '.' => number(src, i)?,
            '\'' => string(src, i)?,
            '"' => quoted(src, i)?,
            c if is_ident_start(c) => {
                let rest = &src[i..];
                let len = rest
                    .char_indices()
                    .find(|&(_, ch)| !is_ident_part(ch))
                    .map_or(rest.len(), |(n, _)| n);
                (Tok::Ident(&rest[..len]), len)
            }
            other => {
                return Err(Cql2Error::syntax(
                    pos,
                    format!("unexpected character '{}'", other.escape_debug()),
                ))
            }
        };
        out.push(Token { tok, pos });
        i += len;
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: src.len(),
    });
    Ok(out)
}

fn digits(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// `decimalNumericLiteral` or `scientificNumericLiteral`, unsigned.
fn number(src: &str, start: usize) -> Result<(Tok<'static>, usize), Cql2Error> {
    let bytes = src.as_bytes();
    let mut i = digits(bytes, start);
    let int_digits = i - start;
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        let after = digits(bytes, i + 1);
        frac_digits = after - (i + 1);
        i = after;
    }
    if int_digits == 0 && frac_digits == 0 {
        return Err(Cql2Error::syntax(start, "expected a number"));
    }
    // An exponent only when digits follow: `1e` followed by a name is not one.
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let end = digits(bytes, j);
        if end > j {
            i = end;
        }
    }
    let text = &src[start..i];
    let value: f64 = text
        .parse()
        .map_err(|_| Cql2Error::syntax(start, format!("malformed number '{text}'")))?;
    if !value.is_finite() {
        return Err(Cql2Error::new(
            start,
            ErrorKind::NumberOutOfRange(text.to_owned()),
        ));
    }
    Ok((Tok::Number(value), i - start))
}

/// A character literal: `''` and `\'` are a quote, `\\` a backslash, `\a \b
/// \t \n \v \f \r` control characters (CQL2 text requirement "escaping").
/// Any other backslash is kept with the character after it, so that the LIKE
/// escapes `\%` and `\_` reach the pattern as written.
fn string(src: &str, start: usize) -> Result<(Tok<'static>, usize), Cql2Error> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '\'' => {
                if src[start + 1 + n + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Ok((Tok::Str(out), n + 2));
                }
            }
            '\\' => match chars.next() {
                Some((_, e)) => match e {
                    '\'' => out.push('\''),
                    '\\' => out.push('\\'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    't' => out.push('\t'),
                    'n' => out.push('\n'),
                    'v' => out.push('\u{b}'),
                    'f' => out.push('\u{c}'),
                    'r' => out.push('\r'),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                },
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(Cql2Error::syntax(start, "unterminated character literal"))
}

/// A double-quoted property name; `""` stands for a quote inside it.
fn quoted(src: &str, start: usize) -> Result<(Tok<'static>, usize), Cql2Error> {
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices().peekable();
    while let Some((n, c)) = chars.next() {
        if c == '"' {
            if chars.peek().is_some_and(|&(_, d)| d == '"') {
                chars.next();
                out.push('"');
            } else {
                if out.is_empty() {
                    return Err(Cql2Error::syntax(start, "empty quoted property name"));
                }
                return Ok((Tok::Quoted(out), n + 2));
            }
        } else {
            out.push(c);
        }
    }
    Err(Cql2Error::syntax(
        start,
        "unterminated quoted property name",
    ))
}
