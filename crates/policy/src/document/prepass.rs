//! The tolerant pre-pass: APIM accepts documents whose C# expressions (`@(...)`, `@{...}`)
//! carry raw `"`, `<`, `>` and `&`, which no XML parser accepts. We find every expression span
//! by balanced delimiters (skipping C# string, char and comment forms, which may hold
//! unbalanced delimiters), replace it with a short placeholder token and keep the original span
//! in a side table. The rest is plain XML for roxmltree. An offset map from the rewritten text
//! back to the source lets every error report the line and column of the ORIGINAL file.

/// Opens a placeholder in the rewritten text. Private-use characters: legal XML character
/// data that never needs escaping and survives attribute-value normalisation.
pub(crate) const OPEN: char = '\u{E000}';
/// Closes a placeholder.
pub(crate) const CLOSE: char = '\u{E001}';

/// `@( … )` is one expression, `@{ … }` a statement block: the expression language's own kind.
pub use crate::expr::ExprKind;

/// One expression found in the source.
#[derive(Debug, Clone)]
pub(crate) struct ExprSpan {
    pub kind: ExprKind,
    /// Byte offset of the `@` in the original source.
    pub start: usize,
    /// Byte offset of the first content byte (after `@(` / `@{`).
    pub content_start: usize,
    /// The text between the delimiters, exactly as written (entities not decoded).
    pub raw: String,
}

/// A pre-pass failure, at a byte offset of the original source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrepassError {
    pub offset: usize,
    pub message: String,
}

/// The rewritten text plus what is needed to go back to the source.
#[derive(Debug)]
pub(crate) struct Prepassed {
    pub text: String,
    pub exprs: Vec<ExprSpan>,
    /// Sorted `(rewritten_offset, original_offset)` segment starts; inside a segment offsets
    /// advance together, a placeholder maps every offset to its expression's `@`.
    map: Vec<(usize, usize, bool)>,
}

