//! `Guid` parsing as .NET's Guid.cs does it: `Parse`/`TryParse` pick the format from the
//! text's first character and its dashes; `ParseExact`/`TryParseExact` take exactly the one
//! named (`N`, `D`, `B`, `P`; the hexadecimal-struct form `X` is not held here). Surrounding
//! white space is ignored; the digits are hexadecimal, either case (each group, but the
//! last eight digits, may start with `+` or `0x`, as Guid.cs's compatibility parsing allows).
//! `CompareTo` orders by the Guid's fields as unsigned numbers, which is the order of its
//! 128-bit big-endian reading. Checked against the C# oracle ("// guid").

use super::*;

const INV_LEN: &str =
    "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).";
const INV_CHAR: &str = "Guid string should only contain hexadecimal characters.";
const DASHES: &str = "Dashes are in the wrong position for GUID parsing.";
const BRACE: &str = "Could not find a brace, or the length between the previous token and the brace was zero (i.e., '0x,'etc.).";
const UNRECOGNIZED: &str = "Unrecognized Guid format.";

/// Guid.cs's `TryParseHex` for one group: an optional `+`, then an optional `0x`, then hex
/// digits (none is zero), as .NET has accepted for compatibility.
fn hex_group(s: &str) -> Result<u128, &'static str> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let s = match s.as_bytes() {
        [b'0', x, _, ..] | [b'0', x] if x | 0x20 == b'x' => &s[2..],
        _ => s,
    };
    let mut v: u128 = 0;
    for c in s.chars() {
        let d = c.to_digit(16).ok_or(INV_CHAR)?;
        v = (v << 4) | u128::from(d);
    }
    Ok(v)
}

/// The last eight digits of the `D` form: hex digits only.
fn hex_strict(s: &str) -> Result<u128, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(INV_CHAR);
    }
    u128::from_str_radix(s, 16).map_err(|_| INV_CHAR)
}

fn parse_n(s: &str) -> Result<u128, &'static str> {
    if s.len() != 32 || !s.is_ascii() {
        return Err(INV_LEN);
    }
    let mut v = 0u128;
    for k in 0..4 {
        v = (v << 32) | hex_group(&s[k * 8..k * 8 + 8])?;
    }
    Ok(v)
}

fn parse_d(s: &str) -> Result<u128, &'static str> {
    if s.len() != 36 || !s.is_ascii() {
        return Err(INV_LEN);
    }
    let b = s.as_bytes();
    if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return Err(DASHES);
    }
    let a = hex_group(&s[0..8])?;
    let g2 = hex_group(&s[9..13])?;
    let g3 = hex_group(&s[14..18])?;
    let g4 = hex_group(&s[19..23])?;
    // The last group's first four digits may carry the prefixes; its last eight may not.
    let g5 = hex_group(&s[24..28])?;
    let rest = hex_strict(&s[28..36])?;
    Ok((a << 96) | (g2 << 80) | (g3 << 64) | (g4 << 48) | (g5 << 32) | rest)
}

fn parse_wrapped(s: &str, open: char, close: char) -> Result<u128, &'static str> {
    if s.len() != 38 || !s.starts_with(open) || !s.ends_with(close) {
        return Err(if s.len() != 38 { INV_LEN } else { BRACE });
    }
    parse_d(&s[1..37])
}

fn trimmed(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

/// `Guid.Parse` / `TryParse`: the format the text shows.
pub(crate) fn guid_parse_any(s: &str) -> Result<u128, &'static str> {
    let s = trimmed(s);
    match s.chars().next() {
        None => Err(UNRECOGNIZED),
        Some('(') => parse_wrapped(s, '(', ')'),
        Some('{') if s.contains('-') => parse_wrapped(s, '{', '}'),
        Some('{') => Err(UNRECOGNIZED),
        Some(_) if s.contains('-') => parse_d(s),
        Some(_) => parse_n(s),
    }
}

/// `Guid.ParseExact` / `TryParseExact` in the format `fmt`; `Err(None)` for a format that
/// is not one of .NET's (a FormatException of its own), `Err(Some(_))` for text that is not
/// in it.
fn guid_parse_exact(s: &str, fmt: &str) -> Result<u128, Option<&'static str>> {
    let s = trimmed(s);
    match fmt {
        "N" | "n" => parse_n(s).map_err(Some),
        "D" | "d" => parse_d(s).map_err(Some),
        "B" | "b" => parse_wrapped(s, '{', '}').map_err(Some),
        "P" | "p" => parse_wrapped(s, '(', ')').map_err(Some),
        _ => Err(None),
    }
}

fn format_spec_err(at: usize) -> Flow {
    rt(
        "FormatException",
        "Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".",
        at,
    )
}

/// The text and format arguments of `ParseExact(input, format)`.
fn exact_args(inputs: &[Value], at: usize) -> F<(String, String)> {
    let null = |p: &str| {
        rt(
            "ArgumentNullException",
            format!("Value cannot be null. (Parameter '{p}')"),
            at,
        )
    };
    let s = match inputs.first() {
        Some(Value::Null) | None => return Err(null("input")),
        Some(v) => as_str(v, at)?,
    };
    let f = match inputs.get(1) {
        Some(Value::Null) | None => return Err(null("format")),
        Some(v) => as_str(v, at)?,
    };
    Ok((s, f))
}

/// `Guid.ParseExact(input, format)`.
pub(crate) fn guid_parse_exact_static(args: &Args, at: usize) -> F<Value> {
    let inputs: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
    let (s, f) = exact_args(&inputs, at)?;
    if matches!(f.as_str(), "X" | "x") {
        return Err(rt(
            "NotSupportedException",
            "Guid.ParseExact in the \"X\" format is not supported",
            at,
        ));
    }
    match guid_parse_exact(&s, &f) {
        Ok(g) => Ok(Value::Guid(g)),
        Err(None) => Err(format_spec_err(at)),
        Err(Some(m)) => Err(rt("FormatException", m, at)),
    }
}

/// `Guid.TryParseExact(input, format, out g)`: false (and `Guid.Empty`) for text not in the
/// format, or a format that is not one.
pub(crate) fn guid_try_parse_exact(inputs: &[Value], at: usize) -> F<(bool, Value)> {
    let (s, f) = match exact_args(inputs, at) {
        Ok(p) => p,
        Err(_) => return Ok((false, Value::Guid(0))),
    };
    if matches!(f.as_str(), "X" | "x") {
        return Err(rt(
            "NotSupportedException",
            "Guid.TryParseExact in the \"X\" format is not supported",
            at,
        ));
    }
    Ok(match guid_parse_exact(&s, &f) {
        Ok(g) => (true, Value::Guid(g)),
        Err(_) => (false, Value::Guid(0)),
    })
}

/// `g.CompareTo(other)`: -1, 0 or 1; null is less than any Guid.
pub(crate) fn guid_compare_to(g: u128, other: &Value, at: usize) -> F<Value> {
    Ok(Value::Int(match other {
        Value::Null => 1,
        Value::Guid(o) => g.cmp(o) as i64,
        _ => {
            return Err(rt(
                "ArgumentException",
                "Object must be of type Guid. (Parameter 'value')",
                at,
            ));
        }
    }))
}
