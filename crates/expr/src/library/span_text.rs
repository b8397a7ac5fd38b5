//! The text members that write into a caller's `char[]`/`byte[]` (crates/expr/src/library/spans.rs
//! routes them here): `string.CopyTo`/`TryCopyTo`, `StringBuilder.CopyTo`,
//! `Convert.ToBase64CharArray`, and `Encoding.GetBytes`/`GetChars` into an array. Positions
//! count chars, as the rest of the string library does.

use super::spans::{put_bytes, put_chars, span_bytes, span_text};
use super::*;

fn int(args: &[Value], i: usize, at: usize) -> F<i64> {
    match args.get(i) {
        Some(v) => as_int(v, at),
        None => Err(rt(
            "CompilationError",
            format!("missing argument {}", i + 1),
            at,
        )),
    }
}

fn null_arg(p: &str, at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        format!("Value cannot be null. (Parameter '{p}')"),
        at,
    )
}

fn out_of_range(msg: &str, p: &str, at: usize) -> Flow {
    arg_range(&format!("{msg} (Parameter '{p}')"), at)
}

fn dest_chars(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        _ => None,
    }
}

/// `s.CopyTo(srcIndex, dest, destIndex, count)`, `s.CopyTo(span)`, `s.TryCopyTo(span)`,
/// `sb.CopyTo(srcIndex, dest, destIndex, count)`, `sb.CopyTo(srcIndex, span, count)`.
pub(super) fn copy_to(
    it: &mut Interp,
    v: &Value,
    name: &str,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    let builder = !matches!(v, Value::String(_));
    let text: Vec<char> = match v {
        Value::String(s) => s.chars().collect(),
        _ => match super::call_method(it, v.clone(), "ToString", &[], Vec::new(), at)? {
            Value::String(s) => s.chars().collect(),
            other => return Err(no_member(&other, name, at)),
        },
    };
    it.charge(text.len(), at)?;
    let whole: String = text.iter().collect();
    if args.len() == 1 {
        // `CopyTo(Span<char>)` / `TryCopyTo(Span<char>)` (strings only).
        if builder {
            return Err(no_member(v, name, at));
        }
        let fits = put_chars(&mut args[0], 0, &whole, at)?.is_some();
        return match (fits, name) {
            (_, "TryCopyTo") => Ok(Value::Bool(fits)),
            (true, _) => Ok(Value::Null),
            (false, _) => Err(rt(
                "ArgumentException",
                "Destination is too short. (Parameter 'destination')",
                at,
            )),
        };
    }
    let (src, dest_index, count) = match args.len() {
        4 => (int(args, 0, at)?, int(args, 2, at)?, int(args, 3, at)?),
        3 if builder => (int(args, 0, at)?, 0, int(args, 2, at)?),
        n => {
            return Err(no_overload(name, n, at));
        }
    };
    let Some(dest_len) = dest_chars(&args[1]) else {
        return match &args[1] {
            Value::Null => Err(null_arg("destination", at)),
            other => Err(cast_err(other, "System.Char[]", at)),
        };
    };
    let len = text.len() as i64;
    let dest_len = dest_len as i64;
    if count < 0 {
        return Err(out_of_range("Count cannot be less than zero.", "count", at));
    }
    if builder {
        if dest_index < 0 {
            return Err(out_of_range(
                "Non-negative number required.",
                "destinationIndex",
                at,
            ));
        }
        if dest_index > dest_len - count {
            return Err(rt(
                "ArgumentException",
                if args.len() == 3 {
                    "Destination is too short. (Parameter 'destination')"
                } else {
                    "Either offset did not refer to a position in the string, or there is an insufficient length of destination character array."
                },
                at,
            ));
        }
        if src < 0 || src > len {
            return Err(out_of_range(
                "Index was out of range. Must be non-negative and less than the size of the collection.",
                "sourceIndex",
                at,
            ));
        }
        if src > len - count {
            return Err(rt(
                "ArgumentException",
                "Source string was not long enough. Check sourceIndex and count.",
                at,
            ));
        }
    } else {
        if src < 0 {
            return Err(out_of_range(
                "Index was out of range. Must be non-negative and less than the size of the collection.",
                "sourceIndex",
                at,
            ));
        }
        if count > len - src {
            return Err(out_of_range(
                "Index and count must refer to a location within the string.",
                "sourceIndex",
                at,
            ));
        }
        if dest_index > dest_len - count || dest_index < 0 {
            return Err(out_of_range(
                "Index and count must refer to a location within the string.",
                "destinationIndex",
                at,
            ));
        }
    }
    let part: String = text[src as usize..(src + count) as usize].iter().collect();
    put_chars(&mut args[1], dest_index as usize, &part, at)?;
    Ok(Value::Null)
}

