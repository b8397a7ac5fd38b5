//! `System.Net.WebUtility`: `HtmlEncode`, `HtmlDecode`, `UrlEncode`, `UrlDecode`,
//! `UrlEncodeToBytes`, `UrlDecodeToBytes`, as .NET's WebUtility.cs does them (the same code
//! in .NET Framework's reference source, which Mono ships: the C# oracle checks them,
//! crates/expr/tests/oracle/expressions.txt, "// webutility").

use super::*;

/// The entities `HtmlDecode` knows: HTML 4's 252 and `apos` (WebUtility.cs's `HtmlEntities`).
/// Names are case-sensitive; anything else is left as written.
#[rustfmt::skip]
const ENTITIES: &[(&str, u16)] = &[
    ("quot", 0x22), ("amp", 0x26), ("apos", 0x27), ("lt", 0x3c), ("gt", 0x3e),
    ("nbsp", 0xa0), ("iexcl", 0xa1), ("cent", 0xa2), ("pound", 0xa3), ("curren", 0xa4),
    ("yen", 0xa5), ("brvbar", 0xa6), ("sect", 0xa7), ("uml", 0xa8), ("copy", 0xa9),
    ("ordf", 0xaa), ("laquo", 0xab), ("not", 0xac), ("shy", 0xad), ("reg", 0xae),
    ("macr", 0xaf), ("deg", 0xb0), ("plusmn", 0xb1), ("sup2", 0xb2), ("sup3", 0xb3),
    ("acute", 0xb4), ("micro", 0xb5), ("para", 0xb6), ("middot", 0xb7), ("cedil", 0xb8),
    ("sup1", 0xb9), ("ordm", 0xba), ("raquo", 0xbb), ("frac14", 0xbc), ("frac12", 0xbd),
    ("frac34", 0xbe), ("iquest", 0xbf), ("Agrave", 0xc0), ("Aacute", 0xc1), ("Acirc", 0xc2),
    ("Atilde", 0xc3), ("Auml", 0xc4), ("Aring", 0xc5), ("AElig", 0xc6), ("Ccedil", 0xc7),
    ("Egrave", 0xc8), ("Eacute", 0xc9), ("Ecirc", 0xca), ("Euml", 0xcb), ("Igrave", 0xcc),
    ("Iacute", 0xcd), ("Icirc", 0xce), ("Iuml", 0xcf), ("ETH", 0xd0), ("Ntilde", 0xd1),
    ("Ograve", 0xd2), ("Oacute", 0xd3), ("Ocirc", 0xd4), ("Otilde", 0xd5), ("Ouml", 0xd6),
    ("times", 0xd7), ("Oslash", 0xd8), ("Ugrave", 0xd9), ("Uacute", 0xda), ("Ucirc", 0xdb),
    ("Uuml", 0xdc), ("Yacute", 0xdd), ("THORN", 0xde), ("szlig", 0xdf), ("agrave", 0xe0),
    ("aacute", 0xe1), ("acirc", 0xe2), ("atilde", 0xe3), ("auml", 0xe4), ("aring", 0xe5),
    ("aelig", 0xe6), ("ccedil", 0xe7), ("egrave", 0xe8), ("eacute", 0xe9), ("ecirc", 0xea),
    ("euml", 0xeb), ("igrave", 0xec), ("iacute", 0xed), ("icirc", 0xee), ("iuml", 0xef),
    ("eth", 0xf0), ("ntilde", 0xf1), ("ograve", 0xf2), ("oacute", 0xf3), ("ocirc", 0xf4),
    ("otilde", 0xf5), ("ouml", 0xf6), ("divide", 0xf7), ("oslash", 0xf8), ("ugrave", 0xf9),
    ("uacute", 0xfa), ("ucirc", 0xfb), ("uuml", 0xfc), ("yacute", 0xfd), ("thorn", 0xfe),
    ("yuml", 0xff), ("OElig", 0x152), ("oelig", 0x153), ("Scaron", 0x160), ("scaron", 0x161),
    ("Yuml", 0x178), ("fnof", 0x192), ("circ", 0x2c6), ("tilde", 0x2dc), ("Alpha", 0x391),
    ("Beta", 0x392), ("Gamma", 0x393), ("Delta", 0x394), ("Epsilon", 0x395), ("Zeta", 0x396),
    ("Eta", 0x397), ("Theta", 0x398), ("Iota", 0x399), ("Kappa", 0x39a), ("Lambda", 0x39b),
    ("Mu", 0x39c), ("Nu", 0x39d), ("Xi", 0x39e), ("Omicron", 0x39f), ("Pi", 0x3a0),
    ("Rho", 0x3a1), ("Sigma", 0x3a3), ("Tau", 0x3a4), ("Upsilon", 0x3a5), ("Phi", 0x3a6),
    ("Chi", 0x3a7), ("Psi", 0x3a8), ("Omega", 0x3a9), ("alpha", 0x3b1), ("beta", 0x3b2),
    ("gamma", 0x3b3), ("delta", 0x3b4), ("epsilon", 0x3b5), ("zeta", 0x3b6), ("eta", 0x3b7),
    ("theta", 0x3b8), ("iota", 0x3b9), ("kappa", 0x3ba), ("lambda", 0x3bb), ("mu", 0x3bc),
    ("nu", 0x3bd), ("xi", 0x3be), ("omicron", 0x3bf), ("pi", 0x3c0), ("rho", 0x3c1),
    ("sigmaf", 0x3c2), ("sigma", 0x3c3), ("tau", 0x3c4), ("upsilon", 0x3c5), ("phi", 0x3c6),
    ("chi", 0x3c7), ("psi", 0x3c8), ("omega", 0x3c9), ("thetasym", 0x3d1), ("upsih", 0x3d2),
    ("piv", 0x3d6), ("ensp", 0x2002), ("emsp", 0x2003), ("thinsp", 0x2009), ("zwnj", 0x200c),
    ("zwj", 0x200d), ("lrm", 0x200e), ("rlm", 0x200f), ("ndash", 0x2013), ("mdash", 0x2014),
    ("lsquo", 0x2018), ("rsquo", 0x2019), ("sbquo", 0x201a), ("ldquo", 0x201c),
    ("rdquo", 0x201d), ("bdquo", 0x201e), ("dagger", 0x2020), ("Dagger", 0x2021),
    ("bull", 0x2022), ("hellip", 0x2026), ("permil", 0x2030), ("prime", 0x2032),
    ("Prime", 0x2033), ("lsaquo", 0x2039), ("rsaquo", 0x203a), ("oline", 0x203e),
    ("frasl", 0x2044), ("euro", 0x20ac), ("image", 0x2111), ("weierp", 0x2118),
    ("real", 0x211c), ("trade", 0x2122), ("alefsym", 0x2135), ("larr", 0x2190),
    ("uarr", 0x2191), ("rarr", 0x2192), ("darr", 0x2193), ("harr", 0x2194), ("crarr", 0x21b5),
    ("lArr", 0x21d0), ("uArr", 0x21d1), ("rArr", 0x21d2), ("dArr", 0x21d3), ("hArr", 0x21d4),
    ("forall", 0x2200), ("part", 0x2202), ("exist", 0x2203), ("empty", 0x2205),
    ("nabla", 0x2207), ("isin", 0x2208), ("notin", 0x2209), ("ni", 0x220b), ("prod", 0x220f),
    ("sum", 0x2211), ("minus", 0x2212), ("lowast", 0x2217), ("radic", 0x221a),
    ("prop", 0x221d), ("infin", 0x221e), ("ang", 0x2220), ("and", 0x2227), ("or", 0x2228),
    ("cap", 0x2229), ("cup", 0x222a), ("int", 0x222b), ("there4", 0x2234), ("sim", 0x223c),
    ("cong", 0x2245), ("asymp", 0x2248), ("ne", 0x2260), ("equiv", 0x2261), ("le", 0x2264),
    ("ge", 0x2265), ("sub", 0x2282), ("sup", 0x2283), ("nsub", 0x2284), ("sube", 0x2286),
    ("supe", 0x2287), ("oplus", 0x2295), ("otimes", 0x2297), ("perp", 0x22a5),
    ("sdot", 0x22c5), ("lceil", 0x2308), ("rceil", 0x2309), ("lfloor", 0x230a),
    ("rfloor", 0x230b), ("lang", 0x2329), ("rang", 0x232a), ("loz", 0x25ca),
    ("spades", 0x2660), ("clubs", 0x2663), ("hearts", 0x2665), ("diams", 0x2666),
];

