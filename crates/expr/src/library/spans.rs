//! Methods that write into a caller's array. C# converts a `char[]`/`byte[]` to `Span<T>`
//! implicitly, so `42.TryFormat(buf, out int n)`, `guid.TryWriteBytes(bytes)`,
//! `rng.GetBytes(buffer)` or `"abc".CopyTo(0, chars, 0, 3)` change the caller's array. This
//! module says which argument is the destination ([`destination_static`],
//! [`destination_value`]) and computes what each method writes ([`call_static`],
//! [`call_value`]), for crates/expr/src/library/destinations.rs, through which the
//! interpreter writes the destination and the `out` arguments back. Most `Try…` members are their array-returning
//! twin (`TryFormat` is `ToString`, `TryComputeHash` is `ComputeHash` …) copied into the span:
//! false, and nothing written, when it does not fit.

use super::*;

/// The index of the argument the static `ty.name` writes into, called with `n` arguments.
pub(crate) fn destination_static(ty: &str, name: &str, n: usize) -> Option<usize> {
    match (ty, name) {
        ("BitConverter", "TryWriteBytes") => Some(0),
        ("Convert", "TryToBase64Chars" | "TryFromBase64Chars" | "TryFromBase64String") => Some(1),
        ("Convert", "ToBase64CharArray") if n >= 5 => Some(3),
        ("RandomNumberGenerator" | "RNGCryptoServiceProvider", "Fill") => Some(0),
        (_, "TryHashData") if crypto::is_crypto_type(ty) => Some(1),
        _ => None,
    }
}

/// The index of the argument `v.name` writes into, called with `n` arguments.
pub(crate) fn destination_value(v: &Value, name: &str, n: usize) -> Option<usize> {
    match name {
        "TryFormat" | "TryWriteBytes" | "NextBytes" => Some(0),
        "TryCopyTo" => Some(0),
        "TryComputeHash" | "TryEncrypt" | "TryDecrypt" | "TrySignData" | "TrySignHash"
        | "TryGetCertHash" => Some(1),
        "TryExportEncryptedPkcs8PrivateKey" => Some(2),
        _ if name.starts_with("TryExport") => Some(0),
        "GetBytes" | "GetNonZeroBytes" if is_rng(v) => Some(0),
        "CopyTo" if copies_text(v) => Some(if n == 1 { 0 } else { 1 }),
        // `encoding.GetBytes(chars, 0, 2, bytes, 0)`, `decoder.GetChars(bytes, 0, 2, chars, 0)`.
        "GetBytes" | "GetChars" if n >= 5 && is_text_codec(v) => Some(3),
        // `encoding.GetBytes(chars, bytes)` over spans.
        "GetBytes" | "GetChars" if n == 2 && is_text_codec(v) => Some(1),
        _ => None,
    }
}

fn is_rng(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Crypto(crypto::Crypto::Rng)))
}

/// Whether `v.CopyTo(…)` is a string's or a builder's (chars into a `char[]`/span).
pub(crate) fn copies_text(v: &Value) -> bool {
    matches!(v, Value::String(_)) || is_builder(v)
}

fn is_builder(v: &Value) -> bool {
    v.type_name() == "System.Text.StringBuilder"
}

fn is_text_codec(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Encoding(_))) || is_codec_object(v)
}

pub(crate) fn plain(args: &[Value]) -> Args {
    args.iter().map(|v| (None, v.clone())).collect()
}

/// A `ReadOnlySpan<char>` argument (a string or a `char[]`) as a string.
pub(crate) fn span_text(v: &Value, at: usize) -> F<String> {
    Ok(match v {
        Value::Null => String::new(),
        Value::String(s) => s.to_string(),
        Value::Char(c) => c.to_string(),
        Value::Array(a) => {
            let mut s = String::with_capacity(a.len());
            for c in a {
                match c {
                    Value::Char(c) => s.push(*c),
                    other => return Err(cast_err(other, "System.Char", at)),
                }
            }
            s
        }
        other => return Err(cast_err(other, "System.ReadOnlySpan`1[System.Char]", at)),
    })
}

/// A `ReadOnlySpan<byte>` argument.
pub(crate) fn span_bytes(v: &Value, at: usize) -> F<Vec<u8>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Bytes(b) => Ok(b.clone()),
        other => Err(cast_err(other, "System.ReadOnlySpan`1[System.Byte]", at)),
    }
}

/// The length of the destination span `v` (null converts to an empty span).
fn dest_len(v: &Value, at: usize) -> F<usize> {
    match v {
        Value::Null => Ok(0),
        Value::Bytes(b) => Ok(b.len()),
        Value::Array(a) => Ok(a.len()),
        other => Err(cast_err(other, "System.Span`1", at)),
    }
}

