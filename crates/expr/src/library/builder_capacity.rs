//! `StringBuilder`'s `Capacity`, `EnsureCapacity`, settable `Length` and its `Chars` indexer
//! (`sb[i]`, `sb[i] = c`). The capacity is kept beside the builder's text (crates/expr/src/io.rs)
//! and follows .NET's chunk rule: 16 for a new builder (or the text's length), and when text
//! no longer fits, a new chunk of max(what is missing, min(Length, 8000)) chars
//! (`StringBuilder.ExpandByABlock`). .NET's `Insert` and `Remove` move chunks around in ways
//! the single-buffer model does not copy; they grow the capacity by the same rule.

use std::sync::atomic::Ordering;

use super::*;
use crate::io::{IoObject, IoState};

const DEFAULT_CAPACITY: usize = 16;
const MAX_CHUNK: usize = 8000;

fn builder(v: &Value) -> Option<&Arc<IoObject>> {
    match v {
        Value::Object(Object::Io(o)) if o.type_name == "System.Text.StringBuilder" => Some(o),
        _ => None,
    }
}

/// UTF-16 units. Counting chars is the core library's optimised count; a text with as many
/// chars as bytes is ASCII, one unit each (the common case, kept fast for large builders).
fn len16(s: &str) -> usize {
    let chars = s.chars().count();
    if chars == s.len() {
        chars
    } else {
        s.encode_utf16().count()
    }
}

/// After an operation left `me` holding `text`: a new block when it no longer fits. Its
/// UTF-16 length is at most its UTF-8 length, so it is counted only when that exceeds the
/// capacity (and the ASCII check is the library's word-at-a-time one).
pub(crate) fn builder_grew(me: &Value, text: &str) {
    if let Some(o) = builder(me) {
        let cap = o.capacity.load(Ordering::Relaxed);
        if text.len() <= cap {
            return;
        }
        let len = len16(text);
        if len > cap {
            let block = (len - cap).max(cap.min(MAX_CHUNK));
            o.capacity.store(cap + block, Ordering::Relaxed);
        }
    }
}

/// `new StringBuilder(capacity)`, `(text)`, `(text, capacity)`, `(capacity, maxCapacity)`:
/// the capacity the constructor gives (a capacity of 0 means the default, 16).
pub(crate) fn builder_initial_capacity(me: &Value, vals: &[Value], at: usize) -> F<()> {
    let Some(o) = builder(me) else {
        return Ok(());
    };
    let len = match &*o.state() {
        IoState::StringBuilder(b) => len16(b),
        _ => 0,
    };
    let asked = match vals {
        [Value::Int(c), ..] => Some(*c),
        [_, Value::Int(c)] => Some(*c),
        _ => None,
    };
    let cap = match asked {
        Some(c) if c < 0 => {
            return Err(arg_range(
                "'capacity' must be greater than zero. (Parameter 'capacity')",
                at,
            ));
        }
        Some(0) | None => DEFAULT_CAPACITY,
        Some(c) => c as usize,
    };
    o.capacity.store(cap.max(len), Ordering::Relaxed);
    Ok(())
}

/// `sb.Capacity`.
pub(crate) fn builder_capacity(me: &Value) -> Option<Value> {
    builder(me).map(|o| Value::Int(o.capacity.load(Ordering::Relaxed) as i64))
}

/// `sb.Capacity = n`, `sb.Length = n`; `None` when `me` is no builder or `name` no settable
/// property of one.
pub(crate) fn builder_set(
    it: &mut Interp,
    me: &Value,
    name: &str,
    v: &Value,
    at: usize,
) -> Option<F<()>> {
    let o = builder(me)?;
    if !matches!(name, "Capacity" | "Length") {
        return None;
    }
    Some((|| {
        let n = as_int(v, at)?;
        let mut state = o.state();
        let IoState::StringBuilder(buf) = &mut *state else {
            return Ok(());
        };
        let len = len16(buf) as i64;
        match name {
            "Capacity" => {
                if n < 0 {
                    return Err(arg_range(
                        "Capacity must be positive. (Parameter 'value')",
                        at,
                    ));
                }
                if n < len {
                    return Err(arg_range(
                        "capacity was less than the current size. (Parameter 'value')",
                        at,
                    ));
                }
                o.capacity.store(n as usize, Ordering::Relaxed);
            }
            _ => {
                if n < 0 {
                    return Err(arg_range(
                        "Length cannot be less than zero. (Parameter 'value')",
                        at,
                    ));
                }
                if n > i64::from(i32::MAX) {
                    return Err(arg_range(
                        "Capacity exceeds maximum capacity. (Parameter 'value')",
                        at,
                    ));
                }
                if n <= len {
                    // Cut at a char boundary: `n` UTF-16 units.
                    let mut units = 0i64;
                    let cut = buf
                        .char_indices()
                        .find(|(_, c)| {
                            units += c.len_utf16() as i64;
                            units > n
                        })
                        .map_or(buf.len(), |(i, _)| i);
                    buf.truncate(cut);
                } else {
                    // Longer: padded with '\0', as .NET appends them.
                    let pad = (n - len) as usize;
                    it.charge(buf.len().saturating_add(pad), at)?;
                    buf.extend(std::iter::repeat_n('\0', pad));
                    // The capacity is beside the state: updated with the state held.
                    builder_grew(me, buf);
                }
            }
        }
        Ok(())
    })())
}

/// `sb[i]`: IndexOutOfRangeException outside the text, as .NET's chunk walk throws.
pub(crate) fn builder_char(me: &Value, k: &Value, at: usize) -> Option<F<Value>> {
    let o = builder(me)?;
    Some((|| {
        let i = as_int(k, at)?;
        let state = o.state();
        let IoState::StringBuilder(buf) = &*state else {
            return Err(no_member(me, "this[]", at));
        };
        usize::try_from(i)
            .ok()
            .and_then(|i| buf.chars().nth(i))
            .map(Value::Char)
            .ok_or_else(|| {
                rt(
                    "IndexOutOfRangeException",
                    "Index was outside the bounds of the array.",
                    at,
                )
            })
    })())
}

/// `sb[i] = c`: ArgumentOutOfRangeException outside the text.
pub(crate) fn builder_set_char(me: &Value, k: &Value, v: &Value, at: usize) -> Option<F<()>> {
    let o = builder(me)?;
    Some((|| {
        let i = as_int(k, at)?;
        let Value::Char(c) = v else {
            return Err(cast_err(v, "System.Char", at));
        };
        let mut state = o.state();
        let IoState::StringBuilder(buf) = &mut *state else {
            return Err(no_member(me, "this[]", at));
        };
        let Some((start, old)) = usize::try_from(i)
            .ok()
            .and_then(|i| buf.char_indices().nth(i))
        else {
            return Err(arg_range(
                "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
                at,
            ));
        };
        buf.replace_range(start..start + old.len_utf8(), c.encode_utf8(&mut [0; 4]));
        Ok(())
    })())
}

/// `sb.EnsureCapacity(n)`: the capacity, raised to `n` when below it.
pub(crate) fn builder_ensure_capacity(me: &Value, args: &Args, at: usize) -> Option<F<Value>> {
    let o = builder(me)?;
    Some((|| {
        let n = as_int(arg(args, 0, at)?, at)?;
        if n < 0 {
            return Err(arg_range(
                "Capacity must be positive. (Parameter 'capacity')",
                at,
            ));
        }
        let cap = o.capacity.load(Ordering::Relaxed);
        let cap = cap.max(n as usize);
        o.capacity.store(cap, Ordering::Relaxed);
        Ok(Value::Int(cap as i64))
    })())
}