/// `WebUtility.HtmlEncode`: the five markup characters as entities, U+00A0–U+00FF and
/// characters outside the BMP as decimal character references.
pub(crate) fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '\u{a0}'..='\u{ff}' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) > 0xFFFF => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The most bytes `html_encode` makes of one input byte (`&quot;`; `&#NNN;` takes six for a
/// two-byte character, `&#NNNNNN;` ten for a four-byte one).
pub(crate) const HTML_ENCODE_GROWTH: usize = 6;

/// `uint.TryParse(s, NumberStyles.Integer)` (decimal, white space around, a sign) or with
/// `AllowHexSpecifier` (hex digits only).
fn parse_reference(s: &str, hex: bool) -> Option<u32> {
    if hex {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u32::from_str_radix(s, 16).ok();
    }
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r'));
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = digits.parse().ok()?;
    // A uint parses "-0" but no other negative number.
    (!negative || v == 0).then_some(v)
}

/// `WebUtility.HtmlDecode`: the entities of [`ENTITIES`] and `&#N;` / `&#xH;` character
/// references (a scalar value, not a surrogate); anything else stays as written.
pub(crate) fn html_decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        if c == '&'
            && let Some(len) = s[i + 1..].find(';')
        {
            let body = &s[i + 1..i + 1 + len];
            let end = i + 2 + len;
            if len > 1 && body.starts_with('#') {
                let digits = &body[1..];
                let parsed = match digits.strip_prefix(['x', 'X']) {
                    Some(h) => parse_reference(h, true),
                    None => parse_reference(digits, false),
                };
                if let Some(ch) = parsed.and_then(char::from_u32) {
                    out.push(ch);
                    i = end;
                    continue;
                }
            } else {
                match ENTITIES.iter().find(|(n, _)| *n == body) {
                    Some((_, v)) => out.push(char::from_u32(u32::from(*v)).unwrap_or('\u{fffd}')),
                    None => {
                        out.push('&');
                        out.push_str(body);
                        out.push(';');
                    }
                }
                i = end;
                continue;
            }
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The characters `UrlEncode` leaves as they are.
fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')')
}

