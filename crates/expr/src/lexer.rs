//! Tokenizer for the C# subset. It works on bytes of UTF-8 text and keeps byte offsets so that
//! every error can point at the place in the policy where the author has to look.

use crate::error::ExprError;
use crate::numeric::{Kind, Num};

/// One piece of an interpolated string: literal text, or an expression hole whose source text is
/// kept (with its offset) and parsed by the parser, so the lexer stays free of grammar.
#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    /// Literal text, escapes already resolved.
    Text(String),
    /// `{expr[,align][:format]}`: the expression text, its byte offset, the alignment (a
    /// field width: right-aligned when positive, left when negative) and the format string.
    Hole {
        source: String,
        offset: usize,
        align: Option<i64>,
        format: Option<String>,
    },
}

/// Token kinds. Keywords are kept as identifiers; the parser decides by context, as C# does for
/// contextual keywords like `var`.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A numeric literal with its C# type (by suffix and size: `1` int, `3000000000` uint,
    /// `1L` long, `1.5f` float, `1.50m` decimal).
    Num(Num),
    Str(String),
    Char(char),
    Interp(Vec<InterpPart>),
    /// Operators and punctuation.
    Punct(&'static str),
    Eof,
}

/// A token with its byte range in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Multi-character operators first so that the longest match wins. `>` is always a single token
/// so that `List<List<int>>` closes two generic lists; the parser joins `>` `>` into a shift.
const PUNCTS: &[&str] = &[
    "??=", "<<=", "?.", "??", "=>", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "<<", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~",
    "&", "|", "^", "?", ":", ".", ",", ";", "(", ")", "[", "]", "{", "}",
];

/// C# line terminators (ECMA-334 §6.3.2): CR, LF, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Whitespace between tokens as C# defines it (ECMA-334 §6.3.4): every Unicode space separator
/// (category Zs, e.g. the no-break space U+00A0 that editors paste), tab, vertical tab and
/// form feed, plus the line terminators.
fn is_trivia_space(c: char) -> bool {
    is_line_terminator(c)
        || matches!(
            c,
            ' ' | '\t' | '\u{b}' | '\u{c}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
                ..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
        )
}

