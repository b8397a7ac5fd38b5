//! Integer types by name: their ranges, `T.Parse`, and `Convert`'s conversions between bases
//! (`Convert.ToInt32("ff", 16)`, `Convert.ToString(255, 2)`), `Convert.ToChar`,
//! `Convert.FromHexString`. Each result has its .NET type (crates/expr/src/numeric.rs).

use super::*;

fn overflow(word: &str, at: usize) -> Flow {
    rt(
        "OverflowException",
        format!("Value was either too large or too small for {word}."),
        at,
    )
}

/// `T.Parse(s)` (NumberStyles.Integer: surrounding white space, a leading sign). Never echoes
/// the input: it may be a key or a secret named value.
pub(crate) fn parse_int_as(ty: &str, v: &Value, at: usize) -> F<Value> {
    let k = crate::numeric::Kind::named(ty).unwrap_or(crate::numeric::Kind::Long);
    numeric_members::parse_number(k, v, at)
}

/// `Convert.ToInt32(s, fromBase)` and its 16/64-bit and byte forms: base 2, 8, 10 or 16; in a
/// base other than 10 the digits are the type's bit pattern ("ffffffff" is -1 as an Int32).
pub(crate) fn parse_in_base(s: &Value, base: &Value, bits: u32, at: usize) -> F<Value> {
    let base = as_int(base, at)?;
    if !matches!(base, 2 | 8 | 10 | 16) {
        return Err(rt("ArgumentException", "Invalid Base.", at));
    }
    let kind = match bits {
        8 => crate::numeric::Kind::Byte,
        16 => crate::numeric::Kind::Short,
        32 => crate::numeric::Kind::Int,
        _ => crate::numeric::Kind::Long,
    };
    let s = match s {
        Value::Null => return Ok(kind.wrap(0).value()),
        v => as_str(v, at)?,
    };
    let word = match bits {
        8 => "an unsigned byte",
        16 => "an Int16",
        32 => "an Int32",
        _ => "an Int64",
    };
    if base == 10 {
        let ty = match bits {
            8 => "byte",
            16 => "short",
            32 => "int",
            _ => "long",
        };
        return parse_int_as(ty, &Value::str(s), at);
    }
    let t = s.trim();
    let t = if base == 16 {
        t.strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t)
    } else {
        t
    };
    if t.is_empty() {
        return Err(rt(
            "ArgumentOutOfRangeException",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
            at,
        ));
    }
    let u = u64::from_str_radix(t, base as u32).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => overflow(word, at),
        _ => rt(
            "FormatException",
            "Could not find any recognizable digits.",
            at,
        ),
    })?;
    if bits < 64 && u >> bits != 0 {
        return Err(overflow(word, at));
    }
    // Reinterpret the bit pattern as the signed type (a byte stays unsigned).
    Ok(kind.wrap(u as i128).value())
}

/// `Convert.ToString(value, toBase)`: base 2, 8, 10 or 16, lower-case digits; a negative value
/// in base 2/8/16 prints its two's complement in its type's width (8, 16, 32 or 64 bits).
pub(crate) fn to_base(v: &Value, base: &Value, at: usize) -> F<Value> {
    let base = as_int(base, at)?;
    let i = as_int(v, at)?;
    // The overload C# picks: byte, short, int or long, whose width the digits show.
    let u = match v {
        Value::Byte(b) => *b as u64,
        Value::Short(s) => *s as u16 as u64,
        Value::Long(_) => i as u64,
        _ => i as u32 as u64,
    };
    Ok(Value::str(match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 => format!("{u:x}"),
        10 => i.to_string(),
        _ => return Err(rt("ArgumentException", "Invalid Base.", at)),
    }))
}

/// `Convert.ToChar`: a code unit number, or a one-char string.
pub(crate) fn to_char(v: &Value, at: usize) -> F<Value> {
    match v {
        Value::Char(c) => Ok(Value::Char(*c)),
        v if v.is_number() && int_of(v).is_some() => u16::try_from(int_of(v).unwrap_or(-1))
            .ok()
            .and_then(|u| char::from_u32(u as u32))
            .map(Value::Char)
            .ok_or_else(|| overflow("a character", at)),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
            at,
        )),
        Value::String(s) => {
            let mut cs = s.chars();
            match (cs.next(), cs.next()) {
                (Some(c), None) => Ok(Value::Char(c)),
                _ => Err(rt(
                    "FormatException",
                    "String must be exactly one character long.",
                    at,
                )),
            }
        }
        other => Err(rt(
            "InvalidCastException",
            format!("Invalid cast from '{}' to 'Char'.", other.type_name()),
            at,
        )),
    }
}

/// `Convert.FromHexString` (.NET 5+): two hex digits per byte.
pub(crate) fn from_hex(s: &str, at: usize) -> F<Vec<u8>> {
    let bad = || {
        rt(
            "FormatException",
            "The input is not a valid hex string as it contains a non-hex character.",
            at,
        )
    };
    if !s.len().is_multiple_of(2) {
        return Err(rt(
            "FormatException",
            "The input is not a valid hex string as its length is not a multiple of 2.",
            at,
        ));
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(r: F<Value>) -> String {
        r.map_or("<error>".into(), |v| v.to_display())
    }

    #[test]
    fn integers_parse_and_convert_as_csharp() {
        let s = Value::str;
        assert_eq!(show(parse_int_as("short", &s("123"), 0)), "123");
        assert_eq!(show(parse_int_as("byte", &s("255"), 0)), "255");
        assert_eq!(show(parse_int_as("byte", &s("256"), 0)), "<error>");
        assert_eq!(show(parse_int_as("int", &s(" -7 "), 0)), "-7");
        assert_eq!(
            show(parse_int_as("long", &s("99999999999999999999999"), 0)),
            "<error>"
        );
        assert_eq!(show(parse_in_base(&s("ff"), &Value::Int(16), 32, 0)), "255");
        assert_eq!(
            show(parse_in_base(&s("0xFFFFFFFF"), &Value::Int(16), 32, 0)),
            "-1"
        );
        assert_eq!(show(parse_in_base(&s("101"), &Value::Int(2), 64, 0)), "5");
        assert_eq!(
            show(parse_in_base(&s("1"), &Value::Int(3), 32, 0)),
            "<error>"
        );
        assert_eq!(
            show(to_base(&Value::Int(255), &Value::Int(2), 0)),
            "11111111"
        );
        assert_eq!(show(to_base(&Value::Int(255), &Value::Int(16), 0)), "ff");
        assert_eq!(
            show(to_base(&Value::Int(-1), &Value::Int(16), 0)),
            "ffffffff"
        );
        assert_eq!(show(to_char(&Value::Int(65), 0)), "A");
        assert_eq!(show(to_char(&s("ab"), 0)), "<error>");
        assert_eq!(from_hex("01abFF", 0).ok(), Some(vec![1, 171, 255]));
        assert!(from_hex("abc", 0).is_err());
    }
}
