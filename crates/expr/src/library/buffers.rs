//! The reading methods that fill a caller's array (`reader.Read(buffer, index, count)`,
//! `ReadBlock`, `xmlReader.ReadValueChunk`, `ReadContentAsBase64` and their async forms):
//! their `(buffer, index, count)` checks, and the call that returns the filled array, which
//! the interpreter writes back into the caller's variable
//! (crates/expr/src/library/destinations.rs).

use super::*;
use crate::io::IoState;

/// The `(buffer, index, count)` arguments of the reading methods that fill a caller's array,
/// checked as .NET checks them: the buffer's items and the range.
pub(crate) fn buffer_range(args: &Args, at: usize) -> F<(Vec<Value>, usize, usize)> {
    let buffer = match buffer_arg(args, at)? {
        Value::Bytes(b) => b.iter().map(|b| Value::Byte(*b)).collect(),
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    };
    let index = as_int(arg(args, 1, at)?, at)?;
    let count = as_int(arg(args, 2, at)?, at)?;
    for (n, v) in [("index", index), ("count", count)] {
        if v < 0 {
            return Err(rt(
                "ArgumentOutOfRangeException",
                format!(
                    "{n} ('{v}') must be a non-negative value. (Parameter '{n}')\nActual value was {v}."
                ),
                at,
            ));
        }
    }
    if (buffer.len() as i64) - index < count {
        return Err(rt(
            "ArgumentException",
            "Offset and length were out of bounds for the array or count is greater than the \
             number of elements from index to the end of the source collection.",
            at,
        ));
    }
    Ok((buffer, index as usize, count as usize))
}

/// The `buffer` argument of a reading method: an array (a null one is refused).
pub(crate) fn buffer_arg(args: &Args, at: usize) -> F<&Value> {
    match arg(args, 0, at)? {
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'buffer')",
            at,
        )),
        v @ (Value::Array(_) | Value::Bytes(_)) => Ok(v),
        other => Err(cast_err(other, "System.Char[]", at)),
    }
}

/// Calls a reading method that fills the caller's array (crates/expr/src/library/destinations.rs
/// says which): its result and the filled array.
pub(crate) fn call_filling(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> F<(Value, Option<Value>)> {
    let Value::Object(Object::Io(io)) = t else {
        return Err(no_member(t, name, at));
    };
    let mut state = io.state();
    match &mut *state {
        IoState::StringReader { text, pos, closed } => {
            reader_call(text, pos, closed, name, args, at)
        }
        IoState::XmlReader(s) => xml_reader_fill(it, s, name, args, at)
            .or_else(|| async_fill(it, s, name, args, at))
            .unwrap_or_else(|| Err(no_member(t, name, at))),
        _ => Err(no_member(t, name, at)),
    }
}