/// Copies `s` into the `char[]` `dest` at `offset`; the number of chars written, or None when
/// it does not fit (nothing written).
pub(crate) fn put_chars(dest: &mut Value, offset: usize, s: &str, at: usize) -> F<Option<usize>> {
    let n = s.chars().count();
    match dest {
        Value::Null => Ok((n == 0).then_some(0)),
        // A `char[]`: an array of anything else is no `Span<char>`.
        Value::Array(a) if a.iter().all(|c| matches!(c, Value::Char(_))) => {
            if offset.saturating_add(n) > a.len() {
                return Ok(None);
            }
            for (cell, c) in a[offset..].iter_mut().zip(s.chars()) {
                *cell = Value::Char(c);
            }
            Ok(Some(n))
        }
        other => Err(cast_err(other, "System.Span`1[System.Char]", at)),
    }
}

/// Copies `b` into the `byte[]` `dest` at `offset`, as [`put_chars`].
pub(crate) fn put_bytes(dest: &mut Value, offset: usize, b: &[u8], at: usize) -> F<Option<usize>> {
    match dest {
        Value::Null => Ok(b.is_empty().then_some(0)),
        Value::Bytes(d) => {
            if offset.saturating_add(b.len()) > d.len() {
                return Ok(None);
            }
            d[offset..offset + b.len()].copy_from_slice(b);
            Ok(Some(b.len()))
        }
        other => Err(cast_err(other, "System.Span`1[System.Byte]", at)),
    }
}

/// `Try…(…, dest, …, out int written)`: `value` copied into `args[dest]`, its length into
/// `args[out]`; false (and 0) when it does not fit.
fn try_put(
    args: &mut [Value],
    dest: usize,
    out: Option<usize>,
    value: Value,
    at: usize,
) -> F<Value> {
    let slot = args.get_mut(dest).ok_or_else(|| missing(dest, at))?;
    let written = match &value {
        Value::Bytes(b) => put_bytes(slot, 0, b, at)?,
        Value::String(s) => put_chars(slot, 0, s, at)?,
        other => return Err(cast_err(other, "System.Span`1", at)),
    };
    if let Some(o) = out
        && let Some(cell) = args.get_mut(o)
    {
        *cell = Value::Int(written.unwrap_or(0) as i64);
    }
    Ok(Value::Bool(written.is_some()))
}

fn missing(i: usize, at: usize) -> Flow {
    rt(
        "CompilationError",
        format!("missing argument {}", i + 1),
        at,
    )
}

fn get(args: &[Value], i: usize, at: usize) -> F<&Value> {
    args.get(i).ok_or_else(|| missing(i, at))
}

/// What formats itself into a span (`ISpanFormattable`'s public `TryFormat`).
fn formattable(v: &Value) -> bool {
    v.is_number()
        || matches!(
            v,
            Value::Bool(_)
                | Value::DateTime(_)
                | Value::DateTimeOffset(_)
                | Value::TimeSpan(_)
                | Value::Guid(_)
                | Value::Object(Object::Net(net::Net::Ip(_)))
        )
}

/// Runs the static span-writing method `ty.name`; `args` holds the evaluated arguments (an
/// `out` one as null), and the destination and `out` ones are updated in place.
pub(crate) fn call_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    match (ty, name) {
        ("BitConverter", "TryWriteBytes") => {
            let v = get(args, 1, at)?.clone();
            let b = super::call_static(it, ty, "GetBytes", &[], vec![(None, v)], at)?;
            let Value::Bool(ok) = try_put(args, 0, None, b, at)? else {
                return Ok(Value::Bool(false));
            };
            Ok(Value::Bool(ok))
        }
        ("Convert", "TryToBase64Chars") => {
            let mut rest = vec![(None, Value::Bytes(span_bytes(get(args, 0, at)?, at)?))];
            if let Some(o) = args.get(3) {
                rest.push((None, o.clone()));
            }
            let s = super::call_static(it, ty, "ToBase64String", &[], rest, at)?;
            try_put(args, 1, Some(2), s, at)
        }
        ("Convert", "TryFromBase64Chars" | "TryFromBase64String") => {
            let text = span_text(get(args, 0, at)?, at)?;
            it.charge(text.len(), at)?;
            // Invalid Base64 is a false answer here, not a FormatException.
            match super::call_static(
                it,
                ty,
                "FromBase64String",
                &[],
                vec![(None, Value::str(text))],
                at,
            ) {
                Ok(b) => try_put(args, 1, Some(2), b, at),
                Err(Flow::Err(e)) if e.kind == "FormatException" => {
                    if let Some(cell) = args.get_mut(2) {
                        *cell = Value::Int(0);
                    }
                    Ok(Value::Bool(false))
                }
                Err(e) => Err(e),
            }
        }
        ("Convert", "ToBase64CharArray") => span_text::to_base64_char_array(it, args, at),
        ("RandomNumberGenerator" | "RNGCryptoServiceProvider", "Fill") => {
            let len = dest_len(get(args, 0, at)?, at)?;
            let fresh = crypto::random::fill(it, "GetBytes", len, at)?;
            put_bytes(&mut args[0], 0, &fresh, at)?;
            Ok(Value::Null)
        }
        (_, "TryHashData") => {
            let src = Value::Bytes(span_bytes(get(args, 0, at)?, at)?);
            let h = super::call_static(it, ty, "HashData", &[], vec![(None, src)], at)?;
            try_put(args, 1, Some(2), h, at)
        }
        _ => Err(rt(
            "RuntimeBinderException",
            format!("'{ty}' does not contain a definition for '{name}'"),
            at,
        )),
    }
}

