//! `new string(…)`: `new string(c, count)`, `new string(chars)`, `new string(chars, start,
//! length)` (also from a `ReadOnlySpan<char>`, which a `char[]` converts to), with .NET's
//! argument checks.

use super::*;

fn chars_of(a: &[Value], at: usize) -> F<Vec<char>> {
    a.iter()
        .map(|c| match c {
            Value::Char(c) => Ok(*c),
            other => Err(cast_err(other, "System.Char", at)),
        })
        .collect()
}

pub(crate) fn new_string(it: &mut Interp, vals: &[Value], at: usize) -> F<Value> {
    let range = |msg: &str, p: &str| arg_range(&format!("{msg} (Parameter '{p}')"), at);
    match vals {
        [Value::Char(c), n] => {
            let n = as_int(n, at)?;
            if n < 0 {
                return Err(range("Non-negative number required.", "count"));
            }
            let n = n as usize;
            it.charge(n.saturating_mul(c.len_utf8()), at)?;
            Ok(Value::String(c.to_string().repeat(n).into()))
        }
        // A null array makes the empty string (the one-argument constructor only).
        [Value::Null] => Ok(Value::str("")),
        [Value::Array(cs)] => {
            let s: String = chars_of(cs, at)?.into_iter().collect();
            it.charge(s.len(), at)?;
            Ok(Value::str(s))
        }
        [Value::Null, _, _] => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'value')",
            at,
        )),
        [Value::Array(cs), start, len] => {
            let (start, len) = (as_int(start, at)?, as_int(len, at)?);
            if start < 0 {
                return Err(range("StartIndex cannot be less than zero.", "startIndex"));
            }
            if len < 0 {
                return Err(range("Length cannot be less than zero.", "length"));
            }
            if start > cs.len() as i64 - len {
                return Err(range(
                    "Index and length must refer to a location within the string.",
                    "startIndex",
                ));
            }
            let part = &cs[start as usize..(start + len) as usize];
            let s: String = chars_of(part, at)?.into_iter().collect();
            it.charge(s.len(), at)?;
            Ok(Value::str(s))
        }
        _ => Err(rt(
            "CompilationError",
            format!(
                "The best overloaded method match for 'string.String(char[])' has some invalid arguments ({} given)",
                vals.len()
            ),
            at,
        )),
    }
}
