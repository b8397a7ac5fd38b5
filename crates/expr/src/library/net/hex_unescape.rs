//! `Uri.HexUnescape(pattern, ref index)`: the character at `index`, a `%XX` escape decoded to
//! the character of that code (0–255) and `index` moved past it, as .NET's Uri.cs does. The
//! `ref` argument is written back by the interpreter (crates/expr/src/library/destinations.rs
//! names it the call's destination).

use super::*;

/// Runs the call on the evaluated arguments; `args[1]` (the index) is updated in place.
pub(crate) fn hex_unescape(args: &mut [Value], at: usize) -> F<Value> {
    let (Some(pattern), Some(index)) = (args.first(), args.get(1)) else {
        return Err(rt(
            "CompilationError",
            "No overload for method 'HexUnescape' takes this number of arguments",
            at,
        ));
    };
    let pattern: Vec<u16> = match pattern {
        Value::Null => return Err(null_ref(at)),
        p => as_str(p, at)?.encode_utf16().collect(),
    };
    let i = usize::try_from(as_int(index, at)?)
        .ok()
        .filter(|i| *i < pattern.len())
        .ok_or_else(|| {
            rt(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values. (Parameter 'index')",
                at,
            )
        })?;
    let hex = |k: usize| {
        pattern
            .get(k)
            .and_then(|&u| char::from_u32(u32::from(u)))
            .and_then(|c| c.to_digit(16))
    };
    let (unit, next) = match (pattern[i] == u16::from(b'%'), hex(i + 1), hex(i + 2)) {
        (true, Some(h), Some(l)) => ((h * 16 + l) as u16, i + 3),
        _ => (pattern[i], i + 1),
    };
    args[1] = Value::Int(next as i64);
    // A lone surrogate cannot be a Rust char; .NET would return it as is.
    Ok(char::from_u32(u32::from(unit)).map_or_else(|| Value::Int(i64::from(unit)), Value::Char))
}