/// Runs `v.name`, writing as [`call_static`] does.
pub(crate) fn call_value(
    it: &mut Interp,
    v: &Value,
    name: &str,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    let twin = |it: &mut Interp, method: &str, rest: &[Value]| {
        super::call_method(it, v.clone(), method, &[], plain(rest), at)
    };
    match name {
        "TryFormat" if formattable(v) => {
            // TryFormat(destination, out int charsWritten, format = default, provider = null).
            let mut rest = Vec::new();
            if let Some(f) = args.get(2) {
                rest.push(Value::str(span_text(f, at)?));
            }
            if let Some(p) = args.get(3) {
                rest.push(p.clone());
            }
            if matches!(v, Value::Bool(_) | Value::Object(_)) && !rest.is_empty() {
                return Err(no_overload(name, args.len(), at));
            }
            let s = twin(it, "ToString", &rest)?;
            try_put(args, 0, Some(1), s, at)
        }
        "TryWriteBytes" if matches!(v, Value::Guid(_)) => {
            let b = twin(it, "ToByteArray", &[])?;
            try_put(args, 0, None, b, at)
        }
        "TryWriteBytes" if matches!(v, Value::Object(Object::Net(net::Net::Ip(_)))) => {
            let b = twin(it, "GetAddressBytes", &[])?;
            try_put(args, 0, Some(1), b, at)
        }
        "TryComputeHash" if matches!(v, Value::Object(Object::Hasher(..))) => {
            let src = Value::Bytes(span_bytes(get(args, 0, at)?, at)?);
            let h = twin(it, "ComputeHash", &[src])?;
            try_put(args, 1, Some(2), h, at)
        }
        "TryEncrypt" | "TryDecrypt" | "TrySignData" | "TrySignHash" | "TryGetCertHash"
            if matches!(v, Value::Object(Object::Crypto(_))) =>
        {
            // (data, destination, options…, out int written); TryGetCertHash has no data.
            let method = &name[3..];
            let mut rest: Vec<Value> = Vec::new();
            let (dest, out) = if name == "TryGetCertHash" {
                rest.push(get(args, 0, at)?.clone());
                (1, 2)
            } else {
                rest.push(Value::Bytes(span_bytes(get(args, 0, at)?, at)?));
                let last = args.len().saturating_sub(1);
                rest.extend(args.iter().take(last).skip(2).cloned());
                (1, last)
            };
            let r = twin(it, method, &rest)?;
            try_put(args, dest, Some(out), r, at)
        }
        _ if name.starts_with("TryExport") && matches!(v, Value::Object(Object::Crypto(_))) => {
            let method = &name[3..];
            let (rest, dest): (Vec<Value>, usize) = if name == "TryExportEncryptedPkcs8PrivateKey" {
                (args.iter().take(2).cloned().collect(), 2)
            } else {
                (Vec::new(), 0)
            };
            let r = twin(it, method, &rest)?;
            try_put(args, dest, Some(dest + 1), r, at)
        }
        "NextBytes" if let Value::Object(Object::Random(r)) = v => {
            let len = dest_len(get(args, 0, at)?, at)?;
            it.charge(len, at)?;
            let fresh = random::next_bytes(r, len);
            put_bytes(&mut args[0], 0, &fresh, at)?;
            Ok(Value::Null)
        }
        "GetBytes" | "GetNonZeroBytes" if is_rng(v) => {
            let len = dest_len(get(args, 0, at)?, at)?;
            let (off, count) = match args.len() {
                1 => (0, len),
                _ => range(len, get(args, 1, at)?, get(args, 2, at)?, at)?,
            };
            let fresh = crypto::random::fill(it, name, count, at)?;
            put_bytes(&mut args[0], off, &fresh, at)?;
            Ok(Value::Null)
        }
        "CopyTo" | "TryCopyTo" => span_text::copy_to(it, v, name, args, at),
        "GetBytes" | "GetChars" if is_text_codec(v) => {
            span_text::encode_into(it, v, name, args, at)
        }
        _ => Err(no_member(v, name, at)),
    }
}

/// An (offset, count) pair checked against a destination of `len`, as .NET checks them.
pub(crate) fn range(len: usize, off: &Value, count: &Value, at: usize) -> F<(usize, usize)> {
    let (off, count) = (as_int(off, at)?, as_int(count, at)?);
    // .NET names the offset whichever of the two is negative.
    let r = sub_range(len, off, count, ("offset", "offset"), at)?;
    Ok((r.start, r.len()))
}
