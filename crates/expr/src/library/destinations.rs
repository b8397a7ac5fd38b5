//! Methods that write into a caller's array. C# passes arrays by reference (and converts a
//! `char[]`/`byte[]` to `Span<T>` implicitly), so `42.TryFormat(buf, out int n)`,
//! `rng.GetBytes(buffer)`, `reader.Read(buffer, 0, n)`, `list.CopyTo(array)` or
//! `jarray.CopyTo(tokens, 0)` change the caller's array; the interpreter holds arrays by
//! value. This is the one place that says which (receiver, member) pairs write into which
//! argument ([`destination`]) and routes the call to the rules of the receiver's type
//! ([`call`]: the argument checks and exceptions differ per type, so they stay with the type:
//! crates/expr/src/library/spans.rs, buffers.rs, copy_to.rs, json_special.rs). The interpreter
//! (crates/expr/src/interp/destinations.rs) evaluates the arguments, lets [`call`] update them,
//! and writes the destination and the `out` arguments back to the caller's variables.

use super::*;
use crate::io::IoState;

/// Who a writing method is called on.
pub(crate) enum Receiver<'a> {
    Static(&'a str),
    Value(&'a Value),
}

/// Names only writing methods have: the call is always routed here.
const ALWAYS: &[&str] = &[
    "TryFormat",
    "TryWriteBytes",
    "TryToBase64Chars",
    "TryFromBase64Chars",
    "TryFromBase64String",
    "TryComputeHash",
    "TryHashData",
    "TryEncrypt",
    "TryDecrypt",
    "TrySignData",
    "TrySignHash",
    "TryExportRSAPrivateKey",
    "TryExportRSAPublicKey",
    "TryExportPkcs8PrivateKey",
    "TryExportEncryptedPkcs8PrivateKey",
    "TryExportSubjectPublicKeyInfo",
    "TryGetCertHash",
    "NextBytes",
    "TryCopyTo",
    "HexUnescape",
];

/// Names that write into an argument on some receivers only (`rng.GetBytes(buffer)` but
/// `Encoding.UTF8.GetBytes(s)`): routed here when [`destination`] says so.
const SOMETIMES: &[&str] = &[
    "Create",
    "CopyTo",
    "GetBytes",
    "GetNonZeroBytes",
    "GetChars",
    "Fill",
    "ToBase64CharArray",
];

/// A text reader's methods that fill `(buffer, index, count)`, without their `Async` suffix
/// (an XML reader's are [`CHUNK_READERS`]).
const TEXT_READER_FILLS: &[&str] = &["Read", "ReadBlock"];

/// Whether a call named `name` with `n` arguments may write into an argument; `always` when
/// only such methods have the name.
pub(crate) fn candidate(name: &str, n: usize) -> Option<bool> {
    let base = name.strip_suffix("Async").unwrap_or(name);
    if ALWAYS.contains(&name) {
        Some(true)
    } else if SOMETIMES.contains(&name)
        || (n == 3 && (TEXT_READER_FILLS.contains(&base) || CHUNK_READERS.contains(&base)))
    {
        Some(false)
    } else {
        None
    }
}

/// The index of the argument `name` writes into, called with `n` arguments on `recv`.
pub(crate) fn destination(recv: &Receiver, name: &str, n: usize) -> Option<usize> {
    match recv {
        // `Uri.HexUnescape(pattern, ref index)` moves the caller's index.
        Receiver::Static("Uri") if name == "HexUnescape" => Some(1),
        Receiver::Static(ty) => spans::destination_static(ty, name, n),
        Receiver::Value(v) if fills_buffer(v, name, n) => Some(0),
        Receiver::Value(v) if name == "CopyTo" && !spans::copies_text(v) => {
            collection_copy_destination(v, n)
        }
        Receiver::Value(v) => spans::destination_value(v, name, n),
    }
}

/// Whether `t.name(buffer, index, count)` is a reader filling the caller's `buffer`.
fn fills_buffer(t: &Value, name: &str, n: usize) -> bool {
    let Value::Object(Object::Io(io)) = t else {
        return false;
    };
    let base = name.strip_suffix("Async").unwrap_or(name);
    n == 3
        && match &*io.state() {
            IoState::StringReader { .. } => TEXT_READER_FILLS.contains(&base),
            IoState::XmlReader(_) => CHUNK_READERS.contains(&base),
            _ => false,
        }
}

/// The destination of a collection's `CopyTo`: a JArray's `(array, index)`, a list's
/// `(index, array, arrayIndex, count)`, or the others' `(array, …)`.
fn collection_copy_destination(v: &Value, n: usize) -> Option<usize> {
    match v {
        Value::Json(j) => (n == 2 && j.is_array() && !j.is_constructor()).then_some(0),
        Value::Array(_) | Value::Bytes(_) if n == 4 => Some(1),
        _ if n >= 1 && copies_collection(v) => Some(0),
        _ => None,
    }
}

/// Runs the writing method; `args` holds the evaluated arguments (an `out` one as null),
/// and the destination and `out` ones are updated in place.
pub(crate) fn call(
    it: &mut Interp,
    recv: &Receiver,
    name: &str,
    args: &mut [Value],
    at: usize,
) -> F<Value> {
    match recv {
        Receiver::Static("Uri") if name == "HexUnescape" => net::hex_unescape(args, at),
        Receiver::Static(ty) => spans::call_static(it, ty, name, args, at),
        Receiver::Value(v) if fills_buffer(v, name, args.len()) => {
            let (result, filled) = call_filling(it, v, name, &spans::plain(args), at)?;
            if let (Some(filled), Some(slot)) = (filled, args.first_mut()) {
                *slot = filled;
            }
            Ok(result)
        }
        Receiver::Value(Value::Json(j)) if name == "CopyTo" => json_copy_into(it, j, args, at),
        Receiver::Value(v) if name == "CopyTo" && !spans::copies_text(v) => {
            collection_copy_into(v, args, at)
        }
        Receiver::Value(v) => spans::call_value(it, v, name, args, at),
    }
}