/// `WebUtility.UrlEncode` on bytes: safe bytes as they are, space as `+`, the rest `%XX`
/// (upper-case hex).
pub(crate) fn url_encode_bytes(input: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        if url_safe(b) {
            out.push(b);
        } else if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    out
}

/// `WebUtility.UrlDecode` on bytes: `+` is a space, `%XX` (either case) a byte; a `%` not
/// followed by two hex digits stays.
pub(crate) fn url_decode_bytes(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    out
}

/// The bytes of a `(byte[] bytes, int offset, int count)` call, checked as WebUtility checks
/// them; `None` for a null array (the result is null).
fn byte_range(args: &Args, at: usize) -> F<Option<&[u8]>> {
    let bytes = match arg(args, 0, at)? {
        // A null array with a count of 0 is a null result; with more, an error.
        Value::Null => {
            let count = match args.get(2) {
                Some((_, c)) => as_int(c, at)?,
                None => 0,
            };
            return if count == 0 {
                Ok(None)
            } else {
                Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'bytes')",
                    at,
                ))
            };
        }
        Value::Bytes(b) => b.as_slice(),
        other => return Err(cast_err(other, "System.Byte[]", at)),
    };
    if args.len() == 1 {
        return Ok(Some(bytes));
    }
    let offset = as_int(arg(args, 1, at)?, at)?;
    let count = as_int(arg(args, 2, at)?, at)?;
    if offset < 0 || offset > bytes.len() as i64 {
        return Err(arg_range(
            "Specified argument was out of the range of valid values. (Parameter 'offset')",
            at,
        ));
    }
    if count < 0 || offset + count > bytes.len() as i64 {
        return Err(arg_range(
            "Specified argument was out of the range of valid values. (Parameter 'count')",
            at,
        ));
    }
    Ok(bytes.get(offset as usize..(offset + count) as usize))
}

/// `WebUtility`'s static methods.
pub(crate) fn webutility_static(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let text = |v: &Value| -> F<Option<String>> {
        match v {
            Value::Null => Ok(None),
            v => Ok(Some(as_str(v, at)?)),
        }
    };
    Ok(Some(match name {
        "HtmlEncode" => match text(arg(args, 0, at)?)? {
            None => Value::Null,
            Some(s) => {
                it.charge(s.len().saturating_mul(HTML_ENCODE_GROWTH), at)?;
                Value::str(html_encode(&s))
            }
        },
        "HtmlDecode" => match text(arg(args, 0, at)?)? {
            None => Value::Null,
            Some(s) => {
                it.charge(s.len(), at)?;
                Value::str(html_decode(&s))
            }
        },
        "UrlEncode" => match text(arg(args, 0, at)?)? {
            None => Value::Null,
            Some(s) => {
                it.charge(s.len().saturating_mul(3), at)?;
                Value::str(String::from_utf8_lossy(&url_encode_bytes(s.as_bytes())))
            }
        },
        "UrlDecode" => match text(arg(args, 0, at)?)? {
            None => Value::Null,
            Some(s) => {
                it.charge(s.len(), at)?;
                Value::str(String::from_utf8_lossy(&url_decode_bytes(s.as_bytes())))
            }
        },
        "UrlEncodeToBytes" | "UrlDecodeToBytes" => match byte_range(args, at)? {
            None => Value::Null,
            Some(b) => {
                let growth = if name == "UrlEncodeToBytes" { 3 } else { 1 };
                it.charge(b.len().saturating_mul(growth), at)?;
                Value::Bytes(if name == "UrlEncodeToBytes" {
                    url_encode_bytes(b)
                } else {
                    url_decode_bytes(b)
                })
            }
        },
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_html4_and_apos() {
        assert_eq!(ENTITIES.len(), 253);
    }

    #[test]
    fn decode_edges() {
        assert_eq!(
            html_decode("&lt;&Lt;&#65;&#x42;&#+67;&#;&amp"),
            "<&Lt;ABC&#;&amp"
        );
        assert_eq!(html_decode("&#xD800;&#1114112;"), "&#xD800;&#1114112;");
        assert_eq!(url_decode_bytes(b"a%2x%41+"), b"a%2xA ");
    }
}