/// `Convert.ToBase64CharArray(bytes, offsetIn, length, chars, offsetOut[, options])`: the
/// number of chars written.
pub(super) fn to_base64_char_array(it: &mut Interp, args: &mut [Value], at: usize) -> F<Value> {
    let input = match args.first() {
        Some(Value::Null) | None => return Err(null_arg("inArray", at)),
        Some(v) => span_bytes(v, at)?,
    };
    let (off_in, length, off_out) = (int(args, 1, at)?, int(args, 2, at)?, int(args, 4, at)?);
    let Some(out_len) = args.get(3).and_then(dest_chars) else {
        return match args.get(3) {
            Some(Value::Null) | None => Err(null_arg("outArray", at)),
            Some(other) => Err(cast_err(other, "System.Char[]", at)),
        };
    };
    if length < 0 {
        return Err(out_of_range("Value must be positive.", "length", at));
    }
    if off_in < 0 {
        return Err(out_of_range("Value must be positive.", "offsetIn", at));
    }
    if off_out < 0 {
        return Err(out_of_range("Value must be positive.", "offsetOut", at));
    }
    let part = input[within(input.len(), off_in, length, "offsetIn", at)?].to_vec();
    let mut rest = vec![(None, Value::Bytes(part))];
    if let Some(o) = args.get(5) {
        rest.push((None, o.clone()));
    }
    let s = match super::call_static(it, "Convert", "ToBase64String", &[], rest, at)? {
        Value::String(s) => s,
        other => return Err(cast_err(&other, "System.String", at)),
    };
    let n = s.chars().count() as i64;
    if off_out > out_len as i64 - n {
        return Err(out_of_range(
            "Either offset did not refer to a position in the string, or there is an insufficient length of destination character array.",
            "offsetOut",
            at,
        ));
    }
    put_chars(&mut args[3], off_out as usize, &s, at)?;
    Ok(Value::Int(n))
}

/// `off..off + length` of an input of `len` (both already known non-negative), or the
/// exception `Convert`'s char-array methods throw, naming the offset parameter `name`.
fn within(len: usize, off: i64, length: i64, name: &str, at: usize) -> F<std::ops::Range<usize>> {
    if off > len as i64 - length {
        return Err(out_of_range(
            "Offset and length must refer to a position in the string.",
            name,
            at,
        ));
    }
    Ok(off as usize..(off + length) as usize)
}

/// `Convert.FromBase64CharArray(chars, offset, length)`.
pub(crate) fn from_base64_char_array(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let chars = match args.first().map(|(_, v)| v) {
        Some(Value::Null) | None => return Err(null_arg("inArray", at)),
        Some(v) => span_text(v, at)?,
    };
    let chars: Vec<char> = chars.chars().collect();
    let plain: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
    let (off, length) = (int(&plain, 1, at)?, int(&plain, 2, at)?);
    if length < 0 {
        return Err(out_of_range(
            "Index was out of range. Must be non-negative and less than the size of the collection.",
            "length",
            at,
        ));
    }
    if off < 0 {
        return Err(out_of_range("Value must be positive.", "offset", at));
    }
    let part: String = chars[within(chars.len(), off, length, "offset", at)?]
        .iter()
        .collect();
    super::call_static(
        it,
        "Convert",
        "FromBase64String",
        &[],
        vec![(None, Value::str(part))],
        at,
    )
}