impl Prepassed {
    /// Maps an offset of the rewritten text to an offset of the original source.
    pub fn original_offset(&self, rewritten: usize) -> usize {
        let idx = match self.map.binary_search_by(|(r, _, _)| r.cmp(&rewritten)) {
            Ok(i) => i,
            Err(0) => return rewritten,
            Err(i) => i - 1,
        };
        let (r, o, placeholder) = self.map[idx];
        if placeholder { o } else { o + (rewritten - r) }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Tag,
    Attr(u8),
}

/// Runs the pre-pass over a whole document.
pub(crate) fn prepass(src: &str) -> Result<Prepassed, PrepassError> {
    if let Some(offset) = src.find([OPEN, CLOSE]) {
        return Err(PrepassError {
            offset,
            message: "the private-use characters U+E000/U+E001 are reserved".into(),
        });
    }
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut exprs = Vec::new();
    let mut map = vec![(0usize, 0usize, false)];
    let mut copied_from = 0usize;
    let mut i = 0usize;
    let mut mode = Mode::Text;
    while i < b.len() {
        match mode {
            Mode::Text => {
                if b[i] == b'<' {
                    let rest = &src[i..];
                    let skip_to = if rest.starts_with("<!--") {
                        Some(("-->", "comment"))
                    } else if rest.starts_with("<![CDATA[") {
                        Some(("]]>", "CDATA section"))
                    } else if rest.starts_with("<?") {
                        Some(("?>", "processing instruction"))
                    } else if rest.starts_with("<!") {
                        Some((">", "declaration"))
                    } else {
                        None
                    };
                    match skip_to {
                        Some((end, what)) => match src[i + 2..].find(end) {
                            Some(p) => i = i + 2 + p + end.len(),
                            None => {
                                return Err(PrepassError {
                                    offset: i,
                                    message: format!("unterminated {what}"),
                                });
                            }
                        },
                        None => {
                            mode = Mode::Tag;
                            i += 1;
                        }
                    }
                    continue;
                }
            }
            Mode::Tag => {
                match b[i] {
                    b'"' | b'\'' => mode = Mode::Attr(b[i]),
                    b'>' => mode = Mode::Text,
                    _ => {}
                }
                i += 1;
                continue;
            }
            Mode::Attr(q) => {
                if b[i] == q {
                    mode = Mode::Tag;
                    i += 1;
                    continue;
                }
            }
        }
        // Text or attribute value: an expression may start here.
        if b[i] == b'@' && matches!(b.get(i + 1), Some(b'(') | Some(b'{')) {
            let kind = if b[i + 1] == b'(' {
                ExprKind::Single
            } else {
                ExprKind::Block
            };
            let end = scan_expression(src, i + 1)?;
            out.push_str(&src[copied_from..i]);
            map.push((out.len(), i, true));
            out.push(OPEN);
            out.push_str(&exprs.len().to_string());
            out.push(CLOSE);
            exprs.push(ExprSpan {
                kind,
                start: i,
                content_start: i + 2,
                raw: src[i + 2..end].to_string(),
            });
            i = end + 1;
            copied_from = i;
            map.push((out.len(), i, false));
            continue;
        }
        i += 1;
    }
    out.push_str(&src[copied_from..]);
    Ok(Prepassed {
        text: out,
        exprs,
        map,
    })
}

/// Given the offset of an opening `(` or `{`, returns the offset of its matching closer,
/// skipping C# literals and comments. XML-escaped quotes (`&quot;`, `&apos;`) count as quotes
/// so that documents written as strict XML scan the same as raw ones.
pub(crate) fn scan_expression(src: &str, open: usize) -> Result<usize, PrepassError> {
    let b = src.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = open;
    while i < b.len() {
        let c = b[i];
        match c {
            b'(' | b'{' | b'[' => {
                stack.push((c, i));
                i += 1;
            }
            b')' | b'}' | b']' => {
                let want = match c {
                    b')' => b'(',
                    b'}' => b'{',
                    _ => b'[',
                };
                match stack.pop() {
                    Some((o, _)) if o == want => {
                        if stack.is_empty() {
                            return Ok(i);
                        }
                        i += 1;
                    }
                    Some((o, at)) => {
                        return Err(PrepassError {
                            offset: i,
                            message: format!(
                                "expression: '{}' does not close '{}' opened at byte {}",
                                c as char, o as char, at
                            ),
                        });
                    }
                    None => {
                        return Err(PrepassError {
                            offset: i,
                            message: format!("expression: unexpected '{}'", c as char),
                        });
                    }
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = src[i..].find('\n').map_or(b.len(), |p| i + p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match src[i + 2..].find("*/") {
                Some(p) => i = i + 2 + p + 2,
                None => return Err(unterminated(i, "comment")),
            },
            b'\'' => i = skip_char_literal(src, i, 1)?,
            b'"' => i = skip_string(src, i + 1, Quote::Raw, false, false)?,
            b'&' if src[i..].starts_with("&quot;") => {
                i = skip_string(src, i + 6, Quote::Entity, false, false)?;
            }
            b'&' if src[i..].starts_with("&apos;") => i = skip_char_literal(src, i, 6)?,
            b'@' | b'$' => {
                // Verbatim `@"…"`, interpolated `$"…"`, and both `$@"…"` / `@$"…"`.
                let mut j = i;
                let mut verbatim = false;
                let mut interpolated = false;
                while j < b.len() && (b[j] == b'@' || b[j] == b'$') && j - i < 2 {
                    verbatim |= b[j] == b'@';
                    interpolated |= b[j] == b'$';
                    j += 1;
                }
                if b.get(j) == Some(&b'"') {
                    i = skip_string(src, j + 1, Quote::Raw, verbatim, interpolated)?;
                } else if src[j..].starts_with("&quot;") {
                    i = skip_string(src, j + 6, Quote::Entity, verbatim, interpolated)?;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    let at = stack.first().map_or(open, |(_, at)| *at);
    Err(unterminated(
        at,
        "expression (no matching closing delimiter)",
    ))
}

#[derive(Clone, Copy)]
enum Quote {
    Raw,
    Entity,
}

impl Quote {
    fn at(self, src: &str, i: usize) -> Option<usize> {
        match self {
            Quote::Raw => (src.as_bytes().get(i) == Some(&b'"')).then_some(1),
            // Bytes, not `src[i..]`: after an escape `i` may sit inside a multi-byte
            // character.
            Quote::Entity => src
                .as_bytes()
                .get(i..)
                .is_some_and(|rest| rest.starts_with(b"&quot;"))
                .then_some(6),
        }
    }
}

fn unterminated(offset: usize, what: &str) -> PrepassError {
    PrepassError {
        offset,
        message: format!("expression: unterminated {what}"),
    }
}

/// Skips a char literal starting at `i` (the quote is `qlen` bytes long); returns the offset
/// after it.
fn skip_char_literal(src: &str, i: usize, qlen: usize) -> Result<usize, PrepassError> {
    let b = src.as_bytes();
    let mut j = i + qlen;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\'' => return Ok(j + 1),
            b'&' if src[j..].starts_with("&apos;") => return Ok(j + 6),
            b'\n' => break,
            _ => j += 1,
        }
    }
    Err(unterminated(i, "char literal"))
}

/// Skips a string whose content starts at `j`; returns the offset after the closing quote.
/// Interpolation holes `{…}` are scanned as nested expressions (they may hold strings).
fn skip_string(
    src: &str,
    mut j: usize,
    quote: Quote,
    verbatim: bool,
    interpolated: bool,
) -> Result<usize, PrepassError> {
    let start = j;
    let b = src.as_bytes();
    while j < b.len() {
        if let Some(len) = quote.at(src, j) {
            if verbatim && let Some(len2) = quote.at(src, j + len) {
                j += len + len2;
                continue;
            }
            return Ok(j + len);
        }
        match b[j] {
            b'\\' if !verbatim => j += 2,
            b'\n' if !verbatim => break,
            b'{' if interpolated => {
                if b.get(j + 1) == Some(&b'{') {
                    j += 2;
                } else {
                    j = scan_expression(src, j)? + 1;
                }
            }
            b'}' if interpolated && b.get(j + 1) == Some(&b'}') => j += 2,
            _ => j += 1,
        }
    }
    Err(unterminated(start.saturating_sub(1), "string literal"))
}

/// Decodes the XML entities a strict-XML author would have used inside an expression.
/// Unknown `&…;` sequences are left alone (they are C# text, e.g. `a&b`).
pub(crate) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let decoded = rest.find(';').filter(|&e| e <= 10).and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                _ => name
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Line and column (1-based, column in characters) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let col = before[line_start..].chars().count() + 1;
    (to_u32(line), to_u32(col))
}

/// Byte offset of a 1-based (line, column-in-characters) position.
pub(crate) fn offset_of(src: &str, line: u32, col: u32) -> usize {
    let mut start = 0usize;
    for _ in 1..line {
        match src[start..].find('\n') {
            Some(p) => start += p + 1,
            None => return src.len(),
        }
    }
    let skip = col.saturating_sub(1) as usize;
    src[start..]
        .char_indices()
        .nth(skip)
        .map_or(src.len(), |(p, _)| start + p)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expression sources found in `src`, in order.
    fn exprs(src: &str) -> Vec<String> {
        match prepass(src) {
            Ok(p) => p.exprs.into_iter().map(|e| e.raw).collect(),
            Err(e) => panic!("prepass failed: {e:?}"),
        }
    }

    #[test]
    fn single_and_block_in_attribute_and_text() {
        let src = r#"<a c="@(x(1))"><b>@{ return 1; }</b></a>"#;
        let p = prepass(src).unwrap();
        assert_eq!(p.exprs.len(), 2);
        assert_eq!(p.exprs[0].kind, ExprKind::Single);
        assert_eq!(p.exprs[0].raw, "x(1)");
        assert_eq!(p.exprs[1].kind, ExprKind::Block);
        assert_eq!(p.exprs[1].raw, " return 1; ");
        assert!(roxmltree::Document::parse(&p.text).is_ok());
    }

    #[test]
    fn raw_quotes_angles_and_ampersands_in_attribute() {
        let src = r#"<a c="@(context.Variables.GetValueOrDefault<bool>("ok") && a < b)" d="x"/>"#;
        let p = prepass(src).unwrap();
        assert_eq!(
            p.exprs[0].raw,
            r#"context.Variables.GetValueOrDefault<bool>("ok") && a < b"#
        );
        let doc = roxmltree::Document::parse(&p.text).unwrap();
        assert_eq!(doc.root_element().attribute("d"), Some("x"));
    }

    #[test]
    fn raw_specials_in_text() {
        let src = "<a>@{ if (a < b && c > d) { return \"<x>\"; } }</a>";
        assert_eq!(
            exprs(src),
            vec![" if (a < b && c > d) { return \"<x>\"; } "]
        );
    }

    #[test]
    fn string_literals_hide_delimiters() {
        assert_eq!(
            exprs(r#"<a v="@(f(")") + "\")(")"/>"#),
            vec![r#"f(")") + "\")(""#]
        );
    }

    #[test]
    fn verbatim_strings_with_doubled_quotes() {
        assert_eq!(
            exprs(r#"<a>@(@"c:\x"")(" + 1)</a>"#),
            vec![r#"@"c:\x"")(" + 1"#]
        );
    }

    #[test]
    fn interpolated_strings_with_holes_and_nested_strings() {
        let src = r#"<a>@($"a{f(")")}b{{c}}" + $@"x{y}""z")</a>"#;
        assert_eq!(exprs(src), vec![r#"$"a{f(")")}b{{c}}" + $@"x{y}""z""#]);
    }

    #[test]
    fn char_literals_and_comments() {
        let src = "<a>@{ var c = ')'; var d = '\\''; // ) }\n /* } */ return c; }</a>";
        assert_eq!(
            exprs(src),
            vec![" var c = ')'; var d = '\\''; // ) }\n /* } */ return c; "]
        );
    }

    #[test]
    fn nested_parentheses_and_braces() {
        let src = "<a>@{ var o = new { a = (1 + (2)) }; return o[\"a\"]; }</a>";
        assert_eq!(
            exprs(src),
            vec![" var o = new { a = (1 + (2)) }; return o[\"a\"]; "]
        );
    }

    #[test]
    fn xml_escaped_expression_is_scanned_too() {
        let src = r#"<a c="@(f(&quot;)&quot;))"/>"#;
        let found = exprs(src);
        assert_eq!(found, vec!["f(&quot;)&quot;)"]);
        assert_eq!(decode_entities(&found[0]), r#"f(")")"#);
    }

    #[test]
    fn comments_and_cdata_are_not_scanned() {
        assert!(exprs("<!-- @( --><a><![CDATA[@(]]></a>").is_empty());
    }

    #[test]
    fn unbalanced_expression_reports_original_offset() {
        let src = "<a>\n  <b c=\"@(f(x)\"/>\n</a>";
        // The `"` that should end the attribute opens a C# string the line never closes.
        let e = prepass(src).unwrap_err();
        assert_eq!(line_col(src, e.offset), (2, 15));
        let src = "<a>\n  <b>@{ if (x) { y(); </b>\n</a>";
        let e = prepass(src).unwrap_err();
        assert_eq!(line_col(src, e.offset), (2, 7), "{e:?}");
        let e = prepass("<a>@(\"abc)</a>").unwrap_err();
        assert!(e.message.contains("string"), "{}", e.message);
    }

    #[test]
    fn offsets_map_back_across_placeholders() {
        let src = "<a c=\"@(a\n\n\"x\")\">\n<b>@{ long\nblock }</b><zz/></a>";
        let p = prepass(src).unwrap();
        let z = p.text.find("<zz").unwrap();
        let orig = p.original_offset(z);
        assert_eq!(&src[orig..orig + 3], "<zz");
        assert_eq!(line_col(src, orig), (5, 12));
        let inside = p.text.find(OPEN).unwrap() + 1;
        assert_eq!(p.original_offset(inside), src.find('@').unwrap());
    }

    /// Found by the policy_prepass fuzz target (fuzz/regressions/policy_prepass): an escape
    /// in an entity-quoted string skips two bytes, which may land inside a multi-byte
    /// character; looking for the closing `&quot;` there sliced the text mid-character.
    #[test]
    fn escape_before_a_multibyte_character_in_an_entity_string() {
        for src in [
            "<a c=\"@(&quot;\\\u{e9}&quot;)\"/>",
            "<a c=\"@(&quot;\\\u{feff}x&quot;)\"/>",
            "<a>@(&quot;\\\u{1F600}</a>",
        ] {
            let _ = prepass(src);
        }
        let found = exprs("<a c=\"@(&quot;\\\u{e9}&quot;)\"/>");
        assert_eq!(found, vec!["&quot;\\\u{e9}&quot;"]);
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a &lt; b &amp;&amp; &#65;&#x42; &foo; &"),
            "a < b && AB &foo; &"
        );
    }
}