/// Splits `source` into tokens; `base` is added to every offset (used for interpolation holes).
pub fn tokenize(source: &str, base: usize) -> Result<Vec<Token>, ExprError> {
    let mut lx = Lexer {
        src: source,
        bytes: source.as_bytes(),
        pos: 0,
        base,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.pos;
        if start >= lx.bytes.len() {
            out.push(Token {
                tok: Tok::Eof,
                start: base + start,
                end: base + start,
            });
            return Ok(out);
        }
        let tok = lx.next_token()?;
        out.push(Token {
            tok,
            start: base + start,
            end: base + lx.pos,
        });
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl Lexer<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> ExprError {
        ExprError::new(self.base + at, message)
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn skip_trivia(&mut self) -> Result<(), ExprError> {
        loop {
            let c = self.peek(0);
            if c.is_ascii() && c != 0 && is_trivia_space(c as char) {
                self.pos += 1;
            } else if c >= 0x80
                && let Some(ch) = self.cur_char()
                && is_trivia_space(ch)
            {
                self.pos += ch.len_utf8();
            } else if c == b'/' && self.peek(1) == b'/' {
                // A single-line comment ends at any C# line terminator, not only LF.
                while let Some(ch) = self.cur_char() {
                    if is_line_terminator(ch) {
                        break;
                    }
                    self.pos += ch.len_utf8();
                }
            } else if c == b'/' && self.peek(1) == b'*' {
                let start = self.pos;
                match self.src[self.pos + 2..].find("*/") {
                    Some(i) => self.pos += 2 + i + 2,
                    None => return Err(self.err(start, "unterminated comment")),
                }
            } else {
                return Ok(());
            }
        }
    }

    /// The character at the current position (the source is valid UTF-8, positions always sit on
    /// character boundaries because we only advance by whole characters).
    fn cur_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn next_token(&mut self) -> Result<Tok, ExprError> {
        let c = self.peek(0);
        let start = self.pos;
        match c {
            b'"' => {
                self.pos += 1;
                Ok(Tok::Str(self.regular_string(start)?))
            }
            b'@' if self.peek(1) == b'"' => {
                self.pos += 2;
                Ok(Tok::Str(self.verbatim_string(start)?))
            }
            b'$' => {
                if self.peek(1) == b'@' && self.peek(2) == b'"' {
                    self.pos += 3;
                    Ok(Tok::Interp(self.interpolated(start, true)?))
                } else if self.peek(1) == b'"' {
                    self.pos += 2;
                    Ok(Tok::Interp(self.interpolated(start, false)?))
                } else if self.peek(1) == b'$' {
                    Err(self
                        .err(start, "raw interpolated strings are not supported")
                        .unsupported("raw string literal"))
                } else {
                    Err(self.err(start, "unexpected character '$'"))
                }
            }
            b'@' if self.peek(1) == b'$' && self.peek(2) == b'"' => {
                self.pos += 3;
                Ok(Tok::Interp(self.interpolated(start, true)?))
            }
            b'@' if self.peek(1).is_ascii_alphabetic() || self.peek(1) == b'_' => {
                // `@class`: a keyword used as an identifier.
                self.pos += 1;
                Ok(Tok::Ident(self.ident()))
            }
            b'\'' => {
                self.pos += 1;
                self.char_literal(start)
            }
            b'0'..=b'9' => self.number(start),
            b'.' if self.peek(1).is_ascii_digit() => self.number(start),
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let ch = self.cur_char().unwrap_or('\0');
                if ch.is_alphabetic() || ch == '_' {
                    Ok(Tok::Ident(self.ident()))
                } else {
                    Err(self.err(start, format!("unexpected character '{ch}'")))
                }
            }
            _ => {
                for p in PUNCTS {
                    if self.bytes[self.pos..].starts_with(p.as_bytes()) {
                        self.pos += p.len();
                        return Ok(Tok::Punct(p));
                    }
                }
                let ch = self.cur_char().unwrap_or('\0');
                Err(self.err(start, format!("unexpected character '{ch}'")))
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while let Some(ch) = self.cur_char() {
            if ch.is_alphanumeric() || ch == '_' {
                self.pos += ch.len_utf8();
            } else {
                break;
            }
        }
        self.src[start..self.pos].to_string()
    }

    /// Reads one escape sequence after a backslash (C# rules: \' \" \\ \0 \a \b \f \n \r \t \v
    /// \uXXXX \UXXXXXXXX \xH[H][H][H]).
    fn escape(&mut self) -> Result<char, ExprError> {
        let at = self.pos;
        let c = self.peek(0);
        self.pos += 1;
        let hex = |lx: &mut Self, min: usize, max: usize| -> Result<char, ExprError> {
            let mut v: u32 = 0;
            let mut n = 0;
            while n < max {
                let d = match (lx.peek(0) as char).to_digit(16) {
                    Some(d) => d,
                    None => break,
                };
                v = v * 16 + d;
                lx.pos += 1;
                n += 1;
            }
            if n < min {
                return Err(lx.err(at, "invalid escape sequence"));
            }
            char::from_u32(v).ok_or_else(|| lx.err(at, "invalid character in escape sequence"))
        };
        Ok(match c {
            b'\'' => '\'',
            b'"' => '"',
            b'\\' => '\\',
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'v' => '\u{b}',
            b'u' => hex(self, 4, 4)?,
            b'U' => hex(self, 8, 8)?,
            b'x' => hex(self, 1, 4)?,
            _ => return Err(self.err(at.saturating_sub(1), "unrecognized escape sequence")),
        })
    }

    fn regular_string(&mut self, start: usize) -> Result<String, ExprError> {
        let mut s = String::new();
        loop {
            let Some(ch) = self.cur_char() else {
                return Err(self.err(start, "unterminated string literal"));
            };
            self.pos += ch.len_utf8();
            match ch {
                '"' => return Ok(s),
                '\\' => s.push(self.escape()?),
                c if is_line_terminator(c) => {
                    return Err(self.err(start, "newline in string literal"));
                }
                _ => s.push(ch),
            }
        }
    }

    fn verbatim_string(&mut self, start: usize) -> Result<String, ExprError> {
        let mut s = String::new();
        loop {
            let Some(ch) = self.cur_char() else {
                return Err(self.err(start, "unterminated verbatim string literal"));
            };
            self.pos += ch.len_utf8();
            if ch == '"' {
                if self.peek(0) == b'"' {
                    self.pos += 1;
                    s.push('"');
                } else {
                    return Ok(s);
                }
            } else {
                s.push(ch);
            }
        }
    }

    fn char_literal(&mut self, start: usize) -> Result<Tok, ExprError> {
        let ch = match self.cur_char() {
            None | Some('\'') => {
                return Err(self.err(start, "empty or unterminated character literal"));
            }
            Some(c) if is_line_terminator(c) => {
                return Err(self.err(start, "empty or unterminated character literal"));
            }
            Some('\\') => {
                self.pos += 1;
                self.escape()?
            }
            Some(c) => {
                self.pos += c.len_utf8();
                c
            }
        };
        if self.peek(0) != b'\'' {
            return Err(self.err(start, "too many characters in character literal"));
        }
        self.pos += 1;
        Ok(Tok::Char(ch))
    }

    fn number(&mut self, start: usize) -> Result<Tok, ExprError> {
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X' | b'b' | b'B') {
            let radix = if matches!(self.peek(1), b'x' | b'X') {
                16
            } else {
                2
            };
            self.pos += 2;
            let ds = self.pos;
            while (self.peek(0) as char).is_digit(radix) || self.peek(0) == b'_' {
                self.pos += 1;
            }
            let digits: String = self.src[ds..self.pos]
                .chars()
                .filter(|c| *c != '_')
                .collect();
            let v = u64::from_str_radix(&digits, radix)
                .map_err(|_| self.err(start, "integral constant is too large"))?;
            return Ok(Tok::Num(self.int_literal(v)));
        }
        let mut is_float = false;
        while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
            self.pos += 1;
        }
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            is_float = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() || self.peek(0) == b'_' {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), b'e' | b'E') {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(0), b'+' | b'-') {
                self.pos += 1;
            }
            if self.peek(0).is_ascii_digit() {
                is_float = true;
                while self.peek(0).is_ascii_digit() {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        let real = match self.peek(0) {
            b'd' | b'D' => Some(Kind::Double),
            b'f' | b'F' => Some(Kind::Float),
            b'm' | b'M' => Some(Kind::Decimal),
            _ if is_float => Some(Kind::Double),
            _ => None,
        };
        if let Some(kind) = real {
            if matches!(self.peek(0), b'd' | b'D' | b'f' | b'F' | b'm' | b'M') {
                self.pos += 1;
            }
            let bad = || {
                self.err(
                    start,
                    format!(
                        "floating-point constant is outside the range of type '{}'",
                        kind.full_name()
                    ),
                )
            };
            return Ok(Tok::Num(match kind {
                Kind::Float => {
                    let v: f32 = text.parse().map_err(|_| bad())?;
                    if v.is_infinite() {
                        return Err(bad());
                    }
                    Num::F32(v)
                }
                Kind::Decimal => {
                    use std::str::FromStr;
                    let d = if text.contains(['e', 'E']) {
                        rust_decimal::Decimal::from_scientific(&text)
                    } else {
                        rust_decimal::Decimal::from_str_exact(&text)
                            .or_else(|_| rust_decimal::Decimal::from_str(&text))
                    };
                    Num::Dec(d.map_err(|_| bad())?)
                }
                _ => {
                    let v: f64 = text.parse().map_err(|_| bad())?;
                    if v.is_infinite() {
                        return Err(bad());
                    }
                    Num::F64(v)
                }
            }));
        }
        let v: u64 = text
            .parse()
            .map_err(|_| self.err(start, "integral constant is too large"))?;
        Ok(Tok::Num(self.int_literal(v)))
    }

    /// An integer literal's type: the suffix (`U`, `L`, `UL`) and the first of int, uint, long,
    /// ulong its value fits (C# §6.4.5.3).
    fn int_literal(&mut self, v: u64) -> Num {
        let (mut unsigned, mut long) = (false, false);
        while matches!(self.peek(0), b'l' | b'L' | b'u' | b'U') {
            if matches!(self.peek(0), b'u' | b'U') {
                unsigned = true;
            } else {
                long = true;
            }
            self.pos += 1;
        }
        let kinds: &[Kind] = match (unsigned, long) {
            (false, false) => &[Kind::Int, Kind::UInt, Kind::Long, Kind::ULong],
            (true, false) => &[Kind::UInt, Kind::ULong],
            (false, true) => &[Kind::Long, Kind::ULong],
            (true, true) => &[Kind::ULong],
        };
        kinds
            .iter()
            .find_map(|k| k.fit(v as i128))
            .unwrap_or(Num::U64(v))
    }

    /// Interpolated string: text with `{{`/`}}` escapes and holes. A hole's end is found by a
    /// balanced scan that skips nested string and char literals, so `{d["a"]}` works.
    fn interpolated(&mut self, start: usize, verbatim: bool) -> Result<Vec<InterpPart>, ExprError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let Some(ch) = self.cur_char() else {
                return Err(self.err(start, "unterminated interpolated string"));
            };
            self.pos += ch.len_utf8();
            match ch {
                '"' if verbatim && self.peek(0) == b'"' => {
                    self.pos += 1;
                    text.push('"');
                }
                '"' => break,
                '\\' if !verbatim => text.push(self.escape()?),
                c if !verbatim && is_line_terminator(c) => {
                    return Err(self.err(start, "newline in string literal"));
                }
                '{' if self.peek(0) == b'{' => {
                    self.pos += 1;
                    text.push('{');
                }
                '}' if self.peek(0) == b'}' => {
                    self.pos += 1;
                    text.push('}');
                }
                '}' => return Err(self.err(self.pos - 1, "unexpected '}' in interpolated string")),
                '{' => {
                    if !text.is_empty() {
                        parts.push(InterpPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(self.hole()?);
                }
                _ => text.push(ch),
            }
        }
        if !text.is_empty() {
            parts.push(InterpPart::Text(text));
        }
        Ok(parts)
    }

    fn hole(&mut self) -> Result<InterpPart, ExprError> {
        let hs = self.pos;
        let mut depth = 0usize;
        let mut expr_end = None;
        loop {
            let Some(ch) = self.cur_char() else {
                return Err(self.err(hs, "unterminated interpolation hole"));
            };
            match ch {
                '"' | '\'' => {
                    // Skip a nested literal.
                    let s = self.pos;
                    self.pos += 1;
                    if ch == '"' {
                        self.regular_string(s)?;
                    } else {
                        self.char_literal(s)?;
                    }
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' => depth = depth.saturating_sub(1),
                '}' if depth > 0 => depth -= 1,
                '}' => break,
                ':' | ',' if depth == 0 && expr_end.is_none() => {
                    // `?:` inside a hole needs parentheses in C#, so `:` ends the expression.
                    expr_end = Some(self.pos);
                    if ch == ':' {
                        // The format string is raw text up to the closing brace: quotes in
                        // `{d:HH':'mm}` are custom-format literals, not C# literals.
                        while let Some(f) = self.cur_char() {
                            if f == '}' {
                                break;
                            }
                            self.pos += f.len_utf8();
                        }
                        continue;
                    }
                }
                _ => {}
            }
            self.pos += ch.len_utf8();
        }
        let end = self.pos;
        self.pos += 1; // the closing brace
        let (source, align, format) = match expr_end {
            Some(e) => {
                let spec = &self.src[e..end];
                let (align_text, format) = match spec.find(':') {
                    Some(i) => (&spec[..i], Some(spec[i + 1..].to_string())),
                    None => (spec, None),
                };
                let align = match align_text.strip_prefix(',') {
                    Some(a) => Some(a.trim().parse::<i64>().map_err(|_| {
                        self.err(
                            e,
                            "the alignment of an interpolation hole must be an integer",
                        )
                        .unsupported("non-literal interpolation alignment")
                    })?),
                    None => None,
                };
                (self.src[hs..e].to_string(), align, format)
            }
            None => (self.src[hs..end].to_string(), None, None),
        };
        if source.trim().is_empty() {
            return Err(self.err(hs, "empty interpolation hole"));
        }
        Ok(InterpPart::Hole {
            source,
            offset: self.base + hs,
            align,
            format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_holes() {
        let t = tokenize(r#"a?.b $"x{c:F2}""#, 10).expect("lexes");
        assert_eq!(t[0].start, 10);
        assert_eq!(t[1].tok, Tok::Punct("?."));
        match &t[3].tok {
            Tok::Interp(parts) => assert_eq!(
                parts[1],
                InterpPart::Hole {
                    source: "c".into(),
                    offset: 19,
                    align: None,
                    format: Some("F2".into())
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(t.last().map(|t| &t.tok), Some(Tok::Eof)));
    }

    #[test]
    fn unicode_space_separators_are_trivia() {
        let t = tokenize("a\u{a0}b\u{3000}c\u{2028}d\u{85}e", 0).expect("lexes");
        let names: Vec<_> = t
            .iter()
            .filter_map(|t| match &t.tok {
                Tok::Ident(n) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        // U+00A0 is two bytes: offsets stay byte offsets.
        assert_eq!(t[1].start, 3);
        assert!(tokenize("'\u{2029}'", 0).is_err());
    }

    #[test]
    fn bad_input_is_an_error() {
        for s in ["\"abc", "'ab'", "/* x", "\"\\q\"", "#", "$\"{\"", "0x"] {
            assert!(tokenize(s, 0).is_err(), "{s}");
        }
    }
}