/// `encoding.GetBytes(chars, charIndex, charCount, bytes, byteIndex)`,
/// `encoding.GetChars(bytes, byteIndex, byteCount, chars, charIndex)` and their span forms
/// `GetBytes(chars, bytes)` / `GetChars(bytes, chars)`: the number written.
pub(super) fn encode_into(
    it: &mut Interp,
    v: &Value,
    name: &str,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    let (dest, dest_index) = if args.len() == 2 {
        (1, 0)
    } else {
        (3, int(args, 4, at)?)
    };
    if matches!(args.get(dest), Some(Value::Null)) && args.len() > 2 {
        return Err(null_arg(
            if name == "GetBytes" { "bytes" } else { "chars" },
            at,
        ));
    }
    let dest_len = match args.get(dest) {
        Some(Value::Bytes(b)) => b.len(),
        Some(Value::Array(a)) => a.len(),
        Some(Value::Null) => 0,
        Some(other) => return Err(cast_err(other, "System.Array", at)),
        None => 0,
    } as i64;
    if args.len() > 2 && (dest_index < 0 || dest_index > dest_len) {
        return Err(out_of_range(
            "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            if name == "GetBytes" {
                "byteIndex"
            } else {
                "charIndex"
            },
            at,
        ));
    }
    // The source range, as the three-argument twin reads it.
    let mut src: Args = vec![(None, args[0].clone())];
    if args.len() > 2 {
        src.push((None, args[1].clone()));
        src.push((None, args[2].clone()));
    }
    let result = if name == "GetBytes" {
        let s = match (&args[0], args.len()) {
            (Value::Null, _) => return Err(null_arg("chars", at)),
            (v, 2) => span_text(v, at)?,
            (v, _) => {
                let all: Vec<char> = span_text(v, at)?.chars().collect();
                let (i, n) = (int(args, 1, at)?, int(args, 2, at)?);
                if i < 0 || n < 0 {
                    return Err(out_of_range(
                        "Non-negative number required.",
                        if i < 0 { "charIndex" } else { "charCount" },
                        at,
                    ));
                }
                if i > all.len() as i64 - n {
                    return Err(out_of_range(
                        "Index and count must refer to a location within the buffer.",
                        "chars",
                        at,
                    ));
                }
                all[i as usize..(i + n) as usize].iter().collect()
            }
        };
        match encoder_encoding(v) {
            Some(enc) => {
                it.charge(s.len().saturating_mul(4), at)?;
                Value::Bytes(enc.encode(&s))
            }
            None => super::call_method(
                it,
                v.clone(),
                "GetBytes",
                &[],
                vec![(None, Value::str(s))],
                at,
            )?,
        }
    } else if let Some(r) = decoder_chars(v, args, at) {
        let s = r?;
        it.charge(s.len(), at)?;
        Value::str(s)
    } else {
        if args.len() == 2 {
            src = vec![(None, Value::Bytes(span_bytes(&args[0], at)?))];
        }
        match super::call_method(it, v.clone(), "GetString", &[], src, at)? {
            Value::String(s) => Value::String(s),
            other => return Err(cast_err(&other, "System.String", at)),
        }
    };
    let slot = &mut args[dest];
    let written = match &result {
        Value::Bytes(b) => put_bytes(slot, dest_index as usize, b, at)?,
        Value::String(s) => put_chars(slot, dest_index as usize, s, at)?,
        _ => None,
    };
    match written {
        Some(n) => Ok(Value::Int(n as i64)),
        None => Err(rt(
            "ArgumentException",
            format!(
                "The output {} buffer is too small to contain the encoded data, encoding codepage '{}' and fallback 'System.Text.{}ReplacementFallback'. (Parameter '{}')",
                if name == "GetBytes" { "byte" } else { "char" },
                super::member(it, v.clone(), "CodePage", at)
                    .map(|c| c.to_display())
                    .unwrap_or_default(),
                if name == "GetBytes" {
                    "Encoder"
                } else {
                    "Decoder"
                },
                if name == "GetBytes" { "bytes" } else { "chars" },
            ),
            at,
        )),
    }
}
